"""A user's recordings: formats, column settings, sample period, the job's window cut, splits, and every error."""

from __future__ import annotations

import json
from pathlib import Path

import fastavro
import numpy as np
import pandas as pd
import pytest

from exitflow.data import DataError, class_weights
from exitflow.readings import (
    SENSOR_READING_SCHEMA,
    ReadingsConfig,
    default_max_gap,
    infer_period,
    load_config_file,
    load_readings,
    write_sensor_readings,
)

REPO = Path(__file__).resolve().parents[2]
T0 = 1_700_000_000_000


def recordings(
    classes=("sit", "walk", "run"),
    per_class: int = 4,
    n: int = 120,
    period: float = 31.25,
    channels: int = 2,
    seed: int = 0,
) -> pd.DataFrame:
    """Readings of ``per_class`` recordings per class, timestamps to the ms; the value encodes (recording, index,
    channel) so every window can be checked element by element."""
    rows = []
    for r in range(per_class * len(classes)):
        t = T0 + r * 10_000_000 + np.round(np.arange(n) * period).astype(np.int64)
        frame = pd.DataFrame({"subject": f"s{r:02d}", "ts": t})
        for c in range(channels):
            frame[f"ch{c}"] = 1000.0 * r + np.arange(n) + c / 10
        frame["activity"] = classes[r % len(classes)]
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def cfg(path: Path, **kw) -> ReadingsConfig:
    base = dict(
        readings=path,
        recording_column="subject",
        time_column="ts",
        label_column="activity",
        window_size=32,
        window_slide=8,
    )
    base.update(kw)
    return ReadingsConfig(**base)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def test_csv_parquet_and_avro_give_the_same_dataset(tmp_path: Path) -> None:
    frame = recordings()
    csv = write_csv(frame, tmp_path / "r.csv")
    parquet = tmp_path / "r.parquet"
    frame.to_parquet(parquet, index=False)
    avro = tmp_path / "r.avro"
    write_sensor_readings(avro, frame["subject"], frame["ts"], frame[["ch0", "ch1"]].to_numpy(), frame["activity"])
    a = load_readings(cfg(csv))
    b = load_readings(cfg(parquet))
    # Avro SensorReading: the default columns (sensorId, eventTime, values[...], label) need no flags
    c = load_readings(ReadingsConfig(readings=avro, window_size=32, window_slide=8))
    for d in (b, c):
        assert d.classes == a.classes == ["run", "sit", "walk"]  # from the data, sorted
        for s in ("train", "val", "test"):
            np.testing.assert_array_equal(d.split(s).x, a.split(s).x)
            assert d.split(s).y.tolist() == a.split(s).y.tolist()
            assert d.split(s).keys.tolist() == a.split(s).keys.tolist()
            assert d.split(s).end_ms.tolist() == a.split(s).end_ms.tolist()
    assert a.window == c.window


def test_the_avro_writer_uses_the_projects_schema() -> None:
    committed = json.loads((REPO / "schemas/src/main/avro/SensorReading.avsc").read_text())
    assert fastavro.schema.to_parsing_canonical_form(
        fastavro.parse_schema(committed)
    ) == fastavro.schema.to_parsing_canonical_form(fastavro.parse_schema(SENSOR_READING_SCHEMA))


