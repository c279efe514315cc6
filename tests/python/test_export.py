"""Export round trip: the ONNX stages reproduce PyTorch (1e-4) and the same exits, for every carry layout."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest

from exitflow.checkpoint import Trained
from exitflow.cost import stage_flops
from exitflow.export import ExportError, export_bundle, verify_bundle
from exitflow.pipeline import attach_eenet, model_config, prepare
from exitflow.train import TrainConfig, train


def _trained(ds, method: str, rule: str, eenet: bool = False) -> Trained:
    p = prepare(ds)
    model = train(
        model_config(ds, [8, 16, 16, 16] if ds.task == "sensor-window" else None),
        TrainConfig(method=method, epochs=1, batch_size=64),
        p.x["train"],
        p.y["train"],
        p.x["val"],
        p.y["val"],
    )
    k = model.num_stages
    if eenet:
        flops = stage_flops(model.net)
        thresholds = attach_eenet(model, p, flops, 0.6 * sum(flops))
    elif method == "jei":
        thresholds = [0.5] * (k - 1) + [0.0]
    else:
        model.rule = rule
        thresholds = [0.7, 0.6, 0.5, 0.0]
    return Trained(model, ds.task, ds.classes, p.mean, p.std, thresholds, {"method": method}, ds.window)


@pytest.mark.parametrize(
    "method,rule,eenet",
    [("boost", "maxprob", False), ("joint", "entropy", False), ("jei", "gate", False), ("boost", "eenet", True)],
)
def test_sensor_export_round_trip(small_sensor, tmp_path: Path, method: str, rule: str, eenet: bool) -> None:
    t = _trained(small_sensor, method, rule, eenet)
    out = tmp_path / "bundle"
    manifest = export_bundle(t, out, "sensor-test", small_sensor.val, small_sensor.test, measure=False)
    assert manifest["verification"]["max_abs_err"] <= 1e-4
    expected_carry = {"boost": 5, "joint": 1, "jei": 1}[method] + (4 if eenet else 0)
    assert manifest["carry_dim"] == expected_carry
    assert manifest["exit"]["rule"] == rule
    for s in manifest["stages"]:
        proto = onnx.load(str(out / s["file"]))
        assert proto.opset_import[0].version == 17 and proto.ir_version <= 10
        names = [o.name for o in proto.graph.output]
        last = s["index"] == len(manifest["stages"]) - 1
        assert names == (["carry_out", "logits", "score"] if last else ["state_out", "carry_out", "logits", "score"])
        assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    fixtures = json.loads((out / "fixtures.json").read_text())
    assert len(fixtures["inputs"]) >= 24
    assert verify_bundle(out)["fixtures"] == len(fixtures["inputs"])
    calib = json.loads((out / "calibration.json").read_text())
    assert len(calib["labels"]) == len(small_sensor.val) and len(calib["stages"]) == 4


def test_features_export_measures_cost(small_features, tmp_path: Path) -> None:
    t = _trained(small_features, "joint", "margin")
    manifest = export_bundle(t, tmp_path / "b", "features-test", small_features.val, small_features.test)
    for s in manifest["stages"]:
        assert set(s["cost_us_per_event"]) == {"1", "8", "64", "256"}
        assert all(v > 0 for v in s["cost_us_per_event"].values())
        assert s["flops"] > 0


def test_tampered_bundle_fails_verification(small_features, tmp_path: Path) -> None:
    t = _trained(small_features, "boost", "maxprob")
    out = tmp_path / "b"
    export_bundle(t, out, "features-test", small_features.val, small_features.test, measure=False)
    fx = json.loads((out / "fixtures.json").read_text())
    fx["stages"][1]["logits"][0][0] += 0.01
    (out / "fixtures.json").write_text(json.dumps(fx))
    with pytest.raises(ExportError, match="stage 1 logits"):
        verify_bundle(out)


def test_export_that_disagrees_with_pytorch_fails_and_keeps_the_old_bundle(
    small_features, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import exitflow.export as export

    t = _trained(small_features, "boost", "maxprob")
    out = tmp_path / "b"
    export_bundle(t, out, "features-test", small_features.val, small_features.test, measure=False)
    before = (out / "manifest.json").read_text()
    real = export.ort_stage_outputs

    def off_by_a_little(files, x, carry_dim):  # an exporter bug: stage 2's logits drift by 1e-3
        outs = real(files, x, carry_dim)
        outs[2]["logits"] = outs[2]["logits"] + 1e-3
        return outs

    monkeypatch.setattr(export, "ort_stage_outputs", off_by_a_little)
    with pytest.raises(ExportError, match="stage 2 logits: ORT differs from PyTorch"):
        export_bundle(t, out, "features-test", small_features.val, small_features.test, measure=False)
    assert (out / "manifest.json").read_text() == before
    assert not (tmp_path / "b.tmp").exists()
