"""Exit scores, exit combination and the per-stage graphs that the bundle contract defines.

One implementation serves training, evaluation and export: the scores the runtime sees are computed by
exactly the code the evaluation uses, and the ONNX stage graphs are traced from ``StageGraph``.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .backbone import MultiExitBackbone

THRESHOLD_RULES = ("maxprob", "entropy", "margin")
BOOST_WEIGHT = 0.5


def maxprob(logits: torch.Tensor) -> torch.Tensor:
    return torch.softmax(logits, dim=-1).amax(dim=-1)


def entropy_conf(logits: torch.Tensor) -> torch.Tensor:
    """1 - H(softmax) / ln(C): 1 for a one-hot prediction, 0 for a uniform one."""
    logp = torch.log_softmax(logits, dim=-1)
    h = -(logp.exp() * logp).sum(dim=-1)
    return 1.0 - h / math.log(logits.shape[-1])


def margin(logits: torch.Tensor) -> torch.Tensor:
    top2 = torch.softmax(logits, dim=-1).topk(2, dim=-1).values
    return top2[..., 0] - top2[..., 1]


def score_rule(rule: str, logits: torch.Tensor) -> torch.Tensor:
    if rule == "maxprob":
        return maxprob(logits)
    if rule == "entropy":
        return entropy_conf(logits)
    if rule == "margin":
        return margin(logits)
    raise ValueError(f"unknown threshold rule {rule!r}; use one of {THRESHOLD_RULES}")


def uncertainty_stats(logits: torch.Tensor) -> torch.Tensor:
    """JEI-DNN's four gate inputs: max prob, normalised entropy, top-1 minus top-2, entropy of p^2 (renormalised)."""
    p = torch.softmax(logits, dim=-1)
    lnc = math.log(logits.shape[-1])
    logp = torch.log_softmax(logits, dim=-1)
    ent = -(p * logp).sum(dim=-1) / lnc
    top2 = p.topk(2, dim=-1).values
    logp2 = torch.log_softmax(2.0 * logits, dim=-1)  # softmax(2z) == p^2 / sum p^2
    ent2 = -(logp2.exp() * logp2).sum(dim=-1) / lnc
    return torch.stack([top2[..., 0], ent, top2[..., 0] - top2[..., 1], ent2], dim=-1)


def combine(raw: list[torch.Tensor], mode: str, w: float = BOOST_WEIGHT, detach_prev: bool = False) -> list[torch.Tensor]:
    """Exit logits as the runtime sees them: independent heads, or BoostNet's F_k = f_k + w * F_{k-1}."""
    if mode == "independent":
        return list(raw)
    if mode != "boost":
        raise ValueError(f"unknown combine mode {mode!r}")
    out: list[torch.Tensor] = []
    prev: torch.Tensor | None = None
    for f in raw:
        cur = f if prev is None else f + w * (prev.detach() if detach_prev else prev)
        out.append(cur)
        prev = cur
    return out


class JeiGates(nn.Module):
    """One linear gate per non-final exit over the exit's uncertainty statistics (computed without gradient)."""

    def __init__(self, num_stages: int) -> None:
        super().__init__()
        self.gates = nn.ModuleList([nn.Linear(4, 1) for _ in range(num_stages - 1)])

    def prob(self, k: int, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.gates[k](uncertainty_stats(logits.detach())).squeeze(-1))


class EENetScores(nn.Module):
    """EENet's exit scores: q_k = sigmoid(W1 softmax_k + W2 [maxprob_k, entropy-conf_k, q_0..q_{k-1}] + b).

    The paper clamps a linear score to [0, 1]; a sigmoid keeps the same range with a usable gradient
    everywhere, and the exported graph computes the same sigmoid.
    """

    def __init__(self, num_stages: int, num_classes: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(num_classes + 2 + k, 1) for k in range(num_stages - 1)])

    def features(self, k: int, logits: torch.Tensor, prev_q: torch.Tensor) -> torch.Tensor:
        p = torch.softmax(logits, dim=-1)
        return torch.cat([p, maxprob(logits)[:, None], entropy_conf(logits)[:, None], prev_q[:, :k]], dim=1)

    def score(self, k: int, logits: torch.Tensor, prev_q: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.layers[k](self.features(k, logits, prev_q)).squeeze(-1))


