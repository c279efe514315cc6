"""The documented command line: build prints training progress and leaves a bundle that verifies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exitflow.cli import main
from test_readings import recordings


def test_build_and_verify_from_the_command_line(
    small_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "features-mlp"
    assert (
        main(
            [
                "build",
                "--data",
                str(small_root),
                "--task",
                "features",
                "--method",
                "boost",
                "--epochs",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "[train] epoch 1/2" in printed and "[train] epoch 2/2" in printed  # progress while training
    assert "[export]" in printed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model_id"] == "features-mlp" and manifest["training"]["method"] == "boost"
    assert main(["verify", str(out)]) == 0


def test_missing_dataset_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["build", "--data", str(tmp_path), "--task", "features", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "make-dataset.sh" in err and err.count("\n") == 1  # one line, no traceback


READINGS_FLAGS = [
    "--recording-column",
    "subject",
    "--time-column",
    "ts",
    "--label-column",
    "activity",
    "--window-size",
    "32",
    "--window-slide",
    "8",
]


def test_build_from_a_readings_file_with_column_flags(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Three classes, two channels, 32 Hz (31.25 ms, timestamps to the ms): nothing assumes the default data set."""
    csv = tmp_path / "walk.csv"
    recordings(per_class=4, n=100).to_csv(csv, index=False)
    out = tmp_path / "walk-cnn"
    assert (
        main(
            [
                "build",
                "--task",
                "sensor-window",
                "--readings",
                str(csv),
                *READINGS_FLAGS,
                "--epochs",
                "1",
                "--method",
                "joint",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "12 recordings (6 train, 3 val, 3 test), channels ['ch0', 'ch1'], sample period 31.25 ms" in printed
    m = json.loads((out / "manifest.json").read_text())
    assert m["format_version"] == 2 and m["classes"] == ["run", "sit", "walk"]
    assert m["input"]["shape"] == [2, 32]
    assert m["input"]["window"] == {"size": 32, "slide": 8, "sample_period_ms": 31.25, "max_gap_ms": 97.0}
    assert m["training"]["dataset"] == str(csv)
    assert main(["verify", str(out)]) == 0


@pytest.mark.parametrize(
    "edit,flags,expected",
    [
        (lambda f: f.drop(columns=["activity"]), [], "no column 'activity' (label_column)"),
        (lambda f: f.assign(ch1=f["ch1"].where(f.index != 40)), [], "row 41: column 'ch1' is empty (NaN)"),
        (lambda f: f.assign(ts=f["ts"].where(f.index != 60, 0)), [], "row 61: time goes backwards in recording 's00'"),
        (
            lambda f: f[f["subject"].isin(["s00", "s01", "s02", "s03", "s04", "s05"])],
            [],
            "class 'run' has 2 recording(s) (s02, s05)",
        ),
        (lambda f: f, ["--window-size", "500"], "recording 's00' has 100 readings, fewer than the window size 500"),
    ],
    ids=["missing-column", "nan", "time-backwards", "too-few-recordings", "window-too-long"],
)
def test_bad_readings_end_the_command_with_one_line_and_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, edit, flags: list[str], expected: str
) -> None:
    csv = tmp_path / "bad.csv"
    edit(recordings(per_class=4, n=100)).to_csv(csv, index=False)
    for command in ("build", "evaluate"):
        rc = main(
            [
                command,
                "--task",
                "sensor-window",
                "--readings",
                str(csv),
                *READINGS_FLAGS,
                *flags,
                "--epochs",
                "1",
                "--out",
                str(tmp_path / "out"),
            ]
        )
        err = capsys.readouterr().err
        assert rc == 2, err
        assert err.startswith(f"error: {csv}") or err.startswith("error: class"), err
        assert expected in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_dataset_file_and_flags_combine(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    recordings(per_class=4, n=100).to_csv(tmp_path / "walk.csv", index=False)
    (tmp_path / "walk.yaml").write_text(
        "readings: walk.csv\nrecording_column: subject\ntime_column: ts\nlabel_column: activity\nwindow_size: 64\n"
    )
    # the flag wins over the file: a window of 500 readings is longer than every recording
    assert (
        main(
            [
                "evaluate",
                "--task",
                "sensor-window",
                "--dataset",
                str(tmp_path / "walk.yaml"),
                "--window-size",
                "500",
                "--out",
                str(tmp_path / "out"),
            ]
        )
        == 2
    )
    assert "fewer than the window size 500" in capsys.readouterr().err
    (tmp_path / "feat.json").write_text('{"readings": "walk.csv", "task": "features"}')
    assert (
        main(
            [
                "evaluate",
                "--task",
                "sensor-window",
                "--dataset",
                str(tmp_path / "feat.json"),
                "--out",
                str(tmp_path / "out"),
            ]
        )
        == 2
    )
    assert "is for task 'features', the command says --task sensor-window" in capsys.readouterr().err
