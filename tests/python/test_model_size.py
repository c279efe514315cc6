"""Model size and shape options (--size s|m|l, --stages, --widths, --blocks, --kernel) and the whole-model graph."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from exitflow import cli
from exitflow.cost import stage_flops
from exitflow.export import verify_bundle
from exitflow.fullgraph import FullGraphError, add_to_bundle, check_parity, compose_stages
from exitflow.models import ModelConfig, ModelShape, MultiExitNet

REPO = Path(__file__).resolve().parents[2]
SENSOR_CNN = REPO / "models" / "sensor-cnn"


def _net(size: str = "s", **opts) -> MultiExitNet:
    return MultiExitNet(ModelConfig("cnn", [3, 128], 5, **ModelShape(size=size, **opts).resolve("cnn")))


def test_size_s_is_the_committed_sensor_cnn_shape() -> None:
    assert ModelShape().resolve("cnn") == {"widths": [16, 32, 48, 64], "blocks": 1, "kernel": 5, "hidden": 0}
    old = MultiExitNet(ModelConfig("cnn", [3, 128], 5))  # a config as checkpoints stored it before the options
    new = _net("s")
    assert {k: v.shape for k, v in old.state_dict().items()} == {k: v.shape for k, v in new.state_dict().items()}
    manifest = json.loads((SENSOR_CNN / "manifest.json").read_text())
    assert stage_flops(new) == [s["flops"] for s in manifest["stages"]]
    assert new.state_shapes()[:-1] == [s["state_out_shape"] for s in manifest["stages"][:-1]]


def test_size_l_is_a_resnet_of_about_100_mflops() -> None:
    net = _net("l")
    flops = stage_flops(net)
    assert len(flops) == 4 and 80e6 <= sum(flops) <= 130e6, flops
    assert flops[0] < 0.2 * sum(flops), "the first exit is cheap"
    assert net.config.blocks == 2 and net.config.kernel == 7 and net.config.widths == [64, 128, 192, 256]
    net.eval()
    with torch.no_grad():
        assert [tuple(o.shape) for o in net(torch.zeros(2, 3, 128))] == [(2, 5)] * 4


@pytest.mark.parametrize("opts", [{"stages": 2}, {"stages": 8}, {"widths": [8, 8, 16]}, {"blocks": 3, "kernel": 3}])
def test_shape_options_build_networks_that_run(opts: dict) -> None:
    net = _net("s", **opts)
    n = len(opts.get("widths", [])) or opts.get("stages", 4)
    assert net.num_stages == n and len(stage_flops(net)) == n
    assert min(s[-1] for s in net.state_shapes()) >= 4, "the time axis never shrinks below min_length / 2"
    net.eval()
    with torch.no_grad():
        assert len(net(torch.zeros(1, 3, 128))) == n


def test_mlp_sizes_keep_one_state_width() -> None:
    fields = ModelShape(size="m", stages=3, blocks=2).resolve("mlp")
    net = MultiExitNet(ModelConfig("mlp", [36], 5, **fields))
    assert net.num_stages == 3 and fields["widths"] == [128, 128, 128]
    assert len(stage_flops(net)) == 3


@pytest.mark.parametrize(
    "opts,message",
    [
        ({"stages": 9}, "2-8"),
        ({"stages": 1}, "2-8"),
        ({"widths": [8] * 9}, "2-8"),
        ({"kernel": 4}, "odd"),
        ({"widths": [8, 8], "stages": 3}, "--stages 3"),
        ({"size": "xl"}, "size"),
    ],
)
def test_bad_shape_options_are_refused(opts: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        shape = ModelShape(**opts)
        MultiExitNet(ModelConfig("cnn", [3, 128], 5, **shape.resolve("cnn")))


def test_cli_refuses_bad_shape_options_before_reading_data(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(
            [
                "build",
                "--task",
                "sensor-window",
                "--data",
                str(tmp_path / "none"),
                "--out",
                str(tmp_path / "b"),
                "--stages",
                "9",
            ]
        )
    assert e.value.code == 2
    assert "2-8 stages" in capsys.readouterr().err


def _without_full_graph(tmp_path: Path) -> Path:
    b = tmp_path / "sensor-cnn"
    shutil.copytree(SENSOR_CNN, b)
    (b / "full.onnx").unlink(missing_ok=True)
    m = json.loads((b / "manifest.json").read_text())
    m.pop("full_graph", None)
    (b / "manifest.json").write_text(json.dumps(m, indent=2) + "\n")
    return b


def test_full_graph_is_added_without_touching_the_stages(tmp_path: Path) -> None:
    b = _without_full_graph(tmp_path)
    before = {f.name: f.read_bytes() for f in b.glob("stage*.onnx")}
    entry = add_to_bundle(b, measure=False)
    assert {f.name: f.read_bytes() for f in b.glob("stage*.onnx")} == before
    assert entry["parity"]["max_abs_err"] <= 1e-5 and entry["parity"]["inputs"] > 256
    manifest = json.loads((b / "manifest.json").read_text())
    assert manifest["full_graph"]["file"] == "full.onnx"
    assert abs(entry["flops"] - sum(s["flops"] for s in manifest["stages"])) < 0.05 * entry["flops"]
    proto = onnx.load(str(b / "full.onnx"))
    assert [i.name for i in proto.graph.input] == ["state_in", "carry_in"]
    assert [o.name for o in proto.graph.output] == ["carry_out", "logits", "score"]
    assert sum(n.op_type == "Gemm" for n in proto.graph.node) == 1, "independent exits: only the last head is kept"
    assert verify_bundle(b)["full_graph"] is True
    # The committed bundle's graph is this same composition.
    committed = onnx.load(str(SENSOR_CNN / "full.onnx"))
    assert len(committed.graph.node) == len(proto.graph.node)


def test_parity_check_catches_a_graph_that_is_not_the_model(tmp_path: Path) -> None:
    stages = [SENSOR_CNN / f"stage{k}.onnx" for k in range(4)]
    short = tmp_path / "three-stages.onnx"
    onnx.save(compose_stages(stages[:3]), str(short))  # right names and shapes, wrong model
    x = np.random.default_rng(1).standard_normal((64, 3, 128)).astype(np.float32)
    with pytest.raises(FullGraphError, match="differs from the stage chain"):
        check_parity(short, stages, x, carry_dim=1)


def test_verify_refuses_a_bundle_whose_full_graph_is_missing(tmp_path: Path) -> None:
    b = _without_full_graph(tmp_path)
    add_to_bundle(b, measure=False)
    (b / "full.onnx").unlink()
    with pytest.raises(FullGraphError, match="full.onnx"):
        verify_bundle(b)
