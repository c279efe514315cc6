"""A user's recordings (CSV, Parquet or Avro container files) as a :class:`~exitflow.data.Dataset`.

Sensor task: one row per reading, with a recording (sensor) id, a timestamp (epoch numbers in ``time_unit``, or
ISO-8601 text), one column per channel and a label. Per recording, readings must go forward in time; the sample
period is inferred from the timestamps (a real number of milliseconds); windows are cut exactly as the anomaly job
cuts them (docs/bundle-contract.md, ``WindowAssembler``): ``size`` consecutive readings every ``slide`` readings,
labelled by the last one, restarting after a step longer than ``max_gap_ms`` (default: the job's,
:func:`default_max_gap`). Times are taken to the millisecond, as ``SensorReading.eventTime`` carries them.

Features task: one row per event, feature columns and a label.

Splits go by recording, never by window (windows of one recording overlap): from a split column, or drawn per
class, deterministically from a seed. Every problem with the input raises :class:`~exitflow.data.DataError` with
one line naming the file, row or recording, column, and what to do.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser as a package (tomli became the standard library's tomllib in 3.11)
    import tomli as tomllib

from .data import WINDOW_SIZE, WINDOW_SLIDE, DataError, Dataset, Split, WindowCut, cut_windows
from .registry import Task

TASKS = Task.names()
SPLIT_NAMES = {"train": "train", "val": "val", "validation": "val", "test": "test"}
TIME_UNITS = {"ms": 1.0, "s": 1000.0, "us": 1e-3, "ns": 1e-6}
ROW = "_row"  # 1-based data row of the file (CSV: line number minus one), kept for messages
SOURCE = "_source"
# Columns that are neither a channel nor a feature when the input columns are not named.
_NOT_INPUTS = {"severity", "eventId", "event_id", ROW, SOURCE}
# Array columns of the project's Avro records (SensorReading.values, FeatureEvent.features).
_ARRAY_INPUTS: dict[str, str] = {Task.SENSOR_WINDOW: "values", Task.FEATURES: "features"}


@dataclass
class ReadingsConfig:
    """Where the readings are and how to read and cut them; every field may come from a dataset file or a flag."""

    readings: Path
    task: str = Task.SENSOR_WINDOW.value  # a Task name (checked by load_readings)
    recording_column: str | None = None  # default: sensorId (sensor task); none (features: split by row)
    time_column: str = "eventTime"
    time_unit: str = "ms"  # numeric timestamps: ms | s | us | ns since the epoch; text is ISO-8601
    channels: list[str] | None = None  # channel (sensor) or feature columns; default: every other numeric column
    label_column: str = "label"
    split_column: str | None = None  # values train / val (validation) / test, one per recording
    classes: list[str] | None = None  # fixes the class order; default: sorted labels of the data
    window_size: int = WINDOW_SIZE
    window_slide: int = WINDOW_SLIDE
    sample_period_ms: float | None = None  # default: inferred from the timestamps
    max_gap_ms: float | None = None  # default: default_max_gap(period), the anomaly job's default
    period_tolerance: float = 0.5  # a recording's median step, and every step, at least this share of it
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    seed: int = 7

    @property
    def recording(self) -> str | None:
        if self.recording_column is not None:
            return self.recording_column
        return "sensorId" if self.task == Task.SENSOR_WINDOW else None


_FLAGS = {
    "recording_column": "--recording-column",
    "time_column": "--time-column",
    "channels": "--channels",
    "label_column": "--label-column",
    "split_column": "--split-column",
}


def load_config_file(path: Path) -> dict:
    """A dataset file (``.yaml``/``.yml``, ``.json`` or ``.toml``) as ReadingsConfig fields; ``readings`` is
    resolved against the file's folder."""
    if not path.is_file():
        raise DataError(f"{path}: dataset file does not exist")
    text = path.read_text()
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            import yaml

            raw = yaml.safe_load(text)
        elif suffix == ".json":
            raw = json.loads(text)
        elif suffix == ".toml":
            raw = tomllib.loads(text)
        else:
            raise DataError(f"{path}: a dataset file must end in .yaml, .yml, .json or .toml")
    except DataError:
        raise
    except Exception as e:  # the parsers' own errors say where: pass them on in one line
        raise DataError(f"{path}: not a valid {suffix[1:]} file: {' '.join(str(e).split())}") from None
    if not isinstance(raw, dict):
        raise DataError(f"{path}: a dataset file holds one mapping of settings (readings, time_column, ...)")
    known = {f.name for f in fields(ReadingsConfig)}
    out = {}
    for key, value in raw.items():
        name = str(key).replace("-", "_")
        if name not in known:
            raise DataError(f"{path}: unknown setting '{key}'; known settings: {', '.join(sorted(known))}")
        out[name] = value
    if "readings" in out:
        out["readings"] = (path.parent / str(out["readings"])).resolve()
    if isinstance(out.get("channels"), str):
        out["channels"] = [c.strip() for c in out["channels"].split(",") if c.strip()]
    if isinstance(out.get("classes"), str):
        out["classes"] = [c.strip() for c in out["classes"].split(",") if c.strip()]
    return out


