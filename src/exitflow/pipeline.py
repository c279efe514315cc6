"""Dataset -> trained model with default exit thresholds (the step shared by ``build`` and ``evaluate``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .checkpoint import Trained
from .cost import stage_flops
from .data import Dataset, norm_stats, normalise
from .eenet import fit_eenet
from .exits import ExitModel, run_exits
from .models import ModelConfig, ModelShape
from .registry import THRESHOLD_RULES, Method, Rule, Task
from .thresholds import default_operating_point, evaluate_thresholds, msdnet_sweep
from .train import TrainConfig, train

DEFAULT_DROPOUT = {"cnn": 0.1, "mlp": 0.3}
# Feature vectors come from 192 training machines and are tested on others: a plain MLP memorised the training
# machines (98.7% train, 85% validation at the deepest exit, worse than its first exit). Weight decay, label
# smoothing and keeping the epoch validation likes best hold the residual MLP's deeper exits at or above the first.
TASK_TRAINING: dict[str, dict] = {Task.FEATURES: {"weight_decay": 0.05, "label_smoothing": 0.1, "keep_best": True}}
# Default thresholds: a threshold rule's operating point is the cheapest validation setting within DEFAULT_MAX_DROP of
# the best accuracy that fits DEFAULT_BUDGET of full-depth FLOPs (also EENet's budget).
DEFAULT_RULE = Rule.MAXPROB
DEFAULT_BUDGET = 0.5
DEFAULT_MAX_DROP = 0.005


@dataclass
class Prepared:
    """Normalised arrays of one dataset, with the training split's statistics."""

    mean: np.ndarray
    std: np.ndarray
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]


def prepare(ds: Dataset) -> Prepared:
    mean, std = norm_stats(ds.train)
    x = {s: normalise(ds.split(s).x, mean, std) for s in ("train", "val", "test")}
    y = {s: ds.split(s).y for s in ("train", "val", "test")}
    return Prepared(mean, std, x, y)


def model_config(ds: Dataset, widths: list[int] | None = None, shape: ModelShape | None = None) -> ModelConfig:
    """The task's backbone in the given shape (default: size ``s``); ``widths`` overrides the shape's widths."""
    kind = ds.task.model_kind
    fields = (shape or ModelShape()).resolve(kind)
    if widths:
        fields["widths"] = list(widths)
    return ModelConfig(
        kind=kind,
        in_shape=list(ds.train.x.shape[1:]),
        num_classes=len(ds.classes),
        dropout=DEFAULT_DROPOUT[kind],
        **fields,
    )


def train_config(task: Task | str, **settings) -> TrainConfig:
    """``TrainConfig`` with the task's defaults (``TASK_TRAINING``) under the given settings."""
    return TrainConfig(**{**TASK_TRAINING.get(task, {}), **settings})


def choose_thresholds(
    model: ExitModel, p: Prepared, cum_cost: np.ndarray, budget_share: float, max_drop: float
) -> list[float]:
    """Default thresholds for a threshold rule, from the MSDNet sweep on validation: the cheapest setting within
    ``max_drop`` of the best validation accuracy that fits ``budget_share`` of full-depth cost."""
    lv, sv = run_exits(model, p.x["val"])
    lt, st = run_exits(model, p.x["test"])
    sweep = msdnet_sweep(sv, st, lv.argmax(-1), lt.argmax(-1), p.y["val"], p.y["test"], cum_cost)
    return default_operating_point(sweep, float(cum_cost[-1]), budget_share, max_drop).thresholds


def attach_eenet(model: ExitModel, p: Prepared, stage_cost: list[float], budget: float, seed: int = 7) -> list[float]:
    """Fits an EENet scheduler on the model's validation outputs for ``budget`` and makes it the exit rule;
    returns the fitted thresholds. Works over any backbone (over BoostNet the carry holds F and q)."""
    lv, _ = run_exits(model, p.x["val"])
    fit = fit_eenet(lv, p.y["val"], stage_cost, budget, seed=seed)
    model.eenet = fit.scores
    model.rule = Rule.EENET
    return fit.thresholds


