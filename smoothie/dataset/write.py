"""The write stage: each kept image decoded once more at the resolution its crop needs, cropped, resized,
flipped and encoded; then its caption file, the metadata of the layout and ``report.json``.

Before anything is written the planned outputs are checked against the output folder's ledger
(:mod:`smoothie.dataset.safeio`): a file the pipeline did not write, or one changed since, stops the run
(a kohya caption ``.txt`` edited by hand becomes that image's caption instead), and the outputs are claimed
in the state so that a run killed at any point resumes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smoothie.dataset import export
from smoothie.dataset.options import ExportFormat, ImageFormat, PrepOptions
from smoothie.dataset.safeio import OutputDir, PrepError
from smoothie.dataset.scan import SkipImage, SourceFile, open_image

if TYPE_CHECKING:
    from PIL import Image

    from smoothie.dataset.analyse import Rec
    from smoothie.dataset.state import State

logger = logging.getLogger(__name__)

PIPELINE_VERSION = 1
CAPTION_KEY = "caption:"  # ledger key of a caption file: the prefix, then the source it describes


@dataclass(frozen=True, slots=True)
class WriteJob:
    """One kept image: where it goes and everything its bytes and its caption depend on."""

    source: SourceFile
    output: str  # relative to the output folder
    size: tuple[int, int]  # oriented size of the source
    box: tuple[int, int, int, int]
    target: tuple[int, int]
    flipped: bool
    image_format: ImageFormat
    max_pixels: int
    index: int = 0  # position of the source in the run
    caption: str = ""
    colours: str = ""
    fields: tuple[tuple[str, str], ...] = ()  # schema field -> value, as captioned (report.json)

    def key(self) -> str:
        """Digest of everything the output bytes depend on."""
        parts = [
            PIPELINE_VERSION,
            self.source.rel,
            list(self.source.fingerprint),
            list(self.box),
            list(self.target),
            self.flipped,
            self.image_format.value,
        ]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:20]


def render_output(job: WriteJob) -> bytes:
    """Decode, crop/pad, resize, flip and encode one image."""
    from PIL import Image, ImageOps

    left, top, right, bottom = job.box
    box_w, box_h = right - left, bottom - top
    need = max(job.target[0] / box_w, job.target[1] / box_h)  # output pixels per source pixel
    # A JPEG much larger than its output is decoded at a reduced DCT scale, still at least twice the
    # output resolution before the Lanczos resize (the same for every run, so outputs stay identical).
    draft = math.ceil(max(job.size) * need * 2) if need < 0.5 else 0
    image, (width, height) = open_image(job.source, job.max_pixels, draft=draft)
    sx = image.width / width
    sy = image.height / height
    if left < 0 or top < 0 or right > width or bottom > height:  # "up": pad around the image
        canvas = Image.new("RGB", (round(box_w * sx), round(box_h * sy)), _border_colour(image))
        canvas.paste(image, (round(-left * sx), round(-top * sy)))
        image = canvas
        src_box = (0.0, 0.0, float(canvas.width), float(canvas.height))
    else:
        src_box = (left * sx, top * sy, right * sx, bottom * sy)
    out = image.resize(job.target, Image.Resampling.LANCZOS, box=src_box, reducing_gap=3.0)
    if job.flipped:
        out = ImageOps.mirror(out)
    buffer = io.BytesIO()
    if job.image_format is ImageFormat.PNG:
        out.save(buffer, "PNG", compress_level=1)  # zlib's fastest: ~10 % larger files, half the time
    elif job.image_format is ImageFormat.JPG:
        out.save(buffer, "JPEG", quality=95, subsampling=0)
    else:
        out.save(buffer, "WEBP", quality=95, method=4)
    return buffer.getvalue()


def _border_colour(image: Image.Image) -> tuple[int, int, int]:
    import numpy as np

    arr = np.asarray(image)
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]]).reshape(-1, 3)
    mean = border.mean(axis=0)
    return (round(float(mean[0])), round(float(mean[1])), round(float(mean[2])))


# ------------------------------------------------------------------------------------------ the stage


def fixed_outputs(opts: PrepOptions) -> list[str]:
    """The files of a run besides the images and their captions."""
    return [export.REPORT_FILE, export.SUMMARY_FILE, export.metadata_file(opts.export_format), export.COOCCURRENCE_PNG]


def caption_files(opts: PrepOptions, jobs: Sequence[WriteJob]) -> list[str]:
    return [export.caption_file(job.output) for job in jobs] if opts.export_format is ExportFormat.KOHYA else []


def plan(
    out: OutputDir, state: State, opts: PrepOptions, jobs: list[WriteJob], edits: dict[str, str]
) -> list[WriteJob]:
    """Check the planned outputs against the user's files, claim them; returns the jobs (captions edited by
    hand taken over). Raises :class:`PrepError` naming the files in the way, before anything is written."""
    jobs = adopt_caption_edits(out, opts, jobs, edits)
    to_write = [job.output for job in jobs if needs_writing(out, job)]
    texts = caption_files(opts, jobs)
    fixed = fixed_outputs(opts)
    foreign = out.foreign(to_write + texts + fixed)
    if foreign:
        state.save()
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise PrepError(
            f"output folder {str(out.root)!r} holds files Smoothie did not write, or that were changed since, "
            f"where it would write: {shown}; they are never overwritten: move them away or choose another "
            "output folder"
        )
    out.claim([job.output for job in jobs] + texts + fixed)
    state.save()
    return jobs


def needs_writing(out: OutputDir, job: WriteJob) -> bool:
    done = out.files.get(job.output)
    return done is None or done.key != job.key() or out.lstat(job.output) is None


def write_images(
    out: OutputDir,
    state: State,
    jobs: Sequence[WriteJob],
    *,
    pmap: Callable[..., Iterator[tuple[WriteJob, bytes | str]]],
    progress: Callable[[int, int, str], None],
    stopped: Callable[[int, int], None],
) -> tuple[int, dict[int, str]]:
    """Write every image whose bytes would change; returns the count written and ``{index: reason}`` for
    images that could not be read any more (changed on disk since the analysis)."""
    todo = [job for job in jobs if needs_writing(out, job)]
    done = len(jobs) - len(todo)
    progress(done, len(jobs), f"{done} written earlier")
    written = 0
    failed: dict[int, str] = {}

    def render(job: WriteJob) -> bytes | str:
        try:
            return render_output(job)
        except SkipImage as exc:
            return f"unreadable when writing: {exc}"

    for job, payload in pmap(render, todo):
        if isinstance(payload, str):
            failed[job.index] = payload
        else:
            written += out.write_bytes(job.output, payload, durable=False, key=job.key())
        done += 1
        progress(done, len(jobs), job.source.rel)
        state.save(force=False)
        stopped(done, len(jobs))
    return written, failed


def write_exports(
    out: OutputDir,
    opts: PrepOptions,
    sources: Sequence[SourceFile],
    records: Sequence[Rec],
    status: Sequence[str | None],
    jobs: Sequence[WriteJob],
) -> int:
    """Caption files, the layout's metadata and report.json; returns how many files changed."""
    written = 0
    if opts.export_format is ExportFormat.KOHYA:
        for job in jobs:
            rel = export.caption_file(job.output)
            written += out.write_text(rel, job.caption + "\n", durable=False, key=CAPTION_KEY + job.source.rel)
    by_index = {job.index: job for job in jobs}

    def report_lines() -> Iterator[str]:
        for i, s in enumerate(sources):
            yield export.report_entry(s.rel, records[i], status[i], by_index.get(i))

    written += out.write_chunks(export.REPORT_FILE, export.json_list_file("images", report_lines()), key="text")
    meta = export.metadata_file(opts.export_format)
    written += out.write_chunks(meta, export.metadata_chunks(opts.export_format, jobs), key="text")
    return written


