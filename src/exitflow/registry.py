"""The toolkit's named choices, one enum each: task, training method, exit rule and exit combination.

Names are plain strings only at the edges (command line, JSON, checkpoints): there they are parsed into these
enums (``Task.parse(text)``) and written back as their ``value``. Each member is also a ``str`` equal to its
name, so it serialises to JSON as that string and compares equal to it.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

_N = TypeVar("_N", bound="Name")


class Name(str, Enum):
    """A choice whose ``str``, format and repr are its bare name (``'boost'``), as messages and JSON show it."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)

    def __repr__(self) -> str:
        return repr(str(self.value))

    def __hash__(self) -> int:  # as its name's: a plain string finds the member in a dict or set, as ``==`` does
        return hash(str(self.value))

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every member's name, in declaration order (argparse ``choices``, messages)."""
        return tuple(str(m.value) for m in cls)

    @classmethod
    def parse(cls: type[_N], value: object, what: str) -> _N:
        """``value`` as a member; raises ValueError ``unknown <what> 'x'; use one of (...)`` for any other value."""
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown {what} {value!r}; use one of {cls.names()}") from None


class Task(Name):
    """What one event is: a sensor window ``[channels, time]`` or a feature vector ``[features]``."""

    SENSOR_WINDOW = "sensor-window"
    FEATURES = "features"

    @classmethod
    def for_shape(cls, in_shape: list[int] | tuple[int, ...]) -> Task:
        """The task of an event shape without the batch axis: 2-d is a window, anything else a feature vector."""
        return cls.SENSOR_WINDOW if len(in_shape) == 2 else cls.FEATURES

    @property
    def layout(self) -> str:
        """The manifest's ``input.layout``."""
        return "channels_first" if self is Task.SENSOR_WINDOW else "features"

    @property
    def model_kind(self) -> str:
        """The built-in backbone family (``models.ModelConfig.kind``): ``cnn`` for windows, ``mlp`` for vectors."""
        return "cnn" if self is Task.SENSOR_WINDOW else "mlp"

    @property
    def short(self) -> str:
        """``sensor`` or ``features``: dataset folders and evaluation report names."""
        return "sensor" if self is Task.SENSOR_WINDOW else "features"

    @property
    def event_noun(self) -> str:
        """``windows`` or ``events``: the ``train_<noun>`` count in a manifest's ``training``."""
        return "windows" if self is Task.SENSOR_WINDOW else "events"

    @property
    def unit(self) -> str:
        """What one value of ``input.mean`` stands for: a ``channel`` or a ``feature``."""
        return "channel" if self is Task.SENSOR_WINDOW else "feature"


class Combine(Name):
    """How exit logits combine: each head on its own, or BoostNet's running sum F_k = f_k + w * F_{k-1}."""

    INDEPENDENT = "independent"
    BOOST = "boost"


class Rule(Name):
    """What a stage's ``score`` output is. Threshold rules are computed from the exit's logits; ``gate`` is a JEI
    gate's probability and ``eenet`` an EENet scheduler's q_k (both answer 1 on the last stage)."""

    MAXPROB = "maxprob"
    ENTROPY = "entropy"
    MARGIN = "margin"
    GATE = "gate"
    EENET = "eenet"

    @property
    def is_threshold(self) -> bool:
        """True for the rules computed from logits alone (``maxprob``, ``entropy``, ``margin``)."""
        return self in THRESHOLD_RULES


THRESHOLD_RULES: tuple[Rule, ...] = (Rule.MAXPROB, Rule.ENTROPY, Rule.MARGIN)


class Method(Name):
    """How the backbone is trained (``train.py``); ``eenet`` trains jointly and fits its scheduler afterwards."""

    JOINT = "joint"
    BOOST = "boost"
    CONSISTENT = "consistent"
    JEI = "jei"
    EENET = "eenet"

    @property
    def combine(self) -> Combine:
        """The combination the method trains for: BoostNet's running sum for ``boost``, independent heads else."""
        return Combine.BOOST if self is Method.BOOST else Combine.INDEPENDENT

    @property
    def schedule(self) -> Rule | None:
        """The exit rule the method fixes (``jei``: its gates; ``eenet``: its scheduler); None: a threshold rule of
        the caller's choice."""
        return {Method.JEI: Rule.GATE, Method.EENET: Rule.EENET}.get(self)


def manifest_combine(combine: Combine, rule: Rule) -> str:
    """The manifest's informational ``exit.combine``: ``boost`` | ``eenet`` | ``gate`` | ``independent``."""
    if combine is Combine.BOOST:
        return "boost"
    if rule in (Rule.EENET, Rule.GATE):
        return str(rule.value)
    return "independent"
