"""Quality: blur score, the automatic blur threshold, and near-duplicate groups.

Sharpness is the variance of the Laplacian (Pech-Pacheco et al. 2000) of the grey image resized to a
fixed longest side of :data:`SHARPNESS_SIDE` pixels, so the score does not depend on the file's
resolution. ``auto`` rejects images whose log-sharpness is a low outlier of the folder's own
distribution: below ``median - 3 × 1.4826 × MAD`` (the MAD scaled to a normal σ, Leys et al. 2013),
and never higher than :data:`AUTO_CEILING`, so a folder of uniformly sharp photos loses nothing.

Near-duplicates share a perceptual hash (pHash: DCT of a 32×32 grey thumbnail, 64 bits) within
``distance`` bits. Groups are the connected components of that relation; each
group keeps the sharpest member (ties: more pixels, then the first path).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

SHARPNESS_SIDE = 512
AUTO_CEILING = 100.0  # an auto threshold never exceeds this (a clearly sharp photo scores several hundred)
AUTO_MIN_IMAGES = 5  # fewer images than this: not enough to estimate the folder's spread


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian of a ``uint8`` grey image at a fixed longest side."""
    import cv2

    h, w = gray.shape[:2]
    scale = SHARPNESS_SIDE / max(h, w)
    if scale != 1:
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        gray = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=interp)
    lap = cv2.Laplacian(gray, cv2.CV_64F, ksize=3)
    return float(lap.var())


def auto_threshold(scores: Sequence[float]) -> float:
    """The ``auto`` blur threshold for a folder's sharpness scores (0.0 when there are too few)."""
    values = sorted(math.log(max(s, 1e-6)) for s in scores)
    if len(values) < AUTO_MIN_IMAGES:
        return 0.0
    median = _median(values)
    mad = _median([abs(v - median) for v in values])
    spread = max(1.4826 * mad, 0.25)  # a floor so near-identical photos do not make everything an outlier
    return round(min(math.exp(median - 3 * spread), AUTO_CEILING), 3)


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def phash(rgb: np.ndarray) -> int:
    """64-bit perceptual hash of an RGB ``uint8`` image as an int.

    pHash (Zauner 2010, as in the ``imagehash`` package): the grey image shrunk to 32×32, its 2-D DCT-II,
    the 8×8 lowest frequencies, one bit per coefficient above their median. Computed with OpenCV's DCT.
    """
    import cv2
    import numpy as np

    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    small = cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8]
    bits = (low > np.median(low)).flatten()
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value


def duplicate_groups(hashes: Sequence[int], distance: int) -> list[list[int]]:
    """Indices grouped by perceptual-hash Hamming distance ≤ ``distance`` (transitively); groups of 2+.

    Compares all pairs in blocks of about 260,000 pairs with numpy, and merges each image's matches in one
    vectorised union (a union-find whose roots are the smallest index of their group), so memory stays a few
    MB whatever the number of images and of duplicates (10 000 hashes: 10⁸ XOR/popcounts, a few seconds).
    """
    import numpy as np

    n = len(hashes)
    if n < 2:
        return []
    values = np.array([h & 0xFFFFFFFFFFFFFFFF for h in hashes], dtype=np.uint64)
    label = np.arange(n, dtype=np.int64)  # points to a smaller index of the same group; roots point to themselves

    def roots(members: np.ndarray) -> np.ndarray:
        r = label[members]
        while True:
            up = label[r]
            if np.array_equal(up, r):
                return r
            r = up

    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
    block = max(1, (1 << 18) // n)
    for start in range(0, n, block):
        chunk = values[start : start + block]
        x = chunk[:, None] ^ values[None, start:]
        dist = table[x.view(np.uint8).reshape(x.shape[0], x.shape[1], 8)].sum(axis=2, dtype=np.uint16)
        close = dist <= distance
        del x, dist
        for r in range(close.shape[0]):
            found = np.flatnonzero(close[r, r + 1 :])
            if found.size == 0:
                continue
            members = np.concatenate(([start + r], found + start + r + 1))
            top = roots(members)
            smallest = top.min()
            label[top] = smallest
            label[members] = smallest  # path compression
    final = roots(np.arange(n))
    groups: dict[int, list[int]] = {}
    for i, root in enumerate(final.tolist()):
        groups.setdefault(root, []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def hamming(a: int, b: int) -> int:
    return bin((a ^ b) & 0xFFFFFFFFFFFFFFFF).count("1")
