"""Using a trained model: the one :class:`Predictor` (eval transform, device, autocast, batched forward),
the per-sample :class:`Predictions` over a split, batched classification of files, and CPU fast paths."""
