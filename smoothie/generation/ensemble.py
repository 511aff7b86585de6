"""What the prompt ensemble means for each image, and the conditioning that stands for it.

Three modes (:class:`~smoothie.params.EnsembleMode`):

* ``average`` — every image is conditioned on the weighted mean of the N paraphrases' encodings, one
  conditioning per AND part (the UNet cost does not grow with N; see :mod:`smoothie.guidance.conditioning`);
* ``composable`` — every paraphrase becomes an AND part of weight w/N (Liu et al. 2022's conjunction, exact,
  N× the UNet cost);
* ``per-image`` — image k of the run uses paraphrase ``(first + k) mod N`` alone. The index is recorded per
  image (``Smoothie paraphrase``), and ``first`` is that field read back, so pasting image k's parameters
  reproduces image k with a batch of one.

The host supplies two small things: its prompt syntax (:class:`PromptSyntax`: AND parts with weights, and
prompt-editing schedules ``[a:b:n]``) and its text encoder (:class:`Encoder`). Everything else — which texts,
which weights, padding, averaging, Flux's ``guidance`` entry — is decided here and tested in CI with a fake
encoder. Nothing here modifies an encoding it was given: hosts cache conditionings across runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from smoothie.guidance import average_schedules
from smoothie.guidance.conditioning import CROSSATTN
from smoothie.params import EnsembleMode

if TYPE_CHECKING:
    from smoothie.prompt import Rewrite

#: Encode at most this many distinct texts in one text-encoder batch (bounds memory for large ensembles).
ENCODE_BATCH = 64
#: Entries of a dict conditioning that are settings, not text features: copied from the members (which must
#: agree), never averaged. Flux's distilled-CFG ``guidance`` is one value per prompt.
COPIED_KEYS = frozenset({"guidance"})


class EnsembleError(ValueError):
    """The ensemble cannot be built for this prompt; the message says why (the host then generates without it)."""


class PromptSyntax(Protocol):
    """The host's reading of prompt syntax (A1111's ``prompt_parser``; the same on Forge and reForge)."""

    def split_and(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """Per text, its ``AND`` parts as (text, weight)."""
        ...

    def schedules(self, texts: Sequence[str], steps: int, hires_steps: int | None) -> list[list[tuple[int, str]]]:
        """Per text, its prompt-editing schedule: (end step, text to encode up to that step)."""
        ...


class Encoder(Protocol):
    """The host's text encoder for the current model and image size."""

    def encode(self, texts: Sequence[str]) -> Any:
        """A batch of conditionings: ``[N, T, C]`` or a dict of ``[N, ...]`` tensors (SDXL, Flux)."""
        ...

    def empty(self) -> Any:
        """The empty prompt's cross-attention encoding (``[T, C]`` or ``[1, T, C]``): the padding chunk."""
        ...


Paraphraser = Callable[[str], "Rewrite"]


@dataclass(frozen=True)
class EnsemblePlan:
    """The ensemble of one run: its mode and size, and the paraphrases of each prompt (computed once, on demand).

    ``paraphraser`` is deterministic (the prompt engine with a fixed seed), so the plan's meaning is fixed when it
    is built; paraphrases are memoised because the host only reveals the exact prompt texts (after its own
    extra-network and style processing) when it asks for their conditioning.
    """

    mode: EnsembleMode
    size: int
    paraphraser: Paraphraser = field(compare=False, repr=False)
    first: int = 0
    _rewrites: dict[str, Rewrite] = field(default_factory=dict, compare=False, repr=False)

    def rewrite(self, prompt: str) -> Rewrite:
        found = self._rewrites.get(prompt)
        if found is None:
            found = self.paraphraser(prompt)
            if not found.paraphrases:
                raise EnsembleError(f"the prompt engine gave no paraphrases for {prompt!r}")
            self._rewrites[prompt] = found
        return found

    def paraphrases(self, prompt: str) -> tuple[str, ...]:
        return tuple(self.rewrite(prompt).paraphrases)

    def index(self, prompt: str, image: int) -> int:
        """Per-image mode: the paraphrase image ``image`` (0-based over the whole run) uses."""
        return (self.first + image) % len(self.paraphrases(prompt))

    def members(self, prompt: str, image: int) -> tuple[tuple[str, float], ...]:
        """The texts that condition image ``image`` for ``prompt``, with their weights (summing to 1).

        A paraphrase that occurs k times (a prompt with few distinct paraphrases is repeated to the ensemble's
        size) is one member of weight k/N: the same mean, and a prompt whose every paraphrase is itself is
        conditioned exactly as without the ensemble (no rounding from summing N equal terms)."""
        paras = self.paraphrases(prompt)
        if self.mode is EnsembleMode.PER_IMAGE:
            return ((paras[self.index(prompt, image)], 1.0),)
        counts = Counter(paras)
        return tuple((text, count / len(paras)) for text, count in counts.items())


