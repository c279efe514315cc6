"""Your own PyTorch model as an ExitFlow bundle (docs/custom-model.md has a worked example).

A user's stages and exit heads (``nn.Module`` s, in order) become a :class:`MultiExitModel`, a backbone like the
built-in ones (:class:`~exitflow.backbone.MultiExitBackbone`), so the toolkit's own code trains, calibrates, exports
and verifies it:

- :func:`train` trains it in place with one of the toolkit's methods (joint, boost, consistent, jei, eenet) and fixes
  the default exit thresholds on the validation split, exactly as ``python -m exitflow build`` does;
- :func:`calibrate` takes an already-trained model as it is (independent exits: each head's logits as they come)
  and fixes its exit rule and thresholds on the user's validation data;
- :func:`export_bundle` writes the bundle (docs/bundle-contract.md: one ONNX graph per stage, the whole model as
  ``full.onnx``, manifest, calibration on the validation split, parity fixtures), proves ONNX Runtime reproduces
  the PyTorch model, and reads the written bundle back as the Java runtime will (``verify``). Anything wrong raises
  :class:`~exitflow.export.ExportError` naming the stage and what to change.

Data comes as a :class:`~exitflow.data.Dataset`: from a readings file (:func:`exitflow.readings.load_readings`) or
from arrays (:func:`dataset_from_arrays`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .checkpoint import Trained
from .data import DataError, Dataset, Split, WindowCut, norm_stats, normalise
from .exits import ExitModel, StageGraph
from .export import OPSET, ExportError, export_stage
from .export import export_bundle as _export_bundle
from .fullgraph import FullGraphError
from .models import MAX_STAGES, MIN_STAGES, StagedNet
from .pipeline import DEFAULT_BUDGET, DEFAULT_MAX_DROP, DEFAULT_RULE, Prepared, exit_schedule, finish, train_config
from .registry import THRESHOLD_RULES, Combine, Method, Rule, Task
from .train import METHODS, TrainConfig, train_net

PRETRAINED = "pretrained"  # training.method of a model exported as the user trained it
PRETRAINED_RULES = (*THRESHOLD_RULES, Rule.EENET)


class ModelError(ValueError):
    """The stages and heads cannot form a multi-exit model; the message names the stage or head and what to fix."""


@dataclass
class CustomConfig:
    """The :class:`~exitflow.backbone.BackboneConfig` of a user's model: one event's shape without the batch axis
    (``[channels, time]`` for sensor windows, ``[features]`` for feature vectors) and the class count."""

    in_shape: list[int]
    num_classes: int
    kind: str = "custom"

    def to_dict(self) -> dict:
        return asdict(self)


class MultiExitModel(StagedNet):
    """A user's stages and exit heads as one multi-exit backbone.

    Stage k maps ``[B, *state_k]`` to ``[B, *state_{k+1}]`` (stage 0 takes the normalised input
    ``[B, *input_shape]``); head k maps stage k's output to logits ``[B, len(classes)]``. Both must work for any
    batch size and be traceable by ``torch.onnx.export`` at opset 17 (no Python branches on tensor values, no fixed
    batch size in ``view``/``reshape``: use ``x.flatten(1)``). The modules are used, and trained, in place.

    ``mean`` and ``std`` (one value per channel, or per feature) are the normalisation the stages expect, which the
    runtime applies before stage 0 (``(x - mean) / std``): give the ones a pre-trained model was trained with. Left
    out, :func:`train` takes them from the training split and a pre-trained model gets raw input (mean 0, std 1).
    """

    def __init__(
        self,
        stages: Sequence[nn.Module],
        heads: Sequence[nn.Module],
        input_shape: Sequence[int],
        classes: Sequence[str],
        mean: Sequence[float] | np.ndarray | None = None,
        std: Sequence[float] | np.ndarray | None = None,
    ) -> None:
        super().__init__()
        shape = _check_shape(input_shape)
        names = _check_classes(classes)
        if len(stages) != len(heads):
            raise ModelError(f"{len(stages)} stages but {len(heads)} exit heads: give one head per stage, in order")
        if not MIN_STAGES <= len(stages) <= MAX_STAGES:
            raise ModelError(f"{len(stages)} stages; a model has {MIN_STAGES}-{MAX_STAGES}")
        for what, mods in (("stage", stages), ("head", heads)):
            for k, m in enumerate(mods):
                if not isinstance(m, nn.Module):
                    raise ModelError(f"{what} {k} is a {type(m).__name__}, not a torch.nn.Module")
        self.stages = nn.ModuleList(stages)
        self.heads = nn.ModuleList(heads)
        self.config = CustomConfig(in_shape=shape, num_classes=len(names))
        self.classes = names
        self.grad_rescale = False
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        if (mean is None) != (std is None):
            raise ModelError("give both mean and std (the normalisation the stages expect), or neither")
        if mean is not None and std is not None:
            self.set_normalisation(mean, std)
        self._dry_run()

    @classmethod
    def from_modules(
        cls,
        stages: Sequence[nn.Module],
        heads: Sequence[nn.Module],
        input_shape: Sequence[int],
        classes: Sequence[str],
        mean: Sequence[float] | np.ndarray | None = None,
        std: Sequence[float] | np.ndarray | None = None,
    ) -> MultiExitModel:
        """The model of ``stages`` and ``heads`` (see the class); raises :class:`ModelError` when a stage or head
        fails on a batch of two inputs of ``input_shape`` or a head's output is not ``[B, len(classes)]``."""
        return cls(stages, heads, input_shape, classes, mean, std)

    @property
    def task(self) -> Task:
        """``sensor-window`` for a ``[channels, time]`` input, ``features`` for a ``[features]`` one."""
        return Task.for_shape(self.config.in_shape)

    def set_normalisation(self, mean: Sequence[float] | np.ndarray, std: Sequence[float] | np.ndarray) -> None:
        """Sets the per-channel (per-feature) ``mean`` and ``std`` the stages expect their input normalised with."""
        n = self.config.in_shape[0]
        m, s = np.asarray(mean, np.float32).reshape(-1), np.asarray(std, np.float32).reshape(-1)
        unit = self.task.unit
        if m.size != n or s.size != n:
            raise ModelError(f"mean and std need {n} values (one per {unit}), got {m.size} and {s.size}")
        if not (np.isfinite(m).all() and np.isfinite(s).all() and (s > 0).all()):
            raise ModelError(f"mean must be finite and std positive and finite, got mean {m.tolist()} std {s.tolist()}")
        self.mean, self.std = m, s

    def normalisation(self) -> tuple[np.ndarray, np.ndarray]:
        """The ``(mean, std)`` the stages expect; mean 0 and std 1 (raw input) when none was set."""
        n = self.config.in_shape[0]
        if self.mean is None or self.std is None:
            return np.zeros(n, np.float32), np.ones(n, np.float32)
        return self.mean, self.std

    def count_stage_flops(self) -> list[int]:
        """FLOPs per event of stage k plus head k, counted by ``torch.utils.flop_counter`` (2 per multiply-add of
        matrix products and convolutions; element-wise work is not counted). At least 1 per stage, so cost shares
        stay defined for a stage of no such work."""
        from torch.utils.flop_counter import FlopCounterMode

        counts = []
        was = self.training
        self.eval()
        try:
            with torch.no_grad():
                h = torch.zeros(1, *self.config.in_shape)
                for k in range(self.num_stages):
                    with FlopCounterMode(display=False) as fc:
                        h = self.stage(k, h)
                        self.head(k, h)
                    counts.append(max(1, int(fc.get_total_flops())))
        finally:
            self.train(was)
        return counts

    def _dry_run(self) -> None:
        """Runs a batch of two through every stage and head (eval mode) and checks what comes out."""
        was = self.training
        self.eval()
        gen = torch.Generator().manual_seed(0)
        h = torch.randn(2, *self.config.in_shape, generator=gen)
        c = self.config.num_classes
        try:
            with torch.no_grad():
                for k in range(self.num_stages):
                    shape_in = list(h.shape[1:])
                    try:
                        h = self.stage(k, h)
                    except Exception as e:  # the user's module: say which one, keep the cause
                        raise ModelError(
                            f"stage {k} fails on a batch of 2 inputs of shape {shape_in}: {type(e).__name__}: {e}"
                        ) from e
                    if not isinstance(h, torch.Tensor) or not h.is_floating_point() or h.dim() < 2 or h.shape[0] != 2:
                        got = (
                            f"a {h.dtype} tensor of shape {list(h.shape)}"
                            if isinstance(h, torch.Tensor)
                            else f"a {type(h).__name__}"
                        )
                        raise ModelError(
                            f"stage {k} must return one float tensor [B, ...] (its state for the next "
                            f"stage and its head), got {got} for B=2"
                        )
                    try:
                        z = self.head(k, h)
                    except Exception as e:
                        raise ModelError(
                            f"head {k} fails on stage {k}'s output of shape {list(h.shape[1:])}: "
                            f"{type(e).__name__}: {e}"
                        ) from e
                    if not isinstance(z, torch.Tensor) or list(z.shape) != [2, c]:
                        got = str(list(z.shape)) if isinstance(z, torch.Tensor) else type(z).__name__
                        raise ModelError(f"head {k} must return logits [B, {c}] (one per class), got {got} for B=2")
        finally:
            self.train(was)


