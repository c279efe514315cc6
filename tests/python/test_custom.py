"""A user's own PyTorch model (exitflow.custom): trained with the toolkit's methods or exported as trained, as verified
bundles; and user-made stage ONNX files checked against the stage contract (exitflow.stagecheck, check-stages)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper
from torch import nn

from exitflow import cli, custom
from exitflow.backbone import MultiExitBackbone
from exitflow.data import DataError, WindowCut, normalise
from exitflow.export import ExportError, verify_bundle
from exitflow.models import ModelConfig, MultiExitNet
from exitflow.stagecheck import check_stage_files

REPO = Path(__file__).resolve().parents[2]
CLASSES = ["idle", "walk", "run"]
WINDOW = WindowCut(size=32, slide=8, sample_period_ms=20.0, max_gap_ms=62.0)


def easy_windows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows [n, 2, 32] whose first channel's level gives the class (learnable in a few epochs), off-centre so
    normalisation matters."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(CLASSES), n)
    x = rng.standard_normal((n, 2, 32)).astype(np.float32) * 0.3 + 5.0
    x[:, 0, :] += 1.5 * y[:, None]
    return x, y


@pytest.fixture(scope="module")
def windows():
    return custom.dataset_from_arrays(
        CLASSES,
        train=easy_windows(192, 1),
        val=easy_windows(64, 2),
        test=easy_windows(64, 3),
        window=WINDOW,
        source="easy windows",
    )


def conv_model(seed: int = 0) -> custom.MultiExitModel:
    """Three nn.Sequential stages and their heads, as a user would write them."""
    torch.manual_seed(seed)
    stages = [
        nn.Sequential(nn.Conv1d(2, 8, 5, padding=2), nn.BatchNorm1d(8), nn.ReLU()),
        nn.Sequential(nn.Conv1d(8, 12, 3, stride=2, padding=1), nn.ReLU()),
        nn.Sequential(nn.Conv1d(12, 16, 3, stride=2, padding=1), nn.ReLU()),
    ]
    heads = [nn.Sequential(nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(c, len(CLASSES))) for c in (8, 12, 16)]
    return custom.MultiExitModel.from_modules(stages=stages, heads=heads, input_shape=[2, 32], classes=CLASSES)


def test_built_in_and_user_models_satisfy_one_backbone_protocol() -> None:
    assert isinstance(MultiExitNet(ModelConfig("cnn", [2, 32], 3)), MultiExitBackbone)
    model = conv_model()
    assert isinstance(model, MultiExitBackbone)
    assert model.num_stages == 3 and model.state_shapes() == [[8, 32], [12, 16], [16, 8]]
    flops = model.count_stage_flops()
    assert flops[0] == 2 * 2 * 5 * 8 * 32 + 2 * 8 * 3  # conv multiply-adds + head, 2 per multiply-add
    assert all(f > 0 for f in flops)


@pytest.mark.parametrize("method,carry_dim,combine", [("boost", 3, "boost"), ("jei", 1, "gate")])
def test_user_model_trained_with_a_method_exports_a_verified_bundle(
    windows, tmp_path: Path, method: str, carry_dim: int, combine: str
) -> None:
    model = conv_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trained = custom.train(model, windows, method, epochs=20, batch_size=32, seed=3)
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items()), "the user's modules trained"
    # Normalised by the training split, as built-in models are (the stages learnt on normalised windows).
    np.testing.assert_allclose(model.mean, windows.train.x.mean(axis=(0, 2)), rtol=1e-4)
    metrics = trained.training["metrics"]
    assert metrics["test_accuracy_per_exit"][-1] >= 0.8, metrics  # 3 classes: chance is 1/3

    out = tmp_path / "my-model"
    manifest = custom.export_bundle(trained, out, windows, measure=False)
    assert manifest["model_id"] == "my-model" and manifest["classes"] == CLASSES
    assert manifest["training"]["method"] == method and manifest["training"]["model"] == "custom"
    assert manifest["carry_dim"] == carry_dim and manifest["exit"]["combine"] == combine
    assert [s["state_in_shape"] for s in manifest["stages"]] == [[2, 32], [8, 32], [12, 16]]
    assert manifest["input"]["window"] == WINDOW.to_manifest()
    assert manifest["full_graph"]["file"] == "full.onnx" and (out / "full.onnx").is_file()
    assert manifest["verification"]["max_abs_err"] <= 1e-4
    calibration = json.loads((out / "calibration.json").read_text())
    assert calibration["labels"] == windows.val.y.tolist()  # calibrated on the user's validation split
    assert verify_bundle(out) == {"fixtures": 32, "stages": 3, "full_graph": True}
    assert cli.main(["verify", str(out)]) == 0
    assert all(r.ok for r in check_stage_files(sorted(out.glob("stage*.onnx"))))


def mlp_model(features: int = 6, seed: int = 0) -> custom.MultiExitModel:
    torch.manual_seed(seed)
    stages = [nn.Sequential(nn.Linear(features, 16), nn.ReLU()), nn.Sequential(nn.Linear(16, 16), nn.Tanh())]
    heads = [nn.Linear(16, 2), nn.Sequential(nn.LayerNorm(16), nn.Linear(16, 2))]
    return custom.MultiExitModel.from_modules(
        stages, heads, input_shape=[features], classes=["ok", "fault"], mean=[10.0] * features, std=[2.0] * features
    )


@pytest.mark.parametrize("rule,carry_dim", [("entropy", 1), ("eenet", 2)])
def test_pre_trained_model_is_exported_as_it_is(tmp_path: Path, rule: str, carry_dim: int) -> None:
    rng = np.random.default_rng(5)
    x = (10.0 + 2.0 * rng.standard_normal((80, 6))).astype(np.float32)
    labels = np.where(x[:, 0] > 10.0, "fault", "ok")
    data = custom.dataset_from_arrays(["ok", "fault"], val=(x[:50], labels[:50]), test=(x[50:], labels[50:]))
    model = mlp_model()
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    manifest = custom.export_bundle(model, tmp_path / "pre", data, rule=rule, measure=False)
    assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items()), "no training"
    assert manifest["task"] == "features" and manifest["input"]["mean"] == [10.0] * 6
    assert manifest["input"]["std"] == [2.0] * 6
    assert manifest["training"]["method"] == "pretrained" and "train_events" not in manifest["training"]
    assert manifest["exit"]["rule"] == rule and manifest["carry_dim"] == carry_dim
    # The bundle's answers are the user's heads on (x - mean) / std: calibration holds ORT's per-stage classes.
    calibration = json.loads((tmp_path / "pre" / "calibration.json").read_text())
    model.eval()
    with torch.no_grad():
        logits = model(torch.as_tensor(normalise(x[:50], np.full(6, 10, np.float32), np.full(6, 2, np.float32))))
    assert [s["pred"] for s in calibration["stages"]] == [z.argmax(-1).tolist() for z in logits]
    assert verify_bundle(tmp_path / "pre")["stages"] == 2


class FixesTheBatch(nn.Module):
    """Works in PyTorch at any batch size, but int() bakes the traced batch size (2) into the ONNX graph."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(int(x.shape[0]), -1)


