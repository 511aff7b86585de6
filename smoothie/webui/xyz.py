"""X/Y/Z plot axes for Smoothie: ensemble size, mode, guidance (method, rescale φ, APG η/r/β, the σ interval) and
negative LoRA weight."""

from __future__ import annotations

import logging
from typing import Any

from smoothie.params import GUIDANCE_METHODS, EnsembleMode, SmoothieParams

logger = logging.getLogger(__name__)

OVERRIDES_ATTR = "smoothie_overrides"


def _apply(field: str, convert: Any) -> Any:
    def apply(p: Any, x: Any, xs: Any) -> None:
        # a new dict per cell: X/Y/Z shallow-copies p, so a shared dict would leak between cells
        setattr(p, OVERRIDES_ATTR, {**(getattr(p, OVERRIDES_ATTR, None) or {}), field: convert(x)})

    return apply


def _mode(x: Any) -> str:
    return EnsembleMode.parse(x).value


def _guidance(x: Any) -> str:
    return SmoothieParams(guidance=x).guidance


def add_axes() -> None:
    """Append the Smoothie axes to X/Y/Z plot's ``axis_options`` (once; no-op without X/Y/Z plot)."""
    from modules import scripts

    module = next(
        (d.module for d in scripts.scripts_data if d.script_class.__module__ in ("xyz_grid.py", "scripts.xyz_grid")),
        None,
    )
    if module is None:
        logger.info("Smoothie: X/Y/Z plot not found; no axes added")
        return
    axis = module.AxisOption
    if any(getattr(o, "label", "").startswith("Smoothie ") for o in module.axis_options):
        return
    module.axis_options.extend(
        [
            axis("Smoothie ensemble size", int, _apply("ensemble_size", int)),
            axis("Smoothie mode", str, _apply("mode", _mode), choices=lambda: [m.value for m in EnsembleMode]),
            axis("Smoothie rescale φ", float, _apply("rescale", float)),
            axis("Smoothie LoRA weight", float, _apply("lora_weight", float)),
            axis("Smoothie guidance", str, _apply("guidance", _guidance), choices=lambda: list(GUIDANCE_METHODS)),
            axis("Smoothie APG η", float, _apply("apg_eta", float)),
            axis("Smoothie APG norm threshold", float, _apply("apg_norm_threshold", float)),
            axis("Smoothie APG momentum", float, _apply("apg_momentum", float)),
            axis("Smoothie guidance σ min", float, _apply("sigma_min", float)),
            axis("Smoothie guidance σ max", float, _apply("sigma_max", float)),
        ]
    )
