"""Accuracy against measured cost for every method and exit rule on the test split.

One backbone size per task; every method trains it with its own loss. Costs are ONNX Runtime
latencies of the exported stages measured here (microseconds per event at batch 64, one intra-op
thread), FLOPs beside them. Thresholds and schedulers are always set on the validation split and
the reported points are test-split results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from . import checkpoint
from .checkpoint import Trained
from .cost import measure_stage_latency, stage_flops
from .data import Dataset
from .eenet import BudgetError, all_scores, exits_for_thresholds, fit_eenet
from .exits import ExitModel, StageGraph, run_exits, score_rule
from .export import export_stage
from .perturb import noisy_copy
from .pipeline import Prepared, model_config, prepare, train_config
from .registry import THRESHOLD_RULES, Method, Rule
from .thresholds import Point, evaluate_thresholds, msdnet_sweep, oracle
from .train import cost_shares, fit_jei_gates, train

BUDGET_SHARES = (0.25, 0.5, 0.75)
EENET_BUDGETS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def _log(msg: str) -> None:
    print(msg, flush=True)


def _rule_scores(logits: np.ndarray, rule: Rule) -> np.ndarray:
    return score_rule(rule, torch.from_numpy(logits)).numpy()


def measure_costs(model: ExitModel) -> tuple[list[dict[str, float]], list[int]]:
    """Exports the stages to a scratch folder and times them with ONNX Runtime."""
    in_shape = list(model.net.config.in_shape)
    shapes = [in_shape] + model.net.state_shapes()[:-1]
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for k in range(model.num_stages):
            path = Path(tmp) / f"stage{k}.onnx"
            export_stage(StageGraph(model, k), shapes[k], model.carry_dim, path)
            files.append(path)
        lat = measure_stage_latency(files, shapes, model.carry_dim, min_time_s=1.0)
    return lat, stage_flops(model.net)


def _point_dict(p: Point, full_cost: float, val: Point | None = None) -> dict:
    d = {
        "accuracy": round(p.accuracy, 5),
        "cost_us": round(p.cost, 4),
        "cost_share": round(p.cost / full_cost, 4),
        "exit_shares": p.exit_shares,
        "thresholds": [round(t, 6) for t in p.thresholds],
        "setting": p.setting,
    }
    if val is not None:
        d["val_accuracy"] = round(val.accuracy, 5)
        d["val_cost_share"] = round(val.cost / full_cost, 4)
    return d


def accuracy_at(points: list[dict], share: float) -> float | None:
    """Best test accuracy among the curve's points whose test cost is at most ``share`` of full depth."""
    ok = [p["accuracy"] for p in points if p["cost_share"] <= share + 1e-9]
    return max(ok) if ok else None


def _sweep_curve(
    name: str,
    method: Method,
    rule: Rule,
    sv: np.ndarray,
    st: np.ndarray,
    lv: np.ndarray,
    lt: np.ndarray,
    p: Prepared,
    cum: np.ndarray,
    y_test: np.ndarray | None = None,
) -> dict:
    y_t = p.y["test"] if y_test is None else y_test
    pairs = msdnet_sweep(sv, st, lv.argmax(-1), lt.argmax(-1), p.y["val"], y_t, cum)
    return {"name": name, "method": method, "rule": rule, "points": [_point_dict(t, cum[-1], v) for v, t in pairs]}


def _jei_curves(model: ExitModel, p: Prepared, cum: np.ndarray, lambdas: list[float]) -> list[dict]:
    """JEI-DNN points: the trained gates, gate-only refits per lambda (heads frozen), and a runtime sweep
    of the gate threshold (what the runtime's live thresholds do with a gate bundle)."""
    assert model.gates is not None
    lv, sv = run_exits(model, p.x["val"])
    lt, st = run_exits(model, p.x["test"])
    k = model.num_stages
    half = [0.5] * (k - 1) + [0.0]
    trained = evaluate_thresholds(st, lt.argmax(-1), p.y["test"], half, cum, "trained gates")
    points = [_point_dict(trained, cum[-1], evaluate_thresholds(sv, lv.argmax(-1), p.y["val"], half, cum))]
    shares = cost_shares(model.net)
    saved = {n: t.clone() for n, t in model.gates.state_dict().items()}
    lv_t = [torch.from_numpy(z) for z in lv]
    for lam in lambdas:
        fit_jei_gates(model.gates, lv_t, torch.from_numpy(p.y["val"]), shares, lam)
        _, sv2 = run_exits(model, p.x["val"])
        _, st2 = run_exits(model, p.x["test"])
        pt = evaluate_thresholds(st2, lt.argmax(-1), p.y["test"], half, cum, f"lambda={lam}")
        points.append(_point_dict(pt, cum[-1], evaluate_thresholds(sv2, lv.argmax(-1), p.y["val"], half, cum)))
    model.gates.load_state_dict(saved)
    return [
        {"name": "jei/gates", "method": Method.JEI, "rule": Rule.GATE, "points": points},
        _sweep_curve("jei/gate-threshold-sweep", Method.JEI, Rule.GATE, sv, st, lv, lt, p, cum),
    ]


