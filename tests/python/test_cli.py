"""The documented command line: build prints training progress and leaves a bundle that verifies."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from exitflow.cli import main


def test_build_and_verify_from_the_command_line(small_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "features-mlp"
    assert main(["build", "--data", str(small_root), "--task", "features", "--method", "boost", "--epochs", "2",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "[train] epoch 1/2" in printed and "[train] epoch 2/2" in printed  # progress while training
    assert "[export]" in printed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model_id"] == "features-mlp" and manifest["training"]["method"] == "boost"
    assert main(["verify", str(out)]) == 0


def test_missing_dataset_is_a_clear_error(tmp_path: Path) -> None:
    from exitflow.data import DataError

    with pytest.raises(DataError, match="make-dataset.sh"):
        main(["build", "--data", str(tmp_path), "--task", "features", "--out", str(tmp_path / "b")])
