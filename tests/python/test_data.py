"""The Avro reader and window cutting, against the contract (docs/bundle-contract.md)."""

from __future__ import annotations

import json
from pathlib import Path

import fastavro
import numpy as np
import pytest

from exitflow.data import (
    CLASSES,
    DataError,
    Split,
    cut_windows,
    norm_stats,
    normalise,
    read_feature_split,
    read_sensor_split,
)

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "schemas/src/main/avro/SensorReading.avsc").read_text())


def _write(path: Path, records: list[dict]) -> None:
    with path.open("wb") as f:
        fastavro.writer(f, fastavro.parse_schema(SCHEMA), records)


def _readings(sensor: str, n: int, t0: int = 1_700_000_000_000, label_at=lambda i: "normal") -> list[dict]:
    # value encodes (sensor, reading index, channel) so every window can be checked element by element
    base = 1000.0 if sensor == "b" else 0.0
    return [
        {
            "sensorId": sensor,
            "eventTime": t0 + 10 * i,
            "values": [base + i, base + i + 0.25, base + i + 0.5],
            "label": label_at(i),
            "severity": 0.5,
        }
        for i in range(n)
    ]


def test_cut_windows_follows_the_contract() -> None:
    n = 300
    values = np.arange(n, dtype=np.float32)[:, None] * np.array([1.0, 10.0], np.float32)
    labels = np.arange(n) % 5
    w, lab, ends = cut_windows(values, labels, size=128, slide=32)
    # starts 0, 32, ..., 160 (160 + 128 = 288 <= 300; 192 + 128 > 300)
    assert w.shape == (6, 2, 128)
    assert ends.tolist() == [127, 159, 191, 223, 255, 287]
    assert lab.tolist() == (np.array(ends) % 5).tolist()  # label of the LAST reading
    assert w[1, 0, 0] == 32 and w[1, 0, -1] == 159 and w[1, 1, 0] == 320  # channels first


def test_short_stream_gives_no_window() -> None:
    w, lab, _ = cut_windows(np.zeros((127, 3), np.float32), np.zeros(127, np.int64))
    assert w.shape == (0, 3, 128) and lab.shape == (0,)


def test_reader_groups_by_sensor(tmp_path: Path) -> None:
    a = _readings("a", 200, label_at=lambda i: CLASSES[(i // 10) % 5])
    b = _readings("b", 160)
    records = a[:50] + b + a[50:]  # interleaved sensors
    path = tmp_path / "s.avro"
    _write(path, records)
    split = read_sensor_split(path)
    # sensor a: starts 0, 32, 64 (64+128=192 <= 200); sensor b: starts 0, 32 (32+128=160)
    assert split.x.shape == (5, 3, 128)
    assert split.keys.tolist() == ["a", "a", "a", "b", "b"]
    np.testing.assert_array_equal(split.x[2, 0], np.arange(64, 192, dtype=np.float32))
    np.testing.assert_array_equal(split.x[4, 2], 1000.5 + np.arange(32, 160, dtype=np.float32))
    assert split.y.tolist()[:3] == [CLASSES.index(CLASSES[(e // 10) % 5]) for e in (127, 159, 191)]


def test_unknown_label_is_a_clear_error(tmp_path: Path) -> None:
    recs = _readings("a", 130)
    recs[7]["label"] = "meltdown"
    path = tmp_path / "bad.avro"
    _write(path, recs)
    with pytest.raises(DataError, match="row 8: label 'meltdown' .* is not in"):
        read_sensor_split(path)


def test_readings_out_of_time_order_are_a_clear_error(tmp_path: Path) -> None:
    records = _readings("a", 200)
    records[10], records[11] = records[11], records[10]
    path = tmp_path / "s.avro"
    _write(path, records)
    with pytest.raises(DataError, match="row 12: time goes backwards in recording 'a'"):
        read_sensor_split(path)


def test_missing_file_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="make-dataset.sh"):
        read_feature_split(tmp_path / "nope.avro")


def test_normalisation_uses_training_statistics() -> None:
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(50, 3, 128)).astype(np.float32)
    mean, std = norm_stats(Split(x, np.zeros(len(x), np.int64), np.zeros(len(x), object)))
    z = normalise(x, mean, std)
    np.testing.assert_allclose(z.mean(axis=(0, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=(0, 2)), 1.0, atol=1e-3)


def test_generated_windows_match_the_java_feature_events(small_root: Path, small_sensor) -> None:
    """Java computes one FeatureEvent per window it cuts; our windows must be the same windows."""
    feats = read_feature_split(small_root / "features" / "train.avro")
    assert len(feats) == len(small_sensor.train)
    assert feats.keys.tolist() == small_sensor.train.keys.tolist()
    assert feats.y.tolist() == small_sensor.train.y.tolist()
    with (small_root / "features" / "train.avro").open("rb") as f:
        times = [r["eventTime"] for r in fastavro.reader(f)]
    with (small_root / "sensor" / "train.avro").open("rb") as f:
        first = next(iter(fastavro.reader(f)))["eventTime"]
    # The first feature event is stamped with the last reading of the first window (reading 127).
    assert (times[0] - first).total_seconds() * 1000 == pytest.approx(127 * 10)