def _eenet_curve(name: str, base: ExitModel, p: Prepared, stage_cost: np.ndarray, seed: int) -> dict:
    lv, _ = run_exits(base, p.x["val"])
    lt, _ = run_exits(base, p.x["test"])
    cum = np.cumsum(stage_cost)
    points = []
    for share in EENET_BUDGETS:
        budget = share * cum[-1]
        try:
            fit = fit_eenet(lv, p.y["val"], stage_cost.tolist(), budget, seed=seed)
        except BudgetError as e:
            _log(f"[eval] {name} budget {share:.2f}: {e}")
            continue
        with torch.no_grad():
            qt = all_scores(fit.scores, torch.from_numpy(lt)).numpy()
        exit_at = exits_for_thresholds(qt, fit.thresholds)
        preds = lt.argmax(-1)[exit_at, np.arange(lt.shape[1])]
        pt = Point(
            fit.thresholds,
            float((preds == p.y["test"]).mean()),
            float(cum[exit_at].mean()),
            (np.bincount(exit_at, minlength=len(cum)) / len(exit_at)).round(4).tolist(),
            f"budget={share:.2f}",
        )
        d = _point_dict(pt, cum[-1])
        d.update(
            {
                "val_accuracy": round(fit.val_accuracy, 5),
                "val_cost_share": round(fit.val_cost / cum[-1], 4),
                "budget_share": share,
                "val_budget_error": round(abs(fit.val_cost - budget) / budget, 4),
            }
        )
        points.append(d)
        _log(
            f"[eval] {name} budget {share:.2f}: val cost {fit.val_cost / cum[-1]:.3f} test acc {pt.accuracy:.4f} "
            f"cost {pt.cost / cum[-1]:.3f}"
        )
    return {"name": name, "method": Method.EENET, "rule": Rule.EENET, "points": points}


def run_evaluation(ds: Dataset, args: argparse.Namespace) -> dict:
    methods = [Method.parse(m.strip(), "method") for m in args.methods.split(",") if m.strip()]
    p = prepare(ds)
    mcfg = model_config(ds, shape=getattr(args, "shape", None))
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    runs = Path("runs")
    trained: dict[Method, ExitModel] = {}
    # EENet's schedulers are fitted over the joint and the boost backbones.
    bases = (Method.JOINT, Method.BOOST)
    need = [
        m for m in (*bases, Method.CONSISTENT, Method.JEI) if m in methods or (m in bases and Method.EENET in methods)
    ]
    times = {}
    for m in need:
        cfg = train_config(
            ds.task,
            method=m,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            seed=args.seed,
            class_weighting=getattr(args, "class_weights", "auto"),
        )
        t0 = time.time()
        model = train(mcfg, cfg, p.x["train"], p.y["train"], p.x["val"], p.y["val"])
        times[m] = round(time.time() - t0, 1)
        trained[m] = model
        checkpoint.save(
            Trained(
                model,
                ds.task,
                ds.classes,
                p.mean,
                p.std,
                [0.0] * model.num_stages,
                {"method": m, "config": asdict(cfg)},
                ds.window,
            ),
            runs / f"eval-{ds.task}-{m}.pt",
        )

    # One cost vector per task (same backbone for every method): the joint model's exported stages.
    ref = trained.get(Method.JOINT) or next(iter(trained.values()))
    ref_rule = ref.rule
    ref.rule = Rule.MAXPROB
    latency, flops = measure_costs(ref)
    ref.rule = ref_rule
    stage_cost = np.asarray([c["64"] for c in latency], np.float64)
    cum = np.cumsum(stage_cost)
    full = float(cum[-1])
    _log(f"[eval] stage cost us/event at batch 64: {stage_cost.tolist()} (flops {flops})")

    curves: list[dict] = []
    full_depth: dict[Method, float] = {}
    oracles: dict[Method, dict] = {}
    for m, model in trained.items():
        lv, _ = run_exits(model, p.x["val"])
        lt, _ = run_exits(model, p.x["test"])
        full_depth[m] = round(float((lt[-1].argmax(-1) == p.y["test"]).mean()), 5)
        oracles[m] = _point_dict(oracle(lt.argmax(-1), p.y["test"], cum), full)
        if m in methods:
            for rule in THRESHOLD_RULES:
                curves.append(
                    _sweep_curve(f"{m}/{rule}", m, rule, _rule_scores(lv, rule), _rule_scores(lt, rule), lv, lt, p, cum)
                )
    if Method.JEI in trained:
        curves.extend(_jei_curves(trained[Method.JEI], p, cum, [float(v) for v in args.jei_lambdas.split(",")]))
    if Method.EENET in methods:
        for base in bases:
            c = _eenet_curve(f"eenet/{base}", trained[base], p, stage_cost, args.seed)
            c["full_depth_accuracy"] = full_depth[base]
            curves.append(c)

    # Robustness: thresholds from clean validation, applied to a noisy copy of the test split.
    noisy: list[dict] = []
    x_noisy = noisy_copy(torch.from_numpy(p.x["test"]), args.noise, seed=args.seed).numpy()
    for m in (Method.JOINT, Method.CONSISTENT, Method.BOOST):
        if m in trained:
            model = trained[m]
            lv, _ = run_exits(model, p.x["val"])
            ln, _ = run_exits(model, x_noisy)
            c = _sweep_curve(
                f"{m}/maxprob+noise",
                m,
                Rule.MAXPROB,
                _rule_scores(lv, Rule.MAXPROB),
                _rule_scores(ln, Rule.MAXPROB),
                lv,
                ln,
                p,
                cum,
            )
            c["full_depth_accuracy"] = round(float((ln[-1].argmax(-1) == p.y["test"]).mean()), 5)
            noisy.append(c)

    for c in curves + noisy:
        fd = c.get("full_depth_accuracy", full_depth.get(c["method"], full_depth.get(Method.JOINT)))
        c["full_depth_accuracy"] = fd
        c["accuracy_at"] = {f"{s:.2f}": accuracy_at(c["points"], s) for s in BUDGET_SHARES}
        c["best_accuracy"] = max((q["accuracy"] for q in c["points"]), default=None)
    report = {
        "task": ds.task,
        "dataset": ds.source,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.platform()}, load avg {os.getloadavg()}",
        "sizes": {"train": len(p.y["train"]), "val": len(p.y["val"]), "test": len(p.y["test"])},
        "model": mcfg.to_dict(),
        "params": sum(q.numel() for q in ref.net.parameters()),
        "epochs": args.epochs,
        "seed": args.seed,
        "train_seconds": times,
        "stage_cost_us_per_event": latency,
        "stage_flops": flops,
        "cost_unit": "ORT CPU us/event at batch 64, cumulative",
        "full_depth_accuracy": full_depth,
        "oracle": oracles,
        "noise_sigma": args.noise,
        "curves": curves,
        "noisy_curves": noisy,
    }
    tag = ds.task.short
    (out / f"report-{tag}.json").write_text(json.dumps(report, indent=2) + "\n")
    table = summary_table(report)
    (out / f"summary-{tag}.md").write_text(table + "\n")
    plot(report, out / f"accuracy-vs-cost-{tag}.png")
    _log(table)
    return report


