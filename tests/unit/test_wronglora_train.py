"""Training with the user's sd-scripts and installing the LoRA (smoothie.wronglora.train), with a stand-in
sd-scripts checkout whose training scripts take the real argument names, print sd-scripts' progress bar and
write a kohya-format LoRA."""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap
from pathlib import Path

import pytest

from smoothie.lora import Architecture, inspect_lora
from smoothie.wronglora import train as train_module
from smoothie.wronglora.api import WebUIClient
from smoothie.wronglora.backend import HttpBackend
from smoothie.wronglora.checkpoint import Arch
from smoothie.wronglora.dataset import DatasetRequest, RunInterruptedError, make_dataset, read_manifest
from smoothie.wronglora.train import TrainError, TrainRequest, check_sd_scripts, install_lora, probe, run_training
from tests.unit.wronglora_fakes import FakeState, fake_webui, webui_state

STUB = textwrap.dedent(
    """
    import argparse, os, sys, time
    import numpy as np
    from safetensors.numpy import save_file

    p = argparse.ArgumentParser()
    for name in ("pretrained_model_name_or_path", "dataset_config", "output_dir", "output_name", "network_module",
                 "network_dim", "network_alpha", "max_train_steps", "mixed_precision", "save_model_as"):
        p.add_argument("--" + name, required=True)
    args, rest = p.parse_known_args()
    assert os.path.isfile(args.dataset_config) and os.path.isfile(args.pretrained_model_name_or_path)
    print("argv", " ".join(sys.argv[1:]), flush=True)
    if os.environ.get("STUB_FAIL"):
        print("Traceback (most recent call last):\\n  File x\\nAssertionError: min_bucket_reso must be ...", flush=True)
        sys.exit(1)
    total = int(args.max_train_steps)
    for step in range(1, total + 1):
        sys.stderr.write(f"\\rsteps: {100 * step // total:3d}%|##| {step}/{total} [00:01<00:00, avr_loss=0.1]")
        sys.stderr.flush()
        if os.environ.get("STUB_SLOW"):
            time.sleep(0.2)
    sys.stderr.write("\\n")
    sdxl = os.path.basename(sys.argv[0]).startswith("sdxl")
    te = "lora_te1_text_model_encoder_layers_0_mlp_fc1" if sdxl else "lora_te_text_model_encoder_layers_0_mlp_fc1"
    meta = {"ss_base_model_version": "sdxl_base_v1-0" if sdxl else "sd_v1", "ss_network_dim": args.network_dim,
            "ss_tag_frequency": '{"10_wrong": {"wrong": 6}}'}
    weights = {te + ".lora_down.weight": np.zeros((4, 8), np.float16),
               te + ".lora_up.weight": np.zeros((8, 4), np.float16)}
    save_file(weights, os.path.join(args.output_dir, args.output_name + ".safetensors"), metadata=meta)
    print("model saved.", flush=True)
    """
)


