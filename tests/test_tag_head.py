"""The multi-label tag head: every family has one, it trains with the class head (mixup included), its
thresholds are calibrated and stored, its metrics are right, and ``python -m animesion.tag`` writes captions
that 02 reads back; checkpoints of the format before it convert."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from animesion.data.captions import caption_text, normalise_tag, read_caption, read_undesired
from animesion.data.folder_tree import scan_folder_tree
from animesion.data.records import Record
from animesion.data.tag_set import TagSet
from animesion.evaluation.multilabel import average_precision, per_tag_table, tag_metrics
from animesion.models.checkpoint import FORMAT, FORMAT_2, load_checkpoint, save_checkpoint
from animesion.models.factory import create_model
from animesion.models.spec import ModelSpec
from animesion.prediction.predictor import Predictor
from animesion.prediction.recognise import recognise
from animesion.prediction.tag_thresholds import calibrate_thresholds, mcut, thresholds_for
from animesion.tag import main as tag_main
from animesion.training import train
from animesion.training.engine import BatchMixer, _mix
from conftest import tiny_train_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("name,extra", [("shallow", {}), ("resnet18", {}), ("efficientnetb0", {}), ("Ti_16", {}),
                                        ("Ti_16", {"interm_features_fc": True}),
                                        ("Ti_16", {"multimodal": True, "vocab_size": 20, "masked_tag_head": True})])
def test_every_family_has_a_tag_head_on_its_embedding(name, extra):
    model = create_model(ModelSpec(model_name=name, num_classes=3, image_size=32, num_tags=7, **extra)).eval()
    out = model(torch.randn(2, 3, 32, 32))
    assert out["tag_logits"].shape == (2, 7)
    # the head reads the embedding: the same linear map of it
    assert torch.allclose(out["tag_logits"], model.tag_head(out["embedding"]), atol=1e-5)
    plain = create_model(ModelSpec(model_name=name, num_classes=3, image_size=32, **extra)).eval()
    assert plain(torch.randn(1, 3, 32, 32))["tag_logits"] is None


def test_tag_set_counts_pictures_per_category_and_makes_multi_hot_targets():
    records = [Record("1.png", 0, ("a", "b", "a"), ("fate",)), Record("2.png", 0, ("a",), ("fate",)),
               Record("3.png", 1, ("c", "b"), ("k-on",)), Record("4.png", 1, ("d",), ("k-on", "a"))]
    tags = TagSet.build(records, min_count=2)
    assert tags.names == ["a", "b", "fate", "k-on"] and tags.counts == [2, 2, 2, 2]
    assert tags.categories == ["general", "general", "copyright", "copyright"]
    assert tags.targets(Record("5.png", 0, ("b", "zzz"), ("k-on",))).tolist() == [0.0, 1.0, 0.0, 1.0]
    assert TagSet.from_meta(json.loads(json.dumps(tags.to_meta()))).categories == tags.categories
    # a copyright tag on every picture (one series, or 02's "original") tells nothing
    assert TagSet.build([Record(f"{i}.png", 0, ("a",), ("original",)) for i in range(3)], 2).names == ["a"]


def test_average_precision_and_f1_at_equal_precision_and_recall():
    scores = torch.tensor([[0.9, 0.1], [0.8, 0.7], [0.3, 0.2], [0.2, 0.6]])
    targets = torch.tensor([[1, 0], [0, 1], [1, 0], [0, 0]]).float()
    # tag 0: positives at ranks 1 and 3 → (1/1 + 2/3) / 2; tag 1: its one positive ranks first → 1
    assert average_precision(scores, targets).tolist() == pytest.approx([(1 + 2 / 3) / 2, 1.0])
    found = tag_metrics(scores, targets, 0.5)
    # at 0.5: tag 0 says 0.9 (right) and 0.8 (wrong), misses 0.3; tag 1 says 0.7 (right) and 0.6 (wrong)
    assert found["tag_micro_f1"] == pytest.approx(2 * 2 / (2 * 2 + 2 + 1))
    assert found["tag_map"] == pytest.approx(((1 + 2 / 3) / 2 + 1) / 2)
    # P = R: the 3 best decisions (0.9, 0.8, 0.7) for 3 positives: 2 right → P = R = F1 = 2/3
    assert found["tag_f1_at_pr"] == pytest.approx(2 / 3)
    table = per_tag_table(scores, targets, TagSet(["x", "y"]), torch.tensor([0.5, 0.5]))
    assert table["tag"].tolist() == ["x", "y"] and table["support"].tolist() == [2, 1]


def test_calibrated_thresholds_shrink_rare_tags_to_their_category():
    torch.manual_seed(0)
    targets = (torch.rand(400, 3) < torch.tensor([0.5, 0.5, 0.01])).float()
    scores = (0.6 * targets + 0.4 * torch.rand(400, 3)).clamp(0, 1)  # separable above 0.4 for the first two
    calibrated = calibrate_thresholds(scores, targets, TagSet(["a", "b", "rare"]))
    category = calibrated.per_category["general"]
    assert 0.35 < float(calibrated.per_tag[0]) <= 0.62  # a common tag keeps (about) its own best threshold
    rare_own = targets[:, 2].sum()
    assert abs(float(calibrated.per_tag[2]) - category) < abs(0.5 - category) or rare_own == 0
    limits = thresholds_for(scores[:2], TagSet(["a", "b", "rare"]), calibrated, 0.3, {"general": 0.9})
    assert torch.all(limits == 0.9)  # a per-category override wins over the rule
    gaps = mcut(torch.tensor([[0.9, 0.8, 0.2, 0.1]]))
    assert gaps.item() == pytest.approx(0.5)


def test_mixup_blends_tags_with_the_pictures():
    from timm.data import Mixup

    mixer = BatchMixer(Mixup(mixup_alpha=1.0, label_smoothing=0.0, num_classes=3 + 2, multi_label=True), 3, 0.1)
    torch.manual_seed(1)
    images = torch.stack([torch.zeros(3, 4, 4), torch.ones(3, 4, 4)])
    tags = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    mixed, labels, classes, mixed_tags = _mix(mixer, images.clone(), torch.tensor([0, 2]), tags)
    lam = 1 - float(mixed[0].mean())  # picture 0 is λ·0 + (1 − λ)·1
    assert mixed_tags[0].tolist() == pytest.approx([lam, 1 - lam], abs=1e-5)
    assert classes[0].tolist() == pytest.approx([lam * (0.9 + 0.1 / 3) + (1 - lam) * 0.1 / 3, 0.1 / 3,
                                                 lam * 0.1 / 3 + (1 - lam) * (0.9 + 0.1 / 3)], abs=1e-5)
    assert labels.tolist() == [0, 2]


def test_captions_normalise_as_people_write_them(tmp_path):
    assert normalise_tag(" long_hair ") == "long hair" == normalise_tag("(long hair:1.2)")
    assert normalise_tag("nero_claudius_\\(fate\\)") == "nero claudius (fate)"
    assert normalise_tag("^_^") == "^_^"
    assert read_caption("my_lora, 1girl,\nlong_hair, long hair, ", undesired=["my lora"]) == ("1girl", "long hair")
    (tmp_path / "undesired.txt").write_text("a_b\nc\n")
    assert read_undesired(str(tmp_path / "undesired.txt")) == {"a b", "c"} and read_undesired("x, y_z") == {"x", "y z"}
    tags = ["nero_claudius_(fate)", "^_^", "long hair", "1girl"]
    for underscore in (False, True):
        for escape in (False, True):
            text = caption_text(tags, remove_underscore=underscore, escape_brackets=escape)
            assert read_caption(text) == tuple(normalise_tag(t) for t in tags)


@pytest.fixture(scope="module")
def tag_run(tiny_dataset, tmp_path_factory):
    config = tiny_train_config(tiny_dataset, tmp_path_factory.mktemp("tag_outputs"), model_name="shallow",
                               tag_head=True, mixup=0.2, run_name="tiny_tags", no_epochs=2)
    return train(config, progress=False)


def test_training_writes_tag_metrics_thresholds_and_a_per_tag_table(tag_run):
    metrics = json.loads((tag_run.run_dir / "metrics.json").read_text())
    for key in ("test_tag_map", "test_tag_micro_f1", "test_tag_macro_f1", "test_tag_f1_at_pr"):
        assert 0 <= metrics[key] <= 1
    assert {"val_tag_map", "val_tag_f1_at_pr"} <= set(tag_run.history.columns)
    ckpt = load_checkpoint(tag_run.best_checkpoint)
    assert ckpt.spec.num_tags == len(ckpt.tag_head["tags"]["names"]) > 0
    assert len(ckpt.tag_head["thresholds"]["per_tag"]) == ckpt.spec.num_tags
    table = Path(metrics["test_tag_table"])
    assert table.is_file() and "threshold" in table.read_text().splitlines()[0]
    predictor = Predictor.from_checkpoint(ckpt)
    assert predictor.has_tag_head and predictor.tag_thresholds is not None


def test_captions_for_a_folder_skip_append_and_read_back(tag_run, tiny_dataset, tmp_path, capsys):
    folder = tmp_path / "pictures" / "someone"
    folder.mkdir(parents=True)
    for source in sorted((tiny_dataset / "faces").rglob("*.jpg"))[:4]:
        (folder / source.name).write_bytes(source.read_bytes())
    (folder / "broken.png").write_bytes(b"not a picture")
    first = sorted(folder.glob("*.jpg"))[0].with_suffix(".txt")
    first.write_text("my_trigger, 1girl")
    args = [str(folder), "--checkpoint_path", str(tag_run.best_checkpoint), "--character_tags_first",
            "--remove_underscore", "--thresh", "0.05"]
    assert tag_main(args) == 0
    assert "broken.png" in capsys.readouterr().out
    captions = {p.name: p.read_text() for p in folder.glob("*.txt")}
    assert len(captions) == 4 and captions[first.name] == "my_trigger, 1girl"  # skip: a user's caption kept
    scores = json.loads((folder / "tag_scores.json").read_text())
    assert len(scores) == 4 and all(len(v["tags"]) == load_checkpoint(tag_run.best_checkpoint).spec.num_tags
                                    for v in scores.values())
    # a second run that skips changes nothing; append adds the missing tags once, and again adds nothing
    assert tag_main(args) == 0 and {p.name: p.read_text() for p in folder.glob("*.txt")} == captions
    assert tag_main([*args, "--existing", "append"]) == 0
    appended = first.read_text()
    assert appended.startswith("my_trigger, 1girl, ") and len(read_caption(appended)) == len(appended.split(","))
    assert tag_main([*args, "--existing", "append"]) == 0 and first.read_text() == appended
    # the captions read back through 02 as the tags written
    scan = scan_folder_tree(tmp_path / "pictures")
    written = {p.with_suffix(".jpg").name: read_caption(p.read_text()) for p in folder.glob("*.txt")}
    assert {Path(f.rel).name: f.tags for f in scan.images if Path(f.rel).name in written} == written


def test_recognise_tags_with_the_tag_head_in_score_order(tag_run, tiny_dataset):
    predictor = Predictor.from_checkpoint(load_checkpoint(tag_run.best_checkpoint))
    images = [predictor.load(p) for p in sorted((tiny_dataset / "faces").rglob("*.jpg"))[:3]]
    answers = recognise(predictor, images, tags=True, tag_rule=0.01)
    for tags, scores in zip(answers.tags, answers.tag_scores):
        got = [float(scores[predictor.tag_set.index[t]]) for t in tags]
        assert got == sorted(got, reverse=True) and len(tags) == int((scores >= 0.01).sum())


def test_second_format_checkpoints_convert_their_masked_tag_head(tmp_path):
    spec = ModelSpec(model_name="Ti_16", num_classes=3, image_size=32, multimodal=True, vocab_size=20,
                     masked_tag_head=True)
    torch.manual_seed(0)
    model = create_model(spec).eval()
    path = save_checkpoint(tmp_path / "now.safetensors", model, spec, ["a", "b", "c"], {})
    with safe_open(str(path), framework="pt") as f:
        header = f.metadata()
    assert header["format"] == FORMAT
    # the same checkpoint as the second format wrote it: spec key tag_head, weights tag_head.*
    old_spec = json.loads(header["model_spec"])
    old_spec["tag_head"] = old_spec.pop("masked_tag_head")
    del old_spec["num_tags"]
    weights = {k.replace("masked_tag_head.", "tag_head.", 1) if k.startswith("masked_tag_head.") else k: v
               for k, v in load_file(str(path)).items()}
    old = tmp_path / "old.safetensors"
    save_file(weights, str(old), metadata={**header, "format": FORMAT_2, "model_spec": json.dumps(old_spec)})
    loaded = load_checkpoint(old)
    assert loaded.spec.masked_tag_head and loaded.spec.num_tags == 0
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded.model(images)["token_logits"], model(images)["token_logits"])


def test_onnx_graph_gives_the_tag_head_its_logits_at_any_batch(tag_run):
    from animesion.prediction.fast import make_fast

    predictor = Predictor.from_checkpoint(load_checkpoint(tag_run.best_checkpoint))
    fast = make_fast(predictor, "onnx")
    for batch in (1, 5):
        images = torch.randn(batch, 3, predictor.spec.image_size, predictor.spec.image_size)
        expected, got = predictor.forward(images), fast.forward(images)
        assert got["tag_logits"].shape == (batch, predictor.spec.num_tags)
        assert torch.allclose(got["tag_logits"], expected["tag_logits"].cpu(), atol=1e-4)


def test_caption_tree_goes_through_02_03_04_and_captions(tiny_dataset, tmp_path):
    """A folder tree of pictures with caption files → 02 → 03 (tag head) → 04's per-tag table → captions."""
    from animesion.config.evaluate import EvaluateConfig
    from animesion.config.make_dataset import MakeDatasetConfig
    from animesion.data.dataset import load_dataset
    from animesion.evaluation.report import evaluate_checkpoint, save_report
    from animesion.make_dataset import make_dataset

    data = load_dataset("synthetic", tiny_dataset, with_tags=True, progress=False)
    tree = tmp_path / "tree"
    for record in data.splits["train"] + data.splits["val"] + data.splits["test"]:
        target = tree / data.class_names[record.class_id] / Path(record.path).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((data.image_root / record.path).read_bytes())
        # as people's captions hold them: underscores, a weight, a trigger word
        words = [t.replace(" ", "_") for t in record.tags] + ["(my_trigger:1.1)"]
        target.with_suffix(".txt").write_text(", ".join(words))
    made = tmp_path / "made"
    make_dataset(MakeDatasetConfig(input_path=str(tree), dataset_path=str(made), undesired_tags="my_trigger",
                                   min_images_per_class=2), progress=False)
    read = load_dataset("danbooruFaces", made, with_tags=True, progress=False)
    assert {t for r in read.splits["train"] for t in r.tags} == {t for r in data.splits["train"] for t in r.tags}
    result = train(tiny_train_config(made, tmp_path / "runs", dataset_name="danbooruFaces", tag_head=True,
                                     run_name="tree_tags"), progress=False)
    report = evaluate_checkpoint(EvaluateConfig(checkpoint_path=str(result.best_checkpoint), no_cpu_workers=0,
                                                retrieval=False), progress=False)
    assert report.tags is not None and len(report.tags.table) == load_checkpoint(result.best_checkpoint).spec.num_tags
    assert {"tag_map", "tag_micro_f1"} <= set(report.summary)
    out = save_report(report, max_gallery=0)
    assert (out / "tag_table.csv").is_file() and (out / "tag_precision_recall.png").is_file()
    pictures = tmp_path / "new"
    pictures.mkdir()
    for source in sorted(tree.rglob("*.jpg"))[:3]:
        (pictures / source.name).write_bytes(source.read_bytes())
    assert tag_main([str(pictures), "--checkpoint_path", str(result.best_checkpoint), "--thresh", "mcut"]) == 0
    assert len(list(pictures.glob("*.txt"))) == 3


