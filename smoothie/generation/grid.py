"""The comparison grid: which runs its cells are, built up one ingredient at a time at one seed.

baseline (the host alone) → the prompt ensemble → + CFG rescale at the boosted CFG → + the negative LoRA →
the placebo (the trigger word in the negative prompt without its LoRA), so a user sees what each ingredient
adds on their own model, and whether the LoRA does more than its trigger word.
"""

from __future__ import annotations

from dataclasses import dataclass

from smoothie.params import SmoothieParams


@dataclass(frozen=True)
class GridCell:
    """One cell: its label, the parameters of its run (None: the host's plain generation) and whether it is the
    placebo (the trigger without the LoRA)."""

    label: str
    params: SmoothieParams | None
    placebo: bool = False


def comparison_cells(params: SmoothieParams, cfg: float) -> tuple[GridCell, ...]:
    """The grid's cells for ``params`` at the host's CFG scale ``cfg``.

    The ensemble cell keeps the user's ensemble settings with guidance and LoRA off; the rescale cell adds φ
    (the user's, or the default when it is 0) at the boosted CFG (:attr:`SmoothieParams.effective_cfg_boost`);
    the LoRA and placebo cells only exist when a negative LoRA is asked for.
    """
    boost = params.effective_cfg_boost
    phi = params.rescale or SmoothieParams().rescale
    base = params.replace(comparison=False, enabled=True, rescale=0.0, cfg_boost=0.0, negative_lora="")
    guided = base.replace(rescale=phi, cfg_boost=boost)
    cells = [
        GridCell(f"baseline (CFG {cfg:g})", None),
        GridCell(f"ensemble ×{params.ensemble_size} {params.mode.value}", base),
        GridCell(f"+ rescale φ={phi:g} at CFG {boost:g}", guided),
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
