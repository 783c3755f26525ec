"""Masked tag prediction: every schedule pinned step by step, special tokens never masked, exact labels."""

from __future__ import annotations

import math

import pytest
import torch

from animesion.config.train import TrainConfig
from animesion.data.mask_schedules import MASK_SCHEDULES, MASKING_BEHAVIORS, ScheduleSteps
from animesion.data.masking import TagMasker, mask_tokens
from animesion.errors import ConfigError
from animesion.training.figures import mask_schedule_curve
from animesion.training.losses import token_cross_entropy

PAD, MASK, CLS, SEP, UNK = range(5)
SPECIAL = {PAD, MASK, CLS, SEP, UNK}
# two tag sequences: [CLS] 5 tags [SEP] [PAD] and [CLS] 3 tags [SEP] [PAD]×3
TOKENS = torch.tensor([[CLS, 5, 6, 7, 8, 9, SEP, PAD], [CLS, 10, 11, 12, SEP, PAD, PAD, PAD]])
TAG_POSITIONS = torch.tensor([[0, 1, 1, 1, 1, 1, 0, 0], [0, 1, 1, 1, 0, 0, 0, 0]], dtype=torch.bool)
STEPS = ScheduleSteps.from_fractions(100, 0.1, 0.5)  # warm-up: steps 0–9, cool-down: steps 50–100


def masker(schedule: str, behavior: str = "constant") -> TagMasker:
    return TagMasker(schedule, STEPS, mask_id=MASK, vocab_size=20, special_ids=SPECIAL, behavior=behavior)


def at_step(schedule: str, step: int, seed: int = 0):
    m = masker(schedule)
    m.step = step
    return m(TOKENS, generator=torch.Generator().manual_seed(seed))


def test_the_config_choices_are_the_registries():
    for name in MASK_SCHEDULES.names():
        assert TrainConfig(model_name="Ti_16", multimodal=True, mask_schedule=name).mask_schedule == name
    for name in MASKING_BEHAVIORS.names():
        assert TrainConfig(masking_behavior=name).masking_behavior == name
    with pytest.raises(ConfigError, match="choose one of: bert, full, sigmoid"):
        TrainConfig(model_name="Ti_16", multimodal=True, mask_schedule="linear")
    assert (STEPS.total, STEPS.warmup, STEPS.cooldown) == (100, 10, 50)


def test_schedule_probabilities():
    bert, full, sigmoid = (MASK_SCHEDULES.get(n) for n in ("bert", "full", "sigmoid"))
    assert [bert(s, STEPS) for s in (0, 50, 100)] == [0.15] * 3
    assert [full(s, STEPS) for s in (0, 50, 100)] == [1.0] * 3
    assert [sigmoid(s, STEPS) for s in (0, 9, 10)] == [0.0, 0.0, 0.0]  # warm-up, then the ramp starts at 0
    assert sigmoid(30, STEPS) == pytest.approx(0.5)  # half way through steps 10–50: half visible
    assert sigmoid(20, STEPS) == pytest.approx(1 - 0.5 * (1 + math.cos(math.pi * 0.25)))
    assert sigmoid(49, STEPS) == pytest.approx(1 - 0.5 * (1 + math.cos(math.pi * 39 / 40)))
    assert [sigmoid(s, STEPS) for s in (50, 75, 100)] == [1.0, 1.0, 1.0]  # the cool-down: every tag masked


def test_full_masks_every_tag_and_nothing_else():
    for schedule, step in (("full", 0), ("full", 99), ("sigmoid", 50), ("sigmoid", 100)):
        out = at_step(schedule, step)
        assert out.inputs.tolist() == [[CLS, MASK, MASK, MASK, MASK, MASK, SEP, PAD],
                                       [CLS, MASK, MASK, MASK, SEP, PAD, PAD, PAD]]
        assert out.labels.tolist() == [[-100, 5, 6, 7, 8, 9, -100, -100], [-100, 10, 11, 12, -100, -100, -100, -100]]


def test_sigmoid_warmup_masks_nothing():
    for step in (0, 5, 9, 10):
        out = at_step("sigmoid", step)
        assert torch.equal(out.inputs, TOKENS) and (out.labels == -100).all()


