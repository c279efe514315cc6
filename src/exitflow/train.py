"""Training methods: joint, boost (BoostNet), consistent (consistent exit training) and jei (JEI-DNN).

EENet is fitted after training, on validation outputs (see ``eenet.py``).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .backbone import MultiExitBackbone
from .cost import stage_flops
from .data import class_weights
from .exits import ExitModel, JeiGates, combine, run_exits, uncertainty_stats
from .models import ModelConfig, MultiExitNet
from .perturb import sensor_perturb
from .registry import Combine, Method, Rule

METHODS = Method.names()  # the --method choices


@dataclass
class TrainConfig:
    """How ``train`` trains; ``method`` takes a :class:`~exitflow.registry.Method` or its name (ValueError on any
    other, naming the choices)."""

    method: Method = Method.JOINT
    epochs: int = 20
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 7
    consistency_weight: float = 1.0  # consistent: weight of the clean/perturbed agreement term
    perturb_strength: float = 1.0  # consistent: scales every perturbation
    jei_lambda: float = 0.2  # jei: cost weight in the gate targets (error + lambda * cost share)
    jei_warmup_frac: float = 0.5  # jei: share of epochs that train the heads only
    jei_alternate: int = 200  # jei: batches per phase when alternating heads and gates
    jei_head_floor: float = 0.05  # jei: minimum weight of every head's loss, so no head stops learning
    log_every_s: float = 10.0  # progress line at least this often within an epoch
    label_smoothing: float = 0.0  # exit heads' cross-entropy (not the JEI gate targets)
    keep_best: bool = False  # end on the epoch with the best validation accuracy at the deepest exit
    class_weighting: str = "auto"  # auto: weigh the exit heads' loss by class when classes are skewed; off

    def __post_init__(self) -> None:
        self.method = Method.parse(self.method, "method")


def _log(msg: str) -> None:
    print(msg, flush=True, file=sys.stdout)


def _ce_per_exit(
    logits: list[torch.Tensor], y: torch.Tensor, label_smoothing: float = 0.0, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """``[K, B]`` per-sample cross-entropy of every exit (each sample times its class weight, when given)."""
    return torch.stack(
        [F.cross_entropy(z, y, weight=weight, reduction="none", label_smoothing=label_smoothing) for z in logits]
    )


def jei_exit_weights(gate_probs: list[torch.Tensor]) -> torch.Tensor:
    """Probability of exiting at each exit: max(0, min(g_l, 1 - sum_{j<l} g_j)); the last exit takes the rest."""
    weights = []
    taken = torch.zeros_like(gate_probs[0])
    for g in gate_probs:
        w = torch.clamp(torch.minimum(g, 1.0 - taken), min=0.0)
        weights.append(w)
        taken = taken + w
    weights.append(torch.clamp(1.0 - taken, min=0.0))
    return torch.stack(weights)


def jei_gate_targets(ce: torch.Tensor, cost_share: torch.Tensor, lam: float) -> torch.Tensor:
    """Cumulative gate targets ``[K-1, B]``: 1 at the exit minimising CE_l + lambda * cost_l/cost_L and after."""
    best = torch.argmin(ce + lam * cost_share[:, None], dim=0)
    k = torch.arange(ce.shape[0] - 1)[:, None]
    return (k >= best[None, :]).float()


def gate_loss(gates: JeiGates, logits: list[torch.Tensor], targets: torch.Tensor) -> torch.Tensor:
    """BCE of every gate against its cumulative target, positives re-weighted to balance each gate."""
    losses = []
    for k in range(targets.shape[0]):
        t = targets[k]
        pos = t.sum().clamp(min=1.0)
        pos_weight = ((t.numel() - pos) / pos).clamp(0.1, 10.0)
        z = gates.gates[k](uncertainty_stats(logits[k].detach())).squeeze(-1)
        losses.append(F.binary_cross_entropy_with_logits(z, t, pos_weight=pos_weight))
    return torch.stack(losses).mean()


def fit_jei_gates(
    gates: JeiGates,
    logits: list[torch.Tensor],
    y: torch.Tensor,
    cost_share: torch.Tensor,
    lam: float,
    steps: int = 300,
    lr: float = 0.05,
) -> None:
    """Gate-only training on fixed exit outputs (heads frozen): one operating point per lambda."""
    ce = _ce_per_exit(logits, y)
    targets = jei_gate_targets(ce, cost_share, lam)
    opt = torch.optim.Adam(gates.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        gate_loss(gates, logits, targets).backward()
        opt.step()


def cost_shares(net: MultiExitBackbone) -> torch.Tensor:
    """Cumulative FLOPs to each exit over full-depth FLOPs (JEI's training-time cost)."""
    cum = np.cumsum(stage_flops(net))
    return torch.tensor(cum / cum[-1], dtype=torch.float32)


def exit_accuracy(model: ExitModel, x: np.ndarray, y: np.ndarray) -> list[float]:
    logits, _ = run_exits(model, x)
    return [float((logits[k].argmax(-1) == y).mean()) for k in range(logits.shape[0])]


def train(
    model_cfg: ModelConfig,
    cfg: TrainConfig,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
) -> ExitModel:
    """Trains a multi-exit net by ``cfg.method`` on normalised arrays and returns it as an ``ExitModel``.

    ``eenet`` trains the backbone jointly here; its scheduler is fitted afterwards for a budget.
    """
    torch.manual_seed(cfg.seed)
    return train_net(MultiExitNet(model_cfg), cfg, x_train, y_train, x_val, y_val)


def train_net(
    net: MultiExitBackbone,
    cfg: TrainConfig,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
) -> ExitModel:
    """Trains a given backbone in place by ``cfg.method`` (``x_*`` normalised ``[N, *in_shape]``, ``y_*`` class
    indexes ``[N]``) and returns it as an ``ExitModel``. Dropout draws from torch's global generator: seed it first
    for a reproducible run (``train`` does)."""
    model_cfg = net.config
    gen = torch.Generator().manual_seed(cfg.seed)
    method = Method.parse(cfg.method, "method")
    net.grad_rescale = method is Method.BOOST
    gates = JeiGates(net.num_stages) if method is Method.JEI else None
    model = ExitModel(net, method, method.combine, Rule.GATE if gates is not None else Rule.MAXPROB, gates=gates)

    xt = torch.as_tensor(x_train)
    yt = torch.as_tensor(y_train)
    n = xt.shape[0]
    steps_per_epoch = max(1, math.ceil(n / cfg.batch_size))
    total_steps = cfg.epochs * steps_per_epoch
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total_steps, pct_start=0.15)
    gate_opt = torch.optim.Adam(gates.parameters(), lr=0.01) if gates is not None else None
    shares = cost_shares(net)
    warmup_epochs = max(1, int(round(cfg.epochs * cfg.jei_warmup_frac))) if gates is not None else cfg.epochs
    if cfg.class_weighting not in ("auto", "off"):
        raise ValueError(f"class_weighting must be 'auto' or 'off', got {cfg.class_weighting!r}")
    weights = class_weights(y_train, model_cfg.num_classes) if cfg.class_weighting == "auto" else None
    weight = None if weights is None else torch.tensor(weights, dtype=torch.float32)
    if weights is not None:
        _log(
            f"[train] classes are skewed ({np.bincount(y_train, minlength=model_cfg.num_classes).tolist()} "
            f"training samples): class-weighted loss, weights {weights}"
        )
    alternate = max(1, min(cfg.jei_alternate, steps_per_epoch // 2))

    _log(
        f"[train] method={method} model={model_cfg.kind} params={sum(p.numel() for p in net.parameters())} "
        f"train={n} val={len(y_val)} epochs={cfg.epochs} batch={cfg.batch_size} steps/epoch={steps_per_epoch}"
    )
    step = 0
    best: tuple[float, int, dict[str, torch.Tensor]] | None = None
    for epoch in range(cfg.epochs):
        net.train()
        perm = torch.randperm(n, generator=gen)
        t0 = last_log = time.time()
        loss_sum, seen = 0.0, 0
        for b in range(steps_per_epoch):
            idx = perm[b * cfg.batch_size : (b + 1) * cfg.batch_size]
            if idx.numel() < 2:
                continue  # batch norm needs two samples
            x, y = xt[idx], yt[idx]
            gate_phase = gates is not None and epoch >= warmup_epochs and (b // alternate) % 2 == 1
            if gate_phase:
                loss = _jei_gate_step(model, x, y, shares, cfg.jei_lambda)
                assert gate_opt is not None
                gate_opt.zero_grad()
                loss.backward()
                gate_opt.step()
            else:
                loss = _head_loss(
                    model, cfg, x, y, gen, jei_active=gates is not None and epoch >= warmup_epochs, weight=weight
                )
                opt.zero_grad()
                loss.backward()
                opt.step()
            if step < total_steps - 1:
                sched.step()
            step += 1
            loss_sum += float(loss.detach()) * len(idx)
            seen += len(idx)
            if time.time() - last_log > cfg.log_every_s:
                last_log = time.time()
                _log(f"  epoch {epoch + 1}/{cfg.epochs} batch {b + 1}/{steps_per_epoch} loss {loss_sum / seen:.4f}")
        accs = exit_accuracy(model, x_val, y_val)
        _log(
            f"[train] epoch {epoch + 1}/{cfg.epochs} loss {loss_sum / max(seen, 1):.4f} "
            f"val acc per exit {' '.join(f'{a:.4f}' for a in accs)} ({time.time() - t0:.1f}s)"
        )
        if cfg.keep_best and (best is None or accs[-1] > best[0]):
            best = (accs[-1], epoch, {k: v.detach().clone() for k, v in model.state_dict().items()})
    if best is not None:
        # Later epochs only fitted the training split harder: go back to the one validation liked best.
        model.load_state_dict(best[2])
        _log(f"[train] kept epoch {best[1] + 1}/{cfg.epochs} (deepest exit val acc {best[0]:.4f})")
    net.grad_rescale = False
    model.eval()
    return model


def _head_loss(
    model: ExitModel,
    cfg: TrainConfig,
    x: torch.Tensor,
    y: torch.Tensor,
    gen: torch.Generator,
    jei_active: bool,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    raw = model.net(x)
    if cfg.method == Method.BOOST:
        # F_t = f_t + w * stopgrad(F_{t-1}): each head learns the residual the ensemble so far leaves.
        return (
            _ce_per_exit(combine(raw, Combine.BOOST, detach_prev=True), y, cfg.label_smoothing, weight)
            .mean(dim=1)
            .sum()
        )
    ce = _ce_per_exit(raw, y, cfg.label_smoothing, weight)
    if cfg.method == Method.CONSISTENT:
        pert = model.net(sensor_perturb(x, cfg.perturb_strength, gen))
        ce_pert = _ce_per_exit(pert, y, cfg.label_smoothing, weight)
        consistency = torch.stack(
            [
                F.kl_div(torch.log_softmax(zp, -1), torch.softmax(zc.detach(), -1), reduction="batchmean")
                for zc, zp in zip(raw, pert)
            ]
        )
        # Supervised loss on both views (weak supervision keeps the consistency target on the labels).
        return ce.mean(dim=1).sum() + ce_pert.mean(dim=1).sum() + cfg.consistency_weight * consistency.sum()
    if jei_active:
        assert model.gates is not None
        with torch.no_grad():
            probs = [model.gates.prob(k, z) for k, z in enumerate(raw[:-1])]
            w = jei_exit_weights(probs) + cfg.jei_head_floor
        return (w * ce).mean(dim=1).sum()
    return ce.mean(dim=1).sum()


def _jei_gate_step(
    model: ExitModel, x: torch.Tensor, y: torch.Tensor, shares: torch.Tensor, lam: float
) -> torch.Tensor:
    assert model.gates is not None
    with torch.no_grad():
        model.net.eval()
        raw = model.net(x)
        model.net.train()
    targets = jei_gate_targets(_ce_per_exit(raw, y), shares, lam)
    return gate_loss(model.gates, raw, targets)