def make_sd_scripts(root: Path) -> Path:
    for rel in ("library/train_util.py", "networks/lora.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("# stand-in\n")
    for script in ("sdxl_train_network.py", "train_network.py"):
        (root / script).write_text(STUB)
    return root


@pytest.fixture
def state(tmp_path: Path) -> FakeState:
    return webui_state(tmp_path)


@pytest.fixture
def no_probe(monkeypatch):
    monkeypatch.setattr(train_module, "probe", lambda python, sd: {"missing": [], "cuda": False, "bf16": False})


def _dataset(url: str, out: Path, checkpoint: str = "tiny-sdxl") -> None:
    request = DatasetRequest(out=out, n=3, checkpoint=checkpoint, width=64, height=64, steps=1, seed=1)
    make_dataset(request, HttpBackend(WebUIClient(url)))


def test_train_and_install(tmp_path, state, no_probe):
    out = tmp_path / "set"
    sd = make_sd_scripts(tmp_path / "sd-scripts")
    seen: list[tuple[int, int, str]] = []
    with fake_webui(state) as url:
        _dataset(url, out)
        backend = HttpBackend(WebUIClient(url))
        request = TrainRequest(out=out, sd_scripts=sd, python=sys.executable, steps=5)
        result = run_training(request, backend, progress=lambda d, t, s: seen.append((d, t, s)))
    lora_dir = tmp_path / "webui" / "models" / "Lora"
    assert result.trained
    assert result.lora == out / "model" / "wrong-tiny-sdxl.safetensors"
    assert result.installed == lora_dir / "wrong-tiny-sdxl.safetensors"
    assert inspect_lora(result.installed).architecture is Architecture.SDXL
    assert result.installed.read_bytes() == result.lora.read_bytes()
    assert (5, 5, "training: step 5 of 5") in seen
    assert result.steps_done == 5
    assert ("POST", "/sdapi/v1/refresh-loras", {}) in state.requests
    log = (out / "train.log").read_text()
    assert "--mixed_precision=no" in log  # no CUDA: sd-scripts' CPU mode
    assert "--network_train_unet_only" in log
    assert log.count("steps:") == 1  # one line per progress bar, not one per redraw
    assert not list((out / ".smoothie" / "tmp").iterdir())
    assert "no CUDA GPU" in " ".join(result.notes)
    assert read_manifest(out)["files"]["model/wrong-tiny-sdxl.safetensors"][1] > 0
    # again: nothing to train, the installed copy is reused
    again = run_training(TrainRequest(out=out, sd_scripts=sd, python=sys.executable, lora_dir=lora_dir))
    assert not again.trained
    assert again.installed == result.installed
    assert sorted(p.name for p in lora_dir.iterdir()) == ["wrong-tiny-sdxl.safetensors"]


def test_sd1_uses_train_network(tmp_path, state, no_probe):
    out = tmp_path / "set"
    sd = make_sd_scripts(tmp_path / "sd-scripts")
    with fake_webui(state) as url:
        _dataset(url, out, checkpoint="tiny-sd1")
    (tmp_path / "loras").mkdir()
    result = run_training(
        TrainRequest(out=out, sd_scripts=sd, python=sys.executable, steps=2, lora_dir=tmp_path / "loras")
    )
    assert result.plan.script == "train_network.py"
    assert inspect_lora(result.lora).architecture is Architecture.SD1
    assert "--text_encoder_lr=5e-05" in (out / "train.log").read_text()


def test_a_failing_training_says_why_and_leaves_no_lora(tmp_path, state, no_probe, monkeypatch):
    out = tmp_path / "set"
    sd = make_sd_scripts(tmp_path / "sd-scripts")
    with fake_webui(state) as url:
        _dataset(url, out)
    monkeypatch.setenv("STUB_FAIL", "1")
    (tmp_path / "loras").mkdir()
    with pytest.raises(TrainError, match=r"sd-scripts failed \(exit 1\): AssertionError: min_bucket_reso"):
        run_training(TrainRequest(out=out, sd_scripts=sd, python=sys.executable, lora_dir=tmp_path / "loras"))
    assert not (out / "model").exists()
    assert not list((tmp_path / "loras").iterdir())
    assert not list((out / ".smoothie" / "tmp").iterdir())


def test_stopping_the_training(tmp_path, state, no_probe, monkeypatch):
    out = tmp_path / "set"
    sd = make_sd_scripts(tmp_path / "sd-scripts")
    with fake_webui(state) as url:
        _dataset(url, out)
    monkeypatch.setenv("STUB_SLOW", "1")
    seen: list[int] = []
    with pytest.raises(RunInterruptedError, match="training stopped"):
        run_training(
            TrainRequest(out=out, sd_scripts=sd, python=sys.executable, steps=50),
            progress=lambda d, t, s: seen.append(d),
            should_stop=lambda: len(seen) > 3,
        )
    assert not (out / "model").exists()


def test_install_never_replaces_another_file(tmp_path):
    lora = tmp_path / "wrong-x.safetensors"
    lora.write_bytes(b"new weights")
    folder = tmp_path / "Lora"
    folder.mkdir()
    (folder / "wrong-x.safetensors").write_bytes(b"the user's own")
    (folder / "wrong-x-2.safetensors").symlink_to(tmp_path / "nowhere")
    placed = install_lora(lora, folder)
    assert placed == folder / "wrong-x-3.safetensors"
    assert placed.read_bytes() == b"new weights"
    assert (folder / "wrong-x.safetensors").read_bytes() == b"the user's own"
    assert install_lora(lora, folder) == placed  # identical copy reused
    assert stat.S_IMODE(placed.stat().st_mode) & 0o044  # readable like any file the user makes
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp")]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("nothing", "holds no finished wrong-LoRA set"),
        ("not-sd-scripts", "is not kohya's sd-scripts"),
        ("no-python", "--sd-scripts-python"),
        ("bad-lora-dir", "--lora-dir"),
    ],
)
def test_bad_training_input(tmp_path, state, no_probe, setup, message):
    out = tmp_path / "set"
    sd = make_sd_scripts(tmp_path / "sd-scripts")
    kwargs: dict = {"out": out, "sd_scripts": sd, "python": sys.executable}
    if setup != "nothing":
        with fake_webui(state) as url:
            _dataset(url, out)
    if setup == "not-sd-scripts":
        kwargs["sd_scripts"] = tmp_path
    elif setup == "no-python":
        kwargs["python"] = tmp_path / "no" / "python"
    elif setup == "bad-lora-dir":
        kwargs["lora_dir"] = tmp_path / "missing"
    with pytest.raises(TrainError, match=message):
        run_training(TrainRequest(**kwargs))


