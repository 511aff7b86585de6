"""Face mesh and pose readings: the geometry on made-up landmarks, then MediaPipe on real photos."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from smoothie.dataset import landmarks as lm
from tests.unit.test_dataset_folder import photos


def _face(**kw: object) -> lm.FaceReading:
    base: dict[str, object] = {
        "box": (0.3, 0.2, 0.6, 0.6),
        "eyes": (),
        "yaw": 0.0,
        "pitch": 0.0,
        "ear": (0.3, 0.3),
        "mouth_open": 0.01,
        "smile": 0.0,
        "teeth": 0.0,
        "gaze": (0.0, 0.0),
        "height": 0.35,
    }
    base.update(kw)
    return lm.FaceReading(**base)  # type: ignore[arg-type]


def test_a_frontal_neutral_face() -> None:
    r = lm.interpret(_face(), None)
    assert r.facing == "frontal" and r.confident and r.person and not r.drawn
    drawn = lm.interpret(_face(flat=0.8), None)
    assert drawn.drawn and not drawn.confident and drawn.facing == "frontal"
    assert r.fields == {
        "camera angle": "eye level",
        "gaze": "looking at viewer",
        "eyes": "eyes open",
        "mouth": "mouth closed",
        "shot": "close-up",
    }


@pytest.mark.parametrize(
    ("kw", "field", "value"),
    [
        ({"yaw": -40.0}, "facing", "left"),
        ({"yaw": 35.0}, "facing", "right"),
        ({"pitch": 25.0}, "camera angle", "from above"),
        ({"pitch": -25.0}, "camera angle", "from below"),
        ({"gaze": (-35.0, 2.0)}, "gaze", "looking left"),
        ({"gaze": (30.0, -5.0)}, "gaze", "looking right"),
        ({"gaze": (3.0, 28.0)}, "gaze", "looking down"),
        ({"gaze": (3.0, -28.0)}, "gaze", "looking up"),
        ({"ear": (0.05, 0.07)}, "eyes", "eyes closed"),
        ({"ear": (0.16, 0.17)}, "eyes", "half-closed eyes"),
        ({"ear": (0.05, 0.3)}, "eyes", "one eye closed"),
        ({"mouth_open": 0.2, "teeth": 0.1}, "mouth", "mouth open"),
        ({"mouth_open": 0.2, "teeth": 0.6}, "mouth", "teeth"),
        ({"smile": 0.12}, "expression", "smiling"),
        ({"height": 0.12}, "shot", "upper body"),
    ],
)
def test_each_threshold(kw: dict, field: str, value: str) -> None:
    r = lm.interpret(_face(**kw), None)
    got = r.facing if field == "facing" else r.fields.get(field)
    assert got == value


def test_between_viewer_and_away_the_gaze_is_not_said() -> None:
    assert "gaze" not in lm.interpret(_face(gaze=(16.0, 0.0)), None).fields


def test_a_far_eye_in_profile_is_not_a_wink() -> None:
    assert lm.interpret(_face(yaw=50.0, ear=(0.05, 0.3)), None).fields["eyes"] == "eyes open"


def test_mirrored_readings_swap_sides() -> None:
    face = _face(yaw=-30.0, gaze=(-40.0, 3.0), ear=(0.1, 0.3), box=(0.1, 0.2, 0.3, 0.5))
    back = face.mirrored()
    assert back.yaw == 30.0 and back.gaze == (40.0, 3.0) and back.ear == (0.3, 0.1)
    assert back.box == pytest.approx((0.7, 0.2, 0.9, 0.5))
    again = back.mirrored()
    assert again.box == pytest.approx(face.box) and (again.yaw, again.gaze, again.ear) == (
        face.yaw,
        face.gaze,
        face.ear,
    )
    a, b = lm.interpret(face, None), lm.interpret(back, None)
    assert (a.facing, b.facing) == ("left", "right")
    assert (a.fields["gaze"], b.fields["gaze"]) == ("looking left", "looking right")


def _body(**points: tuple[float, float]) -> np.ndarray:
    """BlazePose landmarks: the named ones visible at (x, y), every other one invisible."""
    q = np.zeros((33, 4))
    q[:, :2] = 0.5
    for name, (x, y) in points.items():
        q[getattr(lm, name.upper())] = (x, y, 0.0, 0.99)
    return q


STANDING = {
    "nose": (0.5, 0.1),
    "l_ear": (0.53, 0.1),
    "r_ear": (0.47, 0.1),
    "l_shoulder": (0.6, 0.2),
    "r_shoulder": (0.4, 0.2),
    "l_elbow": (0.63, 0.35),
    "r_elbow": (0.37, 0.35),
    "l_wrist": (0.64, 0.48),
    "r_wrist": (0.36, 0.48),
    "l_hip": (0.56, 0.5),
    "r_hip": (0.44, 0.5),
    "l_knee": (0.56, 0.7),
    "r_knee": (0.44, 0.7),
    "l_ankle": (0.56, 0.9),
    "r_ankle": (0.44, 0.9),
}


def test_a_standing_body_seen_whole() -> None:
    body = lm.read_body(_body(**STANDING))
    assert body is not None
    assert (body.shot, body.posture, body.arms, body.back_view) == ("full body", "standing", None, False)
    assert body.yaw is not None and abs(body.yaw) < 5
    r = lm.interpret(None, body)
    assert r.person and not r.confident and r.fields == {"pose": "standing", "shot": "full body"}


def test_shots_from_what_is_in_the_picture() -> None:
    def shot(drop: tuple[str, ...]) -> str | None:
        body = lm.read_body(_body(**{k: v for k, v in STANDING.items() if k not in drop}))
        return body.shot if body else None

    assert shot(("l_ankle", "r_ankle")) == "cowboy shot"
    assert shot(("l_ankle", "r_ankle", "l_knee", "r_knee")) == "upper body"
    assert shot(("l_ankle", "r_ankle", "l_knee", "r_knee", "l_hip", "r_hip", "l_elbow", "r_elbow")) == "close-up"


def test_sitting_lying_arms_and_back_view() -> None:
    sitting = dict(STANDING, l_knee=(0.7, 0.52), r_knee=(0.6, 0.53))
    assert lm.read_body(_body(**sitting)).posture == "sitting"  # type: ignore[union-attr]
    lying = {k: (y, 0.5 + 0.3 * (x - 0.5)) for k, (x, y) in STANDING.items()}
    assert lm.read_body(_body(**lying)).posture == "lying"  # type: ignore[union-attr]
    raised = dict(STANDING, l_wrist=(0.65, 0.05), r_wrist=(0.35, 0.05))
    assert lm.read_body(_body(**raised)).arms == "arms raised"  # type: ignore[union-attr]
    one = dict(STANDING, l_wrist=(0.65, 0.05))
    assert lm.read_body(_body(**one)).arms == "hand up"  # type: ignore[union-attr]
    behind = dict(STANDING, l_shoulder=(0.4, 0.2), r_shoulder=(0.6, 0.2))
    body = lm.read_body(_body(**behind))
    assert body is not None and body.back_view and body.yaw is None
    r = lm.interpret(None, body)
    assert r.fields["camera angle"] == "from behind" and r.facing == "unknown"


def test_a_head_in_profile_from_pose_alone() -> None:
    profile = dict(STANDING, nose=(0.42, 0.1), l_ear=(0.52, 0.1))
    del profile["r_ear"]
    body = lm.read_body(_body(**profile))
    assert body is not None and body.yaw is not None and body.yaw < -30
    assert lm.interpret(None, body).facing == "left"
    assert lm.read_body(_body(nose=(0.5, 0.5))) is None  # a head without shoulders is not a body


# ------------------------------------------------------------------------------------- with MediaPipe


@pytest.fixture(scope="module")
def mediapipe_ready() -> None:
    reason = lm.available()
    if reason is not None:
        pytest.skip(reason)


def _small(image: np.ndarray, side: int = 512) -> np.ndarray:
    scale = side / max(image.shape[:2])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BOX))


@pytest.fixture(scope="module")
def pics() -> dict[str, np.ndarray]:
    return {k: _small(v) for k, v in photos().items()}


def test_the_astronaut(mediapipe_ready: None, pics: dict[str, np.ndarray]) -> None:
    r = lm.analyse(pics["astronaut"])
    assert r.confident and r.facing == "frontal"
    assert r.fields["shot"] == "upper body"
    assert r.fields["camera angle"] == "eye level"
    assert r.fields["gaze"] == "looking at viewer"
    assert r.fields["eyes"] == "eyes open"
    assert r.fields["mouth"] in ("teeth", "mouth open")
    assert r.fields["expression"] == "smiling"
    (left, top, right, bottom), *_ = r.faces
    assert 0.3 < left < right < 0.7 and 0.0 < top < bottom < 0.5  # her face, top middle of the picture
    assert len(r.eyes) == 2


def test_grace_hopper_is_a_serious_close_up(mediapipe_ready: None, pics: dict[str, np.ndarray]) -> None:
    r = lm.analyse(pics["hopper"])
    assert r.fields["shot"] == "close-up" and r.fields["mouth"] == "mouth closed"
    assert "expression" not in r.fields and r.fields["gaze"] == "looking at viewer"


@pytest.mark.parametrize("name", ["camera", "astronaut", "hopper"])
def test_a_mirror_image_gets_the_mirrored_reading(mediapipe_ready: None, pics: dict, name: str) -> None:
    a = lm.analyse(pics[name])
    b = lm.analyse(np.ascontiguousarray(pics[name][:, ::-1]))
    swap = {"left": "right", "right": "left"}
    assert b.facing == swap.get(a.facing, a.facing) and b.yaw == -a.yaw
    assert b.fields.get("gaze", "").replace("left", "L").replace("right", "left").replace("L", "right") == a.fields.get(
        "gaze", ""
    )
    assert {k: v for k, v in a.fields.items() if k != "gaze"} == {k: v for k, v in b.fields.items() if k != "gaze"}


def test_the_camera_man_faces_right(mediapipe_ready: None, pics: dict[str, np.ndarray]) -> None:
    r = lm.analyse(pics["camera"])
    assert r.facing == "right" and r.yaw > 30 and r.confident
    assert r.fields["gaze"] == "looking right" and r.fields["shot"] in ("cowboy shot", "full body")


@pytest.mark.parametrize("name", ["chelsea", "coffee", "rocket"])
def test_no_person(mediapipe_ready: None, pics: dict[str, np.ndarray], name: str) -> None:
    r = lm.analyse(pics[name])
    assert not r.person and r.facing == "unknown" and r.fields == {}


def _rotated(points: np.ndarray, yaw: float, pitch: float) -> np.ndarray:
    """Face landmarks turned by ``yaw`` (+: towards the image's right) and ``pitch`` (+: chin down)."""
    c = points.mean(axis=0)
    p = points - c
    a, b = math.radians(yaw), math.radians(pitch)
    # about the vertical axis: x' = x cos a − z sin a, z' = x sin a + z cos a (z away from the camera)
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    x, z = x * math.cos(a) - z * math.sin(a), x * math.sin(a) + z * math.cos(a)
    # about the horizontal axis: chin (down, +y) goes away (+z) for a positive pitch
    y, z = y * math.cos(b) - z * math.sin(b), y * math.sin(b) + z * math.cos(b)
    return np.stack([x, y, z], axis=1) + c


def test_yaw_and_pitch_follow_a_turned_mesh(mediapipe_ready: None, pics: dict[str, np.ndarray]) -> None:
    graphs = lm._graphs()
    points = lm._mesh_points(graphs.mesh, pics["hopper"])
    assert points is not None
    base = lm.read_face(points)
    for yaw, pitch in ((30.0, 0.0), (-30.0, 0.0), (0.0, 25.0), (0.0, -25.0)):
        turned = lm.read_face(_rotated(points, yaw, pitch))
        assert turned.yaw - base.yaw == pytest.approx(yaw, abs=6)
        assert turned.pitch - base.pitch == pytest.approx(pitch, abs=6)


def test_shut_eyes_on_a_real_mesh(mediapipe_ready: None, pics: dict[str, np.ndarray]) -> None:
    points = lm._mesh_points(lm._graphs().mesh, pics["hopper"])
    assert points is not None
    shut = points.copy()
    for eye in (lm.RIGHT_EYE, lm.LEFT_EYE):  # upper lid landmarks moved onto the lower lid
        shut[eye[1]], shut[eye[2]] = shut[eye[5]], shut[eye[4]]
    assert lm.interpret(lm.read_face(shut), None).fields["eyes"] == "eyes closed"


def test_a_cartoon_face_is_never_a_confident_one(mediapipe_ready: None) -> None:
    """MediaPipe's face detector fires on some cartoon heads; their flat colours tell them from photos."""
    import io

    from tests.unit.test_dataset_cartoons import cartoon_set

    heads = [np.asarray(im) for im, _ in cartoon_set(40, seed=5)]
    readings = [lm.analyse(im) for im in heads]
    found = [k for k, r in enumerate(readings) if r.person]
    assert found and len(found) <= 10  # some are "faces" to MediaPipe …
    assert not any(readings[k].confident for k in found) and all(readings[k].drawn for k in found)
    for k in found:  # … also after JPEG compression
        buffer = io.BytesIO()
        Image.fromarray(heads[k]).save(buffer, "JPEG", quality=85)
        again = lm.analyse(np.asarray(Image.open(buffer).convert("RGB")))
        assert not again.confident


def test_graphs_are_per_thread_and_released_after_a_run(mediapipe_ready: None, pics: dict[str, np.ndarray]) -> None:
    import threading

    seen: list[int] = []

    def work() -> None:
        seen.append(id(lm._graphs().mesh))
        assert lm.analyse(pics["hopper"]).confident

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 2 and len(lm._OPEN) >= 6  # each thread its own face mesh, pose and detector
    lm.release()
    assert lm._OPEN == [] and lm._GRAPHS is None
    assert lm.analyse(pics["hopper"]).confident  # built again on the next use
