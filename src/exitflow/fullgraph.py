"""The whole model as one ONNX graph, for the fair full-depth baselines (docs/bundle-contract.md, ``full_graph``).

A plain Flink + ONNX job calls one graph of its whole model per record or per batch. The bundle carries that graph
beside the stage files: the stage files chained into one graph (``onnx.compose``), stage k's ``state_out`` and
``carry_out`` wired to stage k+1's inputs, cut down to what the last stage's outputs need (so exit heads that
feed nothing, as with independent exits, are dropped). It has the last stage's signature with the model input as
its state: ``(state_in [B, *input.shape], carry_in [B, carry_dim]) -> (carry_out, logits, score)``. Composing the
exported stage files, rather than exporting PyTorch again, adds it to an existing bundle without touching its
weights or stage files; parity with the stage chain is checked on the bundle's fixtures and on random inputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnx.compose
import onnx.utils

from .data import normalise
from .manifest import Manifest

FULL_GRAPH_FILE = "full.onnx"
FULL_OUTPUTS = ("carry_out", "logits", "score")
TOLERANCE = 1e-4


class FullGraphError(RuntimeError):
    """The composed graph cannot be built or does not reproduce the stage chain; the message says where."""


def _rename(graph: onnx.GraphProto, old: str, new: str) -> None:
    for vi in list(graph.input) + list(graph.output) + list(graph.value_info):
        if vi.name == old:
            vi.name = new
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new
        for i, name in enumerate(node.output):
            if name == old:
                node.output[i] = new


def compose_stages(stage_files: list[Path]) -> onnx.ModelProto:
    """One graph from the stage files in order, with the last stage's outputs and stage 0's input names."""
    if not stage_files:
        raise FullGraphError("no stage files to compose")
    models = [onnx.load(str(p)) for p in stage_files]
    ir, opset = models[0].ir_version, {o.domain: o.version for o in models[0].opset_import}
    for p, m in zip(stage_files, models):
        if {o.domain: o.version for o in m.opset_import} != opset:
            raise FullGraphError(f"{p.name}: opset {m.opset_import} differs from the first stage's {opset}")
    n = len(models)
    # Every stage but the last gets a prefix, so the tensor names of different stages cannot collide; the last
    # stage keeps its output names, which become the full graph's.
    prefixed = [onnx.compose.add_prefix(m, f"s{k}/") if k < n - 1 else m for k, m in enumerate(models)]
    merged = prefixed[0]
    for k in range(1, n):
        prev = f"s{k - 1}/"
        nxt = prefixed[k]
        nxt_in = {i.name for i in nxt.graph.input}
        state_in = f"s{k}/state_in" if k < n - 1 else "state_in"
        carry_in = f"s{k}/carry_in" if k < n - 1 else "carry_in"
        if state_in not in nxt_in or carry_in not in nxt_in:
            raise FullGraphError(f"{stage_files[k].name}: inputs {sorted(nxt_in)} lack state_in/carry_in")
        merged = onnx.compose.merge_models(
            merged, nxt, io_map=[(prev + "state_out", state_in), (prev + "carry_out", carry_in)]
        )
    g = merged.graph
    # Stage 0's inputs take the contract's names (the last stage's own inputs were wired away by the merge).
    _rename(g, "s0/state_in", "state_in")
    _rename(g, "s0/carry_in", "carry_in")
    merged.ir_version = ir
    extracted = onnx.utils.Extractor(merged).extract_model(["state_in", "carry_in"], list(FULL_OUTPUTS))
    extracted.ir_version = ir
    del extracted.opset_import[:]
    extracted.opset_import.extend(models[0].opset_import)
    extracted.graph.name = "full_graph"
    onnx.checker.check_model(extracted, full_check=True)
    return extracted


def graph_flops(model: onnx.ModelProto) -> int:
    """FLOPs per event of a graph, counted on the graph: 2 per multiply-add of Conv, Gemm and MatMul nodes, at
    batch 1 (normalisation folded into convolutions, activations and pooling are not counted)."""
    m = onnx.shape_inference.infer_shapes(_with_batch_one(model))
    shapes: dict[str, list[int]] = {}
    for vi in list(m.graph.input) + list(m.graph.output) + list(m.graph.value_info):
        shapes[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    for init in m.graph.initializer:
        shapes[init.name] = list(init.dims)
    total = 0
    for node in m.graph.node:
        if node.op_type == "Conv":
            w = shapes.get(node.input[1])
            out = shapes.get(node.output[0])
            if w and out:
                total += 2 * int(np.prod(w[1:])) * int(np.prod(out[1:]))  # (C_in/groups * k) per output element
        elif node.op_type in ("Gemm", "MatMul"):
            a, out = shapes.get(node.input[0]), shapes.get(node.output[0])
            if a and out:
                total += 2 * a[-1] * int(np.prod(out[1:]))
    return int(total)


def _with_batch_one(model: onnx.ModelProto) -> onnx.ModelProto:
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for vi in m.graph.input:
        dims = vi.type.tensor_type.shape.dim
        if dims and not dims[0].dim_value:
            dims[0].dim_value = 1
    return m


def stage_chain_outputs(stage_files: list[Path], x_norm: np.ndarray, carry_dim: int) -> dict[str, np.ndarray]:
    """The last stage's outputs with the stages run one after another, the way the runtime chains them."""
    from .cost import session

    state = x_norm.astype(np.float32)
    carry = np.zeros((state.shape[0], carry_dim), np.float32)
    d: dict[str, np.ndarray] = {}
    for path in stage_files:
        sess = session(path)
        names = [o.name for o in sess.get_outputs()]
        d = dict(zip(names, sess.run(None, {"state_in": state, "carry_in": carry})))
        state = d.get("state_out", state)
        carry = d["carry_out"]
    return d


