"""Nothing outside the output folder changes, and no file the pipeline did not write is overwritten.

Reproducers of issue 14 items 1 and 2, run through ``python -m smoothie dataset prep`` as a user runs it: a
symlinked ``OUTPUT/.smoothie/tmp`` pointing at a folder of documents (every document used to be deleted,
exit 0), a symlinked ``.smoothie``, ``img/``, class folder or output file, an empty output path (the current
folder, whose ``report.json`` used to be overwritten), and an output folder holding the user's own files.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from smoothie.cli import main
from smoothie.dataset.options import PrepOptions
from smoothie.dataset.pipeline import prepare
from smoothie.dataset.safeio import ForeignFileError, OutputDir, PathError
from smoothie.dataset.state import State

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")


def _images(root: Path, n: int = 3) -> None:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)).save(root / f"p{i}.png")


def _documents(root: Path) -> None:
    (root / "tax").mkdir(parents=True)
    (root / "letter.txt").write_text("dear user\n", encoding="utf-8")
    (root / "report.json").write_text('{"mine": true}\n', encoding="utf-8")
    (root / "tax" / "2024.pdf").write_bytes(b"%PDF-1.4 important")
    (root / ".tmp-looks-like-ours.png").write_bytes(b"not smoothie's")


def _snapshot(root: Path) -> dict[str, object]:
    """Every entry under ``root`` (links not followed): kind, bytes and mtime; what must not change."""
    out: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            rel = path.relative_to(root).as_posix()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir",)
            else:
                out[rel] = ("file", path.read_bytes(), st.st_mtime_ns, stat.S_IMODE(st.st_mode))
    return out


def _run(*args: str) -> int:
    return main(["dataset", "prep", *args, "--no-progress", "--workers", "1", "--min-sharpness", "off"])


def _one_line_error(capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("smoothie: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "link",
    [
        ".smoothie/tmp",
        ".smoothie",
        ".smoothie/edits.json",
        "img",
        "img/67_in",
        "report.json",
        "summary.json",
        "meta_lat.json",
        "cooccurrence.png",
    ],
)
def test_a_link_inside_the_output_folder_is_refused_before_anything_is_touched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], link: str
) -> None:
    src, dst, docs = tmp_path / "in", tmp_path / "out", tmp_path / "documents"
    _images(src)
    _documents(docs)
    target = docs / "letter.txt" if link.endswith((".json", ".png")) else docs
    (dst / link).parent.mkdir(parents=True, exist_ok=True)
    if link != ".smoothie":
        (dst / ".smoothie").mkdir(exist_ok=True)
        (dst / ".smoothie" / "state.jsonl").write_text('{"version": 3}\n', encoding="utf-8")
    os.symlink(target, dst / link)
    outside = _snapshot(docs)
    inside = _snapshot(dst)
    assert _run(str(src), str(dst)) == 2
    _one_line_error(capsys, "symbolic link", str(dst / link))
    assert _snapshot(docs) == outside  # nothing deleted, created or written through the link
    assert _snapshot(dst) == inside  # refused before touching anything


def test_a_link_at_an_output_file_of_an_earlier_run_is_never_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, dst, docs = tmp_path / "in", tmp_path / "out", tmp_path / "documents"
    _images(src)
    _documents(docs)
    assert _run(str(src), str(dst)) == 0
    output = next((dst / "img").rglob("p0.png"))
    output.unlink()
    os.symlink(docs / "letter.txt", output)  # a user's link where an output was
    (src / "p0.png").unlink()  # the run would remove that stale output
    outside = _snapshot(docs)
    assert _run(str(src), str(dst)) == 2
    _one_line_error(capsys, "symbolic link")
    assert _snapshot(docs) == outside and output.is_symlink()


def test_an_empty_output_path_is_refused_and_the_current_folder_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    src, here = tmp_path / "in", tmp_path / "here"
    _images(src)
    _documents(here)
    monkeypatch.chdir(here)
    before = _snapshot(here)
    for empty in ("", "  "):
        assert _run(str(src), empty) == 2
        _one_line_error(capsys, "output folder: no path given")
    assert _run("", str(tmp_path / "out")) == 2
    _one_line_error(capsys, "input folder: no path given")
    assert _snapshot(here) == before
    with pytest.raises(ValueError, match="output folder: no path given"):
        PrepOptions(src, "")


def test_a_folder_of_the_users_files_is_refused_unless_forced_and_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, dst = tmp_path / "in", tmp_path / "mine"
    _images(src)
    dst.mkdir()
    (dst / "report.json").write_text('{"my": "report"}\n', encoding="utf-8")
    (dst / "summary.json").write_text('{"my": "summary"}\n', encoding="utf-8")
    (dst / "meta_lat.json").write_text('{"my": "meta"}\n', encoding="utf-8")
    (dst / "notes.txt").write_text("keep me\n", encoding="utf-8")
    before = _snapshot(dst)
    assert _run(str(src), str(dst)) == 2
    _one_line_error(capsys, "is not empty", "--force")
    assert _snapshot(dst) == before
    # --force uses the folder, but the user's report.json and friends are still never replaced.
    assert _run(str(src), str(dst), "--force") == 2
    _one_line_error(capsys, "did not write", "report.json", "summary.json", "meta_lat.json")
    after = _snapshot(dst)
    assert {k: v for k, v in after.items() if not k.startswith(".smoothie")} == before
    # Moved out of the way: the run goes ahead, the user's other files stay as they were.
    for name in ("report.json", "summary.json", "meta_lat.json"):
        (dst / name).unlink()
    assert _run(str(src), str(dst)) == 0
    assert (dst / "notes.txt").read_text(encoding="utf-8") == "keep me\n"
    assert json.loads((dst / "report.json").read_text(encoding="utf-8"))["images"]


def test_os_clutter_does_not_make_a_folder_someone_elses(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "out"
    _images(src, 1)
    dst.mkdir()
    (dst / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    assert _run(str(src), str(dst)) == 0


def test_files_changed_by_the_user_after_a_run_are_never_overwritten_or_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, dst = tmp_path / "in", tmp_path / "out"
    _images(src, 3)
    assert _run(str(src), str(dst)) == 0
    report = json.loads((dst / "report.json").read_text(encoding="utf-8"))
    by = {e["source"]: e for e in report["images"]}
    # A caption file edited by hand becomes the caption (and an edit later runs keep).
    caption = (dst / by["p1.png"]["output"]).with_suffix(".txt")
    caption.write_text("my own caption, red ball\n", encoding="utf-8")
    # An output whose input is gone would be removed, but the user retouched it: it stays.
    retouched = dst / by["p2.png"]["output"]
    retouched.write_bytes(retouched.read_bytes() + b"retouched")
    (src / "p2.png").unlink()
    assert _run(str(src), str(dst)) == 0
    capsys.readouterr()
    # One input fewer: the repeats changed, so the outputs moved to a new class folder, the edit with them.
    by = {e["source"]: e for e in json.loads((dst / "report.json").read_text(encoding="utf-8"))["images"]}
    assert by["p1.png"]["caption"] == "my own caption, red ball"
    moved = (dst / by["p1.png"]["output"]).with_suffix(".txt")
    assert moved != caption and not caption.exists()
    assert moved.read_text(encoding="utf-8") == "my own caption, red ball\n"
    meta = json.loads((dst / "meta_lat.json").read_text(encoding="utf-8"))
    assert any(v["caption"] == "my own caption, red ball" for v in meta.values())
    assert retouched.read_bytes().endswith(b"retouched")
    # A report.json changed by hand is not overwritten: the run says so and stops before writing.
    (dst / "report.json").write_text('{"edited": "by me"}\n', encoding="utf-8")
    (src / "p3.png").write_bytes((src / "p0.png").read_bytes()[:-1] + b"\x00")  # a new input
    before = _snapshot(dst)
    assert _run(str(src), str(dst)) == 2
    _one_line_error(capsys, "report.json", "never overwritten")
    after = _snapshot(dst)
    assert {k: v for k, v in after.items() if not k.startswith(".smoothie")} == {
        k: v for k, v in before.items() if not k.startswith(".smoothie")
    }


def test_a_second_run_writes_nothing_and_a_copied_folder_is_still_known(tmp_path: Path) -> None:
    import shutil

    src, dst = tmp_path / "in", tmp_path / "out"
    _images(src, 2)
    assert _run(str(src), str(dst)) == 0
    first = _snapshot(dst)
    assert _run(str(src), str(dst)) == 0
    assert _snapshot(dst) == first
    copy = tmp_path / "copy"
    shutil.copytree(dst, copy)  # new modification times: ownership is checked by the bytes
    (copy / "report.json").touch()
    assert _run(str(src), str(copy)) == 0


def test_output_files_follow_the_umask(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "out"
    _images(src, 1)
    old = os.umask(0o027)
    try:
        prepare(PrepOptions(src, dst, min_sharpness="off", workers=1))
    finally:
        os.umask(old)
    files = [p for p in dst.rglob("*") if p.is_file() and ".smoothie" not in p.parts]
    assert files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path


def test_output_dir_primitives_refuse_links_and_foreign_files(tmp_path: Path) -> None:
    root = tmp_path / "out"
    out = OutputDir(root)
    out.prepare()
    (root / "theirs.txt").write_text("theirs", encoding="utf-8")
    with pytest.raises(ForeignFileError, match="never overwritten"):
        out.write_text("theirs.txt", "ours")
    assert out.write_text("theirs.txt", "theirs") is False  # identical bytes: nothing to replace
    assert out.write_text("ours.txt", "ours") is True and out.owns("ours.txt")
    (root / "ours.txt").write_text("changed", encoding="utf-8")
    assert not out.owns("ours.txt") and not out.remove("ours.txt") and (root / "ours.txt").exists()
    os.symlink(tmp_path, root / "link")
    for call in (lambda: out.write_text("link/x.txt", "x"), lambda: out.read_bytes("link/x.txt")):
        with pytest.raises(PathError, match="symbolic link"):
            call()
    assert not (tmp_path / "x.txt").exists()


def test_a_run_killed_after_a_write_but_before_its_state_was_saved_resumes(tmp_path: Path) -> None:
    """Outputs are claimed in the state before they are written, so a file that exists but was never
    recorded (the process died in between) is still known as the pipeline's own."""
    src, dst = tmp_path / "in", tmp_path / "out"
    _images(src, 2)
    prepare(PrepOptions(src, dst, min_sharpness="off", workers=1))
    out = OutputDir(dst)
    state = State.load(out)
    for rel in list(state.files):  # as if every write had happened after the last state save
        state.files[rel] = state.files[rel]._replace(size=-1, sha="", key="")
    state.save()
    (dst / "report.json").write_text("half a run's", encoding="utf-8")
    result = prepare(PrepOptions(src, dst, min_sharpness="off", workers=1))
    assert result.summary.counts.kept == 2
    assert json.loads((dst / "report.json").read_text(encoding="utf-8"))["images"]


