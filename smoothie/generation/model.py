"""Which family of model a run generates with, told from what the host exposes about its loaded model.

The family decides what a run can mean: which LoRAs fit (:attr:`ModelFamily.lora_architecture`), and whether
CFG rescale applies (:attr:`ModelFamily.is_flow`: rectified-flow models such as Flux, SD3 and Chroma predict
along x = σ·noise + (1−σ)·x0, not the x0 + σ·noise of the k-diffusion samplers the rescale's v-conversion
assumes). Host-free: the host layer hands in the flags and class names it reads off its model object.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

from smoothie.lora import Architecture


class ModelFamily(str, enum.Enum):
    """The loaded checkpoint's family, as far as Smoothie needs to know it."""

    SD1 = "sd1"
    SD2 = "sd2"
    SDXL = "sdxl"
    SD3 = "sd3"
    FLUX = "flux"
    CHROMA = "chroma"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return {
            "sd1": "SD1.x",
            "sd2": "SD2.x",
            "sdxl": "SDXL",
            "sd3": "SD3",
            "flux": "Flux",
            "chroma": "Chroma",
            "unknown": "an unknown model",
        }[self.value]

    @property
    def is_flow(self) -> bool:
        """A rectified-flow model (x = σ·noise + (1−σ)·x0): CFG rescale's v-conversion does not apply."""
        return self in (ModelFamily.SD3, ModelFamily.FLUX, ModelFamily.CHROMA)

    @property
    def lora_architecture(self) -> Architecture:
        """The LoRA architecture that fits this family (UNKNOWN: none that Smoothie can check)."""
        return {
            ModelFamily.SD1: Architecture.SD1,
            ModelFamily.SD2: Architecture.SD2,
            ModelFamily.SDXL: Architecture.SDXL,
        }.get(self, Architecture.UNKNOWN)


# Class names of the host's model objects (Forge: backend/diffusion_engine/*.py; reForge and A1111 keep the
# flags below), matched case-insensitively as substrings, most specific first.
_CLASS_HINTS: tuple[tuple[str, ModelFamily], ...] = (
    ("chroma", ModelFamily.CHROMA),
    ("flux", ModelFamily.FLUX),
    ("stablediffusion3", ModelFamily.SD3),
    ("sd3", ModelFamily.SD3),
)


def detect_family(flags: Mapping[str, Any], class_names: Iterable[str] = ()) -> ModelFamily:
    """The family from the host's model flags (``is_sdxl``, ``is_sd2``, ``is_sd1``, ``is_sd3``) and class names.

    Flow models are recognised by class name first (Forge's ``Flux`` and ``Chroma`` set none of the flags, and
    Chroma subclasses nothing that says so), then the flags A1111, Forge and reForge all set.
    """
    names = [str(n).casefold() for n in class_names]
    for hint, family in _CLASS_HINTS:
        if any(hint in n for n in names):
            return family
    for flag, family in (
        ("is_sd3", ModelFamily.SD3),
        ("is_sdxl", ModelFamily.SDXL),
        ("is_sd2", ModelFamily.SD2),
        ("is_sd1", ModelFamily.SD1),
    ):
        if flags.get(flag) is True:
            return family
    return ModelFamily.UNKNOWN