def produced(opts: PrepOptions, jobs: Sequence[WriteJob]) -> set[str]:
    """Every file a finished run leaves (so the rest of the ledger is stale)."""
    files = {job.output for job in jobs} | set(caption_files(opts, jobs))
    files |= {export.REPORT_FILE, export.SUMMARY_FILE, export.metadata_file(opts.export_format)}
    if jobs:
        files.add(export.COOCCURRENCE_PNG)
    return files


def remove_stale(out: OutputDir, keep: set[str]) -> int:
    """Remove outputs of earlier runs that this run did not produce (files changed since stay in place)."""
    removed = 0
    for rel in sorted(set(out.files) - keep):
        removed += out.remove(rel)
    out.settle(keep)
    if out.left:
        logger.warning(
            "%d file(s) of earlier runs were changed since and left in place: %s", len(out.left), out.left[:5]
        )
    return removed


def adopt_caption_edits(
    out: OutputDir, opts: PrepOptions, jobs: list[WriteJob], edits: dict[str, str]
) -> list[WriteJob]:
    """Caption files (kohya ``.txt``) changed by hand since the pipeline wrote them: their text becomes the
    caption, and an edit later runs keep (``.smoothie/edits.json``), instead of being overwritten — also
    when the image moved to another folder since (its repeats changed)."""
    from smoothie.dataset.scan import CAPTION_LIMIT, decode_caption
    from smoothie.dataset.state import save_edits

    if opts.export_format is not ExportFormat.KOHYA:
        return jobs
    wanted = {job.source.rel for job in jobs}
    changed: dict[str, str] = {}  # source -> caption text edited by hand
    for rel, rec in list(out.files.items()):
        source = rec.key[len(CAPTION_KEY) :] if rec.key.startswith(CAPTION_KEY) else None
        if source is None or source not in wanted or out.owns(rel):
            continue  # (the edited caption of an image no longer kept stays where it is, as the user's)
        try:
            raw = out.read_bytes(rel, limit=CAPTION_LIMIT)
        except PrepError:  # too large for a caption: left for the check that names files in the way
            continue
        text, problem = decode_caption(raw or b"")
        if text is not None and not problem:
            changed[source] = text
            out.adopt(rel, key=rec.key)  # its text lives on as the edit; an old copy may now be removed
    if not changed:
        return jobs
    edits.update(changed)
    save_edits(out, edits)
    logger.info("kept %d caption file(s) edited by hand", len(changed))
    return [
        dataclasses.replace(job, caption=changed[job.source.rel]) if job.source.rel in changed else job for job in jobs
    ]
