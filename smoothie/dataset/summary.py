"""The summarise stage: what a run did, as one typed :class:`Summary` (written as ``summary.json``).

``Summary.to_json()`` gives the documented ``summary.json`` shape; ``Summary.from_json()`` reads one back
(the tab's *Load report*) and raises ``ValueError`` naming what is wrong with a file that is not one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from smoothie.dataset import caption as cap
from smoothie.dataset import export
from smoothie.dataset.analyse import Rec
from smoothie.dataset.decide import Decisions, layout_note, reason_kind
from smoothie.dataset.options import SHARPNESS_AUTO, PrepOptions
from smoothie.dataset.scan import SourceFile, as_text


@dataclass(frozen=True)
class Counts:
    images: int
    kept: int
    skipped: int
    skipped_by_reason: dict[str, int]
    flipped: int
    directions: dict[str, int]
    classes: dict[str, int]


@dataclass(frozen=True)
class Training:
    """The recommended training length (see :func:`smoothie.dataset.export.recommend_training`)."""

    repeats: dict[str, int]
    epochs: int
    steps_per_epoch: int
    total_steps: int
    explanation: str


@dataclass(frozen=True)
class Note:
    """A warning about one source (ambiguous numbers, text left out of a caption, a sidecar ignored)."""

    source: str
    warning: str


@dataclass(frozen=True)
class Duplicates:
    kept: str
    dropped: list[str]


@dataclass(frozen=True)
class Scrubbed:
    source: str
    names: list[str]


@dataclass(frozen=True)
class Compound:
    phrase: str
    suggestion: str
    count: int


@dataclass(frozen=True)
class Together:
    """Two concepts that (almost) always appear together (see :mod:`smoothie.dataset.cooccur`)."""

    tags: list[str]
    together: int
    counts: list[int]
    message: str


@dataclass(frozen=True)
class CooccurrenceSummary:
    tags: list[str]  # the tags drawn in the picture (seen in at least `min_support` captions)
    counts: list[int]
    warnings: list[Together]
    picture: str | None  # cooccurrence.png, or None when nothing was kept
    min_support: int = 3
    threshold: float = 0.9


@dataclass(frozen=True)
class Summary:
    input_dir: str
    output_dir: str
    options: dict[str, Any]
    counts: Counts
    sharpness_threshold: float
    sharpness_threshold_source: str
    duplicates: list[Duplicates]
    class_confidence: dict[str, float]
    buckets: dict[str, int]
    training: Training
    lint: list[Note]
    names_scrubbed: list[Scrubbed]
    compound_suggestions: list[Compound]
    cooccurrence: CooccurrenceSummary
    layout: str
    # The offline vision models ("used" or why not) and what the direction classifier did (or None).
    analysis: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # keys of a newer summary.json, kept as read

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(data.pop("extra"))
        return data

    @classmethod
    def from_json(cls, data: Any) -> Summary:
        """A summary read back from ``summary.json``; ``ValueError`` naming the problem if it is not one."""
        if not isinstance(data, Mapping):
            raise ValueError(f"not a summary: expected a JSON object, got {type(data).__name__}")
        try:
            c = data["cooccurrence"]
            known = {f for f in cls.__dataclass_fields__ if f != "extra"}
            return cls(
                input_dir=str(data["input_dir"]),
                output_dir=str(data["output_dir"]),
                options=dict(data.get("options") or {}),
                counts=Counts(**data["counts"]),
                sharpness_threshold=float(data["sharpness_threshold"]),
                sharpness_threshold_source=str(data.get("sharpness_threshold_source", "")),
                duplicates=[Duplicates(**d) for d in data.get("duplicates", [])],
                class_confidence=dict(data.get("class_confidence") or {}),
                buckets=dict(data.get("buckets") or {}),
                training=Training(**data["training"]),
                lint=[Note(**n) for n in data.get("lint", [])],
                names_scrubbed=[Scrubbed(**n) for n in data.get("names_scrubbed", [])],
                compound_suggestions=[Compound(**s) for s in data.get("compound_suggestions", [])],
                cooccurrence=CooccurrenceSummary(
                    tags=list(c["tags"]),
                    counts=list(c["counts"]),
                    warnings=[Together(**w) for w in c.get("warnings", [])],
                    picture=c.get("picture"),
                    min_support=int(c.get("min_support", 3)),
                    threshold=float(c.get("threshold", 0.9)),
                ),
                layout=str(data.get("layout", "")),
                analysis=dict(data.get("analysis") or {}),
                extra={k: v for k, v in data.items() if k not in known},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            raise ValueError(f"not a summary of this version: {what}") from None


def concepts(caption: str, colours: str, trigger: str) -> list[str]:
    """The concepts of a caption for the co-occurrence report: its tags, the colour phrase as one."""
    present = bool(colours) and colours in caption
    if present:
        caption = caption.replace(colours, "")
    tags = [t for t in cap.split_tags(caption) if t != trigger]
    return tags + ([colours] if present else [])


def summarise(
    opts: PrepOptions,
    *,
    src: Path,
    dst: Path,
    sources: Sequence[SourceFile],
    records: Sequence[Rec],
    decisions: Decisions,
    vocabulary: cap.Vocabulary,
) -> tuple[Summary, bytes | None]:
    """The summary of a run, and the co-occurrence picture (None when nothing was kept)."""
    from smoothie.dataset import cooccur

    jobs = decisions.jobs
    status = decisions.status
    n = len(sources)
    kept = {job.index for job in jobs}

    class Concepts:  # re-iterable: the co-occurrence report reads the captions twice
        def __iter__(self) -> Iterator[list[str]]:
            return (concepts(job.caption, job.colours, opts.trigger) for job in jobs)

    co = cooccur.cooccurrence(Concepts())
    picture = cooccur.plot(co) if jobs else None
    captions = (_without(job.caption, job.colours) for job in jobs)  # colour phrases are never compounds
    summary = Summary(
        input_dir=as_text(str(src)),
        output_dir=as_text(str(dst)),
        options={k: v for k, v in opts.as_json().items() if k not in ("input_dir", "output_dir")},
        counts=Counts(
            images=n,
            kept=len(jobs),
            skipped=n - len(jobs),
            skipped_by_reason=dict(sorted(Counter(reason_kind(status[i]) for i in range(n) if i not in kept).items())),
            flipped=sum(1 for job in jobs if job.flipped),
            directions=dict(sorted(Counter(r.direction for r in records).items())),
            classes=dict(sorted(Counter(decisions.classes[job.index] for job in jobs).items())),
        ),
        sharpness_threshold=decisions.threshold,
        sharpness_threshold_source="auto" if opts.min_sharpness == SHARPNESS_AUTO else "option",
        duplicates=[Duplicates(**d) for d in decisions.duplicates],
        class_confidence={sources[i].rel: round(c, 3) for i, c in sorted(decisions.confidence.items()) if i in kept},
        buckets=dict(sorted(Counter(f"{job.target[0]}x{job.target[1]}" for job in jobs).items())),
        training=Training(**decisions.training),
        lint=[Note(**n) for n in decisions.lint],
        names_scrubbed=[Scrubbed(**s) for s in decisions.scrubbed],
        compound_suggestions=[Compound(**s) for s in cap.suggest_compounds(captions, vocabulary=vocabulary)],
        cooccurrence=CooccurrenceSummary(
            tags=list(co.tags),
            counts=list(co.counts),
            warnings=[Together(**w) for w in co.warnings],  # type: ignore[arg-type]
            picture=export.COOCCURRENCE_PNG if jobs else None,
            min_support=co.min_support,
            threshold=co.threshold,
        ),
        layout=layout_note(opts.export_format),
        analysis=_analysis(opts, decisions, records, kept),
    )
    return summary, picture


def _analysis(opts: PrepOptions, decisions: Decisions, records: Sequence[Rec], kept: set[int]) -> dict[str, Any]:
    """Which vision models ran (or why not), where the kept images' directions came from, and what the
    direction classifier did."""
    from smoothie.dataset import vision

    models = {name: reason or "used" for name, reason in vision.status(opts.vision).items()}
    sources = Counter(records[i].direction_source or "none" for i in kept)
    return {
        "models": models,
        "direction_sources": dict(sorted(sources.items())),
        "direction_classifier": decisions.orientation or None,
    }


def _without(caption: str, colours: str) -> str:
    return caption.replace(colours, "") if colours else caption
