"""Defensive parsing of LLM answers (smoothie.prompt.llm.parse): no model, no server."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smoothie.prompt.llm.parse import (
    clean_line,
    copy_key,
    normalise_placeholders,
    parse_candidates,
    split_answer,
    strip_reasoning,
)

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


def test_copies_of_the_prompt_or_of_an_example_are_dropped() -> None:
    example = "A strawberry-furred cat on a red cushion, [[0]], 12 candles around it"
    answer = "\n".join([SOURCE.upper(), f'"{example}."', LINES[0]])
    result = parse_candidates(answer, SOURCE, PH, exclude=[example])
    assert result.lines == [LINES[0]]
    assert result.dropped["copy"] == 2
    assert copy_key("A cat, [[0]]; red!") == copy_key("a cat [[0]] red")


def test_a_line_that_tells_a_story_around_the_picture_is_dropped() -> None:
    story = (
        "A cat with strawberry fur, [[0]], on a red cushion, 12 candles, while a husband walks home through the "
        "rainy village streets after the harvest festival ended at midnight"
    )
    vivid = "Envision a cat whose fur mimics the dotted texture of a strawberry, [[0]], red cushion, 12 candles"
    result = parse_candidates("\n".join([story, vivid]), SOURCE, PH)
    assert result.lines == [vivid]
    assert result.dropped["added"] == 1
    # words of the examples shown (synonyms the rules backend used) are the prompt's own
    synonyms = "A cat, a feline with a berry-patterned pelt lounging on a red pillow, [[0]], 12 tapers, mellow glow"
    assert parse_candidates(synonyms, SOURCE, PH).dropped["added"] == 1
    assert parse_candidates(synonyms, SOURCE, PH, known=["feline berry pelt lounging pillow tapers mellow"]).lines


def test_a_line_that_leaves_out_the_picture_or_its_medium_is_dropped() -> None:
    source = "a mustachioed plumber in a red cap jumping over a pipe, claymation"
    kept = "A claymation plumber with a mustache and a red cap leaps over a pipe"
    answer = "\n".join(
        [
            "The mustachioed plumber in a red cap leapt over a pipe",  # no claymation
            "The sun was over a lazy claymation summer day in the red country",  # keeps almost nothing of it
            kept,
        ]
    )
    result = parse_candidates(answer, source)
    assert result.lines == [kept]
    assert (result.dropped["medium"], result.dropped["lost"]) == (1, 1)
    # a synonym the model chose itself stands in for the word it replaced
    feline = "A feline whose coat copies a strawberry rests on a red cushion, [[0]], 12 candles glowing"
    assert parse_candidates(feline, SOURCE, PH).lines == [feline]


def test_talk_about_the_task_and_the_instructions_example_are_dropped() -> None:
    answer = "\n".join(
        [
            'The image prompt was: "a cat whose fur looks like a strawberry on a red cushion, [[0]], 12 candles"',
            "I reworded it: a cat, [[0]], strawberry fur, red cushion, 12 candles",
            "A cat with strawberry fur, [[0]], red cushion, 12 candles, vibrant red and dotted texture of a mimic",
            LINES[0],
        ]
    )
    result = parse_candidates(answer, SOURCE, PH, foreign=["the vibrant red and dotted texture that mimics"])
    assert result.lines == [LINES[0]]
    assert (result.dropped["chatter"], result.dropped["example"]) == (2, 1)


def test_one_person_described_twice_is_dropped() -> None:
    source = "a tall bearded man in a black frock coat as an astronaut"
    hints = {"a tall bearded man": "a gaunt bearded statesman\na lanky bearded gentleman"}
    twice = "A tall bearded man in a black frock coat, a gaunt bearded statesman, as an astronaut"
    once = "A gaunt bearded statesman in a black frock coat as an astronaut"
    result = parse_candidates("\n".join([twice, once]), source, hints=hints, known=list(hints.values()))
    assert result.lines == [once]
    assert result.dropped["repeat"] == 1


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
    lambda ws: " ".join(ws) + ", [[0]], a cat with strawberry fur sitting on a red cushion, 12 candles"
)
_markers = st.sampled_from(["{}", "{i}. {}", "{i}) {}", "- {}", "* {}", '"{}"', "{i}. **{}**", "• {}"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_line, min_size=1, max_size=12, unique=True), _markers, st.booleans())
def test_marked_lists_round_trip(lines: list[str], marker: str, preamble: bool) -> None:
    answer = "\n".join(marker.format(line, i=i) for i, line in enumerate(lines, 1))
    if preamble:
        answer = f"Here are {len(lines)} descriptions:\n\n{answer}\n\nHope this helps!"
    assert parse(answer, known=_WORDS) == lines
