"""Tag co-occurrence: which concepts almost always appear together (and will leak into each other).

For tags ``a`` and ``b`` seen in ``n_a`` and ``n_b`` captions and together in ``n_ab``, the pair is
flagged when both conditional frequencies ``n_ab / n_a`` and ``n_ab / n_b`` reach ``threshold``
(default 0.9) and the pair occurs in at least ``min_support`` captions, while neither tag is in
(almost) every caption (a trigger word or a field shared by the whole set says nothing). A model
trained on such data cannot tell the two apart: prompting one brings the other.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


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


def plot(result: Cooccurrence, path: Path | None = None) -> bytes:
    """A PNG heat map of ``P(column | row)`` for the most frequent tags, flagged pairs outlined in red.

    Exactly what :func:`cooccurrence` counted is drawn (tags seen in at least ``min_support`` captions), and
    the legend states the rule the red outlines follow.

    Drawn on an Agg canvas of its own (no pyplot, the host's backend untouched), without timestamps, so the bytes are
    reproducible. Returns the PNG bytes (and writes them to ``path`` when given).
    """
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    k = len(result.tags)
    fig = Figure(figsize=(max(4.0, 0.32 * k + 2.5), max(3.5, 0.32 * k + 2.0)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    if k == 0:
        message = f"no tag appears in {result.min_support} or more of the {result.captions} captions"
        ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=8, wrap=True)
        ax.set_axis_off()
    else:
        cond = [[result.matrix[i][j] / max(result.counts[i], 1) for j in range(k)] for i in range(k)]
        image = ax.imshow(cond, cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_xticks(range(k))
        ax.set_yticks(range(k))
        ax.set_xticklabels(result.tags, rotation=60, ha="right", fontsize=7)
        ax.set_yticklabels([f"{t} ({c})" for t, c in zip(result.tags, result.counts, strict=True)], fontsize=7)
        index = {t: i for i, t in enumerate(result.tags)}
        for w in result.warnings:
            pair = [str(t) for t in w["tags"]]  # type: ignore[attr-defined]
            a, b = pair[0], pair[1]
            if a in index and b in index:
                for i, j in ((index[a], index[b]), (index[b], index[a])):
                    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=1.5))
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="P(column | row): share of the row's captions")
        ax.set_title(
            f"Tag co-occurrence in {result.captions} captions: tags in ≥ {result.min_support} captions"
            + (f" ({result.rare} rarer not shown)" if result.rare else ""),
            fontsize=9,
        )
        ax.set_xlabel(
            f"red outline: together in ≥ {result.threshold:.0%} of the captions of each, ≥ {result.min_support} "
            "times, unless one is in almost every caption (a model will not learn them apart)",
            fontsize=7,
        )
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data
