"""``python -m smoothie wrong-lora …`` (smoothie.wronglora.cli): exit status and one-line messages."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from smoothie.cli import main
from tests.unit.test_wronglora_train import make_sd_scripts
from tests.unit.wronglora_fakes import FakeState, fake_webui, webui_state


@pytest.fixture
def state(tmp_path: Path) -> FakeState:
    return webui_state(tmp_path)


def _args(url: str, out: Path, *extra: str) -> list[str]:
    return [
        "wrong-lora",
        "dataset",
        "--api",
        url,
        "--checkpoint",
        "tiny-sdxl",
        "--n",
        "6",
        "--out",
        str(out),
        "--width",
        "64",
        "--height",
        "64",
        "--steps",
        "2",
        "--seed",
        "1",
        *extra,
    ]


def _main(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as exc:  # argparse's own errors
        return int(exc.code or 0)


def _one_line_error(capsys, code: int, expected: int = 2) -> str:
    captured = capsys.readouterr()
    assert code == expected
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("smoothie: error: ")
    assert "Traceback" not in captured.err
    return lines[0]


def test_dataset_command(tmp_path, state, capsys):
    out = tmp_path / "set"
    with fake_webui(state) as url:
        code = main(_args(url, out))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"wrong-LoRA set: 6 images (6 new) in {out / 'img' / '10_wrong'}" in captured.out
    assert "sdxl_train_network.py, 600 steps" in captured.out
    assert "[6/6] image 6 of 6: " in captured.err
    assert len(list((out / "img" / "10_wrong").glob("*.png"))) == 6


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--n": "0"}, "--n must be at least 1, got 0"),
        ({"--n": "-2"}, "--n must be at least 1, got -2"),
        ({"--n": "six"}, "argument --n: invalid int value: 'six'"),
        ({"--checkpoint": "nope"}, "--checkpoint 'nope': the WebUI has no such checkpoint"),
        ({"--api": "http://127.0.0.1:9"}, "the WebUI API at http://127.0.0.1:9 cannot be reached"),
        ({"--width": "100"}, "--width must be a multiple of 8"),
        ({"--timeout": "0"}, "--timeout must be positive"),
        ({"--trigger": "bad word"}, "--trigger 'bad word'"),
    ],
)
def test_bad_input(tmp_path, state, capsys, change, message):
    out = tmp_path / "set"
    with fake_webui(state) as url:
        args = _args(url, out)
        for flag, value in change.items():
            if flag in args:
                args[args.index(flag) + 1] = value
            else:
                args += [flag, value]
        line = _one_line_error(capsys, _main(args))
    assert message in line
    assert not out.exists()


def test_output_inside_the_webui(tmp_path, state, capsys):
    out = tmp_path / "webui" / "models" / "Lora" / "set"
    with fake_webui(state) as url:
        line = _one_line_error(capsys, _main(_args(url, out)))
    assert "is inside the WebUI's own folders (its LoRA folder" in line
    assert not out.exists()


def test_dataset_then_train(tmp_path, state, capsys, monkeypatch):
    from smoothie.wronglora import train as train_module

    monkeypatch.setattr(train_module, "probe", lambda python, sd: {"missing": [], "cuda": False, "bf16": False})
    out = tmp_path / "set"
    sd = make_sd_scripts(tmp_path / "sd-scripts")
    with fake_webui(state) as url:
        code = main(
            _args(url, out, "--sd-scripts", str(sd), "--sd-scripts-python", sys.executable, "--train-steps", "3")
        )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    installed = tmp_path / "webui" / "models" / "Lora" / "wrong-tiny-sdxl.safetensors"
    assert f"installed:   {installed}" in captured.out
    assert "Negative LoRA 'auto'" in captured.out
    assert installed.is_file()
    code = main(
        [
            "wrong-lora",
            "train",
            "--out",
            str(out),
            "--sd-scripts",
            str(sd),
            "--sd-scripts-python",
            sys.executable,
            "--lora-dir",
            str(installed.parent),
        ]
    )
    assert code == 0
    assert "LoRA already trained" in capsys.readouterr().out


def test_train_without_a_set(tmp_path, capsys):
    sd = make_sd_scripts(tmp_path / "sd")
    line = _one_line_error(
        capsys, main(["wrong-lora", "train", "--out", str(tmp_path / "none"), "--sd-scripts", str(sd)])
    )
    assert "holds no finished wrong-LoRA set" in line
    line = _one_line_error(
        capsys, main(["wrong-lora", "train", "--out", str(tmp_path), "--sd-scripts", str(sd), "--train-steps", "0"])
    )
    assert "--train-steps must be at least 1" in line


def test_catalogue(capsys):
    assert main(["wrong-lora", "catalogue"]) == 0
    assert "| hands | bad hands, extra fingers" in capsys.readouterr().out
