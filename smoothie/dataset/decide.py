"""The decide stage: folder-wide decisions over the analysis records, and one write job per kept image.

In order: the blur threshold (automatic from the folder, or given), near-duplicates (the sharpest, then
largest copy kept), class sorting (example folders or labels), the direction classifier (direction
examples: :func:`smoothie.dataset.vision.orient_by_examples`), the training length, output names, and for
each kept image its flip, crop and caption. Nothing of the inputs is decoded here: it works on the records
alone (example folders, which are not inputs, are read for their features).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smoothie.dataset import caption as cap
from smoothie.dataset import export
from smoothie.dataset.analyse import ANALYSIS_SIDE, Rec
from smoothie.dataset.options import SHARPNESS_AUTO, ExportFormat, FaceDirection, PrepOptions
from smoothie.dataset.scan import SkipImage, SourceFile, open_image
from smoothie.dataset.write import WriteJob

logger = logging.getLogger(__name__)

# Caption schema fields as report.json names them (the template's placeholders), plus the facing phrase.
REPORT_FIELDS = (*(f.replace(" ", "_") for f in cap.FIELDS), "facing")
_FACING = {"left": "facing left", "right": "facing right", "frontal": "facing the viewer"}


@dataclass
class Decisions:
    """What the decide stage settled for the folder (read by the write and summarise stages)."""

    status: list[str | None]  # per source: None when kept, else the skip reason
    threshold: float
    threshold_source: str  # auto | option
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    classes: dict[int, str] = field(default_factory=dict)  # kept index -> class folder name
    confidence: dict[int, float] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    jobs: list[WriteJob] = field(default_factory=list)
    lint: list[dict[str, Any]] = field(default_factory=list)
    scrubbed: list[dict[str, Any]] = field(default_factory=list)
    orientation: dict[str, Any] = field(default_factory=dict)  # what the direction classifier did


def decide(
    opts: PrepOptions,
    *,
    src: Path,
    sources: Sequence[SourceFile],
    records: Sequence[Rec],
    examples: dict[str, list[Path]] | None,
    vocabulary: cap.Vocabulary,
    compounds: cap.Compounds,
    edits: dict[str, str],
) -> Decisions:
    status: list[str | None] = [None if r.ok else str(r.reason) for r in records]
    usable = [i for i, r in enumerate(records) if r.ok]
    threshold, source = filter_blurry(opts, records, usable, status)
    duplicates = filter_duplicates(opts, sources, records, usable, status) if opts.dedup else []
    kept = [i for i in usable if status[i] is None]
    concept = export.safe_name(opts.concept or src.name or "concept", "concept", max_bytes=export.FOLDER_BYTES)
    classes: dict[int, str] = dict.fromkeys(kept, concept)
    confidence: dict[int, float] = {}
    if examples is not None or opts.labels:
        classes, confidence = sort_into_classes(
            kept=kept, sources=sources, records=records, examples=examples, opts=opts, default=concept
        )
    orientation: dict[str, Any] = {}
    if opts.direction_examples is not None or opts.direction_labels:
        from dataclasses import asdict

        from smoothie.dataset.vision import orient_by_examples

        orientation = asdict(orient_by_examples(opts, sources, records, kept))
    training = export.recommend_training(Counter(classes[i] for i in kept), opts.repeats, opts.epochs)
    decisions = Decisions(status, threshold, source, duplicates, classes, confidence, training)
    decisions.orientation = orientation
    plan_jobs(opts, decisions, kept, sources, records, vocabulary, compounds, edits)
    return decisions


def filter_blurry(
    opts: PrepOptions, records: Sequence[Rec], usable: list[int], status: list[str | None]
) -> tuple[float, str]:
    from smoothie.dataset import quality

    if opts.min_sharpness == SHARPNESS_AUTO:
        threshold = quality.auto_threshold([records[i].sharpness for i in usable])
        how, source = "the automatic threshold", "auto"
    else:
        threshold = float(opts.min_sharpness)
        how, source = "--min-sharpness", "option"
    for i in usable:
        sharp = records[i].sharpness
        if threshold > 0 and sharp < threshold:
            status[i] = f"blurry: sharpness {sharp:.1f} is below {how} {threshold:.1f}"
    return threshold, source


def filter_duplicates(
    opts: PrepOptions,
    sources: Sequence[SourceFile],
    records: Sequence[Rec],
    usable: list[int],
    status: list[str | None],
) -> list[dict[str, Any]]:
    from smoothie.dataset import quality

    duplicates: list[dict[str, Any]] = []
    candidates = [i for i in usable if status[i] is None]
    groups = quality.duplicate_groups([records[i].phash for i in candidates], opts.dedup_distance)
    vectors = None
    if opts.dedup_similarity > 0:
        from smoothie.dataset import vision

        vectors = vision.embeddings_of(records, candidates)
        if vectors is not None and len(candidates) > 1:
            hashes = [records[i].phash for i in candidates]
            similar = vision.similar_groups(vectors, opts.dedup_similarity, hashes)
            groups = _union(groups + similar, len(candidates))
    for group in groups:
        members = [candidates[g] for g in group]
        best = max(members, key=lambda i: keeper_rank(records[i], sources[i], i))
        at = {candidates[g]: g for g in group}
        for i in members:
            if i != best:
                d = quality.hamming(records[i].phash, records[best].phash)
                how = f"perceptual-hash distance {d}"
                if d > opts.dedup_distance and vectors is not None:
                    how = f"image-feature similarity {float(vectors[at[i]] @ vectors[at[best]]):.3f}"
                status[i] = (
                    f"near-duplicate: the same picture as {sources[best].rel} ({how}), "
                    "which was kept as the sharper/larger copy"
                )
        duplicates.append({"kept": sources[best].rel, "dropped": [sources[i].rel for i in members if i != best]})
    return duplicates


def _union(groups: list[list[int]], n: int) -> list[list[int]]:
    """Overlapping groups of ``range(n)`` merged (connected components), each sorted."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for group in groups:
        for other in group[1:]:
            a, b = find(group[0]), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    merged: dict[int, list[int]] = {}
    for group in groups:
        for i in group:
            merged.setdefault(find(i), [])
    for i in range(n):
        root = find(i)
        if root in merged:
            merged[root].append(i)
    return [sorted(set(g)) for g in merged.values() if len(set(g)) > 1]


