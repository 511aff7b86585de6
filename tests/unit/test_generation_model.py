"""Telling the loaded model's family from the host's flags and class names (smoothie.generation.model)."""

from __future__ import annotations

import pytest

from smoothie.generation import ModelFamily, detect_family
from smoothie.lora import Architecture


@pytest.mark.parametrize(
    ("flags", "classes", "family"),
    [
        ({"is_sd1": True}, ["LatentDiffusion"], ModelFamily.SD1),  # A1111 SD1
        ({"is_sd2": True, "is_sd1": False}, ["LatentDiffusion"], ModelFamily.SD2),
        ({"is_sdxl": True}, ["DiffusionEngine"], ModelFamily.SDXL),  # A1111 SDXL
        ({"is_sd3": True}, ["SD3Inferencer"], ModelFamily.SD3),  # A1111 1.10 SD3
        ({"is_sd1": True}, ["StableDiffusion", "ForgeDiffusionEngine"], ModelFamily.SD1),  # Forge
        ({}, ["Flux", "ForgeDiffusionEngine"], ModelFamily.FLUX),  # Forge sets no flag for Flux
        ({}, ["Chroma", "ForgeDiffusionEngine"], ModelFamily.CHROMA),
        ({"is_sd3": True}, ["StableDiffusion3", "ForgeDiffusionEngine"], ModelFamily.SD3),
        ({"is_sdxl": False}, ["Something"], ModelFamily.UNKNOWN),
        ({"is_sdxl": "yes"}, [], ModelFamily.UNKNOWN),  # only a real True counts (mocks, odd attributes)
    ],
)
def test_detect_family(flags, classes, family):
    assert detect_family(flags, classes) is family


def test_flow_models_and_lora_architectures():
    assert {f for f in ModelFamily if f.is_flow} == {ModelFamily.SD3, ModelFamily.FLUX, ModelFamily.CHROMA}
    assert ModelFamily.SDXL.lora_architecture is Architecture.SDXL
    assert ModelFamily.FLUX.lora_architecture is Architecture.UNKNOWN
    assert ModelFamily.SD1.label == "SD1.x"
