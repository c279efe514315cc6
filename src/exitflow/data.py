"""Reading the generator's Avro splits and cutting them into model inputs.

Windows follow docs/bundle-contract.md exactly, because the Java job cuts them the same way from the
same records: per sensor, readings in event-time order, a window is ``size`` consecutive readings
(channels-first ``[C, size]``), windows start every ``slide`` readings from the sensor's first reading,
and a window's label is the label of its last reading.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import fastavro
import numpy as np

CLASSES: list[str] = ["normal", "imbalance", "misalignment", "bearing_fault", "looseness"]
WINDOW_SIZE = 128
WINDOW_SLIDE = 32
SAMPLE_PERIOD_MS = 10
SPLITS = ("train", "val", "test")

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


class DataError(ValueError):
    """A dataset file is missing or holds records the toolkit cannot use; the message says which and why."""


@dataclass
class Split:
    """One split as arrays: ``x`` is ``[N, C, T]`` (windows) or ``[N, F]`` (features), ``y`` class indexes."""

    x: np.ndarray
    y: np.ndarray
    keys: np.ndarray  # sensor id (windows) or event key (features), one per row
    severity: np.ndarray | None = None  # windows only: severity of the last reading (NaN when absent)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def subset(self, n: int, seed: int = 0) -> "Split":
        """A reproducible random subset of at most ``n`` rows (for tests and quick runs)."""
        if n >= len(self):
            return self
        idx = np.sort(np.random.default_rng(seed).choice(len(self), size=n, replace=False))
        sev = None if self.severity is None else self.severity[idx]
        return Split(self.x[idx], self.y[idx], self.keys[idx], sev)


@dataclass
class Dataset:
    task: str  # "sensor-window" or "features"
    train: Split
    val: Split
    test: Split
    classes: list[str]
    source: str

    def split(self, name: str) -> Split:
        return {"train": self.train, "val": self.val, "test": self.test}[name]


def _millis(value: object) -> int:
    # fastavro turns timestamp-millis into aware datetimes; the contract works in epoch milliseconds.
    if isinstance(value, _dt.datetime):
        return (value - _EPOCH) // _dt.timedelta(milliseconds=1)
    return int(value)  # type: ignore[arg-type]


def _class_index(label: object, where: str, classes: list[str]) -> int:
    if label is None:
        raise DataError(f"{where}: record has no label; training and evaluation need labelled data")
    try:
        return classes.index(str(label))
    except ValueError:
        raise DataError(f"{where}: unknown label {label!r}; expected one of {classes}") from None


def _records(path: Path) -> Iterable[dict]:
    if not path.is_file():
        raise DataError(f"{path} does not exist; build the dataset with `bash scripts/make-dataset.sh`")
    with path.open("rb") as f:
        yield from fastavro.reader(f)


def cut_windows(values: np.ndarray, labels: np.ndarray, size: int = WINDOW_SIZE,
                slide: int = WINDOW_SLIDE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows of one sensor's readings (already in event-time order).

    ``values`` is ``[n, C]``, ``labels`` ``[n]``. Returns ``(windows [W, C, size], labels [W], end_index [W])``
    where window w covers readings ``[w*slide, w*slide+size)`` and takes the label of reading ``end_index``.
    A sensor with fewer than ``size`` readings gives no window.
    """
    n = values.shape[0]
    if n < size:
        return (np.zeros((0, values.shape[1], size), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64))
    starts = np.arange(0, n - size + 1, slide)
    idx = starts[:, None] + np.arange(size)[None, :]
    windows = np.ascontiguousarray(values[idx].transpose(0, 2, 1), dtype=np.float32)
    ends = starts + size - 1
    return windows, labels[ends], ends


