"""Checkpoints are never half-written: retention, a full disk, an unwritable results_dir, parameter checks."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pandas as pd
import pytest
import torch

from animesion.atomic import atomic_write
from animesion.errors import CheckpointError
from animesion.models.checkpoint import load_checkpoint
from animesion.training import train
from animesion.training.resume import load_state, newest_state
from animesion.training.run_dir import RunDir
from conftest import Interrupt, StopAfter, tiny_train_config, wait_for

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def no_space_left(obj, f, *args, **kwargs) -> None:
    """Stands in for ``torch.save`` on a full disk: part of the file gets written, then ENOSPC."""
    Path(f).write_bytes(b"half a checkpoint")
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture(scope="module")
def interrupted(tiny_dataset, tmp_path_factory):
    """A 4-epoch run with the default keep_last=2, interrupted after epoch 3 (its folder is unfinished)."""
    config = tiny_train_config(tiny_dataset, tmp_path_factory.mktemp("outputs"), no_epochs=4)
    with pytest.raises(Interrupt):
        train(config, callbacks=[StopAfter(config, 3)], progress=False)
    return config


def test_an_unfinished_run_keeps_its_newest_states_and_the_best_weights(interrupted):
    run = RunDir(interrupted)
    assert [p.name for p in run.states()] == ["epoch0002.pt", "epoch0003.pt"]
    state = load_state(run.state(3))  # torch.load(weights_only=True) inside
    assert state["progress"]["epoch"] == 3 and state["progress"]["step"] == 9
    assert set(state["objects"]) == {"model", "optimizer", "lr_scheduler"}
    assert state["objects"]["lr_scheduler"]["last_epoch"] == 9
    history = pd.DataFrame(state["progress"]["history"])
    assert len(history) == 3 and not run.finished
    best_loss, best = load_checkpoint(run.checkpoint("best_loss")), load_checkpoint(run.checkpoint("best"))
    assert best_loss.info["epoch"] == history["val_loss"].idxmin() + 1
    assert best_loss.info["val_loss"] == pytest.approx(history["val_loss"].min())
    assert best.info["epoch"] == history["val_top1"].idxmax() + 1
    assert not list(run.path.rglob("*.tmp"))


def test_a_finished_run_keeps_weights_linked_and_no_states(tiny_dataset, tmp_path):
    config = tiny_train_config(tiny_dataset, tmp_path, no_epochs=2)
    result = train(config, progress=False)
    run = RunDir(config)
    assert run.states() == [] and run.finished
    files = {tag: run.checkpoint(tag) for tag in ("best", "best_loss", "last")}
    epochs = {tag: load_checkpoint(path).info["epoch"] for tag, path in files.items()}
    assert epochs["last"] == 2 and epochs["best"] == result.metrics["best_epoch"]
    for a, b in (("best", "best_loss"), ("best", "last"), ("best_loss", "last")):
        if epochs[a] == epochs[b]:  # one epoch, one file: a hard link, not a second copy
            assert files[a].stat().st_ino == files[b].stat().st_ino


def test_resume_refuses_a_run_folder_trained_with_other_parameters(interrupted):
    other = interrupted.replace(run_name=RunDir(interrupted).name, learning_rate=0.5)
    with pytest.raises(CheckpointError, match="learning_rate=0.003, not 0.5"):
        newest_state(RunDir(other), other)


def test_full_disk_stops_the_run_and_the_previous_checkpoint_survives(tiny_dataset, tmp_path, monkeypatch):
    config = tiny_train_config(tiny_dataset, tmp_path, no_epochs=2)

    class FillTheDisk:
        def on_epoch_end(self, history: pd.DataFrame) -> None:
            wait_for(RunDir(config).state(1))  # the disk fills up after epoch 1's state was written
            monkeypatch.setattr(torch, "save", no_space_left)

    with pytest.raises(CheckpointError, match=r"epoch0002\.pt' \(No space left on device\); the previous file is"):
        train(config, callbacks=[FillTheDisk()], progress=False)
    monkeypatch.undo()
    run = RunDir(config)
    assert [p.name for p in run.states()] == ["epoch0001.pt"]
    assert load_state(run.state(1))["progress"]["epoch"] == 1
    assert not list(run.path.rglob("*.tmp"))
    resumed = train(config.replace(resume=True), progress=False)
    assert resumed.metrics["resumed_from"] == str(run.state(1))
    assert resumed.history["epoch"].tolist() == [1, 2]


def test_unwritable_results_dir_is_one_clear_sentence(tiny_dataset, tmp_path):
    blocker = tmp_path / "a_file"  # root ignores permissions, but nobody can create a folder inside a file
    blocker.write_text("")
    with pytest.raises(CheckpointError, match="Cannot create the run folder .*a_file.*Not a directory"):
        train(tiny_train_config(tiny_dataset, blocker / "outputs"), progress=False)


def test_atomic_write_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "weights.bin"
    target.write_bytes(b"old")

    def write(tmp: Path) -> None:
        tmp.write_bytes(b"new but cut")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(CheckpointError, match="No space left on device"):
        atomic_write(target, write)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["weights.bin"]


def test_atomic_write_gives_a_new_file_the_usual_permissions_and_keeps_a_replaced_files(tmp_path):
    umask = os.umask(0o022)
    try:
        new = atomic_write(tmp_path / "new.bin", lambda tmp: tmp.write_bytes(b"x"))
        assert new.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600: the group can read a checkpoint
        kept = tmp_path / "kept.bin"
        kept.write_bytes(b"old")
        kept.chmod(0o640)
        atomic_write(kept, lambda tmp: tmp.write_bytes(b"new"))
        assert kept.stat().st_mode & 0o777 == 0o640 and kept.read_bytes() == b"new"
    finally:
        os.umask(umask)
