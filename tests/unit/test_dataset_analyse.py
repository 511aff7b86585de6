"""The analyse stage's extension point: analysers filling fields of each image's record."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from smoothie.dataset.analyse import Frame, ImageAnalyser, default_analysers
from smoothie.dataset.options import PrepOptions
from smoothie.dataset.pipeline import prepare
from smoothie.dataset.safeio import OutputDir
from smoothie.dataset.state import State


def _folder(root: Path, n: int = 3) -> None:
    root.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(root / f"im{i}.png")


class Describer(ImageAnalyser):
    """Fills caption fields from the picture, as the face-mesh and pose analysers do."""

    name = "test-describer"
    fields = ("fields",)

    def __init__(self) -> None:
        self.seen: list[tuple[str, tuple[int, int], tuple[int, ...]]] = []
        self.loaded = 0

    def load(self) -> None:
        self.loaded += 1

    def analyse(self, frame: Frame, record: dict[str, Any]) -> None:
        self.seen.append((frame.source.rel, frame.size, frame.rgb.shape))
        assert "sharpness" in record  # the built-in analysers ran first
        record.setdefault("fields", {}).update(
            {"shot": "cowboy shot", "camera_angle": "from below", "eyes": "eyes closed", "pose": ["sitting"]}
        )


class Fragile(ImageAnalyser):
    """Fails on one image; must not run on two threads at once."""

    name = "test-fragile"
    thread_safe = False

    def __init__(self) -> None:
        self.active = 0
        self.threads: set[int] = set()

    def analyse(self, frame: Frame, record: dict[str, Any]) -> None:
        self.threads.add(threading.get_ident())
        if frame.source.rel == "im1.png":
            raise RuntimeError("model exploded")
        record["fragile"] = np.float32(0.5)  # numpy scalars are stored as numbers


def test_analysers_fill_fields_that_reach_the_caption_and_the_report(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "out"
    _folder(src)
    describer, fragile = Describer(), Fragile()
    opts = PrepOptions(src, dst, min_sharpness="off", dedup=False, workers=2, face_direction="keep")
    result = prepare(opts, analyzers=[describer, fragile])
    assert describer.loaded == 1 and sorted(r for r, _, _ in describer.seen) == ["im0.png", "im1.png", "im2.png"]
    assert all(size == (160, 120) and shape == (120, 160, 3) for _, size, shape in describer.seen)
    assert len(fragile.threads) == 1  # not thread-safe: run on the pipeline's own thread
    for e in result.report["images"]:
        assert "cowboy shot" in e["caption"] and "from below" in e["caption"] and "eyes closed" in e["caption"]
        assert e["fields"]["shot"] == "cowboy shot" and e["fields"]["camera_angle"] == "from below"
        assert e["fields"]["pose"] == "sitting"
    notes = {n.source: n.warning for n in result.summary.lint}
    assert notes == {"im1.png": "test-fragile failed on this image: model exploded"}
    # The failed image is analysed again next run; the others come from the cache.
    state = State.load(OutputDir(dst))
    assert set(state.analysis) == {"im0.png", "im2.png"}
    record = json.loads(state.analysis["im0.png"][2])
    assert record["fragile"] == 0.5 and record["fields"]["shot"] == "cowboy shot"
    describer2 = Describer()
    prepare(opts, analyzers=[describer2, Fragile()])
    assert [r for r, _, _ in describer2.seen] == ["im1.png"]


def test_what_the_sidecar_says_comes_before_the_analysed_fields(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "out"
    _folder(src, 1)
    (src / "im0.txt").write_text("close-up, smiling", encoding="utf-8")
    result = prepare(PrepOptions(src, dst, min_sharpness="off", scrub_names=False), analyzers=[Describer()])
    (entry,) = result.report["images"]
    assert entry["fields"]["shot"] == "close-up" and "cowboy shot" not in entry["caption"]
    assert entry["fields"]["expression"] == "smiling" and entry["fields"]["camera_angle"] == "from below"


def test_default_analysers_follow_the_options(tmp_path: Path) -> None:
    def names(**kw: Any) -> list[str]:
        return [a.name for a in default_analysers(PrepOptions(tmp_path, tmp_path / "o", **kw))]

    assert names(vision=False) == ["quality", "colours", "faces-haar"]
    assert names(vision=False, labels={"a.png": "x"})[-1] == "class-features"
    from smoothie.dataset import vision

    state = vision.status()
    expected = ["quality", "colours"]
    expected += ["faces-haar"] if state["mediapipe"] else ["mediapipe"]
    expected += [] if state["efficientnet"] else ["efficientnet-lite0"]
    assert names() == expected  # the vision models replace Haar where they can run (MediaPipe)
    with_labels = names(labels={"a.png": "x"})
    assert with_labels[-1] == ("class-features" if state["efficientnet"] else "efficientnet-lite0")
