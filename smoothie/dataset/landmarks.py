"""Face mesh and body pose with MediaPipe (offline; the models ship in the wheel): the caption's fields.

MediaPipe's ``solutions`` API runs BlazePose (Bazarevsky et al. 2020, 33 body landmarks, ``pose_landmark_full``)
and Face Mesh with attention (Kartynnik et al. 2019; Grishchenko et al. 2020: 468 landmarks in 3-D plus 10
iris landmarks). From them, in image terms (``left`` = towards the image's left edge, the README's convention):

* facing, from the head's yaw: the 3-D direction of the line between the cheeks (landmarks 234 → 454: the
  cheek on the side the head turns to recedes);
  ``frontal`` within ±:data:`FRONTAL_YAW` degrees;
* camera angle, from the head's pitch: the 3-D direction of forehead → chin (10 → 152), less the
  :data:`PITCH_BASELINE` an upright face shows at eye level; a face seen tilted down by more than
  :data:`CAMERA_PITCH` degrees is seen ``from above``, tilted up ``from below`` (a head bowed to a camera at
  eye level reads the same: a picture cannot tell them apart);
* gaze, from the head's yaw/pitch plus the irises' offsets in the eye openings (an iris at the corner is
  about :data:`EYE_ROTATION` degrees of eye rotation): within ±:data:`VIEWER_GAZE` degrees of the camera is
  ``looking at viewer``, else ``looking left``/``right``/``up``/``down``;
* eyes, from the eye aspect ratio (Soukupová & Čech 2016): ``eyes closed`` below :data:`EAR_CLOSED`,
  ``half-closed eyes`` below :data:`EAR_HALF`, one eye closed and the other open is ``one eye closed``;
* mouth, from the inner-lip gap over the mouth's width: ``mouth closed`` / ``mouth open``, ``teeth`` when
  the opening is mostly bright, unsaturated pixels; corners above the lips' centre are ``smiling``;
* shot, from which body landmarks are in the picture (ankles: ``full body``; knees: ``cowboy shot``;
  hips or elbows: ``upper body``; else ``close-up``), or from the face's size alone;
* pose: ``lying`` (torso nearer horizontal than vertical), ``sitting`` (thighs nearer horizontal),
  ``standing``; ``arms raised`` / ``hand up`` (wrists above the shoulders); a back view (the body's left
  shoulder on the image's left, no face found) is ``from behind``.

Mirror images get mirrored readings exactly: the models run on a canonical orientation (of the image and its
mirror image, the one whose bytes sort first; if it finds no face, the other one is tried, a choice the
mirror image makes the same way) and horizontal quantities are negated for the other orientation.

MediaPipe is optional: :func:`available` says why it cannot run, and the pipeline then falls back to
OpenCV's Haar cascades (:mod:`smoothie.dataset.faces`). The ``solutions`` API with its bundled models exists
in mediapipe 0.10.x up to 0.10.21 (0.10.30 and 1.x ship no models); see the README for which version fits
which protobuf.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

FRONTAL_YAW = 15.0  # |yaw| below this: facing the viewer
PITCH_BASELINE = 8.0  # forehead-to-chin pitch of an upright face at eye level (the chin sits forward)
CAMERA_PITCH = 15.0  # head pitch beyond this: from above / from below
EYE_ROTATION = 45.0  # degrees of eye rotation when the iris reaches the eye's corner
VIEWER_GAZE = 12.0  # gaze within this many degrees of the camera: looking at viewer
GAZE_AWAY = 20.0  # ... beyond this: looking left/right/up/down (in between: not said)
EAR_CLOSED = 0.12
EAR_HALF = 0.2
MOUTH_OPEN = 0.08  # inner-lip gap / mouth width
SMILE = 0.06  # (lips' centre − corners) height / mouth width
TEETH = 0.35  # share of bright, unsaturated pixels in the opening
CLOSE_UP_FACE = 0.3  # face (forehead to chin) this share of the picture's height or more: a close-up
VISIBLE = 0.5  # landmark visibility for "in the picture"
MESH_CROP_SIDE = 256
# In a crop around a head the pose found, a face counts only when the face detector is this sure of it: the
# pose also "finds" people in things (a motorbike), and an upscaled crop of them can pass for a face
# (real faces there score 0.85–0.95, such false heads 0.5–0.6).
CROP_FACE_SCORE = 0.75
DRAWN = 0.45  # share of flat pixels (3×3 standard deviation < 2 levels) in the face: a drawing, not a photo

# Face mesh indices (MediaPipe's canonical face model).
RIGHT_CHEEK, LEFT_CHEEK, FOREHEAD, CHIN, NOSE_TIP = 234, 454, 10, 152, 1
RIGHT_EYE = (33, 160, 158, 133, 153, 144)  # p1..p6 of the eye aspect ratio: corner, top, top, corner, bottom, bottom
LEFT_EYE = (362, 385, 387, 263, 373, 380)
RIGHT_IRIS, LEFT_IRIS = 468, 473
RIGHT_LIDS, LEFT_LIDS = (159, 145), (386, 374)
MOUTH_CORNERS = (61, 291)
INNER_LIPS_MID = (13, 14)
INNER_LIPS = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
# BlazePose indices.
NOSE, L_EAR, R_EAR, L_SHOULDER, R_SHOULDER = 0, 7, 8, 11, 12
L_ELBOW, R_ELBOW, L_WRIST, R_WRIST, L_HIP, R_HIP = 13, 14, 15, 16, 23, 24
L_KNEE, R_KNEE, L_ANKLE, R_ANKLE, L_HEEL, R_HEEL = 25, 26, 27, 28, 29, 30
HEAD = tuple(range(11))


@dataclass(frozen=True)
class FaceReading:
    """Measurements of one face (angles in degrees, image terms: + yaw faces the image's right)."""

    box: tuple[float, float, float, float]  # l, t, r, b as fractions of the picture
    eyes: tuple[tuple[float, float, float, float], ...]
    yaw: float
    pitch: float  # + : tilted down (seen from above), baseline removed
    ear: tuple[float, float]  # eye aspect ratios (subject's right eye, left eye)
    mouth_open: float
    smile: float
    teeth: float
    gaze: tuple[float, float]  # horizontal (+ right), vertical (+ down)
    height: float  # forehead to chin, as a share of the picture's height
    flat: float = 0.0  # share of flat pixels in the face box (drawings are mostly flat, photos never)

    def mirrored(self) -> FaceReading:
        left, top, right, bottom = self.box
        return replace(
            self,
            box=(1 - right, top, 1 - left, bottom),
            eyes=tuple((1 - er, et, 1 - el, eb) for el, et, er, eb in self.eyes),
            yaw=-self.yaw,
            ear=(self.ear[1], self.ear[0]),
            gaze=(-self.gaze[0], self.gaze[1]),
        )


@dataclass(frozen=True)
class BodyReading:
    box: tuple[float, float, float, float]
    shot: str | None
    posture: str | None  # standing | sitting | lying
    arms: str | None  # arms raised | hand up
    back_view: bool
    yaw: float | None  # from the head landmarks when no face mesh: + faces right

    def mirrored(self) -> BodyReading:
        left, top, right, bottom = self.box
        return replace(self, box=(1 - right, top, 1 - left, bottom), yaw=None if self.yaw is None else -self.yaw)


@dataclass(frozen=True)
class Reading:
    """What the landmarks say about a picture: the fields of the caption schema and the facing."""

    facing: str  # left | right | frontal | unknown
    yaw: float
    confident: bool  # a face mesh was found on a photographic face (the facing is measured, not guessed)
    person: bool
    drawn: bool = False  # the face found is a drawing (cartoon, anime): its facing is only a rough guess
    face_in_crop: bool = False  # the face was found only in a crop around the head the pose found
    fields: dict[str, str] = field(default_factory=dict)  # caption field -> phrase (comma-joined)
    faces: tuple[tuple[float, float, float, float], ...] = ()
    eyes: tuple[tuple[float, float, float, float], ...] = ()
    measures: dict[str, float] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------- geometry


def read_face(points: np.ndarray, rgb: np.ndarray | None = None) -> FaceReading:
    """Measurements from face-mesh landmarks ``points`` (478 × 3, pixels; z in the x scale, + away from the
    camera) of a picture ``rgb`` (for the teeth; optional)."""
    import numpy as np

    p = np.asarray(points, dtype=np.float64)
    height = float(rgb.shape[0]) if rgb is not None else max(float(p[:, 1].max()), 1.0)
    width = float(rgb.shape[1]) if rgb is not None else max(float(p[:, 0].max()), 1.0)
    across = p[LEFT_CHEEK] - p[RIGHT_CHEEK]
    yaw = math.degrees(math.atan2(across[2], across[0]))  # the cheek on the side the face turns to recedes
    down = p[CHIN] - p[FOREHEAD]
    pitch = math.degrees(math.atan2(down[2], down[1])) - PITCH_BASELINE

    def ear(idx: tuple[int, ...]) -> float:
        a, b, c, d, e, f = (p[i, :2] for i in idx)
        return float((np.linalg.norm(b - f) + np.linalg.norm(c - e)) / (2 * max(float(np.linalg.norm(a - d)), 1e-6)))

    corners = p[list(MOUTH_CORNERS), :2]
    mouth_w = max(float(np.linalg.norm(corners[0] - corners[1])), 1e-6)
    lips = p[list(INNER_LIPS_MID), :2]
    gap = float(np.linalg.norm(lips[0] - lips[1])) / mouth_w
    smile = float((lips[:, 1].mean() - corners[:, 1].mean()) / mouth_w)
    teeth = _teeth(rgb, p[list(INNER_LIPS), :2]) if rgb is not None and gap >= MOUTH_OPEN else 0.0

    def iris(centre: int, inner: int, outer: int, lids: tuple[int, int]) -> tuple[float, float]:
        span = max(abs(p[outer, 0] - p[inner, 0]), 1e-6)
        opening = max(abs(p[lids[1], 1] - p[lids[0], 1]), 0.15 * span)
        h = (p[centre, 0] - (p[inner, 0] + p[outer, 0]) / 2) / (span / 2)
        v = (p[centre, 1] - (p[lids[0], 1] + p[lids[1], 1]) / 2) / opening
        return float(np.clip(h, -1, 1)), float(np.clip(v, -1, 1))

    if len(p) > LEFT_IRIS:
        rh, rv = iris(RIGHT_IRIS, RIGHT_EYE[3], RIGHT_EYE[0], RIGHT_LIDS)
        lh, lv = iris(LEFT_IRIS, LEFT_EYE[0], LEFT_EYE[3], LEFT_LIDS)
        eye_h, eye_v = (rh + lh) / 2, (rv + lv) / 2
    else:
        eye_h = eye_v = 0.0
    gaze = (yaw + EYE_ROTATION * eye_h, pitch + EYE_ROTATION * eye_v)
    lo, hi = p[:468, :2].min(axis=0), p[:468, :2].max(axis=0)
    box = (lo[0] / width, lo[1] / height, hi[0] / width, hi[1] / height)
    eyes = tuple(_box(p[list(idx), :2], width, height, pad=0.35) for idx in (RIGHT_EYE, LEFT_EYE))
    face_h = float(np.linalg.norm(down[:2])) / height
    flat = _flat_share(rgb, box) if rgb is not None else 0.0
    return FaceReading(
        tuple(float(v) for v in box),  # type: ignore[arg-type]
        eyes,
        yaw,
        pitch,
        (ear(RIGHT_EYE), ear(LEFT_EYE)),
        gap,
        smile,
        teeth,
        gaze,
        face_h,
        flat,
    )


def _box(points: np.ndarray, width: float, height: float, pad: float) -> tuple[float, float, float, float]:
    lo, hi = points.min(axis=0), points.max(axis=0)
    size = hi - lo
    lo, hi = lo - pad * size, hi + pad * size
    return (
        max(0.0, float(lo[0]) / width),
        max(0.0, float(lo[1]) / height),
        min(1.0, float(hi[0]) / width),
        min(1.0, float(hi[1]) / height),
    )


def _flat_share(rgb: np.ndarray, box: tuple[float, float, float, float]) -> float:
    """Share of pixels in ``box`` (fractions) whose 3×3 neighbourhood is flat (grey standard deviation < 2)."""
    import cv2
    import numpy as np

    h, w = rgb.shape[:2]
    x0, y0 = max(0, int(box[0] * w)), max(0, int(box[1] * h))
    x1, y1 = min(w, int(box[2] * w) + 1), min(h, int(box[3] * h) + 1)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return 0.0
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1, :3]), cv2.COLOR_RGB2GRAY).astype(np.float32)
    mean = cv2.blur(grey, (3, 3))
    var = cv2.blur(grey * grey, (3, 3)) - mean * mean
    return float((var < 4.0).mean())


