"""Speed and memory benchmarks of the workbook against a naive reference pipeline (``make bench``)."""
