"""The analyse stage: every source decoded once at analysis size, every analyser filling its fields.

**Extension point.** An analyser is an :class:`ImageAnalyser`: loaded once per run (``with``), then called
once per readable image with a :class:`Frame` (the picture at :data:`ANALYSIS_SIDE`, EXIF-upright sRGB,
with lazily computed numpy views) and the image's *record*, a ``dict`` of JSON values it fills in place.
Analysers run in list order, so a later one may read (and refine) what an earlier one wrote. The record
of each source is cached in ``OUTPUT/.smoothie/state.jsonl`` under a key made of the options and every
analyser's :meth:`ImageAnalyser.key`; change an analyser's ``version`` when its output changes, and
the next run analyses again.

Record keys (what the later stages read):

=============== ==================== ================================================================
key             written by           meaning
=============== ==================== ================================================================
ok, reason      the stage            readable or not, and why not (a skip reason)
size            the stage            ``[w, h]`` of the source after EXIF rotation
caption         the stage            the sidecar's text (``None`` when there is none)
caption_note    the stage            why a sidecar was ignored (binary, too large, unreadable)
sharpness       :class:`Quality`     variance of the Laplacian at analysis size
phash           :class:`Quality`     64-bit perceptual hash, 16 hex digits
colour          :class:`Quality`     whether the image has colour
energy          :class:`Quality`     gradient energy on columns and rows (crops)
colours         :class:`Colours`     ``[[name, share], …]`` dominant colour names
faces, eyes     face analyser        ``[[l, t, r, b], …]`` as fractions of the image (crops): MediaPipe's
                                     :class:`~smoothie.dataset.vision.FaceMeshPose` where it can run,
                                     else :class:`HaarFaces`
direction, yaw  face analyser        ``left|right|frontal|unknown`` and its score (> 0 faces left)
direction_source face analyser       ``face mesh|pose|drawn face`` (MediaPipe; the decide stage may set
                                     ``examples`` or ``label``)
shot            face analyser        ``close-up|upper body|cowboy shot|full body`` (Haar: ``close-up|
                                     medium shot|full shot``) or ``None``
person          FaceMeshPose         a face or a body was found
landmarks       FaceMeshPose         the face's measures (yaw, pitch, gaze, eye and mouth ratios)
imagenet        ImageFeatures        the three most probable ImageNet classes (EfficientNet-Lite0)
embedding       ImageFeatures        L2-normalised image embedding, int8 (near-duplicates, classes)
direction_features ImageFeatures     mirror-antisymmetric direction features (direction examples)
features        :class:`ClassFeatures` colour/gradient feature vector for class sorting (no EfficientNet)
models          model analysers      ``{analyser key: tags or sentence}`` merged into the caption
fields          any analyser         ``{schema field: value or [values]}``: caption schema fields
                                     (subject, pose, expression, eyes, mouth, gaze, camera_angle, shot,
                                     setting, facing) filled from the picture; the decide stage files
                                     them into the caption and report.json shows them
notes           the stage            analysers that failed on this image (the record is not cached)
=============== ==================== ================================================================

An analyser that raises on one image does not stop the run: the failure is noted in ``notes`` (shown in
``summary.json``'s lint) and the record is not cached, so the next run tries again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from smoothie.dataset.scan import SkipImage, SourceFile, open_image, read_caption

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from smoothie.dataset.options import PrepOptions
    from smoothie.dataset.state import State

logger = logging.getLogger(__name__)

ANALYSIS_SIDE = 512  # longest side of the image the analysers look at
ENERGY_BINS = 16


class Frame:
    """One image as the analysers see it: decoded once, shared by all of them (treat it as read-only)."""

    __slots__ = ("_gray", "_rgb", "image", "size", "source")

    def __init__(self, source: SourceFile, image: Image.Image, size: tuple[int, int]) -> None:
        self.source = source
        self.image = image  # RGB, longest side <= ANALYSIS_SIDE, EXIF orientation applied
        self.size = size  # the source's full size (w, h) after EXIF rotation
        self._rgb: np.ndarray | None = None
        self._gray: np.ndarray | None = None

    @property
    def rgb(self) -> np.ndarray:
        """``H×W×3`` uint8 view of :attr:`image`."""
        if self._rgb is None:
            import numpy as np

            self._rgb = np.asarray(self.image)
        return self._rgb

    @property
    def gray(self) -> np.ndarray:
        """``H×W`` uint8 luma (OpenCV's RGB→GRAY)."""
        if self._gray is None:
            import cv2

            self._gray = cv2.cvtColor(self.rgb, cv2.COLOR_RGB2GRAY)
        return self._gray


class ImageAnalyser:
    """Base of everything that looks at an image (see the module docstring for the contract).

    ``thread_safe``: ``analyse`` may run on several worker threads at once (pure numpy/OpenCV code);
    when False (a model with state, a host's interrogator) it runs on the pipeline's own thread, one image
    at a time. ``fields``: the record keys it writes (documentation, and the cache key).
    """

    name = "analyser"
    version = "1"
    thread_safe = True
    fields: tuple[str, ...] = ()

    def key(self) -> str:
        """Identifies this analyser's output in the analysis cache (name, version, options)."""
        return f"{self.name}/{self.version}"

    def __enter__(self) -> ImageAnalyser:
        self.load()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def load(self) -> None:
        """Load models (once per run); raise :class:`~smoothie.dataset.analyzers.AnalyzerError` to refuse."""

    def release(self) -> None:
        """Drop models (after the run)."""

    def analyse(self, frame: Frame, record: dict[str, Any]) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


# ------------------------------------------------------------------------------------------- built-ins


class Quality(ImageAnalyser):
    """Sharpness, perceptual hash, whether there is colour, gradient energy (blur filter, dedup, crops)."""

    name = "quality"
    fields = ("sharpness", "phash", "colour", "energy")

    def analyse(self, frame: Frame, record: dict[str, Any]) -> None:
        from smoothie.dataset import quality

        record["sharpness"] = round(quality.sharpness(frame.gray), 3)
        record["phash"] = f"{quality.phash(frame.rgb):016x}"
        record["colour"] = colourful(frame.rgb)
        cols, rows = energy(frame.gray)
        record["energy"] = [cols, rows]


class Colours(ImageAnalyser):
    """Dominant colours in plain words."""

    name = "colours"
    fields = ("colours",)

    def analyse(self, frame: Frame, record: dict[str, Any]) -> None:
        from smoothie.dataset import colours

        record["colours"] = [[n, s] for n, s in colours.dominant_colours(frame.rgb)]


class HaarFaces(ImageAnalyser):
    """Faces, eyes, facing direction and shot with OpenCV's Haar cascades (:mod:`smoothie.dataset.faces`)."""

    name = "faces-haar"
    fields = ("faces", "eyes", "direction", "yaw", "shot")

    def analyse(self, frame: Frame, record: dict[str, Any]) -> None:
        from smoothie.dataset import faces

        rgb = frame.rgb
        face = faces.analyse_faces(rgb)
        det_w = max(1, round(rgb.shape[1] * face.scale))
        det_h = max(1, round(rgb.shape[0] * face.scale))

        def boxes(found: Sequence[tuple[int, int, int, int]]) -> list[list[float]]:
            return [
                [round(x / det_w, 4), round(y / det_h, 4), round((x + w) / det_w, 4), round((y + h) / det_h, 4)]
                for x, y, w, h in found
            ]

        record["direction"] = face.direction
        record["yaw"] = round(face.yaw, 4)
        record["shot"] = face.shot
        record["faces"] = boxes(face.faces)
        record["eyes"] = boxes(face.eyes)


class ClassFeatures(ImageAnalyser):
    """The feature vector class sorting trains on (:mod:`smoothie.dataset.classify`)."""

    name = "class-features"
    fields = ("features",)

    def analyse(self, frame: Frame, record: dict[str, Any]) -> None:
        from smoothie.dataset import classify

        record["features"] = classify.encode(classify.features(frame.rgb))


def default_analysers(opts: PrepOptions) -> list[ImageAnalyser]:
    """The analysers a run uses for ``opts`` (before any the host adds, such as A1111's interrogators)."""
    from smoothie.dataset import vision
    from smoothie.dataset.analyzers import TransformersCaptioner, WD14Tagger

    models, _ = vision.analysers(opts)
    out: list[ImageAnalyser] = [Quality(), Colours()]
    if not any(isinstance(m, vision.FaceMeshPose) for m in models):
        out.append(HaarFaces())  # the fallback when MediaPipe cannot run here
    out.extend(models)
    if (opts.classes_dir is not None or opts.labels) and not any(isinstance(m, vision.ImageFeatures) for m in models):
        out.append(ClassFeatures())
    if opts.wd14:
        out.append(WD14Tagger(opts.wd14, opts.wd14_threshold))
    if opts.captioner:
        out.append(TransformersCaptioner(opts.captioner))
    return out


def colourful(rgb: np.ndarray) -> bool:
    """Whether an image has colour (mean channel spread above 4 levels on a sparse grid of pixels)."""
    import numpy as np

    sample = rgb[::4, ::4].astype(np.int16)
    spread = sample.max(axis=2) - sample.min(axis=2)
    return bool(float(spread.mean()) > 4.0)


def energy(gray: np.ndarray) -> tuple[list[float], list[float]]:
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


# ----------------------------------------------------------------------------------------------- records


class Rec:
    """What the decisions need of one analysis record; the full record stays as its compact JSON text."""

    __slots__ = ("colour", "direction", "direction_source", "ok", "phash", "raw", "reason", "sharpness", "size")

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
        self.direction_source: str | None = d.get("direction_source") or (
            "haar" if self.direction != "unknown" else None
        )
        self.colour = bool(d.get("colour", True))

    def data(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.raw)
        return out


def analyse_source(
    source: SourceFile, analysers: Sequence[ImageAnalyser], max_pixels: int
) -> tuple[dict[str, Any], Frame | None]:
    """The record of one file after the thread-safe analysers, and its frame (None when unreadable)."""
    from PIL import Image

    caption, caption_note = read_caption(source)
    record: dict[str, Any] = {"ok": True, "reason": None, "caption": caption}
    if caption_note:
        record["caption_note"] = caption_note
    try:
        image, (width, height) = open_image(source, max_pixels, draft=ANALYSIS_SIDE)
    except SkipImage as exc:
        record.update(ok=False, reason=str(exc), size=list(exc.size))
        return record, None
    if max(image.size) > ANALYSIS_SIDE:
        scale = ANALYSIS_SIDE / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BOX)
    record["size"] = [width, height]
    frame = Frame(source, image, (width, height))
    for analyser in analysers:
        if analyser.thread_safe:
            apply(analyser, frame, record)
    return record, frame


