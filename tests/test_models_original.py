"""Checkpoints of the original Animesion code convert into our ViTs with the same logits.

The reference below is written from the description of the original model (a fork of
PyTorch-Pretrained-ViT), not copied from it: its own key names, separate q/k/v projections whose
heads are split from the last dimension, and pre-norm blocks x + proj(attn(norm1 x)), then
x + fc2(gelu(fc1(norm2 x))).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import Tensor, nn

from animesion.config.train import TrainConfig
from animesion.models.factory import create_model
from animesion.models.original import convert_original, is_original_state_dict
from animesion.training.weights import load_initial_weights

DIM, DEPTH, HEADS, PATCH, IMAGE, CLASSES = 192, 12, 3, 16, 32, 7  # Ti_16 at 32 px
EPS = 1e-12


class OriginalAttention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj_q, self.proj_k, self.proj_v = nn.Linear(DIM, DIM), nn.Linear(DIM, DIM), nn.Linear(DIM, DIM)

    def forward(self, x: Tensor) -> Tensor:
        b, s, _ = x.shape

        def heads(t: Tensor) -> Tensor:  # [B, S, D] → [B, H, S, D/H], heads split from the last dim
            return t.view(b, s, HEADS, DIM // HEADS).transpose(1, 2)

        q, k, v = heads(self.proj_q(x)), heads(self.proj_k(x)), heads(self.proj_v(x))
        scores = (q @ k.transpose(-2, -1) / math.sqrt(DIM // HEADS)).softmax(-1)
        return (scores @ v).transpose(1, 2).reshape(b, s, DIM)  # heads merged back


class OriginalPWFF(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(DIM, 4 * DIM), nn.Linear(4 * DIM, DIM)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class OriginalBlock(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attn, self.proj = OriginalAttention(), nn.Linear(DIM, DIM)
        self.norm1, self.norm2 = nn.LayerNorm(DIM, eps=EPS), nn.LayerNorm(DIM, eps=EPS)
        self.pwff = OriginalPWFF()

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.proj(self.attn(self.norm1(x)))
        return x + self.pwff(self.norm2(x))


class OriginalTransformer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(OriginalBlock() for _ in range(DEPTH))


class OriginalPositionalEmbedding(nn.Module):
    def __init__(self, tokens: int) -> None:
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.randn(1, tokens, DIM) * 0.02)


class OriginalViT(nn.Module):
    """The trunk, as ``model`` of the original wrapper; ``fc`` only with the plain head."""

    def __init__(self, with_fc: bool) -> None:
        super().__init__()
        self.patch_embedding = nn.Conv2d(3, DIM, PATCH, stride=PATCH)
        self.class_token = nn.Parameter(torch.randn(1, 1, DIM) * 0.02)
        self.positional_embedding = OriginalPositionalEmbedding(1 + (IMAGE // PATCH) ** 2)
        self.transformer = OriginalTransformer()
        self.norm = nn.LayerNorm(DIM, eps=EPS)
        self.fc = nn.Linear(DIM, CLASSES) if with_fc else None

    def forward(self, images: Tensor) -> tuple[Tensor, list[Tensor]]:
        x = self.patch_embedding(images).flatten(2).transpose(1, 2)  # [B, N, D]
        x = torch.cat([self.class_token.expand(len(x), -1, -1), x], dim=1)
        x = x + self.positional_embedding.pos_embedding
        layers = []
        for block in self.transformer.blocks:
            x = block(x)
            layers.append(x)  # raw block outputs, before the final norm
        return self.norm(x), layers


class OriginalModel(nn.Module):
    """The original ``VisionTransformer`` wrapper: ``model`` plus ``inter_class_head`` with IFA."""

    def __init__(self, ifa: bool) -> None:
        super().__init__()
        self.model = OriginalViT(with_fc=not ifa)
        if ifa:
            self.inter_class_head = nn.Sequential(
                nn.Linear(DEPTH, 1), nn.Flatten(), nn.ReLU(), nn.LayerNorm(DIM, eps=EPS), nn.Linear(DIM, CLASSES)
            )
        self.ifa = ifa

    def forward(self, images: Tensor) -> Tensor:
        x, layers = self.model(images)
        if self.ifa:
            stacked = torch.stack(layers, dim=-1)[:, 0]  # [B, D, L]: class token of every block
            return self.inter_class_head(stacked)
        return self.model.fc(x[:, 0])


def _randomise(module: nn.Module) -> None:
    """Random LayerNorm affine parameters too, so a mix-up of norm1/norm2 or of q/k/v could not pass."""
    torch.manual_seed(0)
    for p in module.parameters():
        p.data.normal_(0, 0.05 if p.dim() > 1 else 0.5).add_(1.0 if p.dim() == 1 else 0.0)


@pytest.mark.parametrize("ifa", [False, True], ids=["plain", "ifa"])
def test_original_checkpoint_gives_the_same_logits(ifa, tmp_path):
    original = OriginalModel(ifa).eval()
    _randomise(original)
    state = original.state_dict()
    assert "model.transformer.blocks.3.attn.proj_q.weight" in state
    assert ("inter_class_head.3.weight" in state) == ifa and ("model.fc.weight" in state) == (not ifa)
    # saved as the original did (torch.save of the state dict) and found by checkpoint_path alone
    path = tmp_path / "original.ckpt"
    torch.save(state, path)
    config = TrainConfig(model_name="Ti_16", image_size=IMAGE, interm_features_fc=ifa, checkpoint_path=str(path))
    ours = create_model(config.model_spec(CLASSES)).eval()
    report = load_initial_weights(ours, config)
    assert report.kind == "original Animesion checkpoint"
    assert not report.missing and not report.unexpected and not report.reset
    images = torch.randn(3, 3, IMAGE, IMAGE)
    with torch.no_grad():
        expected, got = original(images), ours(images)["logits"]
    assert expected.abs().max() > 0.1  # not trivially equal
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


def test_conversion_fuses_qkv_and_keeps_every_weight():
    state = OriginalModel(ifa=False).state_dict()
    assert is_original_state_dict(state)
    converted = convert_original(state)
    assert not converted.skipped
    qkv = converted.state["vit.blocks.0.attn.qkv.weight"]
    assert qkv.shape == (3 * DIM, DIM)
    assert torch.equal(qkv[DIM : 2 * DIM], state["model.transformer.blocks.0.attn.proj_k.weight"])
    assert sum(v.numel() for v in converted.state.values()) == sum(v.numel() for v in state.values())


def test_original_pretrained_file_loads_as_pretrained_path(tmp_path):
    """A PyTorch-Pretrained-ViT style file (original keys without ``model.``) works as pretrained_path."""
    trunk = OriginalViT(with_fc=True)
    _randomise(trunk)
    path = tmp_path / "Ti_16.safetensors"
    save_file({k: v.contiguous() for k, v in trunk.state_dict().items()}, str(path))
    config = TrainConfig(model_name="Ti_16", image_size=IMAGE, pretrained=True, pretrained_path=str(path))
    model = create_model(config.model_spec(CLASSES))
    assert torch.equal(model.vit.blocks[5].norm2.weight, trunk.transformer.blocks[5].norm2.weight)
    assert torch.equal(model.vit.cls_token, trunk.class_token)


def test_unknown_original_keys_are_reported(tmp_path):
    state = OriginalModel(ifa=False).state_dict()
    state["model.pre_logits.weight"] = torch.zeros(DIM, DIM)
    path = tmp_path / "with_extra.pth"
    torch.save(state, path)
    config = TrainConfig(model_name="Ti_16", image_size=IMAGE, checkpoint_path=str(path))
    report = load_initial_weights(create_model(config.model_spec(CLASSES)), config)
    assert report.unexpected == ["model.pre_logits.weight"]
    assert "have no place in the model and were ignored: model.pre_logits.weight" in str(report)
