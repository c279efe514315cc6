"""Toolkit evaluation across seeds: mean and spread per curve, paired differences per claim.

Reads ``report-<task>.json`` written by ``python -m exitflow evaluate`` for every seed (seed 7 from
``bench/toolkit/``, the others from ``bench/toolkit/seeds/seed-<N>/``) and prints one Markdown section per task:

- every curve present in all seeds: mean +- standard deviation over seeds of test accuracy at full depth and at
  25/50/75% of full cost (``exitflow.evaluate.accuracy_at``, the same rule the per-seed tables use);
- every claim as a paired difference (same seed, same cost point), with its per-seed values, mean and range, and a
  verdict: it holds when every seed has the same sign and the mean exceeds ``--min-effect`` points (about one
  standard error of a single run's accuracy on the 5760-event test split);
- the aim: the best curve at 50% cost within ``--aim-drop`` points of its own full depth, per seed.

    python bench/toolkit/seeds_summary.py                      # prints the tables
    python bench/toolkit/seeds_summary.py --out bench/toolkit/seeds/summary.md
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# This checkout's toolkit, not whatever checkout the venv's editable install points at.
sys.path.insert(0, str(ROOT / "src"))

from exitflow.evaluate import BUDGET_SHARES, accuracy_at  # noqa: E402
from exitflow.models import ModelConfig  # noqa: E402

TASKS = {"sensor": "Sensor windows (1D CNN)", "features": "Feature vectors (MLP)"}
FULL = "full"
COST_POINTS = [FULL] + [f"{s:.2f}" for s in BUDGET_SHARES]
# Settings that must agree between seeds, or the seeds do not measure the same thing.
SAME_SETTINGS = ("task", "epochs", "noise_sigma", "sizes", "model")


@dataclass(frozen=True)
class Claim:
    """``better`` beats ``baseline`` at equal cost (a paired difference ``better - baseline`` per seed).

    ``same_model``: both curves run the same trained exits (an exit rule against another), so their full depth is
    one number and only the cost points compare anything."""

    title: str
    better: str
    baseline: str
    same_model: bool = False


CLAIMS = (
    Claim("EENet vs thresholds, joint backbone", "eenet/joint", "joint/maxprob", same_model=True),
    Claim("EENet vs thresholds, boost backbone", "eenet/boost", "boost/maxprob", same_model=True),
    Claim("JEI gates vs thresholds on the same heads", "jei/gates", "jei/maxprob", same_model=True),
    Claim("JEI gates vs joint thresholds", "jei/gates", "joint/maxprob"),
    Claim("boost vs joint", "boost/maxprob", "joint/maxprob"),
    Claim("consistent vs joint under noise", "consistent/maxprob+noise", "joint/maxprob+noise"),
    Claim("consistent vs joint, clean", "consistent/maxprob", "joint/maxprob"),
)


def load_reports(bench: Path, tag: str) -> dict[int, dict]:
    """Seed -> report for one task; refuses reports whose settings differ from seed 7's."""
    paths = [bench / f"report-{tag}.json"] + sorted((bench / "seeds").glob(f"seed-*/report-{tag}.json"))
    reports: dict[int, dict] = {}
    for path in paths:
        if not path.exists():
            continue
        report = json.loads(path.read_text())
        seed = int(report["seed"])
        if seed in reports:
            raise SystemExit(f"{path}: seed {seed} appears twice; keep one report per seed")
        reports[seed] = report
    if not reports:
        raise SystemExit(f"no report-{tag}.json under {bench} or {bench / 'seeds'}/seed-*/")
    first = next(iter(reports.values()))
    for seed, report in reports.items():
        for key in SAME_SETTINGS:
            if _setting(report, key) != _setting(first, key):
                raise SystemExit(f"{tag}: seed {seed} has {key}={report[key]!r}, seed {first['seed']} has "
                                 f"{first[key]!r}; re-run it with the same settings")
    return dict(sorted(reports.items()))


def _setting(report: dict, key: str) -> object:
    # Older reports lack model fields added since (with defaults that keep the model as it was): compare the
    # model as ModelConfig reads it.
    return ModelConfig(**report[key]).to_dict() if key == "model" else report[key]


def curve_accuracy(curve: dict) -> dict[str, float | None]:
    """Accuracy (%) at full depth and at each cost share; None where the curve has no point that cheap."""
    acc: dict[str, float | None] = {FULL: curve["full_depth_accuracy"]}
    for s in BUDGET_SHARES:
        acc[f"{s:.2f}"] = accuracy_at(curve["points"], s)
    return {k: None if v is None else 100.0 * v for k, v in acc.items()}


def accuracies(reports: dict[int, dict]) -> dict[str, dict[int, dict[str, float | None]]]:
    """Curve name -> seed -> cost point -> accuracy, for the curves every seed has (seed order of the first)."""
    per_seed = {seed: {c["name"]: curve_accuracy(c) for c in r["curves"] + r["noisy_curves"]}
                for seed, r in reports.items()}
    names = list(next(iter(per_seed.values())))
    return {n: {seed: curves[n] for seed, curves in per_seed.items()} for n in names
            if all(n in curves for curves in per_seed.values())}


