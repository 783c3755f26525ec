"""Inference modes: characters only, characters and tags, and a tags CSV that 01_data_exploration reads."""

from __future__ import annotations

import pandas as pd
import pytest

from animesion.config.explore import ExploreConfig
from animesion.config.inference import MODES, InferenceConfig
from animesion.errors import AnimesionError, ConfigError
from animesion.exploration import explore
from animesion.inference.run import run_inference
from animesion.inference.samples import make_sample_images


@pytest.fixture(scope="module")
def vilt(tiny_vilt_run):
    return str(tiny_vilt_run[1].best_checkpoint)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return make_sample_images(tmp_path_factory.mktemp("imgs"), count=4)


def test_the_mode_choices_are_the_registry():
    assert MODES.names() == ["recognition_vision", "recognition_tagging", "gen_tags", "captions"]
    assert [MODES.get(m).tags for m in MODES.names()] == [False, True, True, True]
    with pytest.raises(ConfigError, match="mode='tagging' is not allowed; choose one of: recognition_vision"):
        InferenceConfig(mode="tagging")


def test_recognition_tagging_lists_vocabulary_tags(vilt, images, tmp_path):
    config = InferenceConfig(checkpoint_path=vilt, test_path=str(images), mode="recognition_tagging", top_k=3,
                             results_dir=str(tmp_path))
    run = run_inference(config, progress=False)
    result = run.result
    assert len(result.table) == 4 and len(result.failures) == 2  # README.txt and broken.jpg
    for tags in result.table["tags"]:
        assert len(tags) == len(set(tags)) and all(tag in run.checkpoint.vocab.tags for tag in tags)
    assert all("\n" in caption for caption in result.captions(result.table["file"].tolist()))
    assert len(list((run.out_dir / "annotated").glob("*.png"))) == 4


def test_recognition_vision_reads_a_multimodal_checkpoint_from_the_image(vilt, images, tmp_path):
    config = InferenceConfig(checkpoint_path=vilt, test_path=str(images), top_k=2, results_dir=str(tmp_path),
                             save_results=False)
    run = run_inference(config, progress=False)
    assert list(run.result.table.columns) == ["file", "top1", "top1_prob", "top2", "top2_prob", "confidence",
                                             "best_match", "score", "notes"]
    assert run.out_dir is None


def test_gen_tags_writes_a_tags_csv_that_exploration_reads(vilt, tiny_dataset, tmp_path):
    listed = tmp_path / "new_images.csv"
    listed.write_text((tiny_dataset / "labels" / "test.csv").read_text() + "0,0000/missing.jpg\n")
    config = InferenceConfig(checkpoint_path=vilt, mode="gen_tags", test_csv=str(listed),
                             test_path=str(tiny_dataset / "faces"), results_dir=str(tmp_path), save_results=False)
    run = run_inference(config, progress=False)
    result = run.result
    assert run.tags_csv == tmp_path / "inference" / "new_images_tags.csv"
    table = pd.read_csv(run.tags_csv)
    assert list(table.columns) == ["dir", "class_id", "tags_cat0", "character"] and len(table) == 12
    assert result.failures["file"].str.endswith("missing.jpg").tolist() == [True]
    exploration = explore(ExploreConfig(dataset_path=str(tiny_dataset), tags_csv=str(run.tags_csv),
                                        results_dir=str(tmp_path / "explore")))
    assert len(exploration.tag_lists) == 12 and exploration.tag_counts.sum() > 0


def test_tagging_needs_a_tag_model(tiny_run, images, tmp_path):
    config = InferenceConfig(checkpoint_path=str(tiny_run.best_checkpoint), test_path=str(images), mode="gen_tags",
                             results_dir=str(tmp_path))
    with pytest.raises(AnimesionError, match="tag_head=True") as err:
        run_inference(config, progress=False)
    assert "\n" not in str(err.value)