def summary_table(report: dict) -> str:
    rows = ["| curve | full depth | @25% cost | @50% cost | @75% cost | best |", "|---|---|---|---|---|---|"]

    def fmt(v: float | None) -> str:
        return "n/a" if v is None else f"{100 * v:.2f}"

    for c in report["curves"] + report["noisy_curves"]:
        a = c["accuracy_at"]
        rows.append(
            f"| {c['name']} | {fmt(c['full_depth_accuracy'])} | {fmt(a['0.25'])} | {fmt(a['0.50'])} | "
            f"{fmt(a['0.75'])} | {fmt(c['best_accuracy'])} |"
        )
    for m, o in report["oracle"].items():
        rows.append(
            f"| oracle ({m}) | {fmt(report['full_depth_accuracy'][m])} | accuracy {fmt(o['accuracy'])} at "
            f"{100 * o['cost_share']:.1f}% cost | | | |"
        )
    return "\n".join(rows)


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(16, 5.5))
    # One colour per curve (noisy twin and oracle star included), so the two panels read alike.
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colours: dict[str, str] = {}

    def colour(name: str) -> str:
        return colours.setdefault(name, palette[len(colours) % len(palette)])

    for ax, curves, title in (
        (axes[0], report["curves"], "test split"),
        (axes[1], report["noisy_curves"], f"noisy test (sigma {report['noise_sigma']})"),
    ):
        for c in curves:
            if c["rule"] not in (Rule.MAXPROB, Rule.GATE, Rule.EENET) and not c["name"].endswith("noise"):
                continue  # entropy/margin curves are in the JSON; the plot keeps the comparison readable
            pts = sorted(c["points"], key=lambda q: q["cost_share"])
            ax.plot(
                [q["cost_share"] for q in pts],
                [100 * q["accuracy"] for q in pts],
                marker=".",
                label=c["name"],
                color=colour(c["name"].removesuffix("+noise")),
            )
        if ax is axes[0]:
            for m, o in report["oracle"].items():
                ax.scatter(
                    [o["cost_share"]],
                    [100 * o["accuracy"]],
                    marker="*",
                    s=80,
                    label=f"oracle ({m})",
                    color=colour(f"{m}/maxprob"),
                )
        ax.set_xlabel("expected cost (share of full depth, measured ORT latency)")
        ax.set_ylabel("accuracy (%)")
        ax.set_title(f"{report['task']}: {title}")
        ax.grid(alpha=0.3)
        # Outside the axes: oracle stars sit in the top-left corner where a default legend would cover them.
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
