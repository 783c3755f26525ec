"""Vision+tags ViTs: tag embeddings, the tied masked-tag head, hidden positions, checkpoints with tokenizers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from animesion.config.train import TrainConfig
from animesion.data.dataset import ImageDataset, load_dataset
from animesion.data.masking import mask_tokens
from animesion.data.tag_tokens import TaggedImages
from animesion.data.tokenization import build_tokenizer, restore_tokenizer
from animesion.data.transforms import eval_transform
from animesion.models.checkpoint import load_checkpoint, save_checkpoint
from animesion.models.factory import create_model
from animesion.models.multimodal import MultimodalViT

VOCAB, CLASSES, LEN = 30, 5, 10


def vilt(**overrides) -> MultimodalViT:
    values = dict(model_name="Ti_16", image_size=32, multimodal=True, mask_schedule="full", max_text_seq_len=LEN)
    return create_model(TrainConfig(**{**values, **overrides}).model_spec(CLASSES, VOCAB))


@pytest.fixture(scope="module")
def tagged(tiny_dataset):
    return load_dataset("synthetic", tiny_dataset, with_tags=True)


def test_forward_shapes_and_tied_decoder():
    model = vilt()
    tokens = torch.tensor([[2, 7, 8, 3] + [0] * (LEN - 4)] * 2)
    out = model(torch.randn(2, 3, 32, 32), tokens=tokens)
    assert out["logits"].shape == (2, CLASSES) and out["token_logits"].shape == (2, LEN, VOCAB)
    assert out["layer_cls"] is None
    head = model.masked_tag_head.transform
    assert [type(m) for m in head] == [nn.Linear, nn.GELU, nn.LayerNorm]
    # the decoder is the word-embedding table itself: stored once, trained by both ends
    keys = model.state_dict().keys()
    assert sum(k.endswith("word_embeddings.weight") for k in keys) == 1 and "masked_tag_head.bias" in keys
    out["token_logits"][:, :, 11].sum().backward()
    assert model.text.word_embeddings.weight.grad[11].abs().sum() > 0  # only through the tied decoder
    assert model.masked_tag_head.bias.grad[11] == 4 * LEN / 2  # d(sum of logits of id 11)/d(bias) over 2×LEN positions


def test_masked_tags_are_hidden_from_attention():
    """A fully masked sample is read exactly as the prompt: where [SEP] and [PAD] fall (the tag count) is invisible."""
    model = vilt().eval()
    images = torch.randn(3, 3, 32, 32)
    tokens = torch.tensor([[2, 7, 8, 9, 3, 0, 0, 0, 0, 0], [2, 7, 3, 0, 0, 0, 0, 0, 0, 0], [2, *range(5, 13), 3]])
    masked = mask_tokens(tokens, 1.0, mask_id=1, vocab_size=VOCAB, special_ids={0, 1, 2, 3, 4})
    with torch.no_grad():
        prompt, fully_masked, visible = model(images), model(images, tokens=masked.inputs), model(images, tokens=tokens)
    assert torch.equal(prompt["logits"], fully_masked["logits"])
    assert torch.equal(prompt["token_logits"][0, 1:4], fully_masked["token_logits"][0, 1:4])
    assert not torch.allclose(prompt["logits"], visible["logits"])  # visible tags are read
    assert model.prompt.tolist() == [2, *[1] * (LEN - 2), 3]


def test_ifa_and_no_schedule_variants():
    model = vilt(interm_features_fc=True)
    out = model(torch.randn(2, 3, 32, 32))
    assert out["layer_cls"].shape == (2, 12, 192) and out["logits"].shape == (2, CLASSES)
    plain = vilt(mask_schedule=None)
    assert plain.masked_tag_head is None and plain(torch.randn(1, 3, 32, 32))["token_logits"] is None


def test_tagged_images_carry_tokens_and_shuffle_only_when_asked(tagged):
    tok = build_tokenizer("tag", tagged, max_len=16)
    images = ImageDataset(tagged.splits["train"], tagged.image_root, eval_transform(32))
    sample = TaggedImages(images, tok)[0]
    tags = list(tagged.splits["train"][0].tags)
    assert tok.decode(sample["tokens"]) == tags
    assert sample["token_labels"].tolist() == [-100, *[tagged.vocab.id(t) for t in tags]] + [-100] * (15 - len(tags))
    torch.manual_seed(0)
    orders = {tuple(tok.decode(TaggedImages(images, tok, shuffle=True)[0]["tokens"])) for _ in range(8)}
    assert len(orders) > 1 and all(sorted(o) == sorted(tags) for o in orders)


@pytest.mark.parametrize("name", ["tag", "wp"])
def test_checkpoint_restores_model_and_tokenizer(tagged, tmp_path, name):
    tok = build_tokenizer(name, tagged, max_len=LEN)
    config = TrainConfig(model_name="Ti_16", image_size=32, multimodal=True, mask_schedule="full",
                         max_text_seq_len=LEN, tokenizer=name)
    model = create_model(config.model_spec(tagged.num_classes, tok.vocab_size))
    model.use_tokenizer(tok)
    path = save_checkpoint(tmp_path / "m.safetensors", model, config.model_spec(tagged.num_classes, tok.vocab_size),
                           tagged.class_names, config.to_dict(), tagged.vocab, tokenizer=tok)
    ckpt = load_checkpoint(path)
    assert type(ckpt.tokenizer) is type(tok) and ckpt.tokenizer.vocab_size == tok.vocab_size
    tags = list(tagged.splits["test"][0].tags)
    assert ckpt.tokenizer.encode(tags) == tok.encode(tags) and ckpt.tokenizer.decode(tok.encode(tags))
    assert torch.equal(ckpt.model.prompt, tok.masked_prompt())
    again = restore_tokenizer(tok.state(), tagged.vocab)
    assert again.decode(tok.encode(tags[:3])) == tok.decode(tok.encode(tags[:3]))



def test_attention_maps_cover_the_tag_tokens_and_skip_hidden_ones():
    from animesion.attention import extract_attention

    model = vilt().eval()
    images, tokens = torch.randn(1, 3, 32, 32), torch.tensor([[2, 7, 1, 3] + [0] * (LEN - 4)])  # a tag, a mask
    maps = extract_attention(model, images, tokens=tokens)
    assert maps.num_text_tokens == LEN and maps.attentions.shape[-1] == maps.num_image_tokens + LEN
    to_tags = maps.attentions[..., maps.num_image_tokens :]  # [L, B, H, T, LEN]: attention paid to the tag tokens
    assert (to_tags[..., 2:] == 0).all() and (to_tags[..., :2] > 0).all()  # masked, [SEP], [PAD] never read
    assert torch.allclose(maps.attentions.sum(-1), torch.ones(()))
    with torch.no_grad():  # the unfused pass that was watched computes what the fused model computes
        assert torch.allclose(maps.output["logits"], model(images, tokens=tokens)["logits"], atol=1e-5)
