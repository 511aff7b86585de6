"""``python -m smoothie rewrite``: the JSON contract the scorers depend on, and bad input named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smoothie", *args],
        check=False,
        capture_output=True,
        text=True,
        input=stdin,
        cwd=ROOT,
        timeout=120,
    )


def test_cli_json_and_jsonl_contract(tmp_path: Path) -> None:
    out = _cli("rewrite", "--n", "5", "--json", "Brad Pitt in a diner, <lora:x:0.5>")
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert set(obj) == {"prompt", "generic", "names", "paraphrases", "sources", "rejected"}
    assert len(obj["paraphrases"]) == 5
    assert obj["sources"] == ["rules"] * 5
    assert all(isinstance(k, str) and isinstance(v, int) for k, v in obj["rejected"].items())
    assert all(set(n) == {"text", "label", "replacement"} for n in obj["names"])
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"prompt": "a cat"}\n\n{"prompt": "a dog, (red:1.2)"}\n', encoding="utf-8")
    out = _cli("rewrite", "--n", "3", "--jsonl", str(cases))
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert [x["prompt"] for x in lines] == ["a cat", "a dog, (red:1.2)"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["rewrite", ""], "empty"),
        (["rewrite", "a (cat"], "unbalanced"),
        (["rewrite", "--n", "0", "cat"], "--n must be"),
        (["rewrite", "--backend", "nope", "cat"], "--backend"),
        (["rewrite", "--device", "cuda", "cat"], "--device is not an option of the 'rules' backend"),
    ],
)
def test_cli_bad_input_exits_2(args: list[str], needle: str) -> None:
    out = _cli(*args)
    assert out.returncode == 2
    assert needle in out.stderr
    assert "Traceback" not in out.stderr


def test_cli_jsonl_error_names_the_line(tmp_path: Path) -> None:
    cases = tmp_path / "c.jsonl"
    cases.write_text('{"prompt": "ok"}\n{"prompt": "a (cat"}\n', encoding="utf-8")
    out = _cli("rewrite", "--jsonl", str(cases))
    assert out.returncode == 2
    assert "c.jsonl:2" in out.stderr
