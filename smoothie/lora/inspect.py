"""Reading LoRA files without loading their tensors: the safetensors header and what it says.

A safetensors file starts with an 8-byte little-endian header length N, then N bytes of UTF-8 JSON: one entry
per tensor (``dtype``, ``shape``, ``data_offsets``) and an optional ``__metadata__`` of strings; the data
offsets cover the byte buffer after the header exactly, with no holes, and a tensor's span is its element count
times its dtype's size (https://github.com/huggingface/safetensors, "Format"; the library refuses a file that
breaks any of these, so the WebUI could not load it either).

A LoRA folder is read by strangers' files, so every path through here is bounded and total: the header length
is capped before anything is read, the number of JSON values is bounded before the JSON is parsed (a 16 MiB
header of ``[0,0,0,…]`` would otherwise build eight million objects), nesting deeper than the format allows is
refused, and every field is type-checked before it is used. Only :class:`LoraFileError` leaves this module's
readers. :func:`inspect_lora` caches its answer per file (path, size, mtime, inode), so the ``auto`` choice
that runs at every generation reads each header once.
"""

from __future__ import annotations

import enum
import functools
import json
import logging
import math
import os
import stat
import struct
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: Largest header we read. Real LoRA headers are tens to hundreds of KiB (kohya's ``ss_tag_frequency`` and a
#: ``modelspec.thumbnail`` are the bulk; a full SDXL checkpoint's is ~250 KiB); the safetensors library itself
#: refuses headers over 100 MB. 16 MiB leaves a wide margin and bounds a hostile file's cost.
MAX_HEADER_BYTES = 16 * 1024 * 1024

#: Most tensors a file may declare. A LoRA has a few hundred to a few thousand (LyCORIS LoKr on SDXL: ~5,000);
#: a whole SDXL checkpoint ~2,500.
MAX_TENSORS = 50_000

#: Most JSON values (commas + opening brackets, an upper bound counted before parsing) a header may hold:
#: about ten per tensor at :data:`MAX_TENSORS`, plus metadata.
MAX_JSON_VALUES = 1_000_000

#: Most dimensions a tensor may declare (real ones have at most five).
MAX_DIMS = 16

#: Largest dimension: PyTorch's sizes are signed 64-bit (the library reads a dimension as u64, and torch refuses
#: one above this even on a tensor with no elements).
MAX_DIM = 2**63 - 1

#: The library multiplies the dimensions in order as u64 and refuses the file when that overflows, even if a
#: later dimension is 0.
_U64_MAX = 2**64 - 1

#: The fields of a tensor entry the library reads; a duplicate of one of them (or of ``__metadata__``) is an
#: error there, a duplicate of anything else is not.
_ENTRY_FIELDS = frozenset({"dtype", "shape", "data_offsets"})

LORA_SUFFIXES = (".safetensors", ".pt", ".ckpt")

#: Bits per element of the safetensors dtypes (sub-byte float types pack several elements per byte). A dtype
#: not listed here is refused, as the library refuses it.
DTYPE_BITS: Mapping[str, int] = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "F64": 64,
    "I64": 64,
    "U64": 64,
    "C64": 64,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
}


#: Dtypes the library knows but cannot hand to PyTorch (the WebUIs load LoRAs as torch tensors).
_NOT_FOR_TORCH = frozenset({"F6_E2M3", "F6_E3M2"})


@functools.cache
def library_dtypes() -> frozenset[str]:
    """The dtypes of :data:`DTYPE_BITS` the installed safetensors library reads (A1111 pins 0.4.2, which knows
    no F4, F8_E8M0 or C64): each asked once with a one-tensor header. All of them without the library."""
    try:
        from safetensors import deserialize
    except Exception:  # any import failure: fall back to the full table
        return frozenset(DTYPE_BITS)
    known = set()
    for dtype, bits in DTYPE_BITS.items():
        count = 8 // math.gcd(bits, 8)  # whole bytes
        size = count * bits // 8
        header = json.dumps({"t": {"dtype": dtype, "shape": [count], "data_offsets": [0, size]}}).encode()
        try:
            deserialize(struct.pack("<Q", len(header)) + header + bytes(size))
        except Exception:  # the library's own error type differs between versions
            continue
        known.add(dtype)
    return frozenset(known)


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


