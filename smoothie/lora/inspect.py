"""Reading LoRA files without loading their tensors: the safetensors header and what it says.

A safetensors file starts with an 8-byte little-endian header length N, then N bytes of UTF-8 JSON: one entry
per tensor (``dtype``, ``shape``, ``data_offsets``) and an optional ``__metadata__`` of strings
(https://github.com/huggingface/safetensors, "Format"). Only the header is read, with a size limit, so a
corrupt or hostile file cannot make us allocate gigabytes.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: Largest header we accept. Real LoRA headers are tens to hundreds of KiB (kohya's ``ss_tag_frequency`` is the
#: bulk); the safetensors library itself refuses headers over 100 MB.
MAX_HEADER_BYTES = 100 * 1024 * 1024

LORA_SUFFIXES = (".safetensors", ".pt", ".ckpt")


class LoraFileError(ValueError):
    """A file that is not a readable safetensors LoRA; the message names the file and what is wrong."""


class Architecture(str, enum.Enum):
    """The base model family a LoRA (or a loaded checkpoint) belongs to."""

    SD1 = "sd1"
    SD2 = "sd2"
    SDXL = "sdxl"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return {"sd1": "SD1.x", "sd2": "SD2.x", "sdxl": "SDXL", "unknown": "unknown"}[self.value]


def read_safetensors_header(path: str | os.PathLike[str], max_header_bytes: int = MAX_HEADER_BYTES) -> dict[str, Any]:
    """Return the parsed JSON header of the safetensors file at ``path`` (tensor entries + ``__metadata__``).

    Raises :class:`LoraFileError` for a missing file, a file too short to hold a header, a header longer than
    ``max_header_bytes`` or than the file, JSON that does not parse or is not an object, and tensor entries whose
    data would lie past the end of the file (a truncated download).
    """
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise LoraFileError(f"LoRA file {str(p)!r} does not exist") from None
    except OSError as exc:
        raise LoraFileError(f"cannot read LoRA file {str(p)!r}: {exc}") from exc
    if size < 8:
        raise LoraFileError(f"{str(p)!r} is not a safetensors file: {size} bytes, too short for a header")
    try:
        with p.open("rb") as fh:
            (length,) = struct.unpack("<Q", fh.read(8))
            if length > max_header_bytes:
                raise LoraFileError(
                    f"{str(p)!r}: safetensors header of {length} bytes exceeds the limit of {max_header_bytes} "
                    "bytes (corrupt or not a safetensors file)"
                )
            if length > size - 8:
                raise LoraFileError(
                    f"{str(p)!r} is truncated or not a safetensors file: header claims {length} bytes, "
                    f"file has {size - 8} after the length field"
                )
            raw = fh.read(length)
    except OSError as exc:
        raise LoraFileError(f"cannot read LoRA file {str(p)!r}: {exc}") from exc
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LoraFileError(f"{str(p)!r} is not a safetensors file: header is not JSON ({exc})") from None
    if not isinstance(header, dict):
        raise LoraFileError(f"{str(p)!r} is not a safetensors file: header is a {type(header).__name__}, not an object")
    data_size = size - 8 - length
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict):
                raise LoraFileError(f"{str(p)!r}: __metadata__ must be an object, got {type(entry).__name__}")
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
            raise LoraFileError(f"{str(p)!r}: tensor {name!r} has no valid data_offsets ({entry!r:.200})")
        if offsets[1] > data_size or offsets[0] > offsets[1]:
            raise LoraFileError(
                f"{str(p)!r} is truncated: tensor {name!r} ends at byte {offsets[1]} of a {data_size}-byte data section"
            )
    return header


_BASE_VERSION = {
    "sd_v1": Architecture.SD1,
    "sd_v2": Architecture.SD2,
    "sd_v2_v": Architecture.SD2,
    "sd_v2_768_v": Architecture.SD2,
    "sdxl_base_v0-9": Architecture.SDXL,
    "sdxl_base_v1-0": Architecture.SDXL,
}

# Cross-attention context width (attn2.to_k input) of the real model families.
_CONTEXT_DIM = {768: Architecture.SD1, 1024: Architecture.SD2, 2048: Architecture.SDXL}


def _from_metadata(meta: Mapping[str, Any]) -> Architecture | None:
    version = str(meta.get("ss_base_model_version", "")).strip().lower()
    if version in _BASE_VERSION:
        return _BASE_VERSION[version]
    if version.startswith("sdxl"):
        return Architecture.SDXL
    if version.startswith("sd_v2"):
        return Architecture.SD2
    if version.startswith("sd_v1"):
        return Architecture.SD1
    arch = str(meta.get("modelspec.architecture", "")).lower()
    if arch.startswith("stable-diffusion-xl"):
        return Architecture.SDXL
    if arch.startswith("stable-diffusion-v2"):
        return Architecture.SD2
    if arch.startswith("stable-diffusion-v1"):
        return Architecture.SD1
    if meta.get("ss_v2") == "True":
        return Architecture.SD2
    return None


def detect_architecture(header: Mapping[str, Any]) -> Architecture:
    """Tell an SD1 / SD2 / SDXL LoRA apart from its header.

    Evidence, strongest first: kohya's ``ss_base_model_version`` / ``ss_v2`` and ``modelspec.architecture``
    metadata; SDXL's two text encoders (``lora_te1_*`` / ``lora_te2_*`` keys); the cross-attention context width
    of ``attn2.to_k``'s down projection (768 SD1, 1024 SD2, 2048 SDXL); the UNet block layout (SDXL has no
    attention in its first down block: ``input_blocks_1``/``down_blocks_0_attentions`` only exist in SD1/2).
    """
    meta = header.get("__metadata__") or {}
    found = _from_metadata(meta) if isinstance(meta, Mapping) else None
    if found is not None:
        return found
    keys = [k for k in header if k != "__metadata__"]
    if any(k.startswith(("lora_te1_", "lora_te2_")) for k in keys):
        return Architecture.SDXL
    for key in keys:
        if "attn2" in key and "to_k" in key and ("lora_down" in key or "lora_A" in key):
            shape = header[key].get("shape") if isinstance(header[key], dict) else None
            if isinstance(shape, list) and len(shape) >= 2 and shape[1] in _CONTEXT_DIM:
                return _CONTEXT_DIM[shape[1]]
    if any(("input_blocks_1_1_" in k or "down_blocks_0_attentions" in k) for k in keys):
        te_width = _text_width(header, keys)
        return Architecture.SD2 if te_width == 1024 else Architecture.SD1
    return Architecture.UNKNOWN


def _text_width(header: Mapping[str, Any], keys: list[str]) -> int | None:
    for key in keys:
        if key.startswith("lora_te_") and key.endswith(("lora_down.weight", "lora_A.weight")):
            shape = header[key].get("shape") if isinstance(header[key], dict) else None
            if isinstance(shape, list) and len(shape) == 2:
                return int(shape[1])
    return None


@dataclass(frozen=True)
class LoraInfo:
    """What a LoRA's header says: where it is, the name A1111 knows it by, its architecture and tags."""

    path: Path
    name: str
    architecture: Architecture
    n_tensors: int = 0
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def top_tags(self) -> list[str]:
        """Training caption tags, most frequent first (kohya's ``ss_tag_frequency``); a hint for the trigger."""
        raw = self.metadata.get("ss_tag_frequency")
        if not raw:
            return []
        try:
            freq = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError:
            return []
        counts: dict[str, int] = {}
        if isinstance(freq, dict):
            for tags in freq.values():
                if isinstance(tags, dict):
                    for tag, n in tags.items():
                        if isinstance(n, int | float):
                            counts[str(tag).strip()] = counts.get(str(tag).strip(), 0) + int(n)
        return [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if t]


