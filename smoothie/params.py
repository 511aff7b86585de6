"""The Smoothie script's parameters: one frozen, validated object, and the single source of their order.

The WebUI's components, the infotext keys (``Smoothie …``) and the HTTP API's positional ``script_args`` all
follow :data:`FIELDS`; ``tests/unit/test_params.py`` keeps them in sync. Host-free: no ``modules``, no
``gradio``.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MIN_ENSEMBLE = 1
MAX_ENSEMBLE = 256
MAX_CFG_BOOST = 50.0
MAX_LORA_WEIGHT = 4.0
#: CFG used for the "boosted" cells of the comparison grid when ``cfg_boost`` is 0 (off).
GRID_DEFAULT_BOOST = 20.0
NO_LORA = "None"
#: Guidance methods the script offers instead of the host's plain CFG.
GUIDANCE_METHODS = ("cfg", "rescale", "apg")
#: APG defaults (Sadat et al. 2024, arXiv 2410.02416): η = 0 and β = −0.5 as the paper recommends; the norm
#: threshold r depends on the model's latent scale; 15 suits SD1.5/SDXL latents (reForge's APG extension's default).
APG_ETA = 0.0
APG_NORM_THRESHOLD = 15.0
APG_MOMENTUM = -0.5
#: The guidance interval of Kynkäänniemi et al. 2024 for SDXL (EDM-style σ): guidance only for σ in (0.28, 5.42].
PAPER_INTERVAL = (0.28, 5.42)
MAX_SIGMA = 1000.0
#: Negative LoRA "auto": an installed LoRA named after the trigger (``wrong…``) that fits the loaded model.
AUTO_LORA = "auto"


class ParamsError(ValueError):
    """A parameter with a bad value; the message names the parameter and the value received."""


class EnsembleMode(str, enum.Enum):
    """How the ensemble of paraphrases conditions the image."""

    AVERAGE = "average"  # mean of the encodings: one UNet pass, cost independent of the ensemble size
    COMPOSABLE = "composable"  # A1111's AND with weights 1/N: exact, N× the UNet cost
    PER_IMAGE = "per-image"  # image i of the batch gets paraphrase i

    @classmethod
    def parse(cls, value: Any) -> EnsembleMode:
        if isinstance(value, cls):
            return value
        text = str(value).strip().lower().replace("_", "-").replace(" ", "-")
        for mode in cls:
            if text == mode.value:
                return mode
        raise ParamsError(f"mode must be one of {[m.value for m in cls]}, got {value!r}")


@dataclass(frozen=True)
class FieldSpec:
    """One parameter: its attribute name, infotext key, UI label and help text."""

    name: str
    infotext: str
    label: str
    help: str


#: UI order == API ``script_args`` order == infotext order.
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("enabled", "Smoothie ensemble", "Prompt ensemble", "rewrite the prompt into noun-free paraphrases"),
    FieldSpec("ensemble_size", "Smoothie size", "Ensemble size", f"paraphrases, {MIN_ENSEMBLE}–{MAX_ENSEMBLE}"),
    FieldSpec("mode", "Smoothie mode", "Ensemble mode", "average | composable | per-image"),
    FieldSpec(
        "backend",
        "Smoothie backend",
        "Paraphrase backend",
        "auto (a local LLM when there is one, else rules), rules, openai, transformers",
    ),
    FieldSpec("keep", "Smoothie keep", "Names to keep", "comma-separated names left in the paraphrases"),
    FieldSpec("rescale", "Smoothie rescale", "CFG rescale φ", "0 = off, 1 = full rescale (Lin et al. 2023)"),
    FieldSpec("cfg_boost", "Smoothie CFG boost", "Boost CFG to", "CFG scale while the script runs; 0 = keep"),
    FieldSpec("negative_lora", "Smoothie LoRA", "Negative LoRA", "LoRA applied with its trigger in the negative"),
    FieldSpec("lora_weight", "Smoothie LoRA weight", "LoRA weight", "weight of the negative LoRA"),
    FieldSpec("trigger", "Smoothie trigger", "Negative trigger", "word added to the negative prompt"),
    FieldSpec("comparison", "Smoothie grid", "Comparison grid", "baseline / ensemble / +rescale / +LoRA / placebo"),
    FieldSpec(
        "paraphrase",
        "Smoothie paraphrase",
        "First paraphrase (per-image)",
        "per-image mode: image k uses paraphrase (this + k) mod N; each image's infotext records its own",
    ),
    FieldSpec(
        "guidance",
        "Smoothie guidance",
        "Guidance",
        "cfg = the host's CFG | rescale = CFG rescale φ (Lin et al. 2023) | apg = adaptive projected guidance "
        "(Sadat et al. 2024)",
    ),
    FieldSpec("apg_eta", "Smoothie APG eta", "APG η", "weight of the update parallel to the prediction; 1 = CFG's"),
    FieldSpec(
        "apg_norm_threshold", "Smoothie APG norm", "APG norm threshold r", "cap on the update's norm; 0 = no cap"
    ),
    FieldSpec("apg_momentum", "Smoothie APG momentum", "APG momentum β", "negative = reverse momentum; 0 = off"),
    FieldSpec(
        "sigma_min",
        "Smoothie sigma min",
        "Guidance from σ",
        "guidance only while σ ≥ this (Kynkäänniemi et al. 2024); 0 = no lower limit",
    ),
    FieldSpec(
        "sigma_max",
        "Smoothie sigma max",
        "Guidance up to σ",
        "guidance only while σ ≤ this; 0 = no upper limit (the paper's SDXL interval: 0.28–5.42)",
    ),
    FieldSpec(
        "sweep",
        "Smoothie sweep",
        "CFG sweep grid",
        "the same seed at CFG 7, 12, 20, 25 with plain CFG, rescale and APG, each cell with its burn measures",
    ),
)

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
INFOTEXT_KEYS: dict[str, str] = {f.name: f.infotext for f in FIELDS}


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "on", "off", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "on", "1", "yes")
    raise ParamsError(f"{name} must be true or false, got {value!r}")


def _number(name: str, value: Any, lo: float, hi: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ParamsError(f"{name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(x) or not lo <= x <= hi:
        raise ParamsError(f"{name} must be a number within [{lo:g}, {hi:g}], got {value!r}")
    return x


def _int(name: str, value: Any, lo: int, hi: int) -> int:
    x = _number(name, value, -math.inf, math.inf) if not isinstance(value, bool) else None
    if x is None or x != int(x):
        raise ParamsError(f"{name} must be a whole number, got {value!r}")
    if not lo <= int(x) <= hi:
        raise ParamsError(f"{name} must be within {lo}–{hi}, got {value!r}")
    return int(x)


def parse_keep(value: Any) -> tuple[str, ...]:
    """Names to keep from a comma-separated string or a list of strings (blank items dropped, order kept)."""
    if value is None:
        return ()
    if isinstance(value, bytes | int | float):
        raise ParamsError(f"keep must be text or a list of names, got {value!r}")
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    try:
        names = [str(v).strip() for v in items]
    except TypeError:
        raise ParamsError(f"keep must be text or a list of names, got {value!r}") from None
    out: list[str] = []
    for name in names:
        if name and name not in out:
            out.append(name)
    return tuple(out)


def _text(name: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ParamsError(f"{name} must be text, got {value!r}")
    return value.strip()


@dataclass(frozen=True)
class SmoothieParams:
    """Every setting of one Smoothie run. Build with :meth:`create`, :meth:`from_args` or :meth:`from_infotext`."""

    enabled: bool = True
    ensemble_size: int = 32
    mode: EnsembleMode = EnsembleMode.AVERAGE
    backend: str = "auto"  # a local LLM when the machine has one, else rules (the CLI's default stays rules)
    keep: tuple[str, ...] = ()
    rescale: float = 0.7
    cfg_boost: float = 0.0
    negative_lora: str = AUTO_LORA
    lora_weight: float = 1.0
    trigger: str = "wrong"
    comparison: bool = False
    paraphrase: int = 0
    guidance: str = "rescale"
    apg_eta: float = APG_ETA
    apg_norm_threshold: float = APG_NORM_THRESHOLD
    apg_momentum: float = APG_MOMENTUM
    sigma_min: float = 0.0
    sigma_max: float = 0.0
    sweep: bool = False

    def __post_init__(self) -> None:
        # Coerce and validate every field, so that no instance holds a bad value.
        set_ = object.__setattr__
        set_(self, "enabled", _bool("enabled", self.enabled))
        set_(self, "ensemble_size", _int("ensemble_size", self.ensemble_size, MIN_ENSEMBLE, MAX_ENSEMBLE))
        set_(self, "mode", EnsembleMode.parse(self.mode))
        backend = _text("backend", self.backend)
        if not backend:
            raise ParamsError(f"backend must name a paraphrase backend, got {self.backend!r}")
        set_(self, "backend", backend)
        set_(self, "keep", parse_keep(self.keep))
        set_(self, "rescale", _number("rescale", self.rescale, 0.0, 1.0))
        boost = _number("cfg_boost", self.cfg_boost, 0.0, MAX_CFG_BOOST)
        if 0.0 < boost < 1.0:
            raise ParamsError(f"cfg_boost must be 0 (off) or within [1, {MAX_CFG_BOOST:g}], got {self.cfg_boost!r}")
        set_(self, "cfg_boost", boost)
        lora = _text("negative_lora", self.negative_lora)
        if lora.lower() in ("none", "-"):
            lora = ""
        if any(c in lora for c in "<>:"):
            raise ParamsError(f"negative_lora must be a LoRA name without '<', '>' or ':', got {self.negative_lora!r}")
        set_(self, "negative_lora", lora)
        set_(self, "lora_weight", _number("lora_weight", self.lora_weight, -MAX_LORA_WEIGHT, MAX_LORA_WEIGHT))
        trigger = _text("trigger", self.trigger)
        if any(c in trigger for c in "<>"):
            raise ParamsError(f"trigger must be plain text, got {self.trigger!r}")
        set_(self, "trigger", trigger)
        set_(self, "comparison", _bool("comparison", self.comparison))
        set_(self, "paraphrase", _int("paraphrase", self.paraphrase, 0, MAX_ENSEMBLE - 1))
        guidance = _text("guidance", self.guidance).lower().replace("cfg rescale", "rescale")
        if guidance not in GUIDANCE_METHODS:
            raise ParamsError(f"guidance must be one of {list(GUIDANCE_METHODS)}, got {self.guidance!r}")
        set_(self, "guidance", guidance)
        set_(self, "apg_eta", _number("apg_eta", self.apg_eta, -10.0, 10.0))
        set_(self, "apg_norm_threshold", _number("apg_norm_threshold", self.apg_norm_threshold, 0.0, 1000.0))
        set_(self, "apg_momentum", _number("apg_momentum", self.apg_momentum, -5.0, 1.0))
        lo = _number("sigma_min", self.sigma_min, 0.0, MAX_SIGMA)
        hi = _number("sigma_max", self.sigma_max, 0.0, MAX_SIGMA)
        if lo > 0 and hi > 0 and lo >= hi:
            raise ParamsError(
                f"sigma_min must be below sigma_max (0 = no limit), got {self.sigma_min!r} ≥ {self.sigma_max!r}"
            )
        set_(self, "sigma_min", lo)
        set_(self, "sigma_max", hi)
        set_(self, "sweep", _bool("sweep", self.sweep))

    # --- construction -------------------------------------------------------------------------------------
    @classmethod
    def create(cls, **values: Any) -> SmoothieParams:
        unknown = sorted(set(values) - set(FIELD_NAMES))
        if unknown:
            raise ParamsError(f"unknown Smoothie parameter(s) {unknown}; known: {list(FIELD_NAMES)}")
        return cls(**values)

    @classmethod
    def from_args(cls, args: Sequence[Any], defaults: SmoothieParams | None = None) -> SmoothieParams:
        """From positional ``script_args`` in :data:`FIELDS` order; missing trailing ones take ``defaults``.

        ``None`` (what A1111's API fills in for arguments it was not given) also means "default".
        """
        if len(args) > len(FIELDS):
            raise ParamsError(f"script_args takes at most {len(FIELDS)} values ({list(FIELD_NAMES)}), got {len(args)}")
        base = defaults or cls()
        values = {f.name: getattr(base, f.name) for f in FIELDS}
        for spec, value in zip(FIELDS, args, strict=False):
            if value is not None:
                values[spec.name] = value
        return cls(**values)

    @classmethod
    def from_infotext(cls, params: Mapping[str, Any], defaults: SmoothieParams | None = None) -> SmoothieParams:
        """From a parsed infotext (``{"Smoothie size": "32", …}``); absent keys take ``defaults``."""
        base = defaults or cls()
        values = {f.name: getattr(base, f.name) for f in FIELDS}
        for spec in FIELDS:
            if spec.infotext in params:
                values[spec.name] = parse_infotext_value(spec.name, params[spec.infotext])
        return cls(**values)

    def replace(self, **changes: Any) -> SmoothieParams:
        return dataclasses.replace(self, **changes)

    # --- output -------------------------------------------------------------------------------------------
    def to_args(self) -> list[Any]:
        """Positional ``script_args`` (JSON-friendly) in :data:`FIELDS` order; ``from_args`` inverts it."""
        return [self.api_value(f.name) for f in FIELDS]

    def api_value(self, name: str) -> Any:
        value = getattr(self, name)
        if isinstance(value, EnsembleMode):
            return value.value
        if name == "keep":
            return ", ".join(value)
        if name == "negative_lora":
            return value or NO_LORA
        return value

    def to_infotext(self) -> dict[str, str]:
        """``{"Smoothie size": "32", …}`` for every field, in :data:`FIELDS` order."""
        return {f.infotext: format_infotext_value(self.api_value(f.name)) for f in FIELDS}

    @property
    def interval(self) -> tuple[float | None, float | None] | None:
        """The guidance interval ``(low, high)`` in σ (None on an open side), or None when guidance is never cut."""
        if self.sigma_min <= 0 and self.sigma_max <= 0:
            return None
        return (self.sigma_min or None, self.sigma_max or None)

    @property
    def effective_cfg_boost(self) -> float:
        """CFG used for the grid's boosted cells: ``cfg_boost``, or :data:`GRID_DEFAULT_BOOST` when it is off."""
        return self.cfg_boost or GRID_DEFAULT_BOOST


def paste_value(name: str, params: Mapping[str, Any]) -> Any:
    """What PNG Info / *Send to* puts into field ``name`` from an image's parsed infotext; None leaves it as is.

    The infotext writes some keys only when they applied (APG's settings, the sides of a guidance interval), and
    images made before the guidance option have no ``Smoothie guidance``. So for an image that carries Smoothie's
    guidance keys at all, an absent interval side means "no limit" (0) and an absent method means ``rescale``
    (what those images used); APG's settings are left as they are (they do not change a non-APG image).
    """
    key = INFOTEXT_KEYS[name]
    if key in params:
        return params[key]
    if INFOTEXT_KEYS["guidance"] not in params and INFOTEXT_KEYS["rescale"] not in params:
        return None  # not a Smoothie image: leave every field alone
    if name == "guidance":
        return "rescale"
    if name in ("sigma_min", "sigma_max"):
        return 0.0
    return None


def format_infotext_value(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def parse_infotext_value(name: str, text: Any) -> Any:
    """Turn an infotext string back into the field's value (validation happens in the constructor)."""
    if name in ("enabled", "comparison", "sweep"):
        return _bool(name, text)
    if name in ("ensemble_size", "paraphrase"):
        return _int(name, text, -(2**31), 2**31)
    if name in (
        "rescale",
        "cfg_boost",
        "lora_weight",
        "apg_eta",
        "apg_norm_threshold",
        "apg_momentum",
        "sigma_min",
        "sigma_max",
    ):
        return _number(name, text, -math.inf, math.inf)
    return text
