"""Dominant colours named in plain words.

Pixels of a small thumbnail are assigned to the nearest of a fixed palette of plain colour names in CIE
Lab (ΔE*76, CIE 1976), through a table of every colour at 5 bits per channel, so the answer is
deterministic, needs no clustering and costs a table look-up per pixel. A name is dominant when
it covers at least ``min_share`` of the pixels; at most ``top`` names are returned, largest share
first. Achromatic names (black, grey, white) are included: a black-and-white photo should say so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# sRGB anchors of the colour words people use to describe images (Berlin & Kay's basic terms plus a
# few common ones). Several anchors may share a name (light and dark shades).
PALETTE: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("black", (0, 0, 0)),
    ("black", (30, 30, 30)),
    ("grey", (128, 128, 128)),
    ("grey", (80, 80, 80)),
    ("grey", (180, 180, 180)),
    ("white", (245, 245, 245)),
    ("white", (225, 225, 215)),
    ("red", (200, 30, 30)),
    ("red", (140, 20, 25)),
    ("orange", (240, 130, 30)),
    ("orange", (200, 90, 30)),
    ("yellow", (245, 220, 40)),
    ("yellow", (200, 180, 60)),
    ("green", (40, 160, 50)),
    ("green", (30, 90, 40)),
    ("green", (130, 170, 80)),
    ("teal", (30, 130, 130)),
    ("blue", (40, 80, 200)),
    ("blue", (30, 40, 110)),
    ("blue", (110, 160, 220)),
    ("purple", (120, 50, 160)),
    ("purple", (70, 30, 90)),
    ("pink", (240, 150, 180)),
    ("pink", (220, 80, 140)),
    ("brown", (120, 70, 30)),
    ("brown", (80, 50, 30)),
    ("brown", (170, 120, 80)),
    ("beige", (220, 200, 160)),
)


def _lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB uint8 (…, 3) → CIE Lab (D65), float64."""
    import numpy as np

    c = rgb.astype(np.float64) / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    lab = np.empty_like(f)
    lab[..., 0] = 116 * f[..., 1] - 16
    lab[..., 1] = 500 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200 * (f[..., 1] - f[..., 2])
    return lab


_LUT: np.ndarray | None = None


def _lut() -> np.ndarray:
    """Nearest palette entry for every colour quantised to 5 bits per channel (32 768 entries, built once)."""
    import numpy as np

    global _LUT
    if _LUT is None:
        levels = (np.arange(32, dtype=np.uint8) << 3) + 4  # bin centres
        grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(-1, 3)
        palette = _lab(np.array([c for _, c in PALETTE], dtype=np.uint8))
        lab = _lab(grid)
        d = ((lab[:, None, :] - palette[None, :, :]) ** 2).sum(axis=2)
        _LUT = d.argmin(axis=1).astype(np.uint8)
    return _LUT


def dominant_colours(rgb: np.ndarray, top: int = 3, min_share: float = 0.12) -> tuple[tuple[str, float], ...]:
    """The dominant colour names of an RGB ``uint8`` image and their pixel shares, largest first."""
    import cv2
    import numpy as np

    h, w = rgb.shape[:2]
    scale = 64 / max(h, w)
    thumb = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    q = np.right_shift(np.asarray(thumb, dtype=np.uint8).reshape(-1, 3), 3).astype(np.int32)
    nearest = _lut()[(q[:, 0] << 10) | (q[:, 1] << 5) | q[:, 2]]
    counts = np.bincount(nearest, minlength=len(PALETTE))
    total = float(counts.sum())
    shares: dict[str, float] = {}
    for index in np.nonzero(counts)[0]:
        name = PALETTE[int(index)][0]
        shares[name] = shares.get(name, 0.0) + counts[index] / total
    ranked = sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple((name, round(float(share), 3)) for name, share in ranked[:top] if share >= min_share)


def describe(colours: tuple[tuple[str, float], ...] | list[tuple[str, float]]) -> str:
    """``"orange, white and black tones"``; empty when there are none."""
    names = [name for name, _ in colours]
    if not names:
        return ""
    if len(names) == 1:
        return f"{names[0]} tones"
    return f"{', '.join(names[:-1])} and {names[-1]} tones"
