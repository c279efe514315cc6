"""Datasets as arrays, the window cut, normalisation, and the generator's Avro splits.

Windows follow docs/bundle-contract.md exactly, because the Java job cuts them the same way from the
same records: per sensor, readings in event-time order, a window is ``size`` consecutive readings
(channels-first ``[C, size]``), windows start every ``slide`` readings from the sensor's first reading
(and again after each gap longer than the maximum), and a window's label is the label of its last reading.
A user's own recordings are read by ``readings.py``; the generator's files go the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .registry import Task

CLASSES: list[str] = ["normal", "imbalance", "misalignment", "bearing_fault", "looseness"]  # the generator's
WINDOW_SIZE = 128  # defaults of --window-size / --window-slide
WINDOW_SLIDE = 32
SPLITS = ("train", "val", "test")
CLASS_SKEW = 3.0  # largest / smallest training class above this: the loss weighs classes (see class_weights)


class DataError(ValueError):
    """Input the toolkit cannot use (a missing file or column, a bad value, too little data); the message is one
    line naming the file, row or recording, column, and what to do. The CLI prints it and exits with code 2."""


@dataclass(frozen=True)
class WindowCut:
    """How a sensor dataset was cut: ``size`` readings every ``slide``, readings ``sample_period_ms`` apart (a real
    number), a window restarting after a step longer than ``max_gap_ms``. Written to the manifest as is."""

    size: int
    slide: int
    sample_period_ms: float
    max_gap_ms: float

    def to_manifest(self) -> dict:
        return {
            "size": self.size,
            "slide": self.slide,
            "sample_period_ms": self.sample_period_ms,
            "max_gap_ms": self.max_gap_ms,
        }


@dataclass
class Split:
    """One split as arrays: ``x`` is ``[N, C, T]`` (windows) or ``[N, F]`` (features), ``y`` class indexes."""

    x: np.ndarray
    y: np.ndarray
    keys: np.ndarray  # sensor id (windows) or event key (features), one per row
    severity: np.ndarray | None = None  # windows only: severity of the last reading (NaN when absent)
    end_ms: np.ndarray | None = None  # windows only: epoch ms of the last reading (the job's window end)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def take(self, idx: np.ndarray) -> Split:
        """The rows ``idx``, in that order."""
        return Split(
            self.x[idx],
            self.y[idx],
            self.keys[idx],
            None if self.severity is None else self.severity[idx],
            None if self.end_ms is None else self.end_ms[idx],
        )

    def subset(self, n: int, seed: int = 0) -> Split:
        """A reproducible random subset of at most ``n`` rows (for tests and quick runs)."""
        if n >= len(self):
            return self
        return self.take(np.sort(np.random.default_rng(seed).choice(len(self), size=n, replace=False)))


@dataclass
class Dataset:
    """The train/val/test splits of one task, with the class names in logit order. ``task`` takes a
    :class:`~exitflow.registry.Task` or its name (ValueError on any other)."""

    task: Task
    train: Split
    val: Split
    test: Split
    classes: list[str]
    source: str
    window: WindowCut | None = None  # sensor task: the cut the windows were made with
    summary: str = ""  # what was read, for the command line

    def __post_init__(self) -> None:
        self.task = Task.parse(self.task, "task")

    def split(self, name: str) -> Split:
        return {"train": self.train, "val": self.val, "test": self.test}[name]


def cut_windows(
    values: np.ndarray, labels: np.ndarray, size: int = WINDOW_SIZE, slide: int = WINDOW_SLIDE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows of one run of a sensor's readings (in event-time order, no gap).

    ``values`` is ``[n, C]``, ``labels`` ``[n]``. Returns ``(windows [W, C, size], labels [W], end_index [W])``
    where window w covers readings ``[w*slide, w*slide+size)`` and takes the label of reading ``end_index``.
    A run of fewer than ``size`` readings gives no window.
    """
    n = values.shape[0]
    if n < size:
        return (np.zeros((0, values.shape[1], size), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64))
    starts = np.arange(0, n - size + 1, slide)
    idx = starts[:, None] + np.arange(size)[None, :]
    windows = np.ascontiguousarray(values[idx].transpose(0, 2, 1), dtype=np.float32)
    ends = starts + size - 1
    return windows, labels[ends], ends


def _generator_config(path: Path, task: Task, **settings):
    from .readings import ReadingsConfig

    if not path.is_file():
        raise DataError(f"{path} does not exist; build the dataset with `bash scripts/make-dataset.sh`")
    recording = "sensorId" if task is Task.SENSOR_WINDOW else None
    return ReadingsConfig(readings=path, task=task, recording_column=recording, classes=list(CLASSES), **settings)


def read_sensor_split(
    path: Path, classes: list[str] = CLASSES, size: int = WINDOW_SIZE, slide: int = WINDOW_SLIDE
) -> Split:
    """Every window of a file of SensorReading records (one split of the generator's dataset)."""
    from .readings import cut_readings, read_table

    cfg = _generator_config(Path(path), Task.SENSOR_WINDOW, window_size=size, window_slide=slide)
    return cut_readings(read_table(cfg.readings), cfg, list(classes))[0].windows


def read_feature_split(path: Path, classes: list[str] = CLASSES) -> Split:
    """A file of FeatureEvent records as a ``[N, F]`` matrix (one split of the generator's dataset)."""
    from .readings import feature_rows, read_table

    cfg = _generator_config(Path(path), Task.FEATURES)
    cfg.classes = list(classes)
    return feature_rows(read_table(cfg.readings), cfg)[0]


def load_dataset(root: Path, task: Task | str) -> Dataset:
    """Loads the generator's ``root/sensor/{train,val,test}.avro`` (task ``sensor-window``) or ``root/features/...``,
    through the same reader as a user's readings, with the generator's class order."""
    import pandas as pd

    from .readings import load_readings, read_table

    root = Path(root)
    if task not in Task.names():
        raise DataError(f"unknown task {task!r}; use 'sensor-window' or 'features'")
    kind = Task(task)
    frames = []
    for s in SPLITS:
        cfg = _generator_config(root / kind.short / f"{s}.avro", kind)
        frame = read_table(cfg.readings)
        frame["_split"] = s
        frames.append(frame)
    cfg.split_column = "_split"
    ds = load_readings(cfg, pd.concat(frames, ignore_index=True))
    ds.source = str(root)
    return ds


def class_weights(y: np.ndarray, num_classes: int, skew: float = CLASS_SKEW) -> list[float] | None:
    """Loss weights when the largest class has more than ``skew`` times the samples of the smallest, else None.

    Weights go as ``1 / sqrt(n_c)``, scaled to a mean of 1 over the samples: a rare class counts more without one
    sample of a class seen a few times outweighing dozens of others (full inverse frequency would)."""
    counts = np.bincount(y, minlength=num_classes).astype(np.float64)
    present = counts[counts > 0]
    if present.size == 0 or present.max() <= skew * present.min():
        return None
    w = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1)), 0.0)
    w *= counts.sum() / float((w * counts).sum())
    return [round(float(v), 6) for v in w]


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