def mean_sd(values: list[float | None]) -> str:
    if any(v is None for v in values):
        return "n/a" if all(v is None for v in values) else f"n/a in {sum(v is None for v in values)} seeds"
    m = statistics.fmean(values)
    return f"{m:.2f}" if len(values) < 2 else f"{m:.2f} ± {statistics.stdev(values):.2f}"


def point_label(point: str) -> str:
    return "full depth" if point == FULL else f"@{round(100 * float(point))}%"


def curve_table(acc: dict[str, dict[int, dict[str, float | None]]]) -> str:
    rows = ["| curve | " + " | ".join(point_label(p) for p in COST_POINTS) + " | @50% − full depth (min..max) |",
            "|---|" + "---|" * (len(COST_POINTS) + 1)]
    for name, seeds in acc.items():
        cells = [mean_sd([seeds[s][p] for s in seeds]) for p in COST_POINTS]
        gaps = [None if a["0.50"] is None else a["0.50"] - a[FULL] for a in seeds.values()]
        gap = "n/a" if None in gaps else f"{statistics.fmean(gaps):+.2f} ({min(gaps):+.2f}..{max(gaps):+.2f})"
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {gap} |")
    return "\n".join(rows)


def verdict(diffs: list[float], min_effect: float) -> str:
    m = statistics.fmean(diffs)
    if all(d > 0 for d in diffs) and m > min_effect:
        return "holds"
    if all(d < 0 for d in diffs) and m < -min_effect:
        return "does not hold: baseline better"
    return "not established"


def claim_table(acc: dict[str, dict[int, dict[str, float | None]]], seeds: list[int], min_effect: float) -> str:
    rows = ["| claim (better − baseline) | cost | " + " | ".join(f"seed {s}" for s in seeds)
            + " | mean | range | verdict |", "|---|---|" + "---|" * (len(seeds) + 3)]
    for claim in CLAIMS:
        if claim.better not in acc or claim.baseline not in acc:
            continue
        for p in COST_POINTS[1:] if claim.same_model else COST_POINTS:
            pairs = [(acc[claim.better][s][p], acc[claim.baseline][s][p]) for s in seeds]
            if all(b is None for b, _ in pairs):
                continue  # e.g. EENet has no fit as cheap as 25% of full cost
            diffs = [None if b is None or a is None else b - a for b, a in pairs]
            cells = ["n/a" if d is None else f"{d:+.2f}" for d in diffs]
            known = [d for d in diffs if d is not None]
            if len(known) < len(diffs):
                summary = ["n/a", "n/a", f"n/a in {len(diffs) - len(known)} seeds"]
            else:
                summary = [f"{statistics.fmean(known):+.2f}", f"{min(known):+.2f}..{max(known):+.2f}",
                           verdict(known, min_effect)]
            rows.append(f"| {claim.title}: `{claim.better}` − `{claim.baseline}` | {point_label(p)} | "
                        + " | ".join(cells + summary) + " |")
    return "\n".join(rows)


def aim_table(acc: dict[str, dict[int, dict[str, float | None]]], seeds: list[int], max_drop: float) -> str:
    """Per seed: the clean curve with the best accuracy at 50% cost, and its distance to its own full depth."""
    rows = ["| seed | best curve @50% | @50% | its full depth | difference | within " + f"{max_drop} pt |",
            "|---|---|---|---|---|---|"]
    clean = {n: v for n, v in acc.items() if not n.endswith("+noise")}
    for s in seeds:
        name, seeds_acc = max(((n, v) for n, v in clean.items() if v[s]["0.50"] is not None),
                              key=lambda item: item[1][s]["0.50"])
        a = seeds_acc[s]
        gap = a["0.50"] - a[FULL]
        rows.append(f"| {s} | {name} | {a['0.50']:.2f} | {a[FULL]:.2f} | {gap:+.2f} | "
                    f"{'yes' if gap >= -max_drop else 'no'} |")
    return "\n".join(rows)


def summary(bench: Path, min_effect: float, max_drop: float) -> str:
    parts = []
    for tag, title in TASKS.items():
        reports = load_reports(bench, tag)
        seeds = list(reports)
        acc = accuracies(reports)
        first = next(iter(reports.values()))
        parts += [f"#### {title}: seeds {', '.join(map(str, seeds))} ({first['epochs']} epochs, noise sigma "
                  f"{first['noise_sigma']})", "",
                  "Accuracy %, mean ± standard deviation over seeds (n/a: no point that cheap).", "",
                  curve_table(acc), "",
                  f"Paired differences in points (same seed, same cost point); verdict: same sign in every seed and "
                  f"|mean| > {min_effect} pt; the opposite sign the same way: \"does not hold: baseline better\".", "",
                  claim_table(acc, seeds, min_effect), "",
                  f"Aim: the best curve at 50% cost within {max_drop} points of its own full depth.", "",
                  aim_table(acc, seeds, max_drop), ""]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", type=Path, default=ROOT / "bench" / "toolkit",
                    help="folder with seed 7's report-*.json and seeds/seed-<N>/report-*.json")
    ap.add_argument("--min-effect", type=float, default=0.36,
                    help="points a claim's mean paired difference must exceed (about one standard error of one run)")
    ap.add_argument("--aim-drop", type=float, default=0.5, help="aim: points below full depth allowed at 50%% cost")
    ap.add_argument("--out", type=Path, default=None, help="also write the Markdown here")
    args = ap.parse_args(argv)
    text = summary(args.bench, args.min_effect, args.aim_drop)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
