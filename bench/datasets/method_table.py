"""Per-exit accuracy of every method, and each curve's accuracy at 25/50/75% cost on two cost axes, from one
``python -m exitflow evaluate`` run on a readings data set.

Reads the evaluation's report (``report-sensor.json``: curves of test points with their exit shares, stage costs)
and the checkpoints it left (``runs/eval-sensor-window-<method>.pt``, relative to the folder evaluate ran in), reloads the
data set from its dataset file exactly as evaluate did (same splits, same normalisation), and writes a Markdown file:

1. per method: validation and test accuracy at each exit (the method's combined logits, as the runtime sees them);
2. per curve: full depth, "@x% cost" on evaluate's axis (ORT latency measured in that run, noisy on a loaded machine)
   and on the FLOPs axis (each test point's exit shares times the cumulative stage FLOPs: steady across machines),
   and the best accuracy of the curve.

usage: python bench/datasets/method_table.py --dataset FILE.yaml --report DIR/report-sensor.json --runs DIR/runs
       --out DIR/methods.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from exitflow import checkpoint
from exitflow.exits import run_exits
from exitflow.pipeline import prepare
from exitflow.readings import ReadingsConfig, load_config_file, load_readings

SHARES = ("0.25", "0.50", "0.75")
METHODS = ("joint", "boost", "consistent", "jei")


def pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.2f}"


def per_exit(runs: Path, dataset: Path) -> tuple[list[str], dict, int]:
    ds = load_readings(ReadingsConfig(**load_config_file(dataset)))
    p = prepare(ds)
    rows = ["| method | split | exit 0 | exit 1 | exit 2 | exit 3 (full) |", "|---|---|---:|---:|---:|---:|"]
    found = {}
    for m in METHODS:
        path = runs / f"eval-sensor-window-{m}.pt"
        if not path.is_file():
            continue
        t = checkpoint.load(path)
        if not (np.allclose(t.mean, p.mean) and np.allclose(t.std, p.std)):
            raise SystemExit(f"method_table: {path} was trained with other normalisation; wrong --dataset?")
        found[m] = {}
        for split in ("val", "test"):
            logits, _ = run_exits(t.model, p.x[split])
            acc = [float((logits[k].argmax(-1) == p.y[split]).mean()) for k in range(logits.shape[0])]
            found[m][split] = acc
            rows.append(f"| {m} | {split} | " + " | ".join(pct(a) for a in acc) + " |")
    if not found:
        raise SystemExit(f"method_table: no eval-sensor-window-*.pt checkpoints in {runs}")
    return rows, found, len(p.y["test"])


def flops_at(points: list[dict], cum_flops: np.ndarray, share: float) -> float | None:
    ok = [q["accuracy"] for q in points if float(np.dot(q["exit_shares"], cum_flops)) / cum_flops[-1] <= share + 1e-9]
    return max(ok) if ok else None


def curve_rows(report: dict) -> list[str]:
    cum = np.cumsum(np.asarray(report["stage_flops"], np.float64))
    rows = [
        "| curve | full depth | @25% (latency) | @50% (latency) | @75% (latency) | @25% (FLOPs) | @50% (FLOPs) "
        "| @75% (FLOPs) | best |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in report["curves"] + report["noisy_curves"]:
        lat = [pct(c["accuracy_at"][s]) for s in SHARES]
        fl = [pct(flops_at(c["points"], cum, float(s))) for s in SHARES]
        rows.append(
            f"| {c['name']} | {pct(c['full_depth_accuracy'])} | "
            + " | ".join(lat + fl)
            + f" | {pct(c['best_accuracy'])} |"
        )
    for m, o in report["oracle"].items():
        flops_share = float(np.dot(o["exit_shares"], cum)) / cum[-1]
        rows.append(
            f"| oracle ({m}) | {pct(report['full_depth_accuracy'][m])} | accuracy {pct(o['accuracy'])} at "
            f"{100 * o['cost_share']:.1f}% latency, {100 * flops_share:.1f}% FLOPs | | | | | | |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", type=Path, required=True)
    ap.add_argument("--report", type=Path, required=True)
    ap.add_argument("--runs", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    report = json.loads(args.report.read_text())
    exits, found, n_test = per_exit(args.runs, args.dataset)
    lat = [round(c["64"], 3) for c in report["stage_cost_us_per_event"]]
    text = "\n".join(
        [
            f"Data set: {report['dataset']}; windows train/val/test {report['sizes']}; model {report['model']} "
            f"({report['params']} parameters), {report['epochs']} epochs, seed {report['seed']}; training seconds "
            f"{report['train_seconds']}; machine {report['machine']}; {report['date']}.",
            "",
            f"Stage cost: FLOPs {report['stage_flops']}; ORT latency us/event at batch 64 {lat}.",
            "",
            f"Accuracy % per exit (test: {n_test} windows):",
            "",
            *exits,
            "",
            "Accuracy % against cost (thresholds, gates and EENet schedules set on validation; test results):",
            "",
            *curve_rows(report),
            "",
        ]
    )
    args.out.write_text(text)
    (args.out.with_suffix(".json")).write_text(json.dumps(found, indent=2) + "\n")
    print(text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
