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


def test_the_guidance_cell_follows_the_users_method_and_interval():
    params = SmoothieParams(guidance="apg", apg_eta=0.2, sigma_min=0.28, sigma_max=5.42, cfg_boost=18)
    cells = comparison_cells(params, 7.0)
    guided = cells[2]
    assert guided.label == "+ APG η=0.2 r=15 β=-0.5 σ∈[0.28, 5.42] at CFG 18"
    assert guided.params is not None
    assert (guided.params.guidance, guided.params.apg_eta, guided.params.interval) == ("apg", 0.2, (0.28, 5.42))
    ensemble = cells[1].params
    assert ensemble is not None
    assert ensemble.interval is None and ensemble.guidance == "rescale" and ensemble.rescale == 0.0
    only_low = comparison_cells(SmoothieParams(sigma_min=1.0), 7.0)[2]
    assert only_low.label.startswith("+ rescale φ=0.7 σ∈[1, ∞] at CFG")


def test_sweep_cells_are_methods_by_cfg_at_one_setting():
    from smoothie.generation import SWEEP_CFGS, sweep_cells

    params = SmoothieParams(ensemble_size=4, rescale=0.0, sweep=True, comparison=True, sigma_max=8.0)
    grid = sweep_cells(params)
    assert SWEEP_CFGS == (7.0, 12.0, 20.0, 25.0)
    assert grid.columns == ("CFG 7", "CFG 12", "CFG 20", "CFG 25")
    assert grid.rows == ("plain CFG", "rescale φ=0.7", "APG η=0 r=15 β=-0.5")
    assert len(grid.cells) == 12
    methods = [c.params.guidance for c in grid.cells if c.params is not None]
    assert methods == ["cfg"] * 4 + ["rescale"] * 4 + ["apg"] * 4
    assert [c.params.cfg_boost for c in grid.cells[:4] if c.params is not None] == [7.0, 12.0, 20.0, 25.0]
    for cell in grid.cells:
        assert cell.params is not None
        assert not cell.params.sweep and not cell.params.comparison, "a cell must not start another grid"
        assert cell.params.ensemble_size == 4 and cell.params.sigma_max == 8.0
    assert grid.cells[4].params is not None and grid.cells[4].params.rescale == 0.7
    assert grid.cells[5].label == "rescale φ=0.7, CFG 12"


def test_caption_image_adds_a_strip_below():
    from PIL import Image

    from smoothie.generation import caption_image

    image = Image.new("RGB", (64, 32), (200, 10, 10))
    out = caption_image(image, "sat 0.95 · clip 66.7% · HF 0.000")
    assert out.height > image.height
    assert out.width >= image.width
    assert out.crop((0, 0, 64, 32)).tobytes() == image.tobytes()
    import numpy as np

    strip = np.asarray(out.crop((0, 32, out.width, out.height)).convert("L"))
    assert strip.min() < 128 < strip.max(), "the text is drawn"
