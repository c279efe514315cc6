"""Build the tiny 3-stage test bundle the operators tests use (models under docs/bundle-contract.md, format 1).

The manifest is written by the toolkit's own writer (``exitflow.manifest``), so this script needs the toolkit
installed (``pip install -e .``, as scripts/test.sh does).

A small MLP on synthetic 8-feature, 3-class data, trained for a few seconds, exported stage by stage with the
BoostNet carry (running logits) so the Java runtime has a non-trivial carried vector to pass on. Fixtures are
computed with Python ONNX Runtime on the exported graphs, so the Java parity test checks Java ORT + the Java exit
logic against the same graphs. Run from the repository root:

    /root/.cache/exitflow/venv/bin/python operators/src/test/resources/make_tiny_bundle.py
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from exitflow.manifest import ExitSpec, InputSpec, Manifest, StageEntry  # the toolkit's one manifest writer
from exitflow.registry import Task

OUT = Path(__file__).resolve().parent / "bundles" / "tiny-mlp"
FEATURES, CLASSES, HIDDEN, STAGES = 8, 3, 16, 3
BOOST_W = 0.5
SEED = 11


def make_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian blobs with per-event noise level, so some events are easy and some hard."""
    centres = rng.normal(0, 2.0, size=(CLASSES, FEATURES))
    y = rng.integers(0, CLASSES, size=n)
    noise = rng.uniform(0.5, 3.0, size=(n, 1))
    x = centres[y] + rng.normal(0, 1.0, size=(n, FEATURES)) * noise
    x = x * 3.0 + 5.0  # raw scale: the runtime must normalise with the manifest's mean/std
    return x.astype(np.float32), y.astype(np.int64)


class Stage(nn.Module):
    """One exported stage under the contract: (state_in, carry_in) -> (state_out?, carry_out, logits, score)."""

    def __init__(self, d_in: int, last: bool) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(d_in, HIDDEN), nn.ReLU())
        self.head = nn.Linear(HIDDEN, CLASSES)
        self.last = last

    def forward(self, state_in: torch.Tensor, carry_in: torch.Tensor):
        h = self.body(state_in)
        logits = self.head(h) + BOOST_W * carry_in  # BoostNet: F_k = f_k + w * F_{k-1}
        score = torch.softmax(logits, dim=1).amax(dim=1)
        if self.last:
            return logits, logits, score
        return h, logits, logits, score


def train(stages: list[Stage], x: torch.Tensor, y: torch.Tensor) -> None:
    params = [p for s in stages for p in s.parameters()]
    opt = torch.optim.Adam(params, lr=0.01)
    for _ in range(150):
        opt.zero_grad()
        state, carry, loss = x, torch.zeros(len(x), CLASSES), torch.tensor(0.0)
        for s in stages:
            out = s(state, carry)
            logits = out[-2]
            loss = loss + nn.functional.cross_entropy(logits, y)
            if not s.last:
                state = out[0]
            carry = out[-3]
        loss.backward()
        opt.step()


def export(stage: Stage, k: int, d_in: int) -> None:
    names = (["state_out"] if not stage.last else []) + ["carry_out", "logits", "score"]
    dyn = {n: {0: "batch"} for n in ["state_in", "carry_in"] + names}
    torch.onnx.export(stage, (torch.zeros(2, d_in), torch.zeros(2, CLASSES)), str(OUT / f"stage{k}.onnx"),
                      input_names=["state_in", "carry_in"], output_names=names, dynamic_axes=dyn,
                      opset_version=17, dynamo=False)


