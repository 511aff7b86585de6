"""The offline vision models as analysers of the analyse stage, and the folder-wide steps that use them.

Analysers (:mod:`smoothie.dataset.analyse` runs them on every image):

* :class:`FaceMeshPose` — MediaPipe face mesh and pose (:mod:`smoothie.dataset.landmarks`): faces and eyes
  for the crops, the facing direction, and the caption fields shot, camera angle, gaze, eyes, mouth,
  expression, pose. It replaces OpenCV's Haar cascades when MediaPipe can run here.
* :class:`ImageFeatures` — EfficientNet-Lite0 (:mod:`smoothie.dataset.effnet`): a subject noun for pictures
  without a person and a setting for scenes (:mod:`smoothie.dataset.nouns`), and, when the run needs them,
  the embedding (near-duplicates, class sorting) and the direction features (examples).

Folder-wide steps (the decide stage calls them): :func:`similar_groups` (near-duplicates by embedding),
:func:`orient_by_examples` (the direction classifier of :mod:`smoothie.dataset.direction`, trained on the
examples and applied to every image without a confident face).

Both models are optional: :func:`status` says which can run and why not, and the pipeline falls back to
the Haar cascades and colour statistics, as before.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smoothie.dataset.analyse import Frame, ImageAnalyser

if TYPE_CHECKING:
    import numpy as np

    from smoothie.dataset.analyse import Rec
    from smoothie.dataset.options import PrepOptions
    from smoothie.dataset.scan import SourceFile

logger = logging.getLogger(__name__)

DIRECTION_SOURCES = ("face mesh", "pose", "drawn face", "haar", "examples", "label")


def status(vision: bool = True) -> dict[str, str | None]:
    """``{"mediapipe": None | why not, "efficientnet": None | why not}`` (None: it runs here)."""
    if not vision:
        off = "turned off (--no-vision)"
        return {"mediapipe": off, "efficientnet": off}
    from smoothie.dataset import effnet, landmarks

    return {"mediapipe": landmarks.available(), "efficientnet": effnet.available()}


def _box(box: Sequence[float]) -> list[float]:
    return [round(float(v), 4) for v in box]


class FaceMeshPose(ImageAnalyser):
    """Face mesh and pose: crops' regions, facing, and the caption fields a face and a body tell."""

    name = "mediapipe"
    version = "1"
    fields = ("faces", "eyes", "direction", "direction_source", "yaw", "shot", "person", "fields", "landmarks")

    def load(self) -> None:
        from smoothie.dataset import landmarks
        from smoothie.dataset.analyzers import AnalyzerError

        reason = landmarks.available()
        if reason is not None:
            raise AnalyzerError(reason)

    def release(self) -> None:
        from smoothie.dataset import landmarks

        landmarks.release()  # the worker threads' graphs: a WebUI runs the pipeline many times

    def analyse(self, frame: Frame, record: dict[str, Any]) -> None:
        from smoothie.dataset import landmarks

        r = landmarks.analyse(frame.rgb)
        record["faces"] = [_box(b) for b in r.faces]
        record["eyes"] = [_box(b) for b in r.eyes]
        record["direction"] = r.facing
        record["yaw"] = round(-r.yaw, 2)  # the record's sign: > 0 faces left (degrees here)
        record["direction_source"] = (
            None if r.facing == "unknown" else "face mesh" if r.confident else "drawn face" if r.drawn else "pose"
        )
        record["shot"] = r.fields.get("shot")
        record["person"] = r.person
        # "body": only BlazePose saw a person, "head": a face was found only in the crop around the head it
        # found — BlazePose also fires on some things (a motorbike), so these are checked against ImageNet
        record["person_from"] = ("head" if r.face_in_crop else "face" if r.faces else "body") if r.person else None
        record["landmarks"] = r.measures
        fields = record.setdefault("fields", {})
        for name, value in r.fields.items():
            fields[name.replace(" ", "_")] = value
        if r.person and not r.drawn:
            fields.setdefault("subject", "person")