def keeper_rank(record: Rec, source: SourceFile, index: int) -> tuple[int, int, bool, int, int]:
    """Which copy of a near-duplicate group to keep: the sharpest (scores within 10 % count as equal),
    then the most pixels, then colour over grey, then the larger file, then the first path."""
    sharp = round(math.log(max(record.sharpness, 1e-6)) / math.log(1.1))
    return (sharp, record.size[0] * record.size[1], record.colour, source.size, -index)


def plan_jobs(
    opts: PrepOptions,
    decisions: Decisions,
    kept: list[int],
    sources: Sequence[SourceFile],
    records: Sequence[Rec],
    vocabulary: cap.Vocabulary,
    compounds: cap.Compounds,
    edits: dict[str, str],
) -> None:
    """Flip, crop, caption and output path of every kept image (fills ``decisions.jobs``, lint, scrubbed)."""
    names = export.output_names([sources[i].rel for i in kept])
    flip_from = {FaceDirection.LEFT: "right", FaceDirection.RIGHT: "left"}.get(opts.face_direction)
    keep_words = tuple(w for w in (opts.trigger, *opts.keep_names) if w)
    repeats = decisions.training["repeats"]
    for i in kept:
        rec = records[i]
        data = rec.data()
        data["direction"] = rec.direction  # as decided (the direction classifier may have set it)
        flipped = flip_from is not None and rec.direction == flip_from
        box, target = crop(opts, data)
        made = caption(opts, vocabulary=vocabulary, compounds=compounds, record=data, flipped=flipped, keep=keep_words)
        rel = sources[i].rel
        if made.names:
            decisions.scrubbed.append({"source": rel, "names": list(made.names)})
        notes = list(made.notes)
        if data.get("caption_note"):
            notes.insert(0, str(data["caption_note"]))
        notes.extend(str(n) for n in data.get("notes") or ())
        text = edits.get(rel, made.text)
        decisions.lint.extend({"source": rel, "warning": w} for w in notes)
        decisions.lint.extend({"source": rel, "warning": w} for w in cap.lint_numbers(text))
        cls = decisions.classes[i]
        folder = export.folder_for(opts.export_format, cls, repeats.get(cls, 1))
        output = f"{folder}/{names[rel]}.{opts.image_format.value}"
        decisions.jobs.append(
            WriteJob(
                sources[i],
                output,
                rec.size,
                box,
                target,
                flipped,
                opts.image_format,
                opts.max_pixels,
                i,
                text,
                made.colours,
                made.fields,
            )
        )


