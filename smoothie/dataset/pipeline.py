"""The dataset pipeline: scan → analyse → decide → write → summarise, driven by the CLI and the tab.

Each stage is a module of its own:

* **scan** (:mod:`smoothie.dataset.scan`): every candidate file under the input folder, sorted;
* **analyse** (:mod:`smoothie.dataset.analyse`): each image decoded once at a small size (JPEGs through
  libjpeg's DCT scaling) and handed to a list of analysers that fill its record — a few hundred bytes
  kept per image, the pixels dropped; records are cached in the state;
* **decide** (:mod:`smoothie.dataset.decide`): the folder-wide decisions (blur threshold, duplicates,
  classes, training length) and, per kept image, its flip, crop, caption and output path;
* **write** (:mod:`smoothie.dataset.write`): each kept image decoded once more at the resolution its crop
  needs, written, then the captions, the layout's metadata and ``report.json``;
* **summarise** (:mod:`smoothie.dataset.summary`): the typed :class:`~smoothie.dataset.summary.Summary`
  (``summary.json``) and the co-occurrence picture.

The analyse and write stages run on a thread pool (Pillow and OpenCV release the GIL while they work) with a
bounded number of images in flight, so memory stays flat in the number of images.

Nothing is lost: the input folder is only read; every output is written atomically inside the output
folder, never through a link and never over a file the pipeline did not write
(:mod:`smoothie.dataset.safeio`); ``OUTPUT/.smoothie/state.jsonl`` lets a re-run reuse the analysis and skip
outputs whose bytes would not change, so a second identical run writes nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from smoothie.dataset import analyse, export, write
from smoothie.dataset import caption as cap
from smoothie.dataset.decide import check_scrub, decide
from smoothie.dataset.options import PrepOptions
from smoothie.dataset.safeio import OutputDir, PrepError, check_folders, check_output_folder
from smoothie.dataset.scan import scan
from smoothie.dataset.state import State, load_edits
from smoothie.dataset.summary import Summary, summarise

if TYPE_CHECKING:
    from smoothie.dataset.analyse import ImageAnalyser

logger = logging.getLogger(__name__)

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
    summary: Summary
    written: int = 0  # files created or changed by this run
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def report(self) -> dict[str, Any]:
        """``report.json`` (read from disk on demand: a run does not hold every entry in memory)."""
        data: dict[str, Any] = json.loads((self.output_dir / export.REPORT_FILE).read_text(encoding="utf-8"))
        return data


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


@dataclass
class _Inputs:
    """What a run needs besides the images, all checked before anything is written."""

    src: Path
    dst: Path
    vocabulary: cap.Vocabulary
    compounds: cap.Compounds
    examples: dict[str, list[Path]] | None
    analysers: list[ImageAnalyser]


def _inputs(opts: PrepOptions, extra: Sequence[ImageAnalyser]) -> _Inputs:
    """Folders, options files, class folders and analysers checked; :class:`PrepError` names what is wrong."""
    try:
        src, dst = check_folders(opts.input_dir, opts.output_dir, opts.classes_dir)
        vocabulary = cap.load_vocabulary(opts.vocabulary)
        compounds = cap.Compounds.load(opts.compounds)
        examples = None
        if opts.classes_dir is not None:
            from smoothie.dataset.classify import example_folders

            examples = example_folders(opts.classes_dir)
        if opts.direction_examples is not None:
            from smoothie.dataset import direction

            direction.example_folders(opts.direction_examples)  # checked now: left/ and right/ with images
        if opts.scrub_names:
            check_scrub()
        analysers = analyse.default_analysers(opts) + list(extra)
    except PrepError:
        raise
    except (ValueError, RuntimeError) as exc:  # options files, class folders, models: the user's to fix
        raise PrepError(str(exc)) from exc
    return _Inputs(src, dst, vocabulary, compounds, examples, analysers)


def prepare(
    opts: PrepOptions,
    progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    analyzers: Sequence[ImageAnalyser] = (),
) -> PrepResult:
    """Run the whole pipeline; see the module docstring. ``analyzers``: analysers to run after the default
    ones (:func:`smoothie.dataset.analyse.default_analysers`), such as the host's interrogators.

    Raises :class:`~smoothie.dataset.safeio.PrepError` for bad input found before work starts (paths,
    options files, class folders, a model that cannot be loaded, a link or a user's file where an output
    goes) and :class:`Interrupted` when ``should_stop()`` turns true (the state is saved first, so a
    re-run resumes).
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()
    notify = progress or (lambda p: None)
    stop = should_stop or (lambda: False)
    inputs = _inputs(opts, analyzers)

    # -- the output folder: checked before anything is written, then marked as this pipeline's ------------
    out = OutputDir(inputs.dst)
    out.check(names=export.TOP_FILES, trees=export.TOP_FOLDERS)  # links, non-files: refused before any write
    check_output_folder(inputs.dst, opts.force)
    out.prepare()
    state = State.load(out)
    if not state.exists():
        state.save()  # marks the folder as this pipeline's before any output is written
    edits = load_edits(out)

    def stopper(verb: str) -> Callable[[int, int], None]:
        def check(done: int, total: int) -> None:
            if stop():
                state.save()
                raise Interrupted(f"stopped after {verb} {done} of {total} images")

        return check

    # -- scan -------------------------------------------------------------------------------------------
    notify(Progress("scan", 0, 0, f"scanning {inputs.src}"))
    problems: list[tuple[str, str]] = []
    sources = scan(inputs.src, problems)
    state.keep_only({s.rel for s in sources})

    # -- analyse ----------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    with _opencv_threads(opts.workers):
        records = analyse.run(
            sources,
            inputs.analysers,
            opts,
            state,
            progress=lambda done, n, message: notify(Progress("analyse", done, n, message)),
            stopped=stopper("analysing"),
            pmap=lambda fn, items: bounded_map(fn, items, opts.workers),
        )
    timings["analyse"] = time.perf_counter() - t0

    # -- decide -----------------------------------------------------------------------------------------
    try:
        decisions = decide(
            opts,
            src=inputs.src,
            sources=sources,
            records=records,
            examples=inputs.examples,
            vocabulary=inputs.vocabulary,
            compounds=inputs.compounds,
            edits=edits,
        )
    except ValueError as exc:  # too few labelled classes: the user's to fix
        state.save()
        raise PrepError(str(exc)) from exc
    decisions.lint[:0] = [{"source": where, "warning": why} for where, why in problems]

    # -- write ------------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    decisions.jobs = write.plan(out, state, opts, decisions.jobs, edits)
    with _opencv_threads(opts.workers):
        written, failed = write.write_images(
            out,
            state,
            decisions.jobs,
            pmap=lambda fn, items: bounded_map(fn, items, opts.workers),
            progress=lambda done, n, message: notify(Progress("write", done, n, message)),
            stopped=stopper("writing"),
        )
    for index, reason in failed.items():  # changed on disk since the analysis
        decisions.status[index] = reason
    decisions.jobs = [job for job in decisions.jobs if job.index not in failed]
    timings["write"] = time.perf_counter() - t0
    notify(Progress("export", 0, 1, "writing captions, metadata and report"))
    written += write.write_exports(out, opts, sources, records, decisions.status, decisions.jobs)

    # -- summarise --------------------------------------------------------------------------------------
    summary, picture = summarise(
        opts,
        src=inputs.src,
        dst=inputs.dst,
        sources=sources,
        records=records,
        decisions=decisions,
        vocabulary=inputs.vocabulary,
    )
    written += out.write_text(export.SUMMARY_FILE, export.dump_json(summary.to_json()), key="text")
    if picture is not None:
        written += out.write_bytes(export.COOCCURRENCE_PNG, picture, key="png")
    written += write.remove_stale(out, write.produced(opts, decisions.jobs))
    state.save()
    timings["total"] = time.perf_counter() - started
    notify(Progress("done", len(sources), len(sources), f"{len(decisions.jobs)} kept, {written} files written"))
    return PrepResult(inputs.dst, summary, written, timings)
