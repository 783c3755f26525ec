"""``make bench-tagging`` end to end on the tiny synthetic set (DAF:re layout with tags), in its quick form."""

from __future__ import annotations

import pytest

from benchmarks import tagging

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_quick_tagging_benchmark_reports_both_models_speed_and_new_characters(tiny_dataset, tmp_path, monkeypatch):
    monkeypatch.setattr(tagging, "work_dir", lambda: tmp_path)
    output = tagging.main(["--quick", "--data", str(tiny_dataset), "--output", str(tmp_path / "tagging.md")])
    report = output.read_text()
    for text in ("resnet18 + tag head", "Ti_16 vision+tags", "fp32, batch 1", "ONNX, batch 32", "never saw",
                 "test split of the trained characters", "new characters: tag mAP"):
        assert text in report, text