def _teeth(rgb: np.ndarray, lips: np.ndarray) -> float:
    """Share of bright, unsaturated pixels inside the inner-lip outline."""
    import cv2
    import numpy as np

    x0, y0 = np.floor(lips.min(axis=0)).astype(int)
    x1, y1 = np.ceil(lips.max(axis=0)).astype(int) + 1
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, rgb.shape[1]), min(y1, rgb.shape[0])
    if x1 - x0 < 2 or y1 - y0 < 2:
        return 0.0
    patch = np.ascontiguousarray(rgb[y0:y1, x0:x1, :3])
    mask = np.zeros(patch.shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(lips - [x0, y0]).astype(np.int32)], 1)
    inside = mask.astype(bool)
    if inside.sum() < 4:
        return 0.0
    hsv = cv2.cvtColor(patch, cv2.COLOR_RGB2HSV)
    value, sat = hsv[..., 2][inside].astype(np.float64), hsv[..., 1][inside].astype(np.float64)
    # teeth: brighter than the opening's median and than mid-grey, and much less saturated than lips
    bright = (value >= max(110.0, float(np.median(value)))) & (sat <= 110)
    return float(bright.mean())


def read_body(points: np.ndarray) -> BodyReading | None:
    """Measurements from BlazePose landmarks ``points`` (33 × 4: x, y as fractions of the picture, z,
    visibility); None when too little of a body is in the picture."""
    import numpy as np

    q = np.asarray(points, dtype=np.float64)
    inside = (q[:, 0] >= 0) & (q[:, 0] <= 1) & (q[:, 1] >= 0) & (q[:, 1] <= 1)
    seen = inside & (q[:, 3] >= VISIBLE)
    if not (seen[L_SHOULDER] or seen[R_SHOULDER]) or not seen[list(HEAD)].any():
        return None
    xs, ys = q[seen, 0], q[seen, 1]
    box = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))

    def any_seen(*idx: int) -> bool:
        return bool(any(seen[i] for i in idx))

    if any_seen(L_ANKLE, R_ANKLE, L_HEEL, R_HEEL):
        shot = "full body"
    elif any_seen(L_KNEE, R_KNEE):
        shot = "cowboy shot"
    elif any_seen(L_HIP, R_HIP, L_ELBOW, R_ELBOW):
        shot = "upper body"
    else:
        shot = "close-up"
    posture = None
    shoulders = q[[L_SHOULDER, R_SHOULDER], :2].mean(axis=0)
    if seen[L_HIP] and seen[R_HIP] and seen[L_SHOULDER] and seen[R_SHOULDER]:
        hips = q[[L_HIP, R_HIP], :2].mean(axis=0)
        torso = hips - shoulders
        if abs(torso[0]) > abs(torso[1]):
            posture = "lying"
        else:
            thighs = [q[k, :2] - q[h, :2] for h, k in ((L_HIP, L_KNEE), (R_HIP, R_KNEE)) if seen[h] and seen[k]]
            if thighs:
                horizontal = float(np.mean([abs(t[0]) - abs(t[1]) for t in thighs]))
                posture = "sitting" if horizontal > 0 else "standing" if any_seen(L_ANKLE, R_ANKLE) else None
    raised = [w for w, s in ((L_WRIST, L_SHOULDER), (R_WRIST, R_SHOULDER)) if seen[w] and seen[s] and q[w, 1] < q[s, 1]]
    arms = "arms raised" if len(raised) == 2 else "hand up" if raised else None
    # BlazePose names the body's own left and right: facing the camera, the left shoulder is on the image's
    # right. On the image's left (by a tenth of the shoulder span at least) the body is seen from behind.
    span = abs(q[L_SHOULDER, 0] - q[R_SHOULDER, 0])
    back = bool(
        seen[L_SHOULDER]
        and seen[R_SHOULDER]
        and q[L_SHOULDER, 0] < q[R_SHOULDER, 0]
        and span > 0.1 * max(float(np.linalg.norm(shoulders - q[NOSE, :2])), 1e-6)
    )
    yaw = None
    ears = [i for i in (L_EAR, R_EAR) if seen[i]]
    if seen[NOSE] and ears and not back:
        head = float(np.mean([q[i, 0] for i in ears]))
        size = max(float(abs(q[L_EAR, 0] - q[R_EAR, 0])), 0.5 * span, 1e-6)
        # nose ahead of the ears, in head widths; roughly sin(yaw) for a head half as deep as wide
        offset = float(np.clip((q[NOSE, 0] - head) / size, -1, 1))
        yaw = math.degrees(math.asin(offset))
    return BodyReading(box, shot, posture, arms, back, yaw)


