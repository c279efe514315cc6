"""What a stage costs: FLOPs counted from the network, and latency measured with ONNX Runtime here."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from .backbone import MultiExitBackbone

BATCH_SIZES = (1, 8, 64, 256)


def _layer_flops(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    """Multiply-adds counted as 2; normalisation and activations as one op per output element."""
    if isinstance(module, nn.Conv1d):
        per_out = module.in_channels // module.groups * module.kernel_size[0]
        return 2 * per_out * out[0].numel()
    if isinstance(module, nn.Linear):
        return 2 * module.in_features * module.out_features
    if isinstance(module, (nn.BatchNorm1d, nn.LayerNorm, nn.ReLU)):
        return out[0].numel()
    return 0


def stage_flops(net: MultiExitBackbone, extra_per_stage: int = 0) -> list[int]:
    """FLOPs per event of each stage (backbone block + exit head), plus ``extra_per_stage`` (score/gate): the
    backbone's own ``count_stage_flops()`` where it has one (a user's modules), else its known layers counted."""
    own = getattr(net, "count_stage_flops", None)
    if own is not None:
        return [int(c) + extra_per_stage for c in own()]
    counts: list[int] = []
    total = [0]

    def hook(m: nn.Module, i: tuple, o: torch.Tensor) -> None:
        total[0] += _layer_flops(m, i[0], o)

    handles = [m.register_forward_hook(hook) for m in net.modules() if not list(m.children())]
    try:
        was = net.training
        net.eval()
        with torch.no_grad():
            h = torch.zeros(1, *net.config.in_shape)
            for k in range(net.num_stages):
                total[0] = 0
                h = net.stage(k, h)
                net.head(k, h)
                counts.append(total[0] + extra_per_stage)
        net.train(was)
    finally:
        for hd in handles:
            hd.remove()
    return counts


def session(path: Path | str, threads: int = 1) -> ort.InferenceSession:
    """A CPU session the way the Java runtime configures one: one intra-op thread, no spinning."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def measure_stage_latency(
    stage_files: list[Path],
    state_shapes: list[list[int]],
    carry_dim: int,
    batch_sizes: tuple[int, ...] = BATCH_SIZES,
    min_time_s: float = 0.3,
    seed: int = 0,
) -> list[dict[str, float]]:
    """Microseconds per event for each stage and batch size (median of repeated timed runs)."""
    rng = np.random.default_rng(seed)
    out: list[dict[str, float]] = []
    for path, shape in zip(stage_files, state_shapes):
        sess = session(path)
        res: dict[str, float] = {}
        for b in batch_sizes:
            feed = {
                "state_in": rng.standard_normal((b, *shape)).astype(np.float32),
                "carry_in": np.zeros((b, carry_dim), np.float32),
            }
            for _ in range(3):
                sess.run(None, feed)  # warm-up: allocations and kernel selection
            samples: list[float] = []
            start = time.perf_counter()
            while time.perf_counter() - start < min_time_s or len(samples) < 5:
                t0 = time.perf_counter_ns()
                sess.run(None, feed)
                samples.append((time.perf_counter_ns() - t0) / 1000.0 / b)
            res[str(b)] = round(float(np.median(samples)), 3)
        out.append(res)
    return out
