"""The "Smoothie" section of A1111's Settings: the script's defaults and where the names list lives."""

from __future__ import annotations

import logging
from typing import Any

from smoothie.params import (
    GUIDANCE_METHODS,
    MAX_CFG_BOOST,
    MAX_ENSEMBLE,
    MAX_LORA_WEIGHT,
    MIN_ENSEMBLE,
    EnsembleMode,
    ParamsError,
    SmoothieParams,
)

logger = logging.getLogger(__name__)

SECTION = ("smoothie", "Smoothie")

# option key → (SmoothieParams field, label)
DEFAULT_OPTIONS: dict[str, tuple[str, str]] = {
    "smoothie_default_enabled": ("enabled", "Prompt ensemble on by default"),
    "smoothie_default_size": ("ensemble_size", "Default ensemble size"),
    "smoothie_default_mode": ("mode", "Default ensemble mode"),
    "smoothie_default_backend": ("backend", "Default paraphrase backend"),
    "smoothie_default_rescale": ("rescale", "Default CFG rescale φ"),
    "smoothie_default_guidance": ("guidance", "Default guidance (cfg | rescale | apg)"),
    "smoothie_default_cfg_boost": ("cfg_boost", "Default boost CFG (0 = keep the CFG scale)"),
    "smoothie_default_lora_weight": ("lora_weight", "Default negative LoRA weight"),
    "smoothie_default_trigger": ("trigger", "Default negative trigger word"),
}
NAMES_FILE_OPTION = "smoothie_names_file"
TAG_DATABASE_OPTION = "smoothie_tag_database"
LLM_MODEL_OPTION = "smoothie_llm_model"
LLM_DEVICE_OPTION = "smoothie_llm_device"


def on_ui_settings() -> None:
    import gradio as gr
    from modules import shared

    base = SmoothieParams()

    def add(key: str, default: Any, label: str, component: Any = None, args: Any = None, *, comment: str = "") -> None:
        info = shared.OptionInfo(default, label, component, args, section=SECTION)
        if comment:
            info = info.info(comment)
        shared.opts.add_option(key, info)

    add("smoothie_default_enabled", base.enabled, DEFAULT_OPTIONS["smoothie_default_enabled"][1])
    add(
        "smoothie_default_size",
        base.ensemble_size,
        DEFAULT_OPTIONS["smoothie_default_size"][1],
        gr.Slider,
        {"minimum": MIN_ENSEMBLE, "maximum": MAX_ENSEMBLE, "step": 1},
    )
    add(
        "smoothie_default_mode",
        base.mode.value,
        DEFAULT_OPTIONS["smoothie_default_mode"][1],
        gr.Radio,
        {"choices": [m.value for m in EnsembleMode]},
    )
    add(
        "smoothie_default_backend",
        base.backend,
        DEFAULT_OPTIONS["smoothie_default_backend"][1],
        gr.Dropdown,
        lambda: {"choices": _backend_choices()},
        comment="auto: a language model already running here (Ollama, LM Studio, llama.cpp server) or the local "
        "model below, else the rules backend; nothing leaves this machine",
    )
    add(
        "smoothie_default_rescale",
        base.rescale,
        DEFAULT_OPTIONS["smoothie_default_rescale"][1],
        gr.Slider,
        {"minimum": 0.0, "maximum": 1.0, "step": 0.05},
    )
    add(
        "smoothie_default_guidance",
        base.guidance,
        DEFAULT_OPTIONS["smoothie_default_guidance"][1],
        gr.Radio,
        {"choices": list(GUIDANCE_METHODS)},
    )
    add(
        "smoothie_default_cfg_boost",
        base.cfg_boost,
        DEFAULT_OPTIONS["smoothie_default_cfg_boost"][1],
        gr.Slider,
        {"minimum": 0.0, "maximum": MAX_CFG_BOOST, "step": 0.5},
    )
    add(
        "smoothie_default_lora_weight",
        base.lora_weight,
        DEFAULT_OPTIONS["smoothie_default_lora_weight"][1],
        gr.Slider,
        {"minimum": -MAX_LORA_WEIGHT, "maximum": MAX_LORA_WEIGHT, "step": 0.05},
    )
    add("smoothie_default_trigger", base.trigger, DEFAULT_OPTIONS["smoothie_default_trigger"][1])
    from smoothie.prompt.llm.local import RECOMMENDED

    add(
        LLM_MODEL_OPTION,
        "",
        "Local language model for the auto and transformers backends",
        gr.Dropdown,
        {"choices": ["", *(r.model_id for r in RECOMMENDED)], "allow_custom_value": True},
        comment="a Hugging Face id (downloaded on first use), a GGUF file or a model folder; empty: none. "
        + "; ".join(r.label for r in RECOMMENDED),
    )
    add(
        LLM_DEVICE_OPTION,
        "auto",
        "Device of the local language model",
        gr.Radio,
        {"choices": ["auto", "cuda", "cpu"]},
        comment="auto: the GPU when there is one; the model leaves the GPU after each ensemble, for sampling",
    )
    add(
        NAMES_FILE_OPTION,
        "",
        "Extra names list (file path)",
        comment="one name a line, optionally 'name | label | replacement'; these names are genericised too",
    )
    add(
        TAG_DATABASE_OPTION,
        "",
        "Tag database (file path)",
        comment=(
            "danbooru's tags in tagcomplete's CSV format (tag,category,count,aliases): its artist, series and "
            "character tags are names. Empty: the SMOOTHIE_TAG_DATABASE environment variable, else the "
            "tagcomplete extension's tags/danbooru.csv when it is installed"
        ),
    )


