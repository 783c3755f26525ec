"""ipywidgets browsers for the notebooks: characters (01), mistakes (04), uploads (05), attention (06).

Each builder returns a widget to display. Building one headless (papermill, nbval, tests) is harmless:
it draws its first view once and waits for events that never come; the notebooks save the same
figures without widgets. A view is a PNG in an ``Image`` widget, not a figure displayed inside an
``Output`` widget: for every output captured by an ``Output`` widget, nbclient (papermill) sends a
comm message back on the shell channel while it waits for the cell's reply there, and that race
occasionally stalls a headless run for good (nbclient#312). An image needs no capture. Figures are
closed once rendered, so the inline backend does not show them a second time.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pandas as pd
import torch
from matplotlib.figure import Figure
from PIL import Image

from .attention.draw import plot_attention_view
from .attention.maps import head_maps, layer_maps, rollout_map
from .attention.report import AttentionReport
from .data.dataset import DatasetSplits
from .data.images import load_rgb
from .data.transforms import build_transform
from .errors import ImageLoadError
from .evaluation.predict import autocast
from .evaluation.report import EvaluationReport
from .plots.images import image_grid, prediction_gallery
from .training.checkpoint import Checkpoint


def _view() -> widgets.Image:
    return widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))


def _show(view: widgets.Image, fig: Figure) -> None:
    """Show ``fig`` in ``view`` (as a PNG) and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    view.value = buffer.getvalue()


def class_browser(dataset_splits: DatasetSplits, split: str = "train", max_images: int = 24) -> widgets.Widget:
    """Pick a character, see up to ``max_images`` of its pictures in ``split`` (for 01_data_exploration)."""
    records = dataset_splits.splits[split]
    by_class: dict[int, list] = {}
    for record in records:
        by_class.setdefault(record.class_id, []).append(record)
    names = dataset_splits.class_names
    options = [(f"{names[c]} ({len(by_class[c])})", c) for c in sorted(by_class, key=lambda c: names[c])]
    if not options:
        return widgets.HTML(f"The {split} split has no images.")
    choice = widgets.Dropdown(options=options, description="character")
    view = _view()

    def draw(_change: object = None) -> None:
        shown = by_class[choice.value][:max_images]
        images = [load_rgb(dataset_splits.image_root / r.path) for r in shown]
        fig = image_grid(images, [Path(r.path).name for r in shown], ncols=8)
        fig.suptitle(f"{names[choice.value]}: {len(shown)} of {len(by_class[choice.value])} {split} images")
        _show(view, fig)

    choice.observe(draw, names="value")
    draw()
    return widgets.VBox([choice, view])


def misclassification_browser(report: EvaluationReport) -> widgets.Widget:
    """Step through the misclassified images of an evaluation: true character, top-5 with confidences (04).

    Each picture is read when it is shown, so a split with many mistakes costs nothing up front.
    """
    preds, names = report.predictions, report.checkpoint.class_names
    wrong = (~preds.correct1).nonzero().flatten().tolist()
    if not wrong:
        return widgets.HTML(f"No misclassified images in the {report.split} split.")
    slider = widgets.IntSlider(value=0, min=0, max=len(wrong) - 1, description="mistake")
    view = _view()

    def draw(_change: object = None) -> None:
        i = wrong[slider.value]
        record = report.dataset.records[int(preds.indices[i])]
        true, top = names[int(preds.labels[i])], [names[j] for j in preds.topk_idx[i].tolist()]
        fig = prediction_gallery([load_rgb(report.dataset.image_root / record.path)], [top],
                                 [preds.topk_prob[i].tolist()], [true], ncols=1)
        fig.suptitle(f"{slider.value + 1} of {len(wrong)}: {record.path}", fontsize=9)
        _show(view, fig)

    slider.observe(draw, names="value")
    draw()
    return widgets.VBox([slider, view])


@torch.inference_mode()
def classify_image(ckpt: Checkpoint, image: Image.Image, top_k: int = 5) -> pd.DataFrame:
    """Top-``top_k`` characters of one picture: rank, character, confidence."""
    device = next(ckpt.model.parameters()).device
    batch = build_transform(ckpt.config.image_size, train=False)(image)[None].to(device)
    with autocast(device):
        logits = ckpt.model(batch)["logits"].float()
    probs, idx = logits.softmax(-1)[0].topk(min(top_k, len(ckpt.class_names)))
    return pd.DataFrame({"rank": range(1, len(idx) + 1), "character": [ckpt.class_names[i] for i in idx.tolist()],
                         "confidence": probs.cpu().tolist()})


def classify_upload(ckpt: Checkpoint, name: str, content: bytes, top_k: int = 5) -> tuple[Image.Image, pd.DataFrame]:
    """Read uploaded bytes as a picture (with the same checks as files on disk) and classify it.

    Raises :class:`ImageLoadError` naming the upload when it is not a readable image.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(name).name
        path.write_bytes(content)
        image = load_rgb(path)
    return image, classify_image(ckpt, image, top_k)


def upload_classifier(ckpt: Checkpoint, top_k: int = 5) -> widgets.Widget:
    """Upload a picture, see its top-``top_k`` characters with confidences (05_inference)."""
    upload = widgets.FileUpload(accept="image/*", multiple=False, description="image")
    status = widgets.Label(f"Upload a picture to classify it with {ckpt.config.model_name}.")
    view = _view()

    def on_upload(change: dict) -> None:
        for item in change["new"]:
            try:
                image, table = classify_upload(ckpt, item["name"], bytes(item["content"]), top_k)
            except ImageLoadError as err:
                status.value = str(err)
                continue
            status.value = item["name"]
            fig = prediction_gallery([image], [table["character"].tolist()], [table["confidence"].tolist()], ncols=1)
            _show(view, fig)

    upload.observe(on_upload, names="value")
    return widgets.VBox([widgets.HBox([upload, status]), view])


def attention_browser(report: AttentionReport) -> widgets.Widget:
    """Sliders for image, layer and head: that head's map, the layer's average and the rollout (06)."""
    maps = report.maps
    per_layer, rolled = layer_maps(maps), rollout_map(report.rollout, maps)
    image = widgets.IntSlider(value=0, min=0, max=len(report.images) - 1, description="image")
    layer = widgets.IntSlider(value=report.layer, min=0, max=maps.num_layers - 1, description="layer")
    head = widgets.IntSlider(value=report.head, min=0, max=maps.num_heads - 1, description="head")
    view = _view()

    def draw(_change: object = None) -> None:
        b, l, h = image.value, layer.value, head.value
        title = f"{report.labels[b]} → {report.top_names[b][0]} ({report.top_probs[b][0] * 100:.0f}%)"
        fig = plot_attention_view(report.images[b], head_maps(maps, l)[b, h], per_layer[l, b], rolled[b], l, h, title)
        _show(view, fig)

    for slider in (image, layer, head):
        slider.observe(draw, names="value")
    draw()
    return widgets.VBox([widgets.HBox([image, layer, head]), view])