def _check_shape(input_shape: Sequence[int]) -> list[int]:
    shape = [int(d) for d in input_shape] if isinstance(input_shape, (list, tuple)) else []
    if len(shape) not in (1, 2) or any(d < 1 for d in shape) or any(int(d) != d for d in input_shape):
        raise ModelError(
            f"input_shape must be [channels, time] (sensor windows) or [features], positive, without "
            f"the batch axis; got {input_shape!r}"
        )
    return shape


def _check_classes(classes: Sequence[str]) -> list[str]:
    names = list(classes) if isinstance(classes, (list, tuple)) else []
    if len(names) < 2 or any(not isinstance(n, str) or not n.strip() for n in names):
        raise ModelError(f"classes must name at least 2 classes, in the order of the logits; got {classes!r}")
    if len(set(names)) != len(names):
        raise ModelError(f"classes has duplicate names: {names}")
    return names


def dataset_from_arrays(
    classes: Sequence[str],
    val: tuple[np.ndarray, np.ndarray],
    train: tuple[np.ndarray, np.ndarray] | None = None,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    window: WindowCut | None = None,
    source: str = "arrays",
) -> Dataset:
    """A :class:`~exitflow.data.Dataset` from ``(x, y)`` arrays per split: ``x`` raw (un-normalised) inputs
    ``[N, channels, time]`` or ``[N, features]``, ``y`` class indexes ``[N]`` into ``classes`` or class names.

    ``val`` calibrates the exits (and validates training); ``train`` is needed only by :func:`train`; ``test``
    (default: ``val``) gives the bundle's metrics, parity inputs and fixtures. Sensor windows (3-d ``x``) need
    ``window``: how they were cut (size = time length, slide in readings, sample period and max gap in ms), which
    the anomaly job uses to cut the live stream the same way; ``exitflow.readings.default_max_gap(period)`` is the
    job's default max gap. Raises :class:`~exitflow.data.DataError` on mismatched arrays."""
    names = _check_classes(classes)
    splits: dict[str, Split] = {}
    shape: tuple[int, ...] | None = None
    for name, pair in (("train", train), ("val", val), ("test", test)):
        if pair is None:
            continue
        x, y = np.asarray(pair[0], np.float32), np.asarray(pair[1])
        if x.ndim not in (2, 3) or x.shape[0] == 0:
            raise DataError(f"{name}: x must be [N, channels, time] or [N, features] with N >= 1, got {list(x.shape)}")
        if shape is not None and x.shape[1:] != shape:
            raise DataError(f"{name}: inputs of shape {list(x.shape[1:])}, other splits have {list(shape)}")
        shape = x.shape[1:]
        if y.shape != (x.shape[0],):
            raise DataError(f"{name}: y must have one label per input ({x.shape[0]}), got shape {list(y.shape)}")
        if y.dtype.kind in "USO":
            unknown = sorted(set(map(str, y)) - set(names))
            if unknown:
                raise DataError(f"{name}: labels {unknown[:5]} are not in classes {names}")
            y = np.asarray([names.index(str(v)) for v in y], np.int64)
        elif y.dtype.kind in "iu":
            if y.size and (y.min() < 0 or y.max() >= len(names)):
                raise DataError(
                    f"{name}: class indexes must be in 0..{len(names) - 1}, got {int(y.min())}..{int(y.max())}"
                )
            y = y.astype(np.int64)
        else:
            raise DataError(f"{name}: y must be class indexes (integers) or class names, got dtype {y.dtype}")
        if not np.isfinite(x).all():
            first = int(np.flatnonzero(~np.isfinite(x).reshape(len(x), -1).all(axis=1))[0])
            raise DataError(f"{name}: x has NaN or infinite values (first at input {first})")
        splits[name] = Split(x, y, np.arange(x.shape[0]).astype(str))
    assert shape is not None
    task = Task.for_shape(shape)
    if task is Task.SENSOR_WINDOW:
        if window is None:
            raise DataError(
                "sensor windows need window=WindowCut(size, slide, sample_period_ms, max_gap_ms): how "
                "they were cut, which the job cuts the stream with"
            )
        if window.size != shape[1]:
            raise DataError(f"window.size {window.size} differs from the windows' length {shape[1]}")
    elif window is not None:
        raise DataError("window is for sensor windows ([N, channels, time]); feature vectors have none")
    empty = Split(np.zeros((0, *shape), np.float32), np.zeros(0, np.int64), np.zeros(0, str))
    return Dataset(task, splits.get("train", empty), splits["val"], splits.get("test", empty), names, source, window)


