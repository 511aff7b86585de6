"""The comparison grid's cells (smoothie.generation.grid)."""

from __future__ import annotations

from smoothie.generation import comparison_cells
from smoothie.params import GRID_DEFAULT_BOOST, SmoothieParams


def test_cells_without_a_lora():
    params = SmoothieParams(ensemble_size=8, mode="composable", rescale=0.0, negative_lora="", comparison=True)
    cells = comparison_cells(params, 7.0)
    assert [c.label for c in cells] == [
        "baseline (CFG 7)",
        "ensemble ×8 composable",
        f"+ rescale φ=0.7 at CFG {GRID_DEFAULT_BOOST:g}",
    ]
    baseline, ensemble, rescaled = cells
    assert baseline.params is None
    assert ensemble.params is not None
    assert ensemble.params.enabled
    assert ensemble.params.ensemble_size == 8
    assert (ensemble.params.rescale, ensemble.params.cfg_boost, ensemble.params.negative_lora) == (0.0, 0.0, "")
    assert not ensemble.params.comparison, "a cell must not start another grid"
    assert rescaled.params == ensemble.params.replace(rescale=0.7, cfg_boost=GRID_DEFAULT_BOOST)
    assert not any(c.placebo for c in cells)


def test_cells_with_a_lora_add_the_lora_and_the_placebo():
    params = SmoothieParams(
        ensemble_size=4, rescale=0.5, cfg_boost=12, negative_lora="wrong-x", lora_weight=0.6, trigger="bad"
    )
    cells = comparison_cells(params, 5.5)
    assert [c.label for c in cells] == [
        "baseline (CFG 5.5)",
        "ensemble ×4 average",
        "+ rescale φ=0.5 at CFG 12",
        "+ negative LoRA wrong-x:0.6",
        "placebo: 'bad' without LoRA",
    ]
    with_lora, placebo = cells[3], cells[4]
    assert with_lora.params is not None
    assert placebo.params is not None
    assert (with_lora.params.negative_lora, with_lora.params.lora_weight) == ("wrong-x", 0.6)
    assert with_lora.params.rescale == 0.5
    assert with_lora.params.cfg_boost == 12
    assert placebo.placebo
    assert placebo.params.negative_lora == ""
    assert placebo.params.trigger == "bad"
    assert placebo.params == cells[2].params