def inspect_lora(path: str | os.PathLike[str], max_header_bytes: int = MAX_HEADER_BYTES) -> LoraInfo:
    """Read ``path``'s header and describe the LoRA (:class:`LoraFileError` for unreadable files).

    Files that are not safetensors (``.pt``, ``.ckpt``: pickles we will not unpickle) are reported with
    ``Architecture.UNKNOWN``.
    """
    p = Path(path)
    if p.suffix.lower() != ".safetensors":
        if not p.is_file():
            raise LoraFileError(f"LoRA file {str(p)!r} does not exist")
        return LoraInfo(path=p, name=p.stem, architecture=Architecture.UNKNOWN)
    header = read_safetensors_header(p, max_header_bytes)
    meta = header.get("__metadata__") or {}
    return LoraInfo(
        path=p,
        name=p.stem,
        architecture=detect_architecture(header),
        n_tensors=sum(1 for k in header if k != "__metadata__"),
        metadata={str(k): str(v) for k, v in meta.items()},
    )


def find_loras(folder: str | os.PathLike[str], recursive: bool = True) -> list[Path]:
    """LoRA files (``.safetensors``, ``.pt``, ``.ckpt``) in ``folder``, sorted by name, as A1111's Lora lists them.

    A missing folder gives an empty list (a fresh install has none); a path that is a file raises ``ValueError``.
    """
    root = Path(folder)
    if not root.exists():
        return []
    if not root.is_dir():
        raise ValueError(f"LoRA folder {str(root)!r} is not a directory")
    pattern = "**/*" if recursive else "*"
    files = [f for f in root.glob(pattern) if f.is_file() and f.suffix.lower() in LORA_SUFFIXES]
    return sorted(files, key=lambda f: (f.stem.casefold(), str(f)))


def choose_negative_lora(
    paths: list[Path], trigger: str, model: Architecture, max_header_bytes: int = MAX_HEADER_BYTES
) -> Path | None:
    """The LoRA to use when the negative LoRA is ``auto``: the first (by name) whose file name contains the
    trigger word (``wrong`` → ``wrong-sdxl-v1``) and whose header says it was trained for ``model``'s
    architecture. Unreadable files and other architectures are passed over; None when nothing fits, or when
    the model's architecture is unknown (a LoRA for the wrong model would only add noise)."""
    word = trigger.strip().casefold()
    if not word or model is Architecture.UNKNOWN:
        return None
    for path in sorted(paths, key=lambda p: p.stem.casefold()):
        if word not in path.stem.casefold():
            continue
        try:
            info = inspect_lora(path, max_header_bytes)
        except LoraFileError as exc:
            logger.info("auto negative LoRA: skipping %s: %s", path, exc)
            continue
        if info.architecture is model:
            return path
    return None