# ----------------------------------------------------------------------------------------------------- reading


def read_table(path: Path) -> pd.DataFrame:
    """The file as a frame (format from its name: ``.csv[.gz]``, ``.tsv``, ``.parquet``/``.pq``, ``.avro``), with
    array columns (``values``, ``features``) spread into ``values[0]``, ``values[1]``, ... and the data row
    (1-based) in ``_row``."""
    if not path.is_file():
        raise DataError(f"{path} does not exist")
    name = path.name.lower()
    try:
        if name.endswith((".csv", ".csv.gz", ".csv.zip", ".csv.bz2", ".csv.xz")):
            frame = pd.read_csv(path)
        elif name.endswith((".tsv", ".tsv.gz")):
            frame = pd.read_csv(path, sep="\t")
        elif name.endswith((".parquet", ".pq")):
            frame = pd.read_parquet(path)
        elif name.endswith(".avro"):
            import fastavro

            with path.open("rb") as f:
                frame = pd.DataFrame.from_records(list(fastavro.reader(f)))
        else:
            raise DataError(f"{path}: unknown format; name the file .csv, .tsv, .parquet or .avro")
    except DataError:
        raise
    except Exception as e:  # the library's message says what and where; keep it to one line
        raise DataError(f"{path}: cannot be read: {' '.join(str(e).split())}") from None
    frame = frame.reset_index(drop=True)
    for col in list(frame.columns):
        if frame[col].dtype == object and len(frame) and isinstance(frame[col].iloc[0], (list, tuple, np.ndarray)):
            frame = _spread(frame, col, path)
    frame[ROW] = np.arange(1, len(frame) + 1)
    frame[SOURCE] = str(path)
    return frame


def _spread(frame: pd.DataFrame, col: str, path: Path) -> pd.DataFrame:
    lengths = frame[col].map(lambda v: -1 if v is None else len(v)).to_numpy()
    if (lengths != lengths[0]).any():
        bad = int(np.flatnonzero(lengths != lengths[0])[0])
        raise DataError(
            f"{path} row {bad + 1}: column '{col}' has {lengths[bad]} values, row 1 has {lengths[0]}; "
            f"every row needs the same number"
        )
    wide = pd.DataFrame(
        np.stack(frame[col].to_numpy()).astype(np.float64), columns=[f"{col}[{i}]" for i in range(lengths[0])]
    )
    return pd.concat([frame.drop(columns=[col]), wide], axis=1)


def _where(frame: pd.DataFrame, pos: int) -> str:
    return f"{frame[SOURCE].iat[pos]} row {frame[ROW].iat[pos]}"


def _source(frame: pd.DataFrame) -> str:
    return ", ".join(dict.fromkeys(frame[SOURCE].astype(str)))


def _require_column(frame: pd.DataFrame, col: str, setting: str) -> None:
    if col not in frame.columns:
        have = [c for c in frame.columns if c not in (ROW, SOURCE)]
        flag = _FLAGS.get(setting, "--" + setting.replace("_", "-"))
        raise DataError(
            f"{_source(frame)}: no column '{col}' ({setting}); the file has {have}: pass {flag} with one of them"
        )


def _no_missing(frame: pd.DataFrame, col: str) -> None:
    missing = frame[col].isna().to_numpy()
    if missing.any():
        pos = int(np.flatnonzero(missing)[0])
        raise DataError(
            f"{_where(frame, pos)}: column '{col}' is empty (NaN), and {int(missing.sum())} rows in "
            f"all; fill or drop those rows"
        )


