"""Which checkpoint the user means, and its architecture (which decides kohya's training script).

The WebUI lists its checkpoints at ``/sdapi/v1/sd-models`` (``title`` ``"name.safetensors [hash]"``,
``model_name``, ``hash``, ``sha256``, ``filename``); the user may name one by any of these. Its architecture is
read from the checkpoint's safetensors header when the file is readable from here (the original ``ldm``/``sgm``
key layouts A1111 loads: SDXL's ``conditioner.embedders``, SD2's OpenCLIP ``cond_stage_model.model``, SD1's
``cond_stage_model.transformer``; also diffusers-converted single files), else given with ``--arch``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smoothie.lora import Architecture, LoraFileError, read_safetensors_header

#: Checkpoint headers are bigger than LoRA headers (a full SDXL file: ~2,500 tensors, ~250 KiB of JSON).
MAX_CHECKPOINT_HEADER = 16 * 1024 * 1024


class Arch(str, enum.Enum):
    """The architectures kohya's sd-scripts trains LoRAs for with ``train_network.py`` / ``sdxl_train_network.py``."""

    SD1 = "sd1"
    SD2 = "sd2"
    SDXL = "sdxl"

    @property
    def label(self) -> str:
        return {"sd1": "SD1.x", "sd2": "SD2.x", "sdxl": "SDXL"}[self.value]

    @property
    def native_size(self) -> int:
        """The training resolution of the family's base models (images are generated at it by default)."""
        return {"sd1": 512, "sd2": 768, "sdxl": 1024}[self.value]

    @property
    def lora_architecture(self) -> Architecture:
        return Architecture(self.value)


class CheckpointError(ValueError):
    """A checkpoint the WebUI does not have, or whose architecture cannot be told; one-line message."""


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint as the WebUI lists it."""

    title: str
    model_name: str
    filename: str
    hash: str = ""
    sha256: str = ""

    @property
    def stem(self) -> str:
        """The file name without folder and extension (``tiny-sdxl``)."""
        name = self.filename.replace("\\", "/").rsplit("/", 1)[-1] if self.filename else self.model_name
        for ext in (".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf", ".sft"):
            if name.lower().endswith(ext):
                return name[: -len(ext)]
        return name

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> Checkpoint:
        return cls(
            title=str(item.get("title") or item.get("model_name") or ""),
            model_name=str(item.get("model_name") or ""),
            filename=str(item.get("filename") or ""),
            hash=str(item.get("hash") or ""),
            sha256=str(item.get("sha256") or ""),
        )


def _keys(c: Checkpoint) -> list[str]:
    base = c.title.split(" [", 1)[0]
    names = [c.title, base, c.model_name, c.stem, c.filename]
    names += [n.replace("\\", "/").rsplit("/", 1)[-1] for n in (base, c.filename)]
    return [n for n in names if n]


def find_checkpoint(name: str, checkpoints: Sequence[Checkpoint]) -> Checkpoint:
    """The checkpoint ``name`` means: its title, file name (with or without extension or folder), model name, short
    hash or sha256, exactly, then ignoring case. :class:`CheckpointError` lists what there is otherwise."""
    wanted = name.strip()
    if not wanted:
        raise CheckpointError("--checkpoint: no name given")
    for fold in (False, True):

        def same(a: str, b: str, fold: bool = fold) -> bool:
            return a.casefold() == b.casefold() if fold else a == b

        found = [c for c in checkpoints if any(same(wanted, k) for k in _keys(c))]
        if not found and len(wanted) >= 8:
            found = [c for c in checkpoints if wanted.lower() in (c.hash.lower(), c.sha256.lower()) and wanted]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            titles = ", ".join(repr(c.title) for c in found[:5])
            raise CheckpointError(f"--checkpoint {name!r} matches several checkpoints ({titles}); give the full title")
    shown = ", ".join(repr(c.title) for c in checkpoints[:12]) or "none"
    more = f" and {len(checkpoints) - 12} more" if len(checkpoints) > 12 else ""
    raise CheckpointError(f"--checkpoint {name!r}: the WebUI has no such checkpoint (it has {shown}{more})")


def architecture_from_keys(keys: Iterable[str]) -> Arch | None:
    """SD1 / SD2 / SDXL from a checkpoint's tensor names; None for anything else (Flux, SD3, a refiner, a VAE)."""
    sd1 = sd2 = sdxl = False
    for key in keys:
        if key.startswith(("conditioner.embedders.1.", "model.diffusion_model.label_emb.")):
            sdxl = True
            break
        if key.startswith(("text_encoder_2.", "text_encoders.clip_g.")):
            sdxl = True
            break
        if key.startswith("cond_stage_model.model."):
            sd2 = True
        elif key.startswith(("cond_stage_model.transformer.", "cond_stage_model.model.transformer.")):
            sd1 = True
    if sdxl:
        return Arch.SDXL
    if sd2:
        return Arch.SD2
    if sd1:
        return Arch.SD1
    return None


def architecture_from_file(path: str | Path) -> Arch | None:
    """The architecture from the checkpoint file's header; None when it is not readable here or not SD1/2/XL."""
    p = Path(path)
    if p.suffix.lower() != ".safetensors":
        return None
    try:
        header = read_safetensors_header(p, MAX_CHECKPOINT_HEADER)
    except LoraFileError:
        return None
    return architecture_from_keys(k for k in header if k != "__metadata__")


def resolve_architecture(checkpoint: Checkpoint, given: str = "auto") -> Arch:
    """``given`` (``sd1``/``sd2``/``sdxl``) or, for ``auto``, the checkpoint file's own header."""
    if given and given != "auto":
        try:
            return Arch(given)
        except ValueError:
            raise CheckpointError(f"--arch {given!r}: choose auto, sd1, sd2 or sdxl") from None
    found = architecture_from_file(checkpoint.filename) if checkpoint.filename else None
    if found is not None:
        return found
    readable = bool(checkpoint.filename) and Path(checkpoint.filename).is_file()
    why = (
        "its header is not that of an SD1, SD2 or SDXL checkpoint (kohya's train_network.py and "
        "sdxl_train_network.py train those)"
        if readable
        else f"its file {checkpoint.filename!r} cannot be read from here"
    )
    raise CheckpointError(
        f"cannot tell the architecture of checkpoint {checkpoint.title!r}: {why}; pass --arch sd1, sd2 or sdxl"
    )
