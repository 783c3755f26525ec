"""The training recipe: knobs built from timm/torchvision parts, the original recipe exactly, the recipe files."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms as T

from animesion.config.train import RECIPE, TrainConfig
from animesion.data.augment import train_transform
from animesion.data.transforms import MEAN, STD
from animesion.errors import ConfigError
from animesion.models.factory import create_model
from animesion.models.spec import ModelSpec
from animesion.optim.optimizers import create_optimizer
from animesion.optim.schedules import group_factors
from animesion.paths import project_root
from animesion.strict import load_yaml
from animesion.training.run_dir import run_name
from animesion.training.sampling import seeded_generators
from animesion.training.writer import BackgroundWriter

PARAMETERS = project_root() / "parameters"
ORIGINAL, MODERN = PARAMETERS / "train_recipe_original.yaml", PARAMETERS / "train_recipe_modern.yaml"
# Recipe keys a paper run sets for itself (its learning rate and warm-up for fine-tuning).
OWN = {"learning_rate", "warmup_steps", "lr_scheduler"}
PAPER = [p for p in sorted(PARAMETERS.glob("train_*.yaml")) if p not in (ORIGINAL, MODERN)]


def picture(seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (80, 70, 3), dtype=np.uint8))


def test_the_original_augmentation_is_the_original_code():
    old = T.Compose([T.Resize((96, 96)), T.RandomCrop(64), T.RandomHorizontalFlip(), T.ColorJitter(0.1, 0.1, 0.1, 0.1),
                     T.ToTensor(), T.Normalize(MEAN, STD)])
    new = train_transform(64, aa="jitter", scale=None, reprob=0.0)
    for seed in range(4):
        torch.manual_seed(seed)
        expected = old(picture(seed))
        torch.manual_seed(seed)
        assert torch.equal(new(picture(seed)), expected)


def test_the_modern_augmentation_is_timm_and_torchvision_parts():
    modern = train_transform(64, aa="trivialaugment", scale=[0.35, 1.0], reprob=0.25)
    steps = [type(t).__name__ for t in modern.transforms]
    assert steps == ["RandomResizedCropAndInterpolation", "RandomHorizontalFlip", "TrivialAugmentWide", "ToTensor",
                     "Normalize", "RandomErasing"]
    rand = train_transform(64, aa="rand-m9-mstd0.5-inc1", scale=[0.35, 1.0]).transforms[2]
    assert type(rand).__name__ == "RandAugment"
    with pytest.raises(ConfigError, match="aa='rand-x9' is not a policy string timm reads"):
        train_transform(64, aa="rand-x9")


def test_augmentation_is_a_function_of_the_sample_seed_and_leaves_the_training_streams_alone():
    transform = train_transform(64, aa="rand-m9-mstd0.5-inc1", scale=[0.2, 1.0], reprob=0.5)
    random.seed(1)
    np.random.seed(1)  # noqa: NPY002 - the global state timm draws from
    torch.manual_seed(1)
    outside = (random.random(), np.random.rand(), torch.rand(1))  # noqa: NPY002
    random.seed(1)
    np.random.seed(1)  # noqa: NPY002
    torch.manual_seed(1)
    with seeded_generators(7):
        first = transform(picture())
    with seeded_generators(7):
        again = transform(picture())
    assert torch.equal(first, again)
    assert (random.random(), np.random.rand(), torch.rand(1)) == outside  # noqa: NPY002


def test_the_original_optimizer_is_sgd_with_classical_momentum():
    model = create_model(ModelSpec(model_name="shallow", num_classes=3, image_size=32))
    optimizer = create_optimizer(model, opt="momentum", lr=0.01, weight_decay=0.0, momentum=0.9)
    assert type(optimizer) is torch.optim.SGD and len(optimizer.param_groups) == 1
    group = optimizer.param_groups[0]
    assert (group["lr"], group["momentum"], group["nesterov"], group["weight_decay"]) == (0.01, 0.9, False, 0.0)
    adamw = create_optimizer(model, opt="adamw", lr=2e-3, weight_decay=0.05, momentum=0.9)
    decays = sorted({g["weight_decay"] for g in adamw.param_groups})
    assert type(adamw) is torch.optim.AdamW and decays == [0.0, 0.05]  # biases and norms are not decayed


def test_layer_decay_scales_each_vit_block_in_the_schedule():
    model = create_model(ModelSpec(model_name="Ti_16", num_classes=3, image_size=32))
    optimizer = create_optimizer(model, opt="adamw", lr=1e-3, weight_decay=0.05, momentum=0.9, layer_decay=0.5)
    factors = group_factors("warmupCosine", optimizer.param_groups, total_steps=100, warmup_steps=0)
    scales = sorted({f(0) for f in factors})
    # the heads at the full rate, the last block × 0.5, the embeddings (below 12 blocks) × 0.5 ** 13
    assert scales[-1] == 1.0 and scales[-2] == 0.5 and scales[0] == pytest.approx(0.5**13)
    names = {id(p): n for n, p in model.named_parameters()}
    head = next(f for g, f in zip(optimizer.param_groups, factors) if names[id(g["params"][0])].startswith("head"))
    assert head(0) == 1.0


@pytest.mark.parametrize(("model_name", "stages"), [("resnet18", 4), ("efficientnetb0", 8)])
def test_layer_decay_scales_each_cnn_stage_and_keeps_the_heads_at_the_full_rate(model_name, stages):
    model = create_model(ModelSpec(model_name=model_name, num_classes=3, image_size=32, num_tags=2, backbone=""))
    optimizer = create_optimizer(model, opt="adamw", lr=1e-3, weight_decay=0.05, momentum=0.9, layer_decay=0.5)
    scale = {n: g["lr_scale"] for g in optimizer.param_groups for n, p in model.named_parameters()
             if any(p is q for q in g["params"])}
    # stem, then one group per stage, then the heads: 0.5 ** (stages + 1) … 0.5, 1
    assert sorted(set(scale.values())) == pytest.approx([0.5**k for k in range(stages + 1, -1, -1)])
    assert all(scale[n] == 1.0 for n in scale if n.startswith(("net.fc.", "net.classifier.", "tag_head.")))
    assert scale["net.conv1.weight" if model_name == "resnet18" else "net.features.0.0.weight"] == 0.5 ** (stages + 1)
    assert len(scale) == len(list(model.parameters()))  # every parameter is optimized, once


def test_layer_decay_applies_only_from_learned_weights():
    assert TrainConfig(model_name="resnet18").layer_decay_used == 0.5  # from the package's backbone
    assert TrainConfig(model_name="resnet18", backbone="", pretrained=True).layer_decay_used == 0.5
    assert TrainConfig(model_name="resnet18", layer_decay=None).layer_decay_used is None
    assert TrainConfig(model_name="resnet18", backbone="").layer_decay_used is None
    assert TrainConfig(model_name="shallow", layer_decay=0.75).layer_decay_used is None
    # so it leaves the folder of a run from random weights as it was
    assert run_name(TrainConfig(model_name="shallow")) == run_name(TrainConfig(model_name="shallow", layer_decay=None))
    assert run_name(TrainConfig(model_name="resnet18")) != run_name(TrainConfig(model_name="resnet18",
                                                                                layer_decay=None))


@pytest.mark.parametrize(("values", "message"), [
    (dict(opt="adamx"), "opt='adamx' is not allowed; choose one of: adabelief"),
    (dict(aa="randaugment"), "aa='randaugment' is not an augmentation policy; choose one of: jitter, trivialaugment"),
    (dict(scale=[0.6, 0.3]), "scale must be two shares"),
    (dict(model_name="Ti_16", multimodal=True, mixup=0.2), "mixup=0.2 / cutmix=0.0 blend two pictures"),
    (dict(model_name="resnet18", layer_decay=1.5), "layer_decay must lie in"),
    (dict(model_name="resnet18", drop_path=0.1), "drop_path needs a ViT"),
    (dict(reprob=1.5), "reprob must lie in"),
    (dict(smoothing=1.0), "smoothing must lie in"),
    (dict(opt="momentum"), "learning_rate None picks an adaptive optimizer's rate"),
    (dict(learning_rate=0.0), "learning_rate must be positive"),
])
def test_bad_recipe_values_stop_with_one_sentence_naming_the_parameter(values, message):
    with pytest.raises(ConfigError, match=message) as err:
        TrainConfig(**values)
    assert str(err.value).startswith("TrainConfig: ") and "\n" not in str(err.value)


def test_the_default_learning_rate_is_the_model_familys_and_a_given_one_wins():
    assert TrainConfig(model_name="resnet18").peak_lr == TrainConfig(model_name="shallow").peak_lr == 2e-3
    assert TrainConfig(model_name="S_16").peak_lr == TrainConfig(model_name="Ti_16", multimodal=True).peak_lr == 5e-4
    assert TrainConfig(model_name="S_16", learning_rate=1e-3).peak_lr == 1e-3
    assert TrainConfig.from_dict({**load_yaml(ORIGINAL), "model_name": "S_16"}).peak_lr == 0.01


def test_recipe_files_hold_recipe_keys_only_and_combine_with_any_data_and_model():
    for path in (ORIGINAL, MODERN):
        values = load_yaml(path)
        assert set(values) == set(RECIPE), path.name
        for model in ("shallow", "resnet18", "S_16"):
            config = TrainConfig.from_dict({**values, "dataset_name": "moeImouto", "model_name": model})
            assert config.opt == values["opt"]


def test_the_defaults_are_the_modern_recipe():
    modern = load_yaml(MODERN)
    assert {k: TrainConfig.defaults()[k] for k in RECIPE} == modern


@pytest.mark.parametrize("path", PAPER, ids=lambda p: p.stem)
def test_the_paper_recipes_train_with_the_original_recipe(path):
    original, values = load_yaml(ORIGINAL), load_yaml(path)
    assert {k: values[k] for k in RECIPE if k not in OWN} == {k: original[k] for k in RECIPE if k not in OWN}


def test_the_original_recipe_keeps_the_run_names_of_earlier_versions():
    """A run trained as earlier versions trained keeps the folder they named (here, as main named it before
    the recipe parameters existed), so such runs still resume."""
    config = TrainConfig.from_dict({**load_yaml(ORIGINAL), "learning_rate": 0.03})
    assert run_name(config) == "synthetic_shallow_is64_28a446ef"
    assert run_name(TrainConfig()) != run_name(config)


def test_a_state_saved_before_the_recipe_parameters_reads_as_the_original_recipe():
    old = {k: v for k, v in TrainConfig(learning_rate=0.03).to_dict().items() if k not in TrainConfig.legacy_values()}
    config = TrainConfig.from_saved(old)
    assert (config.opt, config.weight_decay, config.smoothing, config.aa, config.scale) == ("momentum", 0.0, 0.0,
                                                                                            "jitter", None)


def test_background_writer_runs_jobs_in_order_and_raises_a_failure_later():
    writer, done = BackgroundWriter(), []
    try:
        writer.submit(lambda: done.append(1))
        writer.submit(lambda: 1 / 0)
        writer.submit(lambda: done.append(3))  # not run: nothing is written after a failure
        with pytest.raises(ZeroDivisionError):
            writer.flush()
        assert done == [1]
        writer.submit(lambda: done.append(4))  # the failure was reported once; the writer goes on
        writer.flush()
        assert done == [1, 4]
    finally:
        writer.close()
