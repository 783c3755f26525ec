"""The model card (``README.md``) of a shared folder: what the model recognises, how it was trained, how well
it does, how to load it, and its limits."""

from __future__ import annotations

from typing import Any

from ..models.checkpoint import Checkpoint
from ..models.timm_form import TimmForm

LISTED = 40  # characters listed in the card; the rest are in config.json's label_names


def _metrics_rows(metrics: dict[str, Any]) -> list[str]:
    rows = [("test top-1", "test_top1", "{:.1f}%"), ("test top-5", "test_top5", "{:.1f}%"),
            ("test pictures", "test_samples", "{}"), ("tag mAP (test)", "test_tag_map", "{:.3f}"),
            ("tag micro F1 (test, calibrated thresholds)", "test_tag_micro_f1", "{:.3f}"),
            ("tag F1 at precision = recall (test)", "test_tag_f1_at_pr", "{:.3f}"),
            ("\"unknown\" threshold of its characters (cosine similarity)", "unknown_threshold", "{:.3f}"),
            ("training time", "train_time_s", "{:.0f} s"), ("epochs", "epochs", "{}")]
    return [f"| {label} | {fmt.format(metrics[key])} |" for label, key, fmt in rows if metrics.get(key) is not None]


def why_not_timm(spec, extras: list[str]) -> str:
    """Why timm cannot rebuild a model, in a few words."""
    if extras:
        return f"{' and '.join(extras)} {'is' if len(extras) == 1 else 'are'} the workbook's own"
    return f"timm's {spec.model_name} is laid out differently from the workbook's (torchvision's)" \
        if spec.model_name != "shallow" else "the shallow CNN is the workbook's own"


def start_of(spec) -> str:
    """Where the weights started: ImageNet, a self-supervised backbone (its name or file), or random."""
    if spec.pretrained:
        return "from ImageNet weights"
    if spec.from_scratch:
        return "trained from scratch"
    return f"from the self-supervised backbone `{spec.backbone}`"


def recognised(classes: list[str], tags: list[str]) -> str:
    """The characters (the first :data:`LISTED`) and the tags of the model, as the card lists them."""
    listed = ", ".join(classes[:LISTED]) + (f", … ({len(classes) - LISTED} more in `config.json`'s `label_names`)"
                                            if len(classes) > LISTED else "")
    if not tags:
        return listed
    shown = ", ".join(tags[:20]) + (", …" if len(tags) > 20 else "")
    return (f"{listed}\n\nTags: {len(tags)} ({shown}); each has its own threshold, calibrated on the validation "
            "split, in `animesion.json`.")


def loading_text(spec, form: TimmForm | None, name: str, extras: list[str]) -> str:
    """How to load the model with timm, or why timm cannot (the workbook's way follows in the card)."""
    if form is None:
        return f"timm cannot rebuild this model: {why_not_timm(spec, extras)}. The workbook loads it, as below."
    return f"""```python
import timm, torch
model = timm.create_model("local-dir:{name}", pretrained=True).eval()   # or "hf-hub:<user>/<name>"
x = torch.rand(1, 3, {spec.image_size}, {spec.image_size}) * 2 - 1      # RGB in [-1, 1]: (pixel/255 - 0.5) / 0.5
probs = model(x).softmax(-1)                                             # classes in config.json's label_names
```"""


def model_card(ckpt: Checkpoint, metrics: dict[str, Any], form: TimmForm | None, name: str) -> str:
    """The card's Markdown for ``ckpt`` (``metrics``: its run's ``metrics.json``, may be empty)."""
    spec, training = ckpt.spec, ckpt.training
    classes = ckpt.class_names
    recipe = ", ".join(f"{k} {training[k]}" for k in ("opt", "learning_rate", "weight_decay", "aa", "smoothing",
                                                      "mixup", "cutmix", "model_ema") if training.get(k) is not None)
    tags = (ckpt.tag_head or {}).get("tags", {}).get("names", [])
    extras = [w for w, on in (("the IFA head", spec.interm_features_fc), ("vision+tags inputs", spec.multimodal),
                              (f"a tag head over {len(tags)} tags", bool(spec.num_tags))) if on]
    model = start_of(spec) + ("; " + ", ".join(extras) if extras else "")
    return f"""---
library_name: {"timm" if form else "animesion-workbook"}
tags:
- image-classification
- anime
- animesion
---

# {name}: anime character recognition ({spec.model_name}, {len(classes)} characters)

A {spec.model_name} trained with the Animesion Workbook to name **{len(classes)} anime characters** from a
face crop{", and to tag the picture" if spec.num_tags else ""}. Characters it was never trained on can be enrolled
from a few pictures in the workbook (`05_inference`, `gallery_path`), and pictures of none of them are answered
"unknown" at a calibrated threshold.

## What it recognises
{recognised(classes, tags)}

## Training
- Data: `{training.get("dataset_name", "?")}` (`{training.get("dataset_path", "?")}`), {len(classes)} characters.
- Model: `{spec.model_name}` at {spec.image_size}×{spec.image_size} px, {model}.
- Recipe: {training.get("no_epochs", "?")} epochs, batch {training.get("batch_size", "?")}, {recipe}.

## Results
| figure | value |
|---|---|
{chr(10).join(_metrics_rows(metrics)) or "| (no metrics.json was found beside the checkpoint) | |"}

## Preprocessing
RGB, resized to {spec.image_size}×{spec.image_size} (bilinear, no crop), scaled to [0, 1], then normalised with mean
0.5 and std 0.5 per channel.

## How to load it
{loading_text(spec, form, name, extras)}

With the workbook, the folder (or `hf-hub:<user>/<name>`) is a `checkpoint_path` like any checkpoint file: the
calibration for "unknown", the enrolment space and the tag thresholds come with it (`animesion.json`,
`animesion_calibration.safetensors`).

```bash
python -m animesion.inference --checkpoint_path {name} --test_path my_pictures/
```

## Limits
- It knows these {len(classes)} characters only; others are enrolled in the workbook or answered "unknown".
- Trained at {spec.image_size} px{" from scratch" if spec.from_scratch else ""}: small details
  (accessories, eye shapes) may be lost, and pictures unlike the training crops (whole bodies, other styles) do worse.
- Recognition of characters beyond the training set is weaker than within it (see the workbook's
  `benchmarks/new_characters.md`).
"""


__all__ = ["model_card"]
