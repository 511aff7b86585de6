"""Burn measures of a decoded image: what a too-high CFG does to pixels, as three numbers a user can compare.

"Burn" (over-saturation and over-exposure at high guidance, Sadat et al. 2024 §3; Lin et al. 2023 §3.4) shows as
colours pushed to full saturation, channels stuck at 0 or 255, and a crust of high-frequency artefacts. Each
measure is a pure function of an 8-bit RGB image (a PIL image or an ``H×W×3`` / ``H×W`` uint8 array):

* :func:`mean_saturation` — HSV saturation ``(max − min)/max`` per pixel, averaged (0 grey … 1 pure hues);
* :func:`clipped_fraction` — the fraction of channel values that are exactly 0 or 255;
* :func:`high_frequency_energy` — the share of the luminance's spectral energy (DC removed) above half the
  Nyquist frequency (radial frequency > 0.25 cycles/pixel): ≈ 0 for smooth images, ≈ 0.8 for white noise,
  ≈ 1 for a one-pixel checkerboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Radial frequency (cycles/pixel) above which energy counts as high-frequency: half the Nyquist frequency.
HF_CUTOFF = 0.25


def _rgb(image: Any) -> Any:
    import numpy as np

    if hasattr(image, "convert"):  # PIL
        image = image.convert("RGB")
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"expected an RGB image (H×W×3), got an array of shape {arr.shape}")
    if arr.dtype != np.uint8:
        raise ValueError(f"expected 8-bit pixel values (uint8), got {arr.dtype}")
    return arr[..., :3]


def mean_saturation(image: Any) -> float:
    """Mean HSV saturation in [0, 1] (black pixels count as 0)."""
    import numpy as np

    rgb = _rgb(image).astype(np.float64)
    hi = rgb.max(axis=2)
    lo = rgb.min(axis=2)
    sat = np.divide(hi - lo, hi, out=np.zeros_like(hi), where=hi > 0)
    return float(sat.mean())


def clipped_fraction(image: Any) -> float:
    """Fraction in [0, 1] of the R, G and B values that are exactly 0 or 255."""
    import numpy as np

    rgb = _rgb(image)
    return float(np.count_nonzero((rgb == 0) | (rgb == 255)) / rgb.size)


def high_frequency_energy(image: Any, cutoff: float = HF_CUTOFF) -> float:
    """Share in [0, 1] of the luminance's spectral energy above ``cutoff`` cycles/pixel (DC excluded).

    Luminance is Rec. 601 luma in [0, 1]; a flat image has no energy at all and gives 0.
    """
    import numpy as np

    rgb = _rgb(image).astype(np.float64) / 255.0
    luma = rgb @ np.array([0.299, 0.587, 0.114])
    luma = luma - luma.mean()
    power = np.abs(np.fft.fft2(luma)) ** 2
    fy = np.fft.fftfreq(luma.shape[0])[:, None]
    fx = np.fft.fftfreq(luma.shape[1])[None, :]
    radius = np.sqrt(fx * fx + fy * fy)
    total = float(power.sum())
    if total <= 1e-12 * luma.size:
        return 0.0
    return float(power[radius > cutoff].sum() / total)


@dataclass(frozen=True)
class BurnMeasures:
    """The three measures of one image."""

    saturation: float
    clipped: float
    high_frequency: float

    def label(self) -> str:
        """One short line for a grid cell, e.g. ``sat 0.42 · clip 1.3% · HF 0.021``."""
        return f"sat {self.saturation:.2f} · clip {self.clipped * 100:.1f}% · HF {self.high_frequency:.3f}"


def burn_measures(image: Any) -> BurnMeasures:
    """All three measures of ``image``."""
    return BurnMeasures(mean_saturation(image), clipped_fraction(image), high_frequency_energy(image))
