"""The lexicon: true synonyms only, each in the sense its part of speech says."""

from __future__ import annotations

import re

import pytest

from smoothie.prompt.invariants import (
    AGE_WORDS,
    COLOUR_WORDS,
    COUNT_WORDS,
    FEMALE_WORDS,
    MALE_WORDS,
    OLDER_WORDS,
    STRICT_DIRECTIONS,
    TRAINED_TAGS,
    UNDER_WORDS,
)
from smoothie.prompt.thesaurus import CLAUSE_FRAMINGS, NP_FRAMINGS, PHRASES, STATES, alternatives, lexicon, senses

_FORBIDDEN = AGE_WORDS | COLOUR_WORDS | COUNT_WORDS | STRICT_DIRECTIONS | {"little"}


def _words(text: str) -> set[str]:
    return {p for w in re.findall(r"[a-z]+(?:-[a-z]+)*", text.lower()) for p in (w, *w.split("-"))}


def test_no_entry_adds_an_age_a_colour_a_number_or_a_direction() -> None:
    for entry in (e for entries in senses().values() for e in entries):
        for alt in entry.alternatives:
            added = (_words(alt) - _words(entry.word)) & _FORBIDDEN
            if _words(entry.word) & OLDER_WORDS:
                added -= OLDER_WORDS  # "old" said "elderly": the same age in another word
            if entry.word in UNDER_WORDS:
                added -= UNDER_WORDS  # one direction in other words (the validator agrees)
            assert not added, (entry.word, alt, added)
    for pair, alts in PHRASES.items():
        for alt in alts:
            assert not (_words(alt) - set(pair)) & _FORBIDDEN, (pair, alt)


def test_no_entry_changes_a_gender() -> None:
    for entry in (e for entries in senses().values() for e in entries):
        gender = lambda ws: (bool(ws & FEMALE_WORDS), bool(ws & MALE_WORDS))  # noqa: E731
        for alt in entry.alternatives:
            assert gender(_words(alt)) == gender(_words(entry.word)), (entry.word, alt)


def test_words_that_draw_the_picture_are_not_keys() -> None:
    """The issue's bad substitutions are gone: no kitchen -> galley, table -> desk, girl -> little girl…"""
    keys = set(lexicon())
    for word in ("girl", "kitchen", "house", "night", "window", "playing", "holding", "painting"):
        assert word not in keys, word
    assert alternatives("photo", "NN") == ("photograph",)  # the same medium in its longer word, and only that
    for tag in TRAINED_TAGS:
        assert tag not in keys
    assert "desk" not in alternatives("table", "NN")


def test_the_part_of_speech_and_the_head_noun_gate_the_sense() -> None:
    assert alternatives("soft", "JJ", "light")  # soft light -> diffused light
    assert alternatives("soft", "JJ", "fur") == ()  # soft fur stays soft
    assert alternatives("eerie", "JJ") and alternatives("eerie", "NN") == ()
    assert alternatives("sitting", "VBG") == ("seated",)
    # a preposition by its object: on a pedestal -> atop/upon, on a wall -> upon (a poster is not atop a wall)
    assert "atop" in alternatives("on", "IN", "pedestal") and "atop" not in alternatives("on", "IN", "wall")
    assert alternatives("on", "IN", "beach") == ("upon",) and alternatives("on", "IN", "fire") == ()  # on fire
    assert alternatives("in", "IN", "bakery") == ("inside",) and alternatives("in", "IN", "rain") == ("out in",)
    assert alternatives("dim", "JJ", "room") == ("dimly lit",) and alternatives("dim", "JJ", "light") == ()


def test_framings_add_no_age_colour_number_or_direction() -> None:
    for framing in (*NP_FRAMINGS, *CLAUSE_FRAMINGS):
        assert "{x}" in framing
        assert not _words(framing.replace("{x}", "")) & (_FORBIDDEN | FEMALE_WORDS | MALE_WORDS), framing


@pytest.mark.parametrize("word", sorted(lexicon()))
def test_alternatives_are_distinct_from_the_word(word: str) -> None:
    entry = lexicon()[word]
    assert entry.tags and entry.alternatives
    assert word not in entry.alternatives


def test_states_and_materials_keep_their_family_word() -> None:
    """ "a snowy ridge" → "a ridge covered in snow": the word a reader checks the picture by (snow, wood) stays,
    and nothing adds an age, a colour, a number or a direction."""
    from smoothie.prompt.thesaurus import MATERIALS, STATES

    for word, phrases in {**STATES, **MATERIALS}.items():
        stem = re.sub(r"(.)\1?y$", r"\1", word.split("-")[0])  # snowy -> snow, foggy -> fog, neon-lit -> neon
        stem = {
            "wooden": "wood",
            "woolen": "wool",
            "woollen": "wool",
            "metallic": "metal",
            "candlelit": "candle",
            "moonlit": "moon",
            "sunlit": "sun",
            "windswept": "wind",
            "crowded": "people",
            "ruined": "ruin",
        }.get(stem, stem)
        for phrase in phrases:
            assert stem in phrase, (word, phrase)
            assert not ((_words(phrase) - _words(word)) & _FORBIDDEN), (word, phrase)


def test_a_time_said_with_its_light_and_a_state_said_more_fully() -> None:
    assert PHRASES[("at", "sunset")] == ("in the glow of sunset",)  # the word "sunset" stays
    assert alternatives("asleep", "JJ") == ("fast asleep", "sound asleep")
    assert alternatives("jumping", "VBG") == ("leaping",)
    assert PHRASES[("at", "noon")] == ("at midday",) and PHRASES[("warm", "colors")] == ("warm tones", "warm hues")
    assert STATES["ruined"][0] == "in ruins"  # "a ruined tower" = "a tower in ruins": the word a reader checks stays
    # out in the open only: never "out in a bakery"
    assert alternatives("in", "IN", "desert") == ("out in",) and "out in" not in alternatives("in", "IN", "bakery")
    # words of a kind, not twins: a stream is no river, "modern" design no "contemporary" one
    assert alternatives("river", "NN") == () and alternatives("modern", "JJ") == ()
