"""manifest.json as a dataclass: the one writer of the bundle manifest (docs/bundle-contract.md).

``export.py`` fills it from a trained model; the operators' tiny test bundle
(``operators/src/test/resources/make_tiny_bundle.py``) fills it by hand. ``to_dict`` gives the JSON object with the
contract's keys in the contract's order, which the Java runtime reads (``Manifest.java``, ``ManifestValidator.java``);
``from_dict`` reads one back (unknown top-level keys are kept, after the known ones), so
``Manifest.from_dict(d).to_dict() == d`` for every manifest the toolkit writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .registry import Task

FORMAT_VERSION = 2  # 2: input.window.sample_period_ms is a real number, input.window.max_gap_ms added
STAGE_INPUTS = {"state": "state_in", "carry": "carry_in"}  # the stage contract's tensor names
STAGE_OUTPUTS = {"state": "state_out", "carry": "carry_out", "logits": "logits", "score": "score"}


@dataclass
class StageEntry:
    """One entry of ``stages``: stage ``index``'s file, tensor names, per-event shapes (without the batch axis),
    FLOPs per event (a multiply-add counts 2) and ORT CPU cost in microseconds per event by batch size."""

    index: int
    file: str
    inputs: dict[str, str]
    outputs: dict[str, str | None]
    state_in_shape: list[int]
    state_out_shape: list[int]  # [] on the last stage
    flops: int
    cost_us_per_event: dict[str, float]

    @classmethod
    def of(
        cls,
        index: int,
        last: bool,
        state_in_shape: list[int],
        state_out_shape: list[int],
        flops: int,
        cost_us_per_event: dict[str, float],
    ) -> StageEntry:
        """Stage ``index`` under the stage contract: ``stage<index>.onnx`` with the contract's tensor names; the last
        stage has no ``state`` output and an empty ``state_out_shape``."""
        outputs: dict[str, str | None] = dict(STAGE_OUTPUTS)
        if last:
            outputs["state"] = None
        return cls(
            index,
            f"stage{index}.onnx",
            dict(STAGE_INPUTS),
            outputs,
            list(state_in_shape),
            [] if last else list(state_out_shape),
            int(flops),
            cost_us_per_event,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "file": self.file,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "state_in_shape": self.state_in_shape,
            "state_out_shape": self.state_out_shape,
            "flops": self.flops,
            "cost_us_per_event": self.cost_us_per_event,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StageEntry:
        return cls(
            d["index"],
            d["file"],
            d["inputs"],
            d["outputs"],
            d["state_in_shape"],
            d["state_out_shape"],
            d["flops"],
            d["cost_us_per_event"],
        )


@dataclass
class InputSpec:
    """``input``: one event's shape, layout, the normalisation the runtime applies (one mean and std per channel or
    feature) and, for sensor windows, how windows are cut (``data.WindowCut.to_manifest``)."""

    shape: list[int]
    layout: str  # channels_first | features (Task.layout)
    mean: list[float]
    std: list[float]
    window: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"shape": self.shape, "layout": self.layout, "mean": self.mean, "std": self.std}
        if self.window is not None:
            d["window"] = self.window
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InputSpec:
        return cls(d["shape"], d["layout"], d["mean"], d["std"], d.get("window"))


@dataclass
class ExitSpec:
    """``exit``: how stages combine (informational), where scores come from (``model`` or a rule the runtime
    computes), what the model's score is, and the default thresholds (one per stage, the last 0 by convention)."""

    combine: str  # independent | boost | eenet | gate (registry.manifest_combine)
    score: str  # model | maxprob | entropy | margin
    rule: str  # maxprob | entropy | margin | gate | eenet (registry.Rule)
    thresholds: list[float]

    def to_dict(self) -> dict[str, Any]:
        return {"combine": self.combine, "score": self.score, "rule": self.rule, "thresholds": self.thresholds}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExitSpec:
        return cls(d["combine"], d["score"], d["rule"], d["thresholds"])


_KEYS = (
    "format_version",
    "model_id",
    "model_version",
    "task",
    "classes",
    "input",
    "carry_dim",
    "stages",
    "exit",
    "training",
    "verification",
    "full_graph",
)


@dataclass
class Manifest:
    """The whole manifest.json. ``verification`` (the export's ORT-vs-PyTorch parity) and ``full_graph``
    (``fullgraph.add_full_graph``) are left out of the JSON when None; ``extra`` holds keys this version does not
    know, written after the known ones."""

    model_id: str
    model_version: str
    task: Task
    classes: list[str]
    input: InputSpec
    carry_dim: int
    stages: list[StageEntry]
    exit: ExitSpec
    training: dict[str, Any]
    verification: dict[str, Any] | None = None
    full_graph: dict[str, Any] | None = None
    format_version: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, keys in the contract's order."""
        d: dict[str, Any] = {
            "format_version": self.format_version,
            "model_id": self.model_id,
            "model_version": self.model_version,
            "task": str(self.task.value),
            "classes": self.classes,
            "input": self.input.to_dict(),
            "carry_dim": self.carry_dim,
            "stages": [s.to_dict() for s in self.stages],
            "exit": self.exit.to_dict(),
            "training": self.training,
        }
        if self.verification is not None:
            d["verification"] = self.verification
        if self.full_graph is not None:
            d["full_graph"] = self.full_graph
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Manifest:
        """A manifest read back; raises KeyError naming a missing key, ValueError for an unknown task."""
        return cls(
            model_id=d["model_id"],
            model_version=d["model_version"],
            task=Task.parse(d["task"], "task"),
            classes=d["classes"],
            input=InputSpec.from_dict(d["input"]),
            carry_dim=d["carry_dim"],
            stages=[StageEntry.from_dict(s) for s in d["stages"]],
            exit=ExitSpec.from_dict(d["exit"]),
            training=d["training"],
            verification=d.get("verification"),
            full_graph=d.get("full_graph"),
            format_version=d["format_version"],
            extra={k: v for k, v in d.items() if k not in _KEYS},
        )

    def to_json(self) -> str:
        """The file's text: indented by 2, with a final newline."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def write(self, path: Path) -> None:
        Path(path).write_text(self.to_json())

    @classmethod
    def read(cls, path: Path) -> Manifest:
        return cls.from_dict(json.loads(Path(path).read_text()))
