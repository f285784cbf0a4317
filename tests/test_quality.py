"""Lint, types and architecture are part of the suite: ruff, mypy --strict and the import-linter contracts."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize(
    "args", [("check", "rathaus", "tests", "bench"), ("format", "--check", "rathaus", "tests", "bench")]
)
def test_ruff(args: tuple[str, ...]) -> None:
    ruff = shutil.which("ruff", path=str(BIN)) or "ruff"
    result = run(ruff, *args)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict() -> None:
    result = run(str(BIN / "python"), "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_architecture_contracts() -> None:
    """The import-linter contracts in pyproject.toml: one-way layers, no domain imports notify or the base."""
    result = run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
