"""Widget builders run headless: they build, draw their first view, and redraw when a control changes."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import ipywidgets as widgets
import pytest
from PIL import Image

import animesion.widgets as browsers
from animesion.attention import attention_report
from animesion.config.attention import AttentionConfig
from animesion.config.evaluate import EvaluateConfig
from animesion.data.dataset import load_dataset
from animesion.errors import ImageLoadError
from animesion.evaluation.report import evaluate_checkpoint
from animesion.models.checkpoint import load_checkpoint
from animesion.prediction.predictor import Predictor


@pytest.fixture
def shown(monkeypatch):
    """Figures the widgets draw, as (suptitle, axes titles), instead of rendering them."""
    drawn = []

    def record(out, fig):
        drawn.append((fig._suptitle.get_text() if fig._suptitle else "", [ax.get_title() for ax in fig.axes]))
        browsers.plt.close(fig)

    monkeypatch.setattr(browsers, "_show", record)
    return drawn


def test_class_browser_shows_the_chosen_character(tiny_dataset, shown):
    data = load_dataset("synthetic", tiny_dataset, progress=False)
    browser = browsers.class_browser(data, max_images=4)
    choice = browser.children[0]
    assert isinstance(choice, widgets.Dropdown) and list(choice.options) == sorted(data.class_names)
    assert len(shown) == 1
    choice.value = choice.options[-1]
    assert shown[-1][0].startswith(f"{choice.options[-1]}: ")


def test_misclassification_browser_steps_through_mistakes(tiny_run, shown):
    report = evaluate_checkpoint(EvaluateConfig(checkpoint_path=str(tiny_run.best_checkpoint)), progress=False)
    wrong = int((~report.predictions.correct1).sum())
    browser = browsers.misclassification_browser(report)
    if wrong == 0:
        assert isinstance(browser, widgets.HTML)
        return
    slider = browser.children[0]
    assert slider.max == wrong - 1
    slider.value = slider.max
    assert shown[-1][0].startswith(f"{wrong} of {wrong}: ")


def png_bytes(path) -> bytes:
    buffer = io.BytesIO()
    Image.open(path).save(buffer, format="PNG")
    return buffer.getvalue()


def test_upload_classifier_lists_the_top5(tiny_run, tiny_dataset, shown):
    ckpt = Predictor.from_checkpoint(load_checkpoint(tiny_run.best_checkpoint))
    picture = next((tiny_dataset / "faces").rglob("*.*"))
    image, table = browsers.classify_upload(ckpt, "mine.png", png_bytes(picture))
    assert image.mode == "RGB"
    assert list(table["rank"]) == [1, 2, 3, 4, 5]
    assert set(table["character"]) <= set(ckpt.class_names)
    assert list(table["confidence"]) == sorted(table["confidence"], reverse=True)
    with pytest.raises(ImageLoadError, match="notes.png"):
        browsers.classify_upload(ckpt, "notes.png", b"not an image")

    browser = browsers.upload_classifier(ckpt)
    upload, status = browser.children[0].children
    upload.value = ({"name": "mine.png", "type": "image/png", "size": 1, "last_modified": datetime.now(UTC),
                     "content": memoryview(png_bytes(picture))},)
    assert len(shown) == 1 and status.value == "mine.png"
    upload.value = ({"name": "notes.png", "type": "image/png", "size": 1, "last_modified": datetime.now(UTC),
                     "content": memoryview(b"not an image")},)
    assert len(shown) == 1 and "notes.png" in status.value


def test_attention_browser_redraws_for_layer_and_head(tiny_vit_run, shown, tmp_path):
    config = AttentionConfig(checkpoint_path=str(tiny_vit_run.best_checkpoint), max_images=2, results_dir=str(tmp_path))
    report = attention_report(config, progress=False)
    browser = browsers.attention_browser(report)
    image, layer, head = browser.children[0].children
    assert (image.max, layer.max, head.max) == (1, 11, 2)  # 2 images, Ti_16: 12 layers × 3 heads
    assert shown[-1][1][0] == "layer 12, head 1"
    layer.value, head.value, image.value = 1, 2, 1
    assert shown[-1][1][0] == "layer 2, head 3"
    assert shown[-1][0].startswith(report.labels[1])


def test_views_are_png_images(tiny_dataset):
    data = load_dataset("synthetic", tiny_dataset, progress=False)
    view = browsers.class_browser(data, max_images=2).children[1]
    assert isinstance(view, widgets.Image) and view.value[:8] == b"\x89PNG\r\n\x1a\n"