def test_windows_are_cut_as_the_job_cuts_them(tmp_path: Path) -> None:
    """Size 32 every 8 readings per recording, channels first, labelled by the last reading; a step longer than the
    max gap starts a fresh window (WindowAssembler), at the reading after the gap."""
    frame = recordings(per_class=3, n=60, period=10)
    rec = frame["subject"] == "s00"
    times = frame.loc[rec, "ts"].to_numpy().copy()
    times[40:] += 1000  # a 1 s pause before reading 40
    frame.loc[rec, "ts"] = times
    labels = frame.loc[rec, "activity"].to_numpy().copy()
    labels[39] = "walk"  # the last reading of the window ending at 39
    frame.loc[rec, "activity"] = labels
    ds = load_readings(
        cfg(
            write_csv(frame, tmp_path / "r.csv"),
            window_size=16,
            window_slide=8,
            split_column=None,
            val_fraction=0.34,
            test_fraction=0.34,
        )
    )
    assert ds.window.sample_period_ms == 10 and ds.window.max_gap_ms == default_max_gap(10) == 32
    allsplits = [ds.train, ds.val, ds.test]
    ends = {int(e): (sp, i) for sp in allsplits for i, (k, e) in enumerate(zip(sp.keys, sp.end_ms)) if k == "s00"}
    # first run: readings 0..39 -> windows end at 15, 23, 31, 39; after the gap: 40..59 -> 55 (40 + 15)
    assert sorted(ends) == sorted(int(times[i]) for i in (15, 23, 31, 39, 55))
    sp, i = ends[int(times[39])]
    assert sp.y[i] == ds.classes.index("walk")
    np.testing.assert_array_equal(sp.x[i][0], np.arange(24, 40, dtype=np.float32))  # channel 0, readings 24..39
    np.testing.assert_allclose(sp.x[i][1], np.arange(24, 40) + 0.1, rtol=1e-6)  # channel 1
    sp, i = ends[int(times[55])]
    np.testing.assert_array_equal(sp.x[i][0], np.arange(40, 56, dtype=np.float32))
    assert "1 gaps over 32 ms" in ds.summary


def test_sample_period_is_a_real_number(tmp_path: Path) -> None:
    steps = np.diff(np.round(np.arange(1000) * 31.25))
    assert set(steps.tolist()) == {31.0, 32.0}
    assert infer_period(steps, 0.5) == 31.25
    ds = load_readings(cfg(write_csv(recordings(n=129), tmp_path / "r.csv")))
    assert ds.window.sample_period_ms == 31.25
    assert ds.window.max_gap_ms == 97  # 3 x 31.25 + 3.125, rounded up: the job's default


def test_iso_times_and_seconds_read_as_milliseconds(tmp_path: Path) -> None:
    frame = recordings(per_class=3, n=40, period=20)
    ms = load_readings(cfg(write_csv(frame, tmp_path / "ms.csv"), window_size=16))
    iso = frame.copy()
    iso["ts"] = pd.to_datetime(iso["ts"], unit="ms", utc=True).map(lambda t: t.isoformat())
    secs = frame.copy()
    secs["ts"] = secs["ts"] / 1000.0
    for other in (
        load_readings(cfg(write_csv(iso, tmp_path / "iso.csv"), window_size=16)),
        load_readings(cfg(write_csv(secs, tmp_path / "s.csv"), window_size=16, time_unit="s")),
    ):
        assert other.window == ms.window
        assert other.train.end_ms.tolist() == ms.train.end_ms.tolist()


def test_splits_go_by_recording_and_follow_the_seed(tmp_path: Path) -> None:
    path = write_csv(recordings(per_class=6), tmp_path / "r.csv")
    a, b, c = (load_readings(cfg(path, seed=s)) for s in (1, 1, 2))
    sets = [set(a.split(s).keys.tolist()) for s in ("train", "val", "test")]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert sum(len(s) for s in sets) == 18
    for cls in range(3):  # every class in every split
        assert all(cls in a.split(s).y for s in ("train", "val", "test"))
    assert [b.split(s).keys.tolist() for s in ("train", "val", "test")] == [
        a.split(s).keys.tolist() for s in ("train", "val", "test")
    ]
    assert set(c.test.keys.tolist()) != set(a.test.keys.tolist())


