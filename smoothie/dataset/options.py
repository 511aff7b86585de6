"""The one validated parameters object of the dataset pipeline, shared by the CLI and the tab.

:class:`PrepOptions` holds the one set of defaults: the CLI's flags and the tab's widgets both read them
(:func:`defaults`), and both build the object with :meth:`PrepOptions.from_values`, which takes loosely
typed values (strings from text boxes, floats from sliders, comma-separated lists) and validates them with
messages that name the option. What a user gets without choosing anything: near-duplicates dropped, names
in captions replaced by descriptions, every subject turned to face left, blurry outliers dropped, smart
512 px crops, a kohya folder of PNGs.

Nothing heavy is imported here: the CLI's parser building imports this module.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


class CropMode(str, enum.Enum):
    """How an image is brought to the training size (see :mod:`smoothie.dataset.crop`)."""

    SMART = "smart"  # a square of --size that keeps faces/eyes, else the salient region
    UP = "up"  # pad to a square instead of cutting anything away
    CENTER = "center"  # the centred square
    BUCKET = "bucket"  # kohya-style aspect-ratio bucket (steps of 64, area <= size²), cut smartly


class FaceDirection(str, enum.Enum):
    """Which way every subject should face after the run (``keep``: flip nothing)."""

    LEFT = "left"
    RIGHT = "right"
    KEEP = "keep"


class ExportFormat(str, enum.Enum):
    KOHYA = "kohya"  # img/<repeats>_<concept>/name.png + name.txt, meta_lat.json
    JSONL = "jsonl"  # images/<concept>/name.png, metadata.jsonl


class ImageFormat(str, enum.Enum):
    PNG = "png"
    JPG = "jpg"
    WEBP = "webp"


SHARPNESS_AUTO = "auto"
DEFAULT_TEMPLATE = (
    "{trigger}, {subject}, {shot}, {camera_angle}, {pose}, {expression}, "
    "{eyes}, {mouth}, {gaze}, {setting}, {tags}, {colours}"
)
# Pillow's own default limit (Image.MAX_IMAGE_PIXELS): about 179 megapixels, a 1024 MB 24-bit image.
DEFAULT_MAX_PIXELS = 178_956_970


def _enum(kind: type[enum.Enum], value: object, name: str) -> Any:
    if isinstance(value, kind):
        return value
    try:
        return kind(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(str(m.value) for m in kind)
        raise ValueError(f"{name}: expected one of {choices}, got {value!r}") from None


def parse_sharpness(value: object) -> str | float:
    """``auto`` (threshold from the folder's own distribution), ``off``/``0`` (keep all) or a number ≥ 0."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        text = str(value).strip().lower()
        if text == SHARPNESS_AUTO:
            return SHARPNESS_AUTO
        if text in {"off", "none", ""}:
            return 0.0
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"min_sharpness: expected 'auto', 'off' or a number >= 0, got {value!r}") from None
    if not number >= 0 or number == float("inf"):
        raise ValueError(f"min_sharpness: expected 'auto', 'off' or a number >= 0, got {value!r}")
    return number


