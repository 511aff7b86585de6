"""Burn measures on synthetic images (smoothie.guidance.burn)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from smoothie.guidance.burn import (
    BurnMeasures,
    burn_measures,
    clipped_fraction,
    high_frequency_energy,
    mean_saturation,
)


def _solid(rgb, size=(32, 48)):
    return np.full((*size, 3), rgb, dtype=np.uint8)


def test_grey_has_no_saturation_no_clipping_no_high_frequencies():
    grey = _solid((128, 128, 128))
    assert mean_saturation(grey) == 0.0
    assert clipped_fraction(grey) == 0.0
    assert high_frequency_energy(grey) == 0.0


def test_pure_colours_are_fully_saturated_and_clipped():
    red = _solid((255, 0, 0))
    assert mean_saturation(red) == pytest.approx(1.0)
    assert clipped_fraction(red) == pytest.approx(1.0)
    half = _solid((200, 100, 100))
    assert mean_saturation(half) == pytest.approx(0.5)
    assert clipped_fraction(half) == 0.0


def test_black_counts_as_unsaturated_but_clipped():
    black = _solid((0, 0, 0))
    assert mean_saturation(black) == 0.0
    assert clipped_fraction(black) == 1.0


def test_clipped_fraction_counts_channels():
    img = _solid((100, 100, 100), size=(10, 10))
    img[0, :, 0] = 255  # 10 of 300 values
    img[1, :5, 2] = 0  # 5 more
    assert clipped_fraction(img) == pytest.approx(15 / 300)


def test_high_frequency_energy_orders_smooth_noise_and_checkerboard():
    y, x = np.mgrid[0:64, 0:64]
    gradient = np.repeat(((x + y) * 2).astype(np.uint8)[..., None], 3, axis=2)
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    checker = np.repeat((((x + y) % 2) * 255).astype(np.uint8)[..., None], 3, axis=2)
    smooth, random, fine = (high_frequency_energy(i) for i in (gradient, noise, checker))
    assert smooth < 0.05
    assert 0.7 < random < 0.9  # white noise: the area of the spectrum beyond radius 0.25 ≈ 1 − π/16
    assert fine > 0.99
    assert smooth < random < fine


def test_burn_rises_when_an_image_is_pushed():
    """A natural-looking image pushed like a high CFG (contrast ×3, clipped) scores higher on every measure."""
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:64, 0:64] / 64.0
    base = np.stack([0.5 + 0.2 * np.sin(3 * x), 0.45 + 0.15 * y, 0.4 + 0.1 * np.cos(2 * y)], axis=-1)
    base += rng.normal(0, 0.01, base.shape)
    pushed = np.clip((base - 0.45) * 3 + 0.45 + rng.normal(0, 0.08, base.shape), 0, 1)
    a = burn_measures((base * 255).round().astype(np.uint8))
    b = burn_measures((pushed * 255).round().astype(np.uint8))
    assert b.saturation > a.saturation
    assert b.clipped > a.clipped
    assert b.high_frequency > a.high_frequency


def test_pil_images_and_grey_arrays_are_accepted():
    img = Image.new("RGB", (20, 10), (10, 200, 30))
    m = burn_measures(img)
    assert isinstance(m, BurnMeasures)
    assert m.saturation == pytest.approx(190 / 200)
    assert burn_measures(Image.new("L", (8, 8), 7)).saturation == 0.0
    assert burn_measures(np.full((4, 4), 9, dtype=np.uint8)).clipped == 0.0
    assert m.label() == f"sat {190 / 200:.2f} · clip 0.0% · HF 0.000"


def test_bad_images_are_named():
    with pytest.raises(ValueError, match="uint8"):
        mean_saturation(np.zeros((4, 4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="RGB image"):
        clipped_fraction(np.zeros((4, 4, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match="RGB image"):
        high_frequency_energy(np.zeros((0, 4, 3), dtype=np.uint8))
