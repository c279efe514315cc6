"""Multi-exit backbones: a list of stages, each followed by an exit head.

Both networks expose the same interface so training, evaluation and export never care which one they
hold: ``stage(k, state) -> state``, ``head(k, state) -> logits`` and ``forward(x) -> [f_0 .. f_{K-1}]``
(raw, uncombined exit logits; methods combine them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from .backbone import BackboneConfig


class _GradScale(torch.autograd.Function):
    """Identity forward, gradient multiplied by ``scale`` backward (BoostNet's gradient rescaling)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad * ctx.scale, None


def grad_scale(x: torch.Tensor, scale: float) -> torch.Tensor:
    return _GradScale.apply(x, scale)


@dataclass
class ModelConfig:
    """A backbone's shape. Fields added after the first bundles default to the shape those bundles have, so an
    older checkpoint's config builds the same network."""

    kind: str  # "cnn" or "mlp"
    in_shape: list[int]
    num_classes: int
    widths: list[int] = field(default_factory=lambda: [16, 32, 48, 64])  # one per stage: the stage count
    dropout: float = 0.1
    hidden: int = 0  # mlp: hidden width inside each residual block (0 = twice the state width)
    blocks: int = 1  # residual blocks per stage
    kernel: int = 5  # cnn: kernel size of the residual blocks' convolutions (odd)
    stem_kernel: int = 7  # cnn: kernel of stage 0's strided input convolution
    min_length: int = 8  # cnn: a stage halves the time axis only while the result keeps at least this many steps

    def to_dict(self) -> dict:
        return asdict(self)

    def validate(self) -> None:
        """Raises ``ValueError`` naming the setting to change."""
        if not MIN_STAGES <= len(self.widths) <= MAX_STAGES:
            raise ValueError(f"{len(self.widths)} stages (widths {self.widths}); a model has {MIN_STAGES}-{MAX_STAGES}")
        if any(w < 1 for w in self.widths):
            raise ValueError(f"widths must be positive, got {self.widths}")
        if self.blocks < 1:
            raise ValueError(f"blocks per stage must be >= 1, got {self.blocks}")
        if self.kind == "cnn" and (self.kernel < 1 or self.kernel % 2 == 0):
            raise ValueError(f"kernel size must be odd and positive (same-length convolutions), got {self.kernel}")


MIN_STAGES, MAX_STAGES = 2, 8


@dataclass(frozen=True)
class SizePreset:
    """A named shape: widths interpolated linearly from ``first`` to ``last`` over the stages."""

    first: int
    last: int
    blocks: int
    kernel: int
    hidden: int = 0


# Per model kind. cnn "s" is the shape of models/sensor-cnn (16-32-48-64, one block of kernel 5 per stage, about
# 2.2 MFLOPs per 3x128 window); cnn "l" is a production-size 1D ResNet (64-128-192-256, two blocks of kernel 7 per
# stage, about 100 MFLOPs per 3x128 window: the size of the residual baselines for time-series classification).
SIZE_PRESETS: dict[str, dict[str, SizePreset]] = {
    "cnn": {"s": SizePreset(16, 64, 1, 5), "m": SizePreset(32, 128, 1, 5), "l": SizePreset(64, 256, 2, 7)},
    "mlp": {"s": SizePreset(64, 64, 1, 0), "m": SizePreset(128, 128, 1, 0), "l": SizePreset(256, 256, 2, 0)},
}
DEFAULT_SIZE = "s"
DEFAULT_STAGES = 4


@dataclass
class ModelShape:
    """Shape options as a user gives them (``--size``, ``--stages``, ``--widths``, ``--blocks``, ``--kernel``);
    ``None`` takes the preset's value."""

    size: str = DEFAULT_SIZE
    stages: int | None = None
    widths: list[int] | None = None
    blocks: int | None = None
    kernel: int | None = None

    def resolve(self, kind: str) -> dict:
        """ModelConfig fields (widths, blocks, kernel, hidden) for a model kind; raises ValueError on bad options."""
        presets = SIZE_PRESETS[kind]
        if self.size not in presets:
            raise ValueError(f"unknown size {self.size!r}; use one of {sorted(presets)}")
        p = presets[self.size]
        if self.widths:
            if self.stages is not None and self.stages != len(self.widths):
                raise ValueError(f"--stages {self.stages} but --widths gives {len(self.widths)} widths")
            widths = list(self.widths)
        else:
            n = DEFAULT_STAGES if self.stages is None else self.stages
            if not MIN_STAGES <= n <= MAX_STAGES:
                raise ValueError(f"--stages {n}: a model has {MIN_STAGES}-{MAX_STAGES} stages")
            # Linear from first to last, rounded to multiples of 8 (s: 16-32-48-64 at four stages).
            widths = [max(8, int(round((p.first + (p.last - p.first) * i / (n - 1)) / 8.0)) * 8) for i in range(n)]
        return {
            "widths": widths,
            "blocks": self.blocks or p.blocks,
            "kernel": (self.kernel or p.kernel) if kind == "cnn" else 5,
            "hidden": p.hidden,
        }


class ResBlock1d(nn.Module):
    """Pre-activation-free residual block: conv-bn-relu-conv-bn plus a (strided 1x1) shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int, kernel: int = 5) -> None:
        super().__init__()
        pad = kernel // 2
        self.conv1 = nn.Conv1d(c_in, c_out, kernel, stride=stride, padding=pad, bias=False)
        self.bn1 = nn.BatchNorm1d(c_out)
        self.conv2 = nn.Conv1d(c_out, c_out, kernel, padding=pad, bias=False)
        self.bn2 = nn.BatchNorm1d(c_out)
        self.short: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.short = nn.Sequential(nn.Conv1d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm1d(c_out))
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.act(y + self.short(x))


class ResidualMlpBlock(nn.Module):
    """Pre-norm residual block: ``x + W2 drop(relu(W1 LayerNorm(x)))``.

    The output projection starts at zero, so a new block is the identity: a deeper stage begins as a copy of
    the state before it and only moves away from it where that helps, instead of having to relearn it.
    """

    def __init__(self, dim: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.ReLU()
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, dim)
        nn.init.zeros_(self.fc2.weight)
        nn.init.zeros_(self.fc2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(self.drop(self.act(self.fc1(self.norm(x)))))


class ConvHead(nn.Module):
    """Exit head: global average and max pooling over time, then a linear classifier."""

    def __init__(self, channels: int, num_classes: int, dropout: float) -> None:
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(2 * channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.mean(dim=2), x.amax(dim=2)], dim=1)
        return self.fc(self.drop(pooled))


class StagedNet(nn.Module):
    """The stage/head plumbing every backbone shares (``backbone.MultiExitBackbone``): a subclass sets ``config``,
    ``stages`` and ``heads`` (one exit head per stage) and ``grad_rescale``."""

    config: BackboneConfig
    stages: nn.ModuleList
    heads: nn.ModuleList
    grad_rescale: bool

    @property
    def num_stages(self) -> int:
        return len(self.stages)

    def stage(self, k: int, state: torch.Tensor) -> torch.Tensor:
        return self.stages[k](state)

    def head(self, k: int, state: torch.Tensor) -> torch.Tensor:
        return self.heads[k](state)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs: list[torch.Tensor] = []
        n = self.num_stages
        h = x
        for k in range(n):
            h = self.stage(k, h)
            if self.grad_rescale and self.training:
                # BoostNet: the head sees 1/(N-k) of its gradient and the trunk (N-k-1)/(N-k), so each
                # stage gets the average, not the sum, of the losses behind it.
                outs.append(self.head(k, grad_scale(h, 1.0 / (n - k))))
                h = grad_scale(h, (n - k - 1) / (n - k))
            else:
                outs.append(self.head(k, h))
        return outs

    def state_shapes(self) -> list[list[int]]:
        """Per-event shape of each stage's output (the next stage's ``state_in``)."""
        shapes = []
        with torch.no_grad():
            was = self.training
            self.eval()
            h = torch.zeros(1, *self.config.in_shape)
            for k in range(self.num_stages):
                h = self.stage(k, h)
                shapes.append(list(h.shape[1:]))
            self.train(was)
        return shapes


class MultiExitNet(StagedNet):
    """Stages + heads. ``grad_rescale`` turns on BoostNet's backward rescaling of each stage's output."""

    config: ModelConfig

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.grad_rescale = False
        config.validate()
        if config.kind == "cnn":
            stages, heads = self._cnn(config)
        elif config.kind == "mlp":
            stages, heads = self._mlp(config)
        else:
            raise ValueError(f"unknown model kind {config.kind!r}; use 'cnn' or 'mlp'")
        self.stages = nn.ModuleList(stages)
        self.heads = nn.ModuleList(heads)

    @staticmethod
    def _cnn(cfg: ModelConfig) -> tuple[list[nn.Module], list[nn.Module]]:
        c_in = cfg.in_shape[0]
        w = cfg.widths
        k = cfg.kernel
        sk = cfg.stem_kernel
        length = (cfg.in_shape[1] + 2 * (sk // 2) - sk) // 2 + 1  # after the stride-2 stem
        stages: list[nn.Module] = [
            nn.Sequential(
                nn.Conv1d(c_in, w[0], sk, stride=2, padding=sk // 2, bias=False),
                nn.BatchNorm1d(w[0]),
                nn.ReLU(),
                *[ResBlock1d(w[0], w[0], 1, k) for _ in range(cfg.blocks)],
            )
        ]
        for i in range(1, len(w)):
            stride = 2 if (length + 1) // 2 >= cfg.min_length else 1
            length = (length + 1) // 2 if stride == 2 else length
            stages.append(
                nn.Sequential(
                    ResBlock1d(w[i - 1], w[i], stride, k),
                    *[ResBlock1d(w[i], w[i], 1, k) for _ in range(cfg.blocks - 1)],
                )
                if cfg.blocks > 1
                else ResBlock1d(w[i - 1], w[i], stride, k)
            )
        heads: list[nn.Module] = [ConvHead(c, cfg.num_classes, cfg.dropout) for c in w]
        return stages, heads

    @staticmethod
    def _mlp(cfg: ModelConfig) -> tuple[list[nn.Module], list[nn.Module]]:
        """Residual MLP: stage 0 embeds the features and refines them once, every later stage adds one residual
        block to the same state (state_{k+1} = state_k + f_k(state_k)), so depth can only refine what the stage
        before computed. The state keeps one width; heads read it through their own LayerNorm."""
        if len(set(cfg.widths)) != 1:
            raise ValueError(f"mlp widths must all be equal (one residual state width), got {cfg.widths}")
        d = cfg.widths[0]
        hidden = cfg.hidden or 2 * d
        stages: list[nn.Module] = [
            nn.Sequential(
                nn.Linear(cfg.in_shape[0], d), *[ResidualMlpBlock(d, hidden, cfg.dropout) for _ in range(cfg.blocks)]
            )
        ]
        stages += [
            ResidualMlpBlock(d, hidden, cfg.dropout)
            if cfg.blocks == 1
            else nn.Sequential(*[ResidualMlpBlock(d, hidden, cfg.dropout) for _ in range(cfg.blocks)])
            for _ in cfg.widths[1:]
        ]
        heads: list[nn.Module] = [
            nn.Sequential(nn.LayerNorm(d), nn.Dropout(cfg.dropout), nn.Linear(d, cfg.num_classes)) for _ in cfg.widths
        ]
        return stages, heads


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
