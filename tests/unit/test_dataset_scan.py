"""Scan and decode: every format and every broken file gives pixels or a clear reason, never an exception."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile

from smoothie.dataset.scan import SkipImage, open_image, read_caption, scan, to_rgb
from tests.unit.test_dataset_folder import build_folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scan") / "in"
    build_folder(root)
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "orphan.txt").write_text("a caption without an image")
    return root


def test_scan_lists_every_candidate_once_sorted_with_sidecars(folder: Path) -> None:
    found = scan(folder)
    rels = [s.rel for s in found]
    assert rels == sorted(rels)
    assert "sub/rotated.jpg" in rels and "ünïcödé 写真.png" in rels and "bomb.png" in rels
    assert not any(r.endswith((".txt", ".DS_Store")) for r in rels)
    by_rel = {s.rel: s for s in found}
    assert by_rel["astronaut.png"].caption_path == folder / "astronaut.txt"
    assert by_rel["chelsea.jpg"].caption_path is None
    assert read_caption(by_rel["astronaut.png"])[0].startswith("Eileen Collins smiling")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.jpg", "empty file (0 bytes)"),
        ("truncated.jpg", "truncated file"),
        ("notes.jpg", "not an image: Pillow cannot identify it (looks like plain text)"),
        ("bomb.png", "decompression bomb refused"),
    ],
)
def test_broken_files_give_a_reason(folder: Path, name: str, reason: str) -> None:
    with pytest.raises(SkipImage, match=reason.replace("(", r"\(").replace(")", r"\)")):
        open_image(folder / name, max_pixels=178_956_970)


def test_a_bomb_is_refused_from_its_header_without_decoding(folder: Path) -> None:
    with pytest.raises(SkipImage) as info:
        open_image(folder / "bomb.png", max_pixels=178_956_970)
    assert info.value.size in {(0, 0), (100_000, 100_000)}
    # Our own limit applies below Pillow's: a 512×512 photo is refused at 1000 pixels.
    with pytest.raises(SkipImage, match=r"512x512 = 262144 pixels exceeds the limit of 1000") as small:
        open_image(folder / "astronaut.png", max_pixels=1000)
    assert small.value.size == (512, 512)


def test_truncated_files_fail_even_when_the_host_loads_truncated_images(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(SkipImage, match="truncated"):
        open_image(folder / "truncated.jpg", max_pixels=178_956_970)
    image, _ = open_image(folder / "hopper.jpg", max_pixels=178_956_970)
    assert image.mode == "RGB"


def test_exif_orientation_is_applied(folder: Path) -> None:
    image, size = open_image(folder / "sub/rotated.jpg", max_pixels=178_956_970)
    upright = Image.open(folder / "rocket.jpg")
    assert size == upright.size == image.size  # landscape once the EXIF rotation is applied
    diff = np.abs(np.asarray(image, dtype=np.int16) - np.asarray(upright.convert("RGB"), dtype=np.int16))
    assert diff.mean() < 6  # the same picture (two JPEG generations apart), not a rotated one


def test_cmyk_16_bit_and_alpha_become_correct_rgb(folder: Path) -> None:
    cmyk, _ = open_image(folder / "cmyk.jpg", max_pixels=178_956_970)
    ref = np.asarray(Image.open(folder / "coffee.jpg").convert("RGB"), dtype=np.int16)
    assert cmyk.mode == "RGB"
    assert np.abs(np.asarray(cmyk, dtype=np.int16) - ref).mean() < 12
    gray, _ = open_image(folder / "gray16.png", max_pixels=178_956_970)
    ref_gray = np.asarray(Image.open(folder / "astronaut.png").convert("L"), dtype=np.int16)
    got = np.asarray(gray, dtype=np.int16)
    assert gray.mode == "RGB" and np.abs(got[..., 0] - ref_gray).max() <= 1  # scaled, not clipped to white
    alpha, _ = open_image(folder / "alpha.png", max_pixels=178_956_970)
    arr = np.asarray(alpha)
    assert alpha.mode == "RGB" and (arr[:, :60] == 255).all()  # transparent → white, not black
    assert not (arr[:, 100:] == 255).all()


def test_draft_decoding_keeps_the_longest_side_at_least_the_request(folder: Path) -> None:
    image, size = open_image(folder / "hopper.jpg", max_pixels=178_956_970, draft=200)
    assert size == (512, 600)
    assert max(image.size) >= 200 and max(image.size) < 600


def test_to_rgb_converts_a_non_srgb_icc_profile() -> None:
    # A photo tagged with a LAB-ish "wide" profile must be converted, not just relabelled.
    wide = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB"))
    im = Image.new("RGB", (4, 4), (200, 100, 50))
    buffer = io.BytesIO()
    im.save(buffer, "PNG", icc_profile=wide.tobytes())
    loaded = Image.open(io.BytesIO(buffer.getvalue()))
    loaded.load()
    out = to_rgb(loaded)
    assert out.mode == "RGB"
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    buffer = io.BytesIO()
    im.save(buffer, "PNG", icc_profile=srgb.tobytes())
    same = Image.open(io.BytesIO(buffer.getvalue()))
    same.load()
    assert np.array_equal(np.asarray(to_rgb(same)), np.asarray(im))


@pytest.mark.parametrize("mode", ["1", "L", "P", "LA", "PA", "I", "F", "RGBA", "CMYK", "YCbCr", "LAB", "HSV"])
def test_every_mode_becomes_rgb(mode: str) -> None:
    im = Image.new("RGB", (8, 6), (10, 200, 30)).convert(mode) if mode not in ("PA",) else Image.new("PA", (8, 6))
    out = to_rgb(im)
    assert out.mode == "RGB" and out.size == (8, 6)


def test_a_bomb_is_refused_from_its_header_even_with_pillows_guard_off(tmp_path, monkeypatch):
    """A1111's X/Y/Z plot sets ``Image.MAX_IMAGE_PIXELS = None`` for the rest of the process; the declared size
    must then still stop the file before anything decodes it (``getexif()`` on a PNG loads the whole image)."""
    from PIL import Image, PngImagePlugin

    from smoothie.dataset.scan import SkipImage, open_image

    from .test_dataset_folder import _png_bomb

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_bomb(100_000, 100_000))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)

    decoded = []

    def no_decoding(self):  # the regression would allocate ~30 GB here: record it and refuse instead
        decoded.append(self)
        raise OSError("test: decoding refused")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", no_decoding)
    with pytest.raises(SkipImage, match="decompression bomb refused"):
        open_image(bomb, max_pixels=178_956_970)
    assert decoded == [], "the bomb's pixel data was read before its declared size was checked"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"a cat,  sitting\r\n", ("a cat, sitting", None)),
        ("\ufeffcafé, red".encode(), ("café, red", None)),  # UTF-8 with a BOM
        ("a cat, 猫".encode("utf-16"), ("a cat, 猫", None)),  # Notepad's "Unicode"
        ("naïve".encode("cp1252"), ("naïve", None)),
        (b"a\x07 cat\x1b", ("a cat", None)),  # a stray control character is dropped, not kept
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16, (None, "binary data, not text")),
        (bytes(range(1, 32)) * 130, (None, "binary data, not text")),  # 4 KB of control characters
        (b"   \n", (None, None)),
    ],
)
def test_sidecar_bytes_become_text_or_are_refused(raw: bytes, expected: tuple[str | None, str | None]) -> None:
    from smoothie.dataset.scan import decode_caption

    assert decode_caption(raw) == expected


def test_a_binary_or_huge_sidecar_is_ignored_with_a_note(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    for name in ("bin", "huge", "fine"):
        Image.new("RGB", (8, 8)).save(root / f"{name}.png")
    (root / "bin.txt").write_bytes(bytes(range(1, 32)) * 130)
    (root / "huge.txt").write_bytes(b"tag, " * 20_000)
    (root / "fine.txt").write_text("a red square", encoding="utf-8")
    by = {s.rel: s for s in scan(root)}
    assert read_caption(by["bin.png"]) == (None, "caption 'bin.txt' ignored: binary data, not text")
    text, note = read_caption(by["huge.png"])
    assert text is None and note and "larger than 64 KiB" in note
    assert read_caption(by["fine.png"]) == ("a red square", None)


def test_hidden_folders_are_scanned_too(tmp_path: Path) -> None:
    """Images under IN/.smoothie/ (an earlier run's output used as input) are in the scan like any other."""
    root = tmp_path / "in"
    (root / ".smoothie").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(root / ".smoothie" / "a.png")
    Image.new("RGB", (8, 8)).save(root / "b.png")
    assert [s.rel for s in scan(root)] == [".smoothie/a.png", "b.png"]


def test_a_folder_that_cannot_be_listed_is_said_not_silently_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import smoothie.dataset.scan as scan_module

    root = tmp_path / "in"
    (root / "locked").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(root / "a.png")
    real_walk = os.walk

    def walk(top, onerror=None, followlinks=False):  # type: ignore[no-untyped-def]
        for dirpath, dirnames, filenames in real_walk(top, followlinks=followlinks):
            if dirpath.endswith("locked"):
                onerror(PermissionError(13, "Permission denied", dirpath))
                continue
            yield dirpath, dirnames, filenames

    monkeypatch.setattr(scan_module.os, "walk", walk)
    problems: list[tuple[str, str]] = []
    assert [s.rel for s in scan(root, problems)] == ["a.png"]
    assert problems == [("locked/", "folder cannot be read: Permission denied; its files are not included")]
