"""The LLM pipeline (smoothie.prompt.llm.pipeline): rounds, examples, judging, over a scripted chat model.

The chat model here answers from a script and records what it was asked, so each test states exactly which
examples a round showed and which lines came back; the backends' own tests run the same pipeline against a
real model (SmolLM2) and real HTTP servers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from smoothie.prompt.llm.deadline import Deadline
from smoothie.prompt.llm.errors import BackendUnavailable
from smoothie.prompt.llm.http import Completion
from smoothie.prompt.llm.instructions import Message
from smoothie.prompt.llm.pipeline import Harvest, PipelineSettings, run_paraphrase, split_counts, token_budget
from smoothie.prompt.llm.stats import Stats
from smoothie.prompt.request import ParaphraseRequest

TEXT = "a cat whose fur looks like a strawberry, [[0]], sitting on a red cushion"
SEEDS = [
    "Picture a cat whose fur looks like a strawberry, [[0]], perched on a red cushion",
    "A feline with strawberry-like fur, [[0]], seated on a red cushion",
    "Imagine a cat whose coat resembles a strawberry, [[0]], sitting on a red pillow",
    "A depiction of a strawberry-furred cat, [[0]], resting on a red cushion",
]


def reject_little(line: str) -> tuple[str, ...]:
    return ("age",) if "little" in line else ()


class Scripted:
    """A ChatModel: ``answer(round, index, examples)`` gives each conversation's text; every call is recorded."""

    label = "scripted model"

    def __init__(self, answer: Callable[[int, int, list[str]], str], fail_round: int | None = None) -> None:
        self.answer = answer
        self.fail_round = fail_round
        self.calls: list[dict[str, Any]] = []

    def complete(
        self,
        conversations: Sequence[list[Message]],
        deadline: Deadline,
        *,
        seed: int,
        max_tokens: int,
        one_line: bool = False,
    ) -> list[Completion]:
        round_no = len(self.calls)
        examples = [shown(conv) for conv in conversations]
        self.calls.append({"n": len(conversations), "examples": examples, "one_line": one_line, "seed": seed})
        if round_no == self.fail_round:
            raise BackendUnavailable("scripted failure")
        return [Completion(self.answer(round_no, i, ex), "stop") for i, ex in enumerate(examples)]


def shown(conversation: list[Message]) -> list[str]:
    match = re.search(r"Rewrites so far:\n(.*?)\n\n", conversation[-1]["content"], re.DOTALL)
    return match.group(1).splitlines() if match else []


def request(n: int = 4, check: Any = reject_little) -> ParaphraseRequest:
    return ParaphraseRequest(text=TEXT, n=n, seed=5, placeholders=("[[0]]",), check=check)


def run(model: Scripted, settings: PipelineSettings, req: ParaphraseRequest | None = None) -> Harvest:
    return run_paraphrase(model, req or request(), settings, Deadline(10), SEEDS)


def line(round_no: int, index: int, bad: bool = False) -> str:
    cat = "little cat" if bad else "cat"
    return f"Round {round_no} {cat} number {index} with strawberry fur, [[0]], on a red cushion"


def test_a_small_model_writes_one_line_per_sequence_and_sees_different_examples() -> None:
    model = Scripted(lambda r, i, ex: line(r, i))
    harvest = run(model, PipelineSettings(rounds=0, per_call=1, examples=2))
    (call,) = model.calls
    assert call["n"] == 4 and call["one_line"]
    assert call["examples"] == [SEEDS[0:2], SEEDS[2:4], SEEDS[0:2], SEEDS[2:4]]
    assert harvest.lines == [line(0, i) for i in range(4)]
    assert (harvest.asked, harvest.parsed, harvest.accepted, harvest.rounds) == (4, 4, 4, [4])


def test_a_large_model_writes_the_ensemble_in_one_answer() -> None:
    model = Scripted(lambda r, i, ex: "\n".join(line(r, k) for k in range(4)))
    harvest = run(model, PipelineSettings(rounds=0, per_call=32, examples=6))
    (call,) = model.calls
    assert call["n"] == 1 and not call["one_line"]
    assert call["examples"] == [SEEDS]
    assert len(harvest.lines) == 4


def test_rejected_lines_are_counted_per_reason_and_returned_last() -> None:
    model = Scripted(lambda r, i, ex: line(r, i, bool(i % 2)))
    harvest = run(model, PipelineSettings(rounds=0, per_call=1))
    assert harvest.rejected == {"age": 2}
    assert harvest.accepted == 2
    assert harvest.lines == [line(0, 0), line(0, 2), line(0, 1, True), line(0, 3, True)]


