"""The larger real data set of bench/datasets/shoulder-watch.sh (seglearn's smartwatch recordings) converts from the
installed seglearn wheel, loads with its dataset file, and has the subjects, classes, channels and subject-wise
splits that bench/RESULTS.md states. No training here (the bench script does that)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exitflow.readings import ReadingsConfig, load_config_file, load_readings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sw():
    spec = importlib.util.spec_from_file_location("shoulder_watch", REPO / "bench" / "datasets" / "shoulder_watch.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["shoulder_watch"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def written(sw, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("shoulder-watch")
    sw.write(out)
    return out


def test_the_readings_file_has_the_stated_subjects_classes_and_channels(written: Path, sw) -> None:
    frame = pd.read_parquet(written / "readings.parquet")
    assert len(frame) == 244_102
    assert frame["recording"].nunique() == 140 and frame["subject"].nunique() == 10
    assert sorted(frame["exercise"].unique()) == ["ABD", "ER", "FEL", "IR", "PEN", "ROW", "TRAP"]
    assert list(frame.columns[4:10]) == sw.CHANNELS == ["ax", "ay", "az", "wx", "wy", "wz"]
    per_recording = frame.groupby("recording")
    assert (per_recording["exercise"].nunique() == 1).all() and (per_recording["subject"].nunique() == 1).all()
    assert (per_recording["time"].diff().dropna() == 20).all()  # 50 Hz
    # every subject did every exercise once with each arm
    assert (frame.groupby(["subject", "exercise"])["side"].nunique() == 2).all()
    splits = frame.groupby("split")["subject"].unique().map(lambda s: sorted(s.tolist())).to_dict()
    assert splits == {"train": [1, 2, 3, 4, 5, 6], "val": [7, 8], "test": [9, 10]}


def test_it_loads_with_the_documented_dataset_file(written: Path, sw) -> None:
    ds = load_readings(ReadingsConfig(**load_config_file(written / "dataset.yaml")))
    assert ds.classes == ["ABD", "ER", "FEL", "IR", "PEN", "ROW", "TRAP"]
    assert ds.window.sample_period_ms == 20.0 and (ds.window.size, ds.window.slide) == (128, 16)
    assert ds.train.x.shape[1:] == (6, 128)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (8103, 3070, 3045)
    subjects = {s: {k.split("-")[0] for k in ds.split(s).keys.tolist()} for s in ("train", "val", "test")}
    assert subjects["test"] == {"s09", "s10"} and subjects["val"] == {"s07", "s08"}
    assert np.bincount(ds.test.y, minlength=7).min() > 0


def test_test_readings_are_the_test_subjects_only(written: Path) -> None:
    test = pd.read_csv(written / "test-readings.csv")
    assert sorted(test["subject"].unique().tolist()) == [9, 10] and test["recording"].nunique() == 28
    assert "split" not in test.columns


def test_a_wrong_source_file_is_refused_in_one_line(sw, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "watch_dataset.npy").write_bytes(b"not the data")
    spec = importlib.machinery.ModuleSpec("seglearn", None, is_package=True)
    spec.submodule_search_locations = [str(tmp_path)]
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec)
    with pytest.raises(SystemExit, match="not seglearn 1.2.5's"):
        sw.source_file()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SystemExit, match="pip install seglearn==1.2.5"):
        sw.source_file()
