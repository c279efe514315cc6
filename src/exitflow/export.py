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
from .data import Split, normalise
from .eenet import exits_for_thresholds
from .exits import StageGraph
from .fullgraph import add_full_graph, verify_full_graph
from .manifest import ExitSpec, InputSpec, Manifest, StageEntry
from .registry import THRESHOLD_RULES, Task, manifest_combine

READABLE_VERSIONS = (1, 2)  # what verify and the Java runtime (ManifestValidator) read
SCORE_SOURCES = ("model", *(r.value for r in THRESHOLD_RULES))  # manifest exit.score: the graph's, or a rule's
OPSET = 17
MAX_IR_VERSION = 10  # ONNX Runtime 1.29 (the Java side) reads IR <= 10 models; opset 17 needs IR >= 8
OPSET_RANGE = (17, 21)  # default-domain opsets a stage graph may use (docs/bundle-contract.md; ORT Java 1.29 runs them)
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
        # torch.onnx.export writes to a file-like object too (its docs); its annotation names paths only.
        torch.onnx.export(
            graph,
            dummy,
            buf,  # type: ignore[arg-type]
            input_names=["state_in", "carry_in"],
            output_names=outputs,
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
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
    return {
        "inputs": int(x_raw.shape[0]),
        "max_abs_err": worst,
        "exit_mismatches_near_threshold": int(((e_ref != e_got) & near).sum()),
    }


def _fixture_indices(
    ref: list[dict[str, np.ndarray]], y: np.ndarray, thresholds: list[float], count: int
) -> np.ndarray:
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


def export_bundle(
    t: Trained,
    out_dir: Path,
    model_id: str,
    val: Split,
    test: Split,
    fixture_count: int = 32,
    verify_count: int = 512,
    measure: bool = True,
    report: dict | None = None,
) -> dict:
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


def _write_bundle(
    t: Trained,
    tmp: Path,
    model_id: str,
    val: Split,
    test: Split,
    fixture_count: int,
    verify_count: int,
    measure: bool,
    report: dict | None,
) -> dict:
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
    # A threshold chosen from float32 scores can come out a hair above 1 (a softmax maximum of 1.0000001): the runtime
    # reads thresholds as float32 in [0, 1] and would refuse the bundle. Clamped, it differs only for a score of
    # exactly 1.0, which now exits there.
    thresholds = [min(1.0, max(0.0, float(v))) for v in t.thresholds]
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
        "stages": [
            {"logits": _round(r["logits"]), "score": _round(r["score"]), "carry": _round(r["carry_out"])} for r in ref
        ],
        "expected_exit": exits.tolist(),
        "expected_class": classes.tolist(),
        "labels": test.y[vidx][fidx].tolist(),
        "tolerance": TOLERANCE,
    }

    flops = stage_flops(m.net)
    costs = (
        measure_stage_latency(files, state_in, m.carry_dim)
        if measure
        else [{"1": 0.0, "8": 0.0, "64": 0.0, "256": 0.0} for _ in files]
    )

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
    input_spec = InputSpec(in_shape, task.layout, _round(t.mean), _round(t.std))
    if task is Task.SENSOR_WINDOW:
        if t.window is None:
            raise ExportError(
                "the trained model does not say how its windows were cut (Trained.window): train it "
                "from a Dataset (build) or set the window the data was cut with"
            )
        if t.window.size != in_shape[1]:
            raise ExportError(f"window size {t.window.size} differs from the model's input length {in_shape[1]}")
        input_spec.window = t.window.to_manifest()
    last = m.num_stages - 1
    manifest = Manifest(
        model_id=model_id,
        model_version=f"{time.strftime('%Y%m%d')}-{digest}",
        task=task,
        classes=t.classes,
        input=input_spec,
        carry_dim=m.carry_dim,
        stages=[
            StageEntry.of(k, k == last, state_in[k], state_out[k], flops[k], costs[k]) for k in range(m.num_stages)
        ],
        exit=ExitSpec(manifest_combine(m.combine_mode, m.rule), "model", str(m.rule.value), thresholds),
        training=t.training,
        verification=check,
    )
    # The whole model as one graph, for the full-depth baselines (fullgraph.py); parity-checked against the stages.
    manifest.full_graph = add_full_graph(tmp, files, in_shape, m.carry_dim, t.mean, t.std, fx_raw, measure=measure)
    manifest.write(tmp / "manifest.json")
    (tmp / "calibration.json").write_text(json.dumps(calibration) + "\n")
    (tmp / "fixtures.json").write_text(json.dumps(fixtures) + "\n")
    if report is not None:
        (tmp / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    verify_bundle(tmp)  # the written files, read back as the Java side will read them
    return manifest.to_dict()


def _read_json(file: Path) -> dict:
    if not file.is_file():
        raise ExportError(f"{file}: file is missing")
    try:
        return json.loads(file.read_text())
    except ValueError as e:
        raise ExportError(f"{file}: is not valid JSON: {e}") from None


def verify_bundle(bundle: Path) -> dict:
    """Checks a bundle from its files alone: everything the Java runtime checks when it loads a bundle
    (``ModelBundle.load``: the manifest, each stage graph's tensor names, types and shapes, calibration.json), the
    opset/IR, and ONNX Runtime against fixtures.json. Any failure raises ExportError naming the file."""
    bundle = Path(bundle)
    if not bundle.is_dir():
        raise ExportError(f"{bundle}: bundle directory does not exist")
    manifest = _read_json(bundle / "manifest.json")
    check_manifest(manifest, bundle / "manifest.json")
    check_signatures(bundle, manifest)
    check_calibration(_read_json(bundle / "calibration.json"), manifest, bundle / "calibration.json")
    fixtures = _read_json(bundle / "fixtures.json")
    files = [bundle / s["file"] for s in manifest["stages"]]
    for f in files:
        proto = onnx.load(str(f))
        opset = {o.domain: o.version for o in proto.opset_import}.get("", 0)
        if not OPSET_RANGE[0] <= opset <= OPSET_RANGE[1] or proto.ir_version > MAX_IR_VERSION:
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


# What the Java runtime checks at load (operators/.../bundle/ManifestValidator.java, OnnxSignatureValidator.java,
# ModelBundle.calibration): one check here for each there, with the same wording, so a bundle verify passes never
# fails at job start.


def _problem(file: Path, ok: bool, text: str) -> None:
    if not ok:
        raise ExportError(f"{file}: {text}")


def _f32(v: float) -> float:
    """The value as the runtime holds it (Java reads these fields as float)."""
    return float(np.float32(v))


def _blank(v: object) -> bool:
    return not isinstance(v, str) or not v.strip()


def _shape_list(v: object) -> bool:
    return isinstance(v, list) and len(v) > 0 and all(isinstance(d, int) and not isinstance(d, bool) for d in v)


def check_manifest(m: dict, file: Path) -> None:
    """ManifestValidator.validate."""
    version = m.get("format_version")
    _problem(
        file,
        version in READABLE_VERSIONS,
        f"format_version is {version}, this runtime reads {' or '.join(map(str, READABLE_VERSIONS))}",
    )
    _problem(file, not _blank(m.get("model_id")), "model_id is missing")
    _problem(file, not _blank(m.get("model_version")), "model_version is missing")
    classes = m.get("classes")
    _problem(file, isinstance(classes, list) and len(classes) >= 2, "classes must list at least 2 class names")
    assert isinstance(classes, list)  # _problem raised otherwise: narrows the type
    _problem(file, len(set(classes)) == len(classes), f"classes has duplicate names: {classes}")
    _check_input(m.get("input"), m.get("task"), file)
    carry = m.get("carry_dim")
    _problem(file, isinstance(carry, int) and carry >= 1, f"carry_dim must be >= 1, got {carry}")
    stages = m.get("stages")
    _problem(file, isinstance(stages, list) and len(stages) > 0, "stages is empty")
    assert isinstance(stages, list)
    for k in range(len(stages)):
        _check_stage(m, k, file)
    _check_exit(m, file)


def _check_input(inp: object, task: object, file: Path) -> None:
    _problem(file, isinstance(inp, dict) and _shape_list(inp.get("shape")), "input.shape is missing")
    assert isinstance(inp, dict)
    shape = inp["shape"]
    _problem(file, all(d > 0 for d in shape), f"input.shape must be positive, got {shape}")
    layout = inp.get("layout")
    if layout == "features":
        _problem(file, len(shape) == 1, f"input.layout 'features' needs a 1-d input.shape, got {shape}")
    elif layout == "channels_first":
        _problem(
            file, len(shape) == 2, f"input.layout 'channels_first' needs input.shape [channels, time], got {shape}"
        )
    else:
        _problem(file, False, f"input.layout must be 'features' or 'channels_first', got '{layout}'")
    n = shape[0]
    unit = "feature" if layout == "features" else "channel"
    mean, std = inp.get("mean"), inp.get("std")
    _problem(file, isinstance(mean, list) and len(mean) == n, f"input.mean must have {n} values (one per {unit})")
    _problem(file, isinstance(std, list) and len(std) == n, f"input.std must have {n} values")
    assert isinstance(std, list)
    for s in std:
        _problem(
            file,
            isinstance(s, (int, float)) and 0 < _f32(s) < float("inf"),
            f"input.std values must be positive and finite, got {s}",
        )
    window = inp.get("window")
    if task == Task.SENSOR_WINDOW:
        _problem(
            file,
            layout == "channels_first" and window is not None,
            "task 'sensor-window' needs input.layout 'channels_first' and input.window",
        )
    if window is None:
        return
    _problem(file, layout == "channels_first", "input.window is only for input.layout 'channels_first'")
    size, slide = window.get("size"), window.get("slide")
    period, gap = window.get("sample_period_ms"), window.get("max_gap_ms")
    _problem(
        file,
        size == shape[1],
        f"input.window.size {size} must equal input.shape[1] {shape[1]} (the readings per window)",
    )
    _problem(file, isinstance(slide, int) and slide >= 1, f"input.window.slide must be >= 1, got {slide}")
    _problem(
        file,
        isinstance(period, (int, float)) and 0 < period < float("inf"),
        f"input.window.sample_period_ms must be positive and finite, got {period}",
    )
    if gap is not None:
        _problem(
            file,
            isinstance(gap, (int, float)) and period <= gap < float("inf"),
            f"input.window.max_gap_ms must be finite and at least sample_period_ms {period}, got {gap}",
        )


def _check_stage(m: dict, k: int, file: Path) -> None:
    s = m["stages"][k]
    at = f"stages[{k}]"
    last = k == len(m["stages"]) - 1
    inputs, outputs = s.get("inputs") or {}, s.get("outputs") or {}
    _problem(file, s.get("index") == k, f"{at}.index is {s.get('index')}, expected {k}")
    _problem(file, not _blank(s.get("file")), f"{at}.file is missing")
    _problem(
        file,
        not _blank(inputs.get("state")) and not _blank(inputs.get("carry")),
        f"{at}.inputs needs 'state' and 'carry' names",
    )
    for role in ("carry", "logits", "score"):
        _problem(file, not _blank(outputs.get(role)), f"{at}.outputs.{role} is missing")
    if last:
        _problem(file, outputs.get("state") is None, f"{at} is the last stage: outputs.state must be null")
    else:
        _problem(
            file, not _blank(outputs.get("state")), f"{at}.outputs.state is missing (only the last stage has none)"
        )
        _problem(file, _shape_list(s.get("state_out_shape")), f"{at}.state_out_shape is missing")
    _problem(file, _shape_list(s.get("state_in_shape")), f"{at}.state_in_shape is missing")
    expected = m["input"]["shape"] if k == 0 else m["stages"][k - 1].get("state_out_shape")
    where = "input.shape " if k == 0 else f"stages[{k - 1}].state_out_shape "
    _problem(
        file, s["state_in_shape"] == expected, f"{at}.state_in_shape {s['state_in_shape']} must equal {where}{expected}"
    )


def _check_exit(m: dict, file: Path) -> None:
    e = m.get("exit")
    _problem(file, isinstance(e, dict), "exit is missing")
    assert isinstance(e, dict)
    _problem(
        file,
        e.get("score") in SCORE_SOURCES,
        f"exit.score must be one of {list(SCORE_SOURCES)}, got '{e.get('score')}'",
    )
    t = e.get("thresholds")
    k = len(m["stages"])
    _problem(
        file,
        isinstance(t, list) and len(t) == k,
        f"exit.thresholds must have one value per stage ({k}), got {len(t) if isinstance(t, list) else 'none'}",
    )
    assert isinstance(t, list)
    for v in t:
        _problem(
            file,
            isinstance(v, (int, float)) and 0.0 <= _f32(v) <= 1.0,
            f"exit.thresholds values must be in [0, 1], got {v}",
        )


def check_signatures(bundle: Path, m: dict) -> None:
    """OnnxSignatureValidator: every stage graph's input and output names, float32 types and shapes (batch axis
    dynamic; other axes equal to the manifest's wherever the graph fixes them)."""
    carry, classes = m["carry_dim"], len(m["classes"])
    for s in m["stages"]:
        file = bundle / s["file"]
        if not file.is_file():
            raise ExportError(f"{file}: ONNX file of stage {s['index']} is missing")
        try:
            sess = session(file)
        except Exception as e:  # ORT's own reason, on one line
            raise ExportError(
                f"{file}: ONNX Runtime cannot load stage {s['index']}: {' '.join(str(e).split())}"
            ) from None
        ins = {s["inputs"]["state"]: [-1, *s["state_in_shape"]], s["inputs"]["carry"]: [-1, carry]}
        outs = {}
        if s["outputs"].get("state") is not None:
            outs[s["outputs"]["state"]] = [-1, *s["state_out_shape"]]
        outs[s["outputs"]["carry"]] = [-1, carry]
        outs[s["outputs"]["logits"]] = [-1, classes]
        outs[s["outputs"]["score"]] = [-1]
        _check_tensors(file, "input", ins, sess.get_inputs())
        _check_tensors(file, "output", outs, sess.get_outputs())


def _check_tensors(file: Path, kind: str, expected: dict[str, list[int]], actual: list) -> None:
    got = {a.name: a for a in actual}
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    if missing or extra:
        raise ExportError(
            f"{file}: {kind} names do not match the manifest: missing {missing}, unexpected {extra} "
            f"(graph has {sorted(got)})"
        )
    wrong = []
    for name, shape in expected.items():
        a = got[name]
        if a.type != "tensor(float)":
            wrong.append(f"{name} is not a float32 tensor")
            continue
        dims = [d if isinstance(d, int) and d > 0 else -1 for d in a.shape]
        if len(dims) != len(shape) or dims[0] != -1 or any(d > 0 and d != e for d, e in zip(dims[1:], shape[1:])):
            wrong.append(f"{name} has shape {dims}, manifest says {shape} (-1 = dynamic batch)")
    if wrong:
        raise ExportError(f"{file}: {kind} tensors do not match the manifest: {'; '.join(wrong)}")


def check_calibration(c: dict, m: dict, file: Path) -> None:
    """ModelBundle.calibration: one entry per stage, each with a score and a pred per label."""
    stages = c.get("stages")
    k = len(m["stages"])
    _problem(
        file,
        isinstance(stages, list) and len(stages) == k,
        f"has {len(stages) if isinstance(stages, list) else 0} stages, manifest has {k}",
    )
    assert isinstance(stages, list)
    n = len(c.get("labels") or [])
    for i, s in enumerate(stages):
        _problem(
            file,
            len(s.get("score") or []) == n
            and len(s.get("pred") or []) == n
            and s.get("score") is not None
            and s.get("pred") is not None,
            f"stages[{i}] must have {n} scores and preds (one per label)",
        )
