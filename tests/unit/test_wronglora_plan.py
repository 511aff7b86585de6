"""Prompt planning of the wrong-LoRA set (smoothie.wronglora.plan) and its catalogue (catalogue.py)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smoothie.prompt.grammar import parse_prompt
from smoothie.wronglora import catalogue
from smoothie.wronglora.plan import PLAN_VERSION, Settings, category_order, plan, plan_all, weighted

_WEIGHTED = re.compile(r"\(([^():]+):([0-9.]+)\)")


def test_the_catalogue_covers_the_recipes_flaws():
    texts = {c.text for c in catalogue.CONCEPTS}
    for flaw in (
        "blurry",
        "jpeg artifacts",
        "bad hands",
        "extra fingers",
        "deformed anatomy",
        "oversaturated",
        "overexposed",
        "lowres",
        "watermark",
    ):
        assert flaw in texts
    assert len(catalogue.CATEGORIES) >= 10
    for concept in catalogue.CONCEPTS:
        assert not set(concept.text) & set("()[]{}<>:|\\,"), concept  # plain words: safe inside (x:w)
        assert concept.good
        assert concept.needs in ("", "people", "hands")
    assert any(s.hands for s in catalogue.SUBJECTS)
    assert all(s.people for s in catalogue.SUBJECTS if s.hands)


def test_describe_lists_every_category():
    table = catalogue.describe()
    for name in catalogue.CATEGORIES:
        assert f"| {name} |" in table


def test_a_plan_is_deterministic_per_seed_and_index():
    s = Settings(width=512, height=512, seed=42)
    assert plan_all(10, s) == plan_all(10, s)
    assert plan_all(10, s)[:4] == plan_all(4, s)  # the plan of image i does not depend on n
    assert plan(3, s) != plan(3, Settings(width=512, height=512, seed=43))


def test_the_first_images_cover_different_flaws():
    s = Settings(seed=5)
    gens = plan_all(len(catalogue.CATEGORIES), s)
    main = [g.concepts[0][1] for g in gens]
    assert sorted(main) == sorted(catalogue.CATEGORIES)
    assert category_order(5) == main
    assert len({g.prompt for g in gens}) == len(gens)
    assert [g.seed for g in gens] == [5 + i for i in range(len(gens))]


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), index=st.integers(0, 5000))
def test_every_request_is_a_valid_prompt_of_flaws_with_their_opposites_negated(seed, index):
    g = plan(index, Settings(seed=seed, width=768, height=512))
    parse_prompt(g.prompt)  # valid WebUI syntax
    parse_prompt(g.negative_prompt)
    assert 2 <= len(g.concepts) <= 4
    assert len({category for _, category, _ in g.concepts}) == len(g.concepts)  # one flaw per kind
    found = {t: float(w) for t, w in _WEIGHTED.findall(g.prompt)}
    for text, _category, weight in g.concepts:
        assert weight in catalogue.WEIGHTS
        assert found[text] == weight
    subject = next(s for s in catalogue.SUBJECTS if s.text == g.subject)
    by_text = {c.text: c for c in catalogue.CONCEPTS}
    for text, _, _ in g.concepts:
        assert catalogue.fits(by_text[text], subject)
        for good in by_text[text].good:
            assert good in g.negative_prompt
    assert g.prompt.startswith(g.subject)
    assert 0 <= g.seed < 2**32
    payload = g.payload("tiny.safetensors [abc]")
    assert payload["seed"] == g.seed
    assert (payload["width"], payload["height"]) == (768, 512)
    assert payload["override_settings"] == {"sd_model_checkpoint": "tiny.safetensors [abc]"}
    assert payload["override_settings_restore_afterwards"] is False
    assert payload["save_images"] is False


def test_payload_without_checkpoint_or_sampler():
    g = plan(0, Settings(sampler=""))
    body = g.payload()
    assert "override_settings" not in body
    assert "sampler_name" not in body
    assert plan(0, Settings(sampler="Euler a")).payload()["sampler_name"] == "Euler a"


def test_record():
    g = plan(2, Settings(seed=9, steps=12))
    r = g.record()
    assert r["index"] == 2
    assert r["seed"] == 11
    assert r["steps"] == 12
    assert r["plan_version"] == PLAN_VERSION
    assert [c["text"] for c in r["concepts"]] == [c[0] for c in g.concepts]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"width": 60}, "width must be a multiple of 8"),
        ({"height": 8192}, "height must be a multiple of 8"),
        ({"steps": 0}, "steps must be from 1 to 150"),
        ({"cfg_scale": 0.5}, "cfg_scale must be from 1 to 30"),
        ({"seed": -1}, "seed must be from 0"),
        ({"seed": 2**32}, "seed must be from 0"),
    ],
)
def test_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Settings(**kwargs)


def test_plan_all_needs_one_image():
    with pytest.raises(ValueError, match="at least 1"):
        plan_all(0, Settings())
    with pytest.raises(ValueError, match="index"):
        plan(-1, Settings())


def test_weighted():
    assert weighted("blurry", 1.3) == "(blurry:1.3)"
    assert weighted("blurry", 1.0) == "blurry"
