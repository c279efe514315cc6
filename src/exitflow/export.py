"""Exports a trained model as a bundle under docs/bundle-contract.md and proves the export right.

The exported ONNX stages are run with ONNX Runtime on real inputs and must reproduce the PyTorch
stage outputs (max abs error 1e-4) and the same exits; any mismatch raises ``ExportError``.
"""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch

from .checkpoint import Trained
from .cost import measure_stage_latency, session, stage_flops
from .data import SAMPLE_PERIOD_MS, WINDOW_SIZE, WINDOW_SLIDE, Split, normalise
from .eenet import exits_for_thresholds
from .exits import StageGraph
from .fullgraph import add_full_graph, verify_full_graph

FORMAT_VERSION = 1
OPSET = 17
MAX_IR_VERSION = 10  # ONNX Runtime 1.29 (the Java side) reads IR <= 10 models; opset 17 needs IR >= 8
TOLERANCE = 1e-4


class ExportError(RuntimeError):
    """The exported bundle does not reproduce the PyTorch model; the message says where."""


def _output_names(last: bool) -> list[str]:
    names = ["carry_out", "logits", "score"]
    return names if last else ["state_out"] + names


def export_stage(graph: StageGraph, state_shape: list[int], carry_dim: int, path: Path) -> None:
    last = graph.k == graph.model.num_stages - 1
    outputs = _output_names(last)
    dummy = (torch.zeros(2, *state_shape), torch.zeros(2, carry_dim))
    axes = {n: {0: "batch"} for n in ["state_in", "carry_in"] + outputs}
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice is not actionable here
        torch.onnx.export(graph, dummy, buf, input_names=["state_in", "carry_in"], output_names=outputs,
                          dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True, dynamo=False)
    proto = onnx.load_from_string(buf.getvalue())
    if proto.ir_version > MAX_IR_VERSION:
        proto.ir_version = MAX_IR_VERSION
    opsets = {o.domain: o.version for o in proto.opset_import}
    if opsets.get("", opsets.get("ai.onnx")) != OPSET:
        raise ExportError(f"{path.name}: exported opset {opsets}, expected {OPSET}")
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, str(path))


