"""Sensor perturbations for consistent exit training and for the noise-robustness evaluation.

All work on normalised inputs: windows ``[B, C, T]`` or feature vectors ``[B, F]``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def jitter(x: torch.Tensor, sigma: float, gen: torch.Generator | None = None) -> torch.Tensor:
    return x + sigma * torch.randn(x.shape, generator=gen)


def scale(x: torch.Tensor, sigma: float, gen: torch.Generator | None = None) -> torch.Tensor:
    """Multiplies each channel (or feature) of each event by a factor around 1."""
    shape = (x.shape[0], x.shape[1], 1) if x.dim() == 3 else x.shape
    return x * (1.0 + sigma * torch.randn(shape, generator=gen))


def time_warp(x: torch.Tensor, max_stretch: float, gen: torch.Generator | None = None) -> torch.Tensor:
    """Resamples each window with a random speed in [1-s, 1+s] around its centre (linear interpolation)."""
    b, c, t = x.shape
    speed = 1.0 + max_stretch * (2.0 * torch.rand(b, 1, generator=gen) - 1.0)
    grid_t = torch.linspace(-1.0, 1.0, t)[None, :] * speed  # normalised sample positions
    grid = torch.stack([grid_t, torch.zeros_like(grid_t)], dim=-1)[:, None, :, :]  # [B, 1, T, 2]
    out = F.grid_sample(x[:, :, None, :], grid, mode="bilinear", padding_mode="border", align_corners=True)
    return out[:, :, 0, :]


def channel_dropout(x: torch.Tensor, p: float, gen: torch.Generator | None = None) -> torch.Tensor:
    """Zeroes whole channels (windows) or single features (vectors) with probability p: a dead sensor axis."""
    shape = (x.shape[0], x.shape[1], 1) if x.dim() == 3 else x.shape
    keep = (torch.rand(shape, generator=gen) >= p).float()
    return x * keep


def sensor_perturb(x: torch.Tensor, strength: float = 1.0, gen: torch.Generator | None = None) -> torch.Tensor:
    """The consistent-training mix: jitter, scaling, time warp (windows only), channel dropout."""
    y = jitter(x, 0.2 * strength, gen)
    y = scale(y, 0.1 * strength, gen)
    if y.dim() == 3:
        y = time_warp(y, 0.1 * strength, gen)
    return channel_dropout(y, 0.1 * strength, gen)


def noisy_copy(x: torch.Tensor, sigma: float, seed: int) -> torch.Tensor:
    """Deterministic noisy test inputs for the robustness comparison: jitter plus scaling."""
    gen = torch.Generator().manual_seed(seed)
    return scale(jitter(x, sigma, gen), 0.5 * sigma, gen)
