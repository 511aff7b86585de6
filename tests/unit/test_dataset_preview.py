"""Previews for the tab, the thread pool, the CLI's progress bar, and analyser load errors."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from smoothie.cli import main
from smoothie.dataset import preview
from smoothie.dataset.analyzers import AnalyzerError, CallableAnalyzer
from smoothie.dataset.options import PrepOptions
from smoothie.dataset.pipeline import bounded_map, prepare
from tests.unit.test_dataset_folder import photos


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    base = tmp_path_factory.mktemp("preview")
    src = base / "in"
    src.mkdir()
    Image.fromarray(photos()["rocket"]).save(src / "wide.jpg")
    (src / "broken.jpg").write_bytes(b"not a jpeg at all")
    result = prepare(PrepOptions(src, base / "out", crop="up", size=128, min_sharpness="off"))
    return src, base / "out", result


def test_tiles_show_the_crop_box_next_to_the_output(run: tuple[Path, Path, object]) -> None:
    src, out, result = run
    report = result.report  # type: ignore[attr-defined]
    kept = next(e for e in report["images"] if e["status"] == "kept")
    tile = preview.tile(kept, src, out, height=100)
    arr = np.asarray(tile)
    assert tile.height == 100 and tile.width > 150  # the padded source, a gap, then the square output
    green = (arr[..., 1] > 200) & (arr[..., 0] < 80) & (arr[..., 2] < 130)
    assert green.sum() > 100  # the crop box is drawn
    skipped = next(e for e in report["images"] if e["status"] == "skipped")
    assert preview.tile(skipped, src, out, height=100).size == (200, 100)
    items = preview.gallery(report, src, out, only="skipped")
    assert len(items) == 1 and items[0][1].startswith("broken.jpg — skipped: not an image")
    assert len(preview.gallery(report, src, out, limit=1)) == 1
    with pytest.raises(ValueError, match="only"):
        preview.gallery(report, src, out, only="some")


def test_summary_markdown_and_folder_status(run: tuple[Path, Path, object], tmp_path: Path) -> None:
    src, out, result = run
    text = preview.summary_markdown(result.summary)  # type: ignore[attr-defined]
    assert "**1 of 2 images kept**" in text and "not an image (1)" in text and "Training:" in text
    ok, message = preview.folder_status(str(src), str(tmp_path / "new"))
    assert ok and "2 files to examine" in message
    ok, message = preview.folder_status(str(src), str(out))
    assert ok and "resumed" in message
    ok, message = preview.folder_status(str(src), str(src / "x"))
    assert not ok and "inside the input folder" in message
    assert preview.folder_status("", "x") == (False, "Choose an input folder.")


def test_bounded_map_keeps_order_and_bounds_work_in_flight() -> None:
    running = 0
    peak = 0
    lock = threading.Lock()

    def work(x: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.002 * (x % 3))
        with lock:
            running -= 1
        return x * x

    consumed = []
    for x, y in bounded_map(work, range(40), workers=3, window=5):
        consumed.append((x, y))
    assert consumed == [(x, x * x) for x in range(40)]
    assert peak <= 3
    assert list(bounded_map(work, range(4), workers=1)) == [(x, x * x) for x in range(4)]


def test_the_cli_shows_a_progress_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        Image.fromarray(photos()["coffee"][i * 20 :]).save(src / f"{i}.jpg")
    assert main(["dataset", "prep", str(src), str(tmp_path / "out"), "--min-sharpness", "off", "--no-dedup"]) == 0
    captured = capsys.readouterr()
    assert "analyse" in captured.err and "write" in captured.err and "3/3" in captured.err
    assert "3 of 3 images kept" in captured.out


def test_a_host_model_that_cannot_load_is_reported_by_name() -> None:
    def load() -> None:
        raise OSError("no network")

    with pytest.raises(AnalyzerError, match=r"a1111-deepbooru: could not be loaded: OSError: no network"):
        CallableAnalyzer("a1111-deepbooru", lambda im: "", load=load).load()


def test_skipped_images_are_never_decoded_for_the_preview(
    run: tuple[Path, Path, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A1111's X/Y/Z plot switches Pillow's bomb guard off; a 315 KB bomb used to cost 1.6 GB in the tab."""
    from PIL import Image

    import smoothie.dataset.scan as scan_module
    from tests.unit.test_dataset_folder import _png_bomb

    src, out, result = run
    (src / "bomb.png").write_bytes(_png_bomb(40_000, 40_000))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    opened: list[str] = []
    real = scan_module.open_image

    def spy(source, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(str(source))
        return real(source, *args, **kwargs)

    monkeypatch.setattr(scan_module, "open_image", spy)
    entry = {"source": "bomb.png", "status": "skipped", "reason": "decompression bomb refused", "crop": None}
    assert preview.tile(entry, src, out, height=64).size == (128, 64)
    items = preview.gallery(result.report, src, out, only="skipped")  # type: ignore[attr-defined]
    assert items and not opened
    kept = [e for e in result.report["images"] if e["status"] == "kept"]  # type: ignore[attr-defined]
    preview.gallery({"images": kept}, src, out, max_pixels=10)  # a kept source over the run's limit
    assert opened  # opened with the run's limit, which refuses it from its header
    (src / "bomb.png").unlink()
