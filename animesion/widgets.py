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
from matplotlib.figure import Figure
from PIL import Image

from .attention.draw import plot_attention_view
from .attention.maps import head_maps, layer_maps, rollout_map
from .attention.report import AttentionReport
from .data.dataset import DatasetSplits
from .data.images import load_rgb
from .errors import ImageLoadError
from .evaluation.report import EvaluationReport
from .exploration import class_gallery
from .plots.images import prediction_gallery
from .prediction.predictor import Predictor


def _view() -> widgets.Image:
    return widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))


def _show(view: widgets.Image, fig: Figure) -> None:
    """Show ``fig`` in ``view`` (as a PNG) and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    view.value = buffer.getvalue()


def class_browser(data: DatasetSplits, max_images: int = 16, initial: str | None = None) -> widgets.Widget:
    """A dropdown of the characters (by name) above the gallery of the chosen one (01_data_exploration)."""
    names = sorted(data.class_names)
    picker = widgets.Dropdown(options=names, value=initial if initial in names else names[0], description="character")
    view = _view()

    def draw(_change: object = None) -> None:
        _show(view, class_gallery(data, picker.value, max_images))

    picker.observe(draw, names="value")
    draw()
    return widgets.VBox([picker, view])


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
        fig = prediction_gallery([report.predictor.load(report.dataset.image_root / record.path)], [top],
                                 [preds.topk_prob[i].tolist()], [true], ncols=1)
        fig.suptitle(f"{slider.value + 1} of {len(wrong)}: {record.path}", fontsize=9)
        _show(view, fig)

    slider.observe(draw, names="value")
    draw()
    return widgets.VBox([slider, view])


def classify_image(predictor: Predictor, image: Image.Image, top_k: int = 5) -> pd.DataFrame:
    """Top-``top_k`` characters of one picture: rank, character, confidence."""
    result = predictor.predict([image], top_k)
    return pd.DataFrame({"rank": range(1, len(result.names[0]) + 1), "character": result.names[0],
                         "confidence": result.topk_prob[0].tolist()})


def classify_upload(predictor: Predictor, name: str, content: bytes, top_k: int = 5
                    ) -> tuple[Image.Image, pd.DataFrame]:
    """Read uploaded bytes as a picture (with the same checks as files on disk) and classify it.

    Raises :class:`ImageLoadError` naming the upload when it is not a readable image.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(name).name
        path.write_bytes(content)
        image = load_rgb(path, draft_size=predictor.decode_size)
    return image, classify_image(predictor, image, top_k)


def upload_classifier(predictor: Predictor, top_k: int = 5) -> widgets.Widget:
    """Upload a picture, see its top-``top_k`` characters with confidences (05_inference)."""
    upload = widgets.FileUpload(accept="image/*", multiple=False, description="image")
    status = widgets.Label(f"Upload a picture to classify it with {predictor.spec.model_name}.")
    view = _view()

    def on_upload(change: dict) -> None:
        for item in change["new"]:
            try:
                image, table = classify_upload(predictor, item["name"], bytes(item["content"]), top_k)
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
