"""Plots one run of bench/eos/run.sh: heap, resident memory, checkpoint size and duration, and output lag over time.

Usage: python bench/eos/plot.py RUN_DIR [OUT.png]

Reads RUN_DIR/samples.csv (one row per sample), RUN_DIR/checkpoints.csv (one row per checkpoint),
RUN_DIR/events.csv (kills, restarts) and RUN_DIR/summary.json; writes RUN_DIR/plot.png unless OUT.png is given.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV file with a header line; empty when the file is missing."""
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def column(rows: list[dict[str, str]], name: str) -> list[float]:
    """One column as floats, NaN where a cell is empty."""
    return [float(r[name]) if r.get(name) not in (None, "") else math.nan for r in rows]


def title(summary: dict) -> str:
    """One line: mode, rate, verdict."""
    mode = summary.get("mode", "?")
    verdict = summary.get("verdict", {})
    sending = summary.get("sending", {})
    parts = [
        f"{mode}: {sending.get('readings', '?'):,} readings at {sending.get('readings_per_s', 0):.0f}/s"
        if isinstance(sending.get("readings"), int)
        else mode
    ]
    if verdict:
        parts.append(
            ("exactly once" if verdict.get("exactly_once") else "NOT exactly once")
            + f" ({verdict.get('windows_answered', 0):,}/{verdict.get('windows_expected', 0):,} windows)"
        )
    if "all_flat" in summary:
        parts.append("all series flat" if summary["all_flat"] else "NOT all flat")
    return ", ".join(parts)


def main(argv: list[str]) -> int:
    """Draws the run's plot; returns the exit status."""
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    run = Path(argv[1])
    target = Path(argv[2]) if len(argv) > 2 else run / "plot.png"
    samples = read_csv(run / "samples.csv")
    checkpoints = [c for c in read_csv(run / "checkpoints.csv") if c["status"] == "COMPLETED"]
    events = read_csv(run / "events.csv")
    summary = json.loads((run / "summary.json").read_text()) if (run / "summary.json").exists() else {}
    if not samples:
        print(f"no samples in {run}", file=sys.stderr)
        return 1
    minutes = [t / 60 for t in column(samples, "elapsed_s")]
    tms = sorted(k[len("heap_mb_") :] for k in samples[0] if k.startswith("heap_mb_"))
    roles = sorted(k[len("rss_mb_") :] for k in samples[0] if k.startswith("rss_mb_"))

    fig, axes = plt.subplots(5, 1, figsize=(10, 14), sharex=True)
    ax = axes[0]
    for tm in tms:
        (line,) = ax.plot(minutes, column(samples, f"heap_mb_{tm}"), marker=".", label=f"{tm} heap used")
        ax.plot(
            minutes,
            column(samples, f"heap_min_mb_{tm}"),
            linestyle="--",
            color=line.get_color(),
            label=f"{tm} least heap used since last sample",
        )
    ax.set_ylabel("JVM heap (MB)")
    ax.legend(fontsize=7, loc="upper left")

    ax = axes[1]
    for role in roles:
        ax.plot(minutes, column(samples, f"rss_mb_{role}"), marker=".", label=role)
    ax.set_ylabel("resident memory, VmRSS (MB)")
    ax.legend(fontsize=7, loc="upper left")

    ckpt_minutes = [float(c["trigger_s"]) / 60 for c in checkpoints]
    ax = axes[2]
    ax.plot(ckpt_minutes, [float(c["checkpointed_mb"]) for c in checkpoints], marker=".", label="checkpointed size")
    ax.plot(ckpt_minutes, [float(c["state_mb"]) for c in checkpoints], marker=".", linestyle=":", label="state size")
    ax.set_ylabel("checkpoint (MB)")
    ax.legend(fontsize=7, loc="upper left")

    ax = axes[3]
    ax.plot(ckpt_minutes, [float(c["duration_ms"]) for c in checkpoints], marker=".")
    ax.set_ylabel("checkpoint duration (ms)")

    ax = axes[4]
    ax.plot(minutes, column(samples, "output_lag_s"), marker=".", color="tab:red", label="output lag (s)")
    ax.set_ylabel("output lag (s)", color="tab:red")
    twin = ax.twinx()
    twin.plot(
        minutes,
        column(samples, "group_lag"),
        marker=".",
        color="tab:gray",
        alpha=0.6,
        label="consumer-group lag (readings)",
    )
    twin.set_ylabel("consumer-group lag (readings)", color="tab:gray")
    ax.set_xlabel("minutes since sending started")

    for e in events:
        what = e["event"]
        if what == "flush":
            for a in axes:
                a.axvline(float(e["elapsed_s"]) / 60, color="gray", linewidth=0.8, linestyle=":")
            axes[0].annotate(
                "input ends",
                (float(e["elapsed_s"]) / 60, 1.0),
                xycoords=("data", "axes fraction"),
                fontsize=7,
                rotation=90,
                va="top",
                ha="right",
            )
        if what.startswith("kill") or what.startswith("restart"):
            x = float(e["elapsed_s"]) / 60
            for a in axes:
                a.axvline(
                    x,
                    color="black" if what.startswith("kill") else "green",
                    linewidth=0.8,
                    linestyle="-" if what.startswith("kill") else "--",
                )
            axes[0].annotate(
                what, (x, 1.0), xycoords=("data", "axes fraction"), fontsize=7, rotation=90, va="top", ha="right"
            )
    for a in axes:
        a.grid(alpha=0.3)
    fig.suptitle(title(summary), fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    fig.savefig(target, dpi=90)
    print(f"plot: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
