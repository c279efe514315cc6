"""Draws the demo's time series (``./exitflow-demo --plot FILE.png``) as one PNG.

The demo (jobs/.../demo/DemoTimeSeries.java) writes one CSV row per report interval: ``t_s``, ``input_rate``,
``target_rate``, ``windows_per_s``, ``accuracy``, ``exits_<k>`` per stage, ``threshold_<k>`` per stage but the last,
``threshold_version``, ``e2e_p50_ms``, ``e2e_p99_ms``, ``dead_letters``; empty cells are intervals without a value.
The figure has five panels over time: input rate against the schedule with windows/s; exits per stage (stacked);
thresholds in force, with a dashed line at every threshold update; end-to-end latency p50/p99; accuracy per interval.

Usage: ``python -m exitflow.demo_plot SERIES.csv --out FILE.png [--title TEXT]``
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

REQUIRED = [
    "t_s",
    "input_rate",
    "target_rate",
    "windows_per_s",
    "accuracy",
    "threshold_version",
    "e2e_p50_ms",
    "e2e_p99_ms",
    "dead_letters",
]


def stage_columns(columns: list[str], prefix: str) -> list[str]:
    """The ``<prefix><k>`` columns, in stage order."""
    found = [(int(m.group(1)), c) for c in columns if (m := re.fullmatch(re.escape(prefix) + r"(\d+)", c))]
    return [c for _, c in sorted(found)]


def load_series(csv: Path) -> pd.DataFrame:
    """Reads the demo's CSV; raises ValueError naming what is missing when it is not one."""
    try:
        frame = pd.read_csv(csv)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise ValueError(f"{csv}: not a readable CSV: {e}") from e
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing or not stage_columns(list(frame.columns), "exits_"):
        raise ValueError(
            f"{csv}: not a demo time series (missing columns {missing or ['exits_0']}); "
            "it comes from ./exitflow-demo --plot or --timeseries-csv"
        )
    if frame.empty:
        raise ValueError(f"{csv}: no intervals recorded (the demo ended before its first report)")
    return frame


def plot_series(frame: pd.DataFrame, out: Path, title: str = "ExitFlow demo") -> None:
    """Draws the five panels of ``frame`` (as :func:`load_series` returns it) into the PNG ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = frame["t_s"]
    exits = stage_columns(list(frame.columns), "exits_")
    thresholds = stage_columns(list(frame.columns), "threshold_")
    fig, axes = plt.subplots(
        5, 1, figsize=(10, 13), sharex=True, gridspec_kw={"height_ratios": [1.1, 1.2, 1.1, 1, 0.8]}
    )
    fig.suptitle(title)

    ax = axes[0]
    ax.plot(t, frame["input_rate"], label="readings sent/s")
    ax.plot(t, frame["target_rate"], linestyle="--", color="grey", label="schedule")
    ax.set_ylabel("readings/s")
    right = ax.twinx()
    right.plot(t, frame["windows_per_s"], color="tab:green", label="windows answered/s")
    right.set_ylabel("windows/s")
    lines = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", fontsize="small")
    ax.set_title("input rate and windows per second", fontsize="medium")

    ax = axes[1]
    ax.stackplot(t, [frame[c].fillna(0) for c in exits], labels=[f"stage {c.split('_')[1]}" for c in exits], alpha=0.8)
    ax.set_ylabel("windows/s")
    ax.legend(loc="upper left", fontsize="small", ncol=len(exits))
    ax.set_title("exits per stage (stacked)", fontsize="medium")

    ax = axes[2]
    for c in thresholds:
        ax.step(t, frame[c], where="post", label=f"stage {c.split('_')[1]}")
    versions = frame["threshold_version"]
    updates = t[versions.ne(versions.shift()) & versions.ne(0) & versions.shift().notna()]
    for x in updates:
        ax.axvline(x, color="grey", linestyle=":", linewidth=0.8)
    ax.set_ylabel("exit threshold")
    ax.legend(loc="lower left", fontsize="small", ncol=max(1, len(thresholds)))
    ax.set_title(f"thresholds in force ({len(updates)} updates from the controller, dotted)", fontsize="medium")

    ax = axes[3]
    ax.plot(t, frame["e2e_p50_ms"], label="p50")
    ax.plot(t, frame["e2e_p99_ms"], label="p99")
    ax.set_ylabel("ms")
    ax.legend(loc="upper left", fontsize="small")
    ax.set_title(
        "end-to-end latency (last reading sent -> prediction readable, incl. exactly-once commit)", fontsize="medium"
    )

    ax = axes[4]
    ax.plot(t, frame["accuracy"] * 100, color="tab:purple")
    ax.set_ylabel("% right")
    ax.set_title("accuracy per interval (labelled windows)", fontsize="medium")
    ax.set_xlabel("seconds since the simulator started")

    for ax in axes:
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Command line: reads the CSV, writes the PNG; exit 2 with a one-line message for a bad CSV."""
    parser = argparse.ArgumentParser(prog="python -m exitflow.demo_plot", description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, help="the demo's time series (DemoTimeSeries CSV)")
    parser.add_argument("--out", type=Path, required=True, help="PNG to write")
    parser.add_argument("--title", default="ExitFlow demo", help="figure title")
    args = parser.parse_args(argv)
    try:
        frame = load_series(args.csv)
    except ValueError as e:
        print(f"demo_plot: {e}", file=sys.stderr)
        return 2
    plot_series(frame, args.out, args.title)
    print(f"demo_plot: {len(frame)} intervals drawn to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
