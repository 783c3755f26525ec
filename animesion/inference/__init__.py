"""Classifying folders of images with a trained checkpoint."""

from .folder import InferenceResult, list_files, predict_folder
from .samples import make_sample_images, prepare_test_path

__all__ = ["InferenceResult", "list_files", "make_sample_images", "predict_folder", "prepare_test_path"]
