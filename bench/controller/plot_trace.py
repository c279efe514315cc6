"""Plot a controller trace (JSON lines from ControlTrace.toJson, optionally with the benchmark's truth fields).

Panels over time: input rate and throughput; backlog; thresholds; cost per event (measured, allowed, ideal);
estimated accuracy (and true accuracy when the trace has it).

Usage: plot_trace.py TRACE.jsonl OUT.png
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if not rows:
        raise SystemExit(f"{path}: no trace lines")
    return rows


def column(rows: list[dict], key: str) -> list[float]:
    return [float("nan") if r.get(key) is None else float(r[key]) for r in rows]


def plot(rows: list[dict], out: Path) -> None:
    t0 = rows[0]["time_ms"]
    t = [(r["time_ms"] - t0) / 1000.0 + 1 for r in rows]
    fig, ax = plt.subplots(5, 1, figsize=(10, 13), sharex=True)
    title = rows[0].get("model", "controller")
    fig.suptitle(f"ExitFlow feedback controller trace: {title}")

    if "true_input_rate" in rows[0]:
        ax[0].plot(t, column(rows, "true_input_rate"), label="input rate (true)", color="grey", ls="--")
    ax[0].plot(t, column(rows, "input_rate"), label="input rate (estimated)")
    ax[0].plot(t, column(rows, "throughput"), label="throughput")
    ax[0].set_ylabel("events/s")
    ax[0].legend(loc="upper right")

    ax[1].plot(t, column(rows, "backlog"), color="tab:red")
    ax[1].set_ylabel("backlog (events)")

    k = len(rows[0]["thresholds"])
    for s in range(k - 1):
        ax[2].step(t, [r["thresholds"][s] for r in rows], where="post", label=f"T{s}")
    pub = [ti for ti, r in zip(t, rows) if r.get("published")]
    ax[2].plot(pub, [1.02] * len(pub), "v", color="black", ms=3, label="update published")
    ax[2].set_ylabel("threshold")
    ax[2].set_ylim(-0.02, 1.06)
    ax[2].legend(loc="lower right", ncol=k)

    us = 1e-3
    ax[3].plot(t, [c * us for c in column(rows, "cost_per_event")], label="measured")
    ax[3].plot(t, [c * us for c in column(rows, "allowed_cost")], label="allowed (controller)")
    if "ideal_cost" in rows[0]:
        ax[3].plot(t, [c * us for c in column(rows, "ideal_cost")], label="budget (true)", color="grey", ls="--")
    ax[3].plot(t, [c * us for c in column(rows, "full_cost")], label="full depth", color="black", lw=0.8)
    ax[3].set_ylabel("cost per event (us)")
    ax[3].legend(loc="upper right")

    ax[4].plot(t, column(rows, "est_accuracy"), label="estimated (samples' targets)")
    ax[4].plot(t, column(rows, "full_accuracy"), label="full depth (same samples)", lw=0.8)
    if "true_accuracy" in rows[0]:
        ax[4].plot(t, column(rows, "true_accuracy"), label="true (labels)", color="grey", ls="--")
    ax[4].set_ylabel("accuracy")
    ax[4].set_xlabel("time (s)")
    ax[4].legend(loc="lower left")
    for a in ax:
        for r in (i for i, row in enumerate(rows) if row.get("alert")):
            a.axvspan(t[r] - 0.5, t[r] + 0.5, color="orange", alpha=0.15, lw=0)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    plot(load(Path(argv[1])), Path(argv[2]))
    print(f"wrote {argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
