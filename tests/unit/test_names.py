"""Names: found by table, rules and spaCy, replaced by generic descriptions that fit their position."""

from __future__ import annotations

import pytest

from smoothie.prompt import rewrite, scrub


def test_names_are_replaced_with_generic_descriptions() -> None:
    r = rewrite("a woman named Sarah laughing in a sunflower field, golden hour", n=32)
    assert "Sarah" not in r.generic
    assert r.generic.startswith("a woman laughing")
    assert [(n.text, n.label) for n in r.names] == [("Sarah", "person")]
    assert all("Sarah" not in p for p in r.paraphrases)


def test_unknown_artists_after_by_become_a_style() -> None:
    s = scrub("a lighthouse, by Zdzislaw Qwertyowski and Bartholomew Xyzzyson, oil on canvas")
    assert "Qwertyowski" not in s.text and "Xyzzyson" not in s.text
    assert {n.label for n in s.names} == {"artist"}
    assert s.text.endswith("oil on canvas")


def test_keep_list_keeps_a_name() -> None:
    r = rewrite("Brad Pitt drinking coffee in a diner", n=4, keep=["Brad Pitt"])
    assert all("Brad Pitt" in p for p in r.paraphrases)
    assert r.names == ()


def test_a_whole_ner_name_beats_a_table_alias_inside_it() -> None:
    s = scrub("Grace Hopper in uniform")  # the table knows the painter "Hopper"; this is someone else
    assert "Grace" not in s.text
    assert "Hopper" not in s.text
    assert [n.label for n in s.names] == ["person"]


def test_a_style_after_a_noun_phrase_is_its_own_item() -> None:
    s = scrub("Nighthawks by Hopper, diner at night")
    assert "Hopper" not in s.text
    assert "Nighthawks" not in s.text
    assert s.text.count(",") >= 2  # artwork, style, "diner at night": three items, not one run-on


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("a Batman mask on a table", "Batman", "mask on a table"),  # a character before merch: an adjective
        ("a spider-man toy", "spider-man", "toy"),  # hyphenated lower-case names
        ("concept art by Greg Rutkowski", "Rutkowski", "concept art"),  # the medium survives the artist
    ],
)
def test_names_in_modifier_positions(text: str, gone: str, kept: str) -> None:
    s = scrub(text)
    assert gone.lower() not in s.text.lower()
    assert kept in s.text


def test_lowercase_foreign_tag_names_are_found() -> None:
    s = scrub("1girl, kaguya shinomiya, school uniform, red eyes")  # not in the table; spaCy says ORG
    assert "shinomiya" not in s.text
    assert s.text.startswith("1girl, ")
    assert s.text.endswith("school uniform, red eyes")


@pytest.mark.parametrize(
    "text", ["1girl, solo, Eileen Collins smiling, space suit", "photo, eileen collins smiling, helmet, window"]
)
def test_a_name_inside_a_tag_keeps_the_rest_of_the_tag(text: str) -> None:
    s = scrub(text)
    assert "collins" not in s.text.lower()
    assert "smiling" in s.text  # the verb after the name is not part of it


def test_without_spacy_the_table_and_rules_still_find_names() -> None:
    """A host where spaCy cannot be installed (or imported) keeps a working engine: table, rules, user lists."""
    from smoothie.prompt import nlp

    nlp.reset_nlp_for_tests(None)  # as if spaCy were missing
    try:
        r = rewrite("Homer Simpson on a couch, art by Zorwick Blentham, <lora:x:0.5>, seed 7", n=8)
        assert "Homer" not in r.generic
        assert "Blentham" not in r.generic
        assert {n.label for n in r.names} == {"character", "artist"}
        assert all("<lora:x:0.5>" in p for p in r.paraphrases)
        assert len(set(r.paraphrases)) == 8
    finally:
        nlp.reset_nlp_for_tests(None, tried=False)  # load the real pipeline again on next use
