"""convert-readings: a readings file (CSV, Parquet, Avro) as an Avro container of SensorReading for the simulator."""

from __future__ import annotations

import re
from pathlib import Path

import fastavro
import numpy as np
import pandas as pd
import pytest

from exitflow.cli import main
from exitflow.readings import ReadingsConfig, load_readings
from exitflow.replay import convert_readings

REPO = Path(__file__).resolve().parents[2]


def _frame() -> pd.DataFrame:
    """Three classes x three recordings of 30 readings, 31.25 ms apart (32 Hz) as ISO-8601 text, two channels;
    recordings listed in reverse, so the output's order (sorted by id) differs from the file's."""
    rows = []
    rng = np.random.default_rng(1)
    for r in reversed(range(9)):
        start = pd.Timestamp("2024-05-01T12:00:00Z") + pd.Timedelta(minutes=r)
        for i in range(30):
            t = start + pd.Timedelta(microseconds=31_250 * i)
            rows.append(
                {
                    "rec": f"r{r}",
                    "ts": t.isoformat().replace("+00:00", "Z"),
                    "ax": rng.normal() + r,
                    "ay": float(i),
                    "act": ["sit", "walk", "run"][r % 3],
                }
            )
    return pd.DataFrame(rows)


def _read(path: Path) -> list[dict]:
    with path.open("rb") as f:
        return list(fastavro.reader(f))


