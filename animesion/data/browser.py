"""Looking at one character at a time: a gallery figure, and an ipywidgets browser around it."""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib.figure import Figure

from ..errors import DataError
from ..plots.images import image_grid
from .dataset import DatasetSplits
from .images import load_thumbnails

SPLITS = ("train", "val", "test")


def class_gallery(data: DatasetSplits, class_name: str, max_images: int = 16, size: int = 128) -> Figure:
    """The first ``max_images`` images of one character (over all splits), titled with their file names."""
    if class_name not in data.class_names:
        raise DataError(f"'{class_name}' is not a class of the {data.name} dataset.")
    class_id = data.class_names.index(class_name)
    records = [r for split in SPLITS for r in data.splits.get(split, []) if r.class_id == class_id]
    shown = records[:max_images]
    images, kept, _ = load_thumbnails([data.image_root / r.path for r in shown], size)
    fig = image_grid(images, [Path(shown[i].path).name for i in kept], ncols=8, size=1.5, fontsize=6)
    fig.suptitle(f"{class_name}: {len(records)} images", y=1.02)
    return fig


def class_browser(data: DatasetSplits, max_images: int = 16, initial: str | None = None):  # noqa: ANN201
    """A dropdown of the characters (by name) above the gallery of the chosen one, as an ipywidgets VBox.

    The gallery is drawn to PNG into an ``Image`` widget (not captured by an ``Output`` widget), so the
    browser also builds headless under papermill and nbval, where nobody picks; the notebook shows the same
    gallery as a plain figure next to it.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    names = sorted(data.class_names)
    picker = widgets.Dropdown(options=names, value=initial if initial in names else names[0],
                              description="character")
    picture = widgets.Image(format="png")

    def show(_change: object = None) -> None:
        fig = class_gallery(data, picker.value, max_images)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
        plt.close(fig)  # shown in the widget only
        picture.value = buffer.getvalue()

    picker.observe(show, names="value")
    show()
    return widgets.VBox([picker, picture])
