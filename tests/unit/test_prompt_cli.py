"""``python -m smoothie rewrite``: the JSON contract the scorers depend on, and bad input named.

Hostile and careless input (issue 14 item 7): exit 2 with one line naming the input, never a traceback;
valid files that are merely unusual (a BOM, U+2028 inside a string) are read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from smoothie.cli import main

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
    assert set(obj) == {"prompt", "generic", "names", "paraphrases", "sources", "rejected", "model"}
    assert len(obj["paraphrases"]) == 5
    assert obj["sources"] == ["rules"] * 5
    assert obj["model"] == ""  # no language model wrote any of them
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


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["rewrite", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("smoothie: error: ")
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("prompt", "needle"),
    [
        ("(" * 400 + "a" + ")" * 400, "nested more than 100 deep at column 101"),
        ("[" * 100_000, "nested more than 100 deep"),
        ("a (cat", "unbalanced '(' at column 3"),
        ("[<a:], b, <, c>, d, e", "inside the extra network '<a:], b, <, c>'"),
        ("   ", "empty"),
    ],
)
def test_bad_prompts_exit_2_in_one_line(capsys: pytest.CaptureFixture[str], prompt: str, needle: str) -> None:
    code, out, err = _run(capsys, "--n", "2", prompt)
    assert code == 2 and not out
    line = _one_error_line(err)
    assert needle in line
    assert len(line) < 400  # a 100,000-character prompt is clipped in the message


def test_a_prompt_nested_100_deep_still_works(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--n", "2", "--json", "(" * 100 + "a cat" + ")" * 100 + ", on a mat")
    assert code == 0
    assert len(json.loads(out)["paraphrases"]) == 2


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("[" * 100_000 + "\n", "c.jsonl:1: not JSON this reader accepts: nested too deeply"),
        ('{"prompt": "ok"}\n{"prompt": "a (cat"}\n', "c.jsonl:2: prompt 'a (cat': unbalanced"),
        ('{"prompt": "a \\ud800 cat"}\n', "c.jsonl:1: the prompt is not valid Unicode text"),
        ('{"prompt": 3}\n', 'c.jsonl:1: expected an object with a "prompt" string'),
        ("not json\n", "c.jsonl:1: not JSON"),
    ],
)
def test_bad_jsonl_exits_2_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, needle: str
) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(content, encoding="utf-8")
    code, out, err = _run(capsys, "--n", "2", "--jsonl", str(path))
    assert code == 2 and not out
    assert needle in _one_error_line(err)


def test_jsonl_with_a_bom_crlf_and_u2028_inside_a_string_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ok.jsonl"
    lines = [json.dumps({"prompt": "a cat\u2028on a mat"}, ensure_ascii=False), json.dumps({"prompt": "a dog"})]
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8") + b"\r\n")
    code, out, err = _run(capsys, "--n", "2", "--jsonl", str(path))
    assert code == 0, err
    results = [json.loads(line) for line in out.strip().split("\n")]
    assert [r["prompt"] for r in results] == ["a cat\u2028on a mat", "a dog"]


def test_jsonl_that_is_not_utf8_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"prompt": "caf\xe9"}\n'.encode("latin-1"))
    code, _, err = _run(capsys, "--jsonl", str(path))
    assert code == 2
    assert "not UTF-8 text" in _one_error_line(err)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--timeout", "-1"], "timeout must be a positive number of seconds, got -1.0"),
        (["--timeout", "nan"], "got nan"),
        (["--timeout", "inf"], "got inf"),
        (["--rounds", "-1"], "rounds must be a whole number from 0 to 10, got -1"),
        (["--base-url", "file:///etc/passwd"], "base_url must be an http:// or https:// URL"),
    ],
)
def test_invalid_llm_options_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], needle: str) -> None:
    code, out, err = _run(capsys, "--backend", "openai", *args, "a cat")
    assert code == 2 and not out
    line = _one_error_line(err)
    assert line.startswith("smoothie: error: --backend openai: ") and needle in line


def test_argparse_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["rewrite", "--n", "many", "a cat"])
    assert exc.value.code == 2
    _, err = capsys.readouterr()
    assert "argument --n: invalid int value: 'many'" in _one_error_line(err)


def test_names_file_replacement_with_webui_syntax_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = tmp_path / "names.txt"
    names.write_text("# mine\nAda Quill | person | a woman\nTom Vexel | person | a man <lora:evil:1.8>\n", "utf-8")
    code, out, err = _run(capsys, "--names-file", str(names), "Tom Vexel smiling")
    assert code == 2 and not out
    line = _one_error_line(err)
    assert f"{names}:3: the replacement 'a man <lora:evil:1.8>' is not plain text" in line


def test_a_names_file_that_is_not_text_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = tmp_path / "names.bin"
    names.write_bytes(b"\xff\xfe\x00binary")
    code, _, err = _run(capsys, "--names-file", str(names), "a cat")
    assert code == 2
    assert f"--names-file {names}: not UTF-8 text (byte 0: invalid start byte)" in _one_error_line(err)


def test_a_names_file_may_name_a_fictional_setting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = tmp_path / "names.txt"
    names.write_text("Zorbheim | setting | misty mountain kingdom of stone towers\n", "utf-8")
    code, out, _ = _run(capsys, "--names-file", str(names), "--n", "2", "a knight riding through Zorbheim at dawn")
    assert code == 0
    assert "setting   'Zorbheim' -> 'a misty mountain kingdom of stone towers'" in out
    assert "Zorbheim" not in out.split("->", 1)[1]