def interpret(face: FaceReading | None, body: BodyReading | None) -> Reading:
    """The caption fields from the measurements (thresholds: see the module docstring)."""
    fields: dict[str, list[str]] = {}

    def put(name: str, value: str | None) -> None:
        if value:
            fields.setdefault(name, []).append(value)

    yaw = face.yaw if face is not None else body.yaw if body is not None and body.yaw is not None else None
    facing = "unknown" if yaw is None else "frontal" if abs(yaw) < FRONTAL_YAW else "left" if yaw < 0 else "right"
    measures: dict[str, float] = {}
    if face is not None:
        measures.update(
            yaw=face.yaw,
            pitch=face.pitch,
            gaze_x=face.gaze[0],
            gaze_y=face.gaze[1],
            ear=max(face.ear),
            mouth=face.mouth_open,
            smile=face.smile,
            teeth=face.teeth,
        )
        put(
            "camera angle",
            "from above" if face.pitch > CAMERA_PITCH else "from below" if face.pitch < -CAMERA_PITCH else "eye level",
        )
        gx, gy = face.gaze
        if abs(gx) < VIEWER_GAZE and abs(gy) < VIEWER_GAZE:
            put("gaze", "looking at viewer")
        elif max(abs(gx), abs(gy)) >= GAZE_AWAY:
            put(
                "gaze",
                ("looking left" if gx < 0 else "looking right")
                if abs(gx) >= abs(gy)
                else ("looking down" if gy > 0 else "looking up"),
            )
        lo, hi = sorted(face.ear)
        if hi < EAR_CLOSED:
            put("eyes", "eyes closed")
        elif lo < EAR_CLOSED and hi >= EAR_HALF and abs(face.yaw) < 30:  # a far eye in profile looks thin
            put("eyes", "one eye closed")
        elif hi < EAR_HALF:
            put("eyes", "half-closed eyes")
        else:
            put("eyes", "eyes open")
        if face.mouth_open < MOUTH_OPEN:
            put("mouth", "mouth closed")
        else:
            put("mouth", "teeth" if face.teeth >= TEETH else "mouth open")
        if face.smile >= SMILE:
            put("expression", "smiling")
    if body is not None:
        if body.back_view and face is None:
            put("camera angle", "from behind")
        put("pose", body.posture)
        put("pose", body.arms)
    shot = None
    if face is not None and face.height >= CLOSE_UP_FACE:
        shot = "close-up"
    elif body is not None:
        shot = body.shot
    elif face is not None:
        shot = "close-up" if face.height >= 0.5 * CLOSE_UP_FACE else "upper body"
    put("shot", shot)
    drawn = face is not None and face.flat >= DRAWN
    if face is not None:
        measures["flat"] = face.flat
    return Reading(
        facing=facing,
        yaw=round(float(yaw), 2) if yaw is not None else 0.0,
        confident=face is not None and not drawn,
        person=face is not None or body is not None,
        drawn=drawn,
        fields={k: ", ".join(v) for k, v in fields.items()},
        faces=(face.box,) if face is not None else (),
        eyes=face.eyes if face is not None else (),
        measures={k: round(float(v), 3) for k, v in measures.items()},
    )