_warned: set[str] = set()
_warned_lock = threading.Lock()


def apply(analyser: ImageAnalyser, frame: Frame, record: dict[str, Any]) -> None:
    """Run one analyser on one image; a failure becomes a note on the record, never an abort."""
    try:
        analyser.analyse(frame, record)
    except Exception as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        record.setdefault("notes", []).append(f"{analyser.name} failed on this image: {text[:160]}")
        with _warned_lock:
            first = analyser.name not in _warned
            _warned.add(analyser.name)
        if first:
            logger.warning("analyser %s failed on %s", analyser.name, frame.source.rel, exc_info=True)


def cache_key(opts: PrepOptions, analysers: Sequence[ImageAnalyser]) -> str:
    return opts.analysis_key() + "+" + "+".join(a.key() for a in analysers)


def run(
    sources: Sequence[SourceFile],
    analysers: Sequence[ImageAnalyser],
    opts: PrepOptions,
    state: State,
    *,
    progress: Callable[[int, int, str], None],
    stopped: Callable[[int, int], None],
    pmap: Callable[..., Iterator[tuple[int, tuple[dict[str, Any], Frame | None]]]],
) -> list[Rec]:
    """The analyse stage: the record of every source, from the cache or computed (``pmap`` maps the worker
    over indices on the thread pool); saves the state as it goes. ``stopped(done, n)`` raises to stop."""
    from smoothie.dataset.analyzers import AnalyzerError
    from smoothie.dataset.safeio import PrepError
    from smoothie.dataset.state import compact

    n = len(sources)
    key = cache_key(opts, analysers)
    recs: list[Rec | None] = [None] * n
    todo: list[int] = []
    for i, s in enumerate(sources):
        cached = state.cached(s.rel, s.fingerprint, key)
        if cached is not None:
            recs[i] = Rec(cached)
        else:
            todo.append(i)
    done = n - len(todo)
    progress(done, n, f"{done} analysed earlier")
    if todo:
        with contextlib.ExitStack() as stack:
            loaded: list[ImageAnalyser] = []
            for analyser in analysers:
                try:
                    loaded.append(stack.enter_context(analyser))
                except AnalyzerError as exc:
                    raise PrepError(str(exc)) from exc
            parallel = [a for a in loaded if a.thread_safe]
            serial = [a for a in loaded if not a.thread_safe]
            for i, (record, frame) in pmap(lambda i: analyse_source(sources[i], parallel, opts.max_pixels), todo):
                if frame is not None:
                    for analyser in serial:
                        apply(analyser, frame, record)
                del frame
                raw = compact(record)
                recs[i] = Rec(raw)
                if not record.get("notes"):  # a failed analyser is tried again next run
                    state.put(sources[i].rel, sources[i].fingerprint, key, raw)
                done += 1
                progress(done, n, sources[i].rel)
                state.save(force=False)
                stopped(done, n)
    state.save()
    return [r for r in recs if r is not None]
