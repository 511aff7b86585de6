"""Which way a subject faces, learnt in seconds from a few labelled examples (cartoons, animals, back views).

Features. For an image ``x`` the last EfficientNet-Lite0 feature map (1,280 channels on a 7 × 7 grid) says
*what* is *where*. Per channel, the horizontal offset of its activation from the centre of all activation
(a weighted first moment, in image widths) says on which side of the subject that part sits: eyes, nose
or beak on the side the subject faces, hair and ears behind. The feature vector is the offsets of ``x``
minus the offsets of its mirror image, ``d(x) = o(x) − o(mirror(x))``. So ``d(mirror(x)) = −d(x)``
exactly: a mirrored image gets the opposite direction by construction, and a mirrored example is the same
example with the opposite label (training on both, as asked, changes nothing but is done anyway).

Classifier. Nearest centroid on L2-normalised features (Rocchio 1971) with no bias term, so the decision
``w · d(x)`` stays antisymmetric: ``w`` is the mean of ``+d`` of the left-facing examples and ``−d`` of the
right-facing ones. Then a few rounds of self-training (Yarowsky 1995) over the unlabelled images of the
run: each round labels them by the current ``w`` and adds them, at half weight, to the mean. With six
examples and 40 cartoon heads of styles the examples do not share, the examples alone get about 96 %
right and self-training 100 % (docs/BENCHMARKS.md has the command). An image whose ``d`` is zero (a
perfectly symmetric picture) is ``frontal``.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

LABELS = ("left", "right")
SELF_TRAINING_ROUNDS = 5
UNLABELLED_WEIGHT = 0.5
EPSILON = 1e-6  # |d| below this (relative to the examples' typical norm) is a symmetric picture


def part_offsets(maps: np.ndarray) -> np.ndarray:
    """Per channel, where its activation sits left (−) or right (+) of the centre of all activation.

    ``maps``: (N, C, H, W), non-negative. Returns (N, C): each channel's horizontal centroid minus the
    centroid of the whole map, in map widths, times the square root of the channel's share of the
    activation (strong channels count more, silent ones are not noise amplified)."""
    import numpy as np

    maps = np.asarray(maps, dtype=np.float64)
    width = maps.shape[3]
    xs = (np.arange(width) + 0.5) / width
    columns = maps.mean(axis=2)  # (N, C, W)
    total = columns.sum(axis=2)  # (N, C)
    overall = columns.sum(axis=1)  # (N, W)
    mass = overall.sum(axis=1)  # (N,)
    # the centroid of all activation; the middle for an empty map. No epsilon in the division: a floor on a
    # tiny mass would pull the centre towards the left edge and break d(mirror) = -d (hypothesis found it)
    centre = np.divide((overall * xs).sum(axis=1), mass, out=np.full_like(mass, 0.5), where=mass > 0)
    offsets = (columns * (xs[None, None, :] - centre[:, None, None])).sum(axis=2) / (total + 1e-6)
    strength = np.sqrt(total / np.maximum(total.mean(axis=1, keepdims=True), 1e-12))
    out: np.ndarray = offsets * strength
    return out


def antisymmetric(maps_image: np.ndarray, maps_mirror: np.ndarray) -> np.ndarray:
    """``d(x) = o(x) − o(mirror(x))`` from the feature maps of the images and of their mirrors."""
    import numpy as np

    return np.asarray(part_offsets(maps_image) - part_offsets(maps_mirror), dtype=np.float32)


def encode(vec: np.ndarray) -> str:
    """Compact text (float16, base64) for the analysis record."""
    import numpy as np

    return base64.b64encode(np.asarray(vec, dtype=np.float16).tobytes()).decode("ascii")


def decode(text: str) -> np.ndarray:
    import numpy as np

    return np.frombuffer(base64.b64decode(text), dtype=np.float16).astype(np.float32)


def _unit(x: np.ndarray) -> np.ndarray:
    import numpy as np

    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    out: np.ndarray = x / np.maximum(norm, 1e-12)
    return out


@dataclass(frozen=True)
class DirectionModel:
    weights: np.ndarray  # unit vector; w · unit(d) > 0 means left
    scale: float  # typical |w · unit(d)| of the examples (for confidences)
    norm: float  # typical |d| of the examples (below EPSILON times this: symmetric, frontal)
    examples: int  # labelled examples (mirrors not counted)

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        import numpy as np

        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float64))
        out: np.ndarray = _unit(vectors) @ self.weights
        tiny = np.linalg.norm(vectors, axis=1) < EPSILON * self.norm
        out[tiny] = 0.0
        return out

    def predict(self, vectors: np.ndarray) -> list[tuple[str, float]]:
        """``(direction, confidence)`` per row: ``left``/``right`` (``frontal`` for a symmetric picture) and
        a confidence in 0..1 (the score relative to the examples' typical score)."""
        out = []
        for s in self.scores(vectors):
            if s == 0.0:
                out.append(("frontal", 0.0))
            else:
                out.append(("left" if s > 0 else "right", round(min(1.0, abs(float(s)) / self.scale), 3)))
        return out


def train(
    examples: Mapping[str, Sequence[np.ndarray]],
    unlabelled: Sequence[np.ndarray] | np.ndarray = (),
    rounds: int = SELF_TRAINING_ROUNDS,
) -> DirectionModel:
    """The classifier from ``{"left": [d, …], "right": [d, …]}`` and the run's unlabelled vectors.

    Each example is used with its mirror image (``−d``, the opposite label). Raises ``ValueError`` when a
    direction has no example or every example is a symmetric picture."""
    import numpy as np

    unknown = sorted(set(examples) - set(LABELS))
    if unknown:
        raise ValueError(f"direction examples: labels must be 'left' or 'right', got {unknown}")
    missing = [label for label in LABELS if not len(examples.get(label, ()))]
    if missing:
        raise ValueError(f"direction examples: need at least one 'left' and one 'right' example; none for {missing}")
    vecs, signs = [], []
    for label in LABELS:
        sign = 1.0 if label == "left" else -1.0
        for example in examples[label]:
            v = np.asarray(example, dtype=np.float64)
            vecs += [v, -v]  # the example and its mirror image, which faces the other way
            signs += [sign, -sign]
    x = np.stack(vecs)
    y = np.array(signs)
    norms = np.linalg.norm(x, axis=1)
    typical = float(np.median(norms))
    if typical <= 0:
        raise ValueError("direction examples: every example is left-right symmetric; nothing to learn from")
    labelled = _unit(x) * y[:, None]
    w = labelled.mean(axis=0)
    pool = np.asarray(unlabelled, dtype=np.float64).reshape(-1, x.shape[1]) if len(unlabelled) else None
    if pool is not None:
        pool = pool[np.linalg.norm(pool, axis=1) >= EPSILON * typical]
        pool_unit = _unit(pool) if len(pool) else None
        for _ in range(rounds if pool_unit is not None else 0):
            assert pool_unit is not None
            guess = np.sign(pool_unit @ w)
            both = np.concatenate([labelled, UNLABELLED_WEIGHT * pool_unit * guess[:, None]])
            weights = np.concatenate([np.ones(len(labelled)), np.full(len(pool_unit), UNLABELLED_WEIGHT)])
            w = both.sum(axis=0) / weights.sum()
    w = w / max(float(np.linalg.norm(w)), 1e-12)
    scale = float(np.median(np.abs(_unit(x) @ w))) or 1.0
    count = sum(len(examples[label]) for label in LABELS)
    return DirectionModel(w, scale, typical, count)


def example_folders(root: Path) -> dict[str, list[Path]]:
    """``{"left": [paths], "right": [paths]}`` from ``root/left/*`` and ``root/right/*`` (sorted)."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"direction examples: {str(root)!r} is not a folder (expected {root}/left and {root}/right)")
    out: dict[str, list[Path]] = {}
    for label in LABELS:
        sub = root / label
        files = (
            sorted(
                p
                for p in sub.rglob("*")
                if p.is_file() and not p.name.startswith(".") and not p.name.lower().endswith((".txt", ".caption"))
            )
            if sub.is_dir()
            else []
        )
        if not files:
            raise ValueError(f"direction examples: {str(sub)!r} has no images; put examples facing {label} there")
        out[label] = files
    return out


def describe_model(model: DirectionModel) -> dict[str, Any]:
    """What the summary says about the classifier."""
    return {"examples": model.examples, "method": "nearest centroid on mirror-antisymmetric EfficientNet features"}