def _numeric(frame: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """``[n, len(cols)]`` float32 values; a missing or non-numeric cell is an error naming its row and column."""
    out = np.empty((len(frame), len(cols)), np.float32)
    for j, col in enumerate(cols):
        _no_missing(frame, col)
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna().to_numpy()
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{_where(frame, pos)}: column '{col}' holds {frame[col].iat[pos]!r}, not a number; "
                f"fix the value or leave the column out with --channels"
            )
        v = values.to_numpy(np.float64)
        if not np.isfinite(v).all():
            pos = int(np.flatnonzero(~np.isfinite(v))[0])
            raise DataError(f"{_where(frame, pos)}: column '{col}' holds {v[pos]}; fix or drop that row")
        out[:, j] = v
    return out


def _input_columns(frame: pd.DataFrame, cfg: ReadingsConfig, used: set[str]) -> list[str]:
    if cfg.channels:
        for c in cfg.channels:
            _require_column(frame, c, "channels")
        return list(cfg.channels)
    array = _ARRAY_INPUTS[cfg.task]
    spread = [c for c in frame.columns if c.startswith(array + "[")]
    if spread:
        return spread
    candidates = [c for c in frame.columns if c not in used and c not in _NOT_INPUTS]
    for c in candidates:  # a numeric column with a stray word in it must not silently stop being a channel
        if (frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])) and pd.to_numeric(
            frame[c], errors="coerce"
        ).notna().mean() > 0.5:
            _numeric(frame, [c])
    cols = [
        c for c in candidates if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]
    if not cols:
        kind = "channel" if cfg.task == Task.SENSOR_WINDOW else "feature"
        raise DataError(
            f"{_source(frame)}: no numeric {kind} columns besides {sorted(used)}: name them with --channels a,b,c"
        )
    return cols


def _times_ms(frame: pd.DataFrame, col: str, unit: str) -> np.ndarray:
    """Epoch milliseconds (int64) from numbers in ``unit``, ISO-8601 text (no zone = UTC) or timestamps."""
    _no_missing(frame, col)
    s = frame[col]
    if pd.api.types.is_bool_dtype(s):
        raise DataError(f"{_source(frame)}: column '{col}' holds true/false, not times; pass --time-column")
    if pd.api.types.is_numeric_dtype(s):
        if unit not in TIME_UNITS:
            raise DataError(f"time unit '{unit}' is not one of {sorted(TIME_UNITS)}")
        return np.rint(s.to_numpy(np.float64) * TIME_UNITS[unit]).astype(np.int64)
    if pd.api.types.is_datetime64_any_dtype(s):
        stamps = s.dt.tz_localize("UTC") if s.dt.tz is None else s
    else:
        stamps = pd.to_datetime(s.astype(str), utc=True, format="ISO8601", errors="coerce")
        bad = stamps.isna().to_numpy()
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{_where(frame, pos)}: column '{col}' holds {s.iat[pos]!r}, neither epoch "
                f"{unit} nor an ISO-8601 time such as 2024-05-01T12:00:00.125Z; fix the value"
            )
    ns = stamps.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]").to_numpy().astype(np.int64)
    return np.rint(ns / 1e6).astype(np.int64)


def _labels(frame: pd.DataFrame, col: str, classes: list[str] | None) -> tuple[np.ndarray, list[str]]:
    _require_column(frame, col, "label_column")
    _no_missing(frame, col)
    raw = frame[col]
    if pd.api.types.is_float_dtype(raw) and (raw == raw.round()).all():
        raw = raw.astype(np.int64)  # whole-number labels read as floats still name classes "0", "1", ...
    text = raw.astype(str).to_numpy()
    if classes is None:
        classes = sorted(set(text.tolist()))
    else:
        classes = [str(c) for c in classes]
        if len(set(classes)) != len(classes):
            raise DataError(f"--classes lists a class twice: {classes}")
        unknown = ~np.isin(text, classes)
        if unknown.any():
            pos = int(np.flatnonzero(unknown)[0])
            raise DataError(
                f"{_where(frame, pos)}: label {text[pos]!r} (column '{col}') is not in --classes "
                f"{classes}; add it there or drop its rows"
            )
    if len(classes) < 2:
        raise DataError(
            f"{_source(frame)}: column '{col}' holds one class only ({classes}); a classifier needs at least 2"
        )
    index = {c: i for i, c in enumerate(classes)}
    return np.asarray([index[t] for t in text], np.int64), classes


