"""Every model_name builds, runs forward and backward on CPU, and returns the same structure."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from animesion.config.train import TrainConfig
from animesion.errors import ConfigError
from animesion.models.catalog import ARCHITECTURES
from animesion.models.factory import create_model
from animesion.models.ifa import IFAHead, exclusion_loss
from animesion.models.partial import PARTIAL_MODES
from animesion.models.spec import ModelSpec
from animesion.models.vit import ViTClassifier

CNNS = ["shallow", "resnet18", "resnet50", "resnet152", "efficientnetb0"]
SMALL_VITS = ["Ti_16", "S_16", "S_32"]
BIG_VITS = ["B_16", "B_32", "L_16", "L_32"]
NUM_CLASSES = 5


def spec(name: str, image_size: int = 32, **values) -> ModelSpec:
    return ModelSpec(model_name=name, num_classes=NUM_CLASSES, image_size=image_size, **values)


def _forward_backward(model: nn.Module, image_size: int, batch: int = 2) -> dict:
    """One training step's forward and backward; returns the output after checking its structure."""
    model.train()
    out = model(torch.randn(batch, 3, image_size, image_size))
    assert set(out) == {"logits", "embedding", "token_logits", "layer_cls", "tag_logits"}
    assert out["logits"].shape == (batch, NUM_CLASSES)
    assert out["embedding"].ndim == 2 and out["embedding"].shape[0] == batch
    out["logits"].logsumexp(-1).sum().backward()
    params = [p for p in model.parameters() if p.requires_grad]
    assert sum(p.grad is not None for p in params) > len(params) // 2
    # the gradient reaches the first layer (the input side) and the last (the classifier)
    assert params[0].grad.abs().sum() > 0 and params[-1].grad.abs().sum() > 0
    return out


def test_catalog_lists_every_architecture():
    assert set(ARCHITECTURES.names()) == set(CNNS) | set(SMALL_VITS) | set(BIG_VITS)
    assert [n for n in ARCHITECTURES.names() if ARCHITECTURES.get(n).is_vit] == [
        "Ti_16", "S_16", "S_32", "B_16", "B_32", "L_16", "L_32"]


@pytest.mark.parametrize("name", CNNS)
def test_cnn_forward_backward(name):
    model = create_model(spec(name))
    out = _forward_backward(model, 32)
    assert out["layer_cls"] is None and out["token_logits"] is None


@pytest.mark.parametrize("name", ["resnet18", "efficientnetb0"])
def test_torchvision_logits_and_embedding_are_the_nets_own(name):
    """The embedding is what torchvision's classifier reads; the logits are the net's own forward."""
    model = create_model(spec(name)).eval()
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        out = model(images)
        assert torch.allclose(out["logits"], model.net(images), atol=1e-6)
    assert out["embedding"].shape == (2, {"resnet18": 512, "efficientnetb0": 1280}[name])


def test_shallow_embedding_is_the_hidden_layer():
    model = create_model(spec("shallow")).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 32, 32))
        assert out["embedding"].shape == (2, 512) and (out["embedding"] >= 0).all()  # after the ReLU
        assert torch.allclose(model.classifier[-1](out["embedding"]), out["logits"])


@pytest.mark.parametrize("name", CNNS)
@pytest.mark.parametrize("flag", ["interm_features_fc", "multimodal"])
def test_cnn_refuses_vit_only_options(name, flag):
    """Both the model spec and the training config refuse, in one sentence naming the parameter."""
    builds = (lambda: spec(name, **{flag: True}, vocab_size=10), lambda: TrainConfig(model_name=name, **{flag: True}))
    for build in builds:
        with pytest.raises(ConfigError, match=f"{flag} needs a ViT .*is a CNN") as err:
            build()
        assert "\n" not in str(err.value)


@pytest.mark.parametrize("image_size", [28, 64, 97])
def test_shallow_works_at_any_image_size(image_size):
    model = create_model(spec("shallow", image_size))
    assert model(torch.randn(2, 3, image_size, image_size))["logits"].shape == (2, NUM_CLASSES)