def full_graph_outputs(full_file: Path, x_norm: np.ndarray, carry_dim: int) -> dict[str, np.ndarray]:
    from .cost import session

    sess = session(full_file)
    names = [o.name for o in sess.get_outputs()]
    carry = np.zeros((x_norm.shape[0], carry_dim), np.float32)
    return dict(zip(names, sess.run(None, {"state_in": x_norm.astype(np.float32), "carry_in": carry})))


def check_parity(full_file: Path, stage_files: list[Path], x_norm: np.ndarray, carry_dim: int) -> dict:
    """Full graph against the stage chain on the same normalised inputs; raises FullGraphError above TOLERANCE
    or when any predicted class differs."""
    ref = stage_chain_outputs(stage_files, x_norm, carry_dim)
    got = full_graph_outputs(full_file, x_norm, carry_dim)
    worst = 0.0
    for name in FULL_OUTPUTS:
        if name not in got:
            raise FullGraphError(f"{full_file.name}: output {name} is missing (has {sorted(got)})")
        if got[name].shape != ref[name].shape:
            raise FullGraphError(f"{full_file.name} {name}: shape {got[name].shape}, stage chain {ref[name].shape}")
        err = float(np.abs(got[name] - ref[name]).max()) if got[name].size else 0.0
        worst = max(worst, err)
        if not err <= TOLERANCE:
            raise FullGraphError(f"{full_file.name} {name}: differs from the stage chain by {err:.3g} (> {TOLERANCE})")
    if not np.array_equal(got["logits"].argmax(-1), ref["logits"].argmax(-1)):
        raise FullGraphError(f"{full_file.name}: a predicted class differs from the stage chain's")
    return {"inputs": int(x_norm.shape[0]), "max_abs_err": worst}


