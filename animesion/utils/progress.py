"""Progress bars: ``tqdm.auto`` with a redraw interval that suits notebooks.

In a notebook every redraw of a bar is a widget message to the front end; one redraw a second keeps a
long run to a few messages per epoch (headless runners such as nbval buffer them and drop the excess).
"""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm

REDRAW_SECONDS = 1.0


def progress_bar(*args: Any, **kwargs: Any) -> tqdm:
    """``tqdm.auto.tqdm`` redrawing at most once a second unless ``mininterval`` says otherwise."""
    kwargs.setdefault("mininterval", REDRAW_SECONDS)
    return tqdm(*args, **kwargs)