def torch_stage_outputs(t: Trained, x_norm: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Every stage's outputs from the PyTorch stage graphs (the reference the export must match)."""
    m = t.model
    m.eval()
    state = torch.as_tensor(x_norm)
    carry = torch.zeros(state.shape[0], m.carry_dim)
    outs = []
    with torch.no_grad():
        for k in range(m.num_stages):
            res = StageGraph(m, k)(state, carry)
            names = _output_names(k == m.num_stages - 1)
            d = {n: v.numpy() for n, v in zip(names, res)}
            outs.append(d)
            if "state_out" in d:
                state = res[0]
            carry = res[names.index("carry_out")]
    return outs


def ort_stage_outputs(stage_files: list[Path], x_norm: np.ndarray, carry_dim: int) -> list[dict[str, np.ndarray]]:
    """Every stage's outputs from ONNX Runtime, chained the way the runtime chains them."""
    state = x_norm.astype(np.float32)
    carry = np.zeros((state.shape[0], carry_dim), np.float32)
    outs = []
    for path in stage_files:
        sess = session(path)
        names = [o.name for o in sess.get_outputs()]
        d = dict(zip(names, sess.run(None, {"state_in": state, "carry_in": carry})))
        outs.append(d)
        state = d.get("state_out", state)
        carry = d["carry_out"]
    return outs


def decide_exits(scores: np.ndarray, thresholds: list[float]) -> np.ndarray:
    """The contract's exit rule on per-stage scores ``[K, N]``."""
    return exits_for_thresholds(scores, thresholds)


def verify(t: Trained, stage_files: list[Path], x_raw: np.ndarray, thresholds: list[float]) -> dict:
    """ORT vs PyTorch on the same raw inputs; raises ExportError on any difference above tolerance."""
    x_norm = normalise(x_raw, t.mean, t.std)
    ref = torch_stage_outputs(t, x_norm)
    got = ort_stage_outputs(stage_files, x_norm, t.model.carry_dim)
    worst = 0.0
    for k, (r, g) in enumerate(zip(ref, got)):
        if set(r) != set(g):
            raise ExportError(f"stage {k}: ONNX outputs {sorted(g)} differ from expected {sorted(r)}")
        for name in r:
            if r[name].shape != g[name].shape:
                raise ExportError(f"stage {k} {name}: shape {g[name].shape} from ORT, {r[name].shape} from PyTorch")
            err = float(np.abs(r[name] - g[name]).max()) if r[name].size else 0.0
            worst = max(worst, err)
            if not err <= TOLERANCE:
                raise ExportError(f"stage {k} {name}: ORT differs from PyTorch by {err:.3g} (> {TOLERANCE})")
    s_ref = np.stack([r["score"] for r in ref])
    s_got = np.stack([g["score"] for g in got])
    e_ref, e_got = decide_exits(s_ref, thresholds), decide_exits(s_got, thresholds)
    # A score within the tolerance of its threshold may legitimately flip; every other exit must agree.
    near = (np.abs(s_ref[:-1] - np.asarray(thresholds[:-1])[:, None]) <= TOLERANCE).any(axis=0)
    bad = np.flatnonzero((e_ref != e_got) & ~near)
    if bad.size:
        raise ExportError(f"{bad.size} inputs exit at a different stage in ORT than in PyTorch (first: {bad[:5]})")
    return {"inputs": int(x_raw.shape[0]), "max_abs_err": worst, "exit_mismatches_near_threshold": int(((e_ref != e_got) & near).sum())}


def _fixture_indices(ref: list[dict[str, np.ndarray]], y: np.ndarray, thresholds: list[float], count: int) -> np.ndarray:
    """Picks inputs covering every exit stage and class, avoiding scores within 1e-3 of a threshold."""
    scores = np.stack([r["score"] for r in ref])
    exits = decide_exits(scores, thresholds)
    stable = ~(np.abs(scores[:-1] - np.asarray(thresholds[:-1])[:, None]) <= 1e-3).any(axis=0)
    chosen: list[int] = []
    cand = np.flatnonzero(stable)
    # Round-robin over (exit, class) cells so the Java parity test sees every exit path.
    cells: dict[tuple[int, int], list[int]] = {}
    for i in cand:
        cells.setdefault((int(exits[i]), int(y[i])), []).append(int(i))
    while len(chosen) < count and any(cells.values()):
        for key in sorted(cells):
            if cells[key] and len(chosen) < count:
                chosen.append(cells[key].pop(0))
    return np.asarray(sorted(chosen))


def _round(a: np.ndarray) -> list:
    return np.asarray(a, np.float64).round(7).tolist()


def export_bundle(t: Trained, out_dir: Path, model_id: str, val: Split, test: Split,
                  fixture_count: int = 32, verify_count: int = 512, measure: bool = True,
                  report: dict | None = None) -> dict:
    """Writes ``out_dir`` (replacing it) and returns the manifest. Verification failures raise ExportError and
    leave ``out_dir`` as it was: the bundle is assembled in a sibling folder and moved in only once verified."""
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    try:
        manifest = _write_bundle(t, tmp, model_id, val, test, fixture_count, verify_count, measure, report)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return manifest


def _write_bundle(t: Trained, tmp: Path, model_id: str, val: Split, test: Split, fixture_count: int,
                  verify_count: int, measure: bool, report: dict | None) -> dict:
    m = t.model
    m.eval()
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    in_shape = list(m.net.config.in_shape)
    state_out = m.net.state_shapes()
    state_in = [in_shape] + state_out[:-1]
    files = []
    for k in range(m.num_stages):
        path = tmp / f"stage{k}.onnx"
        export_stage(StageGraph(m, k), state_in[k], m.carry_dim, path)
        files.append(path)
    thresholds = list(t.thresholds)
    rng = np.random.default_rng(0)
    vidx = np.sort(rng.choice(len(test), size=min(verify_count, len(test)), replace=False))
    check = verify(t, files, test.x[vidx], thresholds)

    # Fixtures: raw inputs from the test split with every stage's expected outputs.
    ref_all = torch_stage_outputs(t, normalise(test.x[vidx], t.mean, t.std))
    fidx = _fixture_indices(ref_all, test.y[vidx], thresholds, fixture_count)
    fx_raw = test.x[vidx][fidx]
    ref = torch_stage_outputs(t, normalise(fx_raw, t.mean, t.std))
    scores = np.stack([r["score"] for r in ref])
    exits = decide_exits(scores, thresholds)
    classes = np.asarray([ref[e]["logits"][i].argmax() for i, e in enumerate(exits)])
    fixtures = {
        "input_shape": in_shape,
        "inputs": [_round(v.reshape(-1)) for v in fx_raw],
        "thresholds": thresholds,
        "stages": [{"logits": _round(r["logits"]), "score": _round(r["score"]), "carry": _round(r["carry_out"])}
                   for r in ref],
        "expected_exit": exits.tolist(),
        "expected_class": classes.tolist(),
        "labels": test.y[vidx][fidx].tolist(),
        "tolerance": TOLERANCE,
    }

    flops = stage_flops(m.net)
    costs = (measure_stage_latency(files, state_in, m.carry_dim) if measure
             else [{"1": 0.0, "8": 0.0, "64": 0.0, "256": 0.0} for _ in files])

    # Calibration: validation outputs of the exported graphs, for the runtime's budget solver.
    val_out = ort_stage_outputs(files, normalise(val.x, t.mean, t.std), m.carry_dim)
    calibration = {
        "split": "validation",
        "labels": val.y.tolist(),
        "stages": [{"score": _round(o["score"]), "pred": o["logits"].argmax(-1).tolist()} for o in val_out],
        "cost_us_per_event": [c["64"] for c in costs],
    }

    digest = hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()[:8]
    task = t.task
    input_spec: dict = {"shape": in_shape, "layout": "channels_first" if task == "sensor-window" else "features",
                        "mean": _round(t.mean), "std": _round(t.std)}
    if task == "sensor-window":
        input_spec["window"] = {"size": WINDOW_SIZE, "slide": WINDOW_SLIDE, "sample_period_ms": SAMPLE_PERIOD_MS}
    rule = m.rule
    manifest = {
        "format_version": FORMAT_VERSION,
        "model_id": model_id,
        "model_version": f"{time.strftime('%Y%m%d')}-{digest}",
        "task": task,
        "classes": t.classes,
        "input": input_spec,
        "carry_dim": m.carry_dim,
        "stages": [{
            "index": k, "file": f"stage{k}.onnx",
            "inputs": {"state": "state_in", "carry": "carry_in"},
            "outputs": {"state": "state_out" if k < m.num_stages - 1 else None, "carry": "carry_out",
                        "logits": "logits", "score": "score"},
            "state_in_shape": state_in[k],
            "state_out_shape": state_out[k] if k < m.num_stages - 1 else [],
            "flops": int(flops[k]),
            "cost_us_per_event": costs[k],
        } for k in range(m.num_stages)],
        "exit": {
            "combine": {"boost": "boost"}.get(m.combine_mode, "eenet" if rule == "eenet" else
                                              "gate" if rule == "gate" else "independent"),
            "score": "model",
            "rule": rule,
            "thresholds": thresholds,
        },
        "training": t.training,
        "verification": check,
    }
    # The whole model as one graph, for the full-depth baselines (fullgraph.py); parity-checked against the stages.
    manifest["full_graph"] = add_full_graph(tmp, files, in_shape, m.carry_dim, t.mean, t.std, fx_raw, measure=measure)
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (tmp / "calibration.json").write_text(json.dumps(calibration) + "\n")
    (tmp / "fixtures.json").write_text(json.dumps(fixtures) + "\n")
    if report is not None:
        (tmp / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    verify_bundle(tmp)  # the written files, read back as the Java side will read them
    return manifest


def verify_bundle(bundle: Path) -> dict:
    """Checks a bundle from its files alone: manifest shape, opset/IR, and ORT against fixtures.json."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    fixtures = json.loads((bundle / "fixtures.json").read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ExportError(f"{bundle}: format_version {manifest.get('format_version')}, expected {FORMAT_VERSION}")
    files = [bundle / s["file"] for s in manifest["stages"]]
    for f in files:
        proto = onnx.load(str(f))
        opset = {o.domain: o.version for o in proto.opset_import}.get("", 0)
        if not 17 <= opset <= 21 or proto.ir_version > MAX_IR_VERSION:
            raise ExportError(f"{f}: opset {opset} / IR {proto.ir_version} outside what ORT 1.29 runs")
    shape = fixtures["input_shape"]
    raw = np.asarray(fixtures["inputs"], np.float32).reshape(-1, *shape)
    mean = np.asarray(manifest["input"]["mean"], np.float32)
    std = np.asarray(manifest["input"]["std"], np.float32)
    got = ort_stage_outputs(files, normalise(raw, mean, std), manifest["carry_dim"])
    tol = fixtures["tolerance"]
    for k, (exp, g) in enumerate(zip(fixtures["stages"], got)):
        for key, name in (("logits", "logits"), ("score", "score"), ("carry", "carry_out")):
            err = float(np.abs(np.asarray(exp[key], np.float32) - g[name]).max())
            if not err <= tol:
                raise ExportError(f"{bundle} stage {k} {name}: ORT differs from fixtures by {err:.3g}")
    scores = np.stack([g["score"] for g in got])
    exits = decide_exits(scores, fixtures["thresholds"])
    if exits.tolist() != fixtures["expected_exit"]:
        raise ExportError(f"{bundle}: exits {exits.tolist()} differ from fixtures {fixtures['expected_exit']}")
    classes = [int(got[e]["logits"][i].argmax()) for i, e in enumerate(exits)]
    if classes != fixtures["expected_class"]:
        raise ExportError(f"{bundle}: classes differ from fixtures")
    full = verify_full_graph(bundle, manifest, fixtures)
    return {"fixtures": len(classes), "stages": len(files), "full_graph": full is not None}
