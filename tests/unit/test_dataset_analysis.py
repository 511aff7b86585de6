"""Analysis: sharpness, auto threshold, near-duplicates, faces and direction, colours, classes."""

from __future__ import annotations

import itertools
import random

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smoothie.dataset import classify, colours, faces, quality
from tests.unit.test_dataset_folder import photos


@pytest.fixture(scope="module")
def pics() -> dict[str, np.ndarray]:
    return photos()


def _blur(rgb: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(rgb, (0, 0), sigma)


def test_sharpness_is_normalised_for_size_and_ranks_blur(pics: dict[str, np.ndarray]) -> None:
    gray = cv2.cvtColor(pics["astronaut"], cv2.COLOR_RGB2GRAY)
    big = cv2.resize(gray, (1536, 1536), interpolation=cv2.INTER_CUBIC)
    small = cv2.resize(big, (768, 768), interpolation=cv2.INTER_AREA)
    # The same photo stored at 1536² and 768²: the raw Laplacian variance differs several-fold, the score not.
    raw = cv2.Laplacian(small, cv2.CV_64F).var() / cv2.Laplacian(big, cv2.CV_64F).var()
    assert raw > 2.5
    assert quality.sharpness(big) == pytest.approx(quality.sharpness(small), rel=0.25)
    s_small = quality.sharpness(gray)
    scores = [quality.sharpness(cv2.cvtColor(_blur(pics["astronaut"], s), cv2.COLOR_RGB2GRAY)) for s in (1, 2, 4)]
    assert s_small > scores[0] > scores[1] > scores[2]


def test_auto_threshold_rejects_a_blurred_outlier_only(pics: dict[str, np.ndarray]) -> None:
    sharp = [quality.sharpness(cv2.cvtColor(p, cv2.COLOR_RGB2GRAY)) for p in pics.values()]
    blurred = quality.sharpness(cv2.cvtColor(_blur(pics["chelsea"], 6), cv2.COLOR_RGB2GRAY))
    threshold = quality.auto_threshold([*sharp, blurred])
    assert blurred < threshold <= min(sharp)
    assert quality.auto_threshold(sharp[:3]) == 0.0  # too few images to judge
    # A folder of equally soft photos loses nothing: the threshold follows the folder, not a constant.
    assert quality.auto_threshold([30.0, 32.0, 35.0, 31.0, 33.0, 29.0]) < 29.0


def test_duplicate_groups_match_brute_force() -> None:
    rng = random.Random(1)
    base = [rng.getrandbits(64) for _ in range(6)]
    hashes = [b ^ (1 << rng.randrange(64)) * rng.randrange(2) for b in base for _ in range(3)]
    hashes += [rng.getrandbits(64) for _ in range(20)]
    got = sorted(sorted(g) for g in quality.duplicate_groups(hashes, 4))
    parent = list(range(len(hashes)))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(len(hashes)), 2):
        if quality.hamming(hashes[i], hashes[j]) <= 4:
            parent[find(j)] = find(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(hashes)):
        groups.setdefault(find(i), []).append(i)
    assert got == sorted(sorted(g) for g in groups.values() if len(g) > 1)
    assert len(got) >= 6


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=40), st.integers(min_value=0, max_value=12))
def test_duplicate_groups_are_the_components_of_the_distance_relation(hashes: list[int], distance: int) -> None:
    groups = quality.duplicate_groups(hashes, distance)
    member = {i: k for k, g in enumerate(groups) for i in g}
    for i, j in itertools.combinations(range(len(hashes)), 2):
        if quality.hamming(hashes[i], hashes[j]) <= distance:
            assert member.get(i) is not None and member.get(i) == member.get(j)
    assert all(len(g) > 1 for g in groups)


def test_phash_sees_resized_copies_as_near_and_other_photos_as_far(pics: dict[str, np.ndarray]) -> None:
    coffee = pics["coffee"]
    small = cv2.resize(coffee, (300, 200), interpolation=cv2.INTER_AREA)
    assert quality.hamming(quality.phash(coffee), quality.phash(small)) <= 6
    assert quality.hamming(quality.phash(coffee), quality.phash(pics["chelsea"])) > 12
    assert quality.hamming(quality.phash(coffee), quality.phash(np.ascontiguousarray(coffee[:, ::-1]))) > 6


