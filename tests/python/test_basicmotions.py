"""Real data end to end: BasicMotions (smart-watch accelerometer and gyroscope, from the aeon wheel) as a readings
file, trained, exported and verified; and the committed models/basicmotions-cnn with its test readings and the
predictions the anomaly job must reproduce."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from exitflow import basicmotions as bm
from exitflow.export import verify_bundle
from exitflow.predict import predict
from exitflow.readings import load_readings

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "models" / bm.MODEL_ID


@pytest.fixture(scope="module")
def frame():
    return bm.readings_frame()


def test_basicmotions_as_readings(frame, tmp_path: Path) -> None:
    assert frame["recording"].nunique() == 80 and len(frame) == 80 * 100
    ds = load_readings(bm.readings_config(bm.write_readings(frame, tmp_path / "bm.parquet")))
    assert ds.classes == ["badminton", "running", "standing", "walking"]
    assert ds.window.sample_period_ms == bm.PERIOD_MS == 100  # 10 Hz, inferred from the timestamps
    assert ds.train.x.shape[1:] == (6, bm.WINDOW_SIZE)
    recordings = {s: set(ds.split(s).keys.tolist()) for s in ("train", "val", "test")}
    assert len(recordings["test"]) == 40 and all(r.startswith("bm-test-") for r in recordings["test"])
    assert len(recordings["val"]) == 8 and all(r.startswith("bm-train-") for r in recordings["val"])
    assert len(ds.test) == 40 * 6  # (100 - 50) / 10 + 1 windows per recording


def test_train_export_verify_on_basicmotions(tmp_path: Path) -> None:
    out = tmp_path / "bm"
    manifest = bm.build_bundle(out, epochs=12, measure=False)
    assert verify_bundle(out)["stages"] == 4
    assert manifest["format_version"] == 2 and manifest["classes"] == ["badminton", "running", "standing", "walking"]
    assert manifest["input"]["window"] == {"size": 50, "slide": 10, "sample_period_ms": 100.0, "max_gap_ms": 310.0}
    assert manifest["training"]["metrics"]["test_accuracy_per_exit"][-1] >= 0.75  # 4 classes: chance is 0.25
    rows = list(csv.DictReader((out / bm.EXPECTED).open()))
    assert len(rows) == 240 and {r["label"] for r in rows} == set(manifest["classes"])


def test_the_committed_bundle_and_its_expected_predictions() -> None:
    assert verify_bundle(COMMITTED)["stages"] == 4
    size = sum(p.stat().st_size for p in COMMITTED.iterdir())
    assert size < 1_000_000, size
    manifest = json.loads((COMMITTED / "manifest.json").read_text())
    windows, classes = bm.windows_of(COMMITTED / bm.TEST_READINGS, manifest["classes"])
    got = predict(COMMITTED, windows.x)
    rows = {(r["sensor"], int(r["window_end_ms"])): r for r in csv.DictReader((COMMITTED / bm.EXPECTED).open())}
    assert len(rows) == len(windows) == 240
    for i, key in enumerate(zip(windows.keys.tolist(), windows.end_ms.tolist())):
        r = rows[key]
        assert int(r["exit_stage"]) == got.exit_stage[i] and r["class"] == classes[got.class_index[i]], key
        assert r["label"] == classes[windows.y[i]]
    accuracy = np.mean([r["class"] == r["label"] for r in rows.values()])
    assert accuracy >= 0.9, accuracy