def test_a_split_column_is_used_and_a_missing_validation_split_drawn_from_train(tmp_path: Path) -> None:
    frame = recordings(per_class=4)
    frame["part"] = np.where(frame["subject"].isin(["s00", "s01", "s02"]), "test", "train")
    ds = load_readings(cfg(write_csv(frame, tmp_path / "r.csv"), split_column="part"))
    assert sorted(set(ds.test.keys.tolist())) == ["s00", "s01", "s02"]
    assert len(set(ds.val.keys.tolist())) == 3 and not set(ds.val.keys.tolist()) & set(ds.train.keys.tolist())


def test_class_order_and_skew(tmp_path: Path) -> None:
    ds = load_readings(cfg(write_csv(recordings(), tmp_path / "r.csv"), classes=["walk", "sit", "run"]))
    assert ds.classes == ["walk", "sit", "run"]
    assert class_weights(np.array([0, 1, 2, 0, 1, 2]), 3) is None
    w = class_weights(np.array([0] * 80 + [1] * 10 + [2] * 10), 3)
    assert w is not None and w[1] == w[2] and np.isclose(w[1] / w[0], np.sqrt(8))
    assert np.isclose(np.mean(np.asarray(w)[[0] * 80 + [1] * 10 + [2] * 10]), 1.0)


def test_different_data_set_shape(tmp_path: Path) -> None:
    """Nothing assumes the generator's five classes, three channels or 100 Hz."""
    frame = recordings(classes=("a", "b", "c", "d", "e", "f", "g"), per_class=3, channels=5, period=40, n=50)
    ds = load_readings(cfg(write_csv(frame, tmp_path / "r.csv"), window_size=20, window_slide=5))
    assert len(ds.classes) == 7 and ds.train.x.shape[1:] == (5, 20) and ds.window.sample_period_ms == 40


@pytest.mark.parametrize("fmt", ["yaml", "json", "toml"])
def test_a_dataset_file_holds_the_settings(tmp_path: Path, fmt: str) -> None:
    write_csv(recordings(), tmp_path / "walk.csv")
    settings = {
        "readings": "walk.csv",
        "recording_column": "subject",
        "time_column": "ts",
        "label_column": "activity",
        "channels": ["ch1"],
        "window_size": 32,
        "window_slide": 8,
    }
    text = {
        "json": json.dumps(settings),
        "yaml": "\n".join(f"{k}: {json.dumps(v)}" for k, v in settings.items()),
        "toml": "\n".join(f"{k} = {json.dumps(v)}" for k, v in settings.items()),
    }[fmt]
    (tmp_path / f"d.{fmt}").write_text(text)
    ds = load_readings(ReadingsConfig(**load_config_file(tmp_path / f"d.{fmt}")))
    assert ds.train.x.shape[1:] == (1, 32)