def _check_data(model: MultiExitModel, data: Dataset, need_train: bool) -> None:
    """Raises DataError when ``data`` does not fit ``model`` (classes, task, input shape, splits, window)."""
    if not isinstance(data, Dataset):
        raise DataError(
            f"data must be an exitflow.data.Dataset (load_readings or dataset_from_arrays), got {type(data).__name__}"
        )
    if list(data.classes) != model.classes:
        raise DataError(
            f"the data's classes {list(data.classes)} differ from the model's {model.classes}: give "
            f"both the same names in the order of the logits (ReadingsConfig.classes fixes the data's)"
        )
    if data.task != model.task:
        raise DataError(
            f"the data is for task {data.task!r}, the model's input {model.config.in_shape} is for {model.task!r}"
        )
    for name in ("train", "val", "test"):
        s = data.split(name)
        if len(s) and list(s.x.shape[1:]) != model.config.in_shape:
            raise DataError(f"{name} inputs have shape {list(s.x.shape[1:])}, the model takes {model.config.in_shape}")
    if len(data.val) == 0:
        raise DataError("the validation split is empty: exits are calibrated on it")
    if need_train and len(data.train) < 2:
        raise DataError(f"the training split has {len(data.train)} inputs; training needs at least 2")
    if data.task is Task.SENSOR_WINDOW and data.window is None:
        raise DataError(
            "sensor windows need the cut they were made with (Dataset.window): load them with "
            "load_readings or pass window= to dataset_from_arrays"
        )


