"""smoothie.prompt.text: the small text clean-ups every stage of the prompt engine shares."""

from __future__ import annotations

from smoothie.prompt.text import article, counted, fix_articles, squeeze, strip_article


def test_article_follows_how_a_phrase_is_said() -> None:
    assert [article(p) for p in ("apple", "hour", "unicorn", "85mm lens", "35mm film")] == ["an", "an", "a", "an", "a"]
    assert strip_article("an apple") == "apple"
    # an h is silent only in a few words: "an honest", "an honour", "an heir", but "a honey jar", "a Honda"
    assert [article(p) for p in ("honey jar", "honest face", "honour guard", "heir", "Honda")] == [
        "a",
        "an",
        "an",
        "an",
        "a",
    ]
    assert fix_articles("a bear stuck in an honey jar") == "a bear stuck in a honey jar"
    assert fix_articles("a apple on a orange") == "an apple on an orange"
    assert squeeze("a cat , , on  a sofa") == "a cat, on a sofa"


def test_counted_gives_one_countable_thing_its_article() -> None:
    assert counted("coffee shop with a green mermaid logo") == "a coffee shop with a green mermaid logo"
    assert counted("espresso bar with green aprons") == "an espresso bar with green aprons"
    assert counted("green-logo coffeehouse chain serving frothy lattes in paper cups").startswith("a green-logo")
    for stuff in ("luxury fashion", "spiced cherry soda", "swoosh-logo athletic shoes", "a glossy magazine"):
        assert counted(stuff) == stuff


def test_a_u_said_as_you_takes_a() -> None:
    # "an utility belt" was a paraphrase readers flagged: a "yoo" sound takes "a", an "uh" sound "an"
    assert [article(p) for p in ("utility belt", "utopian city", "ukulele", "UFO", "umbrella", "ugly duckling")] == [
        "a",
        "a",
        "a",
        "a",
        "an",
        "an",
    ]