class CumMax(nn.Module):
    """An operator torch.onnx cannot export at opset 17."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cummax(x, dim=1).values


@pytest.mark.parametrize(
    "bad,message",
    [
        (FixesTheBatch(), r"the exported stages break the bundle contract: stage1\.onnx: .*batch of 1"),
        (CumMax(), r"stage 1 \(with head 1\) cannot be exported to ONNX opset 17: .*cummax"),
    ],
)
def test_export_names_the_stage_onnx_cannot_take(tmp_path: Path, bad: nn.Module, message: str) -> None:
    stages = [nn.Linear(4, 8), nn.Sequential(bad, nn.Linear(8, 8))]
    heads = [nn.Linear(8, 2), nn.Linear(8, 2)]
    model = custom.MultiExitModel.from_modules(stages, heads, [4], ["a", "b"])
    x = np.random.default_rng(0).standard_normal((40, 4)).astype(np.float32)
    data = custom.dataset_from_arrays(["a", "b"], val=(x, (x[:, 0] > 0).astype(int)))
    with pytest.raises(ExportError, match=message):
        custom.export_bundle(model, tmp_path / "bad", data, measure=False)
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize(
    "build,message",
    [
        (
            lambda: custom.MultiExitModel.from_modules([nn.Linear(4, 4)] * 2, [nn.Linear(4, 2)], [4], ["a", "b"]),
            "2 stages but 1 exit heads",
        ),
        (
            lambda: custom.MultiExitModel.from_modules([nn.Linear(4, 4)], [nn.Linear(4, 2)], [4], ["a", "b"]),
            "1 stages; a model has 2-8",
        ),
        (
            lambda: custom.MultiExitModel.from_modules([nn.Linear(4, 4)] * 2, [nn.Linear(4, 3)] * 2, [4], ["a", "b"]),
            r"head 0 must return logits \[B, 2\] \(one per class\), got \[2, 3\]",
        ),
        (
            lambda: custom.MultiExitModel.from_modules([nn.Linear(5, 4)] * 2, [nn.Linear(4, 2)] * 2, [4], ["a", "b"]),
            r"stage 0 fails on a batch of 2 inputs of shape \[4\]",
        ),
        (
            lambda: custom.MultiExitModel.from_modules(
                [nn.Linear(4, 4)] * 2, [nn.Linear(4, 2)] * 2, [4, 8, 8], ["a", "b"]
            ),
            "input_shape must be",
        ),
        (
            lambda: custom.MultiExitModel.from_modules([nn.Linear(4, 4)] * 2, [nn.Linear(4, 2)] * 2, [4], ["a", "a"]),
            "duplicate",
        ),
        (
            lambda: custom.MultiExitModel.from_modules(
                [nn.Linear(4, 4)] * 2, [nn.Linear(4, 2)] * 2, [4], ["a", "b"], mean=[0.0] * 4, std=[1.0, 1.0, 0.0, 1.0]
            ),
            "std positive",
        ),
    ],
)
def test_stages_and_heads_that_cannot_form_a_model_are_refused(build, message: str) -> None:
    with pytest.raises(custom.ModelError, match=message):
        build()


def test_data_that_does_not_fit_the_model_is_refused(windows) -> None:
    model = conv_model()
    other = custom.dataset_from_arrays(["idle", "run", "walk"], val=easy_windows(8, 4), window=WINDOW)
    with pytest.raises(DataError, match="classes .* differ from the model's"):
        custom.calibrate(model, other)
    with pytest.raises(DataError, match="training split has 0 inputs"):
        custom.train(model, custom.dataset_from_arrays(CLASSES, val=easy_windows(8, 4), window=WINDOW))
    with pytest.raises(DataError, match="sensor windows need window="):
        custom.dataset_from_arrays(CLASSES, val=easy_windows(8, 4))
    with pytest.raises(DataError, match=r"labels \['jog'\] are not in classes"):
        custom.dataset_from_arrays(CLASSES, val=(easy_windows(2, 4)[0], np.array(["run", "jog"])), window=WINDOW)
    with pytest.raises(ValueError, match=r"unknown training options \['epoch'\]"):
        custom.train(model, windows, "joint", epoch=3)
    with pytest.raises(ValueError, match="unknown method"):
        custom.train(model, windows, "distill")


# --- user-made stage ONNX files -------------------------------------------------------------------------------------


def stage_file(
    path: Path,
    last: bool,
    d_in: int = 4,
    d_out: int = 4,
    classes: int = 3,
    carry: int = 1,
    opset: int = 17,
    batch: str | int = "B",
    rename: dict[str, str] | None = None,
    score_rank2: bool = False,
    raw_score: bool = False,
    carry_type: int = TensorProto.FLOAT,
    carry_out_dim: int | None = None,
    custom_op: bool = False,
    declared_in: int | None = None,
) -> Path:
    """A small stage graph under the contract (state_in [B, d_in] -> MatMul -> state_out [B, d_out]; logits, score
    = sigmoid, carry passed through), with one knob per kind of contract break."""
    rng = np.random.default_rng(0)
    names = {n: n for n in ("state_in", "carry_in", "state_out", "carry_out", "logits", "score")}
    names.update(rename or {})
    init = [
        helper.make_tensor("w", TensorProto.FLOAT, [d_in, d_out], rng.standard_normal(d_in * d_out).tolist()),
        helper.make_tensor("wc", TensorProto.FLOAT, [d_out, classes], rng.standard_normal(d_out * classes).tolist()),
        helper.make_tensor(
            "ws", TensorProto.FLOAT, [d_out] + ([1] if score_rank2 else []), rng.standard_normal(d_out).tolist()
        ),
    ]
    h = "state_out" if not last else "h"
    nodes = [
        helper.make_node("MatMul", [names["state_in"], "w"], [names["state_out"] if not last else h]),
        helper.make_node("MatMul", [names["state_out"] if not last else h, "wc"], [names["logits"]]),
        helper.make_node(
            "MatMul", [names["state_out"] if not last else h, "ws"], ["z" if not raw_score else names["score"]]
        ),
    ]
    if not raw_score:
        nodes.append(helper.make_node("Sigmoid", ["z"], [names["score"]]))
    if carry_out_dim is not None:
        init.append(helper.make_tensor("wk", TensorProto.FLOAT, [carry, carry_out_dim], [1.0] * carry * carry_out_dim))
        nodes.append(helper.make_node("MatMul", [names["carry_in"], "wk"], [names["carry_out"]]))
    elif carry_type != TensorProto.FLOAT:
        nodes.append(helper.make_node("Cast", [names["carry_in"]], [names["carry_out"]], to=TensorProto.FLOAT))
    else:
        nodes.append(helper.make_node("Identity", [names["carry_in"]], [names["carry_out"]]))
    if custom_op:
        nodes.append(helper.make_node("Fancy", [names["logits"]], ["unused"], domain="my.ops"))
    b = batch
    inputs = [
        helper.make_tensor_value_info(names["state_in"], TensorProto.FLOAT, [b, declared_in or d_in]),
        helper.make_tensor_value_info(names["carry_in"], carry_type, [b, carry]),
    ]
    outputs = [
        helper.make_tensor_value_info(names["carry_out"], TensorProto.FLOAT, [b, carry_out_dim or carry]),
        helper.make_tensor_value_info(names["logits"], TensorProto.FLOAT, [b, classes]),
        helper.make_tensor_value_info(names["score"], TensorProto.FLOAT, [b] + ([1] if score_rank2 else [])),
    ]
    if not last:
        outputs.insert(0, helper.make_tensor_value_info(names["state_out"], TensorProto.FLOAT, [b, d_out]))
    imports = [helper.make_opsetid("", opset)] + ([helper.make_opsetid("my.ops", 1)] if custom_op else [])
    model = helper.make_model(
        helper.make_graph(nodes, "stage", inputs, outputs, init), opset_imports=imports, ir_version=8
    )
    onnx.save(model, str(path))
    return path


def three_stages(folder: Path, broken: int | None = None, **knobs) -> list[Path]:
    """stage0..stage2.onnx under the contract, stage ``broken`` built with ``knobs``."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        stage_file(folder / f"stage{k}.onnx", **{"last": k == 2, **(knobs if k == broken else {})}) for k in range(3)
    ]