def test_copies_of_the_examples_or_the_prompt_are_not_model_paraphrases() -> None:
    model = Scripted(lambda r, i, ex: ex[0] if i == 0 else TEXT if i == 1 else line(r, i))
    harvest = run(model, PipelineSettings(rounds=0, per_call=1, examples=2))
    assert harvest.dropped["copy"] == 2
    assert harvest.lines == [line(0, 2), line(0, 3)]


def test_smoothing_rounds_show_the_best_rounds_accepted_lines() -> None:
    def answer(round_no: int, index: int, examples: list[str]) -> str:
        if round_no == 1:  # a bad round: everything rejected
            return line(1, index, True)
        return line(round_no, index)

    model = Scripted(answer)
    harvest = run(model, PipelineSettings(rounds=2, per_call=1, examples=2))
    assert len(model.calls) == 3
    round0 = [line(0, i) for i in range(4)]
    assert all(set(ex) <= set(round0) for ex in model.calls[1]["examples"])  # round 0 was the best
    assert all(set(ex) <= set(round0) for ex in model.calls[2]["examples"])  # still: round 1 accepted none
    assert harvest.rounds == [4, 0, 4]
    # latest accepted round first, then the others, then the rejected lines
    assert harvest.lines[:8] == [line(2, i) for i in range(4)] + round0
    assert harvest.lines[8:] == [line(1, i, True) for i in range(4)]
    assert len({call["seed"] for call in model.calls}) == 3


def test_without_a_validator_every_parsed_line_is_accepted() -> None:
    model = Scripted(lambda r, i, ex: line(r, i, True))
    harvest = run(model, PipelineSettings(rounds=0, per_call=1), request(check=None))
    assert harvest.accepted == 4 and not harvest.rejected


def test_a_validator_that_raises_rejects_as_error() -> None:
    def broken(line: str) -> tuple[str, ...]:
        raise RuntimeError("bug")

    harvest = run(Scripted(lambda r, i, ex: line(r, i)), PipelineSettings(rounds=0, per_call=1), request(check=broken))
    assert harvest.rejected == {"error": 4}


def test_a_failing_first_round_raises_and_a_failing_later_round_keeps_the_first() -> None:
    with pytest.raises(BackendUnavailable, match="scripted failure"):
        run(Scripted(lambda r, i, ex: line(r, i), fail_round=0), PipelineSettings(rounds=1, per_call=1))
    harvest = run(Scripted(lambda r, i, ex: line(r, i), fail_round=1), PipelineSettings(rounds=2, per_call=1))
    assert harvest.lines == [line(0, i) for i in range(4)]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("", "answered with empty text"),
        ("I'm sorry, but I cannot help with that.", "refused to rewrite"),
        ("%%%% 12 !!\nlorem ipsum dolor sit amet", "answered no usable description"),
    ],
)
def test_no_usable_line_in_the_first_round_raises(answer: str, message: str) -> None:
    with pytest.raises(BackendUnavailable, match=message):
        run(Scripted(lambda r, i, ex: answer), PipelineSettings(rounds=1, per_call=1))


def test_no_time_left_ends_smoothing() -> None:
    model = Scripted(lambda r, i, ex: line(r, i))
    harvest = run_paraphrase(model, request(), PipelineSettings(rounds=3, per_call=1), Deadline(0.3), SEEDS)
    assert len(model.calls) == 1 and len(harvest.lines) == 4


def test_stats_sum_the_harvests() -> None:
    stats = Stats()
    harvest = run(Scripted(lambda r, i, ex: line(r, i, bool(i))), PipelineSettings(rounds=0, per_call=1))
    stats.add(harvest, 1.5)
    stats.add(harvest, 0.5)
    snap = stats.snapshot()
    assert (snap["requests"], snap["asked"], snap["accepted"], snap["seconds"]) == (2, 8, 2, 2.0)
    assert snap["rejected"] == {"age": 6}
    stats.reset()
    assert stats.snapshot()["requests"] == 0


def test_split_counts_and_token_budget() -> None:
    assert split_counts(32, 8) == [8, 8, 8, 8]
    assert split_counts(35, 16) == [12, 12, 11]
    assert split_counts(3, 32) == [3]
    assert split_counts(4, 1) == [1, 1, 1, 1]
    assert sum(split_counts(1000, 7)) == 1000
    with pytest.raises(ValueError, match="n=0"):
        split_counts(0, 8)
    assert token_budget("x" * 90, 1, 100_000) == 45 + 16
    assert token_budget("x" * 90, 32, 100_000) == 32 * (45 + 16) + 16
    assert token_budget("x" * 90, 32, 512) == 512
