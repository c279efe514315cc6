"""BasicMotions, a real public sensor data set, as a readings file, and the bundle built from it.

The ``aeon`` wheel (PyPI; ``pip install -e .[test]`` installs it) ships BasicMotions from the UEA multivariate
archive: a smart watch's 3-axis accelerometer and 3-axis gyroscope (6 channels) while four students were standing,
walking, running and playing badminton, each case 100 readings "sampled once every tenth of a second, for a ten
second period" (the data file's header): 10 Hz, 100 ms apart. 40 training and 40 test cases, 10 per class each.

Each case becomes one recording (``bm-train-00`` .. ``bm-test-39``) of readings 100 ms apart, recordings 20 s apart
in time, channels ``dim_0`` .. ``dim_5`` in aeon's order, label column ``activity``, split column ``split``.

Rebuild the committed bundle (models/basicmotions-cnn, with its test readings and expected predictions)::

    python -m exitflow.basicmotions --out models/basicmotions-cnn
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from .readings import ReadingsConfig, cut_readings, load_readings, read_table, write_sensor_readings
from .registry import Method

PERIOD_MS = 100  # 10 Hz, from the data set's description
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: the first recording's first reading
RECORDING_SPACING_MS = 20_000  # each recording lasts 10 s; the next starts 20 s after it
CHANNELS = [f"dim_{i}" for i in range(6)]
WINDOW_SIZE = 50  # 5 s of readings, a window every second
WINDOW_SLIDE = 10
WIDTHS = [16, 24, 32, 48]  # small: the committed bundle stays well under 1 MB
MODEL_ID = "basicmotions-cnn"
TEST_READINGS = "test-readings.csv"
EXPECTED = "expected-predictions.csv"


def readings_frame() -> pd.DataFrame:
    """Every case of both splits as readings: ``recording, time (epoch ms), dim_0..dim_5, activity, split``."""
    from aeon.datasets import load_basic_motions

    frames = []
    case = 0
    for split in ("train", "test"):
        x, y = load_basic_motions(split=split)  # x [cases, 6, 100], y [cases] activity names
        cases, channels, length = x.shape
        for i in range(cases):
            frame = pd.DataFrame(x[i].T, columns=CHANNELS[:channels])
            frame.insert(0, "time", START_MS + case * RECORDING_SPACING_MS + PERIOD_MS * np.arange(length))
            frame.insert(0, "recording", f"bm-{split}-{i:02d}")
            frame["activity"] = str(y[i])
            frame["split"] = split
            frames.append(frame)
            case += 1
    return pd.concat(frames, ignore_index=True)


def write_readings(frame: pd.DataFrame, path: Path) -> Path:
    """Writes the readings as CSV (values to 6 significant digits, as in the source files) or, by the file name,
    Parquet or Avro ``SensorReading`` records."""
    name = path.name.lower()
    if name.endswith(".csv"):
        frame.to_csv(path, index=False, float_format="%.6g", lineterminator="\n")
    elif name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    elif name.endswith(".avro"):
        write_sensor_readings(path, frame["recording"], frame["time"], frame[CHANNELS].to_numpy(), frame["activity"])
    else:
        raise ValueError(f"{path}: name it .csv, .parquet or .avro")
    return path


def readings_config(path: Path, seed: int = 7) -> ReadingsConfig:
    """How the readings file is read and cut (the same as the command line's column flags)."""
    return ReadingsConfig(
        readings=path,
        recording_column="recording",
        time_column="time",
        label_column="activity",
        channels=list(CHANNELS),
        split_column="split",
        window_size=WINDOW_SIZE,
        window_slide=WINDOW_SLIDE,
        seed=seed,
    )


def build_bundle(
    out: Path, epochs: int = 40, seed: int = 7, method: Method | str = Method.BOOST, measure: bool = True
) -> dict:
    """Trains a small multi-exit CNN on BasicMotions' training cases (validation: 2 of their recordings per class),
    exports and verifies it at ``out``, and writes beside it the test split's readings (``test-readings.csv``) and
    the bundle's prediction for each of their windows (``expected-predictions.csv``). Returns the manifest."""
    from .export import export_bundle
    from .pipeline import build, train_config
    from .predict import write_expected

    with tempfile.TemporaryDirectory() as tmp:
        frame = readings_frame()
        path = write_readings(frame, Path(tmp) / "basicmotions.csv")
        ds = load_readings(readings_config(path, seed))
        cfg = train_config(ds.task, method=method, epochs=epochs, batch_size=32, lr=3e-3, seed=seed)
        trained = build(ds, cfg, widths=WIDTHS)
        trained.training["dataset"] = "BasicMotions (UEA archive, from the aeon wheel)"
        manifest = export_bundle(trained, out, MODEL_ID, ds.val, ds.test, measure=measure)
        test_rows = frame[frame["split"] == "test"].drop(columns=["split"])
        test_csv = write_readings(test_rows, out / TEST_READINGS)
    windows, classes = windows_of(test_csv, ds.classes)
    write_expected(out, windows, classes, out / EXPECTED)
    return manifest


def windows_of(path: Path, classes: list[str]):
    """Every window of a test readings file, cut as the job cuts them, with the bundle's class order."""
    cfg = readings_config(path)
    cfg.split_column = None
    cut, classes, _, _ = cut_readings(read_table(path), cfg, classes)
    return cut.windows, classes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m exitflow.basicmotions", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("models") / MODEL_ID)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    manifest = build_bundle(args.out, args.epochs, args.seed)
    print(
        f"[basicmotions] {args.out}: metrics {manifest['training']['metrics']}; "
        f"files {sorted(p.name for p in args.out.iterdir())}, "
        f"{sum(p.stat().st_size for p in args.out.iterdir()) / 1e6:.2f} MB",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
