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

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .attention.draw import plot_attention_view
from .attention.maps import head_maps, layer_maps, rollout_map
from .attention.report import AttentionReport
from .data.dataset import DatasetSplits
from .data.images import load_rgb_bytes
from .errors import AnimesionError, ImageLoadError
from .evaluation.report import EvaluationReport, mistake, mistake_positions
from .exploration import class_gallery
from .inference.gallery import enrol_pictures, with_character
from .plots.images import prediction_gallery
from .prediction.open_set import Prototypes
from .prediction.predictor import Predictor
from .prediction.recognise import recognise


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


class UploadClassifier:
    """Upload a picture, see its answer and top-``top_k`` characters with confidences (05_inference); with a
    calibrated checkpoint, enrol a new character from a few uploaded pictures first, and it is recognised
    from then on. The answers come from :func:`recognise`, as 05's tables and the command line do; this
    class holds the layout, the events and the characters enrolled in this session (``gallery``).

    The view stays hidden until a picture is classified, and is cleared when an upload is not an image,
    so an error never sits above the previous picture's prediction.
    """

    def __init__(self, predictor: Predictor, top_k: int = 5, gallery: Prototypes | None = None) -> None:
        self.predictor, self.top_k, self.gallery = predictor, top_k, gallery
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="image")
        self.status = widgets.Label(f"Upload a picture to classify it with {predictor.spec.model_name}.")
        self.view = _view(hidden=True)
        self.upload.observe(self.on_upload, names="value")
        rows = [widgets.HBox([self.upload, self.status]), self.view]
        if predictor.open_set is not None:
            self.name = widgets.Text(placeholder="new character", description="enrol")
            self.pictures = widgets.FileUpload(accept="image/*", multiple=True, description="pictures")
            self.button = widgets.Button(description="enrol")
            self.note = widgets.Label("Enrol a character the model was not trained on from 2 or more pictures.")
            self.button.on_click(self.on_enrol)
            rows.insert(0, widgets.VBox([widgets.HBox([self.name, self.pictures, self.button]), self.note]))
        self.widget = widgets.VBox(rows)

    def on_upload(self, change: dict) -> None:
        """Classify the uploaded picture and show it with its answer."""
        for item in change["new"]:
            try:
                image = load_rgb_bytes(item["name"], bytes(item["content"]), self.predictor.decode_size)
            except ImageLoadError as err:
                self.status.value = str(err)
                self.view.value, self.view.layout.display = b"", "none"
                continue
            answers = recognise(self.predictor, [image], self.gallery, k=self.top_k)
            self.status.value = f"{item['name']}: {answers.describe(0)}"
            _show(self.view, prediction_gallery([image], answers.names, answers.probabilities.tolist(), [item["name"]],
                                                ncols=1))
            self.view.layout.display = None

    def on_enrol(self, _button: object = None) -> None:
        """Enrol the uploaded pictures under the typed name; unreadable ones are reported by name."""
        images, problems = [], []
        for item in self.pictures.value:
            try:
                images.append(load_rgb_bytes(item["name"], bytes(item["content"]), self.predictor.decode_size))
            except ImageLoadError as err:
                problems.append(str(err))
        try:
            character = enrol_pictures(self.predictor, self.name.value.strip() or "new character", images)
        except AnimesionError as err:
            self.note.value = " ".join([*problems, str(err)])
            return
        self.gallery = with_character(self.gallery, character)
        self.note.value = " ".join([*problems, f"Enrolled {character.names[0]} from {len(images)} pictures; "
                                               f"the gallery has {len(self.gallery)} character(s)."])


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