@pytest.mark.parametrize(("name", "expected"), [("astronaut", "left"), ("camera", "right"), ("hopper", "right")])
def test_mirrored_copies_get_opposite_directions(pics: dict[str, np.ndarray], name: str, expected: str) -> None:
    image = pics[name]
    mirrored = np.ascontiguousarray(image[:, ::-1])
    a, b = faces.analyse_faces(image), faces.analyse_faces(mirrored)
    assert a.direction == expected
    assert b.direction == {"left": "right", "right": "left"}[expected]
    assert a.yaw == pytest.approx(-b.yaw, abs=1e-9)  # exactly antisymmetric by construction
    assert a.faces and a.shot is not None


def test_the_camera_man_faces_right_from_the_profile_cascade(pics: dict[str, np.ndarray]) -> None:
    result = faces.analyse_faces(pics["camera"])
    assert result.direction == "right" and result.yaw < -0.1  # grey image: no skin cue, the profile cascade alone


@pytest.mark.parametrize("name", ["coffee", "rocket"])
def test_no_face_is_unknown(pics: dict[str, np.ndarray], name: str) -> None:
    result = faces.analyse_faces(pics[name])
    assert result.direction == "unknown" and result.shot is None and not result.faces


def test_shot_type_from_face_size(pics: dict[str, np.ndarray]) -> None:
    hopper = pics["hopper"]
    assert faces.analyse_faces(hopper).shot == "close-up"
    assert faces.analyse_faces(pics["astronaut"]).shot == "medium shot"
    canvas = np.full((hopper.shape[0] * 3, hopper.shape[1] * 3, 3), 128, dtype=np.uint8)
    canvas[: hopper.shape[0], : hopper.shape[1]] = hopper
    small = faces.analyse_faces(canvas)
    assert small.shot in ("medium shot", "full shot") and small.faces


def test_dominant_colours_in_plain_words() -> None:
    image = np.zeros((60, 100, 3), dtype=np.uint8)
    image[:, :60] = (200, 30, 30)
    image[:, 60:] = (245, 245, 245)
    names = colours.dominant_colours(image)
    assert [n for n, _ in names] == ["red", "white"]
    assert names[0][1] == pytest.approx(0.6, abs=0.03)
    assert colours.describe(names) == "red and white tones"
    assert colours.describe([]) == ""
    assert colours.describe([("grey", 0.5), ("black", 0.3), ("blue", 0.2)]) == "grey, black and blue tones"


def _augment(rgb: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h, w = rgb.shape[:2]
    y0, x0 = rng.integers(0, h // 6), rng.integers(0, w // 6)
    crop = rgb[y0 : y0 + h * 5 // 6, x0 : x0 + w * 5 // 6]
    if seed % 2:
        crop = crop[:, ::-1]
    jitter = rng.normal(1.0, 0.05)
    return np.clip(crop.astype(np.float32) * jitter, 0, 255).astype(np.uint8)


def test_classifier_sorts_unseen_variants_into_their_class(pics: dict[str, np.ndarray]) -> None:
    classes = ["astronaut", "chelsea", "coffee", "rocket"]
    examples = {c: [classify.features(_augment(pics[c], s)) for s in range(3)] for c in classes}
    model = classify.train(examples)
    tests = [(c, classify.features(_augment(pics[c], s))) for c in classes for s in range(10, 14)]
    names, probs = model.predict(np.stack([v for _, v in tests]))
    assert names == [c for c, _ in tests]
    assert min(probs) > 0.5
    assert np.allclose(classify.decode(classify.encode(tests[0][1])), tests[0][1], atol=1e-3)


def test_classifier_needs_two_classes() -> None:
    with pytest.raises(ValueError, match="at least two classes"):
        classify.train({"only": [np.zeros(classify.FEATURE_SIZE, dtype=np.float32)]})