def test_tag_score_figures_draw_one_row_per_picture(tag_run):
    from animesion.inference.tag_view import checkpoint_tag_examples

    fig = checkpoint_tag_examples(tag_run.best_checkpoint, count=2)
    assert len(fig.axes) == 4 and fig.axes[1].get_xlim() == (0, 1)


def test_05_captions_mode_writes_captions_and_keeps_existing_ones(tag_run, tiny_vilt_run, tiny_dataset, tmp_path):
    from animesion.config.inference import InferenceConfig
    from animesion.errors import AnimesionError
    from animesion.inference.run import run_inference

    pictures = tmp_path / "pictures"
    (pictures / "sub").mkdir(parents=True)
    for n, source in enumerate(sorted((tiny_dataset / "faces").rglob("*.jpg"))[:4]):
        (pictures / ("sub" if n % 2 else "") / source.name).write_bytes(source.read_bytes())
    config = InferenceConfig(checkpoint_path=str(tag_run.best_checkpoint), test_path=str(pictures), mode="captions",
                             results_dir=str(tmp_path / "out"), save_results=False)
    run = run_inference(config, progress=False)
    assert len(run.captions.written) == 4 and len(run.captions.shown()) == 4 and run.captions.failures.empty
    shown = run.shown_table()  # the tags as one line of text, after every other column
    assert shown.columns[-1] == "tags" and shown["tags"].map(lambda t: isinstance(t, str) and "1girl" in t).all()
    again = run_inference(config, progress=False)  # caption files are not pictures, and are kept
    assert len(again.captions.skipped) == 4 and again.captions.failures.empty
    with pytest.raises(AnimesionError, match="tag head"):
        run_inference(InferenceConfig(checkpoint_path=str(tiny_vilt_run[1].best_checkpoint), test_path=str(pictures),
                                      mode="captions", results_dir=str(tmp_path / "out")), progress=False)


def test_caption_order_follows_kohyas_options():
    from animesion.config.tag import TagConfig
    from animesion.inference.captions import ordered_tags

    general = ["smile", "long hair", "1girl", "blue eyes"]
    config = TagConfig(train_data_dir="x", always_first_tags="1girl, long_hair", max_tags=3)
    assert ordered_tags(general, "aoi", config, frozenset()) == ["1girl", "long hair", "smile", "aoi"]
    first = TagConfig(train_data_dir="x", character_tags_first=True)
    assert ordered_tags(general, "aoi", first, frozenset({"smile"})) == ["aoi", "long hair", "1girl", "blue eyes"]
    assert ordered_tags(general, None, first, frozenset()) == general  # unknown: no character tag
