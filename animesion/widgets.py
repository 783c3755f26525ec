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
from dataclasses import dataclass
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
from .errors import AnimesionError, ImageLoadError
from .evaluation.report import EvaluationReport, mistake, mistake_positions
from .exploration import class_gallery
from .inference.gallery import enrol_pictures, with_character
from .plots.images import prediction_gallery
from .prediction.open_set import Prototypes
from .prediction.predictor import Predictor


def _view(hidden: bool = False) -> widgets.Image:
    """An empty view; ``hidden`` until it has a picture, since an empty Image shows a broken-image icon."""
    return widgets.Image(format="png", layout=widgets.Layout(max_width="100%", display="none" if hidden else None))


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

    The slider counts from 1, as its title does. Each picture is read when it is shown, so a split with
    many mistakes costs nothing up front.
    """
    wrong = mistake_positions(report)
    if not wrong:
        return widgets.HTML(f"No misclassified images in the {report.split} split.")
    slider = widgets.IntSlider(value=1, min=1, max=len(wrong), description="mistake")
    view = _view()

    def draw(_change: object = None) -> None:
        shown = mistake(report, wrong[slider.value - 1])
        fig = prediction_gallery([shown.image], [shown.top_names], [shown.top_probs], [shown.caption], ncols=1)
        fig.suptitle(f"{slider.value} of {len(wrong)}: {shown.path}", fontsize=12)
        _show(view, fig)

    slider.observe(draw, names="value")
    draw()
    return widgets.VBox([slider, view])


@dataclass
class Classified:
    """One picture's answer: ``table`` (rank, character, confidence) and the ``answer`` line: the best
    character, or ``unknown`` with its best match, and the score when the checkpoint is calibrated."""

    table: pd.DataFrame
    answer: str


def classify_image(predictor: Predictor, image: Image.Image, top_k: int = 5,
                   gallery: Prototypes | None = None) -> Classified:
    """Top-``top_k`` characters of one picture, among the enrolled ``gallery`` too when the checkpoint is
    calibrated (then a weak best score answers ``unknown``)."""
    result = predictor.predict([image], top_k)
    names, probs, answer = result.names[0], result.topk_prob[0].tolist(), result.names[0][0]
    if predictor.open_set is not None:
        found = predictor.open_set.recognise(result.embeddings, gallery, top_k)
        names, probs, score = found.names[0], found.probabilities[0].tolist(), float(found.score[0])
        answer = f"{found.answers[0]} (score {score:.2f})" + (f", best match {names[0]}" if found.unknown[0] else "")
    table = pd.DataFrame({"rank": range(1, len(names) + 1), "character": names, "confidence": probs})
    return Classified(table, answer)


def read_upload(name: str, content: bytes, decode_size: int) -> Image.Image:
    """Uploaded bytes as a picture, with the same checks as files on disk.

    Raises :class:`ImageLoadError` naming the upload by its own name when it is not a readable image.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(name).name
        path.write_bytes(content)
        try:
            return load_rgb(path, draft_size=decode_size)
        except ImageLoadError as err:  # the user knows the file by its name, not by our temporary copy
            raise ImageLoadError(str(err).replace(str(path), name)) from None


def classify_upload(predictor: Predictor, name: str, content: bytes, top_k: int = 5,
                    gallery: Prototypes | None = None) -> tuple[Image.Image, Classified]:
    """Read an upload (:func:`read_upload`) and classify it (:func:`classify_image`)."""
    image = read_upload(name, content, predictor.decode_size)
    return image, classify_image(predictor, image, top_k, gallery)


def upload_classifier(predictor: Predictor, top_k: int = 5, gallery: Prototypes | None = None) -> widgets.Widget:
    """Upload a picture, see its top-``top_k`` characters with confidences (05_inference); with a calibrated
    checkpoint, enrol a new character from a few uploaded pictures first, and it is recognised from then on.

    The view stays hidden until a picture is classified, and is cleared when an upload is not an image,
    so an error never sits above the previous picture's prediction.
    """
    session = {"gallery": gallery}
    upload = widgets.FileUpload(accept="image/*", multiple=False, description="image")
    status = widgets.Label(f"Upload a picture to classify it with {predictor.spec.model_name}.")
    view = _view(hidden=True)

    def on_upload(change: dict) -> None:
        for item in change["new"]:
            try:
                image, found = classify_upload(predictor, item["name"], bytes(item["content"]), top_k,
                                               session["gallery"])
            except ImageLoadError as err:
                status.value = str(err)
                view.value, view.layout.display = b"", "none"
                continue
            status.value = f"{item['name']}: {found.answer}"
            fig = prediction_gallery([image], [found.table["character"].tolist()],
                                     [found.table["confidence"].tolist()], [item["name"]], ncols=1)
            _show(view, fig)
            view.layout.display = None

    upload.observe(on_upload, names="value")
    rows = [widgets.HBox([upload, status]), view]
    if predictor.open_set is not None:
        rows.insert(0, _enrolment(predictor, session))
    return widgets.VBox(rows)


def _enrolment(predictor: Predictor, session: dict) -> widgets.Widget:
    """A name, a few uploaded pictures and a button: the character joins the session's gallery."""
    name = widgets.Text(placeholder="new character", description="enrol")
    pictures = widgets.FileUpload(accept="image/*", multiple=True, description="pictures")
    button = widgets.Button(description="enrol")
    note = widgets.Label("Enrol a character the model was not trained on from 2 or more pictures.")

    def on_enrol(_button: object) -> None:
        images, problems = [], []
        for item in pictures.value:
            try:
                images.append(read_upload(item["name"], bytes(item["content"]), predictor.decode_size))
            except ImageLoadError as err:
                problems.append(str(err))
        try:
            character = enrol_pictures(predictor, name.value.strip() or "new character", images)
        except AnimesionError as err:
            note.value = " ".join([*problems, str(err)])
            return
        session["gallery"] = with_character(session["gallery"], character)
        note.value = " ".join([*problems, f"Enrolled {character.names[0]} from {len(images)} pictures; "
                                          f"the gallery has {len(session['gallery'])} character(s)."])

    button.on_click(on_enrol)
    return widgets.VBox([widgets.HBox([name, pictures, button]), note])


def attention_browser(report: AttentionReport) -> widgets.Widget:
    """Sliders for image, layer and head: that head's map, the layer's average and the rollout (06).

    The sliders count from 1, as the titles do ("layer 12, head 1"); the maps are indexed from 0.
    """
    maps = report.maps
    per_layer, rolled = layer_maps(maps), rollout_map(report.rollout, maps)
    image = widgets.IntSlider(value=1, min=1, max=len(report.images), description="image")
    layer = widgets.IntSlider(value=report.layer + 1, min=1, max=maps.num_layers, description="layer")
    head = widgets.IntSlider(value=report.head + 1, min=1, max=maps.num_heads, description="head")
    view = _view()

    def draw(_change: object = None) -> None:
        b, l, h = image.value - 1, layer.value - 1, head.value - 1
        title = f"{report.labels[b]} → {report.top_names[b][0]} ({report.top_probs[b][0] * 100:.0f}%)"
        fig = plot_attention_view(report.images[b], head_maps(maps, l)[b, h], per_layer[l, b], rolled[b], l, h, title)
        _show(view, fig)

    for slider in (image, layer, head):
        slider.observe(draw, names="value")
    draw()
    return widgets.VBox([widgets.HBox([image, layer, head]), view])