def _prepared(data: Dataset, mean: np.ndarray, std: np.ndarray) -> tuple[Prepared, str]:
    """Normalised splits; the test split falls back to validation when the data has none (returned: its name)."""
    test_split = "test" if len(data.test) else "val"
    x = {"train": normalise(data.train.x, mean, std), "val": normalise(data.val.x, mean, std)}
    x["test"] = normalise(data.split(test_split).x, mean, std)
    y = {"train": data.train.y, "val": data.val.y, "test": data.split(test_split).y}
    return Prepared(mean, std, x, y), test_split


def _training_dict(model: MultiExitModel, data: Dataset, method: Method | str, seed: int, test_split: str) -> dict:
    d: dict = {
        "method": method,
        "seed": seed,
        "model": "custom",
        "dataset": data.source,
        "params": sum(p.numel() for p in model.parameters()),
    }
    if method != PRETRAINED:
        d[f"train_{data.task.event_noun}"] = int(len(data.train))
    if test_split != "test":
        d["metrics_split"] = test_split  # no test split given: the metrics below are on validation
    return d


def train(
    model: MultiExitModel,
    data: Dataset,
    method: Method | str = Method.JOINT,
    *,
    rule: Rule | str = DEFAULT_RULE,
    budget: float = DEFAULT_BUDGET,
    max_drop: float = DEFAULT_MAX_DROP,
    **options,
) -> Trained:
    """Trains ``model`` in place by ``method`` (one of ``exitflow.train.METHODS``) on ``data.train``, then fixes its
    exit rule and default thresholds on ``data.val`` as ``python -m exitflow build`` does.

    ``rule`` (joint/boost/consistent): the exit score, ``maxprob``, ``entropy`` or ``margin``. ``budget``: share of
    full-depth FLOPs the default thresholds must fit on validation (EENet: its schedule's budget). ``max_drop``: the
    cheapest setting within this validation accuracy of the best one is taken. ``options``: any field of
    :class:`~exitflow.train.TrainConfig` (``epochs``, ``batch_size``, ``lr``, ``seed``, ...). Inputs are normalised
    by the model's ``mean``/``std`` when set, else by the training split's per-channel statistics (which the model
    then keeps). Returns the :class:`~exitflow.checkpoint.Trained` model for :func:`export_bundle`."""
    _check_model(model)
    _check_data(model, data, need_train=True)
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {METHODS}")
    schedule = exit_schedule(method, rule)
    known = {f.name for f in fields(TrainConfig)} - {"method"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"unknown training options {unknown}; TrainConfig has {sorted(known)}")
    cfg = train_config(data.task, method=method, **options)
    if model.mean is None:
        model.set_normalisation(*norm_stats(data.train))
    p, test_split = _prepared(data, *model.normalisation())
    torch.manual_seed(cfg.seed)
    exit_model = train_net(model, cfg, p.x["train"], p.y["train"], p.x["val"], p.y["val"])
    training = _training_dict(model, data, method, cfg.seed, test_split)
    training["epochs"] = cfg.epochs
    training["config"] = asdict(cfg)
    return finish(exit_model, data, p, schedule, budget, max_drop, cfg.seed, training)


