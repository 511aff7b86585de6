"""Host-layer checks against the real A1111 ``modules`` (skipped unless A1111_DIR is set).

The checks live in ``host_checks.py`` and run inside A1111's own interpreter (``A1111_PYTHON``, by default
the ``venv`` beside or inside A1111_DIR), because the project's environment lacks A1111's dependencies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
A1111_DIR = os.environ.get("A1111_DIR", "")


def _python() -> str | None:
    explicit = os.environ.get("A1111_PYTHON")
    if explicit:
        return explicit
    root = Path(A1111_DIR)
    for candidate in (root / "venv" / "bin" / "python", root.parent / "venv" / "bin" / "python"):
        if candidate.exists():
            return str(candidate)
    return None


def _check_names() -> list[str]:
    text = (HERE / "host_checks.py").read_text(encoding="utf-8")
    return [line.split("(")[0][4:] for line in text.splitlines() if line.startswith("def check_")]


pytestmark = [
    pytest.mark.a1111,
    pytest.mark.skipif(not A1111_DIR, reason="A1111_DIR is not set: no A1111 checkout to test the host layer against"),
]


@cache
def _results() -> dict[str, dict]:
    python = _python()
    if python is None:
        pytest.skip(f"no A1111 Python found for {A1111_DIR} (set A1111_PYTHON)")
    proc = subprocess.run(
        [python, str(HERE / "host_checks.py"), A1111_DIR],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    results = {}
    for line in proc.stdout.splitlines():
        if line.startswith("SMOOTHIE-CHECK "):
            item = json.loads(line[len("SMOOTHIE-CHECK ") :])
            results[item["check"]] = item
    if not results:
        pytest.fail(f"host checks did not run (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return results


@pytest.mark.parametrize("name", _check_names())
def test_host(name):
    result = _results().get(name)
    assert result is not None, f"{name} did not report"
    if not result["ok"]:
        sys.stderr.write(result["error"])
    assert result["ok"], result.get("error")
