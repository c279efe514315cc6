"""The one manifest writer (exitflow.manifest) and the typed registries (exitflow.registry)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from exitflow.cli import main
from exitflow.exits import THRESHOLD_SCORES, score_rule
from exitflow.manifest import ExitSpec, InputSpec, Manifest, StageEntry
from exitflow.registry import THRESHOLD_RULES, Combine, Method, Rule, Task, manifest_combine

REPO = Path(__file__).resolve().parents[2]
COMMITTED = sorted(
    [*REPO.glob("models/*/manifest.json"), *REPO.glob("operators/src/test/resources/bundles/*/manifest.json")]
)


def test_there_are_committed_manifests() -> None:
    assert len(COMMITTED) >= 3, COMMITTED


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.parent.name)
def test_committed_manifests_round_trip_key_for_key(path: Path) -> None:
    """What the Java runtime reads today comes back unchanged, keys in the same order."""
    text = path.read_text()
    d = json.loads(text)
    again = Manifest.from_dict(d).to_dict()
    assert json.dumps(again, indent=2) == json.dumps(d, indent=2)


def _manifest(**kw: object) -> Manifest:
    stages = [
        StageEntry.of(k, k == 1, [4] if k == 0 else [8], [8], 100 * (k + 1), {"1": 1.0, "64": 0.5}) for k in range(2)
    ]
    return Manifest(
        model_id="m",
        model_version="v",
        task=Task.FEATURES,
        classes=["a", "b"],
        input=InputSpec([4], Task.FEATURES.layout, [0.0] * 4, [1.0] * 4),
        carry_dim=1,
        stages=stages,
        exit=ExitSpec("independent", "model", "maxprob", [0.9, 0.0]),
        training={"method": "joint"},
        **kw,
    )


def test_manifest_writes_the_contract_layout(tmp_path: Path) -> None:
    m = _manifest()
    m.write(tmp_path / "manifest.json")
    text = (tmp_path / "manifest.json").read_text()
    assert text.endswith("}\n")
    d = json.loads(text)
    assert list(d) == [
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
    ]
    assert d["format_version"] == 2 and d["task"] == "features" and d["input"]["layout"] == "features"
    assert "window" not in d["input"]
    first, last = d["stages"]
    assert first["file"] == "stage0.onnx" and first["inputs"] == {"state": "state_in", "carry": "carry_in"}
    assert first["outputs"] == {"state": "state_out", "carry": "carry_out", "logits": "logits", "score": "score"}
    assert first["state_out_shape"] == [8]
    assert last["outputs"]["state"] is None and last["state_out_shape"] == []
    # Contract names are copied per stage: editing one stage's names does not edit another's.
    m.stages[0].outputs["score"] = "s0"
    assert m.stages[1].outputs["score"] == "score"


def test_manifest_keeps_optional_and_unknown_keys_in_order() -> None:
    d = _manifest(verification={"inputs": 3}, full_graph={"file": "full.onnx"}).to_dict()
    d["future_key"] = {"x": 1}
    back = Manifest.from_dict(d)
    assert back.extra == {"future_key": {"x": 1}}
    assert list(back.to_dict())[-3:] == ["verification", "full_graph", "future_key"]
    assert back.to_dict() == d


def test_manifest_from_dict_names_an_unknown_task() -> None:
    d = _manifest().to_dict()
    d["task"] = "images"
    with pytest.raises(ValueError, match=r"unknown task 'images'; use one of \('sensor-window', 'features'\)"):
        Manifest.from_dict(d)


def test_registry_names_are_plain_strings_at_the_edges() -> None:
    assert Method.names() == ("joint", "boost", "consistent", "jei", "eenet")
    assert json.dumps({Method.BOOST: [Rule.EENET, Task.FEATURES]}) == '{"boost": ["eenet", "features"]}'
    assert f"{Method.JEI}/{Rule.GATE}" == "jei/gate" and str(Task.SENSOR_WINDOW) == "sensor-window"
    assert Rule.parse("margin", "exit rule") is Rule.MARGIN and "margin" in THRESHOLD_RULES
    assert {Rule.MAXPROB: 1}.get("maxprob") == 1  # a name finds its member
    with pytest.raises(ValueError, match=r"unknown exit rule 'top5'; use one of \('maxprob', .*'eenet'\)"):
        Rule.parse("top5", "exit rule")


def test_registry_properties() -> None:
    assert [m.combine.value for m in Method] == ["independent", "boost", "independent", "independent", "independent"]
    assert [m.schedule for m in Method] == [None, None, None, Rule.GATE, Rule.EENET]
    assert [r.is_threshold for r in Rule] == [True, True, True, False, False]
    assert Task.for_shape([3, 128]) is Task.SENSOR_WINDOW and Task.for_shape([12]) is Task.FEATURES
    assert (Task.SENSOR_WINDOW.layout, Task.FEATURES.layout) == ("channels_first", "features")
    combos = {(c.value, r.value): manifest_combine(c, r) for c in Combine for r in Rule}
    assert combos[("boost", "eenet")] == "boost" and combos[("independent", "eenet")] == "eenet"
    assert combos[("independent", "gate")] == "gate" and combos[("independent", "margin")] == "independent"


def test_every_threshold_rule_has_a_score() -> None:
    assert tuple(THRESHOLD_SCORES) == THRESHOLD_RULES
    with pytest.raises(
        ValueError,
        match=r"unknown threshold rule 'gate'; use one of \('maxprob', 'entropy', "
        r"'margin'\)",
    ):
        score_rule("gate", torch.zeros(2, 3))


def test_cli_method_choices_come_from_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["build", "--task", "features", "--method", "nope", "--out", "x"])
    err = capsys.readouterr().err
    assert "invalid choice: 'nope'" in err and "'joint', 'boost', 'consistent', 'jei', 'eenet'" in err
    with pytest.raises(SystemExit):
        main(["evaluate", "--task", "features", "--methods", "joint,nope"])
    assert "unknown method 'nope'; use one of ('joint', 'boost'" in capsys.readouterr().err
