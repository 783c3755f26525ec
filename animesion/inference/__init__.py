"""Classifying and tagging folders of images with a trained checkpoint."""

from .folder import InferenceResult, list_files, predict_files, predict_folder
from .modes import INFERENCE_MODES, run_inference
from .samples import make_sample_images, prepare_test_path

__all__ = ["INFERENCE_MODES", "InferenceResult", "list_files", "make_sample_images", "predict_files", "predict_folder",
           "prepare_test_path", "run_inference"]
