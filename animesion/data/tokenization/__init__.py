"""Tag tokenizers for the vision+tags models, chosen by the ``tokenizer`` flag (``tag`` or ``wp``).

    tok = build_tokenizer("tag", load_dataset(name, path, with_tags=True), max_len=16)
    ids = tok.encode(["1girl", "blonde hair"])   # [CLS] 1girl blonde_hair [SEP] [PAD] … (16 ids)
    tok.decode(ids)                              # ["1girl", "blonde hair"]
    batch = tok.encode_batch(tag_lists)          # LongTensor [B, 16]
    tok.vocab_size, tok.pad_id, tok.cls_id, tok.sep_id, tok.mask_id, tok.source

``source`` says which vocabulary is used (for ``wp``: BERT's tokenizer loaded through ``transformers`` from a
folder or the Hugging Face cache, or a vocabulary trained on the dataset's tags when BERT's is not on this
machine).

This module holds the registries only, so a config can list the names without importing torch, the
``tokenizers`` library or ``transformers``; each builder imports its tokenizer when it is called.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import DataError
from ...registry import Registry

if TYPE_CHECKING:
    from ..dataset import DatasetSplits
    from ..vocab import Vocabulary
    from .base import TagTokenizer

Builder = Callable[..., "TagTokenizer"]  # (dataset, max_len, bert) -> tokenizer
TOKENIZERS: Registry[Builder] = Registry("tokenizer")


@TOKENIZERS.register("tag")
def _build_tag(dataset: DatasetSplits, max_len: int, bert: str | Path | None = None) -> TagTokenizer:
    from .tag import WholeTagTokenizer

    return WholeTagTokenizer(dataset.vocab, max_len, source=f"tag vocabulary {dataset.vocab_source}")


@TOKENIZERS.register("wp")
def _build_wordpiece(dataset: DatasetSplits, max_len: int, bert: str | Path | None = None) -> TagTokenizer:
    from ..layouts import LAYOUTS
    from ..readers import labels_dir
    from ..vocab import VOCAB_MIN_COUNT
    from .wordpiece import WordPieceTagTokenizer, load_bert, train_wordpiece_vocab

    tokenizer = load_bert(bert, max_len, dataset.vocab.tags)
    if tokenizer is not None:
        return tokenizer
    folder = labels_dir(dataset.root, LAYOUTS.get(dataset.name))
    vocab_file = train_wordpiece_vocab((r.tags for r in dataset.splits["train"]), folder, min_count=VOCAB_MIN_COUNT)
    source = f"WordPiece vocabulary trained on the train split's tags, BERT's not found ({vocab_file})"
    return WordPieceTagTokenizer.from_pieces(vocab_file, max_len, dataset.vocab.tags, source)


Restorer = Callable[[dict[str, Any], "Vocabulary"], "TagTokenizer"]  # (state, tag vocabulary) -> tokenizer
RESTORERS: Registry[Restorer] = Registry("tokenizer")


@RESTORERS.register("tag")
def _restore_tag(state: dict[str, Any], vocab: Vocabulary) -> TagTokenizer:
    from .tag import WholeTagTokenizer

    return WholeTagTokenizer(vocab, state["max_len"], state["source"])


@RESTORERS.register("wp")
def _restore_wordpiece(state: dict[str, Any], vocab: Vocabulary) -> TagTokenizer:
    from .wordpiece import WordPieceTagTokenizer

    # checkpoints written before "lowercase" was saved all used an uncased vocabulary
    return WordPieceTagTokenizer.from_pieces(state["pieces"], state["max_len"], vocab.tags, state["source"],
                                             state.get("lowercase", True))


def restore_tokenizer(state: dict[str, Any], vocab: Vocabulary) -> TagTokenizer:
    """The tokenizer saved as ``state`` (from :meth:`TagTokenizer.state`) with a checkpoint's tag ``vocab``."""
    return RESTORERS.get(state["name"])(state, vocab)


def build_tokenizer(name: str, dataset: DatasetSplits, max_len: int = 16,
                    bert: str | Path | None = None) -> TagTokenizer:
    """The ``name`` tokenizer (``tag`` or ``wp``) for a dataset read with its tags.

    ``bert`` (``wp``): a local folder of a BERT tokenizer (bert-base-uncased's ``vocab.txt`` and
    ``tokenizer_config.json``) or a model name in the Hugging Face cache, loaded with ``transformers``; when
    None, bert-base-uncased is looked for in the cache, and a vocabulary is trained on the train tags if it
    is not there. Nothing is downloaded.
    """
    builder = TOKENIZERS.get(name)
    if not dataset.tagged:
        raise DataError(f"The {dataset.name} dataset was read without tags; load it with with_tags=True "
                        "(multimodal) to build a tag tokenizer.")
    return builder(dataset, max_len, bert)


__all__ = ["TOKENIZERS", "build_tokenizer", "restore_tokenizer"]
