"""``attention_report(config)``: everything ``06_attention_viz`` shows, computed in one call."""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from PIL import Image
from torch import Tensor

from ..config.attention import QUICKSTART_VIT, AttentionConfig
from ..config.train import TrainConfig
from ..data.dataset import load_dataset
from ..data.images import load_rgb
from ..data.transforms import decode_size
from ..errors import CheckpointError, ConfigError, DataError, ImageLoadError
from ..models.checkpoint import Checkpoint, load_checkpoint, read_spec
from ..paths import resolve_path
from ..plots.save import save_figure
from ..prediction.files import list_files
from ..prediction.predictor import Predictor
from ..prediction.recognise import answer
from ..runs import find_checkpoint
from ..training.trainer import train
from ..utils.progress import progress_bar
from .draw import plot_attention_matrix, plot_heads, plot_layer_maps, plot_rollout, plot_text_share
from .extract import AttentionMaps, extract_attention
from .maps import head_maps, layer_maps, layer_text_share, rollout_map, rollout_text_share
from .rollout import attention_rollout

log = logging.getLogger(__name__)


@dataclass
class AttentionReport:
    """A checkpoint's attention on a few images.

    ``images``: the pictures as loaded (for display); ``labels``: the true character (dataset images) or
    the file name; ``rollout`` [B, T, T]; ``top_names``/``top_probs``: top-5 per image; ``layer``: the
    layer whose heads are drawn (resolved from ``config.layer``); ``problems``: files that were skipped.
    """

    checkpoint: Checkpoint
    predictor: Predictor
    images: list[Image.Image]
    labels: list[str]
    maps: AttentionMaps
    rollout: Tensor
    top_names: list[list[str]]
    top_probs: list[list[float]]
    layer: int
    head: int
    out_dir: Path
    problems: list[str] = field(default_factory=list)

    @property
    def has_text(self) -> bool:
        """True when the model appends (tag) tokens after the image tokens."""
        return self.maps.num_text_tokens > 0

    def describe(self) -> str:
        """One line: the model, where it came from, and its token layout."""
        m = self.maps
        return (f"{self.checkpoint.spec.model_name} from {self.checkpoint.path}: {m.num_layers} layers × "
                f"{m.num_heads} heads, {m.grid_size[0]}×{m.grid_size[1]} patches, {m.num_text_tokens} tag tokens")

    def table(self) -> pd.DataFrame:
        """One row per image: label, top-1 with confidence, and (multimodal) the rollout's share from tags."""
        rows = pd.DataFrame({"image": self.labels, "top1": [n[0] for n in self.top_names],
                             "top1_prob": [p[0] for p in self.top_probs]})
        share = rollout_text_share(self.rollout, self.maps)
        if share is not None:
            rows["rollout_tag_share"] = share.tolist()
        return rows


def is_vit_checkpoint(path: Path) -> bool:
    """True when the checkpoint at ``path`` is one of the workbook's ViTs (read from its metadata only)."""
    try:
        return read_spec(path).is_vit
    except (CheckpointError, ConfigError):
        return False


def find_vit_checkpoint(config: AttentionConfig, progress: bool = True) -> Path:
    """``checkpoint_path``, else the newest ViT run's best checkpoint; with none, the quickstart ViT is trained
    first when ``train_quickstart`` is set."""
    if config.checkpoint_path:
        return find_checkpoint(config.checkpoint_path, config.results_dir)
    try:
        return find_checkpoint("", config.results_dir, accept=is_vit_checkpoint)
    except CheckpointError:
        if not config.train_quickstart:
            raise CheckpointError(f"No ViT run under '{resolve_path(config.results_dir)}'; train one with 03_train "
                                  f"(-f {QUICKSTART_VIT}) or set checkpoint_path.") from None
    quick = TrainConfig.from_yaml(resolve_path(QUICKSTART_VIT), results_dir=config.results_dir)
    log.warning("No ViT run under '%s': training the quickstart ViT (%s) first.", config.results_dir, QUICKSTART_VIT)
    return train(quick, progress=progress).best_checkpoint


def pick_images(config: AttentionConfig, ckpt: Checkpoint) -> tuple[list[Image.Image], list[str], list[str]]:
    """Up to ``max_images`` readable pictures with labels, from ``test_path`` or sampled from the dataset split.

    Returns (images, labels, problems); an unreadable file is a problem named by file, not an error.
    """
    images, labels, problems = [], [], []
    if config.test_path:
        candidates = [(path, path.name) for path in list_files(resolve_path(config.test_path))]
    else:
        data = load_dataset(ckpt.dataset_name, ckpt.dataset_path, seed=ckpt.seed, progress=False)
        records = data.splits[config.split]
        chosen = random.Random(config.seed).sample(records, min(config.max_images, len(records)))
        candidates = [(data.image_root / r.path, ckpt.class_names[r.class_id]) for r in chosen]
    for path, label in candidates:
        if len(images) == config.max_images:
            break
        try:
            images.append(load_rgb(path, draft_size=decode_size(ckpt.spec.image_size)))  # as a Predictor decodes
        except ImageLoadError as err:
            problems.append(str(err))
            continue
        labels.append(label)
    if not images:
        where = config.test_path or f"the {config.split} split of {ckpt.dataset_path}"
        raise DataError(f"No readable image in {where}; point test_path at a folder of pictures.")
    return images, labels, problems


