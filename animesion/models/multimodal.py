"""Vision+tags ViTs (``multimodal=True``): tag tokens read by the same transformer blocks as the image.

The tags are embedded BERT-style and appended after the image tokens; recognition reads the class
token (or, with the IFA head, every block's class token), and with a ``mask_schedule`` a masked-tag
head predicts the hidden tags from the tag positions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from timm.models.vision_transformer import VisionTransformer
from torch import Tensor, nn

from ..data.tokenization.base import TagTokenizer, masked_prompt
from ..data.vocab import CLS_ID, MASK_ID, PAD_ID, SEP_ID, UNK_ID
from .output import ModelOutput, model_output, tags_of
from .vit import ViTClassifier

TEXT_DROPOUT = 0.1  # BERT's hidden dropout
LN_EPS = 1e-12  # as the rest of the original ViTs


class TagEmbeddings(nn.Module):
    """BERT's embeddings: word + learned position embeddings, then LayerNorm and dropout.

    tokens [B, T] → [B, T, D], T ≤ ``max_len``.
    """

    def __init__(self, *, vocab_size: int, dim: int, max_len: int, dropout: float = TEXT_DROPOUT) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, dim)
        self.position_embeddings = nn.Embedding(max_len, dim)
        self.norm = nn.LayerNorm(dim, eps=LN_EPS)
        self.dropout = nn.Dropout(dropout)
        for table in (self.word_embeddings, self.position_embeddings):
            nn.init.trunc_normal_(table.weight, std=0.02)  # BERT's initializer_range

    def forward(self, tokens: Tensor) -> Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        return self.dropout(self.norm(self.word_embeddings(tokens) + self.position_embeddings(positions)))


class MaskedTagHead(nn.Module):
    """BERT's masked-LM head: Linear, GELU, LayerNorm, then a decoder tied to the word embeddings plus a bias.

    hidden [B, T, D] → token logits [B, T, vocab]. The decoder weight is passed in (the word embedding
    table) rather than stored, so the checkpoint holds it once.
    """

    def __init__(self, *, dim: int, vocab_size: int) -> None:
        super().__init__()
        self.transform = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.LayerNorm(dim, eps=LN_EPS))
        self.bias = nn.Parameter(torch.zeros(vocab_size))

    def forward(self, hidden: Tensor, word_embeddings: Tensor) -> Tensor:
        return F.linear(self.transform(hidden), word_embeddings, self.bias)


class MultimodalViT(ViTClassifier):
    """A ViT that reads an image and a tag sequence: ``model(images, tokens=None)``.

    Image tokens [B, 1 + N, D] and tag embeddings [B, T, D] are concatenated and run through the
    trunk's blocks. ``tokens=None`` reads the fully masked ``prompt`` (``[CLS] [mask]… [SEP]``, a buffer
    saved with the weights), so ``model(images)`` recognises and tags from the image alone, as at
    evaluation and inference.

    Tag positions holding the mask id, [PAD], [SEP] or [UNK] (``hidden_ids``) are hidden from attention:
    every token may attend to the image tokens, the tags' [CLS] and the visible tags only. A masked
    position still gets an output (its prediction), but no other token reads it. So where [SEP] and the
    padding fall, i.e. how many tags an image has, never reaches the class token: a sample with all its
    tags masked is classified exactly as the prompt is, and test accuracy cannot lean on the tag count.
    """

    def __init__(self, *, vit: VisionTransformer, num_classes: int, vocab_size: int, max_len: int, ifa: bool = False,
                 masked_tag_head: bool = True, num_tags: int = 0) -> None:
        super().__init__(vit=vit, num_classes=num_classes, ifa=ifa, num_tags=num_tags)
        dim = vit.embed_dim
        self.text = TagEmbeddings(vocab_size=vocab_size, dim=dim, max_len=max_len)
        self.masked_tag_head = MaskedTagHead(dim=dim, vocab_size=vocab_size) if masked_tag_head else None
        # The whole-tag vocabulary's ids; training sets its tokenizer's with use_tokenizer. Both buffers are
        # saved with the weights, so a loaded checkpoint needs no tokenizer to run.
        self.register_buffer("prompt", masked_prompt(max_len, CLS_ID, SEP_ID))
        self.register_buffer("hidden_ids", torch.tensor([PAD_ID, SEP_ID, UNK_ID, MASK_ID]))

    def use_tokenizer(self, tokenizer: TagTokenizer) -> None:
        """Take the prompt and the hidden ids ([PAD], [SEP], [UNK], mask) of ``tokenizer``."""
        if tokenizer.max_len != self.prompt.shape[0]:
            raise ValueError(f"the tokenizer makes {tokenizer.max_len} ids, the model reads {self.prompt.shape[0]}")
        self.prompt.copy_(tokenizer.masked_prompt())
        self.hidden_ids.copy_(torch.tensor([tokenizer.pad_id, tokenizer.sep_id, tokenizer.unk_id, tokenizer.mask_id]))

    def attention_mask(self, tokens: Tensor, num_image_tokens: int) -> Tensor:
        """Bool [B, 1, 1, 1 + N + T]: which tokens may be attended to (all image tokens, the visible tags)."""
        visible = ~torch.isin(tokens, self.hidden_ids)  # [B, T]
        image = visible.new_ones(tokens.shape[0], num_image_tokens)
        return torch.cat([image, visible], dim=1)[:, None, None, :]

    def encode(self, x: Tensor, attn_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Run the blocks on tokens [B, T, D] with ``attn_mask``: normed tokens [B, T, D], class tokens [B, L, D]."""
        cls = []
        for block in self.vit.blocks:
            x = block(x, attn_mask=attn_mask)
            cls.append(x[:, 0])
        return self.vit.norm(x), torch.stack(cls, dim=1)

    def forward(self, images: Tensor, tokens: Tensor | None = None) -> ModelOutput:
        """images [B, 3, H, W], tokens [B, T] (default: the masked prompt) → logits [B, classes], embedding
        [B, D], token_logits [B, T, vocab] (with the masked-tag head) and layer_cls [B, L, D] (with the IFA head),
        tag_logits [B, tags] (with a multi-label tag head)."""
        if tokens is None:
            tokens = self.prompt.expand(images.shape[0], -1)
        image_tokens = self.embed(images)  # [B, 1 + N, D]
        x = torch.cat([image_tokens, self.text(tokens)], dim=1)  # [B, 1 + N + T, D]
        hidden, layer_cls = self.encode(x, self.attention_mask(tokens, image_tokens.shape[1]))
        logits, embedding = self.classify(hidden, layer_cls)
        token_logits = None
        if self.masked_tag_head is not None:
            tag_hidden = hidden[:, -tokens.shape[1] :]  # [B, T, D]
            token_logits = self.masked_tag_head(tag_hidden, self.text.word_embeddings.weight)
        return model_output(logits, embedding, token_logits, layer_cls if self.ifa else None,
                            tags_of(self.tag_head, embedding))


__all__ = ["MaskedTagHead", "MultimodalViT", "TagEmbeddings"]