def test_feature_tables(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 90
    frame = pd.DataFrame(
        {
            "f1": rng.normal(size=n),
            "f2": rng.normal(size=n),
            "name": [f"e{i}" for i in range(n)],
            "kind": np.repeat(["x", "y", "z"], 30),
        }
    )
    ds = load_readings(
        ReadingsConfig(readings=write_csv(frame, tmp_path / "f.csv"), task="features", label_column="kind")
    )
    assert ds.task == "features" and ds.classes == ["x", "y", "z"] and ds.train.x.shape[1] == 2
    assert len(ds.train) + len(ds.val) + len(ds.test) == n and len(ds.val) > 0 and len(ds.test) > 0
    frame["machine"] = [f"m{i % 9}" for i in range(n)]
    frame["kind"] = [["x", "y", "z"][(i % 9) % 3] for i in range(n)]
    grouped = load_readings(
        ReadingsConfig(
            readings=write_csv(frame, tmp_path / "g.csv"),
            task="features",
            label_column="kind",
            recording_column="machine",
            channels=["f1", "f2"],
        )
    )
    assert not set(grouped.train.keys.tolist()) & set(grouped.test.keys.tolist())


# --------------------------------------------------------------------------------------------------- errors


def error(tmp_path: Path, frame: pd.DataFrame, **kw) -> str:
    with pytest.raises(DataError) as e:
        load_readings(cfg(write_csv(frame, tmp_path / "bad.csv"), **kw))
    message = str(e.value)
    assert "\n" not in message
    return message


def test_missing_column_names_the_columns_and_the_flag(tmp_path: Path) -> None:
    m = error(tmp_path, recordings(), time_column="time")
    assert "bad.csv: no column 'time' (time_column)" in m and "'ts'" in m and "--time-column" in m
    m = error(tmp_path, recordings(), channels=["ch0", "acc_z"])
    assert "no column 'acc_z'" in m and "--channels" in m


def test_nan_names_row_and_column(tmp_path: Path) -> None:
    frame = recordings()
    frame.loc[17, "ch1"] = np.nan
    m = error(tmp_path, frame)
    assert "bad.csv row 18: column 'ch1' is empty (NaN)" in m and "fill or drop" in m
    frame = recordings()
    frame["ch0"] = frame["ch0"].astype(object)
    frame.loc[5, "ch0"] = "high"
    assert "row 6: column 'ch0' holds 'high', not a number" in error(tmp_path, frame)


def test_time_going_backwards_names_recording_and_row(tmp_path: Path) -> None:
    frame = recordings()
    frame.loc[[10, 11], "ts"] = frame.loc[[11, 10], "ts"].to_numpy()
    m = error(tmp_path, frame)
    assert "bad.csv row 12: time goes backwards in recording 's00'" in m and "sort" in m
    frame = recordings()
    frame.loc[11, "ts"] = frame.loc[10, "ts"]
    assert "recording 's00' has two readings at the same time" in error(tmp_path, frame)


def test_irregular_sampling_names_the_recording(tmp_path: Path) -> None:
    frame = recordings()
    rec = frame["subject"] == "s04"
    frame.loc[rec, "ts"] = T0 + 4 * 10_000_000 + np.arange(rec.sum()) * 10  # 10 ms where the others have 31.25
    m = error(tmp_path, frame)
    assert "recording 's04' has readings every 10 ms (median)" in m and "31.25 ms" in m
    frame = recordings()
    frame.loc[30, "ts"] = frame.loc[29, "ts"] + 5
    assert "row 31: recording 's00' has readings 5 ms apart" in error(tmp_path, frame)


def test_too_few_recordings_of_a_class(tmp_path: Path) -> None:
    frame = recordings(per_class=3)
    frame = frame[~frame["subject"].isin(["s01", "s04"])]  # 'walk' keeps one recording (s07)
    m = error(tmp_path, frame)
    assert "class 'walk' has 1 recording(s) (s07)" in m and "at least 3" in m and "--split-column" in m


def test_window_longer_than_a_recording(tmp_path: Path) -> None:
    frame = recordings()
    frame = frame[~((frame["subject"] == "s05") & (frame.groupby("subject").cumcount() >= 20))]
    m = error(tmp_path, frame)
    assert "recording 's05' has 20 readings, fewer than the window size 32" in m and "--window-size" in m


def test_other_bad_input(tmp_path: Path) -> None:
    frame = recordings()
    assert "label 'sit' (column 'activity') is not in --classes" in error(tmp_path, frame, classes=["run", "walk"])
    frame["part"] = "train"
    frame.loc[3, "part"] = "test"
    assert "recording 's00' has rows in test and train" in error(tmp_path, frame, split_column="part")
    frame.loc[3, "part"] = "holdout"
    assert "row 4: column 'part' holds 'holdout'" in error(tmp_path, frame, split_column="part")
    with pytest.raises(DataError, match="unknown format"):
        load_readings(ReadingsConfig(readings=write_csv(frame, tmp_path / "r.txt")))
    (tmp_path / "d.yaml").write_text("readings: r.csv\nwindow_sise: 3\n")
    with pytest.raises(DataError, match="unknown setting 'window_sise'"):
        load_config_file(tmp_path / "d.yaml")