def crop(opts: PrepOptions, record: dict[str, Any]) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
    from smoothie.dataset.crop import crop_box

    width, height = record["size"]
    regions = [tuple(f) for f in record.get("faces", [])] + [tuple(e) for e in record.get("eyes", [])]
    cols, rows = record.get("energy") or ([], [])
    box, target = crop_box(opts.crop, width, height, opts.size, regions=regions, energy_cols=cols, energy_rows=rows)
    return box, target


@dataclass(frozen=True)
class Caption:
    text: str
    colours: str  # the colour phrase in it ("" when none)
    names: tuple[str, ...]  # names scrubbed from it
    notes: tuple[str, ...]  # for the report's lint: text left out, and why
    fields: tuple[tuple[str, str], ...]  # report.json's "fields", as captioned (after any flip)


def caption(
    opts: PrepOptions,
    *,
    vocabulary: cap.Vocabulary,
    compounds: cap.Compounds,
    record: dict[str, Any],
    flipped: bool,
    keep: Sequence[str],
) -> Caption:
    """The caption of one image from its sidecar, the model analysers' text and the analysed fields.

    Sidecar and model text come first (tags the vocabulary knows are filed under their field); the fields
    analysers filled (``record["fields"]``) then fill what is still empty, then the subject option, the shot
    and the facing direction. Text that cannot be scrubbed of names is left out (with a note), never a reason
    to stop the run: the image keeps a caption made of the rest."""
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
        if origin != "caption" and _is_sentence(text):
            parts.add_sentence(vocabulary, text)  # a captioner's sentence: its schema terms fill the fields
        else:
            parts.add(vocabulary, text)
    parts.set_default("subject", opts.subject)  # the user's subject before what the models guessed
    analysed = record.get("fields") or {}
    for fname in cap.FIELDS:
        value = analysed.get(fname.replace(" ", "_"))
        if parts.fields[fname] or not value:
            continue  # what the sidecar or a model said comes first
        for item in [value] if isinstance(value, str) else list(value):
            if str(item).strip() and str(item) not in parts.fields[fname]:
                parts.fields[fname].append(str(item).strip())
    if record.get("shot") and not parts.fields["shot"]:
        parts.add(vocabulary, str(record["shot"]))  # Haar's "medium shot" is the vocabulary's "upper body"
    facing = None if record.get("thing") else _FACING.get(record.get("direction", ""))
    if facing and not any("facing" in p or "profile" in p for p in parts.fields["pose"]):
        parts.fields["pose"].append(facing)
    colours = describe([(str(c[0]), float(c[1])) for c in record.get("colours", [])])
    text = cap.render(opts.template, parts.values(opts.trigger, colours))
    text = compounds.apply(text)
    values = parts.values()
    fields = [(f, values.get(f, "")) for f in REPORT_FIELDS if f != "facing"] + [("facing", facing or "")]
    if flipped:
        text = cap.swap_left_right(text)
        fields = [(f, cap.swap_left_right(v)) for f, v in fields]
    return Caption(" ".join(text.split()), colours, tuple(names), tuple(notes), tuple(fields))


