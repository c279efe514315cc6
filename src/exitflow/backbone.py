"""What training, evaluation and export need from a multi-exit backbone, stated once.

The built-in networks (:class:`exitflow.models.MultiExitNet`) and a user's own stages and heads
(:class:`exitflow.custom.MultiExitModel`) both satisfy :class:`MultiExitBackbone`; ``train.py``, ``exits.py``,
``cost.py`` and ``export.py`` use nothing else of a backbone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import torch
from torch import nn


@runtime_checkable
class BackboneConfig(Protocol):
    """The shape facts every backbone states. ``kind`` names the family (``cnn``, ``mlp``, ``custom``);
    ``in_shape`` is one event without the batch axis (``[channels, time]`` or ``[features]``); ``num_classes`` is
    the width of every exit's logits."""

    kind: str
    in_shape: list[int]
    num_classes: int

    def to_dict(self) -> dict: ...


@runtime_checkable
class MultiExitBackbone(Protocol):
    """K stages, each followed by an exit head.

    - ``stage(k, state)``: stage k, ``[B, *state_in_shape[k]] -> [B, *state_out_shape[k]]``; stage 0 takes the
      normalised input ``[B, *config.in_shape]``.
    - ``head(k, state)``: exit k's raw logits ``[B, num_classes]`` from stage k's output.
    - ``forward(x)``: ``[head(0, s_0), .., head(K-1, s_{K-1})]`` (raw, uncombined: methods combine them); when
      ``grad_rescale`` is set and the module is training, BoostNet's gradient rescaling between stages.
    - ``state_shapes()``: per-event shape of each stage's output.

    Optional: a backbone may define ``count_stage_flops() -> list[int]`` (FLOPs per event of stage k plus head k);
    without it ``cost.stage_flops`` counts the layers it knows (Conv1d, Linear, norms, ReLU).
    """

    grad_rescale: bool
    training: bool

    @property
    def config(self) -> BackboneConfig: ...

    @property
    def num_stages(self) -> int: ...

    def stage(self, k: int, state: torch.Tensor) -> torch.Tensor: ...

    def head(self, k: int, state: torch.Tensor) -> torch.Tensor: ...

    def __call__(self, x: torch.Tensor) -> list[torch.Tensor]: ...

    def state_shapes(self) -> list[list[int]]: ...

    def parameters(self, recurse: bool = True) -> Iterator[nn.Parameter]: ...

    def modules(self) -> Iterator[nn.Module]: ...

    def train(self, mode: bool = True) -> nn.Module: ...

    def eval(self) -> nn.Module: ...
