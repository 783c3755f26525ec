"""Tag metrics: micro and macro precision, recall and F1 of predicted tag sets, checked by hand."""

from __future__ import annotations

import pytest
import torch

from animesion.data.tokenization.tag import WholeTagTokenizer
from animesion.data.vocab import Vocabulary
from animesion.evaluation.tag_metrics import multi_hot, tag_metrics

VOCAB = Vocabulary.build([["a", "b", "c", "d"]] * 2)


def test_scores_by_hand():
    predicted = [["a", "b"], ["c"], [], ["not in vocab"]]
    true = [["a"], ["c", "d"], ["b"], []]
    scores = tag_metrics(predicted, true, VOCAB)
    # tp = 2 (a, c), fp = 1 (b on image 0), fn = 2 (d on image 1, b on image 2)
    assert scores["tag_micro_precision"] == pytest.approx(2 / 3)
    assert scores["tag_micro_recall"] == pytest.approx(2 / 4)
    assert scores["tag_micro_f1"] == pytest.approx(4 / 7)
    # per tag F1: a 1, b 0, c 1, d 0 (never predicted: precision 0)
    assert scores["tag_macro_precision"] == pytest.approx(0.5)
    assert scores["tag_macro_recall"] == pytest.approx(0.5)
    assert scores["tag_macro_f1"] == pytest.approx(0.5)
    perfect = tag_metrics(true, true, VOCAB)
    assert all(v == 1.0 for v in perfect.values())


def test_multi_hot_ignores_unknown_and_repeated_tags():
    matrix = multi_hot([["a", "a", "zzz"], ["d"]], VOCAB)
    assert matrix.shape == (2, len(VOCAB)) and matrix.sum().item() == 2
    assert matrix[0, VOCAB.id("a")] and matrix[1, VOCAB.id("d")]


def test_predicted_tags_read_only_the_masked_prompt_positions():
    tok = WholeTagTokenizer(VOCAB, max_len=6)
    a, b, c = (VOCAB.id(t) for t in "abc")
    # position 0 ([CLS]) and 5 ([SEP]) of the prompt are not predictions; repeats collapse
    pred = torch.tensor([[c, a, b, a, 0, c], [b, b, b, b, b, a]])
    assert tok.predicted_tags(pred) == [["a", "b"], ["b"]]
