"""Parameters of ``python -m animesion.tag``: a caption file for every picture of a folder.

The names are those of kohya's ``tag_images_by_wd14_tagger.py`` (sd-scripts), so habits carry over, plus
``max_tags``, ``escape_brackets``, ``existing`` and the recogniser's gallery.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..strict import Strict, param

EXISTING = ("skip", "append", "overwrite")  # what to do with a caption file that is already there
TAG_RULES = ("calibrated", "mcut")  # the named threshold rules (prediction/tag_thresholds.py); or a number


def check_rule(value: str | float) -> str:
    """'' when ``value`` is a threshold rule (a number in (0, 1), or a name of :data:`TAG_RULES`), else why not."""
    if isinstance(value, str) and value in TAG_RULES:
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return f"must be a number in (0, 1) or one of {', '.join(TAG_RULES)}, got {value!r}"
    return "" if 0 < number < 1 else f"must lie in (0, 1), got {number}"


@dataclass
class TagConfig(Strict):
    """Caption every picture of ``train_data_dir`` with its tags and, first or last, its character."""

    train_data_dir: str = param("", "folder of pictures to caption (the first argument on the command line)")
    checkpoint_path: str = param("", "checkpoint with a tag head; empty takes the best checkpoint of the newest run")
    results_dir: str = param("outputs", "where runs are found when checkpoint_path is empty")
    caption_extension: str = param(".txt", "extension of the caption files")
    thresh: str | float = param("calibrated", "tag threshold: a number, calibrated (per tag, fitted on val) or mcut")
    general_threshold: float | None = param(None, "threshold of general tags (None: as thresh says)")
    character_threshold: float | None = param(None, "a character tag needs this confidence (None: any named one)")
    remove_underscore: bool = param(False, "write underscores as spaces (kaomoji such as ^_^ kept)")
    escape_brackets: bool = param(False, "write ( and ) as \\( and \\), as prompts need them")
    undesired_tags: str = param("", "tags never written: comma-separated, or a file of them")
    always_first_tags: str = param("", "comma-separated tags put first when a picture has them (e.g. 1girl,1boy)")
    character_tags_first: bool = param(False, "the character tag before the general tags (else after them)")
    max_tags: int = param(0, "at most this many general tags per picture, best first (0: no cap)")
    existing: str = param("skip", "a caption file already there: skip it, append new tags, or overwrite it",
                          EXISTING)
    append_tags: bool = param(False, "kohya's switch: the same as existing=append")
    recursive: bool = param(False, "also caption the pictures of subfolders")
    frequency_tags: bool = param(False, "print how often each tag was written")
    batch_size: int = param(32, "pictures per forward pass")
    gallery_path: str = param("", "folder with one subfolder per character to enrol for the character tag")
    scores_file: str = param("tag_scores.json", "every picture's scores, beside the captions ('' writes none)")

    def validate(self) -> None:
        if not self.train_data_dir:
            self.fail("give the folder of pictures to caption: python -m animesion.tag FOLDER --checkpoint_path …")
        problem = check_rule(self.thresh)
        if problem:
            self.fail(f"thresh {problem}.")
        for key in ("general_threshold", "character_threshold"):
            value = getattr(self, key)
            if value is not None and not 0 <= value <= 1:
                self.fail(f"{key} must lie in [0, 1], got {value}.")
        if self.batch_size <= 0 or self.max_tags < 0:
            self.fail(f"batch_size must be positive and max_tags ≥ 0, got {self.batch_size} and {self.max_tags}.")
        if self.append_tags and self.existing == "overwrite":
            self.fail("append_tags=True appends to existing captions, existing=overwrite replaces them; choose one.")
        if not self.caption_extension.startswith("."):
            self.fail(f"caption_extension must start with a dot, got {self.caption_extension!r}.")

    @property
    def on_existing(self) -> str:
        """What happens to a caption file that is already there (``append_tags`` means append)."""
        return "append" if self.append_tags else self.existing


__all__ = ["EXISTING", "TAG_RULES", "TagConfig", "check_rule"]
