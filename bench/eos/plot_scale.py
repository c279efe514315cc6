"""Plots one run of bench/eos/run.sh scale: capacity and peak memory per configuration, memory over time.

Usage: python bench/eos/plot_scale.py RUN_DIR [OUT.png]

Reads RUN_DIR/summary.json (ScaleBenchmark), each capacity run's RUN_DIR/capacity-p<P>-t<T>-s<S>/capacity-samples.csv
(heap and RSS of each TaskManager every 2 s while the backlog drains) and the soak's RUN_DIR/soak/samples.csv; writes
RUN_DIR/scale.png unless OUT.png is given. Heap is Flink's Status.JVM.Memory.Heap.Used (MB), RSS is VmRSS (MiB).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from plot import column, read_csv  # noqa: E402  (bench/eos/plot.py, this script's folder)


def label(layout: dict[str, Any], task_managers: int) -> str:
    """A configuration's short name: parallelism, intra-op threads, TaskManagers x slots."""
    return f"p{layout['parallelism']} t{layout['intra_op_threads']}\n{task_managers}x{layout['slots']}"


def main(argv: list[str]) -> int:
    """Draws the run's plot; returns the exit status."""
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    run = Path(argv[1])
    target = Path(argv[2]) if len(argv) > 2 else run / "scale.png"
    summary = json.loads((run / "summary.json").read_text())
    runs: list[dict[str, Any]] = summary.get("capacity", [])
    soak: dict[str, Any] | None = summary.get("soak")
    fig, axes = plt.subplots(4 if soak else 3, 1, figsize=(11, 15 if soak else 11))

    names = [label(r["layout"], r["task_managers"]) for r in runs]
    ax = axes[0]
    ax.bar(names, [r.get("windows_per_s", 0) for r in runs], color="tab:blue")
    ax.set_ylabel("windows/s (20-80% of the backlog)")
    ax.set_title(f"{summary.get('model', '?')}: capacity per configuration", fontsize=10)

    ax = axes[1]
    width = 0.8 / max(1, max((len(r["per_task_manager"]) for r in runs), default=1))
    for i, r in enumerate(runs):
        for j, tm in enumerate(r["per_task_manager"]):
            x = i - 0.4 + width * (j + 0.5)
            ax.bar(
                x,
                tm.get("rss_high_water_mb", 0),
                width * 0.9,
                color="tab:orange",
                label="RSS high-water (MiB)" if i == 0 and j == 0 else None,
            )
            ax.bar(
                x,
                tm.get("peak_heap_mb", 0),
                width * 0.5,
                color="tab:green",
                label="peak heap used (MB)" if i == 0 and j == 0 else None,
            )
            ax.annotate(
                f"tm{j + 1}: {tm['inference_subtasks']} sub, {tm['onnx_sessions_opened']} sess",
                (x, tm.get("rss_high_water_mb", 0)),
                fontsize=6,
                ha="center",
                va="bottom",
            )
    ax.set_xticks(range(len(runs)), names)
    ax.set_ylabel("per TaskManager")
    ax.legend(fontsize=7, loc="lower right")

    ax = axes[2]
    for r in runs:
        name = f"capacity-p{r['layout']['parallelism']}-t{r['layout']['intra_op_threads']}-s{r['layout']['slots']}"
        rows = read_csv(run / name / "capacity-samples.csv")
        for tm in r["per_task_manager"]:
            ax.plot(
                column(rows, "elapsed_s"),
                column(rows, f"rss_mb_{tm['role']}"),
                marker=".",
                label=f"{name.removeprefix('capacity-')} {tm['role']}",
            )
    ax.set_xlabel("seconds since the job ran on all its tasks (the backlog draining)")
    ax.set_ylabel("RSS (MiB)")
    ax.legend(fontsize=6, loc="lower right", ncol=2)

    if soak:
        ax = axes[3]
        rows = read_csv(run / "soak" / "samples.csv")
        minutes = [t / 60 for t in column(rows, "elapsed_s")]
        twin = ax.twinx()
        for tm in soak["per_task_manager"]:
            ax.plot(minutes, column(rows, f"rss_mb_{tm['role']}"), marker=".", label=f"{tm['role']} RSS (MiB)")
            twin.plot(
                minutes,
                column(rows, f"heap_min_mb_{tm['role']}"),
                linestyle="--",
                label=f"{tm['role']} least heap used between samples (MB)",
            )
        ax.set_ylabel("RSS (MiB)")
        twin.set_ylabel("heap (MB), dashed")
        ax.set_xlabel("minutes of the soak")
        flat = {True: "flat", False: "NOT flat", None: "?"}[soak.get("all_flat")]
        if soak.get("not_flat"):
            flat += f" ({', '.join(soak['not_flat'])})"
        ax.set_title(f"soak: {soak.get('rate_readings_per_s', 0):,.0f} readings/s, every series {flat}", fontsize=10)
        ax.legend(fontsize=7, loc="upper left")
        twin.legend(fontsize=7, loc="lower right")
    for a in axes:
        a.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(target, dpi=90)
    print(f"plot: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
