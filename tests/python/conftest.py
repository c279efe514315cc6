"""Shared fixtures: a small dataset written by the project's own Java generator (scripts/make-dataset.sh --small)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from exitflow.data import Dataset, load_dataset

REPO = Path(__file__).resolve().parents[2]

# The models are tiny: one thread is fastest and keeps the suite steady on a busy 2-core CI machine.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def small_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generates the small dataset once per session; skips only when Java/Maven is not installed."""
    if shutil.which("java") is None or shutil.which("mvn") is None:
        pytest.skip("Java and Maven are needed to run the dataset generator (scripts/make-dataset.sh)")
    out = tmp_path_factory.mktemp("dataset")
    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / "make-dataset.sh"), "--small", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=600,
    )
    assert proc.returncode == 0, f"make-dataset.sh --small failed:\n{proc.stdout}\n{proc.stderr}"
    return out


@pytest.fixture(scope="session")
def small_sensor(small_root: Path) -> Dataset:
    return load_dataset(small_root, "sensor-window")


@pytest.fixture(scope="session")
def small_features(small_root: Path) -> Dataset:
    return load_dataset(small_root, "features")
