"""How a run guides each denoising step beyond the host's plain CFG: the plan, and the per-pass session.

Hosts hand guidance the same few tensors in one of two spaces, and an adapter only has to pass them on:

* x0 (k-diffusion samplers on A1111; every sampler on Forge and reForge, whose post-CFG functions get
  ``denoised``, ``cond_denoised``, ``uncond_denoised``, ``sigma`` and ``input``):
  :meth:`GuidanceSession.combine_x0`;
* ε (A1111's DDIM, PLMS and UniPC): :meth:`GuidanceSession.combine_eps`.

Both receive the noisy input ``x``, the noise level ``sigma``, the conditional and unconditional predictions,
the host's guided result and the CFG scale, and return the prediction to use instead of the guided one. A
session lives for one sampling pass (a hires pass gets a new one), so methods with state across steps (APG's
momentum) keep it there, and reset it when σ goes up (a sampler that restarts, a second pass in the same
session).

* CFG rescale: Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed", §3.4, computed
  in v-space from x0 as ComfyUI's ``RescaleCFG`` does (:func:`smoothie.guidance.rescale_cfg_x0`);
* APG: Sadat et al. 2024, "Eliminating Oversaturation and Artifacts of High Guidance Scales in Diffusion
  Models", Algorithm 1 (:func:`smoothie.guidance.apg`), in x0 space only;
* the guidance interval: Kynkäänniemi et al. 2024, "Applying Guidance in a Limited Interval Improves Sample and
  Distribution Quality in Diffusion Models": guidance (any of the above) only while σ is within
  ``[sigma_min, sigma_max]``; outside, the conditional prediction alone (CFG scale 1). Hosts that let the
  adapter lower the step's CFG scale (Forge, reForge: :meth:`GuidanceSession.step_scale`) then skip the
  unconditional pass.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class GuidanceMode(str, enum.Enum):
    """What replaces the host's plain CFG combination."""

    CFG = "cfg"  # the host's own CFG (possibly limited to an interval)
    RESCALE = "rescale"  # CFG rescale (Lin et al. 2023, §3.4)
    APG = "apg"  # adaptive projected guidance (Sadat et al. 2024)


def _sigma_value(sigma: Any) -> float | None:
    """One σ for the step (the largest of a batch's; all equal in practice), or None when unknown."""
    if sigma is None:
        return None
    if hasattr(sigma, "detach"):
        if sigma.numel() == 0:
            return None
        return float(sigma.detach().max())
    return float(sigma)


@dataclass(frozen=True)
class GuidancePlan:
    """The guidance of one run. ``skipped`` says why a requested method is not applied (the infotext says so).

    ``sigma_min``/``sigma_max`` bound the guidance interval (None: no limit on that side).
    """

    mode: GuidanceMode = GuidanceMode.CFG
    rescale: float = 0.0
    eta: float = 0.0
    norm_threshold: float = 15.0
    momentum: float = -0.5
    sigma_min: float | None = None
    sigma_max: float | None = None
    skipped: str | None = None

    @property
    def has_interval(self) -> bool:
        return self.sigma_min is not None or self.sigma_max is not None

    @property
    def active(self) -> bool:
        """Whether the adapter must hook the host's CFG at all."""
        return self.mode is not GuidanceMode.CFG or self.has_interval

    @property
    def needs_x0(self) -> bool:
        """Whether the guidance can only run on x0 predictions with a known σ (APG, the interval)."""
        return self.mode is GuidanceMode.APG or self.has_interval

    @property
    def label(self) -> str:
        """The method in words, for messages."""
        names = {GuidanceMode.CFG: "CFG", GuidanceMode.RESCALE: "CFG rescale", GuidanceMode.APG: "APG"}
        name = names[self.mode]
        return f"{name} with a guidance interval" if self.has_interval else name

    def in_interval(self, sigma: Any) -> bool:
        """Whether guidance applies at ``sigma`` (a float or a tensor of per-image σ); unknown σ → True."""
        value = _sigma_value(sigma)
        if value is None:
            return True
        if self.sigma_min is not None and value < self.sigma_min:
            return False
        return not (self.sigma_max is not None and value > self.sigma_max)

    def session(self) -> GuidanceSession:
        return GuidanceSession(self)


class GuidanceSession:
    """Guidance for one sampling pass; create one per pass with :meth:`GuidancePlan.session`.

    Holds APG's momentum buffer (``running``), reset when σ goes up or the batch changes shape, and counts the
    steps guided and the steps left unguided by the interval (``steps``, ``unguided``).
    """

    def __init__(self, plan: GuidancePlan):
        self.plan = plan
        self.steps = 0
        self.unguided = 0
        self.running: Any = None
        self.last_sigma: float | None = None
        #: The CFG scale the host asked for at the current step (Forge's post-CFG arguments lack it).
        self.host_scale: float | None = None

    def step_scale(self, sigma: Any, scale: float) -> float:
        """The CFG scale the host should use at ``sigma``: 1 outside the interval (skips the uncond pass)."""
        self.host_scale = float(scale)
        return scale if self.plan.in_interval(sigma) else 1.0

    def _track(self, sigma: Any, shape: Any) -> None:
        value = _sigma_value(sigma)
        if value is not None and self.last_sigma is not None and value > self.last_sigma:
            self.running = None  # σ went up: a new pass (restart sampler, second pass) — no momentum across it
        if self.running is not None and tuple(self.running.shape) != tuple(shape):
            self.running = None
        if value is not None:
            self.last_sigma = value

    def combine_x0(self, *, x: Any, sigma: Any, cond: Any, uncond: Any, guided: Any, scale: float | None) -> Any:
        """The x0 prediction to use, from the host's CFG result ``guided`` and the conditional ``cond`` (x0).

        ``uncond`` may be None where the host skipped the unconditional pass (CFG scale 1); ``scale`` may be
        None where the host does not say it (Forge's post-CFG arguments: then :attr:`host_scale`, which
        :meth:`step_scale` records, stands in). ``x`` and ``sigma`` hold one entry per image, like ``guided``.
        """
        from smoothie.guidance import apg, rescale_cfg_x0

        self.steps += 1
        self._track(sigma, cond.shape)
        if not self.plan.in_interval(sigma):
            self.unguided += 1
            return cond
        if scale is None:
            scale = self.host_scale
        if scale == 1.0 or uncond is None:
            return guided
        mode = self.plan.mode
        if mode is GuidanceMode.RESCALE:
            return rescale_cfg_x0(x, guided, cond, sigma, self.plan.rescale)
        if mode is GuidanceMode.APG:
            if scale is None:
                raise ValueError("APG needs the step's CFG scale, which this host did not give")
            out, self.running = apg(
                cond,
                uncond,
                scale,
                eta=self.plan.eta,
                norm_threshold=self.plan.norm_threshold,
                momentum=self.plan.momentum,
                running=self.running,
            )
            return out
        return guided

    def combine_eps(self, *, cond: Any, uncond: Any, guided: Any, scale: float | None, sigma: Any = None) -> Any:
        """The ε prediction to use, from the host's CFG result ``guided`` and the conditional ``cond`` (ε).

        Only CFG rescale works on ε (APG and the interval need x0 and σ: :attr:`GuidancePlan.needs_x0`).
        """
        from smoothie.guidance import rescale_cfg

        if self.plan.needs_x0:
            raise ValueError(f"{self.plan.label} needs x0 predictions (a k-diffusion sampler)")
        self.steps += 1
        if self.plan.mode is GuidanceMode.RESCALE and scale != 1.0:
            return rescale_cfg(guided, cond, self.plan.rescale)
        return guided
