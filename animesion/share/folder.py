"""``export_folder``: a checkpoint as a timm / Hugging Face folder, and ``push_folder`` to the Hub.

The folder holds what the ecosystem reads:

* ``config.json`` and ``model.safetensors`` written by timm's own ``save_for_hf`` when timm can rebuild the
  model (:mod:`animesion.models.timm_form`: ResNets, plain ViTs), so ``timm.create_model("local-dir:…",
  pretrained=True)`` gives the same logits; otherwise the workbook's weights and a ``config.json`` that names
  the model and its labels;
* ``README.md``, the model card (:mod:`.card`);

and what timm does not know, never pickled: ``animesion.json`` (the checkpoint's header: spec, classes, run
parameters, vocabulary, tag head, calibration numbers) and ``animesion_calibration.safetensors`` (the
calibration's tensors). The workbook loads the folder as a ``checkpoint_path``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from safetensors import safe_open
from safetensors.torch import save_file

from ..errors import AnimesionError, CheckpointError
from ..models.checkpoint import (
    CALIBRATION,
    SHARED_CALIBRATION,
    SHARED_META,
    SHARED_WEIGHTS,
    WEIGHTS_FORM,
    load_checkpoint,
    weights_of,
)
from ..models.timm_form import timm_form
from ..paths import resolve_path
from .card import model_card

MEAN = STD = (0.5, 0.5, 0.5)  # the workbook's normalisation (data/transforms.py)


def checkpoint_of(path: str | Path) -> Path:
    """A checkpoint file, or the ``best.safetensors`` of a run folder."""
    path = resolve_path(path)
    if path.is_dir() and (path / "best.safetensors").is_file():
        return path / "best.safetensors"
    if not path.is_file():
        raise CheckpointError(f"'{path}' is neither a checkpoint file nor a run folder with best.safetensors.")
    return path


def _timm_files(model_weights: dict, form, class_names: list[str], image_size: int, tmp: Path) -> None:
    """``config.json`` and ``model.safetensors`` as timm writes them, for a model timm rebuilds."""
    import timm
    from timm.models import save_for_hf

    model = timm.create_model(form.architecture, pretrained=False, **form.model_args)
    model.load_state_dict(form.to_timm(model_weights))
    data = {"input_size": (3, image_size, image_size), "mean": MEAN, "std": STD, "crop_pct": 1.0,
            "interpolation": "bilinear"}
    save_for_hf(model, str(tmp), model_config={"label_names": class_names}, model_args=form.model_args,
                safe_serialization=True, data_config=data)


def _workbook_files(model_weights: dict, ckpt, tmp: Path) -> None:
    """``config.json`` (the model and its labels) and ``model.safetensors`` in the workbook's names."""
    spec = ckpt.spec
    config = {"architecture": f"animesion/{spec.model_name}", "num_classes": spec.num_classes,
              "label_names": ckpt.class_names, "library": "animesion-workbook",
              "pretrained_cfg": {"input_size": [3, spec.image_size, spec.image_size], "mean": list(MEAN),
                                 "std": list(STD), "crop_pct": 1.0, "interpolation": "bilinear"}}
    (tmp / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False))
    save_file(model_weights, str(tmp / SHARED_WEIGHTS))


def export_folder(checkpoint: str | Path, out_dir: str | Path, name: str = "") -> Path:
    """Write the shared folder of ``checkpoint`` (a file or a run folder) to ``out_dir``; returns it.

    The files are written to a temporary folder beside ``out_dir`` and moved in one by one with
    ``os.replace``, so a failure never leaves a half-written file in ``out_dir``.
    """
    source = checkpoint_of(checkpoint)
    ckpt = load_checkpoint(source)
    out = resolve_path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    form = timm_form(ckpt.spec)
    weights = weights_of(ckpt.model)
    with safe_open(str(source), framework="pt") as f:
        header: dict[str, Any] = dict(f.metadata() or {})
        calibration = {k: f.get_tensor(k) for k in f.keys() if k.startswith(CALIBRATION)}
    header[WEIGHTS_FORM] = "timm" if form else "workbook"
    metrics_file = source.parent / "metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    with tempfile.TemporaryDirectory(dir=out.parent) as folder:
        tmp = Path(folder)
        if form:
            _timm_files(weights, form, ckpt.class_names, ckpt.spec.image_size, tmp)
        else:
            _workbook_files(weights, ckpt, tmp)
        (tmp / SHARED_META).write_text(json.dumps(header, indent=1, ensure_ascii=False))
        if calibration:
            save_file(calibration, str(tmp / SHARED_CALIBRATION))
        (tmp / "README.md").write_text(model_card(ckpt, metrics, form, name or out.name), encoding="utf-8")
        for file in tmp.iterdir():
            if file.suffix in (".json", ".safetensors", ".md"):
                file.chmod(0o644)  # files to share: readable by others, as a download would be
                os.replace(file, out / file.name)
    return out


def push_folder(folder: str | Path, repo_id: str, private: bool = False) -> str:
    """Upload a shared folder to the Hugging Face Hub as ``repo_id`` (created if needed); its URL.

    Needs a login (``huggingface-cli login`` or ``HF_TOKEN``) and the network: without either it stops with
    one sentence.
    """
    from huggingface_hub import HfApi, get_token

    if os.environ.get("HF_HUB_OFFLINE") or os.environ.get("ANIMESION_OFFLINE"):
        raise AnimesionError("push_to_hub needs the network, and HF_HUB_OFFLINE is set; the folder is ready to "
                             "upload later.")
    if not get_token():
        raise AnimesionError("push_to_hub needs a Hugging Face login: run `huggingface-cli login` (or set HF_TOKEN) "
                             "and export again; the folder is ready.")
    api = HfApi()
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        commit = api.upload_folder(folder_path=str(folder), repo_id=repo_id, commit_message="Add model (Animesion)")
    except Exception as err:  # network, permissions, a name taken: one sentence, the folder stays
        raise AnimesionError(f"Uploading to '{repo_id}' failed ({type(err).__name__}: {str(err)[:120]}); the folder "
                             "is ready to upload later.") from None
    return str(getattr(commit, "repo_url", f"https://huggingface.co/{repo_id}"))


__all__ = ["checkpoint_of", "export_folder", "push_folder"]
