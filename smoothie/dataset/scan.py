"""Scan and validate: find the input files, read caption sidecars, decode images safely.

Every regular file under the input folder is a candidate image except caption sidecars (``.txt``,
``.caption``) and the few files operating systems drop into folders (``.DS_Store``, ``Thumbs.db``,
``desktop.ini``). Anything Pillow cannot read becomes a *skip with a reason*, never an exception.
Decoding applies the EXIF orientation, converts CMYK and non-sRGB ICC profiles to sRGB, scales 16-bit
and float images down to 8 bits (Pillow's own conversion clips them), and composites transparency
over white.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

logger = logging.getLogger(__name__)

CAPTION_EXTENSIONS = (".txt", ".caption")
SYSTEM_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One input file (small: a run holds one per input image)."""

    root: Path  # the input folder (one shared object)
    rel: str  # path relative to the input folder, '/' separators, as text (see `fs_rel`)
    size: int
    mtime_ns: int
    caption_ext: str = ""  # the sidecar's extension ('.txt'), '' when there is none
    fs_rel: str = ""  # the name on disk when it is not valid UTF-8 (`rel` then shows its bytes as \xNN)

    @property
    def path(self) -> Path:
        return self.root / (self.fs_rel or self.rel)

    @property
    def caption_path(self) -> Path | None:
        if not self.caption_ext:
            return None
        return self.root / (os.path.splitext(self.fs_rel or self.rel)[0] + self.caption_ext)

    @property
    def fingerprint(self) -> tuple[int, int]:
        return (self.size, self.mtime_ns)


class SkipImage(Exception):  # noqa: N818 - a verdict on a file, caught per image, not an error
    """This file cannot be used; ``str(exc)`` is the reason shown in the report.

    ``size`` is the ``(w, h)`` its header declared, when it could be read (else ``(0, 0)``).
    """

    def __init__(self, reason: str, size: tuple[int, int] = (0, 0)) -> None:
        super().__init__(reason)
        self.size = size


