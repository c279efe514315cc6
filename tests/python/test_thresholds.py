"""MSDNet sweep, default operating point and oracle on hand-made exit outputs."""

from __future__ import annotations

import numpy as np

from exitflow.thresholds import Point, default_operating_point, msdnet_sweep, oracle


def _p(acc: float, cost: float) -> tuple[Point, Point]:
    pt = Point([0.5, 0.0], acc, cost, [])
    return pt, pt


def test_default_point_is_the_cheapest_near_the_best_within_budget() -> None:
    pts = [_p(0.80, 1.0), _p(0.85, 2.0), _p(0.853, 3.0), _p(0.95, 6.0)]  # full cost 10, budget 5
    chosen = default_operating_point(pts, 10.0, 0.5, 0.005)
    assert (chosen.accuracy, chosen.cost) == (0.85, 2.0)  # 0.95 costs too much; 0.853 is not worth 50% more


def test_default_point_falls_back_to_cheapest_when_nothing_fits() -> None:
    chosen = default_operating_point([_p(0.9, 8.0), _p(0.8, 7.0)], 10.0, 0.5, 0.005)
    assert chosen.cost == 7.0


def test_sweep_and_oracle() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 500)
    preds = np.stack([np.where(rng.random(500) < a, y, (y + 1) % 3) for a in (0.6, 0.7, 0.8)])
    scores = rng.random((3, 500))
    cum = np.array([1.0, 2.0, 3.0])
    pairs = msdnet_sweep(scores, scores, preds, preds, y, y, cum)
    assert len(pairs) == 39
    costs = [v.cost for v, _ in pairs]
    assert costs == sorted(costs)  # larger p sends more samples deeper
    assert all(1.0 <= c <= 3.0 for c in costs)
    o = oracle(preds, y, cum)
    assert o.accuracy == float((preds == y).any(axis=0).mean())
    assert o.accuracy >= max(v.accuracy for v, _ in pairs)  # no threshold rule beats the oracle