def calibrate(
    model: MultiExitModel,
    data: Dataset,
    rule: Rule | str = DEFAULT_RULE,
    budget: float = DEFAULT_BUDGET,
    max_drop: float = DEFAULT_MAX_DROP,
    seed: int = 7,
) -> Trained:
    """An already-trained ``model``, unchanged, with its exit rule and default thresholds fixed on ``data.val``.

    Exits are independent (each head's logits as the head gives them). ``rule``: ``maxprob``, ``entropy`` or
    ``margin`` (thresholds from the validation sweep, as for built-in models: the cheapest setting within
    ``max_drop`` of the best accuracy that fits ``budget`` of full-depth FLOPs), or ``eenet`` (an EENet scheduler
    fitted on the validation outputs for ``budget``). Inputs are normalised by the model's ``mean``/``std`` (raw when
    none were given). No training data is needed."""
    _check_model(model)
    _check_data(model, data, need_train=False)
    if rule not in PRETRAINED_RULES:
        raise ValueError(
            f"rule {rule!r}: a pre-trained model takes one of {PRETRAINED_RULES} (jei gates are trained "
            f"with the backbone: use train(model, data, 'jei'))"
        )
    p, test_split = _prepared(data, *model.normalisation())
    exit_model = ExitModel(model, PRETRAINED, Combine.INDEPENDENT, rule if rule in THRESHOLD_RULES else DEFAULT_RULE)
    training = _training_dict(model, data, PRETRAINED, seed, test_split)
    return finish(exit_model, data, p, rule, budget, max_drop, seed, training)


