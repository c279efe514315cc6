"""Exit scores, exit combination and the per-stage graphs that the bundle contract defines.

One implementation serves training, evaluation and export: every exit score comes from
``ExitModel.stage_score`` (stage by stage, each seeing the EENet scores written before it), which ``ExitModel.scores``
runs over all stages for evaluation and ``StageGraph`` runs for one stage, so the ONNX stage graphs traced from
``StageGraph`` compute exactly the scores the evaluation uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from .backbone import MultiExitBackbone
from .registry import THRESHOLD_RULES, Combine, Method, Rule

BOOST_WEIGHT = 0.5


def maxprob(logits: torch.Tensor) -> torch.Tensor:
    """Max softmax probability ``[...]`` of logits ``[..., C]``."""
    return torch.softmax(logits, dim=-1).amax(dim=-1)


def entropy_conf(logits: torch.Tensor) -> torch.Tensor:
    """1 - H(softmax) / ln(C): 1 for a one-hot prediction, 0 for a uniform one."""
    logp = torch.log_softmax(logits, dim=-1)
    h = -(logp.exp() * logp).sum(dim=-1)
    return 1.0 - h / math.log(logits.shape[-1])


def margin(logits: torch.Tensor) -> torch.Tensor:
    """Top-1 minus top-2 softmax probability ``[...]`` of logits ``[..., C]``."""
    top2 = torch.softmax(logits, dim=-1).topk(2, dim=-1).values
    return top2[..., 0] - top2[..., 1]


# The threshold rules' scores, by rule: what the runtime computes from logits for manifest exit.score maxprob etc.
THRESHOLD_SCORES: dict[Rule, Callable[[torch.Tensor], torch.Tensor]] = {
    Rule.MAXPROB: maxprob,
    Rule.ENTROPY: entropy_conf,
    Rule.MARGIN: margin,
}


def score_rule(rule: Rule | str, logits: torch.Tensor) -> torch.Tensor:
    """The threshold rule's score ``[...]`` of logits ``[..., C]``; raises ValueError for any other rule."""
    try:
        fn = THRESHOLD_SCORES[Rule(rule)]
    except (ValueError, KeyError):
        raise ValueError(f"unknown threshold rule {rule!r}; use one of {THRESHOLD_RULES}") from None
    return fn(logits)


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


def combine(
    raw: list[torch.Tensor], mode: Combine | str, w: float = BOOST_WEIGHT, detach_prev: bool = False
) -> list[torch.Tensor]:
    """Exit logits as the runtime sees them: independent heads, or BoostNet's F_k = f_k + w * F_{k-1}."""
    if mode not in Combine.names():
        raise ValueError(f"unknown combine mode {mode!r}")
    if mode == Combine.INDEPENDENT:
        return list(raw)
    out: list[torch.Tensor] = []
    prev: torch.Tensor | None = None
    for f in raw:
        cur = f if prev is None else f + w * (prev.detach() if detach_prev else prev)
        out.append(cur)
        prev = cur
    return out


