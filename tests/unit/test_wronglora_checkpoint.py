"""Naming a checkpoint and telling its architecture (smoothie.wronglora.checkpoint)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from smoothie.wronglora.checkpoint import (
    Arch,
    Checkpoint,
    CheckpointError,
    architecture_from_file,
    architecture_from_keys,
    find_checkpoint,
    resolve_architecture,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "models" / "models" / "Stable-diffusion"

CKPTS = [
    Checkpoint(
        "tiny-sd1.safetensors [945758c2a3]",
        "tiny-sd1",
        "/w/models/Stable-diffusion/tiny-sd1.safetensors",
        "945758c2a3",
        "945758c2a3" + "0" * 54,
    ),
    Checkpoint(
        "XL/tiny-sdxl.safetensors [acea757396]",
        "XL/tiny-sdxl",
        "/w/models/Stable-diffusion/XL/tiny-sdxl.safetensors",
        "acea757396",
        "acea757396" + "1" * 54,
    ),
    Checkpoint("other.ckpt", "other", "C:\\webui\\models\\other.ckpt"),
]


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("tiny-sd1", "tiny-sd1"),
        ("tiny-sd1.safetensors", "tiny-sd1"),
        ("tiny-sd1.safetensors [945758c2a3]", "tiny-sd1"),
        ("TINY-SDXL", "XL/tiny-sdxl"),
        ("XL/tiny-sdxl", "XL/tiny-sdxl"),
        ("tiny-sdxl.safetensors", "XL/tiny-sdxl"),
        ("acea757396", "XL/tiny-sdxl"),
        ("945758c2a3" + "0" * 54, "tiny-sd1"),
        ("other", "other"),
    ],
)
def test_find_checkpoint(name, model):
    assert find_checkpoint(name, CKPTS).model_name == model


def test_unknown_and_ambiguous_checkpoints():
    with pytest.raises(
        CheckpointError, match=r"--checkpoint 'sd15': the WebUI has no such checkpoint \(it has 'tiny-sd1"
    ):
        find_checkpoint("sd15", CKPTS)
    with pytest.raises(CheckpointError, match="no name"):
        find_checkpoint(" ", CKPTS)
    twins = [
        Checkpoint("a/x.safetensors", "a/x", "/a/x.safetensors"),
        Checkpoint("b/x.safetensors", "b/x", "/b/x.safetensors"),
    ]
    with pytest.raises(CheckpointError, match="matches several"):
        find_checkpoint("x", twins)
    assert find_checkpoint("b/x", twins).filename == "/b/x.safetensors"
    many = [Checkpoint(f"m{i}", f"m{i}", "") for i in range(20)]
    with pytest.raises(CheckpointError, match="and 8 more"):
        find_checkpoint("zz", many)


def test_stem():
    assert CKPTS[1].stem == "tiny-sdxl"
    assert CKPTS[2].stem == "other"
    assert Checkpoint("t", "name-only", "").stem == "name-only"


@pytest.mark.parametrize(
    ("keys", "arch"),
    [
        (
            ["cond_stage_model.transformer.text_model.embeddings.position_ids", "model.diffusion_model.out.0.weight"],
            Arch.SD1,
        ),
        (["cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight"], Arch.SD2),
        (
            ["conditioner.embedders.0.transformer.text_model.x", "conditioner.embedders.1.model.ln_final.weight"],
            Arch.SDXL,
        ),
        (["model.diffusion_model.label_emb.0.0.weight"], Arch.SDXL),
        (["double_blocks.0.img_attn.proj.weight"], None),
        (["first_stage_model.decoder.conv_in.weight"], None),
    ],
)
def test_architecture_from_keys(keys, arch):
    assert architecture_from_keys(keys) is arch


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared tiny checkpoints not found")
def test_architecture_of_the_shared_tiny_models():
    assert architecture_from_file(SHARED / "tiny-sd1.safetensors") is Arch.SD1
    assert architecture_from_file(SHARED / "tiny-sdxl.safetensors") is Arch.SDXL


def test_resolve_architecture(tmp_path):
    f = tmp_path / "flux.safetensors"
    save_file({"double_blocks.0.x": torch.zeros(1)}, str(f))
    flux = Checkpoint("flux", "flux", str(f))
    with pytest.raises(CheckpointError, match="not that of an SD1, SD2 or SDXL checkpoint"):
        resolve_architecture(flux)
    remote = Checkpoint("far", "far", "/elsewhere/far.safetensors")
    with pytest.raises(CheckpointError, match=r"cannot be read from here; pass --arch sd1, sd2 or sdxl"):
        resolve_architecture(remote)
    assert resolve_architecture(remote, "sdxl") is Arch.SDXL
    with pytest.raises(CheckpointError, match="--arch 'sd3'"):
        resolve_architecture(remote, "sd3")
    assert Arch.SDXL.native_size == 1024
    assert Arch.SD2.lora_architecture.value == "sd2"
