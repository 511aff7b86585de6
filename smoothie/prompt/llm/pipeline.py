"""What both LLM backends do with a chat model: ask, parse, judge, and smooth recursively.

A backend supplies a :class:`ChatModel` (an HTTP server or a local transformers model) that completes a
batch of conversations within a :class:`~smoothie.prompt.llm.deadline.Deadline`. :func:`run_paraphrase`:

1. **round 0** asks for ``request.n`` new descriptions, in calls of at most ``per_call`` lines (a small local
   model writes one good line more reliably than eight: it runs ``n`` one-line sequences as one batch; a
   server model writes all of them in one answer). Each call shows up to ``examples`` earlier rewrites
   (round 0: the validated paraphrases of the rules backend the backend passes in), a different few per call;
2. every answer is parsed defensively (:mod:`smoothie.prompt.llm.parse`: chatter, refusals, garbage, copies
   of the prompt or of an example, lines that add a story are dropped, counted per reason); no usable line
   at all in round 0 raises :class:`~smoothie.prompt.llm.errors.BackendUnavailable`;
3. every parsed line is judged by the engine's validator (``request.check``; counted per reason);
4. **recursive smoothing**: each of ``rounds`` more rounds asks again, showing as examples the accepted lines
   of the best round so far (the one with the most accepted lines), so later rounds write away from the
   first formulations; a round that fails or finds no time left ends smoothing (round 0 already succeeded).

The result lists the accepted lines first (latest round first), then the rest: the engine validates every
line again, counts its rejections and tops up with the rules backend.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from smoothie.prompt.llm.deadline import Deadline
from smoothie.prompt.llm.errors import BackendUnavailable
from smoothie.prompt.llm.http import Completion, snippet
from smoothie.prompt.llm.instructions import STRAWBERRY_CAT, Message, generation_messages
from smoothie.prompt.llm.parse import ParseResult, parse_candidates
from smoothie.prompt.request import ParaphraseRequest

log = logging.getLogger(__name__)

MIN_ROUND_SECONDS = 0.5


class ChatModel(Protocol):
    """Completes conversations; ``label`` names the model (and server) in messages."""

    label: str

    def complete(
        self,
        conversations: Sequence[list[Message]],
        deadline: Deadline,
        *,
        seed: int,
        max_tokens: int,
        one_line: bool = False,
    ) -> list[Completion]:
        """One completion per conversation, in order (an empty text for one that failed).

        ``one_line``: each conversation asks for a single line, so generation may stop at the first line
        break. Raises :class:`BackendUnavailable` when none could be had.
        """
        ...


@dataclass(frozen=True)
class PipelineSettings:
    rounds: int = 1
    per_call: int = 32
    max_tokens: int = 4096
    examples: int = 3
    show_original: bool = True


@dataclass
class Harvest:
    """What one request produced: the lines to return, and the tallies for benchmarks and logs."""

    lines: list[str] = field(default_factory=list)
    asked: int = 0
    parsed: int = 0
    accepted: int = 0
    dropped: Counter[str] = field(default_factory=Counter)  # parse: chatter, copy, added, protected, …
    rejected: Counter[str] = field(default_factory=Counter)  # the engine's validator: age, number, repeat, …
    rounds: list[int] = field(default_factory=list)  # accepted lines per round


def split_counts(n: int, per_call: int) -> list[int]:
    """``n`` lines in near-equal calls of at most ``per_call`` (35, 16 → [12, 12, 11])."""
    if n < 1 or per_call < 1:
        raise ValueError(f"n and per_call must be at least 1, got n={n!r}, per_call={per_call!r}")
    calls = math.ceil(n / per_call)
    base, extra = divmod(n, calls)
    return [base + (1 if i < extra else 0) for i in range(calls)]


def token_budget(text: str, lines: int, cap: int) -> int:
    """Tokens to allow for ``lines`` descriptions of ``text``: about twice its length each (4 characters a
    token), with room for a short prompt to grow; a model that rambles past it is cut off and its last line
    dropped."""
    per_line = len(text) // 2 + 16
    return max(24, min(cap, lines * per_line + (16 if lines > 1 else 0)))


def _dedupe(lines: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for line in lines:
        key = " ".join(line.lower().split())
        if key not in seen:
            seen.add(key)
            out.append(line)
    return out


def _pick(pool: Sequence[str], count: int, offset: int) -> list[str]:
    """``count`` examples of ``pool``, starting at a different place for each call (all of them if fewer)."""
    if count <= 0 or not pool:
        return []
    if len(pool) <= count:
        return list(pool)
    start = (offset * count) % len(pool)
    return [pool[(start + i) % len(pool)] for i in range(count)]


def run_paraphrase(
    model: ChatModel,
    request: ParaphraseRequest,
    settings: PipelineSettings,
    deadline: Deadline,
    seed_examples: Sequence[str] = (),
) -> Harvest:
    """Candidate protected paraphrases of ``request`` from ``model`` (see the module docstring)."""
    harvest = Harvest()
    counts = split_counts(request.n, settings.per_call)
    seen: list[str] = []  # every line parsed so far, in order
    accepted_rounds: list[list[str]] = []
    for round_no in range(settings.rounds + 1):
        if round_no:
            if deadline.remaining() < MIN_ROUND_SECONDS:
                log.warning(
                    "%s: smoothing stopped before round %d of %d: the %g s timeout is used up",
                    model.label,
                    round_no,
                    settings.rounds,
                    deadline.seconds,
                )
                break
            best = max(range(len(accepted_rounds)), key=lambda i: (len(accepted_rounds[i]), i))
            pool = accepted_rounds[best] or list(seed_examples)
        else:
            pool = list(seed_examples)
        shown = [_pick(pool, settings.examples, i) for i in range(len(counts))]
        conversations = [
            generation_messages(request, count, examples, show_original=settings.show_original)
            for count, examples in zip(counts, shown, strict=True)
        ]
        try:
            completions = model.complete(
                conversations,
                deadline,
                seed=request.seed + 7919 * round_no,
                max_tokens=token_budget(request.text, max(counts), settings.max_tokens),
                one_line=max(counts) == 1,
            )
        except BackendUnavailable as exc:
            if not round_no:
                raise
            log.warning("%s: smoothing round %d of %d skipped: %s", model.label, round_no, settings.rounds, exc)
            break
        harvest.asked += sum(counts)
        results: list[ParseResult] = []
        fresh: list[str] = []
        for completion, examples in zip(completions, shown, strict=False):
            result = parse_candidates(
                completion.text,
                request.text,
                request.placeholders,
                drop_last=completion.finish_reason == "length",
                exclude=[*examples, *seen, *fresh],
                # the examples' synonyms, the engine's other descriptions, and the user's own words (a name
                # the model copied stands for its description: the engine replaces it again)
                known=[*pool, *request.hints.keys(), *request.hints.values(), request.original],
                foreign=[STRAWBERRY_CAT],
                hints=request.hints,
            )
            results.append(result)
            harvest.dropped.update(result.dropped)
            fresh.extend(result.lines)
        fresh = _dedupe(fresh)
        if not round_no and not fresh:
            _raise_unusable(model, completions, results)
        accepted = []
        for line in fresh:
            reasons = request.reasons(line)
            if reasons:
                harvest.rejected.update(reasons)
            else:
                accepted.append(line)
        harvest.parsed += len(fresh)
        harvest.accepted += len(accepted)
        harvest.rounds.append(len(accepted))
        accepted_rounds.append(accepted)
        seen.extend(fresh)
        log.info(
            "%s: round %d: %d asked, %d parsed, %d accepted in %.1f s",
            model.label,
            round_no,
            sum(counts),
            len(fresh),
            len(accepted),
            deadline.elapsed(),
        )
    good = [line for round_lines in reversed(accepted_rounds) for line in round_lines]
    good_keys = set(good)
    harvest.lines = _dedupe(good + [line for line in seen if line not in good_keys])
    return harvest


def _raise_unusable(model: ChatModel, completions: Sequence[Completion], results: Sequence[ParseResult]) -> None:
    answer = next((c.text for c in completions if c.text.strip()), "")
    why = "; ".join(r.summary() for r in results)
    if any(r.refusal for r in results):
        raise BackendUnavailable(f"{model.label} refused to rewrite the prompt: {snippet(answer)!r}")
    if not answer:
        raise BackendUnavailable(f"{model.label} answered with empty text")
    raise BackendUnavailable(f"{model.label} answered no usable description ({why}): {snippet(answer)!r}")
