"""CFG rescale (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed", §3.4, Alg. 2).

Classifier-free guidance at a large scale ``w`` inflates the standard deviation of the guided prediction
``x_cfg = x_neg + w (x_pos - x_neg)`` far beyond that of the conditional prediction ``x_pos``, which over-exposes
("burns") the image. The paper rescales the guided prediction back to the conditional prediction's std and
blends with a factor φ::

    x_rescaled = x_cfg * std(x_pos) / std(x_cfg)
    x_final    = φ · x_rescaled + (1 − φ) · x_cfg

The std is taken per sample over every non-batch dimension, exactly as diffusers'
``rescale_noise_cfg(noise_cfg, noise_pred_text, guidance_rescale)`` does. The paper defines it on the model's
v prediction; :mod:`smoothie.guidance.prediction` converts other prediction spaces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def _check_phi(phi: float) -> float:
    value = float(phi)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"phi must be within [0, 1], got {phi!r}")
    return value


def per_sample_std(x: torch.Tensor) -> torch.Tensor:
    """Standard deviation of each sample over all non-batch dimensions, shaped to broadcast against ``x``.

    Unbiased (Bessel-corrected), like ``torch.std`` in diffusers' ``rescale_noise_cfg``.
    """
    if x.ndim < 2:
        raise ValueError(f"expected a batched tensor with at least 2 dimensions, got shape {tuple(x.shape)}")
    dims = tuple(range(1, x.ndim))
    return x.std(dim=dims, keepdim=True)


def rescale_cfg(guided: torch.Tensor, cond: torch.Tensor, phi: float, eps: float = 0.0) -> torch.Tensor:
    """Rescale a classifier-free-guided prediction towards the conditional prediction's std.

    Lin et al. 2023, §3.4, Algorithm 2 (``guidance_rescale`` in diffusers)::

        std_pos = std(cond), std_cfg = std(guided)        # per sample, all non-batch dims
        rescaled = guided * std_pos / std_cfg
        return phi * rescaled + (1 - phi) * guided

    ``guided`` and ``cond`` have the same shape ``[B, ...]``; ``phi`` in [0, 1]. ``phi == 0`` returns
    ``guided`` unchanged (the same values, a new tensor is not made); ``phi == 1`` gives a prediction whose
    per-sample std equals ``cond``'s. ``eps`` is added to ``std(guided)`` to guard against a constant
    prediction (0 by default, as in the paper and diffusers). The computation runs in at least float32 and the
    result has ``guided``'s dtype. Inputs are never modified.
    """
    import torch

    phi = _check_phi(phi)
    if guided.shape != cond.shape:
        raise ValueError(f"guided and cond must have the same shape, got {tuple(guided.shape)} and {tuple(cond.shape)}")
    if phi == 0.0:
        return guided
    work = torch.promote_types(guided.dtype, torch.float32)
    g = guided.to(work)
    std_pos = per_sample_std(cond.to(work))
    std_cfg = per_sample_std(g)
    rescaled = g * (std_pos / (std_cfg + eps))
    out = phi * rescaled + (1.0 - phi) * g
    return out.to(guided.dtype)
