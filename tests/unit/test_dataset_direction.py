"""The direction classifier: features that flip sign with the image, training, and cartoons it has not seen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("hypothesis")  # a dev tool: the WebUI's venv may run this suite without it

from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from smoothie.dataset import direction
from tests.unit.test_dataset_cartoons import cartoon_set, write_set


def test_part_offsets_say_which_side_a_channel_fires() -> None:
    maps = np.zeros((1, 3, 4, 8))
    maps[0, 0, :, 1] = 1.0  # a part on the left
    maps[0, 1, :, 6] = 1.0  # a part on the right
    maps[0, 2, :, 3:5] = 1.0  # a part in the middle
    off = direction.part_offsets(maps)[0]
    assert off[0] < 0 < off[1]
    assert off[2] == pytest.approx(0.0, abs=1e-9)


def _almost_empty() -> np.ndarray:
    maps = np.zeros((2, 5, 3, 7))
    maps[0, 0, 0, 0] = 1e-12  # hypothesis found it: a floored mass moved the centre of an almost empty map
    return maps


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, (2, 5, 3, 7), elements=st.floats(0, 6)))
@example(_almost_empty())
def test_offsets_of_a_mirrored_map_are_negated(maps: np.ndarray) -> None:
    flipped = maps[..., ::-1]
    np.testing.assert_allclose(direction.part_offsets(flipped), -direction.part_offsets(maps), atol=1e-9)
    d = direction.antisymmetric(maps, flipped)
    np.testing.assert_allclose(direction.antisymmetric(flipped, maps), -d, atol=1e-6)


def _toy(rng: np.random.Generator, n: int, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.choice([-1.0, 1.0], size=n)
    x = rng.normal(0, 1.0, size=(n, axis.size)) + 3.0 * labels[:, None] * axis
    return x, labels


def test_training_learns_the_direction_and_stays_antisymmetric() -> None:
    rng = np.random.default_rng(0)
    axis = rng.normal(size=64)
    axis /= np.linalg.norm(axis)
    x, y = _toy(rng, 6, axis)
    model = direction.train({"left": list(x[y > 0]), "right": list(x[y < 0])})
    test_x, test_y = _toy(rng, 200, axis)
    got = np.array([1.0 if d == "left" else -1.0 for d, _ in model.predict(test_x)])
    assert (got == test_y).mean() > 0.9
    np.testing.assert_allclose(model.scores(-test_x), -model.scores(test_x))
    assert model.predict(np.zeros((1, 64))) == [("frontal", 0.0)]
    assert model.examples == len(x)


def test_self_training_on_the_run_helps_weak_examples() -> None:
    rng = np.random.default_rng(3)
    axis = rng.normal(size=256)
    axis /= np.linalg.norm(axis)
    x, y = _toy(rng, 2, axis * 0.8)
    while len(set(y)) < 2:
        x, y = _toy(rng, 2, axis * 0.8)
    pool, pool_y = _toy(rng, 300, axis * 0.8)
    examples = {"left": list(x[y > 0]), "right": list(x[y < 0])}

    def accuracy(model: direction.DirectionModel) -> float:
        got = np.array([1.0 if d == "left" else -1.0 for d, _ in model.predict(pool)])
        return float((got == pool_y).mean())

    alone, helped = accuracy(direction.train(examples)), accuracy(direction.train(examples, pool))
    assert alone < 0.8  # two examples in 256 noisy dimensions: weak alone …
    assert helped > 0.95  # … strong with the run's unlabelled vectors


def test_training_needs_both_directions() -> None:
    with pytest.raises(ValueError, match=r"none for \['right'\]"):
        direction.train({"left": [np.ones(4)]})
    with pytest.raises(ValueError, match="'left' or 'right'"):
        direction.train({"left": [np.ones(4)], "right": [np.ones(4)], "up": [np.ones(4)]})
    with pytest.raises(ValueError, match="symmetric"):
        direction.train({"left": [np.zeros(4)], "right": [np.zeros(4)]})


def test_example_folders(tmp_path: Path) -> None:
    write_set(tmp_path / "ex", cartoon_set(4, seed=1), by_label=True)
    (tmp_path / "ex" / "left" / "notes.txt").write_text("not an image")
    found = direction.example_folders(tmp_path / "ex")
    assert sorted(found) == ["left", "right"] and all(len(v) == 2 for v in found.values())
    assert all(p.suffix == ".png" for v in found.values() for p in v)
    with pytest.raises(ValueError, match="is not a folder"):
        direction.example_folders(tmp_path / "missing")
    (tmp_path / "only").mkdir()
    write_set(tmp_path / "only", [(im, "left") for im, _ in cartoon_set(2, seed=2)], by_label=True)
    with pytest.raises(ValueError, match=r"only/right' has no images; put examples facing right there"):
        direction.example_folders(tmp_path / "only")


def test_six_examples_orient_forty_unseen_cartoons() -> None:
    """Six labelled heads (three each way) and 40 others drawn with different random shapes and colours."""
    pytest.importorskip("torch")
    from smoothie.dataset import effnet

    try:
        embedder = effnet.load()
    except effnet.UnavailableError as exc:
        pytest.skip(str(exc))

    def vectors(heads: list) -> np.ndarray:
        return np.stack([embedder.features(np.asarray(im), direction=True).direction for im, _ in heads])

    examples = cartoon_set(6, seed=2024)
    heads = cartoon_set(40, seed=77)
    ex = vectors(examples)
    labelled = {
        side: [v for v, (_, lab) in zip(ex, examples, strict=True) if lab == side] for side in ("left", "right")
    }
    test = vectors(heads)
    truth = [label for _, label in heads]
    alone = direction.train(labelled)
    assert np.mean([d == t for (d, _), t in zip(alone.predict(test), truth, strict=True)]) >= 0.85
    model = direction.train(labelled, test)
    assert np.mean([d == t for (d, _), t in zip(model.predict(test), truth, strict=True)]) >= 0.9
    mirrored = vectors([(im.transpose(0), label) for im, label in heads[:6]])  # FLIP_LEFT_RIGHT
    for (d, _), (m, _) in zip(model.predict(test[:6]), model.predict(mirrored), strict=True):
        assert {d, m} == {"left", "right"}