# ------------------------------------------------------------------------------------------- mediapipe


class _Graphs(threading.local):
    """One face mesh, pose and face detection graph per thread (a MediaPipe graph serves one caller at a
    time). Every graph made is listed, so :func:`release` can close them all after a run."""

    def __init__(self) -> None:
        import mediapipe as mp

        solutions = mp.solutions
        self.mesh = solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=3, refine_landmarks=True, min_detection_confidence=0.5
        )
        self.pose = solutions.pose.Pose(static_image_mode=True, model_complexity=1, min_detection_confidence=0.5)
        self.faces = solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=CROP_FACE_SCORE)
        with _LOCK:
            _OPEN.extend((self.mesh, self.pose, self.faces))


_GRAPHS: _Graphs | None = None
_LOCK = threading.Lock()
_OPEN: list[Any] = []  # every graph made since the last release()
_CHECKED = False
_UNAVAILABLE: str | None = None


def available() -> str | None:
    """``None`` when MediaPipe's face mesh and pose can run here, else why not (the pipeline uses Haar then).
    Checked once per process (it builds the graphs of the calling thread)."""
    global _CHECKED, _UNAVAILABLE
    if _CHECKED:
        return _UNAVAILABLE
    try:
        import mediapipe as mp

        _ = mp.solutions.face_mesh, mp.solutions.pose
        _ = _graphs_of_thread().mesh
    except Exception as exc:  # ImportError, protobuf/mediapipe mismatch, a wheel without models, …
        _UNAVAILABLE = (
            f"MediaPipe face mesh and pose are not available ({type(exc).__name__}: {exc}); "
            "install mediapipe 0.10.x (see the README: 0.10.11 with protobuf 3.20, 0.10.14 with protobuf 4.25)"
        )
        logger.info("%s; using OpenCV's Haar cascades", _UNAVAILABLE)
    _CHECKED = True
    return _UNAVAILABLE