def _short(name: str, limit: int = 80) -> str:
    """A tensor or metadata name for a message: repr'd, at most ``limit`` characters of it."""
    return repr(name if len(name) <= limit else name[: limit - 1] + "…")


def _is_count(value: object) -> bool:
    """A JSON integer that can be a size or an offset (not a bool, not negative)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _refuse_constant(name: str) -> Any:
    """``parse_constant``: ``NaN`` and ``Infinity`` are Python's extension, not JSON, and loaders refuse them."""
    raise ValueError(f"{name} is not a JSON value")


class _Duplicated(dict[str, Any]):
    """A JSON object that named some key twice (Python keeps the last; the library refuses some of them)."""

    duplicated: frozenset[str] = frozenset()


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: a dict, marked with the keys it saw more than once."""
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    twice: set[str] = set()
    for key, _ in pairs:
        (twice if key in seen else seen).add(key)
    marked = _Duplicated(obj)
    marked.duplicated = frozenset(twice)
    return marked


class _NegativeZero(float):
    """``-0`` in the header: Python reads the integer 0, the library refuses a sign on an unsigned number."""


def _parse_int(text: str) -> int | float:
    return _NegativeZero(-0.0) if text == "-0" else int(text)


def _valid_text(text: str) -> bool:
    """False for a string with a lone surrogate (``"\\ud800"`` parses in Python; the Rust loader refuses it)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_safetensors_header(path: str | os.PathLike[str], max_header_bytes: int = MAX_HEADER_BYTES) -> dict[str, Any]:
    """Return the parsed JSON header of the safetensors file at ``path`` (tensor entries + ``__metadata__``).

    Raises :class:`LoraFileError` (and nothing else) for a missing or unreadable file, a file too short to hold
    a header, a header longer than ``max_header_bytes`` or than the file, a header that is not UTF-8 JSON, not
    an object, has more than :data:`MAX_TENSORS` tensors or :data:`MAX_JSON_VALUES` values, or
    nests deeper than the format, a ``__metadata__`` that is not a map of strings, tensor entries without a
    known ``dtype``, a ``shape`` of non-negative integers (each < 2**63, their running product < 2**64) and two
    ``data_offsets``, a field given twice, offsets past the end of the file (a truncated download), a span that
    does not match shape × dtype, and offsets that leave holes: what the safetensors library refuses.
    """
    p = Path(path)
    where = repr(str(p))
    try:
        size = os.stat(p).st_size
    except FileNotFoundError:
        raise LoraFileError(f"LoRA file {where} does not exist") from None
    except (OSError, ValueError) as exc:
        raise LoraFileError(f"cannot read LoRA file {where}: {exc}") from None
    if size < 8:
        raise LoraFileError(f"{where} is not a safetensors file: {size} bytes, too short for a header")
    try:
        with p.open("rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise LoraFileError(f"{where} is not a safetensors file: too short for a header")
            (length,) = struct.unpack("<Q", head)
            if length > max_header_bytes:
                raise LoraFileError(
                    f"{where}: safetensors header of {length} bytes exceeds the limit of {max_header_bytes} "
                    "bytes (corrupt or not a safetensors file)"
                )
            if length > size - 8:
                raise LoraFileError(
                    f"{where} is truncated or not a safetensors file: header claims {length} bytes, "
                    f"file has {size - 8} after the length field"
                )
            raw = fh.read(length)
    except (OSError, ValueError) as exc:
        if isinstance(exc, LoraFileError):
            raise
        raise LoraFileError(f"cannot read LoRA file {where}: {exc}") from None
    if len(raw) < length:
        raise LoraFileError(f"{where} is truncated: header claims {length} bytes, {len(raw)} could be read")
    header = _parse_header(raw, where)
    _check_entries(header, size - 8 - length, where)
    return header


def _parse_header(raw: bytes, where: str) -> dict[str, Any]:
    """The header's JSON object, its size bounded before parsing; LoraFileError for anything else."""
    if not raw.lstrip(b" \t\r\n").startswith(b"{"):
        raise LoraFileError(f"{where} is not a safetensors file: the header does not start with '{{'")
    # Every JSON value but the first follows a comma or an opening bracket, so this bounds the number of
    # values (and the memory the parser will use) at C speed, before parsing (strings may hold a few more).
    values = raw.count(b",") + raw.count(b"{") + raw.count(b"[")
    if values > MAX_JSON_VALUES:
        raise LoraFileError(
            f"{where}: safetensors header holds up to {values} JSON values, more than the limit of "
            f"{MAX_JSON_VALUES} (corrupt or hostile file)"
        )
    try:
        text = raw.decode("utf-8")
        parse_int = _parse_int if "-0" in text else None
        header = json.loads(text, parse_constant=_refuse_constant, parse_int=parse_int)
        if isinstance(header, dict) and _may_repeat_a_key(raw, header):  # parse again, noting repeated keys
            header = json.loads(text, parse_constant=_refuse_constant, parse_int=parse_int, object_pairs_hook=_object)
    except UnicodeDecodeError as exc:
        raise LoraFileError(f"{where} is not a safetensors file: header is not UTF-8 ({exc.reason})") from None
    except RecursionError:
        raise LoraFileError(f"{where}: safetensors header nests deeper than the format allows") from None
    except ValueError as exc:  # JSONDecodeError, and int() of a number with more than 4300 digits
        raise LoraFileError(f"{where} is not a safetensors file: header is not JSON ({str(exc)[:200]})") from None
    if not isinstance(header, dict):
        raise LoraFileError(f"{where} is not a safetensors file: header is a {type(header).__name__}, not an object")
    return header


def _may_repeat_a_key(raw: bytes, header: Mapping[str, Any]) -> bool:
    """Whether a tensor entry may give one of its fields twice, or the header ``__metadata__`` twice (the library
    refuses both; Python's json keeps the last). Such a key is a literal ``"dtype"`` … in the raw text unless
    spelled with ``\\u`` escapes. A field seen more often than there are tensors (or any escape) sends the header
    through the slower parse that notes repeated keys; with no more than that, a repeated field means another
    entry lacks it, and that file is refused anyway."""
    if b"\\u" in raw or raw.count(b'"__metadata__"') > 1:
        return True
    tensors = len(header) - ("__metadata__" in header)
    return any(raw.count(b'"' + key.encode() + b'"') > tensors for key in _ENTRY_FIELDS)


def _check_entries(header: Mapping[str, Any], data_size: int, where: str) -> None:
    """Type-check every entry and check the offsets against the data section (see read_safetensors_header)."""
    n_tensors = len(header) - ("__metadata__" in header)
    if n_tensors > MAX_TENSORS:
        raise LoraFileError(
            f"{where}: {n_tensors} tensors, more than any LoRA (limit {MAX_TENSORS}; corrupt or hostile file)"
        )
    if "__metadata__" in getattr(header, "duplicated", ()):
        raise LoraFileError(f"{where}: the header has two __metadata__ entries")
    spans: list[tuple[int, int, str]] = []
    known = library_dtypes()
    for name, entry in header.items():
        if name == "__metadata__":
            _check_metadata(entry, where)
            continue
        if not _valid_text(name):
            raise LoraFileError(f"{where}: a tensor name is not valid Unicode (lone surrogate)")
        if not isinstance(entry, dict):
            raise LoraFileError(f"{where}: tensor {_short(name)} is a {type(entry).__name__}, not an object")
        if type(entry) is _Duplicated and entry.duplicated & _ENTRY_FIELDS:
            twice = ", ".join(sorted(entry.duplicated & _ENTRY_FIELDS))
            raise LoraFileError(f"{where}: tensor {_short(name)} gives {twice} twice")
        dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if not isinstance(dtype, str):
            raise LoraFileError(f"{where}: tensor {_short(name)} has no dtype string")
        if dtype not in known:
            raise LoraFileError(
                f"{where}: tensor {_short(name)} has an unknown dtype {_short(dtype, 20)}"
                if dtype not in DTYPE_BITS
                else f"{where}: tensor {_short(name)} has dtype {dtype}, which the installed safetensors library "
                "cannot read (a newer one can)"
            )
        shape = _check_shape(name, shape, where)
        if (
            not (type(offsets) is list and len(offsets) == 2 and type(offsets[0]) is int and type(offsets[1]) is int)
            or offsets[0] < 0
        ):
            raise LoraFileError(f"{where}: tensor {_short(name)} has no valid data_offsets (two non-negative integers)")
        begin, end = offsets
        if end > data_size or begin > end:
            raise LoraFileError(
                f"{where} is truncated: tensor {_short(name)} ends at byte {end} of a {data_size}-byte data section"
                if end > data_size
                else f"{where}: tensor {_short(name)} has data_offsets that end before they begin"
            )
        _check_span(name, shape, DTYPE_BITS[dtype], end - begin, where)
        if dtype in _NOT_FOR_TORCH:
            raise LoraFileError(f"{where}: tensor {_short(name)} has dtype {dtype}, which PyTorch cannot load")
        if dtype == "F4" and shape and shape[-1] % 2:
            raise LoraFileError(
                f"{where}: F4 tensor {_short(name)} has an odd last dimension (PyTorch packs two values a byte)"
            )
        spans.append((begin, end, name))
    spans.sort()
    position = 0
    for begin, end, name in spans:
        if begin != position:
            raise LoraFileError(
                f"{where}: tensor {_short(name)} starts at byte {begin} of the data section, expected {position} "
                "(overlapping or missing data)"
            )
        position = end
    if position != data_size:
        raise LoraFileError(
            f"{where}: the tensors cover {position} bytes of a {data_size}-byte data section "
            "(corrupt file, or data appended after it)"
        )


def _check_shape(name: str, shape: object, where: str) -> list[int]:
    """A list of at most MAX_DIMS integers, each 0..MAX_DIM, whose running product fits in 64 bits."""
    if type(shape) is not list or len(shape) > MAX_DIMS:
        raise LoraFileError(
            f"{where}: tensor {_short(name)} has no valid shape (a list of at most {MAX_DIMS} non-negative integers)"
        )
    product = 1
    for dim in shape:
        if type(dim) is not int or dim < 0:
            raise LoraFileError(
                f"{where}: tensor {_short(name)} has no valid shape (a list of at most {MAX_DIMS} "
                "non-negative integers)"
            )
        if dim > MAX_DIM:
            raise LoraFileError(
                f"{where}: tensor {_short(name)} has a dimension larger than {MAX_DIM} (2**63 - 1) in its shape"
            )
        product *= dim
        if product > _U64_MAX:
            raise LoraFileError(
                f"{where}: tensor {_short(name)} has a shape whose size overflows 64 bits"
                + (" (the safetensors library refuses it even when a later dimension is 0)" if 0 in shape else "")
            )
    return shape


def _check_span(name: str, shape: list[int], bits: int, span: int, where: str) -> None:
    """The span a tensor's offsets give must hold exactly its elements (the library's own check)."""
    elements, cut = (0 if 0 in shape else 1), False
    for i, dim in enumerate(shape if elements else ()):
        elements *= dim
        if elements * bits > span * 8 and i < len(shape) - 1:  # stop early: no huge integers from hostile dims
            cut = True
            break
    if elements * bits != span * 8:
        need = f"more than {span}" if cut else str(math.ceil(elements * bits / 8))
        raise LoraFileError(
            f"{where}: tensor {_short(name)} of shape {_shape_text(shape)} needs {need} bytes, "
            f"its data_offsets give {span}"
        )


def _shape_text(shape: list[int]) -> str:
    text = "[" + ", ".join(str(d) if d < 10**12 else "(huge)" for d in shape) + "]"
    return text if len(text) <= 120 else text[:119] + "…"


def _check_metadata(meta: object, where: str) -> None:
    if meta is None:  # the loaders read ``null`` as no metadata
        return
    if not isinstance(meta, dict):
        raise LoraFileError(f"{where}: __metadata__ must be an object, got {type(meta).__name__}")
    for key, value in meta.items():
        if not isinstance(value, str):
            raise LoraFileError(
                f"{where}: __metadata__ {_short(key)} is a {type(value).__name__}; the format allows only strings"
            )
        if not (_valid_text(key) and _valid_text(value)):
            raise LoraFileError(f"{where}: __metadata__ has text that is not valid Unicode (lone surrogate)")


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

    Evidence, strongest first, stopping at the first that decides: kohya's ``ss_base_model_version`` /
    ``ss_v2`` and ``modelspec.architecture`` metadata; SDXL's two text encoders (``lora_te1_*`` / ``lora_te2_*``
    keys); the cross-attention context width of ``attn2.to_k``'s down projection (768 SD1, 1024 SD2, 2048
    SDXL); the UNet block layout (SDXL has no attention in its first down block: ``input_blocks_1``/
    ``down_blocks_0_attentions`` only exist in SD1/2). Entries of the wrong type are ignored, never raised on.
    """
    meta = header.get("__metadata__")
    found = _from_metadata(meta) if isinstance(meta, Mapping) else None
    if found is not None:
        return found
    keys = [k for k in header if isinstance(k, str) and k != "__metadata__"]
    if any(k.startswith(("lora_te1_", "lora_te2_")) for k in keys):
        return Architecture.SDXL
    for key in keys:
        if "attn2" in key and "to_k" in key and ("lora_down" in key or "lora_A" in key):
            width = _input_width(header[key])
            if width in _CONTEXT_DIM:
                return _CONTEXT_DIM[width]
    if any(("input_blocks_1_1_" in k or "down_blocks_0_attentions" in k) for k in keys):
        te_width = _text_width(header, keys)
        return Architecture.SD2 if te_width == 1024 else Architecture.SD1
    return Architecture.UNKNOWN


def _input_width(entry: object) -> int | None:
    """The second dimension of a ``[rank, in_features]`` down projection, if the entry has one."""
    shape = entry.get("shape") if isinstance(entry, Mapping) else None
    if isinstance(shape, list) and len(shape) >= 2 and _is_count(shape[1]):
        return int(shape[1])
    return None


def _text_width(header: Mapping[str, Any], keys: list[str]) -> int | None:
    for key in keys:
        if key.startswith("lora_te_") and key.endswith(("lora_down.weight", "lora_A.weight")):
            width = _input_width(header[key])
            if width is not None:
                return width
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
        """Training caption tags, most frequent first (kohya's ``ss_tag_frequency``); a hint for the trigger.

        Malformed metadata (not JSON, nested too deep, counts that are not finite numbers) gives what can be
        read of it, never an exception."""
        raw = self.metadata.get("ss_tag_frequency")
        if not raw:
            return []
        try:
            freq = json.loads(raw)
        except (ValueError, RecursionError):
            return []
        counts: dict[str, int] = {}
        if isinstance(freq, dict):
            for tags in freq.values():
                if isinstance(tags, dict):
                    for tag, n in tags.items():
                        if isinstance(n, int | float) and not isinstance(n, bool) and math.isfinite(n):
                            counts[tag.strip()] = counts.get(tag.strip(), 0) + int(n)
        return [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if t]


def inspect_lora(path: str | os.PathLike[str], max_header_bytes: int = MAX_HEADER_BYTES) -> LoraInfo:
    """Read ``path``'s header and describe the LoRA; :class:`LoraFileError` (only) for a file that cannot be.

    Files that are not safetensors (``.pt``, ``.ckpt``: pickles we will not unpickle) are reported with
    ``Architecture.UNKNOWN``. The answer (or the error) is cached per file: the same path with the same size,
    modification time and inode is not read again (:func:`clear_cache` forgets everything).
    """
    p = Path(path)
    where = repr(str(p))
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise LoraFileError(f"LoRA file {where} does not exist") from None
    except (OSError, ValueError) as exc:
        raise LoraFileError(f"cannot read LoRA file {where}: {exc}") from None
    if not _is_regular(st.st_mode):
        raise LoraFileError(f"LoRA file {where} is not a regular file")
    key = (os.fspath(p), st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev, max_header_bytes)
    cached = _CACHE.get(key)
    if isinstance(cached, LoraInfo):
        return cached
    if isinstance(cached, str):
        raise LoraFileError(cached)
    try:
        info = _inspect(p, max_header_bytes)
    except LoraFileError as exc:
        _CACHE.put(key, str(exc), len(str(exc)))
        raise
    _CACHE.put(key, info, sum(len(k) + len(v) for k, v in info.metadata.items()))
    return info


def _is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


def _inspect(p: Path, max_header_bytes: int) -> LoraInfo:
    if p.suffix.lower() != ".safetensors":
        return LoraInfo(path=p, name=p.stem, architecture=Architecture.UNKNOWN)
    header = read_safetensors_header(p, max_header_bytes)
    meta = header.get("__metadata__") or {}
    return LoraInfo(
        path=p,
        name=p.stem,
        architecture=detect_architecture(header),
        n_tensors=len(header) - ("__metadata__" in header),
        metadata=dict(meta),
    )


class _InfoCache:
    """A small thread-safe LRU of inspect_lora's answers, bounded in entries and in metadata characters (one
    header may carry megabytes of tag frequencies or a thumbnail)."""

    def __init__(self, max_entries: int = 512, max_chars: int = 64 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self._items: OrderedDict[tuple[Any, ...], tuple[LoraInfo | str, int]] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> LoraInfo | str | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: tuple[Any, ...], value: LoraInfo | str, chars: int) -> None:
        if chars > self.max_chars:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._chars -= old[1]
            # Older versions of the same file can never be asked for again.
            for stale in [k for k in self._items if k[0] == key[0]]:
                self._chars -= self._items.pop(stale)[1]
            self._items[key] = (value, chars)
            self._chars += chars
            while len(self._items) > self.max_entries or self._chars > self.max_chars:
                _, (_, dropped) = self._items.popitem(last=False)
                self._chars -= dropped

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._chars = 0

    def __len__(self) -> int:
        return len(self._items)


_CACHE = _InfoCache()


def clear_cache() -> None:
    """Forget every cached :func:`inspect_lora` answer (tests; a user never needs it: changed files miss)."""
    _CACHE.clear()


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
    paths: list[Path],
    trigger: str,
    model: Architecture,
    max_header_bytes: int = MAX_HEADER_BYTES,
    *,
    skipped: list[str] | None = None,
) -> Path | None:
    """The LoRA to use when the negative LoRA is ``auto``: the first (by name) whose file name contains the
    trigger word (``wrong`` → ``wrong-sdxl-v1``) and whose header says it was trained for ``model``'s
    architecture. Unreadable files and other architectures are passed over (an unreadable one is described in
    ``skipped``, when given, as ``"NAME (why)"``); None when nothing fits, or when the model's architecture is
    unknown (a LoRA for the wrong model would only add noise)."""
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
            if skipped is not None:
                skipped.append(f"{path.name} ({_reason(exc, path)})")
            continue
        if info.architecture is model:
            return path
    return None


def _reason(exc: LoraFileError, path: Path) -> str:
    """The message without the path it starts with (the caller names the file)."""
    text = str(exc)
    for prefix in (f"{str(path)!r}: ", f"{str(path)!r} "):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text
