"""``convert-readings``: a user's readings file (CSV, TSV, Parquet or Avro, read by :mod:`exitflow.readings` with the
same column flags as ``build``) as an Avro container file of ``SensorReading`` records, what the Java stream
simulator replays into Kafka (``StreamSimulator --readings FILE.avro``, ``./exitflow-demo --readings FILE``).

One record per reading: ``sensorId`` is the recording's id (one sensor per recording), ``eventTime`` the reading's
time in epoch milliseconds as the toolkit reads it, ``values`` the channel columns in order, ``label`` the label
column (kept; none when the file has no label column and none was asked for). Recordings are written one after the
other (sorted by id), each in time order; a recording whose times do not go forward is refused, as ``build`` refuses
it. ``--split test`` writes only the recordings ``build`` puts in that split (same flags, same seed), so a replay
of them measures accuracy on readings the model did not train on.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from .data import DataError
from .readings import (
    ReadingsConfig,
    _check_forward,
    _input_columns,
    _majority,
    _no_missing,
    _numeric,
    _recordings,
    _require_column,
    _times_ms,
    _unit_splits,
    cut_readings,
    read_table,
)

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "src" / "main" / "avro" / "SensorReading.avsc"
SPLITS = ("train", "val", "test")


@dataclass
class Converted:
    """What :func:`convert_readings` wrote."""

    out: Path
    recordings: int
    readings: int
    channels: list[str]
    labels: list[str]  # distinct labels written, sorted; empty when the readings carry none

    def describe(self) -> str:
        labels = f"labels {self.labels}" if self.labels else "no labels"
        return (
            f"{self.readings} readings of {self.recordings} recordings, channels {self.channels}, {labels}, "
            f"to {self.out}"
        )


def sensor_reading_schema() -> dict:
    """The ``SensorReading`` Avro schema, parsed from the schemas module (the one definition the Java side
    compiles)."""
    import fastavro

    if not SCHEMA_FILE.is_file():
        raise DataError(
            f"{SCHEMA_FILE} is missing: convert-readings runs from a checkout of the repository (pip install -e .)"
        )
    schema = fastavro.parse_schema(json.loads(SCHEMA_FILE.read_text()))
    if not isinstance(schema, dict):
        raise DataError(f"{SCHEMA_FILE} is not one Avro record schema")
    return schema


def write_sensor_readings(
    path: Path, ids: np.ndarray, times_ms: np.ndarray, values: np.ndarray, labels: np.ndarray | None
) -> None:
    """Writes ``SensorReading`` records to an Avro container file: ``ids`` [N] str, ``times_ms`` [N] epoch ms,
    ``values`` [N, C] float32, ``labels`` [N] str or None (no labels)."""
    import fastavro

    vals = np.asarray(values, np.float32)
    records = (
        {
            "sensorId": str(ids[i]),
            "eventTime": int(times_ms[i]),
            "values": vals[i].tolist(),
            "label": None if labels is None else str(labels[i]),
            "severity": None,
        }
        for i in range(len(ids))
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with Path(path).open("wb") as f:
        fastavro.writer(f, sensor_reading_schema(), records, codec="deflate")


def recordings_in_split(frame, cfg: ReadingsConfig, split: str) -> set[str]:
    """The recordings ``build`` puts in ``split`` with these settings: the split column, or drawn per class from
    ``cfg.seed`` (:func:`exitflow.readings.load_readings`)."""
    cut, classes, _, _ = cut_readings(frame, cfg, cfg.classes)
    unit_label = _majority(cut.windows.y, cut.recording, len(cut.names), len(classes))
    split_of = _unit_splits(frame, cut.positions, cut.names, unit_label, classes, cfg, "recording")
    return {name for name, s in zip(cut.names, split_of) if s == split}


def convert_readings(
    cfg: ReadingsConfig, out: Path, split: str | None = None, labels_required: bool = False
) -> Converted:
    """Reads ``cfg.readings`` as ``build`` does and writes its readings to ``out`` as ``SensorReading`` records.

    :param split: write only the recordings of this split (train, val or test), as ``build`` splits them
    :param labels_required: a missing label column is an error (else the readings are written without labels)
    :raises DataError: one line naming file, row or recording, column and what to do
    """
    if split is not None and split not in SPLITS:
        raise DataError(f"--split must be one of {', '.join(SPLITS)}, got {split!r}")
    frame = read_table(Path(cfg.readings))
    if len(frame) == 0:
        raise DataError(f"{cfg.readings} holds no rows")
    rec_col = cfg.recording or "sensorId"
    _require_column(frame, rec_col, "recording_column")
    _require_column(frame, cfg.time_column, "time_column")
    has_labels = cfg.label_column in frame.columns
    if labels_required or split is not None:
        _require_column(frame, cfg.label_column, "label_column")
    used = {rec_col, cfg.time_column, cfg.label_column} | ({cfg.split_column} if cfg.split_column else set())
    channels = _input_columns(frame, cfg, used)
    times = _times_ms(frame, cfg.time_column, cfg.time_unit)
    values = _numeric(frame, channels)
    labels = None
    if has_labels:
        _no_missing(frame, cfg.label_column)
        labels = frame[cfg.label_column].astype(str).to_numpy()
    recs = _recordings(frame, rec_col, times)
    for rec in recs:
        _check_forward(frame, rec, cfg.time_column)
    if split is not None:
        keep = recordings_in_split(frame, cfg, split)
        recs = [r for r in recs if r.name in keep]
        if not recs:
            raise DataError(f"{cfg.readings}: no recording is in the {split} split; check --split-column")
    pos = np.concatenate([r.pos for r in recs])
    ids = np.concatenate([np.full(len(r.pos), r.name, dtype=object) for r in recs])
    out_labels = None if labels is None else labels[pos]
    write_sensor_readings(Path(out), ids, times[pos], values[pos], out_labels)
    return Converted(
        Path(out), len(recs), int(len(pos)), channels, [] if out_labels is None else sorted(set(out_labels.tolist()))
    )


def add_parser(sub: argparse._SubParsersAction, readings_args, readings_config) -> None:
    """The ``convert-readings`` command on the CLI's subparsers; ``readings_args`` adds the column flags (the
    same as ``build``'s), ``readings_config`` makes the ReadingsConfig from them."""
    c = sub.add_parser(
        "convert-readings",
        help="write a readings file (CSV, Parquet, Avro; the column flags of build) as an Avro "
        "container of SensorReading, what the simulator and ./exitflow-demo --readings replay",
    )
    c.add_argument("file", type=Path, nargs="?", default=None, help="readings file (or --readings FILE)")
    c.add_argument("--out", type=Path, required=True, help="Avro container file to write (replaced)")
    c.add_argument(
        "--split",
        choices=SPLITS,
        default=None,
        help="write only the recordings build puts in this split (split column, or drawn per class "
        "from --seed as build draws them)",
    )
    c.add_argument("--seed", type=int, default=_config_default("seed"), help="seed of drawn splits (as build's)")
    readings_args(c)
    c.set_defaults(func=lambda args: cmd_convert(args, readings_config), task="sensor-window")


def _config_default(name: str):
    return next(f.default for f in fields(ReadingsConfig) if f.name == name)


def cmd_convert(args: argparse.Namespace, readings_config) -> int:
    if args.file is not None:
        if args.readings is not None and args.readings != args.file:
            raise DataError(f"two readings files: {args.file} and --readings {args.readings}; give one")
        args.readings = args.file
    if args.readings is None and args.dataset is None:
        raise DataError("convert-readings needs a readings file: ./exitflow convert-readings FILE --out OUT.avro")
    cfg = readings_config(args)
    done = convert_readings(cfg, args.out, split=args.split, labels_required=args.label_column is not None)
    print(f"[convert-readings] {done.describe()}", flush=True)
    if not done.labels:
        print(
            f"[convert-readings] note: no label column '{cfg.label_column}' in {cfg.readings}: the readings carry "
            f"no labels, so a replay measures no accuracy (--label-column names it)",
            flush=True,
        )
    return 0


__all__ = [
    "Converted",
    "convert_readings",
    "write_sensor_readings",
    "recordings_in_split",
    "sensor_reading_schema",
    "add_parser",
]
