"""Synthetic cartoon heads turned left or right, which no face detector sees (built here, in code).

``cartoon(rng, facing)`` draws one head in profile or three-quarter view (or, for a quarter of them, an
animal's head in profile): a random head shape (ellipse,
rounded box, bean, polygon), skin and hair colours from cartoon palettes and from anywhere, outlines or
none, a nose, snout or beak on the side it faces, eyes looking that way, an ear and hair at the back, a
mouth, sometimes a neck and shirt, a hat, eyebrows, on a plain, graded, striped or spotted background, at
any size and position. Every head is drawn for its own direction with its own random parameters, so a
set of left- and right-facing heads is not a set of mirror copies. The direction tests of the dataset
pipeline use it (``cartoon_set``); the tests here check the heads really are what they claim.

Direction convention (the README's): ``left`` = the head faces the image's left edge.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

PALETTE = [
    (255, 217, 15),  # cartoon yellow
    (255, 205, 170),  # peach
    (241, 194, 125),
    (198, 134, 66),
    (141, 85, 36),  # brown
    (120, 200, 90),  # green
    (110, 160, 240),  # blue
    (250, 150, 190),  # pink
    (200, 200, 200),  # grey
    (255, 140, 40),  # orange
    (170, 120, 220),  # purple
    (245, 245, 235),  # off-white
]


def _colour(rng: np.random.Generator, palette: bool = True) -> tuple[int, int, int]:
    if palette and rng.random() < 0.7:
        base = np.array(PALETTE[int(rng.integers(len(PALETTE)))], dtype=np.float64)
        base = base + rng.normal(0, 12, 3)
    else:
        base = rng.uniform(0, 255, 3)
    r, g, b = (int(v) for v in np.clip(base, 0, 255))
    return (r, g, b)


def _far(rng: np.random.Generator, other: tuple[int, int, int], palette: bool = False) -> tuple[int, int, int]:
    """A colour clearly different from ``other`` (so shapes stay visible)."""
    for _ in range(50):
        c = _colour(rng, palette)
        if sum(abs(a - b) for a, b in zip(c, other, strict=True)) > 160:
            return c
    return (255 - other[0], 255 - other[1], 255 - other[2])


def _background(rng: np.random.Generator, size: tuple[int, int], avoid: tuple[int, int, int]) -> Image.Image:
    w, h = size
    kind = int(rng.integers(4))
    c1, c2 = _far(rng, avoid), _far(rng, avoid)
    if kind == 0:
        return Image.new("RGB", size, c1)
    if kind == 1:  # vertical or horizontal gradient
        t = np.linspace(0, 1, h if rng.random() < 0.5 else w)[:, None]
        ramp = (1 - t) * np.array(c1) + t * np.array(c2)
        arr = np.broadcast_to(ramp[:, None, :], (h, w, 3)) if len(t) == h else np.broadcast_to(ramp[None], (h, w, 3))
        return Image.fromarray(np.ascontiguousarray(arr).astype(np.uint8))
    image = Image.new("RGB", size, c1)
    draw = ImageDraw.Draw(image)
    if kind == 2:  # stripes
        step = int(rng.integers(12, 60))
        for x in range(-h, w, step * 2):
            draw.polygon([(x, 0), (x + step, 0), (x + step + h, h), (x + h, h)], fill=c2)
    else:  # spots
        for _ in range(int(rng.integers(5, 30))):
            x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(4, 0.12 * min(w, h))
            draw.ellipse([x - r, y - r, x + r, y + r], fill=c2)
    return image


def cartoon(rng: np.random.Generator, facing: str, size: tuple[int, int] | None = None, kind: str = "") -> Image.Image:
    """One cartoon head facing ``left`` or ``right`` (the side of the image its nose points to): a person-like
    head, or (``kind="animal"``, a quarter of them by default) an animal's head with a snout and pointed ears."""
    if facing not in ("left", "right"):
        raise ValueError(f"facing: expected 'left' or 'right', got {facing!r}")
    if kind == "animal" or (not kind and rng.random() < 0.25):
        return _animal(rng, facing, size)
    f = -1.0 if facing == "left" else 1.0  # the x direction the face points to
    ss = 2  # drawn at twice the size, then reduced (anti-aliasing)
    if size is None:
        size = (int(rng.integers(256, 640)), int(rng.integers(256, 640)))
    w, h = size[0] * ss, size[1] * ss
    skin = _colour(rng)
    image = _background(rng, (w, h), skin)
    draw = ImageDraw.Draw(image)
    r = rng.uniform(0.17, 0.3) * min(w, h)  # head radius
    aspect = rng.uniform(0.8, 1.3)  # height / width
    rx, ry = r, r * aspect
    cx = w / 2 + rng.uniform(-0.12, 0.12) * w
    cy = h / 2 + rng.uniform(-0.08, 0.1) * h
    outline = (0, 0, 0) if rng.random() < 0.6 else None
    lw = int(rng.integers(2, 7)) * ss if outline else 0
    hair = _far(rng, skin)
    shirt = _colour(rng, palette=False)

    if rng.random() < 0.6:  # neck and shoulders, set back a little
        nx = cx - f * 0.15 * rx
        draw.rectangle(
            [nx - 0.35 * rx, cy + 0.6 * ry, nx + 0.35 * rx, cy + 1.3 * ry], fill=skin, outline=outline, width=lw
        )
        draw.ellipse(
            [nx - 1.4 * rx, cy + 1.15 * ry, nx + 1.4 * rx, cy + 2.8 * ry], fill=shirt, outline=outline, width=lw
        )

    # Hair at the back and on top (drawn first, so the head covers its front part).
    hair_kind = int(rng.integers(4))
    if hair_kind == 0:  # a mass at the back
        draw.ellipse(
            [cx - f * 0.2 * rx - 1.05 * rx, cy - 1.15 * ry, cx - f * 0.2 * rx + 1.05 * rx, cy + 0.55 * ry], fill=hair
        )
    elif hair_kind == 1:  # spikes
        n = int(rng.integers(5, 10))
        for k in range(n):  # from the crown (straight up) round to the back of the head and a little below
            a = -math.pi / 2 - f * (math.pi / 2) * (-0.15 + 1.3 * k / (n - 1))
            bx, by = cx + 0.8 * rx * math.cos(a), cy + 0.8 * ry * math.sin(a)
            tx, ty = cx + 1.35 * rx * math.cos(a), cy + 1.35 * ry * math.sin(a)
            px, py = -math.sin(a) * 0.25 * rx, math.cos(a) * 0.25 * ry
            draw.polygon([(bx - px, by - py), (tx, ty), (bx + px, by + py)], fill=hair)
    elif hair_kind == 2:  # a ponytail behind
        tx = cx - f * 1.25 * rx
        draw.ellipse(
            [tx - 0.35 * rx, cy - 0.6 * ry, tx + 0.35 * rx, cy + 0.5 * ry], fill=hair, outline=outline, width=lw
        )

    # The head.
    shape = int(rng.integers(4))
    box = [cx - rx, cy - ry, cx + rx, cy + ry]
    if shape == 0:
        draw.ellipse(box, fill=skin, outline=outline, width=lw)
    elif shape == 1:
        draw.rounded_rectangle(box, radius=int(0.45 * r), fill=skin, outline=outline, width=lw)
    elif shape == 2:  # a bean: the face side lower and longer (a jaw)
        draw.ellipse([cx - rx, cy - ry, cx + 0.7 * rx, cy + 0.8 * ry], fill=skin)
        draw.ellipse(
            [cx + f * 0.15 * rx - 0.85 * rx, cy - 0.4 * ry, cx + f * 0.15 * rx + 0.85 * rx, cy + ry], fill=skin
        )
    else:  # a polygon with a pointed chin on the face side
        n = int(rng.integers(6, 10))
        pts = [(cx + rx * math.cos(2 * math.pi * k / n), cy + ry * math.sin(2 * math.pi * k / n)) for k in range(n)]
        pts.append((cx + f * 0.7 * rx, cy + 1.05 * ry))
        pts.sort(key=lambda p: math.atan2(p[1] - cy, p[0] - cx))
        draw.polygon(pts, fill=skin, outline=outline)
    if hair_kind == 3:  # a cap of hair on top, towards the back
        draw.chord(
            [cx - f * 0.1 * rx - 1.02 * rx, cy - 1.05 * ry, cx - f * 0.1 * rx + 1.02 * rx, cy + 0.2 * ry],
            180,
            360,
            fill=hair,
        )
    if rng.random() < 0.2:  # a hat
        hat = _colour(rng, palette=False)
        draw.rectangle([cx - 1.2 * rx, cy - 0.95 * ry, cx + 1.2 * rx, cy - 0.8 * ry], fill=hat)
        draw.rectangle([cx - 0.7 * rx, cy - 1.6 * ry, cx + 0.7 * rx, cy - 0.85 * ry], fill=hat)

    # Nose, snout or beak on the face side.
    nose = _far(rng, skin) if rng.random() < 0.3 else tuple(max(0, v - 30) for v in skin)
    kind = int(rng.integers(4))
    ny = cy + rng.uniform(-0.05, 0.2) * ry
    edge = cx + f * rx * rng.uniform(0.8, 0.95)
    length = rx * rng.uniform(0.25, 0.6)
    if kind == 0:  # a triangle
        draw.polygon(
            [(edge, ny - 0.18 * ry), (edge + f * length, ny + 0.08 * ry), (edge, ny + 0.2 * ry)],
            fill=nose,
            outline=outline,
        )
    elif kind == 1:  # a round nose
        nr = 0.15 * rx + 0.2 * length
        draw.ellipse(
            [edge + f * 0.5 * nr - nr, ny - nr, edge + f * 0.5 * nr + nr, ny + nr], fill=nose, outline=outline, width=lw
        )
    elif kind == 2:  # a snout
        sx = edge + f * 0.25 * length
        draw.ellipse(
            [sx - 0.6 * length - 0.2 * rx, ny - 0.25 * ry, sx + 0.6 * length + 0.2 * rx, ny + 0.3 * ry],
            fill=nose,
            outline=outline,
            width=lw,
        )
        draw.ellipse(
            [sx + f * 0.5 * length - 5 * ss, ny - 5 * ss, sx + f * 0.5 * length + 5 * ss, ny + 5 * ss], fill=(0, 0, 0)
        )
    else:  # a beak
        draw.polygon(
            [
                (edge - f * 0.1 * rx, ny - 0.15 * ry),
                (edge + f * 1.4 * length, ny),
                (edge - f * 0.1 * rx, ny + 0.15 * ry),
            ],
            fill=_far(rng, skin, palette=True),
        )

    # Eyes towards the face side, pupils looking that way.
    eye_r = rx * rng.uniform(0.1, 0.2)
    eye_y = cy - rng.uniform(0.05, 0.3) * ry
    eyes = [cx + f * rng.uniform(0.35, 0.55) * rx]
    if rng.random() < 0.5:  # three-quarter view: a second eye nearer the middle
        eyes.append(cx + f * rng.uniform(-0.05, 0.12) * rx)
    white = (255, 255, 255) if rng.random() < 0.8 else _far(rng, skin)
    for ex in eyes:
        draw.ellipse(
            [ex - eye_r, eye_y - 1.2 * eye_r, ex + eye_r, eye_y + 1.2 * eye_r],
            fill=white,
            outline=outline or (0, 0, 0),
            width=max(ss, lw // 2),
        )
        pr = eye_r * rng.uniform(0.35, 0.6)
        px = ex + f * (eye_r - pr) * rng.uniform(0.5, 1.0)
        draw.ellipse([px - pr, eye_y - pr, px + pr, eye_y + pr], fill=(0, 0, 0))
        if rng.random() < 0.4:  # an eyebrow
            draw.line(
                [(ex - eye_r, eye_y - 1.6 * eye_r), (ex + eye_r, eye_y - 1.6 * eye_r - f * 0.3 * eye_r)],
                fill=hair,
                width=3 * ss,
            )

    # Ear at the back.
    if rng.random() < 0.8:
        ex = cx - f * rng.uniform(0.1, 0.35) * rx
        er = rx * rng.uniform(0.12, 0.22)
        draw.ellipse(
            [ex - er, cy - 1.3 * er, ex + er, cy + 1.3 * er], fill=skin, outline=outline or nose, width=max(ss, lw)
        )

    # Mouth on the face side, low.
    my = cy + rng.uniform(0.35, 0.55) * ry
    m0, m1 = cx + f * rng.uniform(0.2, 0.4) * rx, cx + f * rng.uniform(0.65, 0.85) * rx
    if rng.random() < 0.5:
        draw.line([(m0, my), (m1, my - 0.05 * ry)], fill=(60, 0, 0), width=max(2 * ss, lw))
    else:
        lo, hi = min(m0, m1), max(m0, m1)
        draw.arc([lo, my - 0.15 * ry, hi, my + 0.12 * ry], 20, 160, fill=(60, 0, 0), width=max(2 * ss, lw))

    small = image.resize((size[0], size[1]), Image.Resampling.LANCZOS)
    if rng.random() < 0.3:
        small = small.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    return small


def _animal(rng: np.random.Generator, facing: str, size: tuple[int, int] | None) -> Image.Image:
    """A flat animal head in profile: round head, snout and nose on the face side, ears and body behind."""
    f = -1.0 if facing == "left" else 1.0
    ss = 2
    if size is None:
        size = (int(rng.integers(200, 520)), int(rng.integers(200, 520)))
    w, h = size[0] * ss, size[1] * ss
    fur = _colour(rng, palette=False)
    image = _background(rng, (w, h), fur)
    draw = ImageDraw.Draw(image)
    r = rng.uniform(0.15, 0.28) * min(w, h)
    cx, cy = w / 2 + rng.uniform(-0.1, 0.1) * w, h / 2 + rng.uniform(-0.1, 0.1) * h
    ink = (0, 0, 0) if rng.random() < 0.7 else _far(rng, fur)
    lw = int(rng.integers(2, 5)) * ss
    if rng.random() < 0.5:  # the body behind the head
        bx = cx - f * 1.8 * r
        draw.ellipse([bx - 1.3 * r, cy + 0.3 * r, bx + 1.3 * r, cy + 1.6 * r], fill=fur, outline=ink, width=lw)
    for k in range(2):  # pointed ears, towards the back
        ex = cx - f * (0.1 + 0.45 * k) * r
        draw.polygon(
            [(ex - 0.25 * r, cy - 0.7 * r), (ex, cy - 1.5 * r), (ex + 0.25 * r, cy - 0.7 * r)], fill=fur, outline=ink
        )
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fur, outline=ink, width=lw)
    length = rng.uniform(0.5, 1.1) * r
    near, far = cx + f * 0.5 * r, cx + f * (0.5 * r + length)
    draw.ellipse(
        [min(near, far) - 0.3 * r, cy, max(near, far) + 0.1 * r, cy + 0.55 * r], fill=fur, outline=ink, width=lw
    )
    nx = cx + f * (0.5 * r + 0.9 * length)
    draw.ellipse([nx - 0.12 * r, cy + 0.05 * r, nx + 0.12 * r, cy + 0.25 * r], fill=ink)
    ex = cx + f * 0.3 * r
    draw.ellipse([ex - 0.12 * r, cy - 0.45 * r, ex + 0.12 * r, cy - 0.2 * r], fill=ink)
    return image.resize(size, Image.Resampling.LANCZOS)


