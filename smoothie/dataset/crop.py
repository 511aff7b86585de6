"""Crop boxes: ``smart``, ``up``, ``center`` and kohya-style ``bucket``.

Every box is ``(l, t, r, b)`` in pixels of the source image after its EXIF orientation, before any
flip; ``up`` boxes extend past the image (negative ``l``/``t``), which is where padding goes. The box
and the original size are what SDXL's size and crop conditioning need (Podell et al. 2023, §2.2).

Buckets follow kohya's sd-scripts ``make_bucket_resolutions``: widths from ``min_side`` to ``max_side``
in steps of 64, each paired with the largest height (a multiple of 64) that keeps ``w × h ≤ size²``,
plus the square; an image goes to the bucket with the nearest aspect ratio.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from smoothie.dataset.options import CropMode

Box = tuple[int, int, int, int]
# A region of interest in fractions of the image: (l, t, r, b) in [0, 1].
Region = tuple[float, float, float, float]

HEADROOM = 0.38  # a face's centre sits this far down a vertically free crop (the upper-third rule, loosened)


def bucket_resolutions(size: int, step: int = 64, min_side: int = 0, max_side: int = 0) -> list[tuple[int, int]]:
    """kohya's bucket list for a ``size`` × ``size`` area budget, sorted."""
    min_side = min_side or max(step, (size // 2) // step * step)
    max_side = max_side or size * 2
    max_area = size * size
    resos = {(int(math.sqrt(max_area) // step) * step,) * 2}
    width = min_side
    while width <= max_side:
        height = min(max_side, int((max_area // width) // step) * step)
        if height >= min_side:
            resos.add((width, height))
            resos.add((height, width))
        width += step
    return sorted(resos)


def select_bucket(width: int, height: int, buckets: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """The bucket whose aspect ratio is nearest to the image's (kohya's rule; ties: the larger area)."""
    aspect = width / height
    return min(buckets, key=lambda b: (abs(b[0] / b[1] - aspect), -b[0] * b[1], b))


def crop_box(
    mode: CropMode,
    width: int,
    height: int,
    size: int,
    *,
    regions: Sequence[Region] = (),
    energy_cols: Sequence[float] = (),
    energy_rows: Sequence[float] = (),
) -> tuple[Box, tuple[int, int]]:
    """The crop box in source pixels and the output size ``(w, h)`` for one image.

    ``regions``: faces/eyes to keep (fractions of the image); ``energy_cols``/``energy_rows``: gradient
    energy projected on each axis (any number of bins), used by ``smart`` when there is no face.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"image size: expected positive width and height, got {width}x{height}")
    if mode is CropMode.UP:
        side = max(width, height)
        left = -((side - width) // 2)
        top = -((side - height) // 2)
        return (left, top, left + side, top + side), (size, size)
    target = select_bucket(width, height, bucket_resolutions(size)) if mode is CropMode.BUCKET else (size, size)
    aspect = target[0] / target[1]
    if width / height > aspect:  # too wide: full height, choose the columns
        box_h = height
        box_w = max(1, min(width, round(height * aspect)))
    else:
        box_w = width
        box_h = max(1, min(height, round(width / aspect)))
    if mode is CropMode.CENTER:
        left = (width - box_w) // 2
        top = (height - box_h) // 2
    else:
        left = _place(width, box_w, [(r[0], r[2]) for r in regions], energy_cols, 0.5)
        top = _place(height, box_h, [(r[1], r[3]) for r in regions], energy_rows, HEADROOM)
    return (left, top, left + box_w, top + box_h), target


def _place(full: int, length: int, spans: Sequence[tuple[float, float]], energy: Sequence[float], anchor: float) -> int:
    """Start of a window of ``length`` in ``[0, full]`` that keeps ``spans`` (else the most energy) in view."""
    free = full - length
    if free <= 0:
        return 0
    if spans:
        lo = min(s[0] for s in spans) * full
        hi = max(s[1] for s in spans) * full
        if hi - lo >= length:  # the faces do not fit: centre on them
            start = (lo + hi) / 2 - length / 2
        else:
            start = (lo + hi) / 2 - anchor * length
            start = min(max(start, hi - length), lo)  # keep the whole span inside the window
        return round(min(max(start, 0.0), float(free)))
    if energy and sum(energy) > 0:
        return _max_window(full, length, energy)
    return free // 2


def _max_window(full: int, length: int, energy: Sequence[float]) -> int:
    """Start of the window of ``length`` with the most energy (ties: nearest the centre)."""
    bins = len(energy)
    # Cumulative energy at bin edges, interpolated linearly inside bins.
    cum = [0.0]
    for e in energy:
        cum.append(cum[-1] + max(float(e), 0.0))

    def mass(pos: float) -> float:
        x = min(max(pos / full * bins, 0.0), float(bins))
        i = min(int(x), bins - 1)
        return cum[i] + (cum[i + 1] - cum[i]) * (x - i)

    free = full - length
    steps = 64
    best = (-1.0, 0.0, free // 2)
    for k in range(steps + 1):
        start = round(free * k / steps)
        value = mass(start + length) - mass(start)
        key = (round(value, 9), -abs(start - free / 2), start)
        best = max(best, key)
    return int(best[2])
