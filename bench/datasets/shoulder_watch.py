"""Shoulder-exercise smartwatch recordings (the data set the ``seglearn`` wheel ships) as a readings file.

Source: ``seglearn/data/watch_dataset.npy`` inside the ``seglearn`` 1.2.5 wheel on PyPI (BSD 3-clause, Copyright (c)
2018 David M. Burns; ``pip install seglearn==1.2.5``, the test extra installs it). ``seglearn.datasets.load_watch``
describes it: 6-axis inertial data (``ax ay az`` accelerometer, ``wx wy wz`` gyroscope) from a smartwatch, sampled
at 50 Hz, recorded while study subjects did sets of shoulder physiotherapy exercise repetitions; 140 series, 10
subjects, 7 exercises (``PEN ABD FEL IR ER TRAP ROW``), each subject each exercise once per arm (``side``: 1 right,
0 left). Study: D. M. Burns et al., "Shoulder physiotherapy exercise recognition: machine learning the inertial
signals from a smartwatch", arXiv:1802.01489 (2018).

The conversion, exactly: each series becomes one recording ``s{subject:02d}-{right|left}-{exercise}``, its rows
``time`` = 2026-01-01T00:00:00Z + 20 ms x row (50 Hz, the only time base the source gives) with each recording
starting 60 s after the previous one ends (source order), the six channels copied unchanged (float64), label column
``exercise`` (the source's ``y_labels[y]``), and ``split`` by subject, so that test subjects are never seen in
training: subjects 1-6 ``train``, 7-8 ``val``, 9-10 ``test``. The source file's SHA-256 is checked.

Writes into ``--out`` (default ``data/shoulder-watch``, not committed: this rebuilds it in seconds):
``readings.parquet`` (every series), ``test-readings.csv`` (subjects 9-10 only, for the streaming demo) and
``dataset.yaml`` (the column flags, window 128 readings = 2.56 s every 16 readings = 0.32 s).

usage: python bench/datasets/shoulder_watch.py [--out data/shoulder-watch]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SOURCE_SHA256 = "eb122f23cdf06ef6bd6c6c5312958ec5cf9d038e2e6d457b8081662c75a42537"  # seglearn 1.2.5
PERIOD_MS = 20  # 50 Hz
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
GAP_MS = 60_000
CHANNELS = ["ax", "ay", "az", "wx", "wy", "wz"]
SPLIT_OF_SUBJECT = {**{s: "train" for s in range(1, 7)}, 7: "val", 8: "val", 9: "test", 10: "test"}
WINDOW_SIZE = 128
WINDOW_SLIDE = 16
DATASET_YAML = f"""# Shoulder-exercise smartwatch recordings (seglearn's watch data), made by bench/datasets/shoulder_watch.py
readings: readings.parquet
recording_column: recording
time_column: time
label_column: exercise
split_column: split
channels: [{", ".join(CHANNELS)}]
window_size: {WINDOW_SIZE}
window_slide: {WINDOW_SLIDE}
"""


def source_file() -> Path:
    """The data file inside the installed seglearn package (found without importing seglearn)."""
    spec = importlib.util.find_spec("seglearn")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "shoulder_watch: seglearn is not installed; pip install seglearn==1.2.5 (its wheel ships "
            "the data; the toolkit's test extra installs it)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "watch_dataset.npy"
    if not path.is_file():
        raise SystemExit(f"shoulder_watch: {path} is missing; reinstall seglearn==1.2.5")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SOURCE_SHA256:
        raise SystemExit(
            f"shoulder_watch: {path} has SHA-256 {digest}, not seglearn 1.2.5's {SOURCE_SHA256}; "
            "install seglearn==1.2.5"
        )
    return path


def readings_frame(path: Path | None = None) -> pd.DataFrame:
    """Every series as readings: ``recording, subject, side, time (epoch ms), ax..wz, exercise, split``."""
    data = np.load(path or source_file(), allow_pickle=True).item()
    if list(data["X_labels"]) != CHANNELS:
        raise SystemExit(f"shoulder_watch: channels {data['X_labels']}, expected {CHANNELS}")
    names = [str(n) for n in data["y_labels"]]
    frames = []
    start = START_MS
    for x, y, subject, side in zip(data["X"], data["y"], data["subject"], data["side"]):
        subject = int(subject)
        side_name = "right" if int(side) == 1 else "left"
        frame = pd.DataFrame(np.asarray(x, np.float64), columns=CHANNELS)
        frame.insert(0, "time", start + PERIOD_MS * np.arange(len(x), dtype=np.int64))
        frame.insert(0, "side", side_name)
        frame.insert(0, "subject", subject)
        frame.insert(0, "recording", f"s{subject:02d}-{side_name}-{names[int(y)]}")
        frame["exercise"] = names[int(y)]
        frame["split"] = SPLIT_OF_SUBJECT[subject]
        frames.append(frame)
        start += PERIOD_MS * len(x) + GAP_MS
    return pd.concat(frames, ignore_index=True)


def write(out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    frame = readings_frame()
    frame.to_parquet(out / "readings.parquet", index=False, compression="zstd")
    test = frame[frame["split"] == "test"].drop(columns=["split"])
    test.to_csv(out / "test-readings.csv", index=False, float_format="%.6f", lineterminator="\n")
    (out / "dataset.yaml").write_text(DATASET_YAML)
    return {
        "readings": len(frame),
        "recordings": frame["recording"].nunique(),
        "subjects": frame["subject"].nunique(),
        "classes": sorted(frame["exercise"].unique()),
        "per_split": frame.groupby("split")["recording"].nunique().to_dict(),
        "test_readings": len(test),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("data") / "shoulder-watch")
    args = ap.parse_args(argv)
    summary = write(args.out)
    print(f"[shoulder-watch] {args.out}: {summary}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