def default_params() -> SmoothieParams:
    """The user's defaults from Settings (falling back to the built-in ones for unset or bad values)."""
    from modules import shared

    base = SmoothieParams()
    values: dict[str, Any] = {}
    for key, (name, _) in DEFAULT_OPTIONS.items():
        value = getattr(shared.opts, key, None)
        if value is None:
            continue
        try:
            base.replace(**{name: value})
        except ParamsError as exc:
            logger.warning("Smoothie: ignoring setting %s: %s", key, exc)
            continue
        values[name] = value
    return base.replace(**values)


def _backend_choices() -> list[str]:
    try:
        from smoothie.prompt.backends import available_backends

        return available_backends()
    except Exception:  # a broken optional backend must not break Settings
        return ["auto", "rules"]


def llm_options() -> dict[str, Any]:
    """The local language model from Settings, as backend options (empty when none is set)."""
    from modules import shared

    from smoothie.prompt.llm.local import backend_options

    model = str(getattr(shared.opts, LLM_MODEL_OPTION, "") or "")
    device = str(getattr(shared.opts, LLM_DEVICE_OPTION, "auto") or "auto")
    return backend_options(model, device)


def extra_names() -> tuple[Any, ...]:
    """Entries of the user's names list from Settings (empty when unset; a bad file is logged, not fatal)."""
    from modules import shared

    path = (getattr(shared.opts, NAMES_FILE_OPTION, "") or "").strip()
    if not path:
        return ()
    try:
        from smoothie.prompt import load_user_names

        return tuple(load_user_names(path))
    except (OSError, ValueError) as exc:
        logger.warning("Smoothie: cannot read the names list %s: %s", path, exc)
        return ()


def tag_database() -> str | None:
    """The tag database file set in Settings, when it can be read (None: the default one; a bad file is logged
    and the default is used, never a failed generation)."""
    from modules import shared

    path = (getattr(shared.opts, TAG_DATABASE_OPTION, "") or "").strip()
    if not path:
        return None
    try:
        from smoothie.prompt.tables import load_tag_database

        load_tag_database(path)  # read once per file version; the run reuses it
    except ValueError as exc:
        logger.warning("Smoothie: ignoring the Settings tag database: %s", exc)
        return None
    return path
