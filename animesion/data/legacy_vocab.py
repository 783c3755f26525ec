"""Reading the original Animesion ``vocab.pkl`` without trusting it.

The original pickled an instance of its ``Vocabulary`` class (``word2idx``, ``idx2word``, ``idx``), from
whatever module its script ran as (``__main__``, ``data.datasets``, ...). A pickle can run any code when
loaded, so :class:`RestrictedUnpickler` resolves only two kinds of names: a class called ``Vocabulary``
(mapped to an inert stand-in whatever its module) and the plain container types. Anything else, such as
``os.system`` smuggled in through ``__reduce__``, is refused before it is called.
"""

from __future__ import annotations

import builtins
import io
import pickle
from pathlib import Path
from typing import Any

from ..errors import DataError
from .vocab import SPECIAL_TOKENS, Vocabulary

SAFE_BUILTINS = frozenset({"dict", "list", "tuple", "set", "frozenset"})


class LegacyVocabularyState:
    """Inert stand-in for the original ``Vocabulary`` class: it only receives the pickled attributes."""

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise pickle.UnpicklingError(f"the Vocabulary state is a {type(state).__name__}, not a dict")
        self.__dict__["state"] = state


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only ``*.Vocabulary`` and the builtin containers."""

    def find_class(self, module: str, name: str) -> Any:
        if name == "Vocabulary":
            return LegacyVocabularyState
        if module in ("builtins", "__builtin__") and name in SAFE_BUILTINS:
            return getattr(builtins, name)
        raise pickle.UnpicklingError(f"the pickle asks for '{module}.{name}', which is not allowed")


def _idx2word(state: dict) -> list[str]:
    """The words in id order, from the original's ``idx2word`` dict (or a list) checked against ``word2idx``."""
    word2idx, idx2word = state.get("word2idx"), state.get("idx2word")
    if not isinstance(word2idx, dict):
        raise ValueError("it has no 'word2idx' dict")
    if isinstance(idx2word, list):
        idx2word = dict(enumerate(idx2word))
    if not isinstance(idx2word, dict) or sorted(idx2word) != list(range(len(idx2word))):
        raise ValueError("its 'idx2word' is not a mapping of the ids 0..n-1")
    words = [idx2word[i] for i in range(len(idx2word))]
    if not all(isinstance(w, str) for w in words) or any(word2idx.get(w) != i for i, w in enumerate(words)):
        raise ValueError("its 'word2idx' and 'idx2word' disagree")
    return words


def load_legacy_vocab(path: str | Path) -> Vocabulary:
    """Read an original ``vocab.pkl`` into a :class:`Vocabulary`; refuse anything but a plain vocabulary."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Vocabulary file '{path}' does not exist.")
    try:
        obj = RestrictedUnpickler(io.BytesIO(path.read_bytes())).load()
        if not isinstance(obj, LegacyVocabularyState) or "state" not in obj.__dict__:
            raise ValueError(f"it holds a {type(obj).__name__}, not a Vocabulary")
        words = _idx2word(obj.state)
    except Exception as err:  # every way a hostile or broken pickle can fail
        raise DataError(
            f"Refused to load '{path}': {err}; only a pickled Animesion Vocabulary (word2idx, idx2word, idx) "
            "is accepted."
        ) from None
    if tuple(words[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
        raise DataError(f"'{path}' does not start with the special tokens {', '.join(SPECIAL_TOKENS)}.")
    return Vocabulary(words)
