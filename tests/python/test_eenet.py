"""EENet's post-hoc scheduler meets its budget on validation (within 5%) and refuses impossible budgets."""

from __future__ import annotations

import numpy as np
import pytest

from exitflow.cost import stage_flops
from exitflow.eenet import BudgetError, exits_for_thresholds, fit_eenet, thresholds_for_shares
from exitflow.exits import run_exits
from exitflow.pipeline import model_config, prepare
from exitflow.train import TrainConfig, train


@pytest.fixture(scope="module")
def val_outputs(small_features):
    p = prepare(small_features)
    model = train(
        model_config(small_features),
        TrainConfig(method="joint", epochs=3, batch_size=64),
        p.x["train"],
        p.y["train"],
        p.x["val"],
        p.y["val"],
    )
    logits, _ = run_exits(model, p.x["val"])
    return logits, p.y["val"], stage_flops(model.net)


@pytest.mark.parametrize("share", [0.35, 0.5, 0.7])
def test_validation_cost_within_5_percent_of_budget(val_outputs, share: float) -> None:
    logits, y, cost = val_outputs
    budget = share * float(np.sum(cost))
    fit = fit_eenet(logits, y, cost, budget, steps=200)
    assert abs(fit.val_cost - budget) / budget <= 0.05, (fit.val_cost, budget)
    assert fit.thresholds[-1] == 0.0 and len(fit.thresholds) == logits.shape[0]
    assert fit.val_accuracy > 0.5


def test_budget_below_first_stage_is_refused(val_outputs) -> None:
    logits, y, cost = val_outputs
    with pytest.raises(BudgetError, match="below the cost of stage 0"):
        fit_eenet(logits, y, cost, 0.5 * cost[0], steps=10)


def test_share_thresholds_put_the_requested_counts_at_each_exit() -> None:
    q = np.random.default_rng(1).random((4, 1000))
    th = thresholds_for_shares(q, np.array([0.3, 0.2, 0.1, 0.4]))
    counts = np.bincount(exits_for_thresholds(q, th), minlength=4)
    assert counts[:3].tolist() == [300, 200, 100]
