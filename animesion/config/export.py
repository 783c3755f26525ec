"""Parameters of ``python -m animesion.export``: a checkpoint as a timm / Hugging Face folder."""

from __future__ import annotations

from dataclasses import dataclass

from ..strict import Strict, param


@dataclass
class ExportConfig(Strict):
    """Write the shared folder of a checkpoint (or of a run folder's best checkpoint), and optionally publish it."""

    checkpoint_path: str = param("", "checkpoint file or run folder (the first argument on the command line)")
    out_dir: str = param("", "the folder to write (the second argument): config.json, model.safetensors, README.md")
    push_to_hub: str = param("", "also upload the folder to the Hugging Face Hub as this repo (user/name)")
    private: bool = param(False, "make the Hub repo private")

    def validate(self) -> None:
        if not self.checkpoint_path or not self.out_dir:
            self.fail("give a checkpoint (or run folder) and a folder to write: python -m animesion.export "
                      "outputs/<run> shared/<name>")
        if self.push_to_hub and self.push_to_hub.count("/") != 1:
            self.fail(f"push_to_hub takes a Hub repo as user/name, got {self.push_to_hub!r}.")


__all__ = ["ExportConfig"]