def test_stage_files_under_the_contract_pass(tmp_path: Path) -> None:
    reports = check_stage_files(three_stages(tmp_path), input_shape=[4], num_classes=3, carry_dim=1)
    assert [r.problems for r in reports] == [[], [], []]
    assert all(r.ran for r in reports)
    assert "state_in [B, 4] -> state_out [B, 4], carry 1, 3 classes, opset 17" in reports[0].summary()


@pytest.mark.parametrize(
    "broken,knobs,message",
    [
        (
            1,
            {"rename": {"state_in": "input"}},
            r"inputs must be \['state_in', 'carry_in'\]: missing \['state_in'\], "
            r"unexpected \['input'\]",
        ),
        (0, {"rename": {"logits": "output"}}, r"outputs must be .*missing \['logits'\], unexpected \['output'\]"),
        (0, {"last": True}, r"missing \['state_out'\].*every stage but the last passes state_out"),
        (2, {"last": False}, r"unexpected \['state_out'\] \(the last stage has no state_out\)"),
        (1, {"carry_type": TensorProto.INT64}, "carry_in is int64, the contract needs float32"),
        (0, {"batch": 1}, "state_in fixes the batch axis to 1: the runtime batches events"),
        (2, {"score_rank2": True}, r"score has shape \[B, 1\], the contract needs \[B\]"),
        (1, {"opset": 16}, "opset 16: the runtime .* runs opset 17-21"),
        (1, {"opset": 22}, "opset 22: the runtime .* runs opset 17-21"),
        (1, {"custom_op": True}, "domain 'my.ops' need a custom-operator library"),
        (
            1,
            {"d_in": 5},
            r"state_in is \[B, 5\] but stage 0's state_out is \[B, 4\]: stage 1 must take what stage 0 gives",
        ),
        (1, {"carry_out_dim": 2}, r"carry_out is \[B, 2\] but the carried vector has 1 values"),
        (2, {"classes": 4}, r"logits is \[B, 4\] but the model has 3 classes"),
        (1, {"raw_score": True}, r"score ranges .*; the contract needs \[0, 1\]"),
        (
            1,
            {"d_in": 5, "declared_in": -1},
            r"ONNX Runtime fails on a batch of 1 \(stage 0's outputs: state_in \[1, 4\]",
        ),
    ],
)
def test_each_contract_break_is_named_in_its_file(tmp_path: Path, broken: int, knobs: dict, message: str) -> None:
    if knobs.get("declared_in") == -1:
        knobs["declared_in"] = "n"  # a symbolic dim: only running the chain shows 4 values do not fit 5
    files = three_stages(tmp_path, broken, **knobs)
    reports = check_stage_files(files)
    assert [bool(r.problems) for r in reports] == [k == broken for k in range(3)], [r.problems for r in reports]
    assert any(re.search(message, p) for p in reports[broken].problems), reports[broken].problems


