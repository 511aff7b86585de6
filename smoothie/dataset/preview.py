"""Before/after previews and a text summary of a run, for the tab (no UI code here).

Each preview tile shows the source (EXIF-oriented) with the crop box drawn on it — green when kept,
padding drawn as the part of the box outside the picture — next to the image that was written; a
skipped file gets a grey tile with its reason.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

TILE = 224


def tile(entry: Mapping[str, Any], input_dir: Path, output_dir: Path, height: int = TILE) -> Image.Image:
    """One before/after tile for a report entry."""
    from PIL import Image, ImageDraw, ImageOps

    from smoothie.dataset.scan import SkipImage, open_image

    try:
        before, (w, h) = open_image(Path(input_dir) / entry["source"], max_pixels=1 << 30, draft=height * 2)
    except (SkipImage, OSError):
        before = None
    if entry["status"] != "kept" or before is None:
        return _reason_tile(entry, before, height)
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
            after = ImageOps.contain(out.convert("RGB"), (height * 2, height))
    except OSError:
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
    text = "skipped: " + str(entry.get("reason") or "")
    x = height + 8 if before is not None else 8
    lines = textwrap.wrap(text, width=max(10, (width - x) // 7))[: height // 14]
    for i, line in enumerate(lines):
        draw.text((x, 8 + i * 14), line, fill=(255, 210, 120))
    return pair


def gallery(
    report: Mapping[str, Any], input_dir: Path, output_dir: Path, limit: int = 48, only: str = "all"
) -> list[tuple[Image.Image, str]]:
    """Tiles with labels (``source — caption`` or ``source — reason``) for up to ``limit`` images.

    ``only``: ``all``, ``kept``, ``skipped`` or ``flipped``.
    """
    out: list[tuple[Image.Image, str]] = []
    for entry in select(report["images"], only)[:limit]:
        label = entry["caption"] if entry["status"] == "kept" else f"skipped: {entry['reason']}"
        out.append((tile(entry, input_dir, output_dir), f"{entry['source']} — {label}"))
    return out


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


def summary_markdown(summary: Mapping[str, Any]) -> str:
    """The run summary as a few lines of Markdown."""
    c = summary["counts"]
    t = summary["training"]
    lines = [
        f"**{c['kept']} of {c['images']} images kept**, {c['skipped']} skipped, {c['flipped']} flipped "
        f"→ `{summary['output_dir']}`",
    ]
    if c["skipped_by_reason"]:
        lines.append("Skipped: " + ", ".join(f"{k} ({n})" for k, n in c["skipped_by_reason"].items()))
    lines.append("Directions: " + ", ".join(f"{k} {n}" for k, n in c["directions"].items()))
    if t["total_steps"]:
        reps = ", ".join(f"`{k}` × {n}" for k, n in t["repeats"].items())
        lines.append(f"Training: repeats {reps}, {t['epochs']} epochs, {t['total_steps']} steps. {t['explanation']}")
    for w in summary["cooccurrence"]["warnings"][:5]:
        lines.append(f"⚠ {w['message']}")
    for w in summary["lint"][:5]:
        lines.append(f"⚠ `{w['source']}`: {w['warning']}")
    if summary["compound_suggestions"]:
        sugg = ", ".join(f"`{s['phrase']}` → `{s['suggestion']}`" for s in summary["compound_suggestions"][:8])
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
