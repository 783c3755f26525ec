"""``02_make_dataset``'s engine: a messy folder tree becomes a clean DAF:re-layout dataset."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from PIL import Image

from animesion.config.make_dataset import MakeDatasetConfig
from animesion.data.dataset import load_dataset
from animesion.data.images import load_rgb
from animesion.data.splitting import split_sizes
from animesion.errors import DataError
from animesion.make_dataset import make_dataset

CLASSES = {"asuka": (200, 40, 40), "rei": (60, 90, 200), "misato": (90, 40, 120)}
BAD = {"asuka/corrupt.jpg", "rei/truncated.png", "misato/notes.txt"}
ODD = {"asuka/rgba.png", "asuka/gray.jpg", "rei/cmyk.jpg", "rei/deep.png", "misato/photo.jfif"}


def _picture(color, size=(80, 60)) -> Image.Image:
    arr = np.zeros((size[1], size[0], 3), dtype=np.uint8) + np.array(color, dtype=np.uint8)
    arr[::7] = 255  # some structure, so JPEG has something to encode
    return Image.fromarray(arr)


@pytest.fixture
def tree(tmp_path):
    """3 characters of 12 readable images (5 of them awkward), 3 bad files, and a 3-image character."""
    root = tmp_path / "characters"
    for name, color in CLASSES.items():
        (root / name).mkdir(parents=True)
        for i in range(12 - sum(p.startswith(name + "/") for p in ODD)):
            _picture(color).save(root / name / f"{name}_{i:02d}.{'jpg' if i % 2 else 'png'}")
            (root / name / f"{name}_{i:02d}.txt").write_text(f"1girl, {name} hair, smile\n")
    pic = _picture((10, 200, 10))
    rgba = pic.convert("RGBA")
    rgba.putalpha(128)
    rgba.save(root / "asuka/rgba.png")
    pic.convert("L").save(root / "asuka/gray.jpg")
    pic.convert("CMYK").save(root / "rei/cmyk.jpg")
    Image.fromarray(np.asarray(pic.convert("L"), dtype=np.uint16) * 257).save(root / "rei/deep.png")
    pic.save(root / "misato/photo.jfif", format="JPEG")
    (root / "asuka/corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(range(256)) * 3)
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)).save(buffer, "PNG")
    (root / "rei/truncated.png").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    (root / "misato/notes.txt").write_text("where these came from\n")
    (root / "kaji").mkdir()
    for i in range(3):
        _picture((0, 0, 0)).save(root / "kaji" / f"{i}.png")
    (root / ".DS_Store").write_bytes(b"\0\0")  # hidden files are not reported
    return root


def _config(tree, out, **changes) -> MakeDatasetConfig:
    return MakeDatasetConfig(input_path=str(tree), dataset_path=str(out), **changes)


def test_messy_tree_lists_exactly_the_bad_files_and_keeps_the_good(tree, tmp_path):
    made = make_dataset(_config(tree, tmp_path / "out"), progress=False)
    assert set(made.skipped["path"]) == BAD
    assert made.dropped.to_dict("records") == [{"class_name": "kaji", "images": 3}]
    assert made.class_names == sorted(CLASSES)
    records = [r for recs in made.splits.values() for r in recs]
    assert len(records) == 36
    kept_names = {f"{made.class_names[r.class_id]}/{r.path.split('/', 1)[1]}" for r in records}
    assert ODD <= kept_names
    for record in records:  # every kept file is readable where the dataset says it is
        assert load_rgb(made.root / "faces" / record.path).mode == "RGB"
    assert (made.root / "report" / "skipped_files.csv").is_file()
    with open(made.root / "report" / "skipped_files.csv") as f:
        assert {row["path"] for row in csv.DictReader(f)} == BAD


def test_split_is_stratified_deterministic_and_loads_back_with_tags(tree, tmp_path):
    config = _config(tree, tmp_path / "out", val_percent=0.2, test_percent=0.2, seed=5)
    first = make_dataset(config, progress=False)
    table = first.class_table()
    assert (table["train"] == 8).all() and (table["val"] == 2).all() and (table["test"] == 2).all()
    again = make_dataset(config, progress=False)
    assert again.splits == first.splits
    other_seed = make_dataset(config.replace(seed=6), progress=False)
    assert other_seed.splits != first.splits
    data = load_dataset("danbooruFaces", tmp_path / "out", with_tags=None)
    assert data.tagged and data.class_names == sorted(CLASSES)
    assert {len(v) for v in (data.splits["train"], data.splits["val"], data.splits["test"])} == {24, 6}
    sidecar = next(r for r in data.splits["train"] if r.path.endswith("asuka_00.png"))
    assert sidecar.tags == ("1girl", "asuka hair", "smile")
    assert data.vocab.tags[0] == "1girl" and "asuka hair" in data.vocab


def test_tags_from_a_csv_and_a_resized_cache(tree, tmp_path):
    with open(tmp_path / "tags.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "tags"])
        writer.writerow(["rei/rei_01.jpg", "['blue hair', 'plugsuit']"])
    made = make_dataset(_config(tree, tmp_path / "small", tags_csv=str(tmp_path / "tags.csv"),
                                resize_short_side=32), progress=False)
    records = [r for recs in made.splits.values() for r in recs]
    assert len(records) == 36 and set(made.skipped["path"]) == BAD
    assert {r.tags for r in records} == {(), ("blue hair", "plugsuit")}  # the CSV replaces the .txt files
    assert all(r.path.endswith(".jpg") for r in records)
    sizes = {Image.open(made.root / "faces" / r.path).size for r in records}
    assert sizes == {(43, 32)}  # 80×60 shrunk to a short side of 32


def test_threads_give_the_same_dataset(tree, tmp_path):
    serial = make_dataset(_config(tree, tmp_path / "a"), progress=False)
    threaded = make_dataset(_config(tree, tmp_path / "b", no_cpu_workers=2), progress=False)
    assert threaded.splits == serial.splits and threaded.skipped.equals(serial.skipped)


def test_refuses_to_overwrite_foreign_files_or_nest_in_the_input(tree, tmp_path):
    foreign = tmp_path / "precious"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("...")
    with pytest.raises(DataError, match="did not write"):
        make_dataset(_config(tree, foreign), progress=False)
    assert (foreign / "thesis.tex").is_file()
    with pytest.raises(DataError, match="must not contain each other"):
        make_dataset(_config(tree, tree / "out"), progress=False)
    with pytest.raises(DataError, match="not a folder"):
        make_dataset(_config(tmp_path / "missing", tmp_path / "out"), progress=False)


def test_synthetic_source_draws_the_set(tmp_path):
    config = MakeDatasetConfig(source="synthetic", dataset_path=str(tmp_path / "syn"), no_classes=4,
                               images_per_class=10, picture_size=32)
    made = make_dataset(config, progress=False)
    assert made.dataset_name == "synthetic" and len(made.class_names) == 4
    assert made.summary().loc["total", "images"] == 40 and made.skipped.empty


def test_split_sizes_keep_one_image_per_split():
    assert split_sizes(10, 0.15, 0.15) == (6, 2, 2)
    assert split_sizes(3, 0.1, 0.1) == (1, 1, 1)
    assert split_sizes(2, 0.15, 0.15) == (2, 0, 0)
    assert split_sizes(5, 0.0, 0.2) == (4, 0, 1)


def test_character_folders_that_are_symbolic_links_are_followed_and_a_loop_is_skipped(tree, tmp_path):
    """A tree of links to character folders makes the same dataset; a link back up is said once, skipped."""
    direct = make_dataset(_config(tree, tmp_path / "direct"), progress=False)
    linked = tmp_path / "linked"
    linked.mkdir()
    for name in (*CLASSES, "kaji"):
        (linked / name).symlink_to(tree / name, target_is_directory=True)
    (tree / "rei" / "again").symlink_to(linked, target_is_directory=True)  # linked/rei/again is linked: a loop
    with pytest.warns(UserWarning, match="point back at a folder above them") as caught:
        made = make_dataset(_config(linked, tmp_path / "out"), progress=False)
    assert len([w for w in caught if "point back" in str(w.message)]) == 1
    assert made.class_names == direct.class_names == sorted(CLASSES)
    assert sorted(r.path for recs in made.splits.values() for r in recs) == \
        sorted(r.path for recs in direct.splits.values() for r in recs)