def _is_sentence(text: str) -> bool:
    """Prose rather than tags: one comma-separated part of five or more words."""
    parts = cap.split_tags(text)
    return len(parts) == 1 and len(parts[0].split()) >= 5


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


def check_scrub() -> None:
    """Check before the run that the prompt engine is there (its models load at the first caption)."""
    try:
        import smoothie.prompt  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(f"--scrub-names needs the prompt engine (smoothie.prompt): {exc}") from None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def sort_into_classes(
    *,
    kept: list[int],
    sources: Sequence[SourceFile],
    records: Sequence[Rec],
    examples: dict[str, list[Path]] | None,
    opts: PrepOptions,
    default: str,
) -> tuple[dict[int, str], dict[int, float]]:
    import numpy as np

    from smoothie.dataset import classify

    # EfficientNet-Lite0 embeddings where the analysis made them, else the colour/gradient statistics.
    use_embeddings = bool(kept) and all(records[i].data().get("embedding") for i in kept)
    features_of = _embedding_of if use_embeddings else _statistics_of
    training: dict[str, list[np.ndarray]] = {}
    for name, paths in (examples or {}).items():
        for path in paths:
            try:
                image, _ = open_image(path, opts.max_pixels, draft=ANALYSIS_SIDE)
            except SkipImage as exc:
                logger.warning("class example %s skipped: %s", path, exc)
                continue
            training.setdefault(class_name(name), []).append(_image_features(image, use_embeddings))
    by_rel = {s.rel: i for i, s in enumerate(sources)}
    for rel, label in opts.labels.items():
        i = by_rel.get(rel)
        features = features_of(records[i].data()) if i is not None else None
        if features is not None:
            training.setdefault(class_name(label), []).append(features)
    if len(training) < 2:
        raise ValueError(f"classes: need labelled examples of at least two classes, got {sorted(training)}")
    model = classify.train(training)
    rows = [features_of(records[i].data()) for i in kept]
    vectors = np.stack([r for r in rows if r is not None]) if kept else np.zeros((0, 1))
    names, probs = model.predict(vectors) if kept else ([], [])
    classes = dict(zip(kept, names, strict=True))
    confidence = dict(zip(kept, probs, strict=True))
    for rel, label in opts.labels.items():  # a labelled image goes where its label says
        i = by_rel.get(rel)
        if i in classes:
            classes[i] = class_name(label)
            confidence[i] = 1.0
    if not classes:
        return dict.fromkeys(kept, default), {}
    return classes, confidence


def _embedding_of(data: dict[str, Any]) -> Any:
    from smoothie.dataset.vision import decode_embedding

    text = data.get("embedding")
    return decode_embedding(text) if text else None


def _statistics_of(data: dict[str, Any]) -> Any:
    from smoothie.dataset import classify

    text = data.get("features")
    return classify.decode(text) if text else None


def _image_features(image: Any, embeddings: bool) -> Any:
    """The class-sorting features of an example image: its embedding, or colour/gradient statistics."""
    import numpy as np
    from PIL import Image

    from smoothie.dataset import classify

    if max(image.size) > ANALYSIS_SIDE:
        scale = ANALYSIS_SIDE / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BOX)
    rgb = np.asarray(image)
    if embeddings:
        from smoothie.dataset import effnet

        return effnet.load().features(rgb).embedding
    return classify.features(rgb)


def class_name(name: str) -> str:
    return export.safe_name(name, "class", max_bytes=export.FOLDER_BYTES)


def reason_kind(reason: str | None) -> str:
    text = (reason or "unknown").split(":", 1)[0].split("(", 1)[0].strip()
    return text or "unknown"


def layout_note(fmt: ExportFormat) -> str:
    if fmt is ExportFormat.KOHYA:
        return (
            "kohya sd-scripts: --train_data_dir OUTPUT/img (captions in .txt beside each image), or "
            "--in_json OUTPUT/meta_lat.json with --train_data_dir OUTPUT/img"
        )
    return "metadata.jsonl: Hugging Face imagefolder (file_name, text) or sd-scripts JSONL (image_path, caption)"
