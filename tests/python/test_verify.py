"""verify checks what the Java runtime checks at load (ManifestValidator, OnnxSignatureValidator, calibration), so a
bundle that verify passes never fails at job start."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from exitflow.cli import main
from exitflow.export import ExportError, verify_bundle

REPO = Path(__file__).resolve().parents[2]


def edited(tmp_path: Path, edit: Callable[[dict], None], name: str = "sensor-cnn", file: str = "manifest.json") -> Path:
    bundle = tmp_path / name
    shutil.copytree(REPO / "models" / name, bundle)
    doc = json.loads((bundle / file).read_text())
    edit(doc)
    (bundle / file).write_text(json.dumps(doc))
    return bundle


def test_the_committed_bundles_verify_from_the_command_line() -> None:
    bundles = sorted(str(p.parent) for p in (REPO / "models").glob("*/manifest.json"))
    assert len(bundles) >= 3
    assert main(["verify", *bundles]) == 0


def test_a_window_longer_than_the_input_fails_verify(tmp_path: Path) -> None:
    def edit(m: dict) -> None:  # window.size 128 but input shape 64
        m["input"]["shape"] = [3, 64]
        m["stages"][0]["state_in_shape"] = [3, 64]

    with pytest.raises(ExportError, match=r"input.window.size 128 must equal input.shape\[1\] 64"):
        verify_bundle(edited(tmp_path, edit))


@pytest.mark.parametrize(
    "edit,expected",
    [
        (lambda m: m.update(format_version=3), "format_version is 3, this runtime reads 1 or 2"),
        (lambda m: m["input"]["window"].update(sample_period_ms=0), "sample_period_ms must be positive"),
        (lambda m: m["input"]["window"].update(slide=0), "input.window.slide must be >= 1"),
        (lambda m: m["input"]["window"].update(max_gap_ms=5), "max_gap_ms must be finite and at least"),
        (
            lambda m: m["input"].pop("window"),
            "task 'sensor-window' needs input.layout 'channels_first' and input.window",
        ),
        (lambda m: m["input"].update(layout="rows"), "input.layout must be 'features' or 'channels_first'"),
        (lambda m: m["input"]["std"].pop(), "input.std must have 3 values"),
        (lambda m: m["input"]["std"].__setitem__(0, 1e-50), "input.std values must be positive and finite"),
        (lambda m: m.update(classes=["a", "a"]), "classes has duplicate names"),
        (lambda m: m.update(carry_dim=0), "carry_dim must be >= 1"),
        (lambda m: m["stages"][1].update(index=5), r"stages\[1\].index is 5, expected 1"),
        (lambda m: m["stages"][2].update(state_in_shape=[32, 16]), r"stages\[2\].state_in_shape \[32, 16\] must equal"),
        (
            lambda m: m["stages"][3]["outputs"].update(state="state_out"),
            "is the last stage: outputs.state must be null",
        ),
        (lambda m: m["exit"].update(score="confidence"), "exit.score must be one of"),
        (lambda m: m["exit"].update(thresholds=[0.9, 0.9, 0.9]), "exit.thresholds must have one value per stage"),
        (lambda m: m["exit"]["thresholds"].__setitem__(0, 1.0000001192092896), r"values must be in \[0, 1\]"),
    ],
)
def test_every_manifest_check_of_the_runtime(tmp_path: Path, edit, expected: str) -> None:
    with pytest.raises(ExportError, match=expected):
        verify_bundle(edited(tmp_path, edit))


def test_graph_signatures_are_checked_against_the_manifest(tmp_path: Path) -> None:
    shape = r"stage1.onnx: output tensors do not match the manifest: state_out has shape \[-1, 32, 32\]"
    with pytest.raises(ExportError, match=shape):
        verify_bundle(
            edited(
                tmp_path,
                lambda m: (
                    m["stages"][1].update(state_out_shape=[32, 33]),
                    m["stages"][2].update(state_in_shape=[32, 33]),
                ),
            )
        )
    with pytest.raises(ExportError, match="output names do not match the manifest: missing \\['probs'\\]"):
        verify_bundle(edited(tmp_path / "b", lambda m: m["stages"][0]["outputs"].update(logits="probs")))
    with pytest.raises(ExportError, match="logits has shape \\[-1, 5\\], manifest says \\[-1, 4\\]"):
        verify_bundle(edited(tmp_path / "c", lambda m: m.update(classes=m["classes"][:4])))


def test_calibration_must_cover_every_stage(tmp_path: Path) -> None:
    bundle = edited(tmp_path, lambda c: c["stages"].pop(), file="calibration.json")
    with pytest.raises(ExportError, match="calibration.json: has 3 stages, manifest has 4"):
        verify_bundle(bundle)


def test_verify_of_a_bad_bundle_is_one_line_and_code_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bundle = edited(tmp_path, lambda m: m.update(format_version=9))
    assert main(["verify", str(bundle)]) == 2
    err = capsys.readouterr().err
    assert "format_version is 9" in err and err.count("\n") == 1


def test_a_bad_full_graph_is_one_line_and_code_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bundle = edited(tmp_path, lambda m: m["full_graph"].update(file="gone.onnx"))
    assert main(["verify", str(bundle)]) == 2
    err = capsys.readouterr().err
    assert "full_graph.file 'gone.onnx' is missing" in err and err.count("\n") == 1