def scan(input_dir: Path, problems: list[tuple[str, str]] | None = None) -> list[SourceFile]:
    """Every candidate image under ``input_dir``, sorted by relative path (stable across runs).

    Folder symlinks are not followed (no loops, nothing outside the input); file symlinks are read.
    Every folder is searched, hidden ones (``.smoothie`` of an earlier run used as input) included: each
    file found is in the report, kept or skipped with its reason. A folder that cannot be listed is added
    to ``problems`` as ``(folder, reason)``.
    """
    root = Path(input_dir)
    found: list[SourceFile] = []

    def unreadable(exc: OSError) -> None:  # a folder that cannot be listed: said, not silently left out
        where = Path(exc.filename or root)
        rel = where.relative_to(root).as_posix() if where != root and root in where.parents else str(where)
        logger.warning("folder %s cannot be read: %s", where, exc.strerror or exc)
        if problems is not None:
            problems.append((rel + "/", f"folder cannot be read: {exc.strerror or exc}; its files are not included"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=False):
        dirnames.sort()
        names = set(filenames)
        for name in sorted(filenames):
            lower = name.lower()
            if lower in SYSTEM_FILES or lower.endswith(CAPTION_EXTENSIONS):
                continue
            path = Path(dirpath) / name
            try:
                st = path.stat()
            except OSError as exc:  # a dangling symlink: still an input, reported as skipped
                logger.debug("cannot stat %s: %s", path, exc)
                st = None
            if st is not None and not _is_regular(st.st_mode):
                continue
            stem = os.path.splitext(name)[0]
            caption = next((ext for ext in CAPTION_EXTENSIONS if stem + ext in names), "")
            rel = path.relative_to(root).as_posix()
            shown = as_text(rel)
            size, mtime = (st.st_size, st.st_mtime_ns) if st else (-1, 0)
            found.append(SourceFile(root, shown, size, mtime, caption, rel if shown != rel else ""))
    found.sort(key=lambda s: s.rel)
    return found


def as_text(name: str) -> str:
    """``name`` as valid Unicode text: a file name whose bytes are not UTF-8 (Python keeps them as lone
    surrogates) shows them as ``\\xNN``, so reports, state and output names can be written as UTF-8."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return name


def _is_regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)


def read_caption(source: SourceFile) -> tuple[str | None, str | None]:
    """The sidecar caption, whitespace-normalised, and why it was not used (``(None, None)``: no sidecar).

    A sidecar that is not text (binary data, an image saved as ``.txt``), larger than
    :data:`CAPTION_LIMIT` or unreadable gives ``(None, reason)``.
    """
    path = source.caption_path
    if path is None:
        return None, None
    try:
        with open(path, "rb") as handle:
            raw = handle.read(CAPTION_LIMIT + 1)
    except OSError as exc:
        return None, f"caption {path.name!r} unreadable: {exc.strerror or exc}"
    if len(raw) > CAPTION_LIMIT:
        return None, f"caption {path.name!r} ignored: larger than {CAPTION_LIMIT // 1024} KiB, not a caption"
    text, problem = decode_caption(raw)
    if problem:
        return None, f"caption {path.name!r} ignored: {problem}"
    return text, None


CAPTION_LIMIT = 64 * 1024


def decode_caption(raw: bytes) -> tuple[str | None, str | None]:
    """Caption text from a sidecar's bytes (UTF-8 with or without BOM, UTF-16 with BOM, else cp1252), with
    whitespace normalised and control characters dropped; ``(None, why)`` for data that is not text."""
    import unicodedata

    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            return None, "binary data, not text"
    elif b"\x00" in raw:
        return None, "binary data, not text"
    else:
        for encoding in ("utf-8-sig", "cp1252", "latin-1"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    control = sum(1 for ch in text if unicodedata.category(ch) in ("Cc", "Cs", "Co") and ch not in "\t\n\r")
    if control > max(2, len(text) // 50):
        return None, "binary data, not text"
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs", "Co") else ch for ch in text)
    text = " ".join(text.split())
    return text or None, None


def open_image(source: SourceFile | Path, max_pixels: int, draft: int = 0) -> tuple[Image.Image, tuple[int, int]]:
    """Decode one image as 8-bit sRGB ``RGB``; returns it and its oriented full size ``(w, h)``.

    ``draft``: when > 0, JPEGs are decoded at the smallest DCT scale (1/2, 1/4, 1/8) whose longest side
    stays ≥ ``draft`` (several times faster; the analysis pass and small outputs use it).
    Raises :class:`SkipImage` with a reason for anything unusable.
    """
    from PIL import Image, ImageFile

    path = source.path if isinstance(source, SourceFile) else Path(source)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SkipImage(f"unreadable: {exc.strerror or exc}") from None
    if size == 0:
        raise SkipImage("empty file (0 bytes)")
    try:
        # Pillow only warns between its limit and twice it; the size check below is the real guard (and
        # warning filters are process-global, so they are left alone here).
        im = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise SkipImage(f"decompression bomb refused: {exc}") from None
    except OSError as exc:
        kind = _sniff(path)
        if kind:
            raise SkipImage(f"not an image: Pillow cannot identify it (looks like {kind})") from None
        raise SkipImage(f"not an image: Pillow cannot identify it ({_short(exc)})") from None
    except Exception as exc:  # Pillow raises assorted errors on malformed headers
        raise SkipImage(f"unreadable header: {_short(exc)}") from None
    try:
        w, h = im.size
        if w <= 0 or h <= 0:
            raise SkipImage(f"invalid size {w}x{h}")
        # The declared size is checked before anything else reads the file: Pillow's getexif() on a PNG
        # decodes the whole image to look for a trailing eXIf chunk, and hosts may switch Pillow's own guard
        # off (A1111's X/Y/Z plot sets Image.MAX_IMAGE_PIXELS = None for the rest of the process).
        if w * h > max_pixels:
            raise SkipImage(
                f"decompression bomb refused: {w}x{h} = {w * h} pixels exceeds the limit of {max_pixels} "
                f"(a {size}-byte file)",
                (w, h),
            )
        orientation = _orientation(im)
        oriented = (h, w) if orientation in (5, 6, 7, 8) else (w, h)
        frames = getattr(im, "n_frames", 1)
        if frames > 1:
            logger.info("%s has %d frames; the first is used", path, frames)
        if draft and im.format == "JPEG" and im.mode in ("RGB", "L", "CMYK", "YCbCr"):
            scale_to = _draft_request(w, h, draft)
            im.draft(im.mode, scale_to)
        # Truncated files must fail even where a host set ImageFile.LOAD_TRUNCATED_IMAGES globally.
        if getattr(ImageFile, "LOAD_TRUNCATED_IMAGES", False) and _looks_truncated(path, im.format):
            raise SkipImage("truncated file: image data ends early", oriented)
        try:
            im.load()
        except OSError as exc:
            msg = _short(exc)
            if "truncated" in msg or "broken data stream" in msg or "premature end" in msg.lower():
                raise SkipImage(f"truncated file: {msg}", oriented) from None
            raise SkipImage(f"corrupt image data: {msg}", oriented) from None
        except Exception as exc:
            raise SkipImage(f"corrupt image data: {_short(exc)}", oriented) from None
        rgb = to_rgb(im)
        if orientation and orientation != 1:
            rgb = _apply_orientation(rgb, orientation)
        return rgb, oriented
    finally:
        # Close the file; the decoded pixels live on when `rgb` is `im` itself (already RGB and upright).
        fp = getattr(im, "fp", None)
        if fp is not None and getattr(im, "_exclusive_fp", False):
            fp.close()
            im.fp = None


def _draft_request(w: int, h: int, longest: int) -> tuple[int, int]:
    # Pillow's draft picks the largest reduction that keeps both sides >= the request: ask for the
    # aspect-matched size whose longest side is `longest`.
    scale = min(1.0, longest / max(w, h))
    return max(1, int(w * scale)), max(1, int(h * scale))


def _orientation(im: Image.Image) -> int:
    try:
        exif = im.getexif()
        value = exif.get(0x0112)
        return int(value) if value else 1
    except Exception:
        return 1


def _apply_orientation(im: Image.Image, orientation: int) -> Image.Image:
    from PIL import Image

    transpose = Image.Transpose
    method = {
        2: transpose.FLIP_LEFT_RIGHT,
        3: transpose.ROTATE_180,
        4: transpose.FLIP_TOP_BOTTOM,
        5: transpose.TRANSPOSE,
        6: transpose.ROTATE_270,
        7: transpose.TRANSVERSE,
        8: transpose.ROTATE_90,
    }.get(orientation)
    return im.transpose(method) if method is not None else im


def to_rgb(im: Image.Image) -> Image.Image:
    """8-bit sRGB ``RGB`` from any Pillow mode, handling CMYK/ICC, 16-bit/float and alpha correctly."""
    import numpy as np
    from PIL import Image

    mode = im.mode
    icc = im.info.get("icc_profile")
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        if mode == "F":
            top = 1.0 if arr.size and float(np.nanmax(arr)) <= 1.0 else 255.0
        elif mode.startswith("I;16"):
            top = 65535.0
        else:
            peak = float(arr.max()) if arr.size else 0.0
            top = 255.0 if peak <= 255 else 65535.0 if peak <= 65535 else peak
        arr = np.nan_to_num(arr) * (255.0 / top)
        return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "L").convert("RGB")
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        mode = im.mode
    if mode in ("1", "L") and "transparency" in im.info:
        im = im.convert("LA")
        mode = "LA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if icc and mode in ("RGB", "CMYK"):
        converted = _icc_to_srgb(im, icc)
        if converted is not None:
            return converted
    if mode == "RGB":
        return im
    return im.convert("RGB")


def _icc_to_srgb(im: Image.Image, icc: bytes) -> Image.Image | None:
    try:
        from PIL import ImageCms

        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if im.mode == "RGB" and "srgb" in (ImageCms.getProfileDescription(src) or "").lower():
            return None  # already sRGB: nothing to do
        dst = ImageCms.createProfile("sRGB")
        out = ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
        return out if out is not None else None
    except Exception as exc:  # a broken profile: fall back to Pillow's plain conversion
        logger.debug("ICC conversion failed: %s", exc)
        return None


def _looks_truncated(path: Path, fmt: str | None) -> bool:
    try:
        with open(path, "rb") as handle:
            handle.seek(-16, os.SEEK_END)
            tail = handle.read()
    except OSError:
        return False
    if fmt == "JPEG":
        return b"\xff\xd9" not in tail
    if fmt == "PNG":
        return b"IEND" not in tail
    return False


_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"{", "JSON or text"),
    (b"<", "HTML/XML or text"),
)


def _sniff(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError:
        return ""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head and all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return "plain text"
    return ""


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