FLAGS = ["--recording-column", "rec", "--time-column", "ts", "--label-column", "act", "--channels", "ax,ay"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_converts_every_reading_with_its_recording_time_values_and_label(
    tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture
) -> None:
    frame = _frame()
    src = tmp_path / f"readings{suffix}"
    frame.to_csv(src, index=False) if suffix == ".csv" else frame.to_parquet(src, index=False)
    out = tmp_path / "out.avro"
    assert main(["convert-readings", str(src), *FLAGS, "--out", str(out)]) == 0
    assert "270 readings of 9 recordings" in capsys.readouterr().out
    records = _read(out)
    assert len(records) == 270
    assert [r["sensorId"] for r in records[::30]] == [f"r{i}" for i in range(9)]  # sorted, one block each
    first = frame[frame["rec"] == "r4"].reset_index(drop=True)
    got = [r for r in records if r["sensorId"] == "r4"]
    start = int(pd.Timestamp("2024-05-01T12:04:00Z").value // 1_000_000)
    for i in (0, 1, 29):
        ms = got[i]["eventTime"]
        ms = ms if isinstance(ms, int) else int(ms.timestamp() * 1000 + 0.5)
        assert ms == start + round(31.25 * i)  # to the millisecond, as the toolkit reads times
        assert got[i]["values"] == pytest.approx([first["ax"][i], first["ay"][i]], rel=1e-6)
        assert got[i]["label"] == "walk" and got[i]["severity"] is None


def test_an_avro_container_of_sensor_readings_round_trips(tmp_path: Path) -> None:
    first = tmp_path / "first.avro"
    frame = _frame()
    frame.to_csv(tmp_path / "r.csv", index=False)
    convert_readings(
        ReadingsConfig(
            readings=tmp_path / "r.csv",
            recording_column="rec",
            time_column="ts",
            label_column="act",
            channels=["ax", "ay"],
        ),
        first,
    )
    again = tmp_path / "again.avro"
    assert main(["convert-readings", str(first), "--out", str(again)]) == 0  # SensorReading's own column names
    assert _read(again) == _read(first)


def test_split_writes_only_the_recordings_build_tests_on(tmp_path: Path) -> None:
    src = tmp_path / "r.csv"
    _frame().to_csv(src, index=False)
    cfg = ReadingsConfig(
        readings=src,
        recording_column="rec",
        time_column="ts",
        label_column="act",
        channels=["ax", "ay"],
        window_size=8,
        window_slide=4,
        val_fraction=0.34,
        test_fraction=0.34,
        seed=3,
    )
    test_ids = set(load_readings(cfg).test.keys.tolist())
    out = tmp_path / "test.avro"
    assert (
        main(
            [
                "convert-readings",
                str(src),
                *FLAGS,
                "--window-size",
                "8",
                "--window-slide",
                "4",
                "--val-fraction",
                "0.34",
                "--test-fraction",
                "0.34",
                "--seed",
                "3",
                "--split",
                "test",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    written = {r["sensorId"] for r in _read(out)}
    assert written == test_ids and len(written) == 3  # one recording of each class


def test_without_a_label_column_readings_carry_no_labels(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = tmp_path / "r.csv"
    _frame().drop(columns=["act"]).to_csv(src, index=False)
    out = tmp_path / "out.avro"
    assert (
        main(["convert-readings", str(src), "--recording-column", "rec", "--time-column", "ts", "--out", str(out)]) == 0
    )
    assert "no labels" in capsys.readouterr().out
    assert {r["label"] for r in _read(out)} == {None}
    # Asked for by name, a missing label column is an error.
    assert (
        main(
            [
                "convert-readings",
                str(src),
                "--recording-column",
                "rec",
                "--time-column",
                "ts",
                "--label-column",
                "act",
                "--out",
                str(out),
            ]
        )
        == 2
    )


@pytest.mark.parametrize(
    "edit, flags, message",
    [
        (lambda f: f, ["--recording-column", "nope"], r"no column 'nope'.*--recording-column"),
        (lambda f: f.assign(ax=f["ax"].where(f.index != 40)), [], r"row 41: column 'ax' is empty"),
        (lambda f: pd.concat([f.iloc[:1], f.iloc[:1]]), [], r"two readings at the same time"),
        (lambda f: f.iloc[::-1], [], r"time goes backwards in recording"),
    ],
)
def test_bad_input_is_one_line_naming_what_to_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture, edit, flags, message: str
) -> None:
    src = tmp_path / "r.csv"
    edit(_frame()).to_csv(src, index=False)
    args = dict(zip(FLAGS[::2], FLAGS[1::2]))
    for k, v in zip(flags[::2], flags[1::2]):
        args[k] = v
    assert (
        main(["convert-readings", str(src), *[x for kv in args.items() for x in kv], "--out", str(tmp_path / "o.avro")])
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert re.search(message, err), err
    assert not (tmp_path / "o.avro").exists()


def test_exitflow_demo_knows_every_flag_of_convert_readings() -> None:
    """./exitflow-demo hands these flags to convert-readings; a flag it does not list would reach the Java demo."""
    import argparse

    from exitflow import cli

    script = (REPO / "exitflow-demo").read_text()
    listed = set(re.search(r"convert_flags=\"([^\"]*)\"", script).group(1).split())
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers()
    from exitflow.replay import add_parser

    add_parser(sub, cli._readings_args, cli.readings_config)
    parser = sub.choices["convert-readings"]
    flags = {o for a in parser._actions for o in a.option_strings if o.startswith("--")}
    flags -= {"--help", "--out", "--readings"}
    assert flags <= listed, f"add to convert_flags in exitflow-demo: {sorted(flags - listed)}"


def test_the_java_its_basicmotions_readings_are_the_committed_csv_converted(tmp_path: Path) -> None:
    """jobs/src/test/resources/basicmotions/test-readings.avro (BasicMotionsJobIT's input) must be exactly
    models/basicmotions-cnn/test-readings.csv as convert-readings writes it; after rebuilding the bundle, regenerate
    it with the command below."""
    csv = REPO / "models" / "basicmotions-cnn" / "test-readings.csv"
    committed = REPO / "jobs" / "src" / "test" / "resources" / "basicmotions" / "test-readings.avro"
    fresh = tmp_path / "fresh.avro"
    assert (
        main(
            [
                "convert-readings",
                str(csv),
                "--recording-column",
                "recording",
                "--time-column",
                "time",
                "--label-column",
                "activity",
                "--out",
                str(fresh),
            ]
        )
        == 0
    )
    assert _read(committed) == _read(fresh), (
        f"regenerate: ./exitflow convert-readings {csv.relative_to(REPO)} --recording-column recording "
        f"--time-column time --label-column activity --out {committed.relative_to(REPO)}"
    )