def _graphs_of_thread() -> _Graphs:
    """The graphs of the calling thread (built on its first use: ``threading.local`` runs ``__init__`` once
    per thread)."""
    global _GRAPHS
    with _LOCK:
        graphs = _GRAPHS
    if graphs is None:
        graphs = _Graphs()  # outside the lock: __init__ takes it
        with _LOCK:
            if _GRAPHS is None:
                _GRAPHS = graphs
            graphs = _GRAPHS
    return graphs


def _graphs() -> _Graphs:
    if available() is not None:
        raise RuntimeError(str(_UNAVAILABLE))
    return _graphs_of_thread()


def release() -> None:
    """Close every graph made so far (all threads'); the next use builds new ones. After a run: a WebUI
    process runs the pipeline many times, on new worker threads each time."""
    global _GRAPHS
    with _LOCK:
        graphs, _OPEN[:] = list(_OPEN), []
        _GRAPHS = None
    for graph in graphs:
        try:
            graph.close()
        except Exception as exc:  # a graph already closed or broken: nothing left to free
            logger.debug("closing a MediaPipe graph failed: %s", exc)


def _mesh_points(mesh: Any, rgb: np.ndarray) -> np.ndarray | None:
    """Landmarks (478 × 3, pixels) of the largest face found, or None."""
    import numpy as np

    result = mesh.process(rgb)
    faces = getattr(result, "multi_face_landmarks", None)
    if not faces:
        return None
    h, w = rgb.shape[:2]
    arrays = [np.array([[lm.x * w, lm.y * h, lm.z * w] for lm in f.landmark], dtype=np.float64) for f in faces]
    return max(arrays, key=lambda a: float(np.ptp(a[:, 0]) * np.ptp(a[:, 1])))