def add_full_graph(
    bundle: Path,
    stage_files: list[Path],
    in_shape: list[int],
    carry_dim: int,
    mean: np.ndarray,
    std: np.ndarray,
    fixtures_raw: np.ndarray | None = None,
    random_inputs: int = 256,
    measure: bool = True,
    seed: int = 0,
) -> dict:
    """Writes ``bundle/full.onnx`` composed from ``stage_files`` and returns the manifest's ``full_graph`` entry
    (parity checked on the fixtures' raw inputs and on ``random_inputs`` random normalised inputs)."""
    from .cost import measure_stage_latency

    path = bundle / FULL_GRAPH_FILE
    proto = compose_stages(stage_files)
    onnx.save(proto, str(path))
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal((random_inputs, *in_shape)).astype(np.float32)]
    if fixtures_raw is not None and len(fixtures_raw):
        inputs.append(normalise(fixtures_raw, mean, std))
    x = np.concatenate(inputs)
    parity = check_parity(path, stage_files, x, carry_dim)
    cost = (
        measure_stage_latency([path], [in_shape], carry_dim)[0]
        if measure
        else {"1": 0.0, "8": 0.0, "64": 0.0, "256": 0.0}
    )
    return {
        "file": FULL_GRAPH_FILE,
        "inputs": {"state": "state_in", "carry": "carry_in"},
        "outputs": {"carry": "carry_out", "logits": "logits", "score": "score"},
        "flops": graph_flops(proto),
        "cost_us_per_event": cost,
        "parity": parity,
    }


def add_to_bundle(bundle: Path, measure: bool = True) -> dict:
    """Adds (or replaces) the full graph of an exported bundle in place: writes full.onnx and the manifest's
    ``full_graph`` key; stage files, weights, fixtures and calibration stay as they are."""
    manifest_file = bundle / "manifest.json"
    manifest = Manifest.read(manifest_file)
    fixtures = json.loads((bundle / "fixtures.json").read_text())
    in_shape = list(manifest.input.shape)
    files = [bundle / s.file for s in manifest.stages]
    raw = np.asarray(fixtures["inputs"], np.float32).reshape(-1, *in_shape)
    entry = add_full_graph(
        bundle,
        files,
        in_shape,
        int(manifest.carry_dim),
        np.asarray(manifest.input.mean, np.float32),
        np.asarray(manifest.input.std, np.float32),
        raw,
        measure=measure,
    )
    manifest.full_graph = entry
    manifest.write(manifest_file)
    return entry


def verify_full_graph(bundle: Path, manifest: dict, fixtures: dict) -> dict | None:
    """``verify``'s check of the optional full graph: the contract's names, and the fixtures' last-stage logits,
    score and carry reproduced. None when the bundle has no full graph."""
    entry = manifest.get("full_graph")
    if entry is None:
        return None
    if entry.get("inputs") != {"state": "state_in", "carry": "carry_in"} or entry.get("outputs") != {
        "carry": "carry_out",
        "logits": "logits",
        "score": "score",
    }:
        raise FullGraphError(
            f"{bundle}: full_graph must name inputs state_in/carry_in and outputs "
            f"carry_out/logits/score, got {entry.get('inputs')} / {entry.get('outputs')}"
        )
    path = bundle / str(entry.get("file", ""))
    if not path.is_file():
        raise FullGraphError(f"{bundle}: full_graph.file {entry.get('file')!r} is missing")
    shape = fixtures["input_shape"]
    raw = np.asarray(fixtures["inputs"], np.float32).reshape(-1, *shape)
    mean = np.asarray(manifest["input"]["mean"], np.float32)
    std = np.asarray(manifest["input"]["std"], np.float32)
    got = full_graph_outputs(path, normalise(raw, mean, std), int(manifest["carry_dim"]))
    last = fixtures["stages"][-1]
    tol = fixtures["tolerance"]
    for key, name in (("logits", "logits"), ("score", "score"), ("carry", "carry_out")):
        err = float(np.abs(np.asarray(last[key], np.float32) - got[name]).max())
        if not err <= tol:
            raise FullGraphError(f"{path}: {name} differs from the fixtures' last stage by {err:.3g}")
    return {"fixtures": int(raw.shape[0])}
