"""The embedded synthetic dataset: hard enough, deterministic, fast, and in the DAF:re layout."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from animesion.data.synthetic import SyntheticConfig, ensure_synthetic, generate_synthetic, read_manifest
from animesion.data.synthetic.characters import ATTRIBUTES, make_cast, min_pair_difference
from animesion.data.vocab import SPECIAL_TOKENS, Vocabulary
from animesion.errors import ConfigError, DataError


def test_cast_needs_several_cues():
    cast = make_cast(24, seed=0)
    attrs = [c.attributes() for c in cast]
    assert len({tuple(a.values()) for a in attrs}) == 24
    # No single attribute value identifies a character: each used value is shared by two or more.
    for key in ATTRIBUTES:
        assert min(Counter(a[key] for a in attrs).values()) >= 2, key
    # Characters differ in at least two attributes, and some pairs in exactly two (look-alikes).
    assert min_pair_difference(cast) == 2


def test_cast_is_deterministic_per_seed():
    assert make_cast(10, seed=1) == make_cast(10, seed=1)
    assert make_cast(10, seed=1) != make_cast(10, seed=2)


def test_layout_and_tags(tiny_dataset):
    labels = tiny_dataset / "labels"
    for name in ("train.csv", "val.csv", "test.csv", "classid_classname.csv", "train_tags.csv", "vocab.json"):
        assert (labels / name).is_file(), name
    rows = list(csv.reader(open(labels / "train.csv")))
    class_id, rel = rows[0]
    assert int(class_id) in range(6) and (tiny_dataset / "faces" / rel).is_file()
    with open(labels / "train_tags.csv") as f:
        header = next(csv.reader(f))
    assert header == ["id", "dir", "class_id", "tags_cat0", "tags_cat3", "tags_cat4"]
    vocab = Vocabulary.from_json(labels / "vocab.json")
    assert tuple(vocab.idx2word[:5]) == SPECIAL_TOKENS and "1girl" in vocab
    total = sum(len(list(csv.reader(open(labels / f"{s}.csv")))) for s in ("train", "val", "test"))
    assert total == 6 * 12


def test_same_parameters_same_files(tmp_path):
    spec = SyntheticConfig(no_classes=5, images_per_class=4, picture_size=32, seed=7)
    a = generate_synthetic(tmp_path / "a", spec, progress=False)
    b = generate_synthetic(tmp_path / "b", spec, progress=False)
    files = sorted(p.relative_to(a) for p in (a / "faces").rglob("*.jpg"))
    assert files and all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


def test_regenerated_only_when_parameters_change(tmp_path):
    root = tmp_path / "syn"
    spec = SyntheticConfig(no_classes=5, images_per_class=4, picture_size=32)
    ensure_synthetic(root, spec, progress=False)
    stamp = (root / "synthetic.json").stat().st_mtime_ns
    ensure_synthetic(root, spec, progress=False)
    ensure_synthetic(root, None, progress=False)  # None: use whatever synthetic set is there
    assert (root / "synthetic.json").stat().st_mtime_ns == stamp
    ensure_synthetic(root, spec.replace(images_per_class=5), progress=False)
    assert read_manifest(root)["images_per_class"] == 5


def test_refuses_to_overwrite_foreign_folder(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("precious")
    with pytest.raises(DataError, match="not a synthetic dataset"):
        generate_synthetic(tmp_path / "mine", SyntheticConfig(no_classes=5, images_per_class=3), progress=False)
    assert (tmp_path / "mine" / "thesis.txt").read_text() == "precious"



@pytest.mark.parametrize("attribute", ["hair_style", "accessory", "expression"])
def test_every_attribute_value_has_its_own_drawing(attribute):
    """Each value of characters.py is drawn by its registry entry, and draws something the others do not."""
    import random

    from animesion.data.synthetic.characters import EXPRESSIONS, Character
    from animesion.data.synthetic.drawing import (
        ACCESSORY_DRAWING,
        EXPRESSION_DRAWING,
        HAIR_STYLE_DRAWING,
        draw_character,
        random_pose,
    )

    registry, values = {"hair_style": (HAIR_STYLE_DRAWING, ATTRIBUTES["hair_style"]),
                        "accessory": (ACCESSORY_DRAWING, ATTRIBUTES["accessory"]),
                        "expression": (EXPRESSION_DRAWING, EXPRESSIONS)}[attribute]
    assert registry.names() == list(values)
    pose = random_pose(random.Random(0), ("neutral",))
    pictures = set()
    for value in values:
        character = Character("x", "pink", value if attribute == "hair_style" else "short", "blue", "tan",
                              value if attribute == "accessory" else "none")
        shown = pose if attribute != "expression" else type(pose)(**{**pose.__dict__, "expression": value,
                                                                     "show_accessory": True})
        pictures.add(draw_character(character, shown, 64).tobytes())
    assert len(pictures) == len(values)  # no value draws the same picture as another (none is left blank)


def test_a_value_without_a_drawing_is_an_error():
    import random

    from animesion.data.synthetic.characters import Character
    from animesion.data.synthetic.drawing import draw_character, random_pose

    with pytest.raises(ConfigError, match="hair style 'dreadlocks'"):
        draw_character(Character("x", "pink", "dreadlocks", "blue", "tan", "none"),
                       random_pose(random.Random(0), ("neutral",)), 64)