def run_all(sessions: list[ort.InferenceSession], xn: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Every stage on every input, as the runtime would without exits."""
    outs, state, carry = [], xn, np.zeros((len(xn), CLASSES), np.float32)
    for k, s in enumerate(sessions):
        res = dict(zip([o.name for o in s.get_outputs()], s.run(None, {"state_in": state, "carry_in": carry})))
        outs.append(res)
        state, carry = res.get("state_out"), res["carry_out"]
    return outs


def cost_us(sess: ort.InferenceSession, d_in: int) -> dict[str, float]:
    res = {}
    for b in (1, 8, 64, 256):
        feed = {"state_in": np.zeros((b, d_in), np.float32), "carry_in": np.zeros((b, CLASSES), np.float32)}
        for _ in range(20):
            sess.run(None, feed)
        t0, n = time.perf_counter(), 200
        for _ in range(n):
            sess.run(None, feed)
        res[str(b)] = round((time.perf_counter() - t0) / n / b * 1e6, 3)
    return res


def main() -> None:
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    x, y = make_data(3000, rng)
    mean, std = x.mean(axis=0), x.std(axis=0)
    xn = (x - mean) / std
    stages = [Stage(FEATURES if k == 0 else HIDDEN, k == STAGES - 1) for k in range(STAGES)]
    train(stages, torch.from_numpy(xn[:2000]), torch.from_numpy(y[:2000]))
    for k, s in enumerate(stages):
        s.eval()
        export(s, k, FEATURES if k == 0 else HIDDEN)

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sessions = [ort.InferenceSession(str(OUT / f"stage{k}.onnx"), opts, providers=["CPUExecutionProvider"])
                for k in range(STAGES)]
    val_x, val_y = xn[2000:2600], y[2000:2600]
    val = run_all(sessions, val_x)
    # Thresholds at quantiles of the validation scores so every exit gets a share of the fixtures.
    thresholds = [float(np.quantile(val[0]["score"], 0.6)), float(np.quantile(val[1]["score"], 0.5)), 0.0]

    costs = [cost_us(s, FEATURES if k == 0 else HIDDEN) for k, s in enumerate(sessions)]
    manifest = Manifest(
        format_version=1,
        model_id="tiny-mlp",
        model_version="test-1",
        task=Task.FEATURES,
        classes=["alpha", "beta", "gamma"],
        input=InputSpec([FEATURES], Task.FEATURES.layout, [float(v) for v in mean], [float(v) for v in std]),
        carry_dim=CLASSES,
        stages=[StageEntry.of(k, k == STAGES - 1, [FEATURES if k == 0 else HIDDEN], [HIDDEN],
                              2 * ((FEATURES if k == 0 else HIDDEN) * HIDDEN + HIDDEN * CLASSES), costs[k])
                for k in range(STAGES)],
        exit=ExitSpec("boost", "model", "maxprob", thresholds),
        training={"method": "boost", "seed": SEED, "epochs": 150, "dataset": "synthetic-blobs"},
    )
    manifest.write(OUT / "manifest.json")

    calibration = {
        "split": "validation",
        "labels": [int(v) for v in val_y],
        "stages": [{"score": [float(v) for v in o["score"]], "pred": [int(v) for v in o["logits"].argmax(1)]}
                   for o in val],
        "cost_us_per_event": [c["64"] for c in costs],
    }
    (OUT / "calibration.json").write_text(json.dumps(calibration))

    fx_raw, fx_n = x[2600:2640], xn[2600:2640]
    fx = run_all(sessions, fx_n)
    exits, classes = [], []
    for i in range(len(fx_raw)):
        k = next(k for k in range(STAGES) if k == STAGES - 1 or fx[k]["score"][i] >= thresholds[k])
        exits.append(k)
        classes.append(int(fx[k]["logits"][i].argmax()))
    fixtures = {
        "input_shape": [FEATURES],
        "inputs": [[float(v) for v in row] for row in fx_raw],
        "thresholds": thresholds,
        "stages": [{"logits": o["logits"].tolist(), "score": o["score"].tolist(), "carry": o["carry_out"].tolist()}
                   for o in fx],
        "expected_exit": exits,
        "expected_class": classes,
        "tolerance": 1e-4,
    }
    (OUT / "fixtures.json").write_text(json.dumps(fixtures))
    print("exits per stage in fixtures:", np.bincount(exits, minlength=STAGES).tolist(), "thresholds", thresholds)


if __name__ == "__main__":
    main()