@pytest.mark.parametrize("name", SMALL_VITS)
@pytest.mark.parametrize("ifa", [False, True], ids=["plain", "ifa"])
def test_small_vit_forward_backward(name, ifa):
    model = create_model(spec(name, interm_features_fc=ifa))
    out = _forward_backward(model, 32)
    depth, dim = ARCHITECTURES.get(name).depth, ARCHITECTURES.get(name).width
    assert out["embedding"].shape == (2, dim)
    if ifa:
        assert isinstance(model.head, IFAHead) and out["layer_cls"].shape == (2, depth, dim)
        assert torch.allclose(model.head[-1](out["embedding"]), out["logits"], atol=1e-6)
    else:
        assert isinstance(model.head, nn.Linear) and out["layer_cls"] is None


@pytest.mark.parametrize("name", BIG_VITS)
def test_big_vit_architecture_and_both_heads(name):
    """B and L ViTs are hundreds of MB, so each is built once; L runs forward only (a backward through
    300M parameters takes most of a minute on 2 cores; the backward path is the same as for B)."""
    model = create_model(spec(name))
    arch = ARCHITECTURES.get(name)
    patch, dim, depth = arch.patch, arch.width, arch.depth
    expected = {"B": (768, 12, 12, 3072), "L": (1024, 24, 16, 4096)}[name[0]]
    vit, block = model.vit, model.vit.blocks[0]
    assert (vit.embed_dim, len(vit.blocks), block.attn.num_heads, block.mlp.fc1.out_features) == expected
    assert vit.patch_embed.patch_size == (patch, patch)
    if name.startswith("B"):
        _forward_backward(model, 32, batch=1)
    # The IFA variant shares the trunk: building a second B/L model would double the time.
    ifa = ViTClassifier(vit=model.vit, num_classes=NUM_CLASSES, ifa=True)
    with torch.no_grad():
        plain, out = model(torch.randn(1, 3, 32, 32)), ifa(torch.randn(1, 3, 32, 32))
    assert plain["logits"].shape == out["logits"].shape == (1, NUM_CLASSES)
    assert out["layer_cls"].shape == (1, depth, dim)


def test_vit_matches_the_original_architecture():
    model = create_model(spec("Ti_16", 48))
    vit = model.vit
    norms = [m for m in vit.modules() if isinstance(m, nn.LayerNorm)]
    assert norms and all(m.eps == 1e-12 for m in norms)
    assert vit.cls_token.shape == (1, 1, 192)
    assert vit.pos_embed.shape == (1, 1 + 3 * 3, 192) and vit.pos_embed.requires_grad  # learned, 48/16 = 3
    block = vit.blocks[0]
    # pre-norm: the block normalises *inside* each residual branch, x + attn(norm1(x)), x + mlp(norm2(x))
    x = torch.randn(1, 10, 192)
    with torch.no_grad():
        manual = x + block.attn(block.norm1(x))
        manual = manual + block.mlp(block.norm2(manual))
        assert torch.allclose(block.eval()(x), manual, atol=1e-5)
    assert isinstance(block.mlp.act, nn.GELU) and block.mlp.act.approximate == "none"


@pytest.mark.parametrize("image_size", [40, 100])
def test_vit_refuses_image_size_not_divisible_by_patch(image_size):
    with pytest.raises(ConfigError, match="divisible by 16"):
        spec("Ti_16", image_size)
    with pytest.raises(ConfigError, match="divisible by 16"):
        TrainConfig(model_name="Ti_16", image_size=image_size)  # refused before anything is built


def test_vit_any_multiple_of_the_patch():
    model = create_model(spec("S_32", 96))
    assert model.vit.pos_embed.shape[1] == 1 + 3 * 3
    assert model(torch.randn(1, 3, 96, 96))["logits"].shape == (1, NUM_CLASSES)


