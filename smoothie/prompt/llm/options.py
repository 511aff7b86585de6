"""Validation of the options shared by the LLM backends (errors name the option and the value received)."""

from __future__ import annotations

import math
import os
from typing import Any

ENV_CACHE_DIR = "SMOOTHIE_LLM_CACHE_DIR"
MAX_ROUNDS = 10


def positive_seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


def rounds_value(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ROUNDS:
        raise ValueError(f"rounds must be a whole number from 0 to {MAX_ROUNDS}, got {value!r}")
    return value


def int_in(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return value


def float_in(name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{name} must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def cache_dir_value(value: Any) -> str | None:
    """The disk cache directory: the option, else ``$SMOOTHIE_LLM_CACHE_DIR``, else none (memory only)."""
    if value is None:
        value = os.environ.get(ENV_CACHE_DIR) or None
    if value is not None and not isinstance(value, str | os.PathLike):
        raise ValueError(f"cache_dir must be a directory path, got {value!r}")
    return None if value is None else os.fspath(value)
