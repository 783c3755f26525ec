"""A split's tag predictions: scores and the decoded table, one row per image."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..data.readers import TAG_COLUMN
from ..data.records import Record
from ..data.tokenization.base import TagTokenizer
from ..data.vocab import Vocabulary
from ..prediction.predictions import Predictions
from .tag_metrics import TAG_METRICS, tag_metrics

TEST_TAGS_FILE = "test_tag_predictions.csv"


@dataclass
class TagResults:
    """``scores``: micro/macro precision, recall, F1. ``table``: dir, class_id, predicted tags (``tags_cat0``)
    and true tags of each image; as CSV (``to_csv``) the tag lists become Python-list strings, as in
    DAF:re's tag files, so ``01_data_exploration`` reads the predictions with ``tags_csv``."""

    scores: dict[str, float]
    table: pd.DataFrame


def tag_results(preds: Predictions, records: Sequence[Record], tokenizer: TagTokenizer,
                vocab: Vocabulary) -> TagResults:
    """Decode ``preds.token_pred`` into tag sets and score them against the tags of ``records`` (aligned with preds).

    Without tag predictions (no readable image in the split) the scores are NaN and the table is empty.
    """
    predicted = tokenizer.predicted_tags(preds.token_pred) if preds.token_pred is not None else []
    true = [list(r.tags) for r in records]
    table = pd.DataFrame({"dir": [r.path for r in records], "class_id": [r.class_id for r in records],
                          TAG_COLUMN: predicted, "true_tags": true})
    scores = tag_metrics(predicted, true, vocab) if predicted else dict.fromkeys(TAG_METRICS, float("nan"))
    return TagResults(scores, table)


__all__ = ["TEST_TAGS_FILE", "TagResults", "tag_results"]