@dataclass(frozen=True)
class WeightedPart:
    """One AND part of one image's conditioning: its weight and schedule of (end step, conditioning)."""

    weight: float
    schedule: tuple[tuple[int, Any], ...]


@dataclass(frozen=True)
class EnsembleConditioning:
    """The answer for one batch: per batch position its parts, which paraphrase each image used, texts encoded."""

    positions: tuple[tuple[WeightedPart, ...], ...]
    used: Mapping[int, int]
    encoded: int


def split_batch(batch: Any, n: int) -> list[Any]:
    """Per-text conditionings from the encoder's batch (``[N, ...]`` tensor or dict of them); checks the size."""
    if isinstance(batch, Mapping):
        sizes = {k: int(v.shape[0]) for k, v in batch.items()}
        if set(sizes.values()) != {n}:
            raise EnsembleError(f"the text encoder returned batch sizes {sizes} for {n} texts")
        return [{k: v[i] for k, v in batch.items()} for i in range(n)]
    if int(batch.shape[0]) != n:
        raise EnsembleError(f"the text encoder returned {int(batch.shape[0])} conditionings for {n} texts")
    return [batch[i] for i in range(n)]


def encode_texts(encoder: Encoder, texts: Sequence[str], batch: int = ENCODE_BATCH) -> dict[str, Any]:
    """Encode the distinct ``texts`` in batches of at most ``batch``; returns text → conditioning."""
    unique = list(dict.fromkeys(texts))
    out: dict[str, Any] = {}
    for start in range(0, len(unique), batch):
        chunk = unique[start : start + batch]
        for text, cond in zip(chunk, split_batch(encoder.encode(chunk), len(chunk)), strict=True):
            out[text] = cond
    return out


def _crossattn(cond: Any) -> Any:
    return cond[CROSSATTN] if isinstance(cond, Mapping) else cond


def _needs_pad(conds: Sequence[Any]) -> bool:
    return len({int(_crossattn(c).shape[0]) for c in conds}) > 1


def mean_schedules(
    schedules: Sequence[Sequence[tuple[int, Any]]], weights: Sequence[float], pad: Any
) -> list[tuple[int, Any]]:
    """Average prompt-editing schedules (:func:`smoothie.guidance.average_schedules`), keeping copied keys.

    Entries in :data:`COPIED_KEYS` (Flux's ``guidance``) are taken from the members unchanged; members that
    disagree on one raise :class:`EnsembleError`.
    """
    first = schedules[0][0][1]
    if not isinstance(first, Mapping) or not COPIED_KEYS & set(first):
        return average_schedules(schedules, weights, pad=pad)
    import torch

    copied = {k: first[k] for k in first if k in COPIED_KEYS}
    for sched in schedules:
        for _, cond in sched:
            for key, value in copied.items():
                if not torch.equal(cond[key], value):
                    raise EnsembleError(f"paraphrases disagree on the conditioning's {key!r} entry")
    stripped = [
        [(end, {k: v for k, v in c.items() if k not in COPIED_KEYS}) for end, c in sched] for sched in schedules
    ]
    averaged = average_schedules(stripped, weights, pad=pad)
    order = list(first)
    return [(end, {k: (copied[k] if k in copied else cond[k]) for k in order}) for end, cond in averaged]