def test_long_multibyte_names_are_shortened_uniquely_and_stably(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder of emoji and a file of 80 CJK characters used to end in ``OSError: File name too long``, and
    every rerun aborted at the same file."""
    src, dst = tmp_path / "in", tmp_path / "out"
    folder = src / ("🎨🌸✨🐉" * 8)  # 32 emoji, 128 bytes
    folder.mkdir(parents=True)
    rng = np.random.default_rng(5)
    stems = ["写真" * 40, "写真" * 39 + "猫犬", "写真" * 39 + "猫猫"]  # 80 CJK characters, 240 bytes each
    for stem in stems:
        Image.fromarray(rng.integers(0, 255, (64, 80, 3), dtype=np.uint8)).save(folder / f"{stem}.png")
        (folder / f"{stem}.txt").write_text("a pattern", encoding="utf-8")
    (src / ".smoothie").mkdir()  # an earlier run's state folder used as input: its images are reported too
    Image.fromarray(rng.integers(0, 255, (64, 80, 3), dtype=np.uint8)).save(src / ".smoothie" / "old.png")
    assert _run(str(src), str(dst), "--no-dedup") == 0, capsys.readouterr().err
    report = json.loads((dst / "report.json").read_text(encoding="utf-8"))["images"]
    assert len(report) == 4 and all(e["status"] == "kept" for e in report), report
    outputs = [e["output"] for e in report]
    assert len({o.lower() for o in outputs}) == 4
    for output in outputs:
        for part in output.split("/"):
            assert len(part.encode("utf-8")) <= 160, part
        assert (dst / output).is_file() and (dst / output).with_suffix(".txt").is_file()
    first = _snapshot(dst)
    assert _run(str(src), str(dst), "--no-dedup") == 0  # the rerun finds the same names: nothing written
    assert _snapshot(dst) == first


@pytest.mark.skipif(os.name == "nt", reason="POSIX file names are bytes")
def test_file_names_that_are_not_utf8_are_reported_and_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A name from an old zip (Latin-1 bytes) used to end the run in UnicodeEncodeError."""
    src = tmp_path / "in"
    dst = Path(os.fsdecode(bytes(tmp_path / "out") + b"-\xe9t\xe9"))
    src.mkdir()
    rng = np.random.default_rng(9)
    bad = os.fsdecode(b"caf\xe9 cr\xe8me")
    for stem in (bad, "plain"):
        Image.fromarray(rng.integers(0, 255, (64, 80, 3), dtype=np.uint8)).save(src / f"{stem}.png")
    (src / f"{bad}.txt").write_bytes(b"a caption")
    assert _run(str(src), str(dst)) == 0, capsys.readouterr().err
    by = {e["source"]: e for e in json.loads((dst / "report.json").read_text(encoding="utf-8"))["images"]}
    assert set(by) == {"caf\\xe9 cr\\xe8me.png", "plain.png"}
    entry = by["caf\\xe9 cr\\xe8me.png"]
    assert entry["status"] == "kept" and "a caption" in entry["caption"]
    assert (dst / entry["output"]).is_file()
    summary = json.loads((dst / "summary.json").read_text(encoding="utf-8"))
    assert summary["output_dir"].endswith("out-\\xe9t\\xe9")
    first = _snapshot(dst)
    assert _run(str(src), str(dst)) == 0
    assert _snapshot(dst) == first
