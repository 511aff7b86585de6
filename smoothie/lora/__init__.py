"""Finding and inspecting LoRA files (header only) and injecting a negative LoRA into prompts."""

from __future__ import annotations

from smoothie.lora.inspect import (
    MAX_HEADER_BYTES,
    MAX_JSON_VALUES,
    MAX_TENSORS,
    Architecture,
    LoraFileError,
    LoraInfo,
    choose_negative_lora,
    clear_cache,
    detect_architecture,
    find_loras,
    inspect_lora,
    read_safetensors_header,
)
from smoothie.lora.prompt import has_lora, has_trigger, inject_lora, inject_trigger, lora_tag

__all__ = [
    "MAX_HEADER_BYTES",
    "MAX_JSON_VALUES",
    "MAX_TENSORS",
    "Architecture",
    "LoraFileError",
    "LoraInfo",
    "choose_negative_lora",
    "clear_cache",
    "detect_architecture",
    "find_loras",
    "has_lora",
    "has_trigger",
    "inject_lora",
    "inject_trigger",
    "inspect_lora",
    "lora_tag",
    "read_safetensors_header",
]
