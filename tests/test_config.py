"""Configs reject unknown keys, wrong types and bad choices with one sentence naming the key."""

from __future__ import annotations

import pytest

from animesion.config.evaluate import EvaluateConfig
from animesion.config.train import TrainConfig
from animesion.errors import ConfigError


def test_defaults_are_valid():
    config = TrainConfig()
    assert config.dataset_name == "synthetic"
    assert config.to_dict()["model_name"] == config.model_name


def test_unknown_key_suggests_closest_name():
    with pytest.raises(ConfigError, match="unknown parameter 'model_nam'.*Did you mean 'model_name'"):
        TrainConfig.from_dict({"model_nam": "resnet18"})


def test_bad_choice_lists_allowed_values():
    with pytest.raises(ConfigError, match="model_name='foo' is not allowed; choose one of: shallow, resnet18"):
        TrainConfig(model_name="foo")


@pytest.mark.parametrize(("key", "value"), [("batch_size", "32"), ("batch_size", True), ("pretrained", 1),
                                            ("learning_rate", "0.1")])
def test_wrong_type_is_refused(key, value):
    with pytest.raises(ConfigError, match=f"'{key}' must be"):
        TrainConfig(**{key: value})


def test_int_is_accepted_for_float_and_converted():
    assert TrainConfig(learning_rate=1).learning_rate == 1.0
    assert isinstance(TrainConfig(learning_rate=1).learning_rate, float)


def test_optional_choice_accepts_none_and_checks_values():
    assert TrainConfig(mask_schedule=None).mask_schedule is None
    with pytest.raises(ConfigError, match="mask_schedule='linear'"):
        TrainConfig(mask_schedule="linear")


def test_cross_field_checks():
    with pytest.raises(ConfigError, match="exclusion_loss needs interm_features_fc"):
        TrainConfig(exclusion_loss=True)
    with pytest.raises(ConfigError, match="batch_size must be positive"):
        TrainConfig(batch_size=0)


def test_replace_validates_and_rejects_unknown_keys():
    assert TrainConfig().replace(image_size=32).image_size == 32
    with pytest.raises(ConfigError, match="unknown parameter"):
        TrainConfig().replace(imagesize=32)


def test_from_namespace_picks_only_config_names():
    namespace = {"model_name": "resnet18", "unrelated": 3, "__name__": "__main__"}
    assert TrainConfig.from_namespace(namespace).model_name == "resnet18"


def test_yaml_round_trip(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("model_name: resnet18\nno_epochs: 3\n")
    config = TrainConfig.from_yaml(path, batch_size=8)
    assert (config.model_name, config.no_epochs, config.batch_size) == ("resnet18", 3, 8)
    path.write_text("- not a mapping\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        TrainConfig.from_yaml(path)


def test_evaluate_config_dataset_name_defaults_to_checkpoint():
    assert EvaluateConfig().dataset_name is None
    with pytest.raises(ConfigError, match="dataset_name='imagenet'"):
        EvaluateConfig(dataset_name="imagenet")
