"""Accuracy of exported bundles from their files alone: per exit, and at 25/50/75% of full-depth cost.

Runs each bundle's stage files with ONNX Runtime on the test split of a dataset (the toolkit's loader, so windows are
cut as the bundle says), takes the validation outputs from the bundle's calibration.json, and sweeps thresholds
the way ``python -m exitflow evaluate`` does (MSDNet's budgeted sweep, thresholds set on validation): "@x% cost" is
the best test accuracy among the sweep's points whose test cost is at most x% of full depth. Cost is the bundle's
stage FLOPs (``--cost flops``, the default: steady across machines and load) or its measured stage latencies
(``--cost us``: ``cost_us_per_event`` at batch 64), summed up to the exit stage.

usage: python bench/models/bundle_accuracy.py [--data data] [--cost flops|us] [--out FILE.json] BUNDLE...
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from exitflow.data import load_dataset, normalise
from exitflow.export import ort_stage_outputs
from exitflow.thresholds import evaluate_thresholds, msdnet_sweep

SHARES = (0.25, 0.5, 0.75)


def bundle_accuracy(bundle: Path, data: Path, cost_kind: str = "flops") -> dict:
    """Per-exit test accuracy, accuracy at the bundle's thresholds and at 25/50/75% cost, for one bundle."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    calib = json.loads((bundle / "calibration.json").read_text())
    ds = load_dataset(data, manifest["task"])
    classes = manifest["classes"]
    if ds.classes != classes:
        raise SystemExit(f"{bundle}: classes {classes} differ from the data's {ds.classes}")
    mean = np.asarray(manifest["input"]["mean"], np.float32)
    std = np.asarray(manifest["input"]["std"], np.float32)
    files = [bundle / s["file"] for s in manifest["stages"]]
    test = ds.test
    outs = []
    for i in range(0, len(test), 512):  # bounded ORT batches
        outs.append(ort_stage_outputs(files, normalise(test.x[i:i + 512], mean, std), int(manifest["carry_dim"])))
    st = np.stack([np.concatenate([o[k]["score"] for o in outs]) for k in range(len(files))])
    pt = np.stack([np.concatenate([o[k]["logits"].argmax(-1) for o in outs]) for k in range(len(files))])
    sv = np.asarray([s["score"] for s in calib["stages"]], np.float32)
    pv = np.asarray([s["pred"] for s in calib["stages"]])
    yv = np.asarray(calib["labels"])
    yt = test.y
    cost = np.asarray([s["flops"] if cost_kind == "flops" else s["cost_us_per_event"]["64"]
                       for s in manifest["stages"]], np.float64)
    cum = np.cumsum(cost)
    full = float(cum[-1])
    sweep = [t for _, t in msdnet_sweep(sv, st, pv, pt, yv, yt, cum)]
    at = evaluate_thresholds(st, pt, yt, manifest["exit"]["thresholds"], cum)
    result = {
        "bundle": f"{manifest['model_id']} {manifest['model_version']}",
        "flops_per_stage": [s["flops"] for s in manifest["stages"]],
        "cost": cost_kind,
        "cost_us_per_event_64": [s["cost_us_per_event"]["64"] for s in manifest["stages"]],
        "test_windows": int(len(yt)),
        "accuracy_per_exit": [round(float((pt[k] == yt).mean()), 4) for k in range(len(files))],
        "at_bundle_thresholds": {"accuracy": round(at.accuracy, 4), "cost_share": round(at.cost / full, 4),
                                 "exit_shares": at.exit_shares},
    }
    for share in SHARES:
        fit = [p.accuracy for p in sweep if p.cost <= share * full + 1e-9]
        result[f"at_{int(share * 100)}pct_cost"] = round(max(fit), 4) if fit else None
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundles", nargs="+", type=Path)
    ap.add_argument("--data", type=Path, default=Path("data"))
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--cost", choices=("flops", "us"), default="flops", help="cost axis of the 25/50/75%% columns")
    args = ap.parse_args(argv)
    results = [bundle_accuracy(b, args.data, args.cost) for b in args.bundles]
    for r in results:
        print(json.dumps(r), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