def export_bundle(
    model: Trained | MultiExitModel,
    out_dir: Path | str,
    data: Dataset,
    *,
    model_id: str | None = None,
    rule: Rule | str | None = None,
    budget: float | None = None,
    max_drop: float | None = None,
    measure: bool = True,
    fixture_count: int = 32,
    verify_count: int = 512,
) -> dict:
    """Writes a verified bundle of ``model`` to ``out_dir`` (replaced only once the new bundle is verified) and
    returns its manifest.

    ``model``: what :func:`train` returned, or a pre-trained :class:`MultiExitModel`, which is first calibrated on
    ``data.val`` (:func:`calibrate` with ``rule``, ``budget``, ``max_drop``). The bundle's calibration.json holds
    every exported stage's outputs on ``data.val``; parity (ONNX Runtime against PyTorch, max abs error 1e-4, same
    exits) is checked on up to ``verify_count`` inputs of ``data.test`` (else ``data.val``), of which
    ``fixture_count`` become fixtures.json for the Java parity tests. ``measure``: time each stage with ONNX Runtime
    (``cost_us_per_event``; zeros when off). ``model_id`` defaults to the folder name.

    Raises :class:`~exitflow.export.ExportError` naming the stage when a stage cannot be exported to ONNX or ONNX
    Runtime does not reproduce it, and :class:`~exitflow.data.DataError` when ``data`` does not fit the model."""
    if isinstance(model, MultiExitModel):
        trained = calibrate(
            model,
            data,
            rule or DEFAULT_RULE,
            DEFAULT_BUDGET if budget is None else budget,
            DEFAULT_MAX_DROP if max_drop is None else max_drop,
        )
    elif isinstance(model, Trained):
        if rule is not None or budget is not None or max_drop is not None:
            raise ValueError("rule, budget and max_drop were fixed when the model was trained: pass them to train()")
        if not isinstance(model.model.net, MultiExitModel):
            raise ValueError(
                "export_bundle is for a MultiExitModel; export a built-in model with exitflow.export.export_bundle"
            )
        trained = model
    else:
        raise ValueError(f"model must be a MultiExitModel or what train() returned, got {type(model).__name__}")
    _check_data(trained.model.net, data, need_train=False)  # type: ignore[arg-type]
    out = Path(out_dir)
    test = data.test if len(data.test) else data.val
    try:
        return _export_bundle(
            trained,
            out,
            model_id or out.name,
            data.val,
            test,
            fixture_count=fixture_count,
            verify_count=verify_count,
            measure=measure,
            report=None,
        )
    except (ExportError, FullGraphError):
        raise
    except Exception as e:  # torch.onnx or ONNX Runtime on the user's modules: find the stage and say what breaks
        raise ExportError(_diagnose(trained, e)) from e


def _check_model(model: object) -> None:
    if not isinstance(model, MultiExitModel):
        raise ValueError(
            f"model must be a MultiExitModel (MultiExitModel.from_modules(stages, heads, ...)), got "
            f"{type(model).__name__}"
        )


def _diagnose(trained: Trained, cause: Exception) -> str:
    """Exports the stages one by one into a scratch folder and checks them against the stage contract: the first
    stage that cannot be exported, or what the contract check finds, names what to change."""
    from .stagecheck import check_stage_files

    m = trained.model
    m.eval()
    in_shape = list(m.net.config.in_shape)
    state_in = [in_shape] + m.net.state_shapes()[:-1]
    first = f"{type(cause).__name__}: {' '.join(str(cause).split())}"
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for k in range(m.num_stages):
            path = Path(tmp) / f"stage{k}.onnx"
            try:
                export_stage(StageGraph(m, k), state_in[k], m.carry_dim, path)
            except Exception as e:
                return (
                    f"stage {k} (with head {k}) cannot be exported to ONNX opset {OPSET}: {type(e).__name__}: "
                    f"{' '.join(str(e).split())[:600]} (torch.onnx.export traces the modules: use operators it "
                    f"exports, and no Python branches on tensor values)"
                )
            files.append(path)
        reports = check_stage_files(files, input_shape=in_shape, num_classes=m.num_classes, carry_dim=m.carry_dim)
    problems = [f"stage{r.index}.onnx: {p}" for r in reports for p in r.problems]
    if problems:
        return (
            "the exported stages break the bundle contract: "
            + "; ".join(problems[:6])
            + " (a module that fixes the batch size, e.g. x.view(2, -1) or torch.zeros(2, ...), breaks other "
            f"batch sizes: use x.flatten(1), x.new_zeros(x.shape[0], ...)); first error: {first[:400]}"
        )
    return f"export failed: {first[:800]}"
