"""Tag prompts are varied as their trainers varied them: the same tags, reordered, names described."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smoothie.prompt import rewrite
from smoothie.prompt.backends import ParaphraseRequest, get_backend
from smoothie.prompt.tagprompt import few_to_shuffle, is_head_tag, looks_like_tags, paraphrase, tag_orders


def _req(text: str, n: int = 32, **kw: object) -> ParaphraseRequest:
    return ParaphraseRequest(text=text, n=n, style="tags", **kw)  # type: ignore[arg-type]


def _tags(line: str) -> list[str]:
    return [t.strip() for t in line.split(",") if t.strip()]


PROMPT = "masterpiece, best quality, 1girl, solo, long hair, red eyes, maid, holding tray, from above, window, smile"


def test_every_tag_is_kept_verbatim_and_the_head_stays_first() -> None:
    lines = paraphrase(_req(PROMPT))
    assert len(lines) == 32 and len(set(lines)) == 32
    want = Counter(_tags(PROMPT))
    for line in lines:
        assert Counter(_tags(line)) == want  # nothing renamed, added or dropped
        assert _tags(line)[:4] == ["masterpiece", "best quality", "1girl", "solo"]
    assert lines[0] == PROMPT  # the user's own order is one member
    assert lines == paraphrase(_req(PROMPT))  # deterministic
    assert lines != paraphrase(_req(PROMPT, seed=3))


def test_extra_networks_and_bare_weights_keep_their_place_and_a_bare_weight_never_ends_a_part() -> None:
    text = "[[0]], 1girl, red hair:1.2, smile, [[1]], cat ears, [[3]], window [[2]] sky, cloud, red hair:1.3"
    req = _req(text, separators=("[[2]]",), breaks=("[[2]]",), networks=("[[0]]", "[[3]]"))
    lines = paraphrase(req)
    assert len(lines) == 32
    moved = set()
    for line in lines:
        first, second = line.split(" [[2]] ")
        tags = _tags(first)
        assert tags[0] == "[[0]]" and tags[2] == "red hair:1.2" and tags[6] == "[[3]]"  # a LoRA, a bare weight
        moved.add(tags.index("[[1]]"))  # a weighted group moves like any tag
        assert not re.search(r":\d", tags[-1])
        # a part that ended in a bare weight keeps it last (it was the part's weight as the user wrote it)
        assert _tags(second)[-1] == "red hair:1.3"
    assert len(moved) > 1


def test_name_descriptions_vary_within_what_the_replacement_says() -> None:
    canonical = "aqua hair, twintails, detached sleeves, necktie"
    hints = {canonical: "aqua hair, twintails\naqua hair, twintails, necktie"}
    text = f"1girl, {canonical}, smile, city"
    lines = paraphrase(_req(text, hints=hints))
    described = {frozenset(_tags(line)) - {"1girl", "smile", "city"} for line in lines}
    assert len(described) == 3  # every alternative is used
    assert all(d <= set(_tags(canonical)) for d in described)  # and none says more than the replacement


def test_a_prompt_with_few_tags_gets_every_order_it_has() -> None:
    lines = paraphrase(_req("1girl, solo, smile, cat ears"))
    assert sorted(lines) == sorted(["1girl, solo, smile, cat ears", "1girl, solo, cat ears, smile"])
    assert tag_orders(["1girl", "smile", "cat ears", "hat"]) == 6


def test_the_rules_backend_hands_tag_prompts_to_this_module() -> None:
    req = _req(PROMPT, n=8)
    assert get_backend("rules").paraphrase(req) == paraphrase(req)


def test_rewrite_of_a_tag_prompt_keeps_the_tags_and_syntax() -> None:
    prompt = "(best quality:1.2), 1girl, solo, silver hair, red eyes, maid, smile, holding tray, <lora:maid_v1:0.7>"
    r = rewrite(prompt, n=16)
    for line in r.paraphrases:
        assert line.startswith("(best quality:1.2), 1girl, solo, ")
        assert line.endswith(", <lora:maid_v1:0.7>")  # the engine tells which placeholders are LoRAs
        assert Counter(_tags(line)) == Counter(_tags(prompt))


@pytest.mark.parametrize(
    ("tag", "head"),
    [
        ("masterpiece", True),
        ("best_quality", True),
        ("score_8_up", True),
        ("rating_safe", True),
        ("source_anime", True),
        ("year 2024", True),
        ("2girls", True),
        ("6+girls", True),
        ("no humans", True),
        ("solo", True),
        ("long hair", False),
        ("score", False),
        ("1girl smiling", False),
    ],
)
def test_head_tags(tag: str, head: bool) -> None:
    assert is_head_tag(tag) is head


@pytest.mark.parametrize(
    ("prompt", "tags"),
    [
        ("1girl, solo, short hair, hoodie", True),
        ("masterpiece, best quality, 1girl, a girl sitting on a bench in a park, sunset", True),
        ("landscape, floating island, waterfall, clouds, sky", True),
        ("no humans, scenery, city at night", True),
        ("a woman in a yellow raincoat walking 3 dogs, rainy street, side view, facing left", False),
        ("Wonder Woman lifting a car over her head, city street, comic book cover, by Alex Ross", False),
        ("a cat sleeping on a windowsill", False),
        ("rainy window, city lights", False),
    ],
)
def test_tag_prompts_are_told_from_sentences(prompt: str, tags: bool) -> None:
    assert looks_like_tags(prompt.split(",")) is tags


_TAG = st.sampled_from(["long hair", "smile", "red eyes", "hat", "window", "sky", "cat ears", "[[5]]", "x:1.1"])


@settings(max_examples=60, deadline=None)
@given(st.lists(_TAG, min_size=1, max_size=8), st.integers(0, 5))
def test_property_same_tags_head_first_distinct(tags: list[str], seed: int) -> None:
    text = ", ".join(["1girl", *tags])
    lines = paraphrase(_req(text, n=12, seed=seed))
    assert len(lines) == len(set(lines)) >= 1
    for line in lines:
        assert Counter(_tags(line)) == Counter(_tags(text))
        assert _tags(line)[0] == "1girl"
        if not re.search(r":\d", tags[-1]):
            assert not re.search(r":\d", _tags(line)[-1])


def test_short_phrases_with_an_article_are_sentences_not_tags() -> None:
    """ "a cozy cottage, Thomas Kinkade, glowing windows, by Bob Ross": four short phrases, but no danbooru tag
    has an article; read as tags it had only 24 orders to give 32 lines."""
    from smoothie.prompt import rewrite
    from smoothie.prompt.tagprompt import looks_like_tags

    assert not looks_like_tags(["a cozy cottage", "Thomas Kinkade", "glowing windows", "by Bob Ross"])
    assert looks_like_tags(["1girl", "solo", "red hair", "smile"])
    r = rewrite("a cozy cottage, Thomas Kinkade, glowing windows, by Bob Ross", n=32)
    assert len(set(r.paraphrases)) == 32, r.warnings


def test_break_chunks_never_open_alike_where_the_users_did_not() -> None:
    prompt = (
        "score_9, score_8_up, 2girls, summer festival, night BREAK 1girl, red hair, ponytail, red kimono, holding fan,"
        " left side BREAK 1girl, black hair, bob cut, blue kimono, holding candy apple, right side"
    )
    for line in rewrite(prompt, n=32).paraphrases:
        words = re.findall(r"[\w+]+", line.lower())
        grams = Counter(g for g in zip(words, words[1:], words[2:], strict=False) if "break" in g)
        assert not [g for g, k in grams.items() if k > 1], line  # "BREAK 1girl, holding …" twice


def test_four_short_phrases_around_weighted_ones_are_no_tag_prompt() -> None:
    # "((abandoned greenhouse)), overgrown ferns, …": their orders alone made 24 lines, not 32
    from smoothie.prompt import rewrite

    r = rewrite(
        "((abandoned greenhouse)), overgrown ferns, broken glass roof, (volumetric light:1.3), morning fog", n=32
    )
    assert len(set(r.paraphrases)) == 32 and not r.warnings, r.warnings


@pytest.mark.parametrize(
    ("prompt", "few"),
    [
        ("gothic cathedral interior, stained glass, light beams, dust particles", True),
        ("masterpiece, best quality, mountain lake, mirror reflection, snowy peaks, 8k", True),
        ("1girl, solo, red hair, smile", False),  # a count tag: a tag prompt however short
        ("landscape, floating island, waterfall, clouds, sky", False),
    ],
)
def test_too_few_tags_to_shuffle(prompt: str, few: bool) -> None:
    assert few_to_shuffle(prompt.split(",")) is few


def test_four_phrases_without_a_count_tag_vary_as_text() -> None:
    """ "mountain lake, mirror reflection, snowy peaks, 8k": read as tags it had 24 orders and no other change;
    its words now vary as a scene's do, and the 32 lines are distinct."""
    from smoothie.prompt import rewrite

    r = rewrite("mountain lake, mirror reflection, snowy peaks, 8k", n=32)
    assert len(set(r.paraphrases)) == 32
    assert any("snow" in p and "snowy" not in p for p in r.paraphrases)
    assert all("8k" in p for p in r.paraphrases)
