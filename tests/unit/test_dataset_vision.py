"""The vision models in the pipeline: held-out photos without captions, cartoon heads no face detector sees,
six labelled direction examples; fallbacks when the models cannot run; dedup and classes by image features."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from smoothie.cli import main
from smoothie.dataset import vision
from tests.unit.test_dataset_cartoons import cartoon_set, write_set
from tests.unit.test_dataset_folder import photos

skimage_data = pytest.importorskip("skimage.data")

MODELS = vision.status()
needs_models = pytest.mark.skipif(any(MODELS.values()), reason=f"the vision models cannot run here: {MODELS}")


def _held_out(root: Path) -> dict[str, str]:
    """Photos without caption files (JPEG), the 40 cartoons and six examples; returns cartoon name -> facing."""
    src = root / "in"
    src.mkdir(parents=True)
    pics = photos()
    pics["motorcycle"] = skimage_data.stereo_motorcycle()[0]
    for name in ("astronaut", "chelsea", "coffee", "rocket", "motorcycle"):
        Image.fromarray(pics[name]).save(src / f"{name}.jpg", quality=90)
    truth = write_set(src / "cartoons", cartoon_set(40, seed=31337))
    write_set(root / "examples", cartoon_set(6, seed=4242), by_label=True)
    return {f"cartoons/{k}": v for k, v in truth.items()}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if any(MODELS.values()):
        pytest.skip(f"the vision models cannot run here: {MODELS}")
    root = tmp_path_factory.mktemp("vision")
    truth = _held_out(root)
    args = ["dataset", "prep", str(root / "in"), str(root / "out"), "--direction-examples", str(root / "examples")]
    args += ["--no-progress", "--workers", "2"]
    code = main(args)
    report = json.loads((root / "out" / "report.json").read_text(encoding="utf-8"))
    summary = json.loads((root / "out" / "summary.json").read_text(encoding="utf-8"))
    return {"root": root, "args": args, "code": code, "truth": truth, "summary": summary,
            "by": {e["source"]: e for e in report["images"]}}  # fmt: skip


def test_the_astronaut_is_described_and_her_caption_says_it(run: dict[str, Any]) -> None:
    assert run["code"] == 0
    entry = run["by"]["astronaut.jpg"]
    fields = entry["fields"]
    for name in ("shot", "camera_angle", "eyes", "mouth", "gaze"):
        assert fields[name], (name, fields)
        assert fields[name] in entry["caption"]
    assert fields["shot"] == "upper body" and fields["gaze"] == "looking at viewer"
    assert fields["eyes"] == "eyes open" and fields["camera_angle"] == "eye level"


@pytest.mark.parametrize(
    ("source", "nouns"),
    [("chelsea.jpg", {"cat"}), ("coffee.jpg", {"espresso cup", "cup", "coffee mug"}), ("rocket.jpg", {"rocket"})],
)
def test_things_get_a_subject_noun(run: dict[str, Any], source: str, nouns: set[str]) -> None:
    entry = run["by"][source]
    assert entry["fields"]["subject"] in nouns
    assert entry["caption"].startswith(entry["fields"]["subject"])


def test_a_held_out_photo_gets_a_plain_noun(run: dict[str, Any]) -> None:
    entry = run["by"]["motorcycle.jpg"]  # ImageNet has no motorcycle: its nearest classes are moped/scooter
    assert entry["fields"]["subject"] in {"moped", "scooter", "motor scooter"}


def test_cartoon_heads_are_oriented_by_the_examples_and_the_right_facing_ones_flipped(run: dict[str, Any]) -> None:
    truth, by = run["truth"], run["by"]
    right = sum(by[rel]["direction"] == facing for rel, facing in truth.items())
    assert right >= 36, f"{right} of 40 cartoon heads oriented right"
    flipped = sum(by[rel]["flipped"] == (facing == "right") for rel, facing in truth.items())
    assert flipped >= 36
    assert all(by[rel]["flipped"] == (by[rel]["direction"] == "right") for rel in truth)
    classifier = run["summary"]["analysis"]["direction_classifier"]
    assert classifier["examples"] == {"left": 3, "right": 3}
    assert classifier["classified"] >= 40


def test_the_summary_says_which_models_ran(run: dict[str, Any]) -> None:
    analysis = run["summary"]["analysis"]
    assert analysis["models"] == {"mediapipe": "used", "efficientnet": "used"}
    assert analysis["direction_sources"].get("examples", 0) >= 40


def test_a_second_run_changes_nothing(run: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    out = run["root"] / "out"
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and ".smoothie" not in p.parts}
    assert main(run["args"]) == 0
    assert "0 files written" in capsys.readouterr().out
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and ".smoothie" not in p.parts}
    assert after == before


def test_without_the_models_haar_and_colour_statistics_take_over(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(photos()["astronaut"]).save(src / "astronaut.png")
    Image.fromarray(photos()["chelsea"]).save(src / "chelsea.png")
    assert main(["dataset", "prep", str(src), str(tmp_path / "out"), "--no-vision", "--no-progress"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert all("turned off" in v for v in summary["analysis"]["models"].values())
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert all(e["status"] == "kept" for e in report["images"])
    code = main(["dataset", "prep", str(src), str(tmp_path / "o2"), "--no-vision", "--direction-examples", str(src)])
    assert code == 2  # examples need the image features, and src has no left/ and right/ folders


def test_models_that_cannot_run_are_named_and_the_run_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from smoothie.dataset.options import PrepOptions
    from smoothie.dataset.pipeline import prepare

    why = {"mediapipe": "mediapipe is not installed", "efficientnet": "image features need torch"}
    monkeypatch.setattr(vision, "status", lambda on=True: dict(why))
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(photos()["camera"]).save(src / "camera.png")
    result = prepare(PrepOptions(src, tmp_path / "out", workers=1))
    assert result.summary.analysis["models"] == why
    (entry,) = result.report["images"]
    assert entry["status"] == "kept" and entry["direction"] == "right"  # Haar's profile cascade


@needs_models
def test_direction_labels_from_the_tab_train_the_classifier(tmp_path: Path) -> None:
    from smoothie.dataset.options import PrepOptions
    from smoothie.dataset.pipeline import prepare

    truth = write_set(tmp_path / "in", cartoon_set(24, seed=99))
    labels: dict[str, str] = {}
    for side in ("left", "right"):
        labels.update(dict.fromkeys([r for r, f in sorted(truth.items()) if f == side][:3], side))
    result = prepare(PrepOptions(tmp_path / "in", tmp_path / "out", direction_labels=labels, workers=2))
    by = {e["source"]: e for e in result.report["images"]}
    assert all(by[rel]["direction"] == side for rel, side in labels.items())
    right = sum(by[rel]["direction"] == facing for rel, facing in truth.items())
    assert right >= 22
    assert result.summary.analysis["direction_classifier"]["examples"] == {"left": 3, "right": 3}


@needs_models
def test_near_duplicates_by_image_features_but_never_a_mirror_image(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    coffee = photos()["coffee"]
    w = coffee.shape[1]
    Image.fromarray(coffee).save(src / "coffee.png")
    Image.fromarray(coffee[:, int(w * 0.08) :]).save(src / "coffee_shifted.png")  # pHash: ~14 bits away
    Image.fromarray(np.ascontiguousarray(coffee[:, ::-1])).save(src / "coffee_mirror.png")
    Image.fromarray(photos()["rocket"]).save(src / "rocket.png")
    assert main(["dataset", "prep", str(src), str(tmp_path / "out"), "--no-progress", "--min-sharpness", "off"]) == 0
    by = {e["source"]: e for e in json.loads((tmp_path / "out" / "report.json").read_text())["images"]}
    dropped = [s for s, e in by.items() if e["status"] == "skipped"]
    assert len(dropped) == 1 and dropped[0] in ("coffee.png", "coffee_shifted.png")
    assert "image-feature similarity" in by[dropped[0]]["reason"]
    assert by["coffee_mirror.png"]["status"] == "kept" and by["rocket.png"]["status"] == "kept"


@needs_models
def test_classes_sorted_by_image_features(tmp_path: Path) -> None:
    heads = cartoon_set(8, seed=5)
    pics = photos()
    examples = tmp_path / "classes"
    for k, (im, _) in enumerate(heads[:3]):
        (examples / "cartoon").mkdir(parents=True, exist_ok=True)
        im.save(examples / "cartoon" / f"{k}.png")
    for name in ("astronaut", "hopper", "camera"):
        (examples / "photo").mkdir(parents=True, exist_ok=True)
        Image.fromarray(pics[name]).save(examples / "photo" / f"{name}.png")
    src = tmp_path / "in"
    write_set(src, heads[3:])
    for name in ("chelsea", "coffee", "rocket"):
        Image.fromarray(pics[name]).save(src / f"{name}.png")
    args = ["dataset", "prep", str(src), str(tmp_path / "out"), "--classes", str(examples), "--no-progress"]
    assert main([*args, "--min-sharpness", "off"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())["images"]
    folder = {e["source"]: e["output"].split("/")[1] for e in report if e["output"]}
    assert all(folder[s].endswith("_cartoon") for s in folder if s.startswith("head_"))
    assert all(folder[s].endswith("_photo") for s in ("chelsea.png", "coffee.png", "rocket.png"))