def read_sensor_split(path: Path, classes: list[str] = CLASSES, size: int = WINDOW_SIZE,
                      slide: int = WINDOW_SLIDE) -> Split:
    """Reads SensorReading records and cuts each sensor's stream into labelled windows."""
    per_sensor: dict[str, tuple[list[int], list[list[float]], list[int], list[float]]] = {}
    channels: int | None = None
    for i, rec in enumerate(_records(path)):
        vals = rec["values"]
        if channels is None:
            channels = len(vals)
        elif len(vals) != channels:
            raise DataError(f"{path} record {i}: {len(vals)} channels, earlier records had {channels}")
        t, v, lab, sev = per_sensor.setdefault(rec["sensorId"], ([], [], [], []))
        t.append(_millis(rec["eventTime"]))
        v.append(vals)
        lab.append(_class_index(rec["label"], f"{path} record {i}", classes))
        s = rec.get("severity")
        sev.append(float("nan") if s is None else float(s))
    if channels is None:
        raise DataError(f"{path} holds no records")
    xs, ys, keys, sevs = [], [], [], []
    for sensor in sorted(per_sensor):
        t, v, lab, sev = per_sensor[sensor]
        order = np.argsort(np.asarray(t, np.int64), kind="stable")  # files are sorted; this only guards it
        values = np.asarray(v, np.float32)[order]
        labels = np.asarray(lab, np.int64)[order]
        w, wl, ends = cut_windows(values, labels, size, slide)
        xs.append(w)
        ys.append(wl)
        keys.append(np.full(len(wl), sensor, dtype=object))
        sevs.append(np.asarray(sev, np.float32)[order][ends])
    x = np.concatenate(xs)
    if len(x) == 0:
        raise DataError(f"{path}: no sensor has {size} readings, so there is no window")
    return Split(x, np.concatenate(ys), np.concatenate(keys), np.concatenate(sevs))


def read_feature_split(path: Path, classes: list[str] = CLASSES) -> Split:
    """Reads FeatureEvent records into a ``[N, F]`` matrix."""
    xs: list[list[float]] = []
    ys: list[int] = []
    keys: list[str] = []
    width: int | None = None
    for i, rec in enumerate(_records(path)):
        feats = rec["features"]
        if width is None:
            width = len(feats)
        elif len(feats) != width:
            raise DataError(f"{path} record {i}: {len(feats)} features, earlier records had {width}")
        xs.append(feats)
        ys.append(_class_index(rec["label"], f"{path} record {i}", classes))
        keys.append(rec["key"])
    if not xs:
        raise DataError(f"{path} holds no records")
    return Split(np.asarray(xs, np.float32), np.asarray(ys, np.int64), np.asarray(keys, dtype=object))


def load_dataset(root: Path, task: str) -> Dataset:
    """Loads ``root/sensor/{train,val,test}.avro`` (task ``sensor-window``) or ``root/features/...``."""
    root = Path(root)
    if task == "sensor-window":
        parts = [read_sensor_split(root / "sensor" / f"{s}.avro") for s in SPLITS]
    elif task == "features":
        parts = [read_feature_split(root / "features" / f"{s}.avro") for s in SPLITS]
    else:
        raise DataError(f"unknown task {task!r}; use 'sensor-window' or 'features'")
    return Dataset(task, *parts, classes=list(CLASSES), source=str(root))


def norm_stats(split: Split) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (windows) or per-feature (vectors) mean and std from the training split."""
    x = split.x
    axes = (0, 2) if x.ndim == 3 else (0,)
    mean = x.mean(axis=axes, dtype=np.float64)
    std = x.std(axis=axes, dtype=np.float64)
    std = np.where(std < 1e-6, 1.0, std)  # a constant channel must not divide by zero
    return mean.astype(np.float32), std.astype(np.float32)


def normalise(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """The contract's normalisation: per channel for windows, per feature for vectors."""
    if x.ndim == 3:
        return ((x - mean[None, :, None]) / std[None, :, None]).astype(np.float32)
    return ((x - mean[None, :]) / std[None, :]).astype(np.float32)
