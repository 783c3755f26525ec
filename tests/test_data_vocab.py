"""Vocabularies: our JSON files, and the original vocab.pkl read without running anything it holds."""

from __future__ import annotations

import os
import pickle
import sys
import types

import pytest

from animesion.data.legacy_vocab import load_legacy_vocab
from animesion.data.vocab import SPECIAL_TOKENS, Vocabulary
from animesion.errors import DataError

WORDS = [*SPECIAL_TOKENS, "1girl", "blonde hair", "smile"]


class Vocabulary_:  # renamed to "Vocabulary" below, as the original's class was called
    """The original's class (pytorch-tutorial style): word2idx, idx2word as a dict, idx."""

    def __init__(self) -> None:
        self.word2idx, self.idx2word, self.idx = {}, {}, 0

    def add_word(self, word: str) -> None:
        if word not in self.word2idx:
            self.word2idx[word], self.idx2word[self.idx] = self.idx, word
            self.idx += 1


def _legacy_pickle(module: str, protocol: int, monkeypatch, words: list[str] = WORDS, **state) -> bytes:
    """Pickle an original-style vocabulary whose class lives in ``module`` (e.g. ``__main__``); ``state``
    overrides its attributes."""
    cls = type("Vocabulary", (Vocabulary_,), {"__module__": module})
    fake = types.ModuleType(module)
    fake.Vocabulary = cls
    monkeypatch.setitem(sys.modules, module, fake)
    parts = module.split(".")
    for i in range(1, len(parts)):  # pickle imports the parents too (e.g. 'data' for 'data.datasets')
        parent = ".".join(parts[:i])
        monkeypatch.setitem(sys.modules, parent, sys.modules.get(parent) or types.ModuleType(parent))
    vocab = cls()
    for word in words:
        vocab.add_word(word)
    vocab.__dict__.update(state)
    return pickle.dumps(vocab, protocol=protocol)


@pytest.mark.parametrize("module", ["__main__", "data.datasets", "build_vocab"])
@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_legacy_vocab_round_trips(tmp_path, monkeypatch, module, protocol):
    path = tmp_path / "vocab.pkl"
    path.write_bytes(_legacy_pickle(module, protocol, monkeypatch))
    vocab = load_legacy_vocab(path)
    assert isinstance(vocab, Vocabulary)
    assert vocab.idx2word == WORDS and vocab.id("blonde hair") == 6 and vocab.id("unseen") == 4
    vocab.to_json(tmp_path / "vocab.json")  # and it is kept as JSON from then on
    assert Vocabulary.from_json(tmp_path / "vocab.json").idx2word == WORDS


class _Exploit:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "vocab.pkl"
    path.write_bytes(pickle.dumps(_Exploit(str(marker))))
    with pytest.raises(DataError, match=r"Refused to load .*vocab.pkl.*system.*not allowed"):
        load_legacy_vocab(path)
    assert not marker.exists()


@pytest.mark.parametrize("payload, reason", [
    ({"word2idx": {}, "idx2word": {}}, "holds a dict, not a Vocabulary"),
    (["[PAD]"], "holds a list"),
])
def test_other_objects_are_refused(tmp_path, payload, reason):
    path = tmp_path / "vocab.pkl"
    path.write_bytes(pickle.dumps(payload))
    with pytest.raises(DataError, match=reason):
        load_legacy_vocab(path)


@pytest.mark.parametrize("words, state, reason", [
    (WORDS, {"idx2word": {0: "[PAD]", 1: "smile"}}, "disagree"),
    (WORDS, {"idx2word": {0: "[PAD]", 5: "smile"}}, "not a mapping of the ids"),
    (WORDS, {"word2idx": None}, "no 'word2idx' dict"),
    (["1girl", "smile"], {}, "does not start with the special tokens"),
])
def test_inconsistent_or_unusual_vocabularies_are_refused(tmp_path, monkeypatch, words, state, reason):
    path = tmp_path / "vocab.pkl"
    path.write_bytes(_legacy_pickle("__main__", 4, monkeypatch, words, **state))
    with pytest.raises(DataError, match=reason):
        load_legacy_vocab(path)


def test_garbage_is_refused(tmp_path):
    path = tmp_path / "vocab.pkl"
    path.write_bytes(b"garbage")
    with pytest.raises(DataError, match="Refused to load"):
        load_legacy_vocab(path)


def test_vocabulary_build_counts_train_tags():
    vocab = Vocabulary.build([["a", "b"], ["a", "c"], ["a", "b"]], min_count=2)
    assert vocab.tags == ["a", "b"]  # "c" is seen once, below the original's threshold of 2
