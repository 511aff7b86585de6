"""The training set in kohya's layout, its sd-scripts dataset config, and the training command.

Layout (kohya's DreamBooth-style folders, https://github.com/kohya-ss/sd-scripts, ``docs/config_README-en.md``)::

    OUT/img/10_wrong/wrong_00000.png        images; the folder name is ``<repeats>_<trigger>``
    OUT/img/10_wrong/wrong_00000.txt        caption: the trigger word
    OUT/dataset.toml                        --dataset_config: [general], [[datasets]], [[datasets.subsets]]
    OUT/train.sh                            the command below (run inside sd-scripts' environment)
    OUT/model/                              --output_dir

The command is ``sdxl_train_network.py`` for SDXL checkpoints and ``train_network.py`` (``--v2`` for SD2) for
SD1/SD2, with the argument names of sd-scripts' ``train_network.py``/``library/train_util.py``: a
``networks.lora`` LoRA, dim 16 / alpha 8, AdamW at 1e-4 (text encoder 5e-5 for SD1/SD2; SDXL trains the U-Net
only with cached text-encoder outputs, as sd-scripts' SDXL guide recommends), cosine schedule with 5 % warm-up,
and a step count from the number of images. Pure: strings and numbers only; tested in CI.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from smoothie.wronglora.checkpoint import Arch

#: Every image is seen about this many times (repeats × epochs), within the step bounds below.
PRESENTATIONS = 100
MIN_STEPS = 300
MAX_STEPS = 3000
BUCKET_STEPS = 64

_TRIGGER = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")


def check_trigger(trigger: str) -> str:
    """The trigger word becomes a folder name (``10_wrong``), captions and the LoRA's file name: one plain word."""
    word = trigger.strip()
    if not _TRIGGER.match(word):
        raise ValueError(
            f"--trigger {trigger!r}: one word of letters, digits, '-' or '_' (starting with a letter, at most 40)"
        )
    return word


def repeats_for(n_images: int) -> int:
    """kohya's ``num_repeats``: small sets are repeated so one epoch holds about 100 images (at most ×10)."""
    return max(1, min(10, math.ceil(100 / max(1, n_images))))


def steps_for(n_images: int, batch_size: int = 1) -> int:
    """``--max_train_steps`` from the image count: each image seen ~:data:`PRESENTATIONS` times, 300–3000 steps."""
    return max(MIN_STEPS, min(MAX_STEPS, math.ceil(n_images * PRESENTATIONS / max(1, batch_size))))


def image_folder(trigger: str, repeats: int) -> str:
    """The images' folder, relative to the output folder: ``img/<repeats>_<trigger>``."""
    return f"img/{repeats}_{trigger}"


def lora_name(trigger: str, checkpoint_stem: str) -> str:
    """The LoRA's file stem: ``<trigger>-<checkpoint>`` (so the Smoothie script's ``auto`` finds it), only
    characters that are safe in a file name and inside ``<lora:…>``."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", checkpoint_stem).strip("-.") or "model"
    return f"{trigger}-{stem}"[:120]


@dataclass(frozen=True)
class TrainingPlan:
    """The LoRA settings for one training set (documented in the README; all passed to sd-scripts explicitly)."""

    arch: Arch
    n_images: int
    repeats: int
    width: int
    height: int
    trigger: str = "wrong"
    output_name: str = "wrong-model"
    batch_size: int = 1
    network_module: str = "networks.lora"
    network_dim: int = 16
    network_alpha: float = 8.0
    learning_rate: float = 1e-4
    text_encoder_lr: float = 5e-5
    optimizer: str = "AdamW"
    lr_scheduler: str = "cosine"
    mixed_precision: str = "bf16"
    save_precision: str = "fp16"
    seed: int = 0
    max_train_steps: int = 0  # 0: from the image count (steps_for)

    @property
    def steps(self) -> int:
        return self.max_train_steps or steps_for(self.n_images, self.batch_size)

    @property
    def warmup_steps(self) -> int:
        return max(1, round(self.steps * 0.05))

    @property
    def script(self) -> str:
        return "sdxl_train_network.py" if self.arch is Arch.SDXL else "train_network.py"

    @property
    def resolution(self) -> tuple[int, int]:
        """Training resolution (width, height): the generated size, to kohya's 64-pixel buckets."""
        return _to_steps(self.width), _to_steps(self.height)

    @property
    def unet_only(self) -> bool:
        return self.arch is Arch.SDXL


def _to_steps(value: int) -> int:
    return max(BUCKET_STEPS, round(value / BUCKET_STEPS) * BUCKET_STEPS)