# ----------------------------------------------------------------------------------------- time and windows


@dataclass
class Recording:
    """One recording's readings in file order: positions in the frame, times, and where its gaps are."""

    name: str
    pos: np.ndarray  # frame positions
    time: np.ndarray  # epoch ms
    breaks: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # reading indexes that start a segment


def group_rows(ids: np.ndarray) -> tuple[list[str], list[np.ndarray]]:
    """Distinct ids (sorted) and, for each, its row positions in file order."""
    order = np.argsort(ids, kind="stable")
    ordered = ids[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    return [str(ordered[a]) for a in starts], [order[a:b] for a, b in zip(starts, ends)]


def _recordings(frame: pd.DataFrame, col: str, times: np.ndarray) -> list[Recording]:
    _require_column(frame, col, "recording_column")
    _no_missing(frame, col)
    names, positions = group_rows(frame[col].astype(str).to_numpy())
    return [Recording(name, pos, times[pos]) for name, pos in zip(names, positions)]


def _check_forward(frame: pd.DataFrame, rec: Recording, col: str) -> None:
    step = np.diff(rec.time)
    bad = np.flatnonzero(step <= 0)
    if bad.size:
        i = int(bad[0])
        a, b = _where(frame, int(rec.pos[i])), frame[ROW].iat[int(rec.pos[i + 1])]
        if step[i] == 0:
            raise DataError(
                f"{a} and row {b}: recording '{rec.name}' has two readings at the same time "
                f"{rec.time[i]} ms (column '{col}', to the millisecond); drop the duplicate"
            )
        raise DataError(
            f"{_where(frame, int(rec.pos[i + 1]))}: time goes backwards in recording '{rec.name}' "
            f"({rec.time[i]} ms at row {frame[ROW].iat[int(rec.pos[i])]}, then {rec.time[i + 1]} ms; "
            f"column '{col}'): sort each recording's readings by time"
        )


def infer_period(steps: np.ndarray, tolerance: float) -> float:
    """The sample period (ms, real): the mean of the steps within ``tolerance`` of their median, to 4 significant
    digits (timestamps to the ms tell no more), so 32 Hz read to the millisecond (31, 31, 32, 31, ...) gives 31.25;
    gaps do not count."""
    m = float(np.median(steps))
    regular = steps[(steps >= m * (1 - tolerance)) & (steps <= m * (1 + tolerance))]
    return float(f"{regular.mean():.4g}")


def default_max_gap(period_ms: float) -> float:
    """The anomaly job's default max gap (``WindowSpec.defaultMaxGapMillis``): ``3 x period + max(2 ms, period / 10)``
    rounded up, so a window bridges up to two dropped readings and the jitter of timestamps taken to the ms."""
    return float(math.ceil(3 * period_ms + max(2.0, period_ms / 10)))


def _gaps(frame: pd.DataFrame, rec: Recording, period: float, max_gap: float, tol: float) -> np.ndarray:
    """Indexes of the readings that follow a gap (they start a fresh window); an error when the recording is
    sampled at another rate or has readings much closer than the period."""
    step = np.diff(rec.time).astype(np.float64)
    if not step.size:
        return np.zeros(0, np.int64)
    median = float(np.median(step))
    if abs(median - period) > tol * period:
        raise DataError(
            f"{_rec_where(frame, rec)}: recording '{rec.name}' has readings every {median:g} ms "
            f"(median), the data's sample period is {period:g} ms (tolerance ±{tol:.0%}): resample it "
            f"to {period:g} ms, drop it, or set --sample-period-ms / --period-tolerance"
        )
    fast = np.flatnonzero(step < period * (1 - tol))
    if fast.size:
        i = int(fast[0])
        raise DataError(
            f"{_where(frame, int(rec.pos[i + 1]))}: recording '{rec.name}' has readings {step[i]:g} ms "
            f"apart, the sample period is {period:g} ms (tolerance ±{tol:.0%}): sampling is irregular "
            f"there; resample the recording or raise --period-tolerance"
        )
    return np.flatnonzero(step > max_gap) + 1


def _rec_where(frame: pd.DataFrame, rec: Recording) -> str:
    return (
        f"{frame[SOURCE].iat[int(rec.pos[0])]} rows {frame[ROW].iat[int(rec.pos[0])]}.."
        f"{frame[ROW].iat[int(rec.pos[-1])]}"
    )


def _segments(rec: Recording) -> list[tuple[int, int]]:
    bounds = np.r_[0, rec.breaks, len(rec.time)]
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


@dataclass
class _Cut:
    windows: Split
    recording: np.ndarray  # recording index of each window
    names: list[str]
    positions: list[np.ndarray]  # each recording's rows
    gaps: int


def cut_readings(
    frame: pd.DataFrame, cfg: ReadingsConfig, classes: list[str] | None
) -> tuple[_Cut, list[str], WindowCut, list[str]]:
    """Windows of every recording. Returns the cut, the classes, the window settings and the channel columns."""
    rec_col = cfg.recording
    assert rec_col is not None
    for name, setting in (
        (rec_col, "recording_column"),
        (cfg.time_column, "time_column"),
        (cfg.label_column, "label_column"),
    ):
        _require_column(frame, name, setting)
    used = {rec_col, cfg.time_column, cfg.label_column} | ({cfg.split_column} if cfg.split_column else set())
    channels = _input_columns(frame, cfg, used)
    size, slide, tol = int(cfg.window_size), int(cfg.window_slide), float(cfg.period_tolerance)
    if size < 1 or slide < 1:
        raise DataError(f"--window-size and --window-slide must be at least 1, got {size} and {slide}")
    if not 0 < tol < 1:
        raise DataError(f"--period-tolerance must be between 0 and 1, got {tol}")
    times = _times_ms(frame, cfg.time_column, cfg.time_unit)
    values = _numeric(frame, channels)
    labels, classes = _labels(frame, cfg.label_column, classes)
    recs = _recordings(frame, rec_col, times)
    for rec in recs:
        _check_forward(frame, rec, cfg.time_column)
    steps = np.concatenate([np.diff(r.time) for r in recs]).astype(np.float64)
    if cfg.sample_period_ms is not None:
        period = float(cfg.sample_period_ms)
        if not period > 0:
            raise DataError(f"--sample-period-ms must be positive, got {period}")
    elif steps.size:
        period = infer_period(steps, tol)
    else:
        raise DataError(
            f"{_source(frame)}: every recording has a single reading, so there is no sample period; "
            f"check --recording-column '{rec_col}'"
        )
    max_gap = float(cfg.max_gap_ms) if cfg.max_gap_ms is not None else default_max_gap(period)
    if not max_gap >= period:
        raise DataError(
            f"--max-gap-ms {max_gap:g} is below the sample period {period:g} ms: every step would restart the window"
        )
    severity = (
        pd.to_numeric(frame["severity"], errors="coerce").to_numpy(np.float32)
        if "severity" in frame.columns
        else np.full(len(frame), np.nan, np.float32)
    )
    xs, ys, keys, ends, sevs, owner = [], [], [], [], [], []
    gaps = 0
    for r, rec in enumerate(recs):
        rec.breaks = _gaps(frame, rec, period, max_gap, tol)
        gaps += len(rec.breaks)
        segs = _segments(rec)
        longest = max(b - a for a, b in segs)
        if longest < size:
            runs = "" if len(segs) == 1 else f" in its longest run between gaps over {max_gap:g} ms"
            raise DataError(
                f"{_rec_where(frame, rec)}: recording '{rec.name}' has {longest} readings{runs}, fewer "
                f"than the window size {size}: pass a smaller --window-size, or drop the recording"
            )
        for a, b in segs:
            pos = rec.pos[a:b]
            w, wl, end = cut_windows(values[pos], labels[pos], size, slide)
            xs.append(w)
            ys.append(wl)
            ends.append(rec.time[a:b][end])
            sevs.append(severity[pos][end])
            keys.append(np.full(len(wl), rec.name, dtype=object))
            owner.append(np.full(len(wl), r, np.int64))
    split = Split(
        np.concatenate(xs), np.concatenate(ys), np.concatenate(keys), np.concatenate(sevs), np.concatenate(ends)
    )
    window = WindowCut(size, slide, period, max_gap)
    return (
        _Cut(split, np.concatenate(owner), [r.name for r in recs], [r.pos for r in recs], gaps),
        classes,
        window,
        channels,
    )


# ---------------------------------------------------------------------------------------------------- splits


def _unit_splits(
    frame: pd.DataFrame,
    unit_pos: list[np.ndarray],
    names: list[str],
    unit_label: np.ndarray,
    classes: list[str],
    cfg: ReadingsConfig,
    what: str,
) -> np.ndarray:
    """One split name per unit (recording, or event when there are no recordings)."""
    out = np.full(len(names), "", dtype=object)
    if cfg.split_column:
        _require_column(frame, cfg.split_column, "split_column")
        _no_missing(frame, cfg.split_column)
        col = frame[cfg.split_column].astype(str).str.strip().str.lower().map(SPLIT_NAMES)
        bad = col.isna().to_numpy()
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{_where(frame, pos)}: column '{cfg.split_column}' holds "
                f"{frame[cfg.split_column].iat[pos]!r}; use train, val (or validation) or test"
            )
        col = col.to_numpy()
        for u, rows in enumerate(unit_pos):
            found = sorted(set(col[rows].tolist()))
            if len(found) > 1:
                raise DataError(
                    f"{what} '{names[u]}' has rows in {' and '.join(found)} (column "
                    f"'{cfg.split_column}'): a {what} must lie in one split; its windows overlap"
                )
            out[u] = found[0]
    todo = [s for s in ("val", "test") if not (out == s).any()]
    pool = (out == "train") if cfg.split_column else np.ones(len(names), bool)
    if not cfg.split_column:
        out[:] = "train"
    if not todo:
        return out
    fractions = {"val": cfg.val_fraction, "test": cfg.test_fraction}
    need = 1 + len(todo)
    rng = np.random.default_rng(cfg.seed)
    for c, cls in enumerate(classes):
        units = np.flatnonzero(pool & (unit_label == c))  # names are sorted, so this order is fixed
        if len(units) < need:
            listed = ", ".join(names[u] for u in units[:5]) + (" ..." if len(units) > 5 else "")
            source = "training " if cfg.split_column else ""
            raise DataError(
                f"class '{cls}' has {len(units)} {source}{what}(s) ({listed or 'none'}): a split by "
                f"{what} needs at least {need} per class (one each for "
                f"{', '.join(['train'] + todo)}); add {what}s of that class, or give a split column "
                f"(--split-column)"
            )
        units = units[rng.permutation(len(units))]
        taken = 0
        for s in todo:
            n = max(1, int(round(fractions[s] * len(units))))
            n = min(n, len(units) - taken - (len(todo) - todo.index(s) - 1) - 1)
            out[units[taken : taken + n]] = s
            taken += n
    return out


