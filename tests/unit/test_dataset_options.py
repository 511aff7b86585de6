"""The parameters object and the output folder's guards."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smoothie.dataset.options import CropMode, FaceDirection, PrepOptions, parse_sharpness
from smoothie.dataset.safeio import OutputDir, PathError, check_folders


def test_options_are_validated_with_the_value_named(tmp_path: Path) -> None:
    base = {"input_dir": tmp_path / "in", "output_dir": tmp_path / "out"}
    opts = PrepOptions(**base, crop="BUCKET", face_direction="Left", min_sharpness="12.5", size=768)
    assert opts.crop is CropMode.BUCKET and opts.face_direction is FaceDirection.LEFT and opts.min_sharpness == 12.5
    assert PrepOptions(**base, image_format="jpeg").image_format.value == "jpg"
    bad = [
        ({"crop": "zoom"}, "crop: expected one of smart, up, center, bucket, got 'zoom'"),
        ({"size": 10}, "size: expected an integer between 64 and 8192, got 10"),
        ({"crop": "bucket", "size": 500}, "size: bucket crops need a multiple of 64, got 500"),
        ({"workers": 0}, "workers: expected an integer between 1 and 64, got 0"),
        ({"min_sharpness": "-1"}, "min_sharpness"),
        ({"concept": "a/b"}, "concept"),
        ({"wd14_threshold": 1.5}, "wd14_threshold"),
        ({"repeats": -1}, "repeats"),
        ({"template": "{nope}"}, "unknown placeholder"),
    ]
    for change, message in bad:
        with pytest.raises(ValueError, match=message.replace("(", r"\(")):
            PrepOptions(**{**base, **change})
    assert parse_sharpness("off") == 0.0 and parse_sharpness(" AUTO ") == "auto" and parse_sharpness(3) == 3.0
    assert opts.as_json()["crop"] == "bucket" and opts.as_json()["input_dir"] == str(tmp_path / "in")


def test_check_folders(tmp_path: Path) -> None:
    (tmp_path / "in" / "sub").mkdir(parents=True)
    (tmp_path / "file").write_text("x")
    assert check_folders(tmp_path / "in", tmp_path / "out") == (
        (tmp_path / "in").resolve(),
        (tmp_path / "out").resolve(),
    )
    cases = [
        (tmp_path / "in", tmp_path / "in" / "sub" / "out", "inside the input folder"),
        (tmp_path / "in" / "sub", tmp_path / "in", "inside the output folder"),
        (tmp_path / "file", tmp_path / "out", "is not a folder"),
        (tmp_path / "in", tmp_path / "file", "exists and is not a folder"),
    ]
    for src, dst, message in cases:
        with pytest.raises(PathError, match=message):
            check_folders(src, dst)
    os.symlink(tmp_path / "in", tmp_path / "link")
    with pytest.raises(PathError, match="is the input folder"):
        check_folders(tmp_path / "in", tmp_path / "link")


def test_output_dir_writes_atomically_inside_itself_only(tmp_path: Path) -> None:
    out = OutputDir(tmp_path / "out")
    out.prepare()
    assert out.write_text("a/b.txt", "hello") is True
    before = (tmp_path / "out" / "a" / "b.txt").stat().st_mtime_ns
    assert out.write_text("a/b.txt", "hello") is False  # identical: untouched
    assert (tmp_path / "out" / "a" / "b.txt").stat().st_mtime_ns == before
    assert out.write_chunks("a/c.txt", iter(["x", "y"])) is True and out.read_bytes("a/c.txt") == b"xy"
    assert out.write_chunks("a/c.txt", iter(["xy"])) is False
    for rel in ("../escape.txt", "/abs.txt", "a\\b.txt", ""):
        with pytest.raises(PathError):
            out.write_text(rel, "x")
    os.symlink(tmp_path, tmp_path / "out" / "link")
    with pytest.raises(PathError, match="symbolic link"):
        out.write_text("link/escape.txt", "x")
    assert not (tmp_path / "escape.txt").exists()
    assert not list((tmp_path / "out" / ".smoothie" / "tmp").iterdir())
    assert out.remove("a/b.txt") and out.remove("a/c.txt") and not (tmp_path / "out" / "a").exists()


def test_one_set_of_defaults_for_the_cli_and_the_tab(tmp_path: Path) -> None:
    """The CLI's flags start at PrepOptions' defaults (the tab's widgets read the same ``defaults()``)."""
    from smoothie.cli import build_parser
    from smoothie.dataset.cli import options_from_args
    from smoothie.dataset.options import ExportFormat, defaults

    args = build_parser().parse_args(["dataset", "prep", str(tmp_path / "in"), str(tmp_path / "out")])
    from_cli = options_from_args(args)
    assert from_cli == PrepOptions(tmp_path / "in", tmp_path / "out")
    d = defaults()
    assert d["dedup"] is True and d["scrub_names"] is True and d["face_direction"] is FaceDirection.LEFT
    assert d["crop"] is CropMode.SMART and d["export_format"] is ExportFormat.KOHYA and d["force"] is False
    off = build_parser().parse_args(
        [
            "dataset",
            "prep",
            "i",
            "o",
            "--no-dedup",
            "--no-scrub-names",
            "--face-direction",
            "keep",
            "--keep-name",
            "Ann",
        ]
    )
    opts = options_from_args(off)
    assert not opts.dedup and not opts.scrub_names and opts.face_direction is FaceDirection.KEEP
    assert opts.keep_names == ("Ann",)


def test_options_from_loosely_typed_values(tmp_path: Path) -> None:
    """What the tab's widgets send: floats from sliders, empty text boxes, a comma-separated list."""
    opts = PrepOptions.from_values(
        {
            "input_dir": f" {tmp_path / 'in'} ",
            "output_dir": str(tmp_path / "out"),
            "size": 768.0,
            "workers": 2.0,
            "repeats": None,
            "vocabulary": "  ",
            "keep_names": "Ann, Bob ,,",
            "dedup": False,
            "force": "true",
            "wd14_threshold": 0.4,
        }
    )
    assert opts.input_dir == tmp_path / "in" and opts.size == 768 and opts.workers == 2 and opts.repeats == 0
    assert opts.vocabulary is None and opts.keep_names == ("Ann", "Bob") and not opts.dedup and opts.force
    for values, message in [
        ({"size": 512.5}, "size: expected an integer, got 512.5"),
        ({"size": "big"}, "size: expected an integer"),
        ({"wd14_threshold": "nan"}, "wd14_threshold: expected a number"),
        ({"dedup": "maybe"}, "dedup: expected true or false"),
        ({"colour": 1}, r"unknown option\(s\) \['colour'\]"),
        ({"output_dir": ""}, "output folder: no path given"),
    ]:
        with pytest.raises(ValueError, match=message):
            PrepOptions.from_values({"input_dir": "in", "output_dir": "out", **values})
