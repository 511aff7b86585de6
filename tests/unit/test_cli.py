"""``python -m smoothie``: one line for every error, a traceback only on request."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import smoothie.prompt
from smoothie.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _boom(*_args: object, **_kwargs: object) -> None:
    raise RecursionError("maximum recursion depth exceeded")


def test_an_unexpected_error_is_one_line_with_a_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SMOOTHIE_DEBUG", raising=False)
    monkeypatch.setattr(smoothie.prompt, "rewrite", _boom)
    assert main(["rewrite", "a cat"]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "smoothie: internal error: RecursionError: maximum recursion depth exceeded "
        "(run with --debug or SMOOTHIE_DEBUG=1 for the traceback)"
    ]


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    monkeypatch.setattr(smoothie.prompt, "rewrite", _boom)
    if how == "env":
        monkeypatch.setenv("SMOOTHIE_DEBUG", "1")
        args = ["rewrite", "a cat"]
    else:
        monkeypatch.delenv("SMOOTHIE_DEBUG", raising=False)
        args = ["--debug", "rewrite", "a cat"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "_boom" in err
    assert err.strip().splitlines()[-1] == "smoothie: internal error: RecursionError: maximum recursion depth exceeded"


def test_missing_command_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "smoothie: error: the following arguments are required: COMMAND (see 'python -m smoothie --help')"
    ]


def test_a_closed_pipe_is_not_an_error() -> None:
    proc = subprocess.run(
        f"{sys.executable} -m smoothie rewrite --n 200 'a cat on a mat, sunny day' | head -c 10",
        shell=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.stdout == "prompt:  a"
    assert "Traceback" not in proc.stderr and "Broken" not in proc.stderr and "internal error" not in proc.stderr
