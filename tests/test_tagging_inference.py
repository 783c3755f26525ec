"""Inference modes: characters only, characters and tags, and a tags CSV that 01_data_exploration reads."""

from __future__ import annotations

import pandas as pd
import pytest

from animesion.config.explore import ExploreConfig
from animesion.config.inference import MODES, InferenceConfig
from animesion.errors import AnimesionError
from animesion.exploration import explore
from animesion.inference import INFERENCE_MODES, make_sample_images, run_inference
from animesion.inference.annotate import write_results
from animesion.training import load_checkpoint


@pytest.fixture(scope="module")
def vilt(tiny_vilt_run):
    return load_checkpoint(tiny_vilt_run[1].best_checkpoint)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return make_sample_images(tmp_path_factory.mktemp("imgs"), count=4)


def test_registry_matches_the_config_choices():
    assert INFERENCE_MODES.names() == list(MODES)


def test_recognition_tagging_lists_vocabulary_tags(vilt, images, tmp_path):
    config = InferenceConfig(mode="recognition_tagging", top_k=3, results_dir=str(tmp_path))
    result = run_inference(vilt, config, images, progress=False)
    assert len(result.table) == 4 and len(result.failures) == 2  # README.txt and broken.jpg
    for tags in result.table["tags"]:
        assert len(tags) == len(set(tags)) and all(tag in vilt.vocab.tags for tag in tags)
    assert all("\n" in caption for caption in result.captions(list(result.images)))
    out = write_results(result, tmp_path / "out", top_k=3)
    assert len(list((out / "annotated").glob("*.png"))) == 4


def test_recognition_vision_reads_a_multimodal_checkpoint_from_the_image(vilt, images):
    result = run_inference(vilt, InferenceConfig(top_k=2), images, progress=False)
    assert list(result.table.columns) == ["file", "top1", "top1_prob", "top2", "top2_prob"]


def test_gen_tags_writes_a_tags_csv_that_exploration_reads(vilt, tiny_dataset, tmp_path):
    listed = tmp_path / "new_images.csv"
    listed.write_text((tiny_dataset / "labels" / "test.csv").read_text() + "0,0000/missing.jpg\n")
    config = InferenceConfig(mode="gen_tags", test_csv=str(listed), test_path=str(tiny_dataset / "faces"),
                             results_dir=str(tmp_path))
    result = run_inference(vilt, config, tiny_dataset / "faces", progress=False)
    assert result.tags_csv == tmp_path / "inference" / "new_images_tags.csv"
    table = pd.read_csv(result.tags_csv)
    assert list(table.columns) == ["dir", "class_id", "tags_cat0", "character"] and len(table) == 12
    assert result.failures["file"].str.endswith("missing.jpg").tolist() == [True]
    exploration = explore(ExploreConfig(dataset_path=str(tiny_dataset), tags_csv=str(result.tags_csv),
                                        results_dir=str(tmp_path / "explore")))
    assert len(exploration.tag_lists) == 12 and exploration.tag_counts.sum() > 0


def test_tagging_needs_a_tag_model(tiny_run, images):
    ckpt = load_checkpoint(tiny_run.best_checkpoint)
    with pytest.raises(AnimesionError, match="multimodal=False") as err:
        run_inference(ckpt, InferenceConfig(mode="gen_tags"), images, progress=False)
    assert "\n" not in str(err.value)
