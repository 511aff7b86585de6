"""How a run guides each denoising step beyond the host's plain CFG: the plan, and the per-pass session.

Hosts hand guidance the same few tensors in one of two spaces, and an adapter only has to pass them on:

* x0 (k-diffusion samplers on A1111; every sampler on Forge and reForge, whose post-CFG functions get
  ``denoised``, ``cond_denoised``, ``uncond_denoised``, ``sigma`` and ``input``):
  :meth:`GuidanceSession.combine_x0`;
* ε (A1111's DDIM, PLMS and UniPC): :meth:`GuidanceSession.combine_eps`.

Both receive the noisy input ``x``, the noise level ``sigma``, the conditional and unconditional predictions,
the host's guided result and the CFG scale, and return the prediction to use instead of the guided one. A
session lives for one sampling pass (a hires pass gets a new one), so methods with state across steps (a
momentum) keep it there. CFG rescale is Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps
are Flawed", §3.4, computed in v-space from x0 as ComfyUI's ``RescaleCFG`` does
(:func:`smoothie.guidance.rescale_cfg_x0`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class GuidanceMode(str, enum.Enum):
    """What replaces the host's plain CFG combination."""

    CFG = "cfg"  # the host's own CFG, untouched
    RESCALE = "rescale"  # CFG rescale (Lin et al. 2023, §3.4)


@dataclass(frozen=True)
class GuidancePlan:
    """The guidance of one run. ``skipped`` says why a requested method is not applied (the infotext says so)."""

    mode: GuidanceMode = GuidanceMode.CFG
    rescale: float = 0.0
    skipped: str | None = None

    @property
    def active(self) -> bool:
        """Whether the adapter must hook the host's CFG at all."""
        return self.mode is not GuidanceMode.CFG

    def session(self) -> GuidanceSession:
        return GuidanceSession(self)


class GuidanceSession:
    """Guidance for one sampling pass; create one per pass with :meth:`GuidancePlan.session`."""

    def __init__(self, plan: GuidancePlan):
        self.plan = plan
        self.steps = 0

    def combine_x0(self, *, x: Any, sigma: Any, cond: Any, uncond: Any, guided: Any, scale: float | None) -> Any:
        """The x0 prediction to use, from the host's CFG result ``guided`` and the conditional ``cond`` (x0).

        ``uncond`` may be None where the host skipped the unconditional pass (CFG scale 1); ``scale`` may be
        None where the host does not say it (Forge's post-CFG arguments). ``x`` and ``sigma`` hold one entry
        per image, like ``guided``.
        """
        from smoothie.guidance import rescale_cfg_x0

        self.steps += 1
        if self.plan.mode is GuidanceMode.RESCALE and scale != 1.0:
            return rescale_cfg_x0(x, guided, cond, sigma, self.plan.rescale)
        return guided

    def combine_eps(self, *, cond: Any, uncond: Any, guided: Any, scale: float | None, sigma: Any = None) -> Any:
        """The ε prediction to use, from the host's CFG result ``guided`` and the conditional ``cond`` (ε)."""
        from smoothie.guidance import rescale_cfg

        self.steps += 1
        if self.plan.mode is GuidanceMode.RESCALE and scale != 1.0:
            return rescale_cfg(guided, cond, self.plan.rescale)
        return guided
