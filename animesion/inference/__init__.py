"""``05_inference``: classify and tag folders of new pictures with a trained checkpoint (``run_inference``)."""
