"""Pure tensor maths for guidance: CFG rescale, APG, prediction-space conversions and conditioning averages.

torch is imported inside the functions, so importing this package costs nothing.
"""

from __future__ import annotations

from smoothie.guidance.apg import apg, project
from smoothie.guidance.conditioning import (
    average_conditioning,
    average_schedules,
    mean_conditioning,
    normalized_weights,
    pad_tokens,
    stack_conds,
)
from smoothie.guidance.prediction import eps_to_x0, rescale_cfg_x0, v_to_x0, x0_to_eps, x0_to_v
from smoothie.guidance.rescale import per_sample_std, rescale_cfg

__all__ = [
    "apg",
    "average_conditioning",
    "average_schedules",
    "eps_to_x0",
    "mean_conditioning",
    "normalized_weights",
    "pad_tokens",
    "per_sample_std",
    "project",
    "rescale_cfg",
    "rescale_cfg_x0",
    "stack_conds",
    "v_to_x0",
    "x0_to_eps",
    "x0_to_v",
]