def test_check_sd_scripts(tmp_path):
    sd = make_sd_scripts(tmp_path / "sd")
    assert check_sd_scripts(sd, Arch.SDXL) == (sd.resolve(), "sdxl_train_network.py")
    assert check_sd_scripts(sd, Arch.SD2)[1] == "train_network.py"
    with pytest.raises(TrainError, match="not a folder"):
        check_sd_scripts(tmp_path / "nope", Arch.SD1)


def _fake_python(path: Path, output: str, code: int = 0) -> Path:
    path.write_text(f"#!/bin/sh\ncat <<'EOF'\n{output}\nEOF\nexit {code}\n")
    path.chmod(0o755)
    return path


def test_probe(tmp_path):
    ok = _fake_python(tmp_path / "ok", "SMOOTHIE-PROBE " + json.dumps({"missing": [], "cuda": True, "bf16": False}))
    assert probe(ok, tmp_path) == {"missing": [], "cuda": True, "bf16": False}
    lacking = _fake_python(
        tmp_path / "lacking", "SMOOTHIE-PROBE " + json.dumps({"missing": ["voluptuous (ModuleNotFoundError: x)"]})
    )
    with pytest.raises(TrainError, match=r"cannot import voluptuous .*Smoothie never installs them"):
        probe(lacking, tmp_path)
    broken = _fake_python(tmp_path / "broken", "Fatal Python error", code=1)
    with pytest.raises(TrainError, match="failed to start: Fatal Python error"):
        probe(broken, tmp_path)
    # the real probe script, run by this Python: it names what is missing here, or passes
    outcome: str | dict
    try:
        outcome = probe(Path(sys.executable), tmp_path)
    except TrainError as exc:
        outcome = str(exc)
    assert "cannot import" in outcome if isinstance(outcome, str) else outcome["cuda"] in (True, False)


def test_find_python_prefers_sd_scripts_venv(tmp_path):
    sd = tmp_path / "sd"
    (sd / "venv" / "bin").mkdir(parents=True)
    venv_python = sd / "venv" / "bin" / "python"
    venv_python.write_text("")
    assert train_module.find_python(sd) == venv_python
    assert train_module.find_python(tmp_path / "other") == Path(sys.executable)
    assert os.fspath(train_module.find_python(sd, venv_python)) == os.fspath(venv_python)