@dataclass(frozen=True)
class PrepOptions:
    """Everything one run of ``dataset prep`` depends on. Built once, validated in ``__post_init__``."""

    input_dir: Path
    output_dir: Path
    crop: CropMode = CropMode.SMART
    size: int = 512
    face_direction: FaceDirection = FaceDirection.LEFT
    scrub_names: bool = True
    keep_names: tuple[str, ...] = ()
    dedup: bool = True
    dedup_distance: int = 6
    min_sharpness: str | float = SHARPNESS_AUTO
    export_format: ExportFormat = ExportFormat.KOHYA
    image_format: ImageFormat = ImageFormat.PNG
    workers: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))
    concept: str = ""
    trigger: str = ""
    subject: str = ""
    template: str = DEFAULT_TEMPLATE
    vocabulary: Path | None = None
    compounds: Path | None = None
    classes_dir: Path | None = None
    labels: Mapping[str, str] = field(default_factory=dict)  # source (relative) -> class, from the tab
    max_pixels: int = DEFAULT_MAX_PIXELS
    wd14: str = ""  # local folder or Hugging Face id of a WD14 tagger (ONNX)
    wd14_threshold: float = 0.35
    captioner: str = ""  # local folder or Hugging Face id of a transformers image-to-text model
    repeats: int = 0  # 0: recommended from the image count
    epochs: int = 0
    force: bool = False  # use an output folder that holds other files (they are still never overwritten)
    # Offline vision models (MediaPipe face mesh/pose, EfficientNet-Lite0) where installed; False: Haar only.
    vision: bool = True
    dedup_similarity: float = 0.95  # also near-duplicates: image-feature cosine similarity at least this (0: off)
    direction_examples: Path | None = None  # DIR/left/*, DIR/right/*: examples for the direction classifier
    direction_labels: Mapping[str, str] = field(default_factory=dict)  # source (relative) -> left|right, tab

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name, what in (("input_dir", "input folder"), ("output_dir", "output folder")):
            # An empty path (an unset shell variable, an empty field) would mean the current folder.
            if not str(getattr(self, name)).strip():
                raise ValueError(f"{what}: no path given")
            set_(self, name, Path(getattr(self, name)))
        set_(self, "crop", _enum(CropMode, self.crop, "crop"))
        set_(self, "face_direction", _enum(FaceDirection, self.face_direction, "face_direction"))
        set_(self, "export_format", _enum(ExportFormat, self.export_format, "format"))
        fmt = str(self.image_format.value if isinstance(self.image_format, ImageFormat) else self.image_format)
        set_(self, "image_format", _enum(ImageFormat, "jpg" if fmt.lower() == "jpeg" else fmt, "image_format"))
        set_(self, "min_sharpness", parse_sharpness(self.min_sharpness))
        set_(self, "keep_names", tuple(str(n) for n in self.keep_names if str(n).strip()))
        set_(self, "labels", dict(self.labels))
        set_(self, "direction_labels", {str(k): str(v).strip().lower() for k, v in dict(self.direction_labels).items()})
        bad = sorted({v for v in self.direction_labels.values() if v not in ("left", "right")})
        if bad:
            raise ValueError(f"direction_labels: each label must be 'left' or 'right', got {bad}")
        for name in ("vocabulary", "compounds", "classes_dir", "direction_examples"):
            value = getattr(self, name)
            if value is not None and str(value) != "":
                set_(self, name, Path(value))
            else:
                set_(self, name, None)
        if not isinstance(self.size, int) or isinstance(self.size, bool) or not 64 <= self.size <= 8192:
            raise ValueError(f"size: expected an integer between 64 and 8192, got {self.size!r}")
        if self.crop is CropMode.BUCKET and self.size % 64:
            raise ValueError(f"size: bucket crops need a multiple of 64, got {self.size!r}")
        if not isinstance(self.workers, int) or isinstance(self.workers, bool) or not 1 <= self.workers <= 64:
            raise ValueError(f"workers: expected an integer between 1 and 64, got {self.workers!r}")
        if not isinstance(self.dedup_distance, int) or not 0 <= self.dedup_distance <= 32:
            raise ValueError(f"dedup_distance: expected an integer between 0 and 32, got {self.dedup_distance!r}")
        if not isinstance(self.max_pixels, int) or self.max_pixels < 1:
            raise ValueError(f"max_pixels: expected a positive integer, got {self.max_pixels!r}")
        if not 0.0 <= float(self.dedup_similarity) <= 1.0:
            raise ValueError(
                f"dedup_similarity: expected a number between 0 (off) and 1, got {self.dedup_similarity!r}"
            )
        if not 0.0 < float(self.wd14_threshold) < 1.0:
            raise ValueError(f"wd14_threshold: expected a number between 0 and 1, got {self.wd14_threshold!r}")
        for name in ("repeats", "epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value <= 10_000:
                raise ValueError(f"{name}: expected an integer between 0 (automatic) and 10000, got {value!r}")
        if "{" in self.concept or "/" in self.concept or "\\" in self.concept:
            raise ValueError(f"concept: a folder-safe name without '/', '\\' or braces, got {self.concept!r}")
        from smoothie.dataset.caption import check_template

        check_template(self.template)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> PrepOptions:
        """The options from loosely typed values keyed by field name (a form, a parsed command line).

        Missing keys and ``None`` take the default; text is stripped; an empty text for an optional path
        means none; whole-number floats (sliders) become ints; ``keep_names`` may be a comma-separated
        string. Raises ``ValueError`` naming the option for anything else that is wrong.
        """
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown option(s) {unknown}; known: {sorted(known)}")
        kwargs = {name: _loose(name, value) for name, value in values.items() if value is not None}
        for name in ("input_dir", "output_dir"):
            kwargs.setdefault(name, "")
        return cls(**kwargs)

    # Digests decide what a re-run may reuse: analysis results depend on fewer options than outputs do.
    def analysis_key(self) -> str:
        return _digest(
            {
                "v": 2,  # 2: sidecars that are not text are ignored with a note
                "max_pixels": self.max_pixels,
                "classes": bool(self.classes_dir or self.labels),
                "wd14": self.wd14,
                "wd14_threshold": self.wd14_threshold,
                "captioner": self.captioner,
            }
        )

    def as_json(self) -> dict[str, Any]:
        """The options as plain JSON values (paths as strings), recorded in summary.json."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, enum.Enum):
                out[key] = value.value
            elif isinstance(value, Path):  # a name that is not UTF-8 shows its bytes as \xNN
                out[key] = str(value).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            elif isinstance(value, tuple):
                out[key] = list(value)
            else:
                out[key] = value
        return out


def _loose(name: str, value: Any) -> Any:
    """One loosely typed value as the field ``name`` takes it (see :meth:`PrepOptions.from_values`)."""
    if isinstance(value, str) and name != "template":
        value = value.strip()
    if name in _INTS:
        return _integer(value, name)
    if name in _FLOATS:
        return _number(value, name)
    if name in _BOOLS:
        return _boolean(value, name)
    if name in ("vocabulary", "compounds", "classes_dir", "direction_examples") and value == "":
        return None
    if name == "keep_names" and isinstance(value, str):
        return tuple(n.strip() for n in value.split(",") if n.strip())
    if name == "labels" and not isinstance(value, Mapping):
        raise ValueError(f"labels: expected a mapping of image to class, got {value!r}")
    if name == "direction_labels" and not isinstance(value, Mapping):
        raise ValueError(f"direction_labels: expected a mapping of image to 'left' or 'right', got {value!r}")
    return value


_INTS = frozenset({"size", "workers", "dedup_distance", "max_pixels", "repeats", "epochs"})
_FLOATS = frozenset({"wd14_threshold", "dedup_similarity"})
_BOOLS = frozenset({"scrub_names", "dedup", "force", "vision"})


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected an integer, got {value!r}") from None
    if not number.is_integer():
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    return int(number)


def _number(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    return number


def _boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{name}: expected true or false, got {value!r}")


def defaults() -> dict[str, Any]:
    """Every option's default (the CLI's flags and the tab's widgets start from these)."""
    out: dict[str, Any] = {}
    for f in fields(PrepOptions):
        if f.default is not MISSING:
            out[f.name] = f.default
        elif f.default_factory is not MISSING:
            out[f.name] = f.default_factory()
    return out


def _digest(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]
