"""A folder of real photos and every nasty case the dataset pipeline must survive (built in a tmp dir).

``build_folder(root)`` is used by the other dataset tests and the benchmark; the tests here check the
folder really contains what it claims (a truncated JPEG that is truncated, a bomb that declares a huge
size, a CMYK JPEG, an EXIF-rotated photo …), so the pipeline tests cannot pass against a tame folder.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter, ImageOps

skimage_data = pytest.importorskip("skimage.data")

CAPTIONS = {
    "astronaut.png": "Eileen Collins smiling, left hand on a helmet, orange spacesuit, by Annie Leibovitz",
    "astronaut_mirror.png": "Eileen Collins smiling, left hand on a helmet, orange spacesuit, by Annie Leibovitz",
    "camera.png": "a photographer looking through a camera on the left of a field, black and white",
    "camera_mirror.png": "a photographer looking through a camera on the right of a field, black and white",
    "hopper.jpg": "Grace Hopper in uniform, serious, looking at viewer, photo by Lynn Gilbert",
}


def photos() -> dict[str, np.ndarray]:
    import matplotlib.cbook

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
        hopper = np.asarray(Image.open(handle).convert("RGB"))
    return {
        "astronaut": skimage_data.astronaut(),
        "chelsea": skimage_data.chelsea(),
        "coffee": skimage_data.coffee(),
        "camera": np.stack([skimage_data.camera()] * 3, axis=-1),
        "rocket": skimage_data.rocket(),
        "hopper": hopper,
    }


def _png_bomb(width: int, height: int) -> bytes:
    """A valid PNG header declaring ``width`` × ``height`` with almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def build_folder(root: Path) -> dict[str, str]:
    """Write the judged folder into ``root``; returns ``{relative path: what it is}``."""
    root.mkdir(parents=True, exist_ok=True)
    p = photos()
    kinds: dict[str, str] = {}

    def save(name: str, image: Image.Image, kind: str, **kw: object) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, **kw)
        kinds[name] = kind

    astronaut = Image.fromarray(p["astronaut"])
    camera = Image.fromarray(p["camera"])
    save("astronaut.png", astronaut, "photo")
    save("astronaut_mirror.png", ImageOps.mirror(astronaut), "mirror")
    save("camera.png", camera, "photo")
    save("camera_mirror.png", ImageOps.mirror(camera), "mirror")
    save("hopper.jpg", Image.fromarray(p["hopper"]), "photo", quality=92)
    save("chelsea.jpg", Image.fromarray(p["chelsea"]), "photo", quality=92)
    save("rocket.jpg", Image.fromarray(p["rocket"]), "photo", quality=92)
    coffee = Image.fromarray(p["coffee"])
    save("coffee.jpg", coffee, "photo", quality=92)
    save("coffee_copy.jpg", coffee.resize((480, 320), Image.Resampling.LANCZOS), "near-duplicate", quality=80)
    save(
        "chelsea_blurred.jpg", Image.fromarray(p["chelsea"]).filter(ImageFilter.GaussianBlur(6)), "blurred", quality=92
    )
    # EXIF orientation 6: stored rotated, displayed upright after a 90° clockwise turn.
    exif = Image.Exif()
    exif[0x0112] = 6
    save("sub/rotated.jpg", Image.fromarray(p["rocket"]).rotate(90, expand=True), "exif-rotated", exif=exif, quality=92)
    save("cmyk.jpg", Image.fromarray(p["coffee"]).convert("CMYK"), "cmyk", quality=92)
    gray16 = (np.asarray(Image.fromarray(p["astronaut"]).convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    save("gray16.png", Image.fromarray(gray16), "16-bit")
    rgba = Image.fromarray(p["chelsea"]).convert("RGBA")
    alpha = np.full(rgba.size[::-1], 255, dtype=np.uint8)
    alpha[:, :60] = 0
    rgba.putalpha(Image.fromarray(alpha))
    save("alpha.png", rgba, "alpha")
    save("ünïcödé 写真.png", Image.fromarray(p["rocket"]), "unicode name")
    (root / "empty.jpg").write_bytes(b"")
    kinds["empty.jpg"] = "empty"
    good = io.BytesIO()
    Image.fromarray(p["coffee"]).save(good, "JPEG", quality=92)
    (root / "truncated.jpg").write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    kinds["truncated.jpg"] = "truncated"
    (root / "notes.jpg").write_text("this is not an image\n", encoding="utf-8")
    kinds["notes.jpg"] = "not an image"
    (root / "bomb.png").write_bytes(_png_bomb(100_000, 100_000))
    kinds["bomb.png"] = "bomb"
    for name, text in CAPTIONS.items():
        (root / name).with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
    return kinds


def tree_digest(root: Path) -> dict[str, tuple[int, str]]:
    """``{relative path: (size, sha256)}`` of every file under ``root``."""
    import hashlib

    return {
        p.relative_to(root).as_posix(): (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_folder_has_every_nasty_case(tmp_path: Path) -> None:
    kinds = build_folder(tmp_path / "in")
    root = tmp_path / "in"
    assert (root / "empty.jpg").stat().st_size == 0
    with pytest.raises(OSError, match="truncated"):
        Image.open(root / "truncated.jpg").load()
    with pytest.raises(Image.UnidentifiedImageError):
        Image.open(root / "notes.jpg")
    bomb = (root / "bomb.png").read_bytes()
    assert struct.unpack(">II", bomb[16:24]) == (100_000, 100_000)  # the IHDR declares 10 gigapixels
    assert len(bomb) < 200
    with pytest.raises(Image.DecompressionBombError):
        Image.open(root / "bomb.png")
    with Image.open(root / "cmyk.jpg") as im:
        assert im.mode == "CMYK"
    with Image.open(root / "gray16.png") as im:
        assert im.mode.startswith("I;16") or im.mode == "I"  # Pillow < 10 (A1111's 9.5) opens it as "I"
    with Image.open(root / "alpha.png") as im:
        assert im.mode == "RGBA"
    with Image.open(root / "sub/rotated.jpg") as im:
        assert im.getexif()[0x0112] == 6
        assert im.size[1] > im.size[0]  # stored portrait; the rocket photo is landscape once upright
    assert "ünïcödé 写真.png" in kinds
    mirror = np.asarray(Image.open(root / "astronaut_mirror.png"))
    assert np.array_equal(mirror, np.asarray(Image.open(root / "astronaut.png"))[:, ::-1])