def cartoon_set(n: int, seed: int) -> list[tuple[Image.Image, str]]:
    """``n`` heads, half facing left, half right, in random order."""
    rng = np.random.default_rng(seed)
    labels = ["left", "right"] * (n // 2) + (["left"] if n % 2 else [])
    rng.shuffle(labels)
    return [(cartoon(rng, label), label) for label in labels]


def write_set(folder: Path, heads: list[tuple[Image.Image, str]], by_label: bool = False) -> dict[str, str]:
    """Save ``heads`` as PNGs in ``folder`` (or ``folder/left``, ``folder/right``); returns name → label."""
    out: dict[str, str] = {}
    for k, (image, label) in enumerate(heads):
        rel = f"{label}/head_{k:03d}.png" if by_label else f"head_{k:03d}.png"
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path)
        out[rel] = label
    return out


# ------------------------------------------------------------------------------------------------ tests


def test_heads_are_varied_and_not_mirror_copies() -> None:
    heads = cartoon_set(12, seed=3)
    sizes = {im.size for im, _ in heads}
    assert len(sizes) == len(heads)
    arrays = [np.asarray(im.resize((64, 64)), dtype=np.float32) for im, _ in heads]
    for i, a in enumerate(arrays):
        for b in arrays[i + 1 :]:
            assert np.abs(a - b).mean() > 8  # no two alike
            assert np.abs(a[:, ::-1] - b).mean() > 8  # and none the mirror image of another


def test_sets_are_reproducible_and_the_facing_changes_the_drawing() -> None:
    a, b = cartoon_set(4, seed=9), cartoon_set(4, seed=9)
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for (x, _), (y, _) in zip(a, b, strict=True))
    for kind in ("person", "animal"):
        left = cartoon(np.random.default_rng(1), "left", size=(300, 300), kind=kind)
        right = cartoon(np.random.default_rng(1), "right", size=(300, 300), kind=kind)
        assert np.abs(np.asarray(left, dtype=np.int16) - np.asarray(right, dtype=np.int16)).mean() > 3
    with pytest.raises(ValueError, match="facing"):
        cartoon(np.random.default_rng(1), "up")


def test_no_face_detector_sees_them() -> None:
    cv2 = pytest.importorskip("cv2")
    from smoothie.dataset import faces

    found = 0
    for image, _ in cartoon_set(20, seed=11):
        rgb = np.asarray(image)
        if faces.analyse_faces(rgb).faces:
            found += 1
    assert found <= 2  # Haar cascades: a stray false detection at most
    _ = cv2
