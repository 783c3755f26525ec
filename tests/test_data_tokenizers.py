"""Tag tokenizers: whole-tag ids 0–4 special, WordPiece from BERT (through transformers) or trained offline."""

from __future__ import annotations

import json
import socket

import pytest
import torch
import transformers

from animesion.data.dataset import load_dataset
from animesion.data.tokenization import TOKENIZERS, build_tokenizer, restore_tokenizer
from animesion.data.tokenization.wordpiece import BERT_REPOS
from animesion.data.vocab import CLS_ID, PAD_ID, SEP_ID, UNK_ID
from animesion.errors import ConfigError, DataError

# bert-base-uncased's layout: [PAD] 0, [unused0..98] 1–99, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103
BERT_WORDS = ["[PAD]", *(f"[unused{i}]" for i in range(99)), "[UNK]", "[CLS]", "[SEP]", "[MASK]",
              "1", "##girl", "blonde", "hair", "blue", "eyes", "smile"]


@pytest.fixture(scope="module")
def tagged(tiny_dataset):
    return load_dataset("synthetic", tiny_dataset, with_tags=True)


@pytest.fixture
def auto_tokenizer_calls(monkeypatch):
    """The names AutoTokenizer is asked for, each checked to stay on disk; the network refuses every connection."""
    calls = []
    real = transformers.AutoTokenizer.from_pretrained

    def spy(name, *args, **kwargs):
        assert kwargs.get("local_files_only") is True
        calls.append(str(name))
        return real(name, *args, **kwargs)

    def no_network(*args, **kwargs):
        raise AssertionError("the network was used")

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", spy)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    return calls


def bert_folder(folder, tokenizer_config=None):
    """A tiny BERT tokenizer folder: vocab.txt, and tokenizer_config.json when given."""
    folder.mkdir()
    (folder / "vocab.txt").write_text("\n".join(BERT_WORDS) + "\n")
    if tokenizer_config is not None:
        (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    return folder


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


def test_wordpiece_is_trained_offline_cached_and_round_trips(tagged, auto_tokenizer_calls):
    tok = build_tokenizer("wp", tagged, max_len=24)
    assert auto_tokenizer_calls == list(BERT_REPOS)  # BERT was looked for in the cache first, on disk only
    assert "trained on the train split" in tok.source
    cached = list((tagged.root / "labels").glob("wordpiece-*-vocab.txt"))
    assert len(cached) == 1 and str(cached[0]) in tok.source
    again = build_tokenizer("wp", tagged, max_len=24)
    assert again.source == tok.source and list((tagged.root / "labels").glob("wordpiece-*")) == cached  # reused
    for record in tagged.splits["test"][:10]:
        ids = tok.encode(record.tags)
        assert len(ids) == 24 and ids[0] == tok.cls_id and tok.sep_id in ids
        assert tok.decode(ids) == [t for t in record.tags if t in tagged.vocab]
    assert (tok.pad_id, tok.cls_id, tok.sep_id, tok.mask_id) == (0, 2, 3, 1)


@pytest.mark.parametrize(("lowercase", "blonde"), [(True, 106), (False, 100)], ids=["uncased", "cased"])
def test_wordpiece_loads_a_bert_folder_through_transformers(tagged, tmp_path, auto_tokenizer_calls, lowercase, blonde):
    # tokenizer_config.json is read by transformers alone: a cased tokenizer keeps "Blonde", unknown to the vocabulary
    folder = bert_folder(tmp_path / "bert", {"tokenizer_class": "BertTokenizer", "do_lower_case": lowercase})
    tok = build_tokenizer("wp", tagged, max_len=8, bert=folder)
    assert auto_tokenizer_calls == [str(folder)]
    assert f"transformers, {'un' if lowercase else ''}cased" in tok.source and tok.vocab_size == len(BERT_WORDS)
    assert tok.encode(["1girl", "Blonde hair"]) == [101, 104, 105, blonde, 107, 102, 0, 0]
    assert (tok.pad_id, tok.unk_id, tok.mask_id) == (0, 100, 1) and tok.state()["lowercase"] is lowercase
    restored = restore_tokenizer(tok.state(), tagged.vocab)  # as a checkpoint rebuilds it, without the folder
    assert restored.encode(["1girl", "Blonde hair"]) == tok.encode(["1girl", "Blonde hair"])


@pytest.mark.parametrize("config", [None, {"tokenizer_class": "BertTokenizer"}], ids=["no config", "no vocab"])
def test_a_folder_that_is_not_a_bert_tokenizer_is_one_sentence(tagged, tmp_path, config):
    folder = bert_folder(tmp_path / "bert", config)
    if config is not None:
        (folder / "vocab.txt").unlink()  # transformers would make a tokenizer of the five special tokens alone
    with pytest.raises(DataError, match=f"No BERT tokenizer at '{folder}': give a folder with"):
        build_tokenizer("wp", tagged, max_len=8, bert=folder)
    with pytest.raises(DataError, match="No BERT tokenizer at '.*missing'"):
        build_tokenizer("wp", tagged, max_len=8, bert=tmp_path / "missing")


def test_wordpiece_state_of_todays_checkpoints_still_restores(tagged):
    # what checkpoints hold today: the pieces, no "lowercase" (their vocabularies were all uncased)
    state = {"name": "wp", "max_len": 8, "source": "BERT uncased WordPiece vocabulary (vocab.txt)",
             "pieces": {word: i for i, word in enumerate(BERT_WORDS)}}
    tok = restore_tokenizer(state, tagged.vocab)
    assert tok.encode(["1girl", "Blonde hair"])[:6] == [101, 104, 105, 106, 107, 102]
    assert tok.state() == {**state, "lowercase": True}


def test_a_dataset_without_tags_is_refused(tiny_dataset):
    untagged = load_dataset("synthetic", tiny_dataset, with_tags=False)
    with pytest.raises(DataError, match="with_tags=True"):
        build_tokenizer("tag", untagged)
