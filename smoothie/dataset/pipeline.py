"""The dataset pipeline: scan → analyse → decide → write → export, driven by the CLI and the tab.

Two passes keep memory flat in the number of images: the analysis pass decodes each image at a small
size (JPEGs through libjpeg's DCT scaling), keeps a few hundred bytes about it and drops the pixels;
after the folder-wide decisions (blur threshold, duplicates, classes, captions, training length) the
write pass decodes each kept image once more at the resolution its crop needs, and writes it.
Both passes run on a thread pool (Pillow and OpenCV release the GIL while they work) with a bounded
number of images in flight.

Nothing is lost: the input folder is only read; every output is written atomically inside the output
folder (:mod:`smoothie.dataset.safeio`); ``OUTPUT/.smoothie/state.json`` lets a re-run reuse the
analysis and skip outputs whose bytes would not change, so a second identical run writes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import math
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from smoothie.dataset import caption as cap
from smoothie.dataset import export
from smoothie.dataset.options import SHARPNESS_AUTO, ExportFormat, FaceDirection, ImageFormat, PrepOptions
from smoothie.dataset.safeio import OutputDir, PrepError, check_folders, check_output_folder
from smoothie.dataset.scan import SkipImage, SourceFile, open_image, read_caption, scan
from smoothie.dataset.state import State, load_edits

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from smoothie.dataset.analyzers import Analyzer

logger = logging.getLogger(__name__)

PIPELINE_VERSION = 1
CAPTION_KEY = "caption:"  # ledger key of a caption file: the prefix, then the source it describes
ANALYSIS_SIDE = 512  # longest side of the image the analysis pass looks at
ENERGY_BINS = 16
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Progress:
    stage: str  # scan | analyse | write | export | done
    done: int
    total: int
    message: str = ""


class Interrupted(Exception):  # noqa: N818 - a requested stop, not an error
    """The run was stopped on request; what was finished is kept and a re-run resumes from there."""


@dataclass
class PrepResult:
    output_dir: Path
    summary: dict[str, Any]
    written: int = 0  # files created or changed by this run
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def report(self) -> dict[str, Any]:
        """``report.json`` (read from disk on demand: a run does not hold every entry in memory)."""
        data: dict[str, Any] = json.loads((self.output_dir / export.REPORT_FILE).read_text(encoding="utf-8"))
        return data


class Rec:
    """What the decisions need of one analysis record; the full record stays as its compact JSON text."""

    __slots__ = ("colour", "direction", "ok", "phash", "raw", "reason", "sharpness", "size")

    def __init__(self, raw: str) -> None:
        d = json.loads(raw)
        self.raw = raw
        self.ok = bool(d.get("ok"))
        self.reason: str | None = d.get("reason")
        size = d.get("size") or [0, 0]
        self.size = (int(size[0]), int(size[1]))
        self.sharpness = float(d.get("sharpness", 0.0))
        self.phash = int(d.get("phash") or "0", 16)
        self.direction = str(d.get("direction") or "unknown")
        self.colour = bool(d.get("colour", True))

    def data(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.raw)
        return out


# ------------------------------------------------------------------------------------------- analysis


def analyse(source: SourceFile, max_pixels: int, want_features: bool) -> tuple[dict[str, Any], Image.Image | None]:
    """The analysis record of one file (JSON values only) and its analysis-size image (None if skipped)."""
    import cv2
    import numpy as np

    from smoothie.dataset import colours, faces, quality

    caption, caption_note = read_caption(source)
    try:
        image, (width, height) = open_image(source, max_pixels, draft=ANALYSIS_SIDE)
    except SkipImage as exc:
        return {"ok": False, "reason": str(exc), "size": list(exc.size), "caption": caption}, None
    if max(image.size) > ANALYSIS_SIDE:
        scale = ANALYSIS_SIDE / max(image.size)
        image = image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))), _resample("BOX")
        )
    rgb = np.asarray(image)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    face = faces.analyse_faces(rgb)
    det_w = max(1, round(rgb.shape[1] * face.scale))
    det_h = max(1, round(rgb.shape[0] * face.scale))
    regions = [
        [round(x / det_w, 4), round(y / det_h, 4), round((x + w) / det_w, 4), round((y + h) / det_h, 4)]
        for x, y, w, h in face.faces
    ]
    eyes = [
        [round(x / det_w, 4), round(y / det_h, 4), round((x + w) / det_w, 4), round((y + h) / det_h, 4)]
        for x, y, w, h in face.eyes
    ]
    cols, rows = _energy(gray)
    record: dict[str, Any] = {
        "ok": True,
        "reason": None,
        "size": [width, height],
        "caption": caption,
        "sharpness": round(quality.sharpness(gray), 3),
        "phash": f"{quality.phash(rgb):016x}",
        "direction": face.direction,
        "yaw": round(face.yaw, 4),
        "shot": face.shot,
        "faces": regions,
        "eyes": eyes,
        "colours": [[n, s] for n, s in colours.dominant_colours(rgb)],
        "colour": _colourful(rgb),
        "energy": [cols, rows],
    }
    if caption_note:
        record["caption_note"] = caption_note
    if want_features:
        from smoothie.dataset import classify

        record["features"] = classify.encode(classify.features(rgb))
    return json.loads(json.dumps(record)), image


def _colourful(rgb: np.ndarray) -> bool:
    """Whether an image has colour (mean channel spread above 4 levels on a sparse grid of pixels)."""
    import numpy as np

    sample = rgb[::4, ::4].astype(np.int16)
    spread = sample.max(axis=2) - sample.min(axis=2)
    return bool(float(spread.mean()) > 4.0)


def _energy(gray: np.ndarray) -> tuple[list[float], list[float]]:
    """Gradient energy projected on the columns and rows, in :data:`ENERGY_BINS` bins each (sums to 1)."""
    import cv2
    import numpy as np

    h, w = gray.shape
    scale = 128 / max(h, w)
    small = cv2.resize(gray, (max(2, round(w * scale)), max(2, round(h * scale))), interpolation=cv2.INTER_AREA)
    small = small.astype(np.float32)
    mag = np.hypot(cv2.Sobel(small, cv2.CV_32F, 1, 0), cv2.Sobel(small, cv2.CV_32F, 0, 1))
    total = float(mag.sum()) or 1.0

    def bins(profile: np.ndarray) -> list[float]:
        edges = np.linspace(0, len(profile), ENERGY_BINS + 1)
        cum = np.concatenate([[0.0], np.cumsum(profile, dtype=np.float64)])
        at = np.interp(edges, np.arange(len(cum)), cum)
        return [round(float(v) / total, 4) for v in np.diff(at)]

    return bins(mag.sum(axis=0)), bins(mag.sum(axis=1))


def _resample(name: str) -> Any:
    from PIL import Image

    return getattr(Image.Resampling, name)


# ---------------------------------------------------------------------------------------------- writing


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
    out = image.resize(job.target, _resample("LANCZOS"), box=src_box, reducing_gap=3.0)
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


# ----------------------------------------------------------------------------------------------- helpers


def bounded_map(fn: Callable[[T], R], items: Iterable[T], workers: int, window: int = 0) -> Iterator[tuple[T, R]]:
    """``(item, fn(item))`` in input order, with at most ``window`` calls in flight (memory stays flat)."""
    window = window or workers * 2
    if workers <= 1:
        for item in items:
            yield item, fn(item)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smoothie-dataset") as pool:
        pending: deque[tuple[T, Future[R]]] = deque()
        try:
            for item in items:
                pending.append((item, pool.submit(fn, item)))
                if len(pending) >= window:
                    head, future = pending.popleft()
                    yield head, future.result()
            while pending:
                head, future = pending.popleft()
                yield head, future.result()
        finally:
            for _, future in pending:
                future.cancel()


@contextlib.contextmanager
def _opencv_threads(workers: int) -> Iterator[None]:
    """One OpenCV thread per worker while the pool runs (no oversubscription); restored afterwards."""
    import cv2

    before = cv2.getNumThreads()
    if workers > 1:
        cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


def scrub_names(text: str, keep: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """Proper nouns replaced by generic descriptions with the prompt engine; returns the text and the names.

    Captions are text, not prompts: brackets and colons are kept as they are and need not balance.
    """
    try:
        from smoothie.prompt import scrub
    except ImportError as exc:
        raise RuntimeError(f"--scrub-names needs the prompt engine (smoothie.prompt.scrub): {exc}") from None
    result = scrub(text, keep=tuple(keep), syntax=False)  # a caption is text: ":)" or "(" need not balance
    return result.text, tuple(n.text for n in result.names)


def _check_scrub() -> None:
    scrub_names("a photo", ())


# ---------------------------------------------------------------------------------------------- the run


def prepare(
    opts: PrepOptions,
    progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    analyzers: Sequence[Analyzer] = (),
) -> PrepResult:
    """Run the whole pipeline; see the module docstring.

    Raises :class:`~smoothie.dataset.safeio.PrepError` for bad input found before work starts (paths,
    options files, class folders, a model that cannot be loaded) and :class:`Interrupted` when
    ``should_stop()`` turns true (the state is saved first, so a re-run resumes).
    """
    import time

    from smoothie.dataset import cooccur, quality
    from smoothie.dataset.state import compact

    timings: dict[str, float] = {}
    started = time.perf_counter()
    notify = progress or (lambda p: None)
    stop = should_stop or (lambda: False)
    try:
        src, dst = check_folders(opts.input_dir, opts.output_dir, opts.classes_dir)
        vocabulary = cap.load_vocabulary(opts.vocabulary)
        compounds = cap.Compounds.load(opts.compounds)
        examples = None
        if opts.classes_dir is not None:
            from smoothie.dataset.classify import example_folders

            examples = example_folders(opts.classes_dir)
        if opts.scrub_names:
            _check_scrub()
        all_analyzers = list(analyzers) + _model_analyzers(opts)
    except PrepError:
        raise
    except (ValueError, RuntimeError) as exc:  # options files, class folders, models: the user's to fix
        raise PrepError(str(exc)) from exc
    out = OutputDir(dst)
    out.check(names=export.TOP_FILES, trees=export.TOP_FOLDERS)  # links, non-files: refused before any write
    check_output_folder(dst, opts.force)
    out.prepare()
    state = State.load(out)
    if not state.exists():
        state.save()  # marks the folder as this pipeline's before any output is written
    edits = load_edits(out)
    notify(Progress("scan", 0, 0, f"scanning {src}"))
    sources = scan(src)
    n = len(sources)
    state.keep_only({s.rel for s in sources})
    want_features = examples is not None or bool(opts.labels)
    key = opts.analysis_key() + ("+" + "+".join(a.key() for a in all_analyzers) if all_analyzers else "")
    written = 0

    # -- pass 1: analysis ------------------------------------------------------------------------------
    recs: list[Rec | None] = [None] * n
    todo: list[int] = []
    for i, s in enumerate(sources):
        cached = state.cached(s.rel, s.fingerprint, key)
        if cached is not None:
            recs[i] = Rec(cached)
        else:
            todo.append(i)
    done = n - len(todo)
    notify(Progress("analyse", done, n, f"{done} analysed earlier"))
    t0 = time.perf_counter()
    with _opencv_threads(opts.workers), contextlib.ExitStack() as stack:
        loaded = [_enter(stack, a) for a in all_analyzers] if todo else []
        for i, (record, image) in bounded_map(
            lambda i: analyse(sources[i], opts.max_pixels, want_features), todo, opts.workers
        ):
            if image is not None and loaded:
                record["models"] = {a.key(): a.describe(image) for a in loaded}
            raw = compact(record)
            recs[i] = Rec(raw)
            state.put(sources[i].rel, sources[i].fingerprint, key, raw)
            done += 1
            notify(Progress("analyse", done, n, sources[i].rel))
            state.save(force=False)
            if stop():
                state.save()
                raise Interrupted(f"stopped after analysing {done} of {n} images")
    state.save()
    timings["analyse"] = time.perf_counter() - t0
    records: list[Rec] = [r for r in recs if r is not None]
    del recs

    # -- decisions ---------------------------------------------------------------------------------------
    status: list[str | None] = [None if r.ok else str(r.reason) for r in records]
    usable = [i for i, r in enumerate(records) if r.ok]
    if opts.min_sharpness == SHARPNESS_AUTO:
        threshold = quality.auto_threshold([records[i].sharpness for i in usable])
        how = "the automatic threshold"
    else:
        threshold = float(opts.min_sharpness)
        how = "--min-sharpness"
    for i in usable:
        sharp = records[i].sharpness
        if threshold > 0 and sharp < threshold:
            status[i] = f"blurry: sharpness {sharp:.1f} is below {how} {threshold:.1f}"
    duplicates: list[dict[str, Any]] = []
    if opts.dedup:
        candidates = [i for i in usable if status[i] is None]
        for group in quality.duplicate_groups([records[i].phash for i in candidates], opts.dedup_distance):
            members = [candidates[g] for g in group]
            best = max(members, key=lambda i: _keeper_rank(records[i], sources[i], i))
            for i in members:
                if i != best:
                    d = quality.hamming(records[i].phash, records[best].phash)
                    status[i] = (
                        f"near-duplicate: the same picture as {sources[best].rel} (perceptual-hash distance {d}), "
                        "which was kept as the sharper/larger copy"
                    )
            duplicates.append({"kept": sources[best].rel, "dropped": [sources[i].rel for i in members if i != best]})
    kept = [i for i in usable if status[i] is None]

    concept = export.safe_name(opts.concept or src.name or "concept", "concept")
    classes: dict[int, str] = dict.fromkeys(kept, concept)
    confidence: dict[int, float] = {}
    if want_features:
        classes, confidence = _sort_into_classes(
            kept=kept, sources=sources, records=records, examples=examples, opts=opts, default=concept
        )
    counts = Counter(classes[i] for i in kept)
    training = export.recommend_training(counts, opts.repeats, opts.epochs)
    names = export.output_names([sources[i].rel for i in kept])

    flip_from = {FaceDirection.LEFT: "right", FaceDirection.RIGHT: "left"}.get(opts.face_direction)
    keep_words = tuple(w for w in (opts.trigger, *opts.keep_names) if w)
    jobs: list[WriteJob] = []
    lint: list[dict[str, Any]] = []
    scrubbed: list[dict[str, Any]] = []
    for i in kept:
        rec = records[i]
        data = rec.data()
        flipped = flip_from is not None and rec.direction == flip_from
        box, target = _crop(opts, data)
        text, colours, found, notes = _caption(
            opts, vocabulary=vocabulary, compounds=compounds, record=data, flipped=flipped, keep=keep_words
        )
        if found:
            scrubbed.append({"source": sources[i].rel, "names": list(found)})
        if data.get("caption_note"):
            notes = (str(data["caption_note"]), *notes)
        lint.extend({"source": sources[i].rel, "warning": w} for w in notes)
        if sources[i].rel in edits:
            text = edits[sources[i].rel]
        lint.extend({"source": sources[i].rel, "warning": w} for w in cap.lint_numbers(text))
        folder = export.folder_for(opts.export_format, classes[i], training["repeats"].get(classes[i], 1))
        output = f"{folder}/{names[sources[i].rel]}.{opts.image_format.value}"
        jobs.append(
            WriteJob(
                sources[i], output, rec.size, box, target, flipped, opts.image_format, opts.max_pixels, i, text, colours
            )
        )
    del names

    # -- the user's files: never replaced; captions edited by hand are kept -----------------------------
    jobs = _adopt_caption_edits(out, opts, jobs, edits)
    meta_name = export.metadata_file(opts.export_format)
    fixed = [export.REPORT_FILE, export.SUMMARY_FILE, meta_name, export.COOCCURRENCE_PNG]
    todo_jobs = []
    for job in jobs:
        done_before = state.files.get(job.output)
        if done_before is None or done_before.key != job.key() or out.lstat(job.output) is None:
            todo_jobs.append(job)
    texts = [export.caption_file(job.output) for job in jobs] if opts.export_format is ExportFormat.KOHYA else []
    foreign = out.foreign([job.output for job in todo_jobs] + texts + fixed)
    if foreign:
        state.save()
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise PrepError(
            f"output folder {str(dst)!r} holds files Smoothie did not write, or that were changed since, where it "
            f"would write: {shown}; they are never overwritten: move them away or choose another output folder"
        )
    out.claim([job.output for job in jobs] + texts + fixed)
    state.save()

    # -- pass 2: write ---------------------------------------------------------------------------------
    t0 = time.perf_counter()
    produced: set[str] = {job.output for job in jobs}
    failed: set[int] = set()
    done = len(jobs) - len(todo_jobs)
    notify(Progress("write", done, len(jobs), f"{done} written earlier"))

    def render(job: WriteJob) -> bytes | str:
        try:
            return render_output(job)
        except SkipImage as exc:  # changed on disk since the analysis
            return f"unreadable when writing: {exc}"

    with _opencv_threads(opts.workers):
        for job, payload in bounded_map(render, todo_jobs, opts.workers):
            if isinstance(payload, str):
                failed.add(job.index)
                status[job.index] = payload
                produced.discard(job.output)
            else:
                written += out.write_bytes(job.output, payload, durable=False, key=job.key())
            done += 1
            notify(Progress("write", done, len(jobs), job.source.rel))
            state.save(force=False)
            if stop():
                state.save()
                raise Interrupted(f"stopped after writing {done} of {len(jobs)} images")
    del todo_jobs
    jobs = [job for job in jobs if job.index not in failed]
    timings["write"] = time.perf_counter() - t0

    # -- export ----------------------------------------------------------------------------------------
    notify(Progress("export", 0, 1, "writing captions, metadata and report"))
    if opts.export_format is ExportFormat.KOHYA:
        for job in jobs:
            rel = export.caption_file(job.output)
            written += out.write_text(rel, job.caption + "\n", durable=False, key=CAPTION_KEY + job.source.rel)
            produced.add(rel)
    by_index = {job.index: job for job in jobs}

    def report_lines() -> Iterator[str]:
        for i, s in enumerate(sources):
            job = by_index.get(i)
            yield export.report_entry(s.rel, records[i], status[i], job)

    written += out.write_chunks(export.REPORT_FILE, export.json_list_file("images", report_lines()), key="text")
    written += out.write_chunks(meta_name, export.metadata_chunks(opts.export_format, jobs), key="text")
    produced.update((export.REPORT_FILE, meta_name))

    class Concepts:  # re-iterable: the co-occurrence report reads the captions twice
        def __iter__(self) -> Iterator[list[str]]:
            return (_concepts(job.caption, job.colours, opts.trigger) for job in jobs)

    co = cooccur.cooccurrence(Concepts())
    summary = {
        "input_dir": str(src),
        "output_dir": str(dst),
        "options": {k: v for k, v in opts.as_json().items() if k not in ("input_dir", "output_dir")},
        "counts": {
            "images": n,
            "kept": len(jobs),
            "skipped": n - len(jobs),
            "skipped_by_reason": dict(
                sorted(Counter(_reason_kind(status[i]) for i in range(n) if i not in by_index).items())
            ),
            "flipped": sum(1 for job in jobs if job.flipped),
            "directions": dict(sorted(Counter(r.direction for r in records).items())),
            "classes": dict(sorted(Counter(classes[job.index] for job in jobs).items())),
        },
        "sharpness_threshold": threshold,
        "sharpness_threshold_source": "auto" if opts.min_sharpness == SHARPNESS_AUTO else "option",
        "duplicates": duplicates,
        "class_confidence": {sources[i].rel: round(c, 3) for i, c in sorted(confidence.items()) if i in by_index},
        "buckets": dict(sorted(Counter(f"{job.target[0]}x{job.target[1]}" for job in jobs).items())),
        "training": training,
        "lint": lint,
        "names_scrubbed": scrubbed,
        "compound_suggestions": cap.suggest_compounds((job.caption for job in jobs), vocabulary=vocabulary),
        "cooccurrence": {
            "tags": list(co.tags),
            "counts": list(co.counts),
            "warnings": list(co.warnings),
            "picture": export.COOCCURRENCE_PNG if jobs else None,
        },
        "layout": _layout_note(opts.export_format),
    }
    written += out.write_text(export.SUMMARY_FILE, export.dump_json(summary), key="text")
    produced.add(export.SUMMARY_FILE)
    if jobs:
        written += out.write_bytes(export.COOCCURRENCE_PNG, cooccur.plot(co), key="png")
        produced.add(export.COOCCURRENCE_PNG)
    for rel in sorted(set(state.files) - produced):  # outputs of an earlier run that no longer exist
        written += out.remove(rel)  # (a file changed by the user since is left in place)
    out.settle(produced)
    state.save()
    if out.left:  # said after the fact, not in summary.json: a second run would have nothing to say
        logger.warning(
            "%d file(s) of earlier runs were changed since and left in place: %s", len(out.left), out.left[:5]
        )
    timings["total"] = time.perf_counter() - started
    notify(Progress("done", n, n, f"{len(jobs)} kept, {written} files written"))
    return PrepResult(dst, summary, written, timings)


def _enter(stack: contextlib.ExitStack, analyzer: Analyzer) -> Analyzer:
    from smoothie.dataset.analyzers import AnalyzerError

    try:
        return stack.enter_context(analyzer)
    except AnalyzerError as exc:
        raise PrepError(str(exc)) from exc


def _keeper_rank(record: Rec, source: SourceFile, index: int) -> tuple[int, int, bool, int, int]:
    """Which copy of a near-duplicate group to keep: the sharpest (scores within 10 % count as equal),
    then the most pixels, then colour over grey, then the larger file, then the first path."""
    sharp = round(math.log(max(record.sharpness, 1e-6)) / math.log(1.1))
    return (sharp, record.size[0] * record.size[1], record.colour, source.size, -index)


def _reason_kind(reason: str | None) -> str:
    text = (reason or "unknown").split(":", 1)[0].split("(", 1)[0].strip()
    return text or "unknown"


def _crop(opts: PrepOptions, record: dict[str, Any]) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
    from smoothie.dataset.crop import crop_box

    width, height = record["size"]
    regions = [tuple(f) for f in record.get("faces", [])] + [tuple(e) for e in record.get("eyes", [])]
    cols, rows = record.get("energy") or ([], [])
    box, target = crop_box(opts.crop, width, height, opts.size, regions=regions, energy_cols=cols, energy_rows=rows)
    return box, target


_FACING = {"left": "facing left", "right": "facing right", "frontal": "facing the viewer"}


def _caption(
    opts: PrepOptions,
    *,
    vocabulary: cap.Vocabulary,
    compounds: cap.Compounds,
    record: dict[str, Any],
    flipped: bool,
    keep: Sequence[str],
) -> tuple[str, str, tuple[str, ...], tuple[str, ...]]:
    """The caption of one image, its colour phrase, the names scrubbed from it and notes for the report.

    Text that cannot be scrubbed of names is left out of the caption (with a note), never a reason to
    stop the run: the image keeps a caption made of the rest."""
    from smoothie.dataset.colours import describe

    parts = cap.CaptionParts()
    names: list[str] = []
    notes: list[str] = []
    # Only text from outside (sidecars, taggers, captioners) can hold names; the parts added below cannot.
    for origin, raw in [("caption", record.get("caption")), *(record.get("models") or {}).items()]:
        if not raw:
            continue
        text = str(raw)
        if opts.scrub_names:
            try:
                text, found = scrub_names(text, keep)
            except Exception as exc:  # one odd caption never stops the run
                logger.debug("scrubbing %s text failed", origin, exc_info=True)
                notes.append(f"{origin} text left out: names could not be scrubbed from it ({_short(exc)})")
                continue
            names.extend(found)
        parts.add(vocabulary, text)
    parts.set_default("subject", opts.subject)
    if record.get("shot"):
        parts.set_default("shot", record["shot"])
    facing = _FACING.get(record.get("direction", ""))
    if facing and not any("facing" in p or "profile" in p for p in parts.fields["pose"]):
        parts.fields["pose"].append(facing)
    colours = describe([(str(c[0]), float(c[1])) for c in record.get("colours", [])])
    text = cap.render(opts.template, parts.values(opts.trigger, colours))
    text = compounds.apply(text)
    if flipped:
        text = cap.swap_left_right(text)
    return " ".join(text.split()), colours, tuple(names), tuple(notes)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _adopt_caption_edits(
    out: OutputDir, opts: PrepOptions, jobs: list[WriteJob], edits: dict[str, str]
) -> list[WriteJob]:
    """Caption files (kohya ``.txt``) changed by hand since the pipeline wrote them: their text becomes the
    caption, and an edit later runs keep (``.smoothie/edits.json``), instead of being overwritten."""
    import dataclasses

    from smoothie.dataset.scan import CAPTION_LIMIT, decode_caption
    from smoothie.dataset.state import save_edits

    changed: dict[str, str] = {}  # source -> caption file edited by hand (wherever an earlier run put it)
    for rel, rec in list(out.files.items()):
        if rec.key.startswith(CAPTION_KEY) and not out.owns(rel):
            raw = out.read_bytes(rel, limit=CAPTION_LIMIT)
            text, problem = decode_caption(raw or b"")
            if text is not None and not problem:
                changed[rec.key[len(CAPTION_KEY) :]] = text
                out.adopt(rel, key=rec.key)  # its text lives on as the edit; an old copy may now be removed
    if not changed:
        return jobs
    adopted = 0
    result: list[WriteJob] = []
    for job in jobs:
        text = changed.get(job.source.rel)
        if text is not None:
            edits[job.source.rel] = text
            result.append(dataclasses.replace(job, caption=text))
            adopted += 1
        else:
            result.append(job)
    if adopted:
        logger.info("kept %d caption file(s) edited by hand", adopted)
        save_edits(out, edits)
    return result


def _concepts(caption: str, colours: str, trigger: str) -> list[str]:
    """The concepts of a caption for the co-occurrence report: its tags, the colour phrase as one."""
    present = bool(colours) and colours in caption
    if present:
        caption = caption.replace(colours, "")
    tags = [t for t in cap.split_tags(caption) if t != trigger]
    return tags + ([colours] if present else [])


def _sort_into_classes(
    *,
    kept: list[int],
    sources: list[SourceFile],
    records: list[Rec],
    examples: dict[str, list[Path]] | None,
    opts: PrepOptions,
    default: str,
) -> tuple[dict[int, str], dict[int, float]]:
    import numpy as np

    from smoothie.dataset import classify

    training: dict[str, list[np.ndarray]] = {}
    for name, paths in (examples or {}).items():
        for path in paths:
            try:
                image, _ = open_image(path, opts.max_pixels, draft=ANALYSIS_SIDE)
            except SkipImage as exc:
                logger.warning("class example %s skipped: %s", path, exc)
                continue
            training.setdefault(export.safe_name(name), []).append(classify.features(np.asarray(image)))
    by_rel = {s.rel: i for i, s in enumerate(sources)}
    for rel, label in opts.labels.items():
        i = by_rel.get(rel)
        features = records[i].data().get("features") if i is not None else None
        if features:
            training.setdefault(export.safe_name(label), []).append(classify.decode(features))
    if len(training) < 2:
        raise ValueError(f"classes: need labelled examples of at least two classes, got {sorted(training)}")
    model = classify.train(training)
    vectors = np.stack([classify.decode(records[i].data()["features"]) for i in kept]) if kept else np.zeros((0, 1))
    names, probs = model.predict(vectors) if kept else ([], [])
    classes = dict(zip(kept, names, strict=True))
    confidence = dict(zip(kept, probs, strict=True))
    for rel, label in opts.labels.items():  # a labelled image goes where its label says
        i = by_rel.get(rel)
        if i in classes:
            classes[i] = export.safe_name(label)
            confidence[i] = 1.0
    if not classes:
        return dict.fromkeys(kept, default), {}
    return classes, confidence


def _model_analyzers(opts: PrepOptions) -> list[Analyzer]:
    from smoothie.dataset.analyzers import TransformersCaptioner, WD14Tagger

    out: list[Analyzer] = []
    if opts.wd14:
        out.append(WD14Tagger(opts.wd14, opts.wd14_threshold))
    if opts.captioner:
        out.append(TransformersCaptioner(opts.captioner))
    return out


def _layout_note(fmt: ExportFormat) -> str:
    if fmt is ExportFormat.KOHYA:
        return (
            "kohya sd-scripts: --train_data_dir OUTPUT/img (captions in .txt beside each image), or "
            "--in_json OUTPUT/meta_lat.json with --train_data_dir OUTPUT/img"
        )
    return "metadata.jsonl: Hugging Face imagefolder (file_name, text) or sd-scripts JSONL (image_path, caption)"
