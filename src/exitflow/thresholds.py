"""MSDNet's budgeted threshold sweep and the oracle bound, on per-exit scores and predictions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .eenet import exits_for_thresholds, thresholds_for_shares


@dataclass
class Point:
    """One operating point: thresholds, and the accuracy / expected cost they give on some split."""

    thresholds: list[float]
    accuracy: float
    cost: float
    exit_shares: list[float]
    setting: str = ""


def evaluate_thresholds(
    scores: np.ndarray,
    preds: np.ndarray,
    y: np.ndarray,
    thresholds: list[float],
    cum_cost: np.ndarray,
    setting: str = "",
) -> Point:
    exit_at = exits_for_thresholds(scores, thresholds)
    correct = preds[exit_at, np.arange(len(y))] == y
    shares = np.bincount(exit_at, minlength=scores.shape[0]) / len(y)
    return Point(
        list(map(float, thresholds)),
        float(correct.mean()),
        float(cum_cost[exit_at].mean()),
        shares.round(4).tolist(),
        setting,
    )


def msdnet_sweep(
    val_scores: np.ndarray,
    test_scores: np.ndarray,
    val_preds: np.ndarray,
    test_preds: np.ndarray,
    y_val: np.ndarray,
    y_test: np.ndarray,
    cum_cost: np.ndarray,
) -> list[tuple[Point, Point]]:
    """MSDNet budgeted batch: exit shares q_k proportional to p^k for p = i/20 (i=1..39), thresholds set on
    validation so that share of the samples leaves at k; returns (validation point, test point) pairs."""
    k_all = val_scores.shape[0]
    out = []
    for i in range(1, 40):
        p = i / 20.0
        q = p ** np.arange(k_all, dtype=np.float64)
        q = q / q.sum()
        th = thresholds_for_shares(val_scores, q)
        out.append(
            (
                evaluate_thresholds(val_scores, val_preds, y_val, th, cum_cost, f"p={p:.2f}"),
                evaluate_thresholds(test_scores, test_preds, y_test, th, cum_cost, f"p={p:.2f}"),
            )
        )
    return out


def oracle(preds: np.ndarray, y: np.ndarray, cum_cost: np.ndarray) -> Point:
    """Leaves at the first exit that is right; inputs no exit gets right leave at exit 0 (wrong anyway)."""
    right = preds == y[None, :]
    any_right = right.any(axis=0)
    exit_at = np.where(any_right, right.argmax(axis=0), 0)
    shares = np.bincount(exit_at, minlength=preds.shape[0]) / len(y)
    return Point([], float(any_right.mean()), float(cum_cost[exit_at].mean()), shares.round(4).tolist(), "oracle")


def default_operating_point(
    points: list[tuple[Point, Point]], full_cost: float, budget_share: float, max_drop: float
) -> Point:
    """A bundle's default thresholds: among validation settings whose cost is within the budget, the cheapest
    one within ``max_drop`` of the best accuracy there (the cheapest setting overall if none fits the budget)."""
    vals = [v for v, _ in points]
    fit = [v for v in vals if v.cost <= budget_share * full_cost]
    if not fit:
        return min(vals, key=lambda v: v.cost)
    best = max(v.accuracy for v in fit)
    return min((v for v in fit if v.accuracy >= best - max_drop), key=lambda v: v.cost)