def build(
    ds: Dataset,
    cfg: TrainConfig,
    rule: Rule | str = DEFAULT_RULE,
    budget_frac: float = DEFAULT_BUDGET,
    max_drop: float = DEFAULT_MAX_DROP,
    widths: list[int] | None = None,
    prepared: Prepared | None = None,
    shape: ModelShape | None = None,
) -> Trained:
    """Trains ``cfg.method`` and fixes the bundle's default thresholds; returns the trained model."""
    schedule = exit_schedule(cfg.method, rule)
    p = prepared or prepare(ds)
    model = train(model_config(ds, widths, shape), cfg, p.x["train"], p.y["train"], p.x["val"], p.y["val"])
    training = {
        "method": cfg.method,
        "seed": cfg.seed,
        "epochs": cfg.epochs,
        "dataset": ds.source,
        f"train_{ds.task.event_noun}": int(len(p.y["train"])),
        "config": asdict(cfg),
    }
    return finish(model, ds, p, schedule, budget_frac, max_drop, cfg.seed, training)


def exit_schedule(method: Method | str, rule: Rule | str) -> Rule:
    """How a model trained by ``method`` decides its exits: ``eenet`` (EENet scheduler), ``gate`` (JEI gates) or a
    threshold rule (``rule``, for joint/boost/consistent). Raises ValueError for a rule the method cannot use."""
    fixed = Method.parse(method, "method").schedule
    if fixed is not None:
        return fixed
    if rule not in THRESHOLD_RULES:
        raise ValueError(f"rule {rule!r} is for jei/eenet; {method} uses one of {THRESHOLD_RULES}")
    return Rule(rule)


def finish(
    model: ExitModel,
    ds: Dataset,
    p: Prepared,
    schedule: Rule | str,
    budget_frac: float,
    max_drop: float,
    seed: int,
    training: dict,
) -> Trained:
    """A trained ``model`` with its exit rule and default thresholds fixed on the validation split (``schedule``:
    ``eenet`` fits an EENet scheduler for ``budget_frac`` of full-depth FLOPs; ``gate`` keeps JEI's gates at 0.5; a
    threshold rule takes the MSDNet sweep's default point) and test metrics added to ``training``."""
    flops = np.asarray(stage_flops(model.net), np.float64)
    cum = np.cumsum(flops)
    if schedule == Rule.EENET:
        thresholds = attach_eenet(model, p, flops.tolist(), budget_frac * cum[-1], seed)
    elif schedule == Rule.GATE:
        thresholds = [0.5] * (model.num_stages - 1) + [0.0]
    else:
        if schedule not in THRESHOLD_RULES:
            raise ValueError(f"unknown exit rule {schedule!r}; use eenet, gate or one of {THRESHOLD_RULES}")
        model.rule = schedule
        thresholds = choose_thresholds(model, p, cum, budget_frac, max_drop)
    model.eval()
    lt, st = run_exits(model, p.x["test"])
    at = evaluate_thresholds(st, lt.argmax(-1), p.y["test"], thresholds, cum / cum[-1])
    metrics = {
        "test_accuracy_per_exit": [round(float((lt[k].argmax(-1) == p.y["test"]).mean()), 4) for k in range(len(lt))],
        "test_accuracy_at_thresholds": round(at.accuracy, 4),
        "test_flops_share_at_thresholds": round(at.cost, 4),
        "test_exit_shares": at.exit_shares,
    }
    training["metrics"] = metrics
    training["budget_flops_share"] = budget_frac  # EENet budget, or what the default thresholds had to fit
    training["max_drop"] = max_drop
    return Trained(model, ds.task, ds.classes, p.mean, p.std, [float(v) for v in thresholds], training, ds.window)
