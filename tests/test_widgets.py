"""Widget builders run headless: they build, draw their first view, and redraw when a control changes."""

from __future__ import annotations

import dataclasses
import html
import io
import tempfile
from datetime import UTC, datetime

import ipywidgets as widgets
import pytest
from PIL import Image

import animesion.widgets as browsers
from animesion.attention import attention_report
from animesion.config.attention import AttentionConfig
from animesion.config.evaluate import EvaluateConfig
from animesion.data.dataset import load_dataset
from animesion.data.images import load_rgb_bytes
from animesion.errors import ImageLoadError
from animesion.evaluation.report import evaluate_checkpoint, misclassified
from animesion.models.checkpoint import load_checkpoint
from animesion.plots.images import prediction_gallery
from animesion.prediction.predictor import Predictor
from animesion.prediction.recognise import recognise

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def shown(monkeypatch):
    """Figures the widgets draw, as (suptitle, axes titles, texts), instead of rendering them."""
    drawn = []

    def record(out, fig):
        drawn.append((fig._suptitle.get_text() if fig._suptitle else "", [ax.get_title() for ax in fig.axes],
                      [text.get_text() for ax in fig.axes for text in ax.texts]))
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


def test_misclassification_browser_counts_from_1_and_labels_the_true_class(tiny_run, shown):
    report = evaluate_checkpoint(EvaluateConfig(checkpoint_path=str(tiny_run.best_checkpoint)), progress=False)
    preds, names = report.predictions, report.checkpoint.class_names
    wrong = (~preds.correct1).nonzero().flatten().tolist()
    browser = browsers.misclassification_browser(report)
    if not wrong:
        assert isinstance(browser, widgets.HTML)
        return
    slider = browser.children[0]
    assert (slider.min, slider.value, slider.max) == (1, 1, len(wrong))
    assert shown[-1][0].startswith(f"1 of {len(wrong)}: ")
    assert shown[-1][2][0] == f"true: {names[int(preds.labels[wrong[0]])]}"
    slider.value = slider.max
    assert shown[-1][0].startswith(f"{len(wrong)} of {len(wrong)}: ")
    assert shown[-1][2][0] == f"true: {names[int(preds.labels[wrong[-1]])]}"
    top = [names[j] for j in preds.topk_idx[wrong[-1]].tolist()]
    assert [line.split("%  ")[1] for line in shown[-1][2][1].splitlines()] == top
    # the saved gallery of mistakes (report_figures) and the notebook's say "true:" too
    assert misclassified(report, 2)["captions"] == [f"true: {names[int(preds.labels[i])]}" for i in wrong[:2]]


def test_gallery_text_is_large_stacked_and_kept_beside_its_picture():
    images = [Image.new("RGB", (48, 48), (200, 80, 80))] * 3
    long_name = "kinomoto_sakura_(cardcaptor_sakura)"
    top = [["aoi", long_name, "rin"]] * 3
    captions = ["true: aoi", "two.png\n1girl, smile\nblue eyes", "true: rin"]
    fig = prediction_gallery(images, top, [[0.5, 0.3, 0.2]] * 3, captions)
    assert fig.get_size_inches()[0] <= 12  # two pictures a row: a notebook shows it at full size
    fig.canvas.draw()
    texts = [ax.texts for ax in fig.axes if ax.texts]
    assert len(texts) == 3
    for (caption, lines), expected in zip(texts, captions):
        assert caption.get_text() == expected and caption.get_fontweight() == "bold"
        assert min(caption.get_fontsize(), lines.get_fontsize()) >= 11
        assert lines.get_text().splitlines() == [" 50.0%  aoi", " 30.0%  kinomoto_sakura_(cardca…", " 20.0%  rin"]
        # the predictions start under the caption, however many lines the caption has
        assert lines.get_window_extent().y1 <= caption.get_window_extent().y0
    browsers.plt.close(fig)


def png_bytes(path) -> bytes:
    buffer = io.BytesIO()
    Image.open(path).save(buffer, format="PNG")
    return buffer.getvalue()


def uploaded(name: str, content: bytes) -> tuple[dict, ...]:
    """A FileUpload value: one file."""
    return ({"name": name, "type": "", "size": len(content), "last_modified": datetime.now(UTC),
             "content": memoryview(content)},)


