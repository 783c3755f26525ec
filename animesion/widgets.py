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

import html
import io

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .attention.draw import plot_attention_view
from .attention.maps import head_maps, layer_maps, rollout_map
from .attention.report import AttentionReport
from .data.dataset import DatasetSplits
from .data.images import TAIL, load_rgb_bytes, truncation_note
from .errors import AnimesionError, ImageLoadError
from .evaluation.report import EvaluationReport, mistake, mistake_positions
from .exploration import class_gallery
from .inference.gallery import enrol_pictures, with_character
from .plots.images import prediction_gallery
from .prediction.open_set import Prototypes
from .prediction.predictor import Predictor
from .prediction.recognise import recognise


def _view(hidden: bool = False) -> widgets.Image:
    """An empty view; ``hidden`` until it has a picture, since an empty Image shows a broken-image icon.

    The view keeps the PNG's own size (shrunk to the notebook's width when wider) and aspect ratio: in a
    VBox, a child is otherwise stretched to the box's width, which blurs and distorts the picture.
    """
    layout = widgets.Layout(max_width="100%", width="auto", height="auto", align_self="flex-start",
                            object_fit="contain", display="none" if hidden else None)
    return widgets.Image(format="png", layout=layout)


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


class UploadClassifier:
    """Upload a picture, see its answer with a confidence and its top-``top_k`` characters (05_inference); with
    a calibrated checkpoint, enrol a new character from a few uploaded pictures first, and it is recognised
    from then on. The answers come from :func:`recognise`, as 05's tables and the command line do; this
    class holds the layout, the events and the characters enrolled in this session (``gallery``).

    The view stays hidden until a picture is classified, and is cleared when an upload is not an image,
    so an error never sits above the previous picture's prediction. Each upload is taken and then cleared
    from the button, so the same picture can be uploaded again. Messages wrap instead of being cut off.
    """

    def __init__(self, predictor: Predictor, top_k: int = 5, gallery: Prototypes | None = None) -> None:
        self.predictor, self.top_k, self.gallery = predictor, top_k, gallery
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="Picture to name",
                                         layout=_natural_width())
        self.status = _message(_introduction(predictor))
        self.view = _view(hidden=True)
        self.upload.observe(self.on_upload, names="value")
        rows = [self.upload, self.status, self.view]
        if predictor.open_set is not None:
            self.name = widgets.Text(placeholder="name of the new character", description="New character",
                                     style={"description_width": "initial"})
            self.pictures = widgets.FileUpload(accept="image/*", multiple=True, description="Its pictures",
                                               layout=_natural_width())
            self.button = widgets.Button(description="Enrol", button_style="primary")
            self.note = _message("To add a character the model was not trained on: type its name, choose 2 or more "
                                 "pictures of it, then Enrol. It is named from then on, for this session.")
            self.button.on_click(self.on_enrol)
            rows = [widgets.HBox([self.name, self.pictures, self.button]), self.note, *rows]
        self.widget = widgets.VBox(rows)

    def on_upload(self, change: dict) -> None:
        """Classify the uploaded picture, then clear the button (which calls this again with nothing)."""
        if not change["new"]:
            return
        for item in change["new"]:
            self.classify(item["name"], bytes(item["content"]))
        self.upload.value = ()

    def classify(self, name: str, content: bytes) -> None:
        """Show the picture ``content`` (uploaded as ``name``) with its answer, or say why it cannot be read."""
        try:
            image = load_rgb_bytes(name, content, self.predictor.decode_size)
        except ImageLoadError as err:
            self.status.value = _html(str(err))
            self.view.value, self.view.layout.display = b"", "none"
            return
        answers = recognise(self.predictor, [image], self.gallery, k=self.top_k)
        note = truncation_note(name, content[-TAIL:])
        self.status.value = _html(f"{name}: {answers.describe(0)}" + (f". Note: {note}." if note else ""))
        _show(self.view, prediction_gallery([image], answers.names, answers.probabilities.tolist(),
                                            [f"{name}\n{answers.describe(0)}"], ncols=1))
        self.view.layout.display = None

    def on_enrol(self, _button: object = None) -> None:
        """Enrol the uploaded pictures under the typed name; unreadable ones are reported by name."""
        images, problems = [], []
        for item in self.pictures.value:
            try:
                images.append(load_rgb_bytes(item["name"], bytes(item["content"]), self.predictor.decode_size))
            except ImageLoadError as err:
                problems.append(str(err))
        name = self.name.value.strip() or "new character"
        try:
            character = enrol_pictures(self.predictor, name, images)
        except AnimesionError as err:
            self.note.value = _html(" ".join([*problems, str(err)]))
            return
        if name in self.predictor.class_names:
            problems.append(f"'{name}' is also a character the model was trained on: both now answer to that name "
                            "(choose another name to tell them apart).")
        self.gallery = with_character(self.gallery, character)
        self.pictures.value = ()
        self.note.value = _html(" ".join([f"Enrolled {name} from {len(images)} pictures; the gallery has "
                                          f"{len(self.gallery)} character(s).", *problems]))


def _introduction(predictor: Predictor) -> str:
    """What the classifier is and what to do with it, in words."""
    names = predictor.class_names
    listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return (f"The model ({predictor.spec.model_name}, {predictor.spec.image_size} px) knows {len(names)} characters: "
            f"{listed}. Upload a picture of a character to have it named, with how sure the model is.")


def _natural_width() -> widgets.Layout:
    """A button as wide as its label, not stretched to the width of the box it is in."""
    return widgets.Layout(width="auto", align_self="flex-start")


def _message(text: str) -> widgets.HTML:
    """A line of text that wraps at the notebook's width instead of being cut off with "…"."""
    return widgets.HTML(_html(text), layout=widgets.Layout(width="100%"))


def _html(text: str) -> str:
    return f'<div style="white-space: normal; line-height: 1.4">{html.escape(text)}</div>'


def upload_classifier(predictor: Predictor, top_k: int = 5, gallery: Prototypes | None = None) -> widgets.Widget:
    """The :class:`UploadClassifier` widget of ``predictor`` (05_inference)."""
    return UploadClassifier(predictor, top_k, gallery).widget


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
