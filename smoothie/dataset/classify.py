"""Sorting into classes: image features and a classifier trained in seconds with numpy.

Features (316 numbers, no pretrained network): a 12×3×3 HSV colour histogram (Hellinger-normalised,
Swain & Ballard 1991), a HOG-style grid of gradient-orientation histograms (4×4 cells × 9 unsigned
orientations on a 64×64 grey thumbnail, Dalal & Triggs 2005) and an 8×8 grey thumbnail (zero mean,
unit norm). The classifier is multinomial logistic regression with L2 regularisation, fitted by
gradient descent on standardised features; with strong regularisation and few examples it behaves
like a nearest-centroid rule, with more examples it learns which features matter.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

FEATURE_SIZE = 108 + 144 + 64


def features(rgb: np.ndarray) -> np.ndarray:
    """The feature vector (float32, length :data:`FEATURE_SIZE`) of an RGB ``uint8`` image."""
    import cv2
    import numpy as np

    small = cv2.resize(rgb, (64, 64), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, [12, 3, 3], [0, 180, 0, 256, 0, 256]).flatten()
    hist = np.sqrt(hist / max(float(hist.sum()), 1.0))
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=1)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=1)
    mag = np.hypot(gx, gy)
    ang = (np.degrees(np.arctan2(gy, gx)) % 180.0) / 20.0  # 9 bins of 20°
    bins = np.minimum(ang.astype(np.int64), 8)
    hog = np.zeros((4, 4, 9), dtype=np.float64)
    for cy in range(4):
        for cx in range(4):
            sl = (slice(cy * 16, cy * 16 + 16), slice(cx * 16, cx * 16 + 16))
            hog[cy, cx] = np.bincount(bins[sl].ravel(), weights=mag[sl].ravel(), minlength=9)[:9]
    hog_flat = hog.ravel()
    hog_flat = hog_flat / (np.linalg.norm(hog_flat) + 1e-6)
    thumb = cv2.resize(gray, (8, 8), interpolation=cv2.INTER_AREA).ravel()
    thumb = thumb - thumb.mean()
    thumb = thumb / (np.linalg.norm(thumb) + 1e-6)
    return np.concatenate([hist, hog_flat, thumb]).astype(np.float32)


def encode(vec: np.ndarray) -> str:
    """Compact text form (float16, base64) for the analysis cache."""
    import numpy as np

    return base64.b64encode(np.asarray(vec, dtype=np.float16).tobytes()).decode("ascii")


def decode(text: str) -> np.ndarray:
    import numpy as np

    return np.frombuffer(base64.b64decode(text), dtype=np.float16).astype(np.float32)


@dataclass(frozen=True)
class Classifier:
    classes: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # (features, classes)
    bias: np.ndarray

    def predict(self, vectors: np.ndarray) -> tuple[list[str], list[float]]:
        """Class and probability for each row of ``vectors``."""

        probs = self.probabilities(vectors)
        index = probs.argmax(axis=1)
        return [self.classes[i] for i in index], [float(probs[r, i]) for r, i in enumerate(index)]

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        import numpy as np

        x = (np.atleast_2d(vectors) - self.mean) / self.scale
        return _softmax(x @ self.weights + self.bias)


def train(examples: Mapping[str, Sequence[np.ndarray]], l2: float = 1.0, steps: int = 400) -> Classifier:
    """Fit the classifier on ``{class: [feature vectors]}`` (at least two classes, one example each)."""
    import numpy as np

    classes = tuple(sorted(c for c, v in examples.items() if len(v)))
    if len(classes) < 2:
        raise ValueError(f"classes: need labelled examples of at least two classes, got {list(classes)}")
    x = np.stack([np.asarray(v, dtype=np.float64) for c in classes for v in examples[c]])
    y = np.array([i for i, c in enumerate(classes) for _ in examples[c]])
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-3
    xs = (x - mean) / scale
    n, d = xs.shape
    k = len(classes)
    onehot = np.eye(k)[y]
    # Balance classes: each class weighs the same in the loss whatever its number of examples.
    sample_w = (1.0 / np.bincount(y, minlength=k))[y] * (n / k)
    w = np.zeros((d, k))
    b = np.zeros(k)
    lam = l2 / n
    # Step 1/L with L a Lipschitz bound of the gradient: softmax curvature <= 1/2 times the largest
    # eigenvalue of the (weighted) Gram matrix, plus the L2 term.
    lipschitz = 0.5 * float(np.linalg.norm(xs * np.sqrt(sample_w)[:, None], 2)) ** 2 / n + lam + 1.0 / n
    lr = 1.0 / lipschitz
    for _ in range(steps):
        p = _softmax(xs @ w + b)
        g = (p - onehot) * sample_w[:, None] / n
        w -= lr * (xs.T @ g + lam * w)
        b -= lr * g.sum(axis=0)
    return Classifier(classes, mean, scale, w, b)


def _softmax(z: np.ndarray) -> np.ndarray:
    import numpy as np

    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


def example_folders(classes_dir: Path) -> dict[str, list[Path]]:
    """``{class: [image paths]}`` from ``classes_dir/<class>/*`` (files only, sorted)."""
    root = Path(classes_dir)
    if not root.is_dir():
        raise ValueError(f"classes: {str(root)!r} is not a folder of class folders")
    out: dict[str, list[Path]] = {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(p for p in sub.rglob("*") if p.is_file() and not p.name.lower().endswith((".txt", ".caption")))
        if files:
            out[sub.name] = files
    if len(out) < 2:
        raise ValueError(
            f"classes: {str(root)!r} needs at least two sub-folders with example images, found {list(out)}"
        )
    return out