def _pose_points(pose: Any, rgb: np.ndarray) -> np.ndarray | None:
    import numpy as np

    result = pose.process(rgb)
    lms = getattr(result, "pose_landmarks", None)
    if lms is None:
        return None
    return np.array([[lm.x, lm.y, lm.z, lm.visibility] for lm in lms.landmark], dtype=np.float64)


def _face_in(graphs: _Graphs, rgb: np.ndarray, body: np.ndarray | None) -> tuple[np.ndarray | None, bool]:
    """Face mesh on the whole picture, else on a crop around the head the pose found (small faces); and
    whether it took the crop."""
    points = _mesh_points(graphs.mesh, rgb)
    if points is not None or body is None:
        return points, False
    return _face_in_head(graphs, rgb, body), True


def _face_in_head(graphs: _Graphs, rgb: np.ndarray, body: np.ndarray) -> np.ndarray | None:
    import cv2
    import numpy as np

    h, w = rgb.shape[:2]
    head = body[list(HEAD)]
    seen = head[head[:, 3] >= VISIBLE]
    if len(seen) < 3:
        return None
    cx, cy = float(seen[:, 0].mean()) * w, float(seen[:, 1].mean()) * h
    span = max(float(np.ptp(seen[:, 0])) * w, float(np.ptp(seen[:, 1])) * h, 8.0)
    side = round(3.0 * span)
    x0, y0 = round(cx - side / 2), round(cy - side / 2)
    crop = np.zeros((side, side, 3), dtype=np.uint8)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + side, w), min(y0 + side, h)
    if sx1 <= sx0 or sy1 <= sy0:
        return None
    crop[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = rgb[sy0:sy1, sx0:sx1, :3]
    scale = MESH_CROP_SIDE / side
    big = cv2.resize(
        crop, (MESH_CROP_SIDE, MESH_CROP_SIDE), interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    )
    found = getattr(graphs.faces.process(big), "detections", None) or []
    if not any(d.score and d.score[0] >= CROP_FACE_SCORE for d in found):
        return None  # no face the detector is sure of in the head the pose found
    points = _mesh_points(graphs.mesh, big)
    if points is None:
        return None
    points = points / scale
    points[:, 0] += x0
    points[:, 1] += y0
    return points


def analyse(rgb: np.ndarray) -> Reading:
    """Face mesh and pose of an RGB ``uint8`` picture (any size); RuntimeError if MediaPipe is unavailable."""
    import numpy as np

    graphs = _graphs()
    rgb = np.ascontiguousarray(rgb[..., :3])
    mirror = np.ascontiguousarray(rgb[:, ::-1])
    flipped = mirror.tobytes() < rgb.tobytes()
    (image, is_mirror), (other, other_is_mirror) = (
        ((mirror, True), (rgb, False)) if flipped else ((rgb, False), (mirror, True))
    )
    body_pts = _pose_points(graphs.pose, image)
    face_pts, in_crop = _face_in(graphs, image, body_pts)
    if face_pts is None:
        # The models are not mirror-symmetric: a face missed one way may be found the other way. With a body
        # found, try pose and mesh again; without one, only the (cheap) face detector first.
        other_crop = False
        if body_pts is not None:
            other_body = _pose_points(graphs.pose, other)
            other_face, other_crop = _face_in(graphs, other, other_body)
        else:
            other_face = _mesh_points(graphs.mesh, other)
            other_body = _pose_points(graphs.pose, other) if other_face is not None else None
        if other_face is not None:
            image, is_mirror, face_pts, body_pts = other, other_is_mirror, other_face, other_body
            in_crop = other_crop
    face = read_face(face_pts, image) if face_pts is not None else None
    body = read_body(body_pts) if body_pts is not None else None
    if is_mirror:
        face = face.mirrored() if face is not None else None
        body = body.mirrored() if body is not None else None
    return replace(interpret(face, body), face_in_crop=face is not None and in_crop)
