"""Adaptive Projected Guidance (Sadat, Hilliges & Weber 2024, "Eliminating Oversaturation and Artifacts of High
Guidance Scales in Diffusion Models", arXiv 2410.02416, ICLR 2025).

CFG in the denoised (x0) prediction space is ``x_cfg = D_c + (w − 1)·(D_c − D_u)``. The paper splits the update
``Δ = D_c − D_u`` into its component parallel to the conditional prediction ``D_c`` and the orthogonal rest
(Eq. 6–8), finds that the parallel part causes the oversaturation, and down-weights it by η; it rescales the
update to a norm of at most r and adds a (reverse) momentum β over the sampling steps (§4, Algorithm 1)::

    Δ_t   = D_c − D_u
    m_t   = Δ_t + β·m_{t−1}                    (m = Δ at the first step)
    Δ     = m_t · min(1, r / ‖m_t‖)            (only when r > 0)
    Δ_∥   = (⟨Δ, D_c⟩ / ⟨D_c, D_c⟩) · D_c,  Δ_⊥ = Δ − Δ_∥
    x_apg = D_c + (w − 1)·(Δ_⊥ + η·Δ_∥)

Norms and inner products are taken per sample over every non-batch dimension. With η = 1, r = 0 and β = 0 this
is exactly CFG. Recommended for SD-class latent models: η = 0 and β = −0.5 (the paper's setting throughout its
experiments); r is model-dependent (ComfyUI's node defaults to 5, reForge's APG extension to 15; Smoothie uses
15, see ``smoothie.params``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def _dims(x: torch.Tensor) -> tuple[int, ...]:
    if x.ndim < 2:
        raise ValueError(f"expected a batched tensor with at least 2 dimensions, got shape {tuple(x.shape)}")
    return tuple(range(1, x.ndim))


def project(v: torch.Tensor, onto: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Split ``v`` into its component parallel to ``onto`` and the orthogonal rest, per sample.

    The projection is over every non-batch dimension; a sample where ``onto`` is all zeros has no parallel part.
    """
    dims = _dims(v)
    unit = onto / onto.norm(p=2, dim=dims, keepdim=True).clamp_min(1e-12)
    parallel = (v * unit).sum(dim=dims, keepdim=True) * unit
    return parallel, v - parallel


def apg(
    cond: torch.Tensor,
    uncond: torch.Tensor,
    scale: float,
    *,
    eta: float,
    norm_threshold: float,
    momentum: float,
    running: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of Adaptive Projected Guidance on x0 predictions; returns ``(guided, running)``.

    Sadat et al. 2024 (arXiv 2410.02416), Algorithm 1 / Eq. 8 with the momentum and rescaling of §4::

        diff    = cond − uncond
        running = diff + momentum·running      (running = diff when ``running`` is None: the first step)
        diff    = running · min(1, norm_threshold/‖running‖)   (norm over all but the batch dim; r > 0 only)
        guided  = cond + (scale − 1)·(diff_⊥ + eta·diff_∥)      (∥/⊥ relative to ``cond``, per batch item)

    ``cond`` and ``uncond`` are the conditional and unconditional denoised predictions ``[B, ...]``. The
    function keeps no state: the caller passes the ``running`` it got back from the previous step of the same
    sampling pass, and None at a new pass (when sigma goes up: a new generation, the hires pass). The returned
    ``running`` is the momentum buffer before the norm threshold, as in the paper's ``MomentumBuffer``.
    The projection is computed in float64 (as the authors' code does; float32 on devices without it) and
    ``guided`` has ``cond``'s dtype. With ``eta=1, norm_threshold=0, momentum=0`` it is plain CFG
    ``uncond + scale·(cond − uncond)``. Inputs are never modified.
    """
    import torch

    if cond.shape != uncond.shape:
        raise ValueError(f"cond and uncond must have the same shape, got {tuple(cond.shape)} and {tuple(uncond.shape)}")
    if norm_threshold < 0:
        raise ValueError(f"norm_threshold must be >= 0 (0 = off), got {norm_threshold!r}")
    dims = _dims(cond)
    diff = cond - uncond
    if running is not None:
        if running.shape != diff.shape:
            raise ValueError(
                f"running must have the shape of cond {tuple(cond.shape)}, got {tuple(running.shape)}: "
                "reset it (None) at a new sampling pass or batch"
            )
        diff = diff + momentum * running.to(diff.dtype)
    running = diff
    if norm_threshold > 0:
        norm = diff.norm(p=2, dim=dims, keepdim=True)
        diff = diff * (norm_threshold / norm).clamp(max=1.0)  # norm 0 → inf → 1
    work = torch.float32 if cond.device.type == "mps" else torch.float64
    parallel, orthogonal = project(diff.to(work), cond.to(work))
    update = orthogonal + eta * parallel
    guided = cond.to(work) + (float(scale) - 1.0) * update
    return guided.to(cond.dtype), running
