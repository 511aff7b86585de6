"""Host-layer checks against a real WebUI's ``modules`` (skipped unless A1111_DIR, FORGE_DIR or REFORGE_DIR is set).

The checks live in ``host_checks.py`` and run inside the host's own interpreter (``<HOST>_PYTHON``, by default
the ``venv`` beside or inside the host's folder), because the project's environment lacks the host's
dependencies. Each host given is checked; a check that does not apply to a host is skipped with the reason.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from tests.hosts import HOSTS, HostKind

HERE = Path(__file__).resolve().parent


def _check_names() -> list[str]:
    text = (HERE / "host_checks.py").read_text(encoding="utf-8")
    return [line.split("(")[0][4:] for line in text.splitlines() if line.startswith("def check_")]


@cache
def _results(kind: HostKind) -> dict[str, dict]:
    try:
        found = kind.locate_dir()
    except Exception as exc:  # set but unusable: a broken setup, not a skip
        pytest.fail(str(exc))
    if found is None:
        pytest.skip(f"{kind.env_dir} is not set: {kind.setup_help}")
    host_dir, python = found
    proc = subprocess.run(
        [str(python), str(HERE / "host_checks.py"), str(host_dir)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=kind.check_env(),
    )
    results = {}
    for line in proc.stdout.splitlines():
        if line.startswith("SMOOTHIE-CHECK "):
            item = json.loads(line[len("SMOOTHIE-CHECK ") :])
            results[item["check"]] = item
    if not results:
        pytest.fail(f"host checks did not run (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return results


@pytest.mark.parametrize("kind", HOSTS, ids=[k.key for k in HOSTS])
@pytest.mark.parametrize("name", _check_names())
def test_host(kind, name):
    result = _results(kind).get(name)
    assert result is not None, f"{name} did not report"
    if result.get("skipped"):
        pytest.skip(result["skipped"])
    if not result["ok"]:
        sys.stderr.write(result["error"])
    assert result["ok"], result.get("error")
