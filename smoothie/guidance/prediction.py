"""Conversions between a diffusion model's prediction spaces, given the noisy input and its noise level.

k-diffusion (and so A1111's k-samplers) works in the variance-exploding parametrisation
``x_t = x0 + σ·ε`` and hands ``combine_denoised`` x0 predictions ("denoised"); A1111's DDIM/PLMS/UniPC
samplers hand ε. CFG rescale (Lin et al. 2023, §3.4) is defined on the v prediction (Salimans & Ho 2022,
"Progressive Distillation for Fast Sampling of Diffusion Models", §4 and Appendix D):

    v = α_t ε − σ_t x0,   with the variance-preserving α_t = 1/√(1+σ²), σ_t = σ/√(1+σ²)

and the VP input ``z_t = x_t/√(1+σ²)``. Substituting ``ε = (x_t − x0)/σ`` gives the form ComfyUI's
``RescaleCFG`` node uses (``comfy_extras/nodes_model_advanced.py``)::

    v  = (x_t/(1+σ²) − x0) · √(1+σ²)/σ
    x0 = x_t/(1+σ²) − v · σ/√(1+σ²)

``sigma`` is the k-diffusion σ (> 0), a scalar or one value per sample; it is broadcast over the non-batch
dimensions. Every function returns a new tensor and leaves its inputs alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def _sigma_like(sigma: torch.Tensor | float, x: torch.Tensor) -> torch.Tensor:
    import torch

    s = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
    if s.ndim == 0:
        s = s.expand(x.shape[0])
    if s.ndim != 1 or s.shape[0] != x.shape[0]:
        raise ValueError(f"sigma must be a scalar or have one value per sample ({x.shape[0]}), got {tuple(s.shape)}")
    if bool((s <= 0).any()):
        raise ValueError(f"sigma must be > 0 for a prediction-space conversion, got {s.tolist()}")
    return s.view(-1, *([1] * (x.ndim - 1)))


def x0_to_eps(x_t: torch.Tensor, x0: torch.Tensor, sigma: torch.Tensor | float) -> torch.Tensor:
    """ε = (x_t − x0)/σ (variance-exploding parametrisation, Karras et al. 2022, Eq. 1 with s(t)=1)."""
    s = _sigma_like(sigma, x_t)
    return (x_t - x0) / s


def eps_to_x0(x_t: torch.Tensor, eps: torch.Tensor, sigma: torch.Tensor | float) -> torch.Tensor:
    """x0 = x_t − σ·ε (inverse of :func:`x0_to_eps`)."""
    s = _sigma_like(sigma, x_t)
    return x_t - s * eps


def x0_to_v(x_t: torch.Tensor, x0: torch.Tensor, sigma: torch.Tensor | float) -> torch.Tensor:
    """v = (x_t/(1+σ²) − x0)·√(1+σ²)/σ (Salimans & Ho 2022, §4, written for the VE input x_t)."""
    s = _sigma_like(sigma, x_t)
    s2 = s * s + 1.0
    return (x_t / s2 - x0) * s2.sqrt() / s


def v_to_x0(x_t: torch.Tensor, v: torch.Tensor, sigma: torch.Tensor | float) -> torch.Tensor:
    """x0 = x_t/(1+σ²) − v·σ/√(1+σ²) (inverse of :func:`x0_to_v`)."""
    s = _sigma_like(sigma, x_t)
    s2 = s * s + 1.0
    return x_t / s2 - v * s / s2.sqrt()


def rescale_cfg_x0(
    x_t: torch.Tensor, guided_x0: torch.Tensor, cond_x0: torch.Tensor, sigma: torch.Tensor | float, phi: float
) -> torch.Tensor:
    """CFG rescale for a sampler that works on x0 predictions (k-diffusion): convert to v, rescale, back.

    This is what ComfyUI's ``RescaleCFG`` does; the rescale itself is :func:`smoothie.guidance.rescale_cfg`
    (Lin et al. 2023, §3.4). The conversion is affine with the same coefficients for ``guided`` and ``cond``,
    so φ=0 returns ``guided_x0`` up to rounding.
    """
    from smoothie.guidance.rescale import rescale_cfg

    if phi == 0.0:
        return guided_x0
    work = x_t.float() if x_t.dtype in _low_precision() else x_t
    g = x0_to_v(work, guided_x0.to(work.dtype), sigma)
    c = x0_to_v(work, cond_x0.to(work.dtype), sigma)
    return v_to_x0(work, rescale_cfg(g, c, phi), sigma).to(guided_x0.dtype)


def _low_precision() -> tuple[torch.dtype, ...]:
    import torch

    return (torch.float16, torch.bfloat16)
