"""The instruction set (smoothie.prompt.llm.instructions): what a model is asked, for small and large alike."""

from __future__ import annotations

import pytest

from smoothie.prompt.llm import instructions
from smoothie.prompt.request import ParaphraseRequest

REQUEST = ParaphraseRequest(
    text="[[0]], a woman laughing in a field [[1]] a dog, 70 bottle caps, left",
    n=32,
    placeholders=("[[0]]", "[[1]]"),
    separators=("[[1]]",),
    original="(smile:1.2), Sarah laughing in a field AND a dog, 70 bottle caps, left",
)


def test_the_system_message_states_every_rule_one_a_line() -> None:
    system, user = instructions.generation_messages(REQUEST, 32)
    assert (system["role"], user["role"]) == ("system", "user")
    rules = system["content"].splitlines()
    assert len(rules) >= 6
    text = system["content"]
    for needle in (
        "same image in new words",
        instructions.STRAWBERRY_CAT,  # the essay's example of describing a concept in new words
        "number, colour and direction word exactly as written",
        "Add nothing to the picture",
        "Never write the name of a person, character, artist, brand, product or artwork",
        "[[0]] exactly once, unchanged",
        "[[1]] splits the prompt in two",
        "one new description a line",
        "no numbering",
    ):
        assert needle in text, needle
    assert "tags" not in text  # the tag rule is for tag prompts only


def test_the_request_repeats_what_a_small_model_forgets() -> None:
    user = instructions.generation_messages(REQUEST, 32, show_original=True)[-1]["content"]
    assert user.startswith(f"Image prompt: {REQUEST.text}")
    assert "Keep exactly: 70, left" in user
    assert "Sarah" in user and "never write them" in user  # the original, flagged as context only
    assert user.endswith("Write 32 new rewrites of the image prompt, one per line.")
    assert "Sarah" not in instructions.generation_messages(REQUEST, 32)[-1]["content"]  # off by default


def test_earlier_rewrites_are_shown_as_examples_to_write_away_from() -> None:
    examples = ["[[0]], a laughing woman in a meadow [[1]] a dog, 70 bottle caps, left", "…"]
    user = instructions.generation_messages(REQUEST, 1, examples)[-1]["content"]
    assert "Rewrites so far:\n" + "\n".join(examples) in user
    assert user.endswith("Write one new rewrite of the image prompt, different from these.")
    system = instructions.generation_messages(REQUEST, 1, examples)[0]["content"]
    assert system.splitlines()[-1].startswith("Answer with the new description only: one line")


def test_the_engines_hints_offer_alternatives() -> None:
    request = ParaphraseRequest(
        text="a rugged blond man drinking coffee in a diner",
        n=8,
        hints={"a rugged blond man": "a square-jawed blond man\na tousled blond gentleman", "absent phrase": "x"},
    )
    user = instructions.generation_messages(request, 8)[-1]["content"]
    assert "- a rugged blond man: a square-jawed blond man / a tousled blond gentleman" in user
    assert "absent phrase" not in user


def test_tag_prompts_are_answered_with_tags() -> None:
    request = ParaphraseRequest(text="[[0]], 1girl, solo, long hair", n=8, placeholders=("[[0]]",), style="tags")
    system = instructions.generation_messages(request, 8)[0]["content"]
    assert "list of comma-separated tags: answer with tags too" in system
    assert "1girl as they are" in system


def test_several_separators_keep_their_order() -> None:
    request = ParaphraseRequest(
        text="a [[0]] b [[1]] c", n=4, placeholders=("[[0]]", "[[1]]"), separators=("[[0]]", "[[1]]")
    )
    assert "[[0]], [[1]] split the prompt into parts: keep them in this order" in (
        instructions.system_message("natural", request.separators, 4)
    )


def test_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="count must be at least 1, got 0"):
        instructions.generation_messages(REQUEST, 0)


def test_render_plain_ends_where_the_answer_begins() -> None:
    text = instructions.render_plain(instructions.generation_messages(ParaphraseRequest(text="a red cat", n=2), 2))
    assert text.endswith("### Answer\n")
    assert text.count("### Request") == 1
    assert text.startswith("You rewrite prompts")


def test_keep_words_ignores_placeholders() -> None:
    assert instructions.keep_words("[[12]] 3 red cats looking left, 3 more") == ["3", "red", "left"]