ScoreStep = Callable[[int, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def chain_scores(step: ScoreStep, logits: list[torch.Tensor]) -> list[torch.Tensor]:
    """Every exit's score ``[B]`` from every exit's logits ``[B, C]``, in exit order: ``step(k, logits_k, q)`` returns
    exit k's score and the EENet score vector ``q`` ``[B, K]`` (zeros at first) that the later exits see."""
    q = torch.zeros(logits[0].shape[0], len(logits))
    out = []
    for k, z in enumerate(logits):
        s, q = step(k, z, q)
        out.append(s)
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

    @property
    def num_stages(self) -> int:
        return len(self.layers) + 1

    def score(self, k: int, logits: torch.Tensor, prev_q: torch.Tensor) -> torch.Tensor:
        """q_k ``[B]`` of a non-final exit k from its logits ``[B, C]`` and the scores ``prev_q`` ``[B, >=k]``."""
        return torch.sigmoid(self.layers[k](self.features(k, logits, prev_q)).squeeze(-1))

    def step(self, k: int, logits: torch.Tensor, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Exit k's score ``[B]`` and the score vector ``q`` ``[B, K]`` with it written at k. The last exit always
        answers: its score is 1 and ``q`` comes back as it was (the runtime's carry keeps q_0..q_{K-2})."""
        if k == self.num_stages - 1:
            return torch.ones_like(logits[:, 0]), q
        s = self.score(k, logits, q)
        return s, torch.cat([q[:, :k], s[:, None], q[:, k + 1 :]], dim=1)


class ExitModel(nn.Module):
    """A trained backbone plus everything its method adds: how exits combine and how each scores.

    ``method`` is recorded only (a :class:`~exitflow.registry.Method` name, or ``pretrained`` for a model trained
    outside the toolkit); ``combine_mode`` and ``rule`` take a member or its name and raise ValueError on any other.
    """

    def __init__(
        self,
        net: MultiExitBackbone,
        method: Method | str,
        combine_mode: Combine | str,
        rule: Rule | str,
        gates: JeiGates | None = None,
        eenet: EENetScores | None = None,
    ) -> None:
        super().__init__()
        self.net = net
        self.method = method
        self.combine_mode = combine_mode  # the setter parses names
        self.gates = gates
        self.eenet = eenet
        self.rule = rule

    @property
    def combine_mode(self) -> Combine:
        return self._combine

    @combine_mode.setter
    def combine_mode(self, value: Combine | str) -> None:
        self._combine = Combine.parse(value, "combine mode")

    @property
    def rule(self) -> Rule:
        """maxprob | entropy | margin | gate | eenet; setting ``gate`` needs JEI gates, ``eenet`` a fitted scheduler."""
        return self._rule

    @rule.setter
    def rule(self, value: Rule | str) -> None:
        rule = Rule.parse(value, "exit rule")
        if rule is Rule.GATE and self.gates is None:
            raise ValueError("rule 'gate' needs JEI gates")
        if rule is Rule.EENET and self.eenet is None:
            raise ValueError("rule 'eenet' needs a fitted EENet scheduler")
        self._rule = rule

    @property
    def num_stages(self) -> int:
        return self.net.num_stages

    @property
    def num_classes(self) -> int:
        return self.net.config.num_classes

    @property
    def carry_dim(self) -> int:
        """Width of the carried vector: BoostNet's running logits, then EENet's scores (docs/bundle-contract.md)."""
        dim = self.q_offset + (self.num_stages if self.rule is Rule.EENET else 0)
        return max(dim, 1)  # the contract keeps a carry input even when nothing is carried

    @property
    def q_offset(self) -> int:
        """Where EENet's scores start in the carried vector (after BoostNet's running logits, if any)."""
        return self.num_classes if self.combine_mode is Combine.BOOST else 0

    def exit_logits(self, x: torch.Tensor) -> list[torch.Tensor]:
        return combine(self.net(x), self.combine_mode)

    def stage_score(self, k: int, logits: torch.Tensor, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The one place an exit score is computed: exit k's score ``[B]`` from its combined logits ``[B, C]``, and
        the EENet score vector ``q`` ``[B, K]`` after it (returned unchanged by every other rule). Threshold rules
        score every exit, the last included; gate and EENet rules answer 1 on the last exit."""
        if self.rule.is_threshold:
            return THRESHOLD_SCORES[self.rule](logits), q
        if self.rule is Rule.EENET:
            assert self.eenet is not None
            return self.eenet.step(k, logits, q)
        assert self.gates is not None
        if k == self.num_stages - 1:
            return torch.ones_like(logits[:, 0]), q
        return self.gates.prob(k, logits), q

    def scores(self, logits: list[torch.Tensor]) -> list[torch.Tensor]:
        """Per-stage exit scores ``[B]`` for the model's rule, computed in exit order by ``stage_score``."""
        return chain_scores(self.stage_score, logits)


class StageGraph(nn.Module):
    """Stage k under the contract: (state_in, carry_in) -> (state_out?, carry_out, logits, score)."""

    def __init__(self, model: ExitModel, k: int) -> None:
        super().__init__()
        self.model = model
        self.k = k

    def forward(self, state_in: torch.Tensor, carry_in: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``state_in`` ``[B, *state_in_shape]``, ``carry_in`` ``[B, carry_dim]`` -> ``(state_out, carry_out,
        logits [B, C], score [B])``, without ``state_out`` on the last stage."""
        m, k = self.model, self.k
        last = k == m.num_stages - 1
        c = m.num_classes
        h = m.net.stage(k, state_in)
        f = m.net.head(k, h)
        carry_out = carry_in
        if m.combine_mode is Combine.BOOST:
            logits = f + BOOST_WEIGHT * carry_in[:, :c]
            carry_out = torch.cat([logits, carry_in[:, c:]], dim=1)
        else:
            logits = f
        # EENet's scores travel in the carry; the last stage reads and writes none of them.
        writes_q = m.rule is Rule.EENET and not last
        off = m.q_offset
        q = carry_in[:, off : off + m.num_stages] if writes_q else carry_in
        score, q = m.stage_score(k, logits, q)
        if writes_q:
            carry_out = torch.cat([carry_out[:, :off], q], dim=1)
        if last:
            return carry_out, logits, score
        return h, carry_out, logits, score


@torch.no_grad()
def run_exits(model: ExitModel, x: np.ndarray | torch.Tensor, batch_size: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Runs every stage on normalised inputs ``[N, *in_shape]``; returns (combined logits ``[K, N, C]``, scores
    ``[K, N]``)."""
    was = model.training
    model.eval()
    logits_parts, score_parts = [], []
    xt = torch.as_tensor(x)
    for i in range(0, xt.shape[0], batch_size):
        z = model.exit_logits(xt[i : i + batch_size])
        s = model.scores(z)
        logits_parts.append(torch.stack(z).numpy())
        score_parts.append(torch.stack(s).numpy())
    model.train(was)
    return np.concatenate(logits_parts, axis=1), np.concatenate(score_parts, axis=1)
