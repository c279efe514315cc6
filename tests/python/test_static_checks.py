"""Lint and type checks of the toolkit, run with the tests (configuration: pyproject.toml [tool.ruff], [tool.mypy])."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _tool(name: str) -> str:
    """The tool beside this interpreter (the venv's), else on PATH; skips when the test extra is not installed."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.is_file() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed: pip install -e .[test]")
    return found


def _run(*args: str) -> None:
    proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{' '.join(args)} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"


def test_ruff_finds_nothing() -> None:
    _run(_tool("ruff"), "check", "src", "tests/python")


def test_code_is_formatted() -> None:
    """``ruff format src tests/python`` has been applied (run it to fix this test)."""
    _run(_tool("ruff"), "format", "--check", "src", "tests/python")


def test_mypy_finds_nothing() -> None:
    # The cache beside the venv outlives a fresh checkout: a cold run reads torch's stubs for about 20 s of CPU, a warm
    # one about 1 s.
    cache = Path(sys.prefix) / ".mypy_cache"
    args = ["--cache-dir", str(cache)] if os.access(sys.prefix, os.W_OK) else []
    _run(_tool("mypy"), *args, "src/exitflow")
