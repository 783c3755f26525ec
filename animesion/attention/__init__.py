"""Attention of ViTs: extraction by hooks, rollout, and drawing, as three separate steps."""

from .draw import (
    overlay,
    plot_attention_matrix,
    plot_attention_view,
    plot_heads,
    plot_layer_maps,
    plot_rollout,
    plot_text_share,
)
from .extract import AttentionMaps, attention_modules, extract_attention, unfused_attention, vision_trunk
from .maps import head_maps, layer_maps, layer_text_share, rollout_map, rollout_text_share, to_patch_grid
from .report import (
    AttentionReport,
    attention_report,
    draw_heads,
    draw_layers,
    draw_matrix,
    draw_rollout,
    draw_tag_share,
    find_vit_checkpoint,
    pick_images,
    save_attention_figures,
)
from .rollout import attention_rollout

__all__ = [
    "AttentionMaps", "AttentionReport", "attention_modules", "attention_report", "attention_rollout",
    "draw_heads", "draw_layers", "draw_matrix", "draw_rollout", "draw_tag_share",
    "extract_attention", "find_vit_checkpoint", "head_maps", "layer_maps", "layer_text_share", "overlay",
    "pick_images", "plot_attention_matrix", "plot_attention_view", "plot_heads", "plot_layer_maps", "plot_rollout",
    "plot_text_share", "rollout_map", "rollout_text_share", "save_attention_figures", "to_patch_grid",
    "unfused_attention", "vision_trunk",
]
