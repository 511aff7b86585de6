"""Faces, eyes, facing direction and shot type with OpenCV's Haar cascades (offline, shipped in ``cv2.data``).

Direction convention: ``left`` means the subject faces the image's left edge (the nose points left as
you look at the picture); ``frontal`` faces the camera; ``unknown`` means no face was found.

The estimate is made antisymmetric under mirroring by construction: with ``E(x)`` the evidence that
image ``x`` faces left, the yaw score is ``E(img) - E(mirror(img))``, so an exact mirror image gets
exactly the opposite score and mirrored copies of a subject get opposite directions (or both
``frontal``). ``E`` combines

* for frontal faces (the frontal cascade run on the image and on its mirror, both sets kept), the
  horizontal offset of the skin centroid from the face box centre in the cheek band: a head turned to
  the left shows more cheek right of the facial midline;
* when there is no frontal face, OpenCV's profile cascade, trained on faces turned towards the image's
  left: its detections on ``x`` (neighbour count as strength; Viola & Jones 2001, Lienhart & Maydt 2002).

Shot type from the largest face's height relative to the image height: ≥ 0.25 close-up, ≥ 0.08 medium
shot, below that a full shot (thresholds of the usual framing vocabulary: a close-up frames the head,
a medium shot the body from the waist up).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

DETECT_SIZE = 288  # longest side the cascades run at (cost grows with its square)
PROFILE_SCALE = 1.2  # scale step of the cascades (cost falls fast with it; 1.25 starts missing profiles)
FRONTAL_MIN = 0.06  # smallest face searched, as a fraction of the shorter side (never below the 20 px window)
PROFILE_MIN = 0.12  # the same for faces in profile: the smallest windows cost the most, and tiny profiles are
# too small to orient reliably anyway (a full-body shot seen from afar gives `unknown`)
FRONTAL_THRESHOLD = 0.04  # |yaw| below this is frontal
CLOSE_UP = 0.25
MEDIUM = 0.08

Box = tuple[int, int, int, int]  # x, y, w, h in the coordinates of the image analysed


@dataclass(frozen=True)
class FaceResult:
    faces: tuple[Box, ...]  # frontal and profile faces, merged, in detection-image coordinates
    eyes: tuple[Box, ...]
    yaw: float  # > 0 faces left, < 0 faces right
    direction: str  # left | right | frontal | unknown
    shot: str | None  # close-up | medium shot | full shot | None (no face)
    scale: float  # detection image pixels per analysed-image pixel

    def faces_in(self, width: int, height: int, det_size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
        """Face and eye boxes as ``[l, t, r, b]`` in an image of ``width`` × ``height``."""
        sx = width / det_size[0]
        sy = height / det_size[1]
        return [(round(x * sx), round(y * sy), round((x + w) * sx), round((y + h) * sy)) for x, y, w, h in self.faces]


class _Cascades(threading.local):
    """One set of classifiers per thread: ``cv2.CascadeClassifier`` is not safe to share across threads."""

    def __init__(self) -> None:
        import cv2

        base = cv2.data.haarcascades  # type: ignore[attr-defined]
        self.frontal = _load(cv2, base + "haarcascade_frontalface_alt2.xml")
        self.profile = _load(cv2, base + "haarcascade_profileface.xml")
        self.eye = _load(cv2, base + "haarcascade_eye.xml")


def _load(cv2: Any, path: str) -> Any:
    classifier = cv2.CascadeClassifier(path)
    if classifier.empty():
        raise RuntimeError(f"OpenCV could not load the cascade {path!r}; reinstall opencv-python-headless<5")
    return classifier


_CASCADES: _Cascades | None = None
_LOCK = threading.Lock()


def _cascades() -> _Cascades:
    global _CASCADES
    with _LOCK:
        if _CASCADES is None:
            _CASCADES = _Cascades()
    return _CASCADES


def detection_image(rgb: np.ndarray) -> np.ndarray:
    """The grey, histogram-equalised image the cascades run on (longest side :data:`DETECT_SIZE`)."""
    import cv2

    h, w = rgb.shape[:2]
    scale = DETECT_SIZE / max(h, w)
    if scale < 1:
        rgb = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return rgb


def analyse_faces(rgb: np.ndarray) -> FaceResult:
    """Faces, eyes, direction and shot for an RGB ``uint8`` array (any size; resized internally)."""
    import cv2
    import numpy as np

    small = detection_image(rgb)
    scale = small.shape[1] / rgb.shape[1]
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    mirror_gray = np.ascontiguousarray(gray[:, ::-1])
    mirror_rgb = np.ascontiguousarray(small[:, ::-1])
    h, w = gray.shape
    c = _cascades()
    min_side = max(20, int(FRONTAL_MIN * min(h, w)))
    # The cascades run on a canonical orientation: of the image and its mirror, the one whose bytes sort
    # first. An image and its mirror image share it, so they see the very same detections (mirrored), and
    # the yaw below is exactly antisymmetric — with each cascade run once, not once per orientation.
    flipped = gray.tobytes() > mirror_gray.tobytes()
    canon = mirror_gray if flipped else gray
    canon_mirror = gray if flipped else mirror_gray
    frontal_c = [f[:4] for f in _detect(c.frontal, canon, 1.2, 3, min_side)]
    left_c: list[Any] = []  # left-facing profiles in the canonical image
    left_cm: list[Any] = []  # ... and in its mirror
    if not frontal_c:  # (a decision the mirror image takes the same way) look for faces in profile
        profile_side = max(min_side, int(PROFILE_MIN * min(h, w)))
        left_c = _detect(c.profile, canon, PROFILE_SCALE, 2, profile_side)  # the cascade finds left-facing faces
        left_cm = _detect(c.profile, canon_mirror, PROFILE_SCALE, 2, profile_side)
        if not left_c and not left_cm:
            return FaceResult((), (), 0.0, "unknown", None, scale)
    frontal = [_flip(f, w) for f in frontal_c] if flipped else frontal_c  # in the image's own frame
    mirror_frontal = [_flip(f, w) for f in frontal]
    left_hits, mirror_hits = (left_cm, left_c) if flipped else (left_c, left_cm)

    def evidence(image: np.ndarray, profiles: list[Any], fronts: list[Box]) -> float:
        """How strongly ``image`` faces left: profile-cascade strength plus the frontal faces' skin offset
        (their area-weighted mean)."""
        score = max((min(n, 12) / 12.0 for *_, n in profiles), default=0.0) * 0.5
        area = sum(bw * bh for _, _, bw, bh in fronts)
        if area:
            score += sum(bw * bh * _skin_offset(image, (x, y, bw, bh)) for x, y, bw, bh in fronts) / area
        return score

    yaw = evidence(small, left_hits, frontal) - evidence(mirror_rgb, mirror_hits, mirror_frontal)
    direction = "frontal" if abs(yaw) < FRONTAL_THRESHOLD else "left" if yaw > 0 else "right"
    right_profiles = [_flip(p[:4], w) for p in mirror_hits]
    boxes = _merge(frontal + [p[:4] for p in left_hits] + right_profiles)
    eyes: list[Box] = []
    for x, y, bw, bh in _merge(frontal)[:4]:
        roi = gray[y : y + int(bh * 0.6), x : x + bw]
        size = max(8, bw // 8)
        for ex, ey, ew, eh, _ in _detect(c.eye, roi, 1.1, 3, size):
            eyes.append((x + ex, y + ey, ew, eh))
    biggest = max((b[3] for b in boxes), default=0)
    ratio = biggest / h
    shot = "close-up" if ratio >= CLOSE_UP else "medium shot" if ratio >= MEDIUM else "full shot"
    return FaceResult(tuple(boxes), tuple(eyes), float(yaw), direction, shot, scale)


def _flip(box: Box, width: int) -> Box:
    x, y, bw, bh = box
    return (width - x - bw, y, bw, bh)


def _detect(classifier: Any, gray: np.ndarray, scale: float, neighbours: int, min_side: int) -> list[Any]:
    if gray.shape[0] < min_side or gray.shape[1] < min_side:
        return []
    boxes, counts = classifier.detectMultiScale2(
        gray, scaleFactor=scale, minNeighbors=neighbours, minSize=(min_side, min_side)
    )
    out = [(int(x), int(y), int(bw), int(bh), int(n)) for (x, y, bw, bh), n in zip(boxes, counts, strict=True)]
    out.sort()
    return out


def _skin_offset(rgb: np.ndarray, box: Box) -> float:
    """Skin centroid minus face-box centre in the cheek band, in face widths (> 0: more skin on the right)."""
    import cv2
    import numpy as np

    x, y, w, h = box
    margin = (3 * w) // 10  # integer arithmetic: the band of a mirrored box is the mirrored band
    x0 = max(0, x - margin)
    x1 = min(rgb.shape[1], x + w + margin)
    band = rgb[y + h // 4 : y + (9 * h) // 10, x0:x1]
    if band.size == 0:
        return 0.0
    ycc = cv2.cvtColor(np.ascontiguousarray(band), cv2.COLOR_RGB2YCrCb)
    cr = ycc[..., 1]
    cb = ycc[..., 2]
    skin = (cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127)  # Chai & Ngan 1999 skin range
    cols = skin.sum(axis=0).astype(np.float64)
    total = cols.sum()
    if total < 0.05 * band.shape[0] * band.shape[1]:
        return 0.0  # too little skin (grey image, mask, lighting): no opinion
    xs = np.arange(x0, x1, dtype=np.float64) + 0.5
    centroid = float((cols * xs).sum() / total)
    return (centroid - (x + w / 2)) / w


def _merge(boxes: list[Box]) -> list[Box]:
    """Boxes with overlapping ones (IoU > 0.3) reduced to the larger, largest first."""
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: (-b[2] * b[3], b)):
        if all(_iou(box, k) <= 0.3 for k in kept):
            kept.append(box)
    return kept


def _iou(a: Box, b: Box) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union else 0.0
