"""The four real dataset layouts, written as the originals ship them, load every split with and without tags."""

from __future__ import annotations

import csv
import pickle
from pathlib import Path

import pytest
from PIL import Image

from animesion.data.dataset import ImageDataset, collate_skip_bad, load_dataset
from animesion.data.layouts import LAYOUTS
from animesion.data.transforms import eval_transform
from animesion.errors import DataError

CLASSES = ["hatsune_miku", "saber", "kagamine_rin"]
TAGS = [["1girl", "twintails", "aqua hair"], ["1girl", "blonde hair", "armor"], ["1girl", "blonde hair", "bow"]]


class Vocabulary:
    """The original's pickled vocabulary class (from its build_vocab.py), reproduced to write a vocab.pkl."""

    def __init__(self) -> None:
        self.word2idx, self.idx2word, self.idx = {}, {}, 0

    def add_word(self, word: str) -> None:
        if word not in self.word2idx:
            self.word2idx[word], self.idx2word[self.idx] = self.idx, word
            self.idx += 1


def _write_csv(path: Path, rows: list, header: list[str] | None = None) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        if header:
            writer.writerow(header)
        writer.writerows(rows)


def build_original_layout(root: Path, name: str, per_split: int = 5) -> dict[str, int]:
    """Write a tiny dataset exactly in the original on-disk layout of ``name``; return the images per split."""
    layout = LAYOUTS.get(name)
    labels = root / layout.labels_dir if layout.labels_dir else root
    labels.mkdir(parents=True, exist_ok=True)
    _write_csv(labels / "classid_classname.csv", list(enumerate(CLASSES)))
    sizes = {}
    for s, split in enumerate(layout.splits):
        rows, tag_rows = [], []
        for cid, cname in enumerate(CLASSES):
            for i in range(per_split):
                # DAF:re: "0933/194933.jpg"; moeImouto and cartoonFace: "<class folder>/<file>.png"
                rel = f"{cid:04d}/{s}{cid}{i}.jpg" if layout.labels_dir else f"{cid:03d}_{cname}/face_{s}_{i}.png"
                (root / layout.image_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                Image.new("RGB", (40, 40), (40 * cid, 90, 30 * i)).save(root / layout.image_dir / rel)
                rows.append((cid, rel))
                tag_rows.append((len(tag_rows), rel, cid, repr(TAGS[cid]), repr(["vocaloid"]), repr([cname])))
        _write_csv(labels / f"{split}.csv", rows)
        _write_csv(labels / f"{split}_tags.csv", tag_rows, ["id", "dir", "class_id", "tags_cat0", "tags_cat3",
                                                             "tags_cat4"])
        sizes[split] = len(rows)
    if layout.labels_dir:  # DAF:re ships the original pickled vocabulary
        vocab = Vocabulary()
        for word in ["[PAD]", "[UNUSED]", "[CLS]", "[SEP]", "[UNK]", "1girl", "blonde hair"]:
            vocab.add_word(word)
        (labels / "vocab.pkl").write_bytes(pickle.dumps(vocab))
    return sizes


REAL_LAYOUTS = ["danbooruFaces", "danbooruFull", "moeImouto", "cartoonFace"]


@pytest.mark.parametrize("name", REAL_LAYOUTS)
@pytest.mark.parametrize("with_tags", [False, True])
def test_every_split_loads(tmp_path, name, with_tags):
    sizes = build_original_layout(tmp_path, name)
    data = load_dataset(name, tmp_path, with_tags=with_tags)
    assert data.class_names == CLASSES
    assert set(data.splits) == {"train", "val", "test"}
    total = sum(len(r) for r in data.splits.values())
    assert total == sum(sizes.values())  # layouts without val hold it out of train, losing nothing
    assert all(data.splits[s] for s in ("train", "val", "test"))
    assert data.tagged is with_tags
    if with_tags:
        by_class = {r.class_id: r.tags for r in data.splits["test"]}
        assert by_class == {cid: tuple(tags) for cid, tags in enumerate(TAGS)}
        expected = "vocab.pkl" if LAYOUTS.get(name).labels_dir else "built from the train split"
        assert expected in data.vocab_source
        assert "1girl" in data.vocab and data.vocab.idx2word[:5] == ["[PAD]", "[UNUSED]", "[CLS]", "[SEP]", "[UNK]"]
    else:
        assert all(r.tags == () for r in data.splits["train"])
    # and the images themselves are read
    dataset = ImageDataset(data.splits["test"], data.image_root, eval_transform(32))
    assert dataset[0]["image"].shape == (3, 32, 32)


def test_auto_detects_tag_files(tmp_path):
    build_original_layout(tmp_path, "moeImouto")
    assert load_dataset("moeImouto", tmp_path, with_tags=None).tagged
    (tmp_path / "test_tags.csv").unlink()
    assert not load_dataset("moeImouto", tmp_path, with_tags=None).tagged


def test_missing_and_unreadable_images_are_reported_and_the_split_loads(tmp_path):
    build_original_layout(tmp_path, "danbooruFaces")
    missing = tmp_path / "faces" / "0001" / "011.jpg"
    missing.unlink()
    broken = tmp_path / "faces" / "0002" / "020.jpg"
    broken.write_bytes(b"not a picture")
    data = load_dataset("danbooruFaces", tmp_path)
    assert data.problems == [f"{missing}: file not found (train split)."]
    assert len(data.splits["train"]) == 14
    dataset = ImageDataset(data.splits["train"], data.image_root, eval_transform(32))
    batch = collate_skip_bad([dataset[i] for i in range(len(dataset))])
    assert batch["image"].shape[0] == 13  # the unreadable one is dropped, the rest goes on


@pytest.mark.parametrize("damage, message, with_tags", [
    (lambda labels: _write_csv(labels / "test.csv", [(0, "0000/200.jpg", "x")]), "expected 2 columns", False),
    (lambda labels: _write_csv(labels / "test.csv", [(7, "0000/200.jpg")]), "not in classid_classname.csv", False),
    (lambda labels: _write_csv(labels / "val.csv", []), "the val split is empty", False),
    (lambda labels: _write_csv(labels / "val_tags.csv", [(0, "0000/100.jpg", 0)], ["id", "dir", "class_id"]),
     "expected a header with the columns dir, class_id, tags_cat0", True),
])
def test_bad_label_files_stop_with_one_sentence(tmp_path, damage, message, with_tags):
    build_original_layout(tmp_path, "danbooruFaces")
    damage(tmp_path / "labels")
    with pytest.raises(DataError, match=message):
        load_dataset("danbooruFaces", tmp_path, with_tags=with_tags)


def test_missing_dataset_names_the_folders_it_needs(tmp_path):
    with pytest.raises(DataError, match="'faces/' and 'labels/'"):
        load_dataset("danbooruFaces", tmp_path / "nowhere")