def _majority(labels: np.ndarray, owner: np.ndarray, units: int, k: int) -> np.ndarray:
    counts = np.zeros((units, k), np.int64)
    np.add.at(counts, (owner, labels), 1)
    return counts.argmax(axis=1)


def _check_train_classes(train: Split, classes: list[str], what: str) -> None:
    present = np.bincount(train.y, minlength=len(classes))
    for c, n in enumerate(present):
        if n == 0:
            raise DataError(
                f"class '{classes[c]}' has no training {what}: add {what} of it to the training split, "
                f"or leave it out of --classes"
            )


# ------------------------------------------------------------------------------------------------ datasets


def load_readings(cfg: ReadingsConfig, frame: pd.DataFrame | None = None) -> Dataset:
    """The dataset ``cfg`` describes (``frame`` when the table is already read)."""
    if cfg.task not in TASKS:
        raise DataError(f"unknown task {cfg.task!r}; use one of {TASKS}")
    frame = read_table(Path(cfg.readings)) if frame is None else frame
    if len(frame) == 0:
        raise DataError(f"{_source(frame)} holds no rows")
    if cfg.task == Task.FEATURES:
        return _load_features(frame, cfg)
    cut, classes, window, channels = cut_readings(frame, cfg, cfg.classes)
    units = len(cut.names)
    unit_label = _majority(cut.windows.y, cut.recording, units, len(classes))
    split_of = _unit_splits(frame, cut.positions, cut.names, unit_label, classes, cfg, "recording")
    parts = {s: cut.windows.take(np.flatnonzero(split_of[cut.recording] == s)) for s in ("train", "val", "test")}
    _check_train_classes(parts["train"], classes, "windows")
    counts = {s: int((split_of == s).sum()) for s in parts}
    summary = (
        f"{units} recordings ({counts['train']} train, {counts['val']} val, {counts['test']} test), "
        f"channels {channels}, sample period {window.sample_period_ms:g} ms, window {window.size} every "
        f"{window.slide}, {cut.gaps} gaps over {window.max_gap_ms:g} ms restarted a window"
    )
    return Dataset(
        Task.SENSOR_WINDOW,
        parts["train"],
        parts["val"],
        parts["test"],
        classes,
        _source(frame),
        window=window,
        summary=summary,
    )


