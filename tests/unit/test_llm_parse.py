"""Defensive parsing of LLM answers, the instruction set, the cache and the deadline (no model, no server)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smoothie.prompt.backends import ParaphraseRequest
from smoothie.prompt.llm import instructions
from smoothie.prompt.llm.cache import MemoryLRU, ResultCache, cache_key
from smoothie.prompt.llm.deadline import Deadline
from smoothie.prompt.llm.parse import (
    clean_line,
    normalise_placeholders,
    parse_candidates,
    split_answer,
    strip_reasoning,
)
from smoothie.prompt.llm.pipeline import split_counts, token_budget

SOURCE = "a cat whose fur looks like a strawberry, [[0]], sitting on a red cushion, 12 candles"
PH = ("[[0]]",)
LINES = [
    "Picture a cat with strawberry fur, [[0]], on a red cushion beside 12 candles",
    "A feline whose coat copies a strawberry rests on a red cushion, [[0]], 12 candles glowing",
    "Twelve? No: 12 candles light a red cushion where a strawberry-patterned cat sits, [[0]]",
]


def parse(answer: str, **kw: object) -> list[str]:
    return parse_candidates(answer, SOURCE, PH, **kw).lines  # type: ignore[arg-type]


# -- shapes of answers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt",
    [
        "{}",
        "{i}. {}",
        "{i}) {}",
        "({i}) {}",
        "- {}",
        "* {}",
        "• {}",
        '"{}"',
        "“{}”",
        "{i}. **{}**",
        '- "{}"',
        "Description {i}: {}",
        "#{i} {}",
    ],
)
def test_list_formats_parse_to_the_same_lines(fmt: str) -> None:
    answer = "\n".join(fmt.format(line, i=i) for i, line in enumerate(LINES, 1))
    assert parse(answer) == LINES


def test_chatter_before_and_after_is_dropped() -> None:
    answer = (
        "Sure! Here are 3 varied descriptions of the image:\n\n"
        + "\n".join(LINES)
        + "\n\nI hope these help! Let me know if you want more."
    )
    result = parse_candidates(answer, SOURCE, PH)
    assert result.lines == LINES
    assert result.dropped["chatter"] == 2


def test_code_fences_and_json_arrays() -> None:
    assert parse("```\n" + "\n".join(LINES) + "\n```") == LINES
    assert parse("```json\n" + json.dumps(LINES) + "\n```") == LINES
    assert parse(json.dumps({"descriptions": LINES})) == LINES
    assert parse(json.dumps([{"text": line} for line in LINES])) == LINES


def test_reasoning_blocks_are_removed() -> None:
    assert parse("<think>The user wants a cat on a red cushion with 12 candles…</think>\n" + "\n".join(LINES)) == LINES
    assert parse("\n".join(LINES) + "\n<think>unfinished reasoning about a cat") == LINES
    assert strip_reasoning("thinking aloud</think>answer") == "answer"


def test_inline_numbered_list_on_one_line_is_split() -> None:
    answer = " ".join(f"{i}. {line}" for i, line in enumerate(LINES, 1))
    assert parse(answer) == LINES


def test_a_number_inside_a_description_is_not_a_list_marker() -> None:
    source = "a 1.5 metre tall robot on 2 legs, blue"
    assert parse_candidates("1.5 metre tall blue robot standing on 2 legs", source).lines == [
        "1.5 metre tall blue robot standing on 2 legs"
    ]
    assert split_answer("a robot 2 metres tall. 3 lamps") == ["a robot 2 metres tall. 3 lamps"]


def test_refusal_alone_is_reported_as_a_refusal() -> None:
    result = parse_candidates("I'm sorry, but I can't help with that request.", SOURCE, PH)
    assert result.lines == []
    assert result.refusal


def test_refusal_lines_among_good_lines_are_dropped() -> None:
    result = parse_candidates("\n".join([LINES[0], "As an AI, I cannot name artists.", LINES[1]]), SOURCE, PH)
    assert result.lines == LINES[:2]
    assert not result.refusal


def test_lines_that_drop_a_number_or_colour_are_dropped() -> None:
    result = parse_candidates(
        "\n".join(
            [
                "Picture a cat with strawberry fur, [[0]], on a blue cushion beside 12 candles",
                "Picture a cat with strawberry fur, [[0]], on a red cushion beside some candles",
                LINES[0],
            ]
        ),
        SOURCE,
        PH,
    )
    assert result.lines == [LINES[0]]
    assert result.dropped["protected"] == 2


def test_unrelated_short_and_overlong_lines_are_dropped() -> None:
    result = parse_candidates(
        "\n".join(["lorem ipsum dolor red 12", "cat, [[0]]", "cat " * 400 + "red 12", LINES[0]]), SOURCE, PH
    )
    assert result.lines == [LINES[0]]
    assert result.dropped == {"unrelated": 1, "short": 1, "long": 1}


def test_garbled_lines_are_dropped() -> None:
    result = parse_candidates(
        "\n".join([LINES[0] + " \ufffd", "a cat\x05 on a red cushion, 12 candles", LINES[1]]), SOURCE, PH
    )
    assert result.lines == [LINES[1]]
    assert result.dropped["garbled"] == 2


def test_cut_off_answer_loses_its_last_line() -> None:
    assert parse("\n".join(LINES), drop_last=True) == LINES[:2]


def test_duplicates_are_dropped_case_insensitively() -> None:
    assert parse("\n".join([LINES[0], LINES[0].upper().replace("[[0]]", "[[0]]"), LINES[1]])) == LINES[:2]


def test_placeholders_are_normalised() -> None:
    allowed = ("[[0]]", "[[1]]")
    assert (
        normalise_placeholders("a cat [[ 0 ]] on [[1]] with [[1]] and [[7]]", allowed)
        == "a cat [[0]] on [[1]] with and"
    )
    assert normalise_placeholders("red cat , [[9]], sitting", allowed) == "red cat, sitting"


def test_clean_line_strips_markers_quotes_and_trailing_commas() -> None:
    assert clean_line('  3. "A red cat, [[0]],"  ') == "A red cat, [[0]]"
    assert clean_line("- **bold start** then text") == "bold start then text"


# -- properties ----------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_never_crashes_on_arbitrary_text(answer: str) -> None:
    result = parse_candidates(answer, SOURCE, PH)
    for line in result.lines:
        assert line == line.strip()
        assert "\n" not in line
        assert line.count("[[0]]") <= 1


_WORDS = ["cat", "strawberry", "cushion", "fur", "sitting", "resting", "feline", "coat", "seeds", "soft", "light"]
_line = st.lists(st.sampled_from(_WORDS), min_size=3, max_size=12).map(
    lambda ws: " ".join(ws) + ", [[0]], red cushion, 12 candles"
)
_markers = st.sampled_from(["{}", "{i}. {}", "{i}) {}", "- {}", "* {}", '"{}"', "{i}. **{}**", "• {}"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_line, min_size=1, max_size=12, unique=True), _markers, st.booleans())
def test_marked_lists_round_trip(lines: list[str], marker: str, preamble: bool) -> None:
    answer = "\n".join(marker.format(line, i=i) for i, line in enumerate(lines, 1))
    if preamble:
        answer = f"Here are {len(lines)} descriptions:\n\n{answer}\n\nHope this helps!"
    assert parse(answer) == lines


# -- instructions ----------------------------------------------------------------------------------------


def test_generation_messages_carry_the_rules_the_example_and_the_request() -> None:
    request = ParaphraseRequest(
        text="[[0]], a woman laughing in a field [[1]] a dog, 70 bottle caps, left",
        n=32,
        placeholders=("[[0]]", "[[1]]"),
        separators=("[[1]]",),
        original="(smile:1.2), Sarah laughing in a field AND a dog, 70 bottle caps, left",
    )
    messages = instructions.generation_messages(request, 32)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    system = messages[0]["content"]
    for needle in (
        "Write 32 new descriptions",
        "framing",
        "vocabulary",
        "sentence shape",
        "Never write the name of a person, artist",
        "brand",
        "artwork",
        "number, colour and direction",
        "exactly once",
        "[[1]] splits the prompt into two parts: keep it between them",
        "one per line, no numbering",
    ):
        assert needle in system
    user = messages[-1]["content"]
    assert request.text in user
    assert "Words to keep exactly: 70, left" in user
    assert "Tokens to copy once into every description: [[0]], [[1]]" in user
    assert "Sarah" in user  # the original as context, flagged as such
    assert "never write them" in user
    example_lines = messages[2]["content"].splitlines()
    assert len(example_lines) == 4
    assert all(line.count("[[0]]") == 1 and "red" in line for line in example_lines)


def test_the_engines_hints_offer_alternatives() -> None:
    request = ParaphraseRequest(
        text="a rugged blond man drinking coffee in a diner",
        n=8,
        hints={"a rugged blond man": "a square-jawed blond man\na tousled blond gentleman", "absent phrase": "x"},
    )
    user = instructions.generation_messages(request, 8)[-1]["content"]
    assert "- a rugged blond man: a square-jawed blond man / a tousled blond gentleman" in user
    assert "absent phrase" not in user


def test_tags_style_has_its_own_rule_and_example() -> None:
    request = ParaphraseRequest(text="[[0]], 1girl, solo, long hair", n=8, placeholders=("[[0]]",), style="tags")
    messages = instructions.generation_messages(request, 8, show_original=False, few_shot=True)
    assert "comma-separated list of tags" in messages[0]["content"]
    assert "1girl" in messages[2]["content"]
    assert "original prompt" not in messages[-1]["content"]


def test_smoothing_messages_list_every_line() -> None:
    request = ParaphraseRequest(text=SOURCE, n=3, placeholders=PH)
    messages = instructions.smoothing_messages(request, LINES)
    assert "less formulaic" in messages[0]["content"]
    assert "exactly as many lines as you were given" in messages[0]["content"]
    assert all(line in messages[1]["content"] for line in LINES)
    assert "Answer with exactly 3 lines" in messages[1]["content"]
    with pytest.raises(ValueError, match="at least one description"):
        instructions.smoothing_messages(request, [])


def test_render_plain_ends_where_the_answer_begins() -> None:
    text = instructions.render_plain(instructions.generation_messages(ParaphraseRequest(text=SOURCE, n=2), 2))
    assert text.endswith("### Answer\n")
    assert text.count("### Request") == 2


def test_split_counts_and_token_budget() -> None:
    assert split_counts(32, 8) == [8, 8, 8, 8]
    assert split_counts(35, 16) == [12, 12, 11]
    assert split_counts(3, 32) == [3]
    assert sum(split_counts(1000, 7)) == 1000
    with pytest.raises(ValueError, match="n=0"):
        split_counts(0, 8)
    assert token_budget("x" * 90, 32, 100_000) == 32 * (30 + 24) + 64
    assert token_budget("x" * 90, 32, 512) == 512


# -- cache and deadline -------------------------------------------------------------------------------------


def test_cache_key_separates_what_changes_the_answer() -> None:
    request = ParaphraseRequest(text=SOURCE, n=32, seed=1, placeholders=PH)
    base = cache_key(request, "openai", "m", 1)
    assert cache_key(request, "openai", "m", 1) == base
    different = [
        cache_key(ParaphraseRequest(text=SOURCE + "!", n=32, seed=1, placeholders=PH), "openai", "m", 1),
        cache_key(ParaphraseRequest(text=SOURCE, n=16, seed=1, placeholders=PH), "openai", "m", 1),
        cache_key(ParaphraseRequest(text=SOURCE, n=32, seed=2, placeholders=PH), "openai", "m", 1),
        cache_key(request, "transformers", "m", 1),
        cache_key(request, "openai", "other", 1),
        cache_key(request, "openai", "m", 2),
        cache_key(request, "openai", "m", 1, temperature=0.5),
    ]
    assert all(key != base for key in different)


def test_lru_evicts_the_least_recently_used() -> None:
    lru = MemoryLRU(max_entries=2)
    lru.put("a", ["1"])
    lru.put("b", ["2"])
    assert lru.get("a") == ["1"]
    lru.put("c", ["3"])
    assert lru.get("b") is None
    assert lru.get("a") == ["1"]
    assert len(lru) == 2
    with pytest.raises(ValueError, match="max_entries must be at least 1, got 0"):
        MemoryLRU(0)


def test_disk_cache_round_trip_and_corrupt_files(tmp_path: Path) -> None:
    key = cache_key(ParaphraseRequest(text=SOURCE, n=3, placeholders=PH), "openai", "m", 1)
    cache = ResultCache(tmp_path / "c", memory=MemoryLRU())
    assert cache.get(key) is None
    assert not (tmp_path / "c").exists()  # nothing created until the first write
    cache.put(key, LINES)
    assert ResultCache(tmp_path / "c", memory=MemoryLRU()).get(key) == LINES
    (file,) = (tmp_path / "c").glob("*.json")
    file.write_text("{not json", encoding="utf-8")
    assert ResultCache(tmp_path / "c", memory=MemoryLRU()).get(key) is None
    file.write_text(json.dumps({"key": {"other": 1}, "paraphrases": ["x"]}), encoding="utf-8")
    assert ResultCache(tmp_path / "c", memory=MemoryLRU()).get(key) is None


def test_a_cache_that_cannot_write_does_not_fail(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    key = cache_key(ParaphraseRequest(text=SOURCE, n=3), "openai", "m", 1)
    cache = ResultCache(blocker / "sub", memory=MemoryLRU())
    cache.put(key, LINES)  # logs a warning
    assert cache.get(key) == LINES  # still in memory


def test_deadline() -> None:
    d = Deadline(0.05)
    assert 0 < d.remaining() <= 0.05
    time.sleep(0.06)
    assert d.expired
    assert d.remaining() == 0.0
    for bad in (0, -1, float("nan"), float("inf"), True, "1"):
        with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
            Deadline(bad)  # type: ignore[arg-type]
