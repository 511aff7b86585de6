"""Before/after previews and a text summary of a run, for the tab (no UI code here).

Each preview tile shows the source (EXIF-oriented) with the crop box drawn on it — green when kept,
padding drawn as the part of the box outside the picture — next to the image that was written; a
skipped file gets a grey tile with its reason and is never decoded (it may be a decompression bomb, and a
host may have switched Pillow's own guard off). Sources are opened under the run's ``--max-pixels``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

    from smoothie.dataset.summary import Summary

TILE = 224


def tile(
    entry: Mapping[str, Any], input_dir: Path, output_dir: Path, height: int = TILE, max_pixels: int | None = None
) -> Image.Image:
    """One before/after tile for a report entry (a skipped one is not opened at all)."""
    from PIL import Image, ImageDraw, ImageOps

    from smoothie.dataset.options import DEFAULT_MAX_PIXELS
    from smoothie.dataset.scan import SkipImage, open_image

    if entry.get("status") != "kept" or not entry.get("crop") or not entry.get("output"):
        return _reason_tile(entry, None, height)
    try:
        source = Path(input_dir) / entry["source"]
        before, (w, h) = open_image(source, max_pixels=max_pixels or DEFAULT_MAX_PIXELS, draft=height * 2)
    except (SkipImage, OSError):
        return _reason_tile({**entry, "reason": "the source cannot be shown any more"}, None, height)
    crop = entry["crop"]
    left, top = min(0, crop[0]), min(0, crop[1])
    right, bottom = max(w, crop[2]), max(h, crop[3])
    scale = height / (bottom - top)
    canvas_w = max(1, round((right - left) * scale))
    canvas = Image.new("RGB", (canvas_w, height), (40, 40, 40))
    shown = before.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BILINEAR)
    canvas.paste(shown, (round(-left * scale), round(-top * scale)))
    draw = ImageDraw.Draw(canvas)
    box = [round((crop[0] - left) * scale), round((crop[1] - top) * scale)]
    box += [round((crop[2] - left) * scale) - 1, round((crop[3] - top) * scale) - 1]
    draw.rectangle(box, outline=(40, 220, 90), width=3)
    try:
        with Image.open(Path(output_dir) / entry["output"]) as out:
            if out.width * out.height > max(max_pixels or DEFAULT_MAX_PIXELS, 1):
                raise OSError("too large to preview")
            out.draft("RGB", (height * 2, height))
            after = ImageOps.contain(out.convert("RGB"), (height * 2, height))
    except (OSError, ValueError, Image.DecompressionBombError):
        after = Image.new("RGB", (height, height), (90, 90, 90))
    pair = Image.new("RGB", (canvas.width + 8 + after.width, height), (20, 20, 20))
    pair.paste(canvas, (0, 0))
    pair.paste(after, (canvas.width + 8, 0))
    return pair


def _reason_tile(entry: Mapping[str, Any], before: Image.Image | None, height: int) -> Image.Image:
    from PIL import Image, ImageDraw, ImageOps

    width = height * 2
    pair = Image.new("RGB", (width, height), (70, 70, 70))
    if before is not None:
        thumb = ImageOps.contain(before, (height, height)).convert("L").convert("RGB")
        pair.paste(thumb, (0, 0))
    draw = ImageDraw.Draw(pair)
    text = ("skipped: " if entry.get("status") != "kept" else "") + str(entry.get("reason") or "")
    x = height + 8 if before is not None else 8
    lines = textwrap.wrap(text, width=max(10, (width - x) // 7))[: height // 14]
    for i, line in enumerate(lines):
        draw.text((x, 8 + i * 14), line, fill=(255, 210, 120))
    return pair


def gallery(
    report: Mapping[str, Any],
    input_dir: Path,
    output_dir: Path,
    limit: int = 48,
    only: str = "all",
    max_pixels: int | None = None,
) -> list[tuple[Image.Image, str]]:
    """Tiles with labels (``source — caption`` or ``source — reason``) for up to ``limit`` images.

    ``only``: ``all``, ``kept``, ``skipped`` or ``flipped``; ``max_pixels``: the run's limit.
    """
    out: list[tuple[Image.Image, str]] = []
    for entry in select(report["images"], only)[:limit]:
        label = entry["caption"] if entry["status"] == "kept" else f"skipped: {entry['reason']}"
        out.append((tile(entry, input_dir, output_dir, max_pixels=max_pixels), f"{entry['source']} — {label}"))
    return out


class ReportError(ValueError):
    """No readable run in a folder; the message says what is missing or broken."""


def read_run(output_dir: str | Path) -> tuple[dict[str, Any], Summary, Path]:
    """``report.json`` and ``summary.json`` of an output folder, checked; :class:`ReportError` otherwise."""
    import json

    from smoothie.dataset.export import REPORT_FILE, SUMMARY_FILE
    from smoothie.dataset.safeio import OutputDir, PathError
    from smoothie.dataset.summary import Summary

    if not str(output_dir).strip():
        raise ReportError("choose the output folder of a run first")
    try:
        out = OutputDir(Path(str(output_dir).strip()))
        texts = {name: out.read_bytes(name, limit=1 << 30) for name in (REPORT_FILE, SUMMARY_FILE)}
    except (PathError, OSError) as exc:
        raise ReportError(str(exc)) from None
    missing = [name for name, raw in texts.items() if raw is None]
    if missing:
        raise ReportError(f"no {' or '.join(missing)} in {str(out.root)!r} yet: run the pipeline first")
    try:
        report = json.loads(texts[REPORT_FILE] or b"")
        images = report["images"]
        if not isinstance(images, list) or not all(isinstance(e, dict) and "source" in e for e in images):
            raise ValueError("'images' is not a list of entries")
        for e in images:
            for key in ("status", "reason", "output", "crop", "caption", "flipped"):
                e.setdefault(key, None)
    except (ValueError, KeyError, TypeError) as exc:
        raise ReportError(f"{REPORT_FILE} in {str(out.root)!r} cannot be read: {exc}") from None
    try:
        summary = Summary.from_json(json.loads(texts[SUMMARY_FILE] or b""))
    except ValueError as exc:
        raise ReportError(f"{SUMMARY_FILE} in {str(out.root)!r} cannot be read: {exc}") from None
    return report, summary, out.root


def select(images: Sequence[Mapping[str, Any]], only: str) -> list[Mapping[str, Any]]:
    if only == "kept":
        return [e for e in images if e["status"] == "kept"]
    if only == "skipped":
        return [e for e in images if e["status"] == "skipped"]
    if only == "flipped":
        return [e for e in images if e["flipped"]]
    if only != "all":
        raise ValueError(f"only: expected all, kept, skipped or flipped, got {only!r}")
    return list(images)


def summary_markdown(summary: Summary) -> str:
    """The run summary as a few lines of Markdown."""
    c = summary.counts
    t = summary.training
    lines = [
        f"**{c.kept} of {c.images} images kept**, {c.skipped} skipped, {c.flipped} flipped → `{summary.output_dir}`",
    ]
    if c.skipped_by_reason:
        lines.append("Skipped: " + ", ".join(f"{k} ({n})" for k, n in c.skipped_by_reason.items()))
    lines.append("Directions: " + ", ".join(f"{k} {n}" for k, n in c.directions.items()))
    if t.total_steps:
        reps = ", ".join(f"`{k}` × {n}" for k, n in t.repeats.items())
        lines.append(f"Training: repeats {reps}, {t.epochs} epochs, {t.total_steps} steps. {t.explanation}")
    lines.extend(f"⚠ {w.message}" for w in summary.cooccurrence.warnings[:5])
    lines.extend(f"⚠ `{n.source}`: {n.warning}" for n in summary.lint[:5])
    if summary.compound_suggestions:
        sugg = ", ".join(f"`{s.phrase}` → `{s.suggestion}`" for s in summary.compound_suggestions[:8])
        lines.append(f"Compound suggestions: {sugg}")
    return "\n\n".join(lines)


def folder_status(input_dir: str, output_dir: str) -> tuple[bool, str]:
    """Whether the two folders may be used, and a one-line message (image count or the problem)."""
    from smoothie.dataset.export import TOP_FILES, TOP_FOLDERS
    from smoothie.dataset.safeio import OutputDir, PathError, check_folders, holds_state, user_entries
    from smoothie.dataset.scan import scan

    if not str(input_dir).strip():
        return False, "Choose an input folder."
    if not str(output_dir).strip():
        return False, "Choose an output folder (outside the input folder)."
    try:
        src, dst = check_folders(input_dir, output_dir)
        OutputDir(dst).check(names=TOP_FILES, trees=TOP_FOLDERS)
        others = [] if holds_state(dst) else user_entries(dst)
    except PathError as exc:
        return False, f"✗ {exc}"
    n = len(scan(src))
    if not n:
        return False, f"✗ no files in {str(src)!r}"
    if others:
        shown = ", ".join(f"`{name}`" for name in others)
        return True, (
            f"⚠ {n} files to examine in `{src}`, but `{dst}` already holds other files ({shown}…) and no earlier "
            "run: choose an empty or new folder, or tick *Use an output folder that holds other files* "
            "(they are never overwritten)"
        )
    state = " (a previous run there will be resumed)" if holds_state(dst) else ""
    return True, f"✓ {n} files to examine in `{src}` → `{dst}`{state}"