def feature_rows(frame: pd.DataFrame, cfg: ReadingsConfig) -> tuple[Split, list[str], list[str]]:
    """Every event of a feature table: the rows, the classes and the feature columns."""
    _require_column(frame, cfg.label_column, "label_column")
    used = {cfg.label_column} | {c for c in (cfg.recording, cfg.split_column, cfg.time_column, "key") if c}
    cols = _input_columns(frame, cfg, used)
    x = _numeric(frame, cols)
    y, classes = _labels(frame, cfg.label_column, cfg.classes)
    keys = frame["key"].astype(str).to_numpy().astype(object) if "key" in frame.columns else None
    if keys is None and cfg.recording is not None:
        keys = frame[cfg.recording].astype(str).to_numpy().astype(object) if cfg.recording in frame.columns else None
    if keys is None:
        keys = frame[ROW].astype(str).to_numpy().astype(object)
    return Split(x, y, keys), classes, cols


def _load_features(frame: pd.DataFrame, cfg: ReadingsConfig) -> Dataset:
    rows, classes, cols = feature_rows(frame, cfg)
    group = cfg.recording
    if group is not None:
        _require_column(frame, group, "recording_column")
        _no_missing(frame, group)
        names, unit_pos = group_rows(frame[group].astype(str).to_numpy())
        what = "recording"
    else:
        names = [str(r) for r in frame[ROW].tolist()]
        unit_pos = [np.asarray([i]) for i in range(len(frame))]
        what = "event"
    owner = np.empty(len(frame), np.int64)
    for u, pos in enumerate(unit_pos):
        owner[pos] = u
    unit_label = _majority(rows.y, owner, len(names), len(classes))
    split_of = _unit_splits(frame, unit_pos, names, unit_label, classes, cfg, what)
    parts = {s: rows.take(np.flatnonzero(split_of[owner] == s)) for s in ("train", "val", "test")}
    _check_train_classes(parts["train"], classes, "events")
    counts = {s: len(parts[s]) for s in parts}
    summary = (
        f"{len(frame)} events ({counts['train']} train, {counts['val']} val, {counts['test']} test), "
        f"features {cols[:6]}{' ...' if len(cols) > 6 else ''} ({len(cols)})"
    )
    return Dataset(Task.FEATURES, parts["train"], parts["val"], parts["test"], classes, _source(frame), summary=summary)


