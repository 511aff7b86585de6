"""Putting a negative LoRA into prompts: ``<lora:NAME:W>`` once in the positive prompt, the trigger in the negative.

A1111 (``modules/extra_networks.py``) strips ``<lora:…>`` tags from every positive prompt of a batch and applies
those of the first; N identical tags apply the LoRA N times, so injection must be idempotent. The LoRA is active
for both the conditional and the unconditional pass; the trigger word in the negative prompt makes the
unconditional pass "wrong", and classifier-free guidance steers away from it.
"""

from __future__ import annotations

import math
import re

_BAD_NAME = re.compile(r"[<>:]")


def _check_name(name: str) -> str:
    stripped = name.strip()
    if not stripped or _BAD_NAME.search(stripped):
        raise ValueError(f"LoRA name must be non-empty and contain none of '<', '>', ':', got {name!r}")
    return stripped


def lora_tag(name: str, weight: float) -> str:
    """``<lora:NAME:W>`` with the weight written compactly (``1``, ``0.8``, ``-0.5``)."""
    w = float(weight)
    if not math.isfinite(w):
        raise ValueError(f"LoRA weight must be a finite number, got {weight!r}")
    return f"<lora:{_check_name(name)}:{w:g}>"


def has_lora(prompt: str, name: str) -> bool:
    """True when ``prompt`` already has a ``<lora:NAME…>`` tag (any weight)."""
    pattern = rf"<lora:{re.escape(_check_name(name))}(?::[^>]*)?>"
    return re.search(pattern, prompt) is not None


def inject_lora(prompt: str, name: str, weight: float) -> str:
    """Append ``<lora:NAME:W>`` to ``prompt`` unless a tag for NAME is already there (then return it unchanged).

    Appending is safe with ``AND … :w`` and ``BREAK``: A1111 removes extra-network tags before it splits on
    ``AND`` or reads weights.
    """
    tag = lora_tag(name, weight)
    if has_lora(prompt, name):
        return prompt
    stripped = prompt.rstrip()
    return f"{stripped} {tag}" if stripped else tag


def has_trigger(negative: str, trigger: str) -> bool:
    """True when ``trigger`` already appears in ``negative`` as a whole word or phrase (case-insensitive)."""
    t = trigger.strip()
    if not t:
        return True
    return re.search(rf"(?<!\w){re.escape(t)}(?!\w)", negative, flags=re.IGNORECASE) is not None


def inject_trigger(negative: str, trigger: str) -> str:
    """Append ``trigger`` to the negative prompt (comma-separated) unless it is already there."""
    t = trigger.strip()
    if has_trigger(negative, t):
        return negative
    stripped = negative.rstrip().rstrip(",").rstrip()
    return f"{stripped}, {t}" if stripped else t
