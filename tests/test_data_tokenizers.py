"""Tag tokenizers: whole-tag ids 0–4 special, WordPiece from BERT's vocabulary or trained offline."""

from __future__ import annotations

import pytest
import torch

from animesion.data.dataset import load_dataset
from animesion.data.tokenization import TOKENIZERS, build_tokenizer
from animesion.data.vocab import CLS_ID, PAD_ID, SEP_ID, UNK_ID
from animesion.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def tagged(tiny_dataset):
    return load_dataset("synthetic", tiny_dataset, with_tags=True)


def test_registry_maps_the_flag_values():
    assert TOKENIZERS.names() == ["tag", "wp"]
    with pytest.raises(ConfigError, match="Unknown tokenizer 'bpe'"):
        TOKENIZERS.get("bpe")


def test_tag_tokenizer_round_trip_padding_and_truncation(tagged):
    tok = build_tokenizer("tag", tagged, max_len=16)
    tags = list(tagged.splits["test"][0].tags)
    ids = tok.encode(tags)
    assert len(ids) == 16 and ids[0] == CLS_ID and ids[len(tags) + 1] == SEP_ID
    assert ids[len(tags) + 2 :] == [PAD_ID] * (16 - len(tags) - 2)
    assert tok.decode(ids) == tags and tok.decode(torch.tensor(ids)) == tags
    assert tok.vocab_size == len(tagged.vocab) and (tok.pad_id, tok.mask_id) == (0, 1)
    short = build_tokenizer("tag", tagged, max_len=4).encode(tags)
    assert short == [CLS_ID, tagged.vocab.id(tags[0]), tagged.vocab.id(tags[1]), SEP_ID]
    assert tok.encode(["never seen tag"])[1] == UNK_ID
    assert tok.encode_batch([tags, []]).shape == (2, 16)
    assert "vocab.json" in tok.source


def test_wordpiece_is_trained_offline_cached_and_round_trips(tagged):
    tok = build_tokenizer("wp", tagged, max_len=24)
    assert "trained on the train split" in tok.source
    assert tok.vocab_file.is_file() and tok.vocab_file.parent == tagged.root / "labels"
    again = build_tokenizer("wp", tagged, max_len=24)
    assert again.vocab_file == tok.vocab_file  # the cached vocabulary is reused
    for record in tagged.splits["test"][:10]:
        ids = tok.encode(record.tags)
        assert len(ids) == 24 and ids[0] == tok.cls_id and tok.sep_id in ids
        assert tok.decode(ids) == [t for t in record.tags if t in tagged.vocab]
    assert (tok.pad_id, tok.cls_id, tok.sep_id, tok.mask_id) == (0, 2, 3, 1)


def test_wordpiece_uses_a_local_bert_vocabulary(tagged, tmp_path):
    # bert-base-uncased's layout: [PAD] 0, [unused0..98] 1–99, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103
    words = ["[PAD]", *(f"[unused{i}]" for i in range(99)), "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words += ["1", "##girl", "blonde", "hair", "blue", "eyes", "smile"]
    (tmp_path / "vocab.txt").write_text("\n".join(words) + "\n")
    tok = build_tokenizer("wp", tagged, max_len=8, bert_vocab=tmp_path)
    assert "BERT uncased" in tok.source and tok.vocab_size == len(words)
    ids = tok.encode(["1girl", "Blonde hair"])
    assert ids[:6] == [101, 104, 105, 106, 107, 102] and (tok.pad_id, tok.mask_id) == (0, 1)
    with pytest.raises(DataError, match="does not exist"):
        build_tokenizer("wp", tagged, max_len=8, bert_vocab=tmp_path / "missing.txt")


def test_a_dataset_without_tags_is_refused(tiny_dataset):
    untagged = load_dataset("synthetic", tiny_dataset, with_tags=False)
    with pytest.raises(DataError, match="with_tags=True"):
        build_tokenizer("tag", untagged)
