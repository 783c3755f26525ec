"""Sharing a model: the exported folder is what timm and the Hub read, timm rebuilds ResNets and plain ViTs
with the workbook's logits, the workbook loads the folder as a checkpoint, and publishing never needs a network
in tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from animesion.errors import AnimesionError
from animesion.models.checkpoint import load_checkpoint
from animesion.share.folder import export_folder, push_folder
from animesion.training import train
from conftest import tiny_train_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def runs(tiny_dataset, tmp_path_factory):
    """resnet18 and Ti_16 trained for one short epoch each (a few steps), and a shallow one with a tag head."""
    out = tmp_path_factory.mktemp("share_runs")
    made = {}
    for name, extra in (("resnet18", {}), ("Ti_16", {}), ("shallow", {"tag_head": True})):
        config = tiny_train_config(tiny_dataset, out, model_name=name, no_epochs=1, run_name=f"share_{name}", **extra)
        made[name] = train(config, progress=False)
    return made


@pytest.mark.parametrize("name", ["resnet18", "Ti_16"])
def test_timm_rebuilds_resnets_and_vits_with_the_workbooks_logits(runs, name, tmp_path):
    import timm

    folder = export_folder(runs[name].run_dir, tmp_path / name)  # a run folder: its best checkpoint
    assert {p.name for p in folder.iterdir()} == {"config.json", "model.safetensors", "README.md", "animesion.json",
                                                  "animesion_calibration.safetensors"}
    config = json.loads((folder / "config.json").read_text())
    assert config["num_classes"] == 6 and len(config["label_names"]) == 6
    assert config["pretrained_cfg"]["mean"] == [0.5, 0.5, 0.5] and config["pretrained_cfg"]["input_size"][1] == 32
    model = timm.create_model(f"local-dir:{folder}", pretrained=True).eval()
    ckpt = load_checkpoint(runs[name].best_checkpoint)
    images = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        theirs, ours = model(images), ckpt.model(images)["logits"]
    assert torch.allclose(theirs, ours, atol=1e-5), (theirs - ours).abs().max()


def test_the_workbook_loads_a_shared_folder_and_predicts_the_same(runs, tiny_dataset, tmp_path, capsys):
    from animesion.inference.__main__ import main as inference_main

    for name in ("resnet18", "Ti_16", "shallow"):  # timm's names (a ViT's stored scaled), the workbook's own
        folder = export_folder(runs[name].best_checkpoint, tmp_path / name)
        shared, original = load_checkpoint(folder), load_checkpoint(runs[name].best_checkpoint)
        images = torch.randn(2, 3, 32, 32)
        with torch.no_grad():
            assert torch.allclose(shared.model(images)["logits"], original.model(images)["logits"], atol=1e-5)
        assert shared.calibration is not None and shared.tag_head == original.tag_head
        assert shared.class_names == original.class_names
    answers = []
    for checkpoint in (tmp_path / "resnet18", runs["resnet18"].best_checkpoint):
        assert inference_main(["--checkpoint_path", str(checkpoint), "--test_path",
                               str(tiny_dataset / "faces" / "0000"), "--results_dir", str(tmp_path / "out"),
                               "--save_results", "false"]) == 0
        answers.append([line.split(" | ")[0] for line in capsys.readouterr().out.splitlines() if " | " in line])
    assert answers[0] == answers[1] and len(answers[0]) == 12


def test_the_model_card_says_what_a_person_needs(runs, tmp_path):
    card = (export_folder(runs["shallow"].best_checkpoint, tmp_path / "shallow") / "README.md").read_text()
    for text in ("6 characters", "| test top-1 |", "tag mAP", "timm cannot rebuild", "python -m animesion.inference",
                 "## Limits", "mean\n0.5", "from scratch"):
        assert text in card, text
    timm_card = (export_folder(runs["Ti_16"].best_checkpoint, tmp_path / "vit") / "README.md").read_text()
    assert 'timm.create_model("local-dir:vit", pretrained=True)' in timm_card


def test_publishing_stops_in_one_sentence_offline_and_uploads_when_logged_in(runs, tmp_path, monkeypatch):
    import huggingface_hub

    folder = export_folder(runs["resnet18"].best_checkpoint, tmp_path / "share")
    with pytest.raises(AnimesionError, match="needs the network"):  # tests run offline (conftest)
        push_folder(folder, "someone/animesion-test")
    calls = []

    class FakeApi:
        def create_repo(self, repo_id, private=False, exist_ok=False):
            calls.append(("create", repo_id))

        def upload_folder(self, folder_path, repo_id, commit_message):
            calls.append(("upload", repo_id, sorted(p.name for p in Path(folder_path).iterdir())))
            return type("Commit", (), {"repo_url": f"https://huggingface.co/{repo_id}"})()

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("ANIMESION_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)
    with pytest.raises(AnimesionError, match="login"):
        push_folder(folder, "someone/animesion-test")
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: "hf_token")
    assert push_folder(folder, "someone/animesion-test") == "https://huggingface.co/someone/animesion-test"
    assert calls[0] == ("create", "someone/animesion-test") and "model.safetensors" in calls[1][2]


def test_hf_hub_names_come_from_the_local_cache_or_stop_in_one_sentence(runs, tmp_path, monkeypatch):
    import huggingface_hub

    folder = export_folder(runs["resnet18"].best_checkpoint, tmp_path / "cached")

    def cache(repo_id, local_files_only=False, **kwargs):
        if repo_id == "someone/cached" and local_files_only:
            return str(folder)
        raise huggingface_hub.errors.LocalEntryNotFoundError("not cached")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", cache)
    assert load_checkpoint("hf-hub:someone/cached").class_names == load_checkpoint(folder).class_names
    with pytest.raises(AnimesionError, match="not in the local Hugging Face cache"):
        load_checkpoint("hf-hub:someone/elsewhere")


def test_export_command_line_and_04s_cell(runs, tmp_path, capsys):
    from animesion.export import main as export_main
    from animesion.workbook import run_notebook

    assert export_main([str(runs["resnet18"].run_dir), str(tmp_path / "cli")]) == 0
    assert "model.safetensors" in capsys.readouterr().out and (tmp_path / "cli" / "README.md").is_file()
    assert export_main([str(tmp_path / "nothing_here"), str(tmp_path / "x")]) == 2
    assert "neither a checkpoint file nor a run folder" in capsys.readouterr().err
    run_notebook("04_evaluate", {"checkpoint_path": str(runs["resnet18"].best_checkpoint), "no_cpu_workers": 0,
                                 "eval_imagebyimage": False, "retrieval": False, "save_results": False,
                                 "export_dir": str(tmp_path / "from_04")}, output=tmp_path / "04.ipynb", progress=False)
    assert (tmp_path / "from_04" / "config.json").is_file()


def test_the_model_card_says_where_the_weights_started():
    from animesion.models.spec import ModelSpec
    from animesion.share.card import start_of

    assert start_of(ModelSpec(model_name="resnet18", backbone="faces-simclr-resnet18")) == \
        "from the self-supervised backbone `faces-simclr-resnet18`"
    assert start_of(ModelSpec(model_name="resnet18", pretrained=True)) == "from ImageNet weights"
    assert start_of(ModelSpec(model_name="resnet18")) == "trained from scratch"