def test_check_stages_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good"
    three_stages(good)
    assert cli.main(["check-stages", str(good)]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok (") == 3
    assert cli.main(["check-stages", str(good), "--input-shape", "6"]) == 2
    cap = capsys.readouterr()
    assert "stage0.onnx: 1 problem" in cap.out and "the model input is [B, 6]" in cap.out
    assert "1 of 3 stage files break the stage contract" in cap.err
    gap = tmp_path / "gap"
    three_stages(gap)
    (gap / "stage1.onnx").unlink()
    assert cli.main(["check-stages", str(gap)]) == 2
    assert "stage1.onnx is missing" in capsys.readouterr().err
    assert cli.main(["check-stages", str(gap / "stage0.onnx"), str(gap / "stage2.onnx")]) == 0  # files in order


def test_the_worked_example_in_the_docs_runs(tmp_path: Path) -> None:
    """docs/custom-model.md's code, as a user copies it (epochs cut to keep CI short)."""
    text = (REPO / "docs" / "custom-model.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "docs/custom-model.md has no python example"
    code, cut = re.subn(r"^epochs = \d+$", "epochs = 3", "\n".join(blocks), flags=re.M)
    assert cut == 1, "the example sets its epochs in one line: epochs = N"
    script = tmp_path / "example.py"
    script.write_text(code)
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    bundles = sorted(p.parent for p in tmp_path.rglob("manifest.json"))
    assert len(bundles) >= 2, bundles
    for b in bundles:
        assert verify_bundle(b)["full_graph"]
    assert cli.main(["check-stages", str(bundles[0])]) == 0