def test_upload_classifier_answers_like_the_tables_and_takes_the_same_picture_twice(tiny_run, tiny_dataset):
    ckpt = Predictor.from_checkpoint(load_checkpoint(tiny_run.best_checkpoint))
    picture = next((tiny_dataset / "faces").rglob("*.*"))
    with pytest.raises(ImageLoadError, match=r"^notes\.png: not a readable image") as refused:
        load_rgb_bytes("notes.png", b"not an image")
    assert tempfile.gettempdir() not in str(refused.value)  # the upload's own name, not our temporary copy

    ui = browsers.UploadClassifier(ckpt)
    assert ui.view.layout.display == "none" and ui.view.value == b""  # no broken-image icon before an upload
    assert f"knows {len(ckpt.class_names)} characters" in ui.status.value and ckpt.spec.model_name in ui.status.value
    assert ui.view.layout.align_self == "flex-start"  # drawn at its own size, not stretched to the box
    descriptions = [w.description for w in (ui.upload, ui.name, ui.pictures, ui.button)]
    assert len(set(d.lower() for d in descriptions)) == 4, descriptions  # no label twice
    ui.upload.value = uploaded("mine.png", png_bytes(picture))
    assert "mine.png: " in ui.status.value and bytes(ui.view.value[:8]) == PNG and ui.view.layout.display != "none"
    # the answer the tables give for the same picture: the widget calls the same recognise()
    expected = recognise(ckpt, [load_rgb_bytes("mine.png", png_bytes(picture))])
    assert f"mine.png: {expected.describe(0)}" in ui.status.value and "(confidence " in ui.status.value
    assert ui.upload.value == ()  # taken and cleared, so the same picture can come again
    ui.upload.value = uploaded("mine.txt", b"not an image")
    assert "mine.txt: not a readable image" in ui.status.value and tempfile.gettempdir() not in ui.status.value
    assert ui.view.value == b"" and ui.view.layout.display == "none"  # the previous prediction is gone
    ui.upload.value = uploaded("mine.png", png_bytes(picture))  # the same picture again: answered again
    assert f"mine.png: {expected.describe(0)}" in ui.status.value and ui.view.layout.display != "none"

    # Enrol the picture's own character under a new name from three pictures and a broken one: it is named.
    three = sorted(picture.parent.iterdir())[:3]
    ui.name.value = "newcomer"
    ui.pictures.value = tuple(uploaded(p.name, png_bytes(p))[0] for p in three) + uploaded("broken.png", b"x")
    ui.button.click()
    assert "Enrolled newcomer from 3 pictures" in ui.note.value and "broken.png: not a readable image" in ui.note.value
    ui.upload.value = uploaded("same.png", png_bytes(three[0]))
    assert "same.png: newcomer (confidence " in ui.status.value
    ui.pictures.value = uploaded(three[0].name, png_bytes(three[0]))
    ui.button.click()
    assert "enrolling needs 2 or more" in ui.note.value
    # A name the model was trained on is enrolled, with a warning.
    ui.name.value = ckpt.class_names[0]
    ui.pictures.value = tuple(uploaded(p.name, png_bytes(p))[0] for p in three)
    ui.button.click()
    assert f"Enrolled {ckpt.class_names[0]}" in ui.note.value and "also a character the model was trained on" \
        in ui.note.value


def test_upload_classifier_unknown_long_errors_and_truncated_pictures(tiny_run, tiny_dataset, shown):
    ckpt = Predictor.from_checkpoint(load_checkpoint(tiny_run.best_checkpoint))
    ckpt.open_set = dataclasses.replace(ckpt.open_set, threshold=1.5)  # no cosine reaches it: every answer unknown
    picture = next((tiny_dataset / "faces").rglob("*.*"))
    ui = browsers.UploadClassifier(ckpt)
    ui.upload.value = uploaded("far.png", png_bytes(picture))
    answer = recognise(ckpt, [load_rgb_bytes("far.png", png_bytes(picture))])
    assert "far.png: unknown (confidence " in ui.status.value
    assert f"best match {answer.best_match[0]}" in ui.status.value
    drawn = " ".join(shown[-1][2])
    assert "unknown (confidence" in drawn and "%  unknown" not in drawn  # no probability printed beside unknown

    long_name = "a-picture-with-a-very-long-name-" * 6 + ".png"
    ui.upload.value = uploaded(long_name, b"not an image")
    assert html.escape(long_name) in ui.status.value and "…" not in ui.status.value
    assert isinstance(ui.status, widgets.HTML)  # HTML wraps; a Label cuts the line with "…"

    jpeg = io.BytesIO()
    Image.open(picture).convert("RGB").save(jpeg, format="JPEG")
    cut = jpeg.getvalue()[: len(jpeg.getvalue()) * 3 // 4]
    ui.upload.value = uploaded("cut.jpg", cut)
    assert "cut.jpg: unknown (confidence" in ui.status.value and "truncated" in ui.status.value
    ui.upload.value = uploaded("whole.jpg", jpeg.getvalue())
    assert "truncated" not in ui.status.value


def test_attention_browser_sliders_count_from_1_like_the_titles(tiny_vit_run, shown, tmp_path):
    config = AttentionConfig(checkpoint_path=str(tiny_vit_run.best_checkpoint), max_images=2, results_dir=str(tmp_path))
    report = attention_report(config, progress=False)
    browser = browsers.attention_browser(report)
    image, layer, head = browser.children[0].children
    assert (image.min, layer.min, head.min) == (1, 1, 1)
    assert (image.max, layer.max, head.max) == (2, 12, 3)  # 2 images, Ti_16: 12 layers × 3 heads
    assert (image.value, layer.value, head.value) == (1, 12, 1) and shown[-1][1][0] == "layer 12, head 1"
    assert shown[-1][0].startswith(report.labels[0])
    layer.value, head.value, image.value = 2, 3, 2
    assert shown[-1][1][0] == "layer 2, head 3"
    assert shown[-1][0].startswith(report.labels[1])


def test_views_are_png_images(tiny_dataset):
    data = load_dataset("synthetic", tiny_dataset, progress=False)
    view = browsers.class_browser(data, max_images=2).children[1]
    assert isinstance(view, widgets.Image) and bytes(view.value[:8]) == PNG and view.layout.display is None
