"""What both LLM backends do with a chat model: ask for an ensemble, parse it, smooth it for ``rounds`` rounds.

A backend supplies a :class:`ChatModel` (an HTTP server or a local transformers model) that completes a
batch of conversations within a :class:`~smoothie.prompt.llm.deadline.Deadline`. :func:`run_paraphrase`:

1. asks for ``request.n`` descriptions, split into calls of at most ``per_call`` lines (a small local model
   writes 8 good lines more reliably than 32, and a batch of 4×8 runs in parallel on a GPU);
2. parses every answer defensively (:mod:`smoothie.prompt.llm.parse`); no usable line at all (garbage,
   refusal, empty) raises :class:`~smoothie.prompt.llm.errors.BackendUnavailable`;
3. recursive smoothing: for each of ``rounds`` rounds, feeds the ensemble back in groups and asks for each
   line to be rewritten less formulaically, with the same parsing; a group whose answer parses to fewer than
   half its lines keeps its previous lines, short answers are filled up from the previous lines, and a round
   that fails or finds no time left ends smoothing with the ensemble as it stands (the first answer already
   succeeded, so nothing is lost but polish).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from smoothie.prompt.llm.deadline import Deadline
from smoothie.prompt.llm.errors import BackendUnavailable
from smoothie.prompt.llm.http import Completion, snippet
from smoothie.prompt.llm.instructions import Message, generation_messages, smoothing_messages
from smoothie.prompt.llm.parse import ParseResult, parse_candidates
from smoothie.prompt.request import ParaphraseRequest

log = logging.getLogger(__name__)

MIN_ROUND_SECONDS = 0.5


class ChatModel(Protocol):
    """Completes conversations; ``label`` names the model (and server) in messages."""

    label: str

    def complete(
        self, conversations: Sequence[list[Message]], deadline: Deadline, *, seed: int, max_tokens: int
    ) -> list[Completion]:
        """One completion per conversation, in order (an empty text for one that failed).

        Raises :class:`BackendUnavailable` when none could be had.
        """
        ...


@dataclass(frozen=True)
class PipelineSettings:
    rounds: int = 1
    per_call: int = 32
    max_tokens: int = 4096
    few_shot: bool = True
    show_original: bool = True


def split_counts(n: int, per_call: int) -> list[int]:
    """``n`` lines in near-equal calls of at most ``per_call`` (35, 16 → [12, 12, 11])."""
    if n < 1 or per_call < 1:
        raise ValueError(f"n and per_call must be at least 1, got n={n!r}, per_call={per_call!r}")
    calls = math.ceil(n / per_call)
    base, extra = divmod(n, calls)
    return [base + (1 if i < extra else 0) for i in range(calls)]


def token_budget(text: str, lines: int, cap: int) -> int:
    """Tokens to allow for ``lines`` descriptions of ``text`` (about 4 characters a token, with room to vary)."""
    per_line = len(text) // 3 + 24
    return max(32, min(cap, lines * per_line + 64))


def _parse(completion: Completion, request: ParaphraseRequest) -> ParseResult:
    return parse_candidates(
        completion.text, request.text, request.placeholders, drop_last=completion.finish_reason == "length"
    )


def _dedupe(lines: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for line in lines:
        key = " ".join(line.lower().split())
        if key not in seen:
            seen.add(key)
            out.append(line)
    return out


def run_paraphrase(
    model: ChatModel, request: ParaphraseRequest, settings: PipelineSettings, deadline: Deadline
) -> list[str]:
    """Candidate protected paraphrases of ``request`` from ``model`` (may be fewer than ``request.n``)."""
    counts = split_counts(request.n, settings.per_call)
    conversations = [
        generation_messages(request, c, few_shot=settings.few_shot, show_original=settings.show_original)
        for c in counts
    ]
    completions = model.complete(
        conversations,
        deadline,
        seed=request.seed,
        max_tokens=token_budget(request.text, max(counts), settings.max_tokens),
    )
    lines: list[str] = []
    results = [_parse(c, request) for c in completions]
    for result in results:
        lines.extend(result.lines)
    lines = _dedupe(lines)
    if not lines:
        answer = next((c.text for c in completions if c.text.strip()), "")
        why = "; ".join(r.summary() for r in results)
        if any(r.refusal for r in results):
            raise BackendUnavailable(f"{model.label} refused to rewrite the prompt: {snippet(answer)!r}")
        if not answer:
            raise BackendUnavailable(f"{model.label} answered with empty text")
        raise BackendUnavailable(f"{model.label} answered no usable description ({why}): {snippet(answer)!r}")
    log.info("%s: %d candidates from %d call(s) in %.1f s", model.label, len(lines), len(counts), deadline.elapsed())

    for round_no in range(1, settings.rounds + 1):
        if deadline.remaining() < MIN_ROUND_SECONDS:
            log.warning(
                "%s: smoothing stopped before round %d of %d: the %g s timeout is used up",
                model.label,
                round_no,
                settings.rounds,
                deadline.seconds,
            )
            break
        groups = [lines[i : i + settings.per_call] for i in range(0, len(lines), settings.per_call)]
        try:
            smoothed = model.complete(
                [smoothing_messages(request, g) for g in groups],
                deadline,
                seed=request.seed + round_no,
                max_tokens=token_budget(request.text, max(len(g) for g in groups), settings.max_tokens),
            )
        except BackendUnavailable as exc:
            log.warning("%s: smoothing round %d of %d skipped: %s", model.label, round_no, settings.rounds, exc)
            break
        merged: list[str] = []
        replaced = 0
        for group, completion in zip(groups, smoothed, strict=False):
            result = _parse(completion, request)
            if len(result.lines) * 2 >= len(group):
                new = result.lines[: len(group)]
                replaced += len(new)
                merged.extend(new + group[len(new) :])
            else:
                merged.extend(group)
        lines = _dedupe(merged)
        log.info("%s: smoothing round %d rewrote %d of %d lines", model.label, round_no, replaced, len(lines))
    return lines