class ExitModel(nn.Module):
    """A trained backbone plus everything its method adds: how exits combine and how each scores."""

    def __init__(self, net: MultiExitBackbone, method: str, combine_mode: str, rule: str,
                 gates: JeiGates | None = None, eenet: EENetScores | None = None) -> None:
        super().__init__()
        self.net = net
        self.method = method
        self.combine_mode = combine_mode
        self.rule = rule  # maxprob | entropy | margin | gate | eenet
        self.gates = gates
        self.eenet = eenet
        if rule == "gate" and gates is None:
            raise ValueError("rule 'gate' needs JEI gates")
        if rule == "eenet" and eenet is None:
            raise ValueError("rule 'eenet' needs a fitted EENet scheduler")

    @property
    def num_stages(self) -> int:
        return self.net.num_stages

    @property
    def num_classes(self) -> int:
        return self.net.config.num_classes

    @property
    def carry_dim(self) -> int:
        dim = (self.num_classes if self.combine_mode == "boost" else 0) + (self.num_stages if self.rule == "eenet" else 0)
        return max(dim, 1)  # the contract keeps a carry input even when nothing is carried

    def exit_logits(self, x: torch.Tensor) -> list[torch.Tensor]:
        return combine(self.net(x), self.combine_mode)

    def scores(self, logits: list[torch.Tensor]) -> list[torch.Tensor]:
        """Per-stage exit scores for the model's rule (final stage: gate/EENet rules answer 1)."""
        k_last = self.num_stages - 1
        out: list[torch.Tensor] = []
        if self.rule in THRESHOLD_RULES:
            return [score_rule(self.rule, z) for z in logits]
        ones = torch.ones(logits[0].shape[0])
        if self.rule == "gate":
            assert self.gates is not None
            return [self.gates.prob(k, z) if k < k_last else ones for k, z in enumerate(logits)]
        assert self.eenet is not None
        q = torch.zeros(logits[0].shape[0], self.num_stages)
        for k, z in enumerate(logits):
            s = self.eenet.score(k, z, q) if k < k_last else ones
            q = torch.cat([q[:, :k], s[:, None], q[:, k + 1:]], dim=1)
            out.append(s)
        return out


class StageGraph(nn.Module):
    """Stage k under the contract: (state_in, carry_in) -> (state_out?, carry_out, logits, score)."""

    def __init__(self, model: ExitModel, k: int) -> None:
        super().__init__()
        self.model = model
        self.k = k

    def forward(self, state_in: torch.Tensor, carry_in: torch.Tensor):
        m, k = self.model, self.k
        last = k == m.num_stages - 1
        c = m.num_classes
        h = m.net.stage(k, state_in)
        f = m.net.head(k, h)
        carry_out = carry_in
        if m.combine_mode == "boost":
            logits = f + BOOST_WEIGHT * carry_in[:, :c]
            carry_out = torch.cat([logits, carry_in[:, c:]], dim=1)
        else:
            logits = f
        if m.rule in THRESHOLD_RULES:
            score = score_rule(m.rule, logits)
        elif last:
            score = torch.ones_like(logits[:, 0])
        elif m.rule == "gate":
            assert m.gates is not None
            score = m.gates.prob(k, logits)
        else:
            assert m.eenet is not None
            off = c if m.combine_mode == "boost" else 0
            q = carry_in[:, off:off + m.num_stages]
            score = m.eenet.score(k, logits, q)
            q = torch.cat([q[:, :k], score[:, None], q[:, k + 1:]], dim=1)
            carry_out = torch.cat([carry_out[:, :off], q], dim=1)
        if last:
            return carry_out, logits, score
        return h, carry_out, logits, score


@torch.no_grad()
def run_exits(model: ExitModel, x, batch_size: int = 2048) -> tuple["np.ndarray", "np.ndarray"]:
    """Runs every stage on normalised inputs; returns (combined logits ``[K, N, C]``, scores ``[K, N]``)."""
    import numpy as np

    was = model.training
    model.eval()
    logits_parts, score_parts = [], []
    xt = torch.as_tensor(x)
    for i in range(0, xt.shape[0], batch_size):
        z = model.exit_logits(xt[i:i + batch_size])
        s = model.scores(z)
        logits_parts.append(torch.stack(z).numpy())
        score_parts.append(torch.stack(s).numpy())
    model.train(was)
    return np.concatenate(logits_parts, axis=1), np.concatenate(score_parts, axis=1)
