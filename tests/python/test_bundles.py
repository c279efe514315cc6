"""The committed bundles load in ONNX Runtime and reproduce their own fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exitflow.export import verify_bundle

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "name,task,shape", [("sensor-cnn", "sensor-window", [3, 128]), ("features-mlp", "features", [36])]
)
def test_committed_bundle(name: str, task: str, shape: list[int]) -> None:
    bundle = REPO / "models" / name
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["model_id"] == name and manifest["task"] == task
    assert manifest["input"]["shape"] == shape
    assert len(manifest["exit"]["thresholds"]) == len(manifest["stages"]) == 4
    assert sum((bundle / s["file"]).stat().st_size for s in manifest["stages"]) < 4_000_000
    assert verify_bundle(bundle)["stages"] == 4