def _toml_string(text: str) -> str:
    """A TOML basic string (paths with backslashes, quotes or non-ASCII survive)."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def dataset_toml(plan: TrainingPlan, image_dirs: Sequence[Path | str]) -> str:
    """kohya sd-scripts' ``--dataset_config``: one DreamBooth-style dataset with buckets, one subset per folder."""
    width, height = plan.resolution
    resolution = str(width) if width == height else f"[{width}, {height}]"
    ceiling = 2048 if plan.arch is Arch.SDXL else 1024
    min_bucket = max(BUCKET_STEPS, min(256, width, height) // BUCKET_STEPS * BUCKET_STEPS)
    max_bucket = max(ceiling, math.ceil(max(width, height) / BUCKET_STEPS) * BUCKET_STEPS)
    lines = [
        "# kohya sd-scripts dataset config (--dataset_config), written by sd-webui-smoothie's wrong-LoRA kit.",
        f"# {plan.n_images} images captioned {plan.trigger!r}; see train.sh for the training command.",
        "",
        "[general]",
        'caption_extension = ".txt"',
        "shuffle_caption = false",
        "keep_tokens = 1",
        "",
        "[[datasets]]",
        f"resolution = {resolution}",
        f"batch_size = {plan.batch_size}",
        "enable_bucket = true",
        f"min_bucket_reso = {min_bucket}",
        f"max_bucket_reso = {max_bucket}",
        f"bucket_reso_steps = {BUCKET_STEPS}",
        "bucket_no_upscale = true",
    ]
    for folder in image_dirs:
        lines += [
            "",
            "  [[datasets.subsets]]",
            f"  image_dir = {_toml_string(str(folder))}",
            '  caption_extension = ".txt"',
            f"  class_tokens = {_toml_string(plan.trigger)}",
            f"  num_repeats = {plan.repeats}",
        ]
    return "\n".join(lines) + "\n"


def training_args(
    plan: TrainingPlan, checkpoint: Path | str, dataset_config: Path | str, output_dir: Path | str
) -> list[str]:
    """The script and its arguments (names as in sd-scripts' ``train_network.py`` and ``library/train_util.py``)."""
    args = [
        plan.script,
        f"--pretrained_model_name_or_path={checkpoint}",
        f"--dataset_config={dataset_config}",
        f"--output_dir={output_dir}",
        f"--output_name={plan.output_name}",
        "--save_model_as=safetensors",
        f"--network_module={plan.network_module}",
        f"--network_dim={plan.network_dim}",
        f"--network_alpha={plan.network_alpha:g}",
        f"--learning_rate={plan.learning_rate:g}",
        f"--unet_lr={plan.learning_rate:g}",
        f"--optimizer_type={plan.optimizer}",
        f"--lr_scheduler={plan.lr_scheduler}",
        f"--lr_warmup_steps={plan.warmup_steps}",
        f"--max_train_steps={plan.steps}",
        f"--mixed_precision={plan.mixed_precision}",
        f"--save_precision={plan.save_precision}",
        f"--seed={plan.seed}",
        "--cache_latents",
        "--gradient_checkpointing",
        "--sdpa",
        "--max_data_loader_n_workers=1",
        f"--training_comment=sd-webui-smoothie wrong-LoRA kit: trigger {plan.trigger}",
    ]
    if plan.arch is Arch.SDXL:
        args += ["--network_train_unet_only", "--cache_text_encoder_outputs", "--no_half_vae"]
    else:
        args.append(f"--text_encoder_lr={plan.text_encoder_lr:g}")
        if plan.arch is Arch.SD2:
            args.append("--v2")
    return args


def train_script(
    plan: TrainingPlan,
    checkpoint: Path | str,
    dataset_config: Path | str,
    output_dir: Path | str,
    sd_scripts: Path | str | None = None,
) -> str:
    """``train.sh``: the command for a shell, run from sd-scripts' folder inside its environment."""
    args = training_args(plan, checkpoint, dataset_config, output_dir)
    where = shlex.quote(str(sd_scripts)) if sd_scripts else '"${SD_SCRIPTS:?set SD_SCRIPTS to your sd-scripts folder}"'
    body = " \\\n  ".join(shlex.quote(a) for a in args[1:])
    v_note = "# SD2 768-v (v-prediction) checkpoint? Add --v_parameterization below.\n" if plan.arch is Arch.SD2 else ""
    return (
        "#!/usr/bin/env sh\n"
        f"# Train the negative LoRA {plan.output_name!r} ({plan.arch.label}, {plan.n_images} images, "
        f"{plan.steps} steps) with kohya's sd-scripts.\n"
        "# Written by sd-webui-smoothie (python -m smoothie wrong-lora dataset). Run it inside sd-scripts'\n"
        "# Python environment (its venv, with its requirements installed), e.g.:\n"
        "#   SD_SCRIPTS=~/sd-scripts sh train.sh\n"
        "# or let Smoothie run it and install the LoRA:\n"
        "#   python -m smoothie wrong-lora train --out DIR --sd-scripts DIR\n"
        f"{v_note}"
        "set -eu\n"
        f"cd {where}\n"
        f"accelerate launch --num_cpu_threads_per_process 1 {args[0]} \\\n  {body}\n"
    )
