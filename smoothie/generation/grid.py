"""The comparison grid: which runs its cells are, built up one ingredient at a time at one seed.

baseline (the host alone) → the prompt ensemble → + CFG rescale at the boosted CFG → + the negative LoRA →
the placebo (the trigger word in the negative prompt without its LoRA), so a user sees what each ingredient
adds on their own model, and whether the LoRA does more than its trigger word.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smoothie.params import SmoothieParams

#: The CFG scales of the sweep grid's columns.
SWEEP_CFGS: tuple[float, ...] = (7.0, 12.0, 20.0, 25.0)


@dataclass(frozen=True)
class GridCell:
    """One cell: its label, the parameters of its run (None: the host's plain generation) and whether it is the
    placebo (the trigger without the LoRA)."""

    label: str
    params: SmoothieParams | None
    placebo: bool = False


def comparison_cells(params: SmoothieParams, cfg: float) -> tuple[GridCell, ...]:
    """The grid's cells for ``params`` at the host's CFG scale ``cfg``.

    The ensemble cell keeps the user's ensemble settings with guidance and LoRA off; the guidance cell adds the
    user's method — APG with its settings, or else rescale with φ (the user's, or the default when it is 0) — and
    guidance interval at the boosted CFG (:attr:`SmoothieParams.effective_cfg_boost`);
    the LoRA and placebo cells only exist when a negative LoRA is asked for.
    """
    boost = params.effective_cfg_boost
    phi = params.rescale or SmoothieParams().rescale
    base = params.replace(
        comparison=False,
        sweep=False,
        enabled=True,
        guidance="rescale",
        rescale=0.0,
        cfg_boost=0.0,
        negative_lora="",
        sigma_min=0.0,
        sigma_max=0.0,
    )
    interval = {"sigma_min": params.sigma_min, "sigma_max": params.sigma_max}
    suffix = f" {interval_label(params)}" if params.interval else ""
    if params.guidance == "apg":
        guided = base.replace(guidance="apg", cfg_boost=boost, **interval)
        method = f"APG η={params.apg_eta:g} r={params.apg_norm_threshold:g} β={params.apg_momentum:g}"
    else:
        guided = base.replace(rescale=phi, cfg_boost=boost, **interval)
        method = f"rescale φ={phi:g}"
    cells = [
        GridCell(f"baseline (CFG {cfg:g})", None),
        GridCell(f"ensemble ×{params.ensemble_size} {params.mode.value}", base),
        GridCell(f"+ {method}{suffix} at CFG {boost:g}", guided),
    ]
    if params.negative_lora:
        cells.append(
            GridCell(
                f"+ negative LoRA {params.negative_lora}:{params.lora_weight:g}",
                guided.replace(negative_lora=params.negative_lora),
            )
        )
        cells.append(GridCell(f"placebo: '{params.trigger}' without LoRA", guided, placebo=True))
    return tuple(cells)


def interval_label(params: SmoothieParams) -> str:
    """The guidance interval in words, e.g. ``σ∈[0.28, 5.42]`` (``∞`` for no upper limit); "" when there is none."""
    if params.interval is None:
        return ""
    high = f"{params.sigma_max:g}" if params.sigma_max else "∞"
    return f"σ∈[{params.sigma_min:g}, {high}]"


@dataclass(frozen=True)
class SweepGrid:
    """The CFG sweep: one row per guidance method, one column per CFG scale; ``cells`` row by row."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[GridCell, ...]


def sweep_cells(params: SmoothieParams, cfgs: tuple[float, ...] = SWEEP_CFGS) -> SweepGrid:
    """The CFG sweep of ``params``: plain CFG, CFG rescale and APG, each at every scale of ``cfgs``.

    Every cell keeps the user's ensemble, LoRA and guidance interval, and differs only by method and CFG, so a
    user sees on their own model which method holds at a high CFG. Rescale uses the user's φ (the default when
    it is 0); APG the user's η, r and β.
    """
    if not cfgs:
        raise ValueError("the CFG sweep needs at least one CFG scale")
    phi = params.rescale or SmoothieParams().rescale
    base = params.replace(comparison=False, sweep=False)
    methods = (
        ("plain CFG", base.replace(guidance="cfg")),
        (f"rescale φ={phi:g}", base.replace(guidance="rescale", rescale=phi)),
        (
            f"APG η={params.apg_eta:g} r={params.apg_norm_threshold:g} β={params.apg_momentum:g}",
            base.replace(guidance="apg"),
        ),
    )
    cells = tuple(
        GridCell(f"{name}, CFG {cfg:g}", method.replace(cfg_boost=cfg)) for name, method in methods for cfg in cfgs
    )
    return SweepGrid(tuple(name for name, _ in methods), tuple(f"CFG {cfg:g}" for cfg in cfgs), cells)


def caption_image(image: Any, text: str) -> Any:
    """A copy of the PIL ``image`` with ``text`` written in a white strip beneath it (one line)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default()
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font)
    pad = 4
    strip = bottom - top + 2 * pad
    out = Image.new("RGB", (max(image.width, right - left + 2 * pad), image.height + strip), "white")
    out.paste(image.convert("RGB"), (0, 0))
    ImageDraw.Draw(out).text((pad - left, image.height + pad - top), text, fill="black", font=font)
    return out
