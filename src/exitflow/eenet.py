"""EENet: an exit scheduler fitted post hoc on validation outputs of a trained multi-exit model for a budget.

Fitting follows the paper's shape: per-exit scores q_k and an assignment distribution r over exits are
learned together (score loss weighted by r, KL between r and the exit distribution the scores imply,
and alpha * |E_r[cost] - B| / B), plus an expected-accuracy term E_r[correct] that makes r prefer the
earliest exit that answers correctly. Thresholds then make floor(r_k * N) of the validation samples
leave at exit k; a final one-parameter search tilts those shares until the validation cost is within
``tolerance`` of the budget (the paper keeps fits within 10%; this toolkit asks for 5% or better).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .exits import EENetScores, chain_scores


class BudgetError(ValueError):
    """The budget cannot be met by any exit assignment (below stage 0's cost)."""


@dataclass
class EENetFit:
    scores: EENetScores
    thresholds: list[float]
    budget: float
    val_cost: float
    val_accuracy: float


def all_scores(scores: EENetScores, logits: torch.Tensor) -> torch.Tensor:
    """q ``[K, N]`` for all exits (final exit = 1) from logits ``[K, N, C]``, computed in exit order so each sees the
    earlier q (``exits.chain_scores``, as the exported stages compute them)."""
    return torch.stack(chain_scores(scores.step, list(logits)))


def exits_for_thresholds(q: np.ndarray, thresholds: list[float]) -> np.ndarray:
    """First exit whose score reaches its threshold; the last exit always answers."""
    k_all, n = q.shape
    passed = q[:-1] >= np.asarray(thresholds[:-1])[:, None]
    exit_at = np.full(n, k_all - 1)
    for k in range(k_all - 2, -1, -1):
        exit_at = np.where(passed[k], k, exit_at)
    return exit_at


def thresholds_for_shares(q: np.ndarray, shares: np.ndarray) -> list[float]:
    """Thresholds that make floor(share_k * N) of all samples leave at exit k, highest scores first."""
    k_all, n = q.shape
    remaining = np.ones(n, bool)
    thresholds: list[float] = []
    for k in range(k_all - 1):
        count = int(np.floor(shares[k] * n))
        cand = np.sort(q[k][remaining])[::-1]
        if count <= 0 or cand.size == 0:
            t = float(np.nextafter(np.float32(1.0), np.float32(2.0)))  # nobody can reach it
        else:
            t = float(cand[min(count, cand.size) - 1])
        thresholds.append(t)
        remaining &= ~(q[k] >= t)
    thresholds.append(0.0)
    return thresholds


def expected_cost(exit_at: np.ndarray, cum_cost: np.ndarray) -> float:
    return float(cum_cost[exit_at].mean())


def fit_eenet(
    logits_val: np.ndarray,
    y_val: np.ndarray,
    stage_cost: list[float],
    budget: float,
    alpha: float = 1.0,
    beta: float = 0.1,
    steps: int = 300,
    lr: float = 0.02,
    seed: int = 7,
    tolerance: float = 0.02,
) -> EENetFit:
    """Fits scores and thresholds on validation logits ``[K, N, C]`` so the expected cost meets ``budget``.

    ``stage_cost`` is each stage's own cost (any unit); the budget is in the same unit, per event.
    """
    cum = np.cumsum(np.asarray(stage_cost, np.float64))
    if budget < cum[0]:
        raise BudgetError(f"budget {budget:.3f} is below the cost of stage 0 ({cum[0]:.3f}); no schedule meets it")
    torch.manual_seed(seed)
    k_all, n, c = logits_val.shape
    logits = torch.as_tensor(logits_val, dtype=torch.float32)
    correct = torch.as_tensor(logits_val.argmax(-1) == y_val[None, :], dtype=torch.float32)  # [K, N]
    cum_t = torch.as_tensor(cum, dtype=torch.float32)
    scores = EENetScores(k_all, c)
    assign = nn.ModuleList([nn.Sequential(nn.Linear(c + 2 + k, 16), nn.ReLU(), nn.Linear(16, 1)) for k in range(k_all)])
    opt = torch.optim.Adam(list(scores.parameters()) + list(assign.parameters()), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        q = all_scores(scores, logits)
        q_prev = q.detach().T  # the assignment sees the scores, it does not train them
        g = torch.stack([assign[k](scores.features(k, logits[k], q_prev)).squeeze(-1) for k in range(k_all)])
        r = torch.softmax(g, dim=0)  # [K, N]
        bce = F.binary_cross_entropy(q[:-1].clamp(1e-6, 1 - 1e-6), correct[:-1], reduction="none")
        score_loss = (r[:-1] * bce).sum(0).mean() + 0.1 * bce.mean()
        # Exit distribution implied by the scores: leave at k with q_k times the chance of reaching k.
        reach = torch.cumprod(torch.cat([torch.ones(1, n), 1 - q[:-1]], 0), 0)
        implied = (reach * q).clamp(min=1e-6)
        implied = implied / implied.sum(0, keepdim=True)
        kl = (r * (torch.log(r.clamp(min=1e-6)) - torch.log(implied))).sum(0).mean()
        exp_cost = (r * cum_t[:, None]).sum(0).mean()
        acc = (r * correct).sum(0).mean()
        loss = score_loss + beta * kl + alpha * (exp_cost - budget).abs() / budget - acc
        loss.backward()
        opt.step()
    with torch.no_grad():
        q_np = all_scores(scores, logits).numpy()
        g = torch.stack(
            [assign[k](scores.features(k, logits[k], torch.as_tensor(q_np.T))).squeeze(-1) for k in range(k_all)]
        )
        base = torch.softmax(g, 0).mean(1).numpy().astype(np.float64)
    thresholds = _meet_budget(q_np, base, cum, budget, tolerance)
    exit_at = exits_for_thresholds(q_np, thresholds)
    preds = logits_val.argmax(-1)[exit_at, np.arange(n)]
    return EENetFit(scores, thresholds, budget, expected_cost(exit_at, cum), float((preds == y_val).mean()))


def _meet_budget(q: np.ndarray, shares: np.ndarray, cum: np.ndarray, budget: float, tolerance: float) -> list[float]:
    """Tilts the shares toward cheap (t > 0) or deep (t < 0) exits until the validation cost meets the budget."""
    rel = cum / cum[-1]

    def attempt(t: float) -> tuple[list[float], float]:
        s = shares * np.exp(-t * rel)
        s = s / s.sum()
        th = thresholds_for_shares(q, s)
        return th, expected_cost(exits_for_thresholds(q, th), cum)

    if budget >= cum[-1]:
        return attempt(-60.0)[0]
    lo, hi = -60.0, 60.0
    best, best_err = None, np.inf
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        th, cost = attempt(mid)
        err = abs(cost - budget) / budget
        if err < best_err:
            best, best_err = th, err
        if err <= tolerance:
            break
        if cost > budget:
            lo = mid
        else:
            hi = mid
    assert best is not None
    if best_err > 0.05:
        raise BudgetError(
            f"no EENet schedule reaches budget {budget:.3f} within 5% on validation "
            f"(closest {best_err:.1%}); the stage costs are {list(np.round(np.diff(cum, prepend=0), 3))}"
        )
    return best