def ensemble_conditioning(
    plan: EnsemblePlan,
    prompts: Sequence[str],
    *,
    first_image: int,
    syntax: PromptSyntax,
    encoder: Encoder,
    steps: int,
    hires_steps: int | None = None,
    encode_batch: int = ENCODE_BATCH,
) -> EnsembleConditioning:
    """The positive conditioning of one batch: ``prompts[i]`` is image ``first_image + i`` of the run.

    Composable mode (and any single-member ensemble) keeps every member's AND parts as parts of weight
    member weight × part weight; average mode averages the members part by part, so all members must split
    into the same AND parts with the same weights (the prompt engine keeps that structure; a backend that
    broke it raises :class:`EnsembleError`). Encodings of different token lengths are padded with the empty
    prompt's encoding, asked of the encoder only when needed (a host pads each encoder batch itself; texts
    encoded in different batches of at most ``encode_batch`` can differ).
    """
    if not prompts:
        raise EnsembleError("no prompts to condition")
    per_position = [plan.members(prompt, first_image + i) for i, prompt in enumerate(prompts)]
    used: dict[int, int] = {}
    if plan.mode is EnsembleMode.PER_IMAGE:
        used = {first_image + i: plan.index(prompt, first_image + i) for i, prompt in enumerate(prompts)}
    flat = [text for members in per_position for text, _ in members]
    parts_of = syntax.split_and(flat)
    if len(parts_of) != len(flat):
        raise EnsembleError(f"the prompt syntax split {len(flat)} texts into {len(parts_of)}")
    part_texts = [text for parts in parts_of for text, _ in parts]
    part_schedules = syntax.schedules(part_texts, steps, hires_steps)
    encoded = encode_texts(encoder, [text for sched in part_schedules for _, text in sched], encode_batch)
    averaging = plan.mode is EnsembleMode.AVERAGE and any(len(m) > 1 for m in per_position)
    pad = encoder.empty() if averaging and _needs_pad(list(encoded.values())) else None
    scheduled = [tuple((int(end), encoded[text]) for end, text in sched) for sched in part_schedules]

    positions: list[tuple[WeightedPart, ...]] = []
    cursor = 0  # index into part_texts / scheduled
    text_cursor = 0  # index into flat / parts_of
    for members in per_position:
        member_parts: list[list[tuple[int, float]]] = []  # per member: (index into scheduled, part weight)
        for _ in members:
            parts = parts_of[text_cursor]
            text_cursor += 1
            member_parts.append([(cursor + k, float(w)) for k, (_, w) in enumerate(parts)])
            cursor += len(parts)
        if plan.mode is EnsembleMode.COMPOSABLE or len(members) == 1:
            positions.append(
                tuple(
                    WeightedPart(m_weight * p_weight, scheduled[idx])
                    for (_, m_weight), parts in zip(members, member_parts, strict=True)
                    for idx, p_weight in parts
                )
            )
            continue
        shapes = {tuple(round(w, 6) for _, w in parts) for parts in member_parts}
        if len(shapes) != 1:
            raise EnsembleError(f"paraphrases split into different AND parts/weights ({sorted(shapes)[:3]})")
        weights = [w for _, w in members]
        averaged = []
        for k, (_, p_weight) in enumerate(member_parts[0]):
            sched = mean_schedules([scheduled[parts[k][0]] for parts in member_parts], weights, pad)
            averaged.append(WeightedPart(p_weight, tuple(sched)))
        positions.append(tuple(averaged))
    return EnsembleConditioning(tuple(positions), used, len(encoded))
