"""kohya's layout, the sd-scripts dataset config and the training command (smoothie.wronglora.kohya).

Argument and key names are those of kohya-ss/sd-scripts (train_network.py, library/train_util.py,
library/config_util.py, docs/config_README-en.md); when ``SD_SCRIPTS_DIR`` names a checkout (run by
``SD_SCRIPTS_PYTHON``, default its venv), the config is also read by sd-scripts' own schema and the arguments by
its own parser, in that Python.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from smoothie.wronglora.checkpoint import Arch
from smoothie.wronglora.kohya import (
    MAX_STEPS,
    MIN_STEPS,
    TrainingPlan,
    check_trigger,
    dataset_toml,
    image_folder,
    lora_name,
    repeats_for,
    steps_for,
    train_script,
    training_args,
)
from tests.unit.wronglora_fakes import load_toml

#: Keys sd-scripts' ConfigSanitizer accepts where we put them (DreamBooth subsets; docs/config_README-en.md).
GENERAL_KEYS = {"caption_extension", "shuffle_caption", "keep_tokens"}
DATASET_KEYS = {
    "resolution",
    "batch_size",
    "enable_bucket",
    "min_bucket_reso",
    "max_bucket_reso",
    "bucket_reso_steps",
    "bucket_no_upscale",
    "subsets",
}
SUBSET_KEYS = {"image_dir", "caption_extension", "class_tokens", "num_repeats"}


def _plan(arch: Arch = Arch.SDXL, n: int = 6, width: int = 1024, height: int = 1024) -> TrainingPlan:
    return TrainingPlan(
        arch=arch,
        n_images=n,
        repeats=repeats_for(n),
        width=width,
        height=height,
        output_name=lora_name("wrong", "tiny-sdxl"),
    )


def test_repeats_and_steps_from_the_image_count():
    assert repeats_for(1) == 10
    assert repeats_for(6) == 10
    assert repeats_for(20) == 5
    assert repeats_for(100) == 1
    assert repeats_for(5000) == 1
    assert steps_for(1) == MIN_STEPS
    assert steps_for(6) == 600
    assert steps_for(20) == 2000
    assert steps_for(200) == MAX_STEPS
    assert steps_for(20, batch_size=2) == 1000
    assert all(steps_for(n) <= steps_for(n + 1) for n in range(1, 100))


def test_layout_names():
    assert image_folder("wrong", 10) == "img/10_wrong"
    assert lora_name("wrong", "tiny-sdxl") == "wrong-tiny-sdxl"
    assert lora_name("wrong", "my model: v2 <final>") == "wrong-my-model-v2-final"
    assert lora_name("wrong", "...") == "wrong-model"
    assert check_trigger(" wrong ") == "wrong"
    for bad in ("", "two words", "1wrong", "a/b", "x" * 41, "wrong:1"):
        with pytest.raises(ValueError, match="--trigger"):
            check_trigger(bad)


@pytest.mark.parametrize(
    ("arch", "width", "height", "resolution", "buckets"),
    [
        (Arch.SDXL, 1024, 1024, 1024, (256, 2048)),
        (Arch.SD1, 512, 512, 512, (256, 1024)),
        (Arch.SD2, 768, 768, 768, (256, 1024)),
        (Arch.SDXL, 832, 1216, [832, 1216], (256, 2048)),
        (Arch.SDXL, 64, 64, 64, (64, 2048)),
        (Arch.SD1, 200, 96, [192, 128], (128, 1024)),
    ],
)
def test_dataset_config(tmp_path, arch, width, height, resolution, buckets):
    folder = tmp_path / "with space" / 'quote"and\\back' / "img" / "10_wrong"
    text = dataset_toml(_plan(arch, 6, width, height), [folder])
    config = load_toml(text)
    assert set(config["general"]) <= GENERAL_KEYS
    assert config["general"]["caption_extension"] == ".txt"
    (dataset,) = config["datasets"]
    assert set(dataset) <= DATASET_KEYS
    assert dataset["resolution"] == resolution
    assert (dataset["min_bucket_reso"], dataset["max_bucket_reso"]) == buckets
    assert dataset["enable_bucket"] is True
    res = resolution if isinstance(resolution, list) else [resolution, resolution]
    assert min(res) >= dataset["min_bucket_reso"]  # sd-scripts asserts both
    assert max(res) <= dataset["max_bucket_reso"]
    assert dataset["min_bucket_reso"] % dataset["bucket_reso_steps"] == 0
    (subset,) = dataset["subsets"]
    assert set(subset) <= SUBSET_KEYS
    assert Path(subset["image_dir"]) == folder
    assert subset["num_repeats"] == 10
    assert subset["class_tokens"] == "wrong"


def test_training_command_per_architecture():
    sdxl = training_args(_plan(Arch.SDXL), "/m/x.safetensors", "/o/dataset.toml", "/o/model")
    assert sdxl[0] == "sdxl_train_network.py"
    assert "--network_module=networks.lora" in sdxl
    assert "--network_dim=16" in sdxl
    assert "--network_alpha=8" in sdxl
    assert "--max_train_steps=600" in sdxl
    assert "--network_train_unet_only" in sdxl
    assert "--cache_text_encoder_outputs" in sdxl
    assert not any(a.startswith("--text_encoder_lr") for a in sdxl)
    assert "--pretrained_model_name_or_path=/m/x.safetensors" in sdxl
    assert "--dataset_config=/o/dataset.toml" in sdxl
    assert "--output_name=wrong-tiny-sdxl" in sdxl
    assert "--save_model_as=safetensors" in sdxl
    sd1 = training_args(_plan(Arch.SD1), "a", "b", "c")
    assert sd1[0] == "train_network.py"
    assert "--text_encoder_lr=5e-05" in sd1
    assert "--v2" not in sd1
    assert "--network_train_unet_only" not in sd1
    sd2 = training_args(_plan(Arch.SD2), "a", "b", "c")
    assert sd2[0] == "train_network.py"
    assert "--v2" in sd2


def test_train_sh_quotes_every_path(tmp_path):
    odd = tmp_path / 'it\'s a "folder" $HOME'
    script = train_script(_plan(), odd / "m.safetensors", odd / "dataset.toml", odd / "model", sd_scripts=odd / "sd")
    assert script.startswith("#!/usr/bin/env sh\n")
    command = script[script.index("accelerate launch") :].replace("\\\n", " ")
    argv = shlex.split(command)
    assert argv[:5] == ["accelerate", "launch", "--num_cpu_threads_per_process", "1", "sdxl_train_network.py"]
    assert f"--pretrained_model_name_or_path={odd / 'm.safetensors'}" in argv
    assert f"cd {shlex.quote(str(odd / 'sd'))}" in script
    generic = train_script(_plan(Arch.SD2), "m", "d", "o")
    assert "${SD_SCRIPTS:?" in generic
    assert "--v_parameterization" in generic  # the hint for 768-v models


def _sd_scripts() -> tuple[Path, str] | None:
    """``SD_SCRIPTS_DIR`` (a kohya sd-scripts checkout) and the Python of its environment (``SD_SCRIPTS_PYTHON``,
    default its venv, else this one)."""
    raw = os.environ.get("SD_SCRIPTS_DIR", "").strip()
    if not raw or not (Path(raw) / "library" / "config_util.py").is_file():
        return None
    root = Path(raw)
    python = os.environ.get("SD_SCRIPTS_PYTHON", "").strip()
    if not python:
        venv = root / "venv" / "bin" / "python"
        python = str(venv) if venv.exists() else sys.executable
    return root, python


@pytest.mark.skipif(_sd_scripts() is None, reason="SD_SCRIPTS_DIR (a kohya sd-scripts checkout) not set")
@pytest.mark.parametrize("arch", [Arch.SDXL, Arch.SD1, Arch.SD2])
def test_sd_scripts_accepts_the_config_and_the_arguments(tmp_path, arch):
    """sd-scripts' own schema (ConfigSanitizer) reads the TOML, and its own parser takes the arguments."""
    found = _sd_scripts()
    assert found is not None
    root, python = found
    folder = tmp_path / "img" / "10_wrong"
    plan = _plan(arch, 6, 64, 64)
    config = tmp_path / "dataset.toml"
    config.write_text(dataset_toml(plan, [folder]))
    args = training_args(plan, tmp_path / "m.safetensors", config, tmp_path / "out")
    script = textwrap.dedent(
        """
        import json, sys, toml
        script, config, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
        sys.argv = [script]
        from library import config_util
        sanitizer = config_util.ConfigSanitizer(True, True, False, True)
        user = sanitizer.sanitize_user_config(toml.load(config))
        module = __import__(script[:-3])
        parsed = module.setup_parser().parse_args(args)
        subset = user["datasets"][0]["subsets"][0]
        print(json.dumps({"image_dir": subset["image_dir"], "repeats": subset["num_repeats"],
                          "dim": parsed.network_dim, "steps": parsed.max_train_steps, "v2": parsed.v2}))
        """
    )
    done = subprocess.run(
        [python, "-c", script, args[0], str(config), json.dumps(args[1:])],
        cwd=root, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"image_dir": str(folder), "repeats": 10, "dim": 16, "steps": 600, "v2": arch is Arch.SD2}