def _check_index(name: str, value: int, size: int) -> int:
    if not -size <= value < size:
        raise ConfigError(f"AttentionConfig: {name}={value} is out of range; the model has {size} {name}s.")
    return value % size


def attention_report(config: AttentionConfig, progress: bool = True) -> AttentionReport:
    """Load the ViT checkpoint, pick the images, extract every block's attention and roll it out."""
    ckpt = load_checkpoint(find_vit_checkpoint(config, progress))
    predictor = Predictor.from_checkpoint(ckpt)
    images, labels, problems = pick_images(config, ckpt)
    for problem in problems:
        log.warning("skipped: %s", problem)
    batch = predictor.to_batch(images)
    maps = extract_attention(predictor.model, batch)
    layer = _check_index("layer", config.layer, maps.num_layers)
    head = _check_index("head", config.head, maps.num_heads)
    answers = answer(predictor, batch, maps.output, k=5)  # the answers 05 gives these pictures
    out_dir = resolve_path(config.results_dir) / "attention" / ckpt.path.parent.name
    return AttentionReport(ckpt, predictor, images, labels, maps, attention_rollout(maps.attentions), answers.names,
                           answers.probabilities.tolist(), layer, head, out_dir, problems)


def _slug(index: int, label: str) -> str:
    return f"{index:02d}_" + re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(label).stem)[:40]


def draw_layers(report: AttentionReport, b: int) -> Figure:
    """Image ``b``: the class token's attention to the patches at every layer (and to tags, when present)."""
    shares = layer_text_share(report.maps)
    return plot_layer_maps(report.images[b], layer_maps(report.maps)[:, b],
                           None if shares is None else shares[:, b].tolist(), title=report.labels[b])


def draw_rollout(report: AttentionReport, b: int) -> Figure:
    """Image ``b``: its attention rollout next to its top-5 predictions."""
    share = rollout_text_share(report.rollout, report.maps)
    return plot_rollout(report.images[b], rollout_map(report.rollout, report.maps)[b], report.top_names[b],
                        report.top_probs[b], report.labels[b], None if share is None else float(share[b]))


def draw_heads(report: AttentionReport, b: int) -> Figure:
    """Image ``b``: every head of the chosen layer."""
    return plot_heads(report.images[b], head_maps(report.maps, report.layer)[b], report.layer, title=report.labels[b])


def draw_matrix(report: AttentionReport, b: int) -> Figure:
    """Image ``b``: the chosen head's raw token-to-token attention at the chosen layer."""
    m = report.maps
    return plot_attention_matrix(m.attentions[report.layer, b, report.head], m.num_prefix_tokens, m.num_image_tokens,
                                 f"{report.labels[b]}: layer {report.layer + 1}, head {report.head + 1}")


def draw_tag_share(report: AttentionReport) -> Figure | None:
    """Share of the class token's attention going to tag tokens per layer, every image; None without tags."""
    shares = layer_text_share(report.maps)
    return None if shares is None else plot_text_share(shares, report.labels)


FIGURES = {"layers": draw_layers, "rollout": draw_rollout, "heads": draw_heads, "matrix": draw_matrix}


def save_attention_figures(report: AttentionReport, progress: bool = True) -> Path:
    """Draw and save every figure of every image under ``report.out_dir``; return the folder.

    Per image: ``*_layers.png`` (class token → patches at every layer), ``*_rollout.png`` (with the top-5),
    ``*_heads.png`` (every head of the chosen layer) and ``*_matrix.png`` (the chosen head, all tokens);
    for multimodal models also ``tag_share.png``; and ``attention.csv``.
    """
    report.out_dir.mkdir(parents=True, exist_ok=True)
    for b, label in enumerate(progress_bar(report.labels, desc="saving figures", disable=not progress)):
        for kind, draw in FIGURES.items():
            fig = draw(report, b)
            save_figure(fig, report.out_dir, f"{_slug(b, label)}_{kind}.png")
            plt.close(fig)
    fig = draw_tag_share(report)
    if fig is not None:
        save_figure(fig, report.out_dir, "tag_share.png")
        plt.close(fig)
    report.table().to_csv(report.out_dir / "attention.csv", index=False)
    return report.out_dir