def test_ifa_head_layout_matches_the_original():
    head = IFAHead(num_layers=4, dim=6, num_classes=3)
    weights = {k for k in head.state_dict()}
    assert weights == {"0.weight", "0.bias", "3.weight", "3.bias", "4.weight", "4.bias"}
    layer_cls = torch.randn(2, 4, 6)  # [B, L, D]
    with torch.no_grad():
        pooled = torch.relu(layer_cls.transpose(1, 2) @ head[0].weight.T + head[0].bias).squeeze(-1)  # [B, D]
        expected = head[4](head[3](pooled))
    assert torch.allclose(head(layer_cls), expected, atol=1e-6)


def test_exclusion_loss_by_hand():
    # B=1, L=3, D=2; with distance 2 only the pair (layer 0, layer 2) counts.
    layer_cls = torch.tensor([[[0.0, 0.0], [5.0, -5.0], [math.log(3.0), 0.0]]])
    p0, p2 = torch.tensor([0.5, 0.5]), torch.tensor([0.75, 0.25])
    kl = float((p2 * (p2 / p0).log()).sum())  # KL(p_{i+d} ‖ p_i), as the original's KLDivLoss(log p_i, p_{i+d})
    assert exclusion_loss(layer_cls, temperature=1.0, layers_dist=2).item() == pytest.approx(kl, rel=1e-5)
    assert kl == pytest.approx(0.75 * math.log(1.5) + 0.25 * math.log(0.5))
    # with T = 2 the class tokens are divided by 2 first and the sum is multiplied by T² = 4
    q0, q2 = torch.tensor([0.5, 0.5]), F.softmax(torch.tensor([math.log(3.0) / 2, 0.0]), -1)
    kl_t = float((q2 * (q2 / q0).log()).sum()) * 4
    assert exclusion_loss(layer_cls, temperature=2.0, layers_dist=2).item() == pytest.approx(kl_t, rel=1e-5)
    # distance 1 adds the pairs (0, 1) and (1, 2)
    assert exclusion_loss(layer_cls, layers_dist=1).item() > exclusion_loss(layer_cls, layers_dist=2).item()


def test_training_loss_subtracts_the_weighted_exclusion_term():
    from animesion.models.output import model_output
    from animesion.training.losses import Targets, TrainingLoss

    config = TrainConfig(model_name="Ti_16", interm_features_fc=True, exclusion_loss=True, temperature=2.0,
                         exclusion_weight=0.5, exc_layers_dist=1)
    logits, layer_cls, labels = torch.randn(4, 3), torch.randn(4, 5, 8), torch.tensor([0, 1, 2, 0])
    terms = TrainingLoss(config)(model_output(logits, logits, layer_cls=layer_cls), Targets(labels, labels))
    expected = (F.cross_entropy(logits, labels, label_smoothing=config.smoothing)  # the recipe's smoothing
                - 0.5 * exclusion_loss(layer_cls, 2.0, 1))
    assert terms["loss"].item() == pytest.approx(expected.item(), rel=1e-6)


def test_partial_modes_are_the_config_choices():
    from animesion.errors import ConfigError as Refused

    assert TrainConfig(model_name="Ti_16", load_partial_mode="clstoken").load_partial_mode == "clstoken"
    with pytest.raises(Refused, match="load_partial_mode='heads' is not allowed; choose one of: full_tokenizer"):
        TrainConfig(load_partial_mode="heads")
    assert set(PARTIAL_MODES.get("full_tokenizer")) == {"vit.patch_embed.", "vit.pos_embed", "vit.cls_token"}


def test_drop_path_is_for_vits_and_changes_no_weights():
    with pytest.raises(ConfigError, match="drop_path needs a ViT"):
        spec("resnet18", drop_path=0.1)
    plain, dropped = create_model(spec("Ti_16")), create_model(spec("Ti_16", drop_path=0.1))
    assert plain.state_dict().keys() == dropped.state_dict().keys()
    assert dropped.vit.blocks[-1].drop_path1.drop_prob == pytest.approx(0.1)