class ImageFeatures(ImageAnalyser):
    """EfficientNet-Lite0: subject noun and setting; embedding and direction features when asked for."""

    name = "efficientnet-lite0"
    version = "1"
    fields = ("imagenet", "fields", "embedding", "direction_features")

    def __init__(self, embeddings: bool = False, directions: bool = False, workers: int = 1) -> None:
        self.embeddings = embeddings
        self.directions = directions
        self.workers = workers
        self.embedder: Any = None
        self._threads: int | None = None

    def key(self) -> str:
        return f"{self.name}/{self.version}/e{int(self.embeddings)}d{int(self.directions)}"

    def load(self) -> None:
        from smoothie.dataset import effnet
        from smoothie.dataset.analyzers import AnalyzerError

        try:
            self.embedder = effnet.load()
        except effnet.UnavailableError as exc:
            raise AnalyzerError(str(exc)) from None
        import torch

        # One torch thread: the pipeline's workers, MediaPipe's and OpenCV's threads already share the cores,
        # and torch's OpenMP threads spin while they wait (measured: 2 torch threads beside MediaPipe on one
        # worker cost 5x the CPU time of 1).
        self._threads = torch.get_num_threads()
        torch.set_num_threads(1)

    def release(self) -> None:
        if self._threads is not None:
            import torch

            torch.set_num_threads(self._threads)
            self._threads = None
        self.embedder = None

    def analyse(self, frame: Frame, record: dict[str, Any]) -> None:
        from smoothie.dataset import direction, nouns

        features = self.embedder.features(frame.rgb, direction=self.directions)
        probs = features.probabilities
        record["imagenet"] = [[label, p] for label, p in nouns.top_labels(probs, 3)]
        guess = nouns.subject_noun(probs)
        if record.get("person_from") == "body" and guess is not None and guess.share >= BODY_DOUBT and not guess.worn:
            _not_a_person(record)  # no face, and the picture is confidently a thing: the pose was a false find
        fields = record.setdefault("fields", {})
        person = bool(record.get("person")) or (not record.get("landmarks") and bool(record.get("faces")))
        if not person and guess is not None:
            fields.setdefault("subject", guess.noun)
            record["thing"] = not guess.animal  # a cup or a rocket does not "face" a way in a caption
        place = nouns.setting(probs)
        if place is not None:
            fields.setdefault("setting", place)
        if self.embeddings:
            record["embedding"] = encode_embedding(features.embedding)
        if self.directions and features.direction is not None:
            record["direction_features"] = direction.encode(features.direction)


BODY_DOUBT = 0.5  # a thing this probable, and no face: BlazePose's "person" is not believed


def _not_a_person(record: dict[str, Any]) -> None:
    """Undo what a false find of the pose wrote: every field, the direction."""
    record["fields"] = {}
    record["person"] = False
    record["person_from"] = None
    record["shot"] = None
    record["faces"], record["eyes"], record["landmarks"] = [], [], {}
    record["direction"], record["direction_source"], record["yaw"] = "unknown", None, 0.0


def analysers(opts: PrepOptions) -> tuple[list[ImageAnalyser], dict[str, str | None]]:
    """The vision analysers for ``opts`` that can run here, and :func:`status` (why the others cannot)."""
    from smoothie.dataset.safeio import PrepError

    state = status(opts.vision)
    out: list[ImageAnalyser] = []
    if state["mediapipe"] is None:
        out.append(FaceMeshPose())
    wants_directions = opts.direction_examples is not None or bool(opts.direction_labels)
    if state["efficientnet"] is None:
        embeddings = (opts.dedup and opts.dedup_similarity > 0) or opts.classes_dir is not None or bool(opts.labels)
        out.append(ImageFeatures(embeddings=embeddings, directions=wants_directions, workers=opts.workers))
    elif wants_directions:
        raise PrepError(f"direction examples need the image features, which cannot run: {state['efficientnet']}")
    return out, state


# ------------------------------------------------------------------------------------------ embeddings


def encode_embedding(vec: np.ndarray) -> str:
    """An L2-normalised embedding as int8 (a scale byte-exact in float32 first), base64: 1,280 dims in 1.7 kB."""
    import numpy as np

    v = np.asarray(vec, dtype=np.float32)
    scale = float(np.abs(v).max()) or 1.0
    q = np.clip(np.round(v / scale * 127), -127, 127).astype(np.int8)
    return base64.b64encode(np.float32(scale).tobytes() + q.tobytes()).decode("ascii")


def decode_embedding(text: str) -> np.ndarray:
    import numpy as np

    raw = base64.b64decode(text)
    scale = float(np.frombuffer(raw[:4], dtype=np.float32)[0])
    v = np.frombuffer(raw[4:], dtype=np.int8).astype(np.float32) * (scale / 127)
    out: np.ndarray = v / (float(np.linalg.norm(v)) or 1.0)
    return out


def embeddings_of(records: Sequence[Rec], indices: Sequence[int]) -> np.ndarray | None:
    """The embeddings of ``records[i]`` as rows (None if any of them has none)."""
    import numpy as np

    rows = []
    for i in indices:
        text = records[i].data().get("embedding")
        if not text:
            return None
        rows.append(decode_embedding(text))
    return np.stack(rows) if rows else np.zeros((0, 1), dtype=np.float32)


MIRROR_BITS = 24  # perceptual hashes further apart than this are not the same picture (a mirror image is ~32)


