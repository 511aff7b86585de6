"""Tag co-occurrence: which concepts almost always appear together (and will leak into each other).

For tags ``a`` and ``b`` seen in ``n_a`` and ``n_b`` captions and together in ``n_ab``, the pair is
flagged when both conditional frequencies ``n_ab / n_a`` and ``n_ab / n_b`` reach ``threshold``
(default 0.9) and the pair occurs in at least ``min_support`` captions, while neither tag is in
(almost) every caption (a trigger word or a field shared by the whole set says nothing). A model
trained on such data cannot tell the two apart: prompting one brings the other.
"""

from __future__ import annotations

import contextlib
import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Cooccurrence:
    tags: tuple[str, ...]  # the most frequent tags seen in >= min_support captions, most frequent first
    counts: tuple[int, ...]
    matrix: tuple[tuple[int, ...], ...]  # matrix[i][j]: captions with tags i and j (every pair counted)
    captions: int
    warnings: tuple[dict[str, object], ...]
    min_support: int = 3
    threshold: float = 0.9
    rare: int = 0  # distinct tags seen in fewer than min_support captions (not drawn)


def cooccurrence(
    tag_lists: Iterable[Sequence[str]],
    threshold: float = 0.9,
    min_support: int = 3,
    top: int = 30,
    ubiquitous: float = 0.95,
) -> Cooccurrence:
    """Counts and warnings for the tags of each caption (``tag_lists``: one list per caption).

    ``tag_lists`` is read twice (a list, or an object whose ``__iter__`` starts over): first the tags,
    then the pairs of tags seen at least ``min_support`` times, so memory follows the number of
    frequent tags rather than every pair of every caption.
    """
    n = 0
    single: Counter[str] = Counter()
    for raw in tag_lists:
        n += 1
        single.update({t.strip().lower() for t in raw if t.strip()})
    frequent = {t for t, c in single.items() if c >= min_support}
    pairs: Counter[tuple[str, str]] = Counter()
    for raw in tag_lists:
        tags = sorted({t.strip().lower() for t in raw if t.strip()} & frequent)
        pairs.update(itertools.combinations(tags, 2))
    warnings: list[dict[str, object]] = []
    for (a, b), both in sorted(pairs.items()):
        if both < min_support:
            continue
        na, nb = single[a], single[b]
        if na >= ubiquitous * n or nb >= ubiquitous * n:
            continue
        pa, pb = both / na, both / nb
        if pa >= threshold and pb >= threshold:
            warnings.append(
                {
                    "tags": [a, b],
                    "together": both,
                    "counts": [na, nb],
                    "message": f"{a!r} and {b!r} appear together in {both} of {max(na, nb)} captions: "
                    "the model will not learn them apart; add images with only one of them, or merge them",
                }
            )
    warnings.sort(key=lambda w: (-int(str(w["together"])), str(w["tags"])))
    # Only tags whose pairs were counted are drawn: a rarer tag's row would show zeros for pairs that occur.
    ranked = sorted(((t, c) for t, c in single.items() if t in frequent), key=lambda kv: (-kv[1], kv[0]))[:top]
    names = tuple(t for t, _ in ranked)
    matrix = tuple(tuple(single[a] if a == b else pairs[(min(a, b), max(a, b))] for b in names) for a in names)
    return Cooccurrence(
        names,
        tuple(c for _, c in ranked),
        matrix,
        n,
        tuple(warnings),
        min_support=min_support,
        threshold=threshold,
        rare=len(single) - len(frequent),
    )


# viridis at 0, 1/4, 1/2, 3/4 and 1 (perceptually uniform, readable in grey and by colour-blind readers)
_VIRIDIS = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))
_CELL = 22  # pixels per matrix cell


def _colour(value: float) -> tuple[int, int, int]:
    x = min(max(value, 0.0), 1.0) * (len(_VIRIDIS) - 1)
    i = min(int(x), len(_VIRIDIS) - 2)
    f = x - i
    a, b = _VIRIDIS[i], _VIRIDIS[i + 1]
    return (round(a[0] + (b[0] - a[0]) * f), round(a[1] + (b[1] - a[1]) * f), round(a[2] + (b[2] - a[2]) * f))


def _font(size: int) -> Any:
    """A scalable font: Pillow's own (10.1+), else DejaVu Sans from matplotlib's data (found without importing
    matplotlib), else Pillow's small bitmap font."""
    import importlib.util

    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, AttributeError, OSError):  # Pillow < 10.1 (A1111 1.10 ships 9.5)
        pass
    spec = importlib.util.find_spec("matplotlib")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
        if candidate.is_file():
            with contextlib.suppress(OSError):
                return ImageFont.truetype(str(candidate), size)
    return ImageFont.load_default()


