"""Averaging text conditionings: one conditioning that stands for a whole prompt ensemble.

A prompt ensemble is encoded in one batch and replaced by the (weighted) mean of its encodings, so the UNet
still sees a single conditioning and its cost does not grow with the ensemble size. Composable diffusion
(Liu et al. 2022, "Compositional Visual Generation with Composable Diffusion Models", §3, the conjunction
``ε(x) + Σ w_i (ε(x|c_i) − ε(x))``, A1111's ``AND``) averages the N *predictions* at N× the UNet cost; the mean
conditioning is the same combination taken one step earlier, exact where the UNet is linear in its
conditioning and an approximation elsewhere (``composable`` mode keeps the exact form for comparison).

Two layouts are handled:

* SD1.x / SD2.x: a cross-attention tensor per prompt, ``[T, C]`` (batched ``[N, T, C]``);
* SDXL: a dict ``{"crossattn": [T, C], "vector": [D]}`` per prompt (batched ``[N, T, C]`` / ``[N, D]``), the
  pooled ``vector`` averaged like every other entry.

Different token lengths: A1111 encodes prompts in chunks of 75 tokens (77 with start/end), so a long
paraphrase gives ``[2·77, C]`` where a short one gives ``[77, C]``. Shorter encodings are padded with the
empty-prompt encoding, repeated, up to the longest. That is A1111's own convention for making two
conditionings of different lengths compatible (``pad_cond`` in ``modules/sd_samplers_cfg_denoiser.py``, the
"pad prompt/negative prompt" option): an empty chunk is what the UNet sees for "no further text". Averaging
only within equal-length groups would have to drop every group but one, losing those paraphrases entirely;
padding keeps every paraphrase's contribution and is exact when all lengths already agree.

Nothing here modifies its inputs: A1111 caches conditionings across generations (``persistent_cond_cache``),
so every function returns new tensors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    Cond = torch.Tensor | Mapping[str, torch.Tensor]

CROSSATTN = "crossattn"


def normalized_weights(weights: Sequence[float] | None, n: int) -> list[float]:
    """Weights for ``n`` items, scaled to sum to 1 (uniform when ``weights`` is None)."""
    if n < 1:
        raise ValueError(f"need at least one conditioning to average, got {n}")
    if weights is None:
        return [1.0 / n] * n
    values = [float(w) for w in weights]
    if len(values) != n:
        raise ValueError(f"weights must have one value per conditioning ({n}), got {len(values)}")
    if any(not math.isfinite(w) or w < 0 for w in values):
        raise ValueError(f"weights must be finite and non-negative, got {values}")
    total = sum(values)
    if total <= 0:
        raise ValueError(f"weights must not all be zero, got {values}")
    return [w / total for w in values]


def _as_chunk(pad: torch.Tensor, channels: int) -> torch.Tensor:
    chunk = pad[0] if pad.ndim == 3 else pad
    if chunk.ndim != 2 or chunk.shape[-1] != channels:
        raise ValueError(
            f"pad must be an empty-prompt encoding shaped [T, {channels}] or [1, T, {channels}], got {tuple(pad.shape)}"
        )
    return chunk


def pad_tokens(conds: Sequence[torch.Tensor], pad: torch.Tensor | None = None) -> list[torch.Tensor]:
    """Bring ``[T_i, C]`` cross-attention encodings to one length by appending repeats of ``pad``.

    ``pad`` is the empty-prompt encoding (``[T0, C]`` or ``[1, T0, C]``, A1111's
    ``sd_model.cond_stage_model_empty_prompt``). Each shortfall must be a whole number of ``pad`` chunks.
    Equal lengths need no ``pad``; unequal ones without it raise ``ValueError``. Returns new tensors only
    where padding was needed (the others are returned as they are, unmodified).
    """
    import torch

    if not conds:
        raise ValueError("need at least one conditioning to pad, got none")
    for i, c in enumerate(conds):
        if c.ndim != 2:
            raise ValueError(f"cross-attention conditioning {i} must be [T, C], got shape {tuple(c.shape)}")
    channels = {c.shape[-1] for c in conds}
    if len(channels) != 1:
        raise ValueError(f"conditionings have different channel counts {sorted(channels)}")
    longest = max(c.shape[0] for c in conds)
    if all(c.shape[0] == longest for c in conds):
        return list(conds)
    if pad is None:
        lengths = [c.shape[0] for c in conds]
        raise ValueError(f"conditionings have different token lengths {lengths} and no empty-prompt pad was given")
    chunk = _as_chunk(pad, conds[0].shape[-1])
    out = []
    for i, c in enumerate(conds):
        missing = longest - c.shape[0]
        if missing % chunk.shape[0]:
            raise ValueError(
                f"conditioning {i} has {c.shape[0]} tokens; the gap to {longest} is not a multiple of the "
                f"pad length {chunk.shape[0]}"
            )
        if missing:
            fill = chunk.to(dtype=c.dtype, device=c.device).repeat(missing // chunk.shape[0], 1)
            out.append(torch.cat([c, fill], dim=0))
        else:
            out.append(c)
    return out


def stack_conds(conds: Sequence[Cond], pad: torch.Tensor | None = None) -> Any:
    """Stack per-prompt conditionings (``[T, C]`` tensors or SDXL dicts) into one batch, padding tokens.

    Returns ``[N, T, C]`` or a dict of ``[N, ...]`` tensors with the keys of the first conditioning (all must
    share them). Cross-attention is padded with :func:`pad_tokens`.
    """
    import torch

    if not conds:
        raise ValueError("need at least one conditioning, got none")
    first = conds[0]
    if isinstance(first, Mapping):
        keys = list(first.keys())
        for i, c in enumerate(conds):
            if not isinstance(c, Mapping) or list(c.keys()) != keys:
                got = list(c.keys()) if isinstance(c, Mapping) else type(c).__name__
                raise ValueError(f"conditioning {i} has keys {got}, expected {keys}")
        out = {}
        maps = [c for c in conds if isinstance(c, Mapping)]
        for key in keys:
            items = [c[key] for c in maps]
            if key == CROSSATTN:
                items = pad_tokens(items, pad)
            out[key] = torch.stack(items)
        return out
    for i, c in enumerate(conds):
        if isinstance(c, Mapping):
            raise ValueError(f"conditioning {i} is a dict but conditioning 0 is a tensor")
    return torch.stack(pad_tokens(list(conds), pad))  # type: ignore[arg-type]


def average_conditioning(batch: Any, weights: Sequence[float] | None = None) -> Any:
    """Weighted mean over the batch dimension of ``[N, T, C]`` or of every ``[N, ...]`` entry of a dict.

    ``[N, T, C] → [T, C]``; ``{"crossattn": [N, T, C], "vector": [N, D]} → {"crossattn": [T, C], "vector": [D]}``.
    Weights are normalised to sum to 1 (uniform by default). Sums run in at least float32 and the result keeps
    the input dtype. The input is not modified.
    """
    import torch

    if isinstance(batch, Mapping):
        sizes = {key: int(v.shape[0]) for key, v in batch.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"dict conditioning entries have different batch sizes {sizes}")
        return {key: average_conditioning(v, weights) for key, v in batch.items()}
    if not isinstance(batch, torch.Tensor) or batch.ndim < 2:
        shape = tuple(batch.shape) if isinstance(batch, torch.Tensor) else type(batch).__name__
        raise ValueError(f"expected a batched conditioning [N, ...], got {shape}")
    w = normalized_weights(weights, int(batch.shape[0]))
    work = torch.promote_types(batch.dtype, torch.float32)
    wt = torch.tensor(w, dtype=work, device=batch.device).view(-1, *([1] * (batch.ndim - 1)))
    return (batch.to(work) * wt).sum(dim=0).to(batch.dtype)


def mean_conditioning(
    conds: Sequence[Cond], weights: Sequence[float] | None = None, pad: torch.Tensor | None = None
) -> Any:
    """One conditioning from many per-prompt ones: :func:`stack_conds` then :func:`average_conditioning`."""
    return average_conditioning(stack_conds(conds, pad), weights)


def average_schedules(
    schedules: Sequence[Sequence[tuple[int, Any]]],
    weights: Sequence[float] | None = None,
    pad: torch.Tensor | None = None,
) -> list[tuple[int, Any]]:
    """Average prompt-editing schedules: ``[(end_at_step, cond), …]`` per paraphrase → one schedule.

    A1111 turns ``[a:b:5]`` into a schedule of conditionings, each used up to its ``end_at_step``. Paraphrases
    keep the prompt's syntax, so their schedules usually share boundaries; in general the result switches at
    the union of all boundaries, and between two boundaries it is the mean of the conditionings each
    paraphrase uses there. Each input schedule must be non-empty with increasing steps.
    """
    if not schedules:
        raise ValueError("need at least one schedule to average, got none")
    for i, sched in enumerate(schedules):
        steps = [int(s) for s, _ in sched]
        if not steps or steps != sorted(set(steps)):
            raise ValueError(f"schedule {i} must be non-empty with increasing end steps, got {steps}")
    w = normalized_weights(weights, len(schedules))
    boundaries = sorted({int(s) for sched in schedules for s, _ in sched})
    out: list[tuple[int, Any]] = []
    for b in boundaries:
        active = []
        for sched in schedules:
            cond = next((c for s, c in sched if int(s) >= b), sched[-1][1])
            active.append(cond)
        out.append((b, mean_conditioning(active, w, pad)))
    return out