def test_bert_and_sigmoid_positions_at_a_fixed_seed():
    # torch.rand(2, 8) with seed 0 is [[.50 .77 .09 .13 .31 .63 .49 .90], [.46 .63 .35 .40 .02 .17 .29 .52]]:
    # bert (p = 0.15) masks 0.09 and 0.13; 0.02 falls on [SEP], which is never masked.
    out = at_step("bert", 0)
    assert out.inputs.tolist() == [[CLS, 5, MASK, MASK, 8, 9, SEP, PAD], [CLS, 10, 11, 12, SEP, PAD, PAD, PAD]]
    assert out.labels.tolist() == [[-100, -100, 6, 7, -100, -100, -100, -100], [-100] * 8]
    out = at_step("sigmoid", 30)  # p = 0.5: every draw below 0.5 on a tag
    assert out.inputs.tolist() == [[CLS, 5, MASK, MASK, MASK, 9, SEP, PAD], [CLS, 10, MASK, MASK, SEP, PAD, PAD, PAD]]
    assert out.labels.tolist() == [[-100, -100, 6, 7, 8, -100, -100, -100],
                                   [-100, -100, 11, 12, -100, -100, -100, -100]]


@pytest.mark.parametrize("behavior", ["constant", "random"])
def test_special_tokens_are_never_masked_and_labels_are_exact(behavior):
    torch.manual_seed(1)
    tokens = TOKENS.repeat(64, 1)
    out = mask_tokens(tokens, 1.0, mask_id=MASK, vocab_size=20, special_ids=SPECIAL, behavior=behavior)
    tags = TAG_POSITIONS.repeat(64, 1)
    assert torch.equal(out.inputs[~tags], tokens[~tags])  # [CLS], [SEP], [PAD] untouched
    assert (out.labels[~tags] == -100).all() and torch.equal(out.labels[tags], tokens[tags])
    if behavior == "constant":
        assert (out.inputs[tags] == MASK).all()
    else:  # random vocabulary ids, not all the same
        assert out.inputs[tags].min() >= 0 and out.inputs[tags].max() < 20 and out.inputs[tags].unique().numel() > 10


def test_masker_is_stateful_and_settles_in_the_cooldown():
    m = masker("sigmoid")
    for _ in range(49):
        m.advance()
    assert m.state_dict() == {"step": 49} and not m.settled and 0 < m.probability() < 1
    again = masker("sigmoid")
    again.load_state_dict(m.state_dict())
    again.advance()
    assert again.step == 50 and again.settled and again.probability() == 1.0
    assert masker("full").settled and masker("bert").settled  # their masking never changes


def test_unknown_behavior_fails_at_once():
    with pytest.raises(ConfigError, match="masking_behavior 'swap'"):
        masker("full", behavior="swap")


def test_schedule_curve_and_config_checks():
    config = TrainConfig(model_name="Ti_16", multimodal=True, mask_schedule="sigmoid", mask_wu_percent=0.2,
                         mask_cd_percent=0.3)
    curve = mask_schedule_curve(config, 10)
    assert curve["masked"].tolist()[:3] == [0.0, 0.0, 0.0] and curve["masked"].tolist()[7:] == [1.0] * 4
    with pytest.raises(ConfigError, match="multimodal=True"):
        TrainConfig(mask_schedule="full")
    with pytest.raises(ConfigError, match="must not exceed 1"):
        TrainConfig(model_name="Ti_16", multimodal=True, mask_schedule="sigmoid", mask_wu_percent=0.6,
                    mask_cd_percent=0.5)


def test_token_loss_is_the_mean_over_masked_positions():
    logits = torch.randn(2, 8, 20)
    labels = torch.full((2, 8), -100)
    assert token_cross_entropy(logits, labels) == 0  # nothing masked: 0, not NaN
    labels[0, 2], labels[1, 5] = 4, 7
    expected = (torch.nn.functional.cross_entropy(logits[0, 2], torch.tensor(4))
                + torch.nn.functional.cross_entropy(logits[1, 5], torch.tensor(7))) / 2
    assert token_cross_entropy(logits, labels) == pytest.approx(expected.item())