def _width(font: Any, text: str) -> int:
    box = font.getbbox(text)
    return int(box[2] - box[0])


def plot(result: Cooccurrence, path: Path | None = None) -> bytes:
    """A PNG heat map of ``P(column | row)`` for the most frequent tags, flagged pairs outlined in red.

    Exactly what :func:`cooccurrence` counted is drawn (tags seen in at least ``min_support`` captions), and
    the legend states the rule the red outlines follow. Drawn with Pillow (a few MB, no plotting library
    loaded into the WebUI), without timestamps, so the bytes are reproducible. Returns the PNG bytes (and
    writes them to ``path`` when given).
    """

    from PIL import Image, ImageDraw

    k = len(result.tags)
    font, small = _font(13), _font(11)
    title = f"Tag co-occurrence in {result.captions} captions: tags in at least {result.min_support} captions" + (
        f" ({result.rare} rarer not shown)" if result.rare else ""
    )
    legend = [
        "cell colour: P(column | row), the share of the row's captions that also have the column's tag",
        f"red outline: together in at least {result.threshold:.0%} of the captions of each, at least "
        f"{result.min_support} times, unless one is in almost every caption (a model will not learn them apart)",
    ]
    pad, line = 12, 18
    if k == 0:
        message = f"no tag appears in {result.min_support} or more of the {result.captions} captions"
        width = max(_width(font, message), _width(small, legend[0])) + 2 * pad
        image = Image.new("RGB", (width, 3 * line + 2 * pad), "white")
        ImageDraw.Draw(image).text((pad, pad + line), message, fill=(40, 40, 40), font=font)
        return _png(image, path)
    rows = [f"{t} ({c})" for t, c in zip(result.tags, result.counts, strict=True)]
    left = max(_width(small, r) for r in rows) + pad + 6
    head = max(_width(small, t) for t in result.tags) + 6
    top = pad + 2 * line + head
    grid = k * _CELL
    bar_x = left + grid + 16
    width = max(bar_x + 16 + 8 + _width(small, "0.75") + pad, *(_width(small, t) + 2 * pad for t in legend))
    width = max(width, _width(font, title) + 2 * pad)
    height = top + grid + pad + len(legend) * line + pad
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((pad, pad), title, fill=(20, 20, 20), font=font)
    for j, tag in enumerate(result.tags):  # column labels, written upwards
        w = _width(small, tag) + 4
        label = Image.new("L", (w, _CELL), 0)
        ImageDraw.Draw(label).text((2, 4), tag, fill=255, font=small)
        label = label.rotate(90, expand=True)
        x = left + j * _CELL
        image.paste((40, 40, 40), (x, top - 4 - label.height, x + label.width, top - 4), label)
    for i, row in enumerate(rows):
        draw.text((left - 6 - _width(small, row), top + i * _CELL + 4), row, fill=(40, 40, 40), font=small)
        for j in range(k):
            value = result.matrix[i][j] / max(result.counts[i], 1)
            x, y = left + j * _CELL, top + i * _CELL
            draw.rectangle((x, y, x + _CELL - 1, y + _CELL - 1), fill=_colour(value))
    index = {t: i for i, t in enumerate(result.tags)}
    for warning in result.warnings:
        pair = warning["tags"]
        a, b = (str(t) for t in pair) if isinstance(pair, (list, tuple)) else ("", "")
        if a in index and b in index:
            for i, j in ((index[a], index[b]), (index[b], index[a])):
                x, y = left + j * _CELL, top + i * _CELL
                draw.rectangle((x, y, x + _CELL - 1, y + _CELL - 1), outline=(230, 0, 0), width=2)
    for y in range(grid):  # the colour bar, 1 at the top
        draw.line((bar_x, top + y, bar_x + 15, top + y), fill=_colour(1 - y / max(grid - 1, 1)))
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + round((1 - tick) * (grid - 1))
        draw.line((bar_x + 16, y, bar_x + 20, y), fill=(40, 40, 40))
        draw.text((bar_x + 23, y - 7), f"{tick:g}", fill=(40, 40, 40), font=small)
    for n, text in enumerate(legend):
        draw.text((pad, top + grid + pad + n * line), text, fill=(40, 40, 40), font=small)
    return _png(image, path)


def _png(image: Any, path: Path | None) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data