def similar_groups(
    vectors: np.ndarray, threshold: float, hashes: Sequence[int] | None = None, max_bits: int = MIRROR_BITS
) -> list[list[int]]:
    """Groups (connected components, each sorted, of two or more) of rows whose cosine similarity with
    another member is at least ``threshold``. Blocks of rows at a time, so memory stays small.

    The embedding hardly changes when a picture is mirrored (ImageNet networks are trained on mirrored
    copies), so with ``hashes`` (64-bit pHashes) a pair is only joined when its hashes differ in at most
    ``max_bits`` bits: crops, shifts, re-exposures and re-encodings of one photo stay within about 20 bits,
    its mirror image is about 32 bits away (a mirrored copy faces the other way: not a duplicate)."""
    import numpy as np

    from smoothie.dataset.quality import hamming

    n = len(vectors)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    block = 512
    for start in range(0, n, block):
        sims = vectors[start : start + block] @ vectors.T
        rows, cols = np.nonzero(sims >= threshold)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            i, j = start + r, c
            if i < j and (hashes is None or hamming(hashes[i], hashes[j]) <= max_bits):
                a, b = find(i), find(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return [g for g in groups.values() if len(g) > 1]


# ------------------------------------------------------------------------------------------- direction


@dataclass
class Orientation:
    """What the direction classifier did in a run (for summary.json)."""

    examples: dict[str, int] = field(default_factory=dict)  # label -> examples (folder and labels)
    classified: int = 0  # images without a confident face that it gave a direction
    directions: dict[str, int] = field(default_factory=dict)
    skipped_examples: list[str] = field(default_factory=list)


def example_vectors(paths: Mapping[str, Sequence[Path]], max_pixels: int) -> tuple[dict[str, list[Any]], list[str]]:
    """Direction features of example images (decoded as the analyse stage does); the unreadable ones named."""
    import numpy as np
    from PIL import Image

    from smoothie.dataset import effnet
    from smoothie.dataset.analyse import ANALYSIS_SIDE
    from smoothie.dataset.scan import SkipImage, open_image

    embedder = effnet.load()
    out: dict[str, list[Any]] = {}
    skipped: list[str] = []
    for label, files in paths.items():
        for path in files:
            try:
                image, _ = open_image(path, max_pixels, draft=ANALYSIS_SIDE)
            except SkipImage as exc:
                skipped.append(f"{path}: {exc}")
                continue
            if max(image.size) > ANALYSIS_SIDE:
                scale = ANALYSIS_SIDE / max(image.size)
                size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
                image = image.resize(size, Image.Resampling.BOX)
            vec = embedder.features(np.asarray(image), direction=True).direction
            out.setdefault(label, []).append(vec)
    return out, skipped


def orient_by_examples(
    opts: PrepOptions, sources: Sequence[SourceFile], records: Sequence[Rec], kept: Sequence[int]
) -> Orientation:
    """Train the direction classifier on the examples (``opts.direction_examples`` folder and
    ``opts.direction_labels``) and give a direction to every kept image without a confident face (its
    ``Rec.direction`` and ``direction_source`` change); labelled images take their label."""
    from smoothie.dataset import direction

    result = Orientation()
    examples: dict[str, list[Any]] = {"left": [], "right": []}
    if opts.direction_examples is not None:
        found, result.skipped_examples = example_vectors(
            direction.example_folders(opts.direction_examples), opts.max_pixels
        )
        for label, vecs in found.items():
            examples[label].extend(vecs)
    by_rel = {s.rel: i for i, s in enumerate(sources)}
    labelled: dict[int, str] = {}
    for rel, label in opts.direction_labels.items():
        i = by_rel.get(rel)
        if i is None or not records[i].ok:
            continue
        text = records[i].data().get("direction_features")
        if text:
            examples[label].append(direction.decode(text))
            labelled[i] = label
    result.examples = {label: len(v) for label, v in examples.items()}
    todo: list[int] = []
    vectors = []
    for i in kept:
        if i in labelled:
            continue
        data = records[i].data()
        source = data.get("direction_source")
        confident = source == "face mesh" or (source is None and data.get("direction") not in (None, "unknown"))
        text = data.get("direction_features")
        if not confident and text:
            todo.append(i)
            vectors.append(direction.decode(text))
    import numpy as np

    pool = np.stack(vectors) if vectors else np.zeros((0, 1), dtype=np.float32)
    model = direction.train(examples, pool)
    for i, (label, _confidence) in zip(todo, model.predict(pool), strict=True) if todo else ():
        records[i].direction = label
        records[i].direction_source = "examples"
    for i, label in labelled.items():
        records[i].direction = label
        records[i].direction_source = "label"
    result.classified = len(todo)
    for i in todo:
        result.directions[records[i].direction] = result.directions.get(records[i].direction, 0) + 1
    return result
