"""A trained model with everything needed to export or evaluate it again (not part of the bundle)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .data import WindowCut
from .exits import EENetScores, ExitModel, JeiGates
from .models import ModelConfig, MultiExitNet
from .registry import Task


@dataclass
class Trained:
    """A trained model, its task and classes, the input normalisation (``mean``/``std`` per channel or feature),
    default thresholds (one per stage) and what the manifest's ``training`` records."""

    model: ExitModel
    task: Task
    classes: list[str]
    mean: np.ndarray
    std: np.ndarray
    thresholds: list[float]
    training: dict = field(default_factory=dict)  # method, seed, epochs, dataset, metrics ...
    window: WindowCut | None = None  # sensor task: how the training windows were cut (the manifest's input.window)

    def __post_init__(self) -> None:
        self.task = Task.parse(self.task, "task")


def save(t: Trained, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    m = t.model
    torch.save(
        {
            "model_config": m.net.config.to_dict(),
            "method": str(m.method),
            "combine": str(m.combine_mode),
            "rule": str(m.rule),
            "has_gates": m.gates is not None,
            "has_eenet": m.eenet is not None,
            "state_dict": m.state_dict(),
            "task": str(t.task),
            "classes": t.classes,
            "mean": t.mean.tolist(),
            "std": t.std.tolist(),
            "thresholds": t.thresholds,
            "training": t.training,
            "window": None if t.window is None else t.window.to_manifest(),
        },
        path,
    )


def load(path: Path) -> Trained:
    d = torch.load(path, map_location="cpu", weights_only=False)
    net = MultiExitNet(ModelConfig(**d["model_config"]))
    k, c = net.num_stages, net.config.num_classes
    model = ExitModel(
        net,
        d["method"],
        d["combine"],
        d["rule"],
        gates=JeiGates(k) if d["has_gates"] else None,
        eenet=EENetScores(k, c) if d["has_eenet"] else None,
    )
    model.load_state_dict(d["state_dict"])
    model.eval()
    return Trained(
        model,
        d["task"],
        d["classes"],
        np.asarray(d["mean"], np.float32),
        np.asarray(d["std"], np.float32),
        list(d["thresholds"]),
        d["training"],
        WindowCut(**d["window"]) if d.get("window") else None,
    )
