"""Sharing a trained model as the ecosystem does: a timm / Hugging Face folder with a model card."""
