"""A bundle's predictions for windows, computed from its files as the Java runtime computes them: normalise with
the manifest's statistics, chain the stage graphs in ONNX Runtime, exit at the first stage whose score reaches the
bundle's threshold (the last stage always answers), predict the argmax of that stage's logits."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import Split, normalise
from .export import decide_exits, ort_stage_outputs

NEAR = 1e-4  # a score this close to its threshold may exit elsewhere on another machine or batch


@dataclass
class Predictions:
    exit_stage: np.ndarray  # [N] stage that answered
    class_index: np.ndarray  # [N]
    probability: np.ndarray  # [N] softmax probability of the class at the exit stage
    near_threshold: np.ndarray  # [N] bool: a score before the exit was within NEAR of its threshold


def predict(bundle: Path, x_raw: np.ndarray) -> Predictions:
    """Predictions of the bundle at ``bundle`` for raw (un-normalised) inputs ``[N, *input.shape]``."""
    manifest = json.loads((Path(bundle) / "manifest.json").read_text())
    files = [Path(bundle) / s["file"] for s in manifest["stages"]]
    mean = np.asarray(manifest["input"]["mean"], np.float32)
    std = np.asarray(manifest["input"]["std"], np.float32)
    thresholds = manifest["exit"]["thresholds"]
    outs = ort_stage_outputs(files, normalise(x_raw, mean, std), manifest["carry_dim"])
    scores = np.stack([o["score"] for o in outs])
    exits = decide_exits(scores, thresholds)
    rows = np.arange(len(exits))
    logits = np.stack([o["logits"] for o in outs])[exits, rows]
    z = logits - logits.max(axis=1, keepdims=True)
    prob = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    cls = logits.argmax(axis=1)
    k = np.arange(scores.shape[0])[:, None]
    close = (
        (np.abs(scores - np.asarray(thresholds, np.float32)[:, None]) <= NEAR)
        & (k < exits[None, :] + 1)
        & (k < scores.shape[0] - 1)
    )
    return Predictions(exits, cls, prob[rows, cls], close.any(axis=0))


def write_expected(bundle: Path, windows: Split, classes: list[str], path: Path) -> Predictions:
    """Writes ``path`` (CSV): per window its sensor, window end (epoch ms), predicted class and index, exit stage,
    probability, label and whether a score was within ``NEAR`` of its threshold; sorted by sensor and time. The
    anomaly job must give the same class and exit stage for each (event id ``<sensor>@<window_end_ms>``)."""
    if windows.end_ms is None:
        raise ValueError("windows without end times (Split.end_ms) cannot be matched to the job's predictions")
    p = predict(bundle, windows.x)
    order = np.lexsort((windows.end_ms, windows.keys.astype(str)))
    with Path(path).open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(
            ["sensor", "window_end_ms", "class", "class_index", "exit_stage", "probability", "label", "near_threshold"]
        )
        for i in order:
            w.writerow(
                [
                    windows.keys[i],
                    int(windows.end_ms[i]),
                    classes[p.class_index[i]],
                    int(p.class_index[i]),
                    int(p.exit_stage[i]),
                    f"{p.probability[i]:.6f}",
                    classes[windows.y[i]],
                    str(bool(p.near_threshold[i])).lower(),
                ]
            )
    return p
