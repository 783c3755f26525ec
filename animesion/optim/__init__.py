"""Optimisation: learning-rate schedules (``schedules``, no torch needed) and the optimizer of a run."""
