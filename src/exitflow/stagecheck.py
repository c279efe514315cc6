"""Checks stage ONNX files made outside the toolkit against the stage contract (docs/bundle-contract.md).

``python -m exitflow check-stages DIR`` (or FILES in stage order) says, file by file, what keeps each one from
serving as a bundle stage: the input and output names (``state_in``, ``carry_in`` -> ``state_out`` (not on the last
stage), ``carry_out``, ``logits``, ``score``), float32 types, shapes (batch axis first and dynamic; ``carry`` and
``logits`` 2-d, ``score`` 1-d), the opset (17-21, what ONNX Runtime Java 1.29 runs) and IR version, operator
domains the runtime has kernels for, and the chaining between stages: stage k's ``state_out`` and ``carry_out`` must
be what stage k+1 takes, which is checked on the declared shapes and by running the chain in ONNX Runtime on random
inputs at batch sizes 1 and 3 (every output's batch, finite values, ``score`` in [0, 1]).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx

from .export import MAX_IR_VERSION, OPSET_RANGE

INPUTS = ("state_in", "carry_in")
OUTPUTS = ("state_out", "carry_out", "logits", "score")
# Operator domains ONNX Runtime's default CPU build (the Java runtime's) has kernels for; "" is ai.onnx.
KNOWN_DOMAINS = ("", "ai.onnx", "ai.onnx.ml", "com.microsoft")
RUN_BATCHES = (1, 3)
SCORE_SLACK = 1e-6  # float rounding of a probability just above 1
_STAGE_FILE = re.compile(r"^stage(\d+)\.onnx$")


@dataclass
class TensorInfo:
    """One graph input or output as declared: element type name and dims (int, or None for a symbolic dim)."""

    name: str
    dtype: str
    dims: list[int | None] | None  # None: no shape declared

    def static(self) -> list[int | None]:
        """The dims after the batch axis."""
        return list(self.dims[1:]) if self.dims else []


@dataclass
class StageReport:
    """What :func:`check_stage_files` found for one file: ``problems`` (empty when the file meets the contract)
    and what the file declares (``info``: opset, IR, shapes) for the summary line."""

    file: Path
    index: int
    last: bool
    problems: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    ran: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        i = self.info
        if not i:
            return ""
        out = f"state_in {i.get('state_in')}"
        if not self.last:
            out += f" -> state_out {i.get('state_out')}"
        return (
            out
            + f", carry {i.get('carry')}, {i.get('classes')} classes, opset {i.get('opset')}, IR {i.get('ir')}"
            + ("" if self.ran else ", not run")
        )


class StageFilesError(ValueError):
    """The stage files cannot be found as given (no file, a gap in stage0..stageN); the message says what to fix."""


def stage_files_in(path: Path) -> list[Path]:
    """``stage0.onnx`` .. ``stage{K-1}.onnx`` of a folder, in order; raises StageFilesError when there are none or
    the numbering has a gap."""
    if not path.is_dir():
        raise StageFilesError(f"{path}: not a folder")
    found = {int(m.group(1)): p for p in path.iterdir() if (m := _STAGE_FILE.match(p.name)) and p.is_file()}
    if not found:
        raise StageFilesError(
            f"{path}: no stage0.onnx .. stageN.onnx files (name the stage graphs so, or pass the files in stage order)"
        )
    missing = sorted(set(range(max(found) + 1)) - set(found))
    if missing:
        names = [found[k].name for k in sorted(found)]
        raise StageFilesError(f"{path}: stage{missing[0]}.onnx is missing (found {names})")
    return [found[k] for k in sorted(found)]


def expected_from_manifest(folder: Path) -> dict:
    """``input_shape``, ``num_classes`` and ``carry_dim`` from ``folder/manifest.json`` when it has a readable one
    (a bundle), else an empty dict."""
    file = folder / "manifest.json"
    if not file.is_file():
        return {}
    try:
        m = json.loads(file.read_text())
        return {
            "input_shape": list(m["input"]["shape"]),
            "num_classes": len(m["classes"]),
            "carry_dim": int(m["carry_dim"]),
        }
    except (ValueError, KeyError, TypeError):
        return {}  # verify reports a broken manifest; the stage files are checked on their own


def _tensors(values: Sequence[onnx.ValueInfoProto], skip: set[str]) -> dict[str, TensorInfo]:
    out = {}
    for v in values:
        if v.name in skip:
            continue
        t = v.type.tensor_type
        is_tensor = v.type.HasField("tensor_type")
        dtype = onnx.TensorProto.DataType.Name(t.elem_type).lower() if is_tensor else "not a tensor"
        dims = None
        if t.HasField("shape"):
            dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
        out[v.name] = TensorInfo(v.name, dtype, dims)
    return out


def _fmt(dims: list[int | None] | None) -> str:
    return (
        "unknown"
        if dims is None
        else "["
        + ", ".join("B" if i == 0 and d is None else "?" if d is None else str(d) for i, d in enumerate(dims))
        + "]"
    )


def _static_checks(r: StageReport, proto: onnx.ModelProto) -> tuple[dict[str, TensorInfo], dict[str, TensorInfo]]:
    p = r.problems
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as e:  # the checker's reason, on one line
        p.append(f"the ONNX checker refuses it: {' '.join(str(e).split())[:300]}")
    opsets = {o.domain: o.version for o in proto.opset_import}
    opset = opsets.get("", opsets.get("ai.onnx"))
    r.info.update(opset=opset, ir=proto.ir_version)
    lo, hi = OPSET_RANGE
    if opset is None:
        p.append("imports no ai.onnx opset")
    elif not lo <= opset <= hi:
        p.append(
            f"opset {opset}: the runtime (ONNX Runtime Java 1.29) runs opset {lo}-{hi}; export with opset_version={lo}"
        )
    if proto.ir_version > MAX_IR_VERSION:
        p.append(f"IR version {proto.ir_version}: the runtime reads IR <= {MAX_IR_VERSION} (set model.ir_version)")
    for domain in sorted(set(opsets) - set(KNOWN_DOMAINS)):
        p.append(f"operators of domain {domain!r} need a custom-operator library the runtime does not load")
    used = sorted({n.domain for n in proto.graph.node} - set(KNOWN_DOMAINS))
    for domain in used:
        if domain not in opsets:
            p.append(f"operators of domain {domain!r} need a custom-operator library the runtime does not load")

    inits = {i.name for i in proto.graph.initializer}
    ins = _tensors(proto.graph.input, inits)
    outs = _tensors(proto.graph.output, set())
    want_out = OUTPUTS[1:] if r.last else OUTPUTS
    for kind, want, got in (("inputs", INPUTS, ins), ("outputs", want_out, outs)):
        missing, extra = [n for n in want if n not in got], sorted(set(got) - set(want))
        if missing or extra:
            hint = ""
            if kind == "outputs" and r.last and "state_out" in extra:
                hint = " (the last stage has no state_out)"
            elif kind == "outputs" and not r.last and "state_out" in missing:
                hint = " (every stage but the last passes state_out to the next)"
            p.append(f"{kind} must be {list(want)}: missing {missing}, unexpected {extra}{hint}")
    ranks = {"carry_in": 2, "carry_out": 2, "logits": 2, "score": 1}
    for t in list(ins.values()) + list(outs.values()):
        if t.name not in INPUTS + OUTPUTS:
            continue
        if t.dtype != "float":
            p.append(f"{t.name} is {t.dtype}, the contract needs float32")
        if t.dims is None:
            p.append(f"{t.name} declares no shape; the contract needs [B, ...] with a dynamic batch axis B")
            continue
        rank = ranks.get(t.name)
        if rank is not None and len(t.dims) != rank:
            need = "[B]" if rank == 1 else "[B, n]"
            p.append(f"{t.name} has shape {_fmt(t.dims)}, the contract needs {need}")
        elif rank is None and len(t.dims) < 2:
            p.append(
                f"{t.name} has shape {_fmt(t.dims)}, the contract needs [B, ...] (batch axis first, then the "
                f"state of one event)"
            )
        elif t.dims and t.dims[0] is not None:
            p.append(
                f"{t.name} fixes the batch axis to {t.dims[0]}: the runtime batches events, export it dynamic "
                f"(torch.onnx.export(..., dynamic_axes={{'{t.name}': {{0: 'batch'}}}}))"
            )
    return ins, outs


def _dim1(t: TensorInfo | None) -> int | None:
    return t.dims[1] if t is not None and t.dims and len(t.dims) == 2 else None


def check_stage_files(
    files: Sequence[Path],
    input_shape: Sequence[int] | None = None,
    num_classes: int | None = None,
    carry_dim: int | None = None,
    seed: int = 0,
) -> list[StageReport]:
    """Checks stage files given in stage order (the last one is the last stage) against the stage contract and
    against each other; ``input_shape`` (one event, without batch), ``num_classes`` and ``carry_dim``, when given,
    are what the stages must take and give. Returns one report per file; nothing raises for a bad file."""
    files = [Path(f) for f in files]
    reports = [StageReport(f, k, k == len(files) - 1) for k, f in enumerate(files)]
    declared: list[tuple[dict[str, TensorInfo], dict[str, TensorInfo]] | None] = []
    for r in reports:
        if not r.file.is_file():
            r.problems.append("file is missing")
            declared.append(None)
            continue
        try:
            proto = onnx.load(str(r.file))
        except Exception as e:  # protobuf's reason, on one line
            r.problems.append(f"is not an ONNX model: {' '.join(str(e).split())[:200]}")
            declared.append(None)
            continue
        ins, outs = _static_checks(r, proto)
        declared.append((ins, outs))
        r.info.update(
            state_in=_fmt(ins["state_in"].dims) if "state_in" in ins else "missing",
            state_out=_fmt(outs["state_out"].dims) if "state_out" in outs else "none",
            carry=_dim1(ins.get("carry_in")),
            classes=_dim1(outs.get("logits")),
        )
    _chain_checks(reports, declared, input_shape, num_classes, carry_dim)
    if all(d is not None for d in declared):
        _run_chain(reports, declared, input_shape, carry_dim, seed)
    return reports


def _chain_checks(
    reports: list[StageReport],
    declared: list,
    input_shape: Sequence[int] | None,
    num_classes: int | None,
    carry_dim: int | None,
) -> None:
    """Declared shapes against each other and against what was asked."""
    carry_seen = carry_dim
    classes_seen = num_classes
    for k, (r, d) in enumerate(zip(reports, declared)):
        if d is None:
            continue
        ins, outs = d
        for name, t in (("carry_in", ins.get("carry_in")), ("carry_out", outs.get("carry_out"))):
            n = _dim1(t)
            if n is None:
                continue
            if carry_seen is None:
                carry_seen = n
            elif n != carry_seen:
                src = "--carry-dim" if carry_dim is not None else "the stages before"
                r.problems.append(
                    f"{name} is [B, {n}] but the carried vector has {carry_seen} values ({src}): every "
                    f"stage takes and gives the same carry_dim"
                )
        n = _dim1(outs.get("logits"))
        if n is not None:
            if n < 2:
                r.problems.append(f"logits is [B, {n}]: a classifier has at least 2 classes")
            elif classes_seen is None:
                classes_seen = n
            elif n != classes_seen:
                src = "--classes" if num_classes is not None else "the stages before"
                r.problems.append(f"logits is [B, {n}] but the model has {classes_seen} classes ({src})")
        s_in = ins.get("state_in")
        if (
            k == 0
            and input_shape is not None
            and s_in is not None
            and s_in.dims
            and not _compatible(s_in.static(), list(input_shape))
        ):
            want = ", ".join(map(str, input_shape))
            r.problems.append(f"state_in is {_fmt(s_in.dims)}, the model input is [B, {want}]")
        if k > 0 and declared[k - 1] is not None:
            prev = declared[k - 1][1].get("state_out")
            if (
                prev is not None
                and prev.dims
                and s_in is not None
                and s_in.dims
                and not _compatible(s_in.static(), prev.static())
            ):
                r.problems.append(
                    f"state_in is {_fmt(s_in.dims)} but stage {k - 1}'s state_out is {_fmt(prev.dims)}: "
                    f"stage {k} must take what stage {k - 1} gives"
                )


def _compatible(a: list[int | None], b: list[int | None]) -> bool:
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def _run_chain(
    reports: list[StageReport], declared: list, input_shape: Sequence[int] | None, carry_dim: int | None, seed: int
) -> None:
    """Runs the stages one after another in ONNX Runtime, as the runtime chains them, at each of RUN_BATCHES, up to
    the first stage with a problem found so far (running it would only repeat that problem)."""
    from .cost import session

    first = reports[0]
    declared_in = declared[0][0].get("state_in", TensorInfo("", "", None))
    shape = list(input_shape) if input_shape is not None else declared_in.static()
    if not shape or any(d is None for d in shape):
        first.problems.append(
            f"state_in {first.info.get('state_in')} does not fix the event's shape: pass "
            f"--input-shape to run the stages"
        )
        return
    carry = carry_dim if carry_dim is not None else _dim1(declared[0][0].get("carry_in"))
    if carry is None:
        first.problems.append("carry_in does not fix carry_dim: pass --carry-dim to run the stages")
        return
    sessions = []
    for r in reports:
        if r.problems:
            break
        try:
            sessions.append(session(r.file))
        except Exception as e:  # ORT's reason, on one line
            r.problems.append(f"ONNX Runtime cannot load it: {' '.join(str(e).split())[:300]}")
            break
    rng = np.random.default_rng(seed)
    for b in RUN_BATCHES:
        state = rng.standard_normal((b, *shape)).astype(np.float32)
        carry_in = np.zeros((b, carry), np.float32)
        for r, sess in zip(reports, sessions):
            given = f"stage {r.index - 1}'s outputs" if r.index else "the model input"
            try:
                names = [o.name for o in sess.get_outputs()]
                out = dict(zip(names, sess.run(None, {"state_in": state, "carry_in": carry_in})))
            except Exception as e:  # ORT's reason, on one line
                _add(
                    r,
                    f"ONNX Runtime fails on a batch of {b} ({given}: state_in {list(state.shape)}, carry_in "
                    f"{list(carry_in.shape)}): {' '.join(str(e).split())[:300]}",
                )
                break
            r.ran = True
            bad = _check_outputs(out, b, carry, r.last)
            for text in bad:
                _add(r, f"at batch {b}: {text}")
            if bad:
                break
            state = out.get("state_out", state)
            carry_in = out["carry_out"]


def _check_outputs(out: dict[str, np.ndarray], b: int, carry: int, last: bool) -> list[str]:
    bad = []
    logits, score, c_out = out["logits"], out["score"], out["carry_out"]
    if c_out.shape != (b, carry):
        bad.append(f"carry_out is {list(c_out.shape)}, expected [{b}, {carry}] (carry_in's shape)")
    if logits.ndim != 2 or logits.shape[0] != b:
        bad.append(f"logits is {list(logits.shape)}, expected [{b}, classes]")
    if score.shape != (b,):
        bad.append(f"score is {list(score.shape)}, expected [{b}]")
    if not last and out["state_out"].shape[:1] != (b,):
        bad.append(f"state_out is {list(out['state_out'].shape)}, expected batch {b} first")
    for name, v in out.items():
        if not np.isfinite(v).all():
            bad.append(f"{name} has NaN or infinite values on random normal inputs")
    if np.isfinite(score).all() and score.size and (score.min() < -SCORE_SLACK or score.max() > 1 + SCORE_SLACK):
        bad.append(
            f"score ranges {float(score.min()):.4g}..{float(score.max()):.4g}; the contract needs [0, 1] "
            f"(compared with thresholds in [0, 1]: e.g. the max softmax probability)"
        )
    return bad


def _add(r: StageReport, text: str) -> None:
    """Adds a problem once (the same one at two batch sizes is said once)."""
    key = re.sub(r"batch (of )?\d+", "batch", text)
    if all(re.sub(r"batch (of )?\d+", "batch", t) != key for t in r.problems):
        r.problems.append(text)