# ---------------------------------------------------------------------------------------------------- writing

# schemas/src/main/avro/SensorReading.avsc (tests check the two agree): what the anomaly job reads from Kafka.
SENSOR_READING_SCHEMA = {
    "type": "record",
    "name": "SensorReading",
    "namespace": "io.exitflow.schemas",
    "fields": [
        {"name": "sensorId", "type": "string"},
        {"name": "eventTime", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "values", "type": {"type": "array", "items": "float"}},
        {"name": "label", "type": ["null", "string"], "default": None},
        {"name": "severity", "type": ["null", "float"], "default": None},
    ],
}


def write_sensor_readings(path: Path, sensor_ids, times_ms, values: np.ndarray, labels=None) -> None:
    """Readings as an Avro container file of ``SensorReading`` records, in the order given: sensor ids, event times
    (epoch ms), values ``[n, channels]``, labels (or None)."""
    import fastavro

    values = np.asarray(values, np.float32)
    labels = [None] * len(values) if labels is None else labels
    records = (
        {
            "sensorId": str(s),
            "eventTime": int(t),
            "values": v.tolist(),
            "label": None if lab is None else str(lab),
            "severity": None,
        }
        for s, t, v, lab in zip(sensor_ids, times_ms, values, labels)
    )
    with Path(path).open("wb") as f:
        fastavro.writer(f, fastavro.parse_schema(SENSOR_READING_SCHEMA), records)
