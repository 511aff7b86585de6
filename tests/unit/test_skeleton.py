"""The skeleton of a prompt, and the property the whole engine keeps: every paraphrase has the generic's.

With ``A1111_DIR`` set, the AND weights and BREAK counts are also checked against A1111's own
``modules/prompt_parser.py`` (loaded on its own: it needs only lark).
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from smoothie.prompt import rewrite
from smoothie.prompt.grammar import PromptSyntaxError
from smoothie.prompt.skeleton import Skeleton, same_structure, skeleton


def test_and_parts_weights_and_breaks() -> None:
    s = skeleton("masterpiece, (red hair:1.2) BREAK 1girl AND a dog :0.7 AND sky:0")
    assert (s.and_count, s.break_count) == (2, 1)
    assert s.weights == (None, 0.7, 0.0)
    assert s.weighted_parts == (1, 2)
    assert s.boundaries == ("BREAK", "AND", "AND")
    assert s.chunks == (("(:1.2)",), (), (), ())


def test_a_weight_before_extra_networks_still_weighs_the_part() -> None:
    # A1111 removes <lora:…> before it reads the sub-prompt's ":w"
    assert skeleton("a cat:1.2 <lora:x:1> AND dog").weights == (1.2, None)
    assert skeleton("a cat:1.2, <lora:x:1> AND dog").weights == (None, None)
    assert skeleton("a cat:1.2 BREAK dog").weights == (None,)  # BREAK is text to AND's re_weight


def test_and_inside_brackets_splits_like_a1111_and_is_a_fixed_boundary() -> None:
    s = skeleton("a cat, (bright AND dark:1.1), a dog:0.5")
    assert s.weights == (None, 0.5) and s.break_count == 0
    assert s.boundaries == ("(AND:1.1)",)
    assert skeleton("a cat, (bright AND dark:1.2), a dog:0.5") != s
    assert skeleton("a kitten, (bright AND dark:1.1), a hound:0.5") == s


def test_order_of_tags_and_words_inside_groups_are_free() -> None:
    generic = "a cat, (red hair:1.2), <lora:x:0.5>, [day:night:5]"
    assert skeleton(generic) == skeleton("[dusk:night:5], <lora:x:0.5>, (crimson hair:1.20), a small feline")


@pytest.mark.parametrize(
    ("generic", "candidate", "why"),
    [
        ("best quality BREAK, 1girl", "best quality BREAK1girl", "0 BREAK instead of 1"),  # issue 14 item 8
        ("cat AND, a picture of dog", "cat ANDA picture of dog", "0 AND instead of 1"),
        ("cat AND dog :0.7", "cat AND dog", "weighted not at all instead of :0.7"),
        ("1girl, red hair:1.3, smile", "1girl, smile, red hair:1.3", "weighted :1.3 instead of not at all"),  # item 9
        ("a cat, <lora:x:1>", "a cat, <lora:x:1.8>", "<lora:x:1.8>"),
        ("a (cat:1.2)", "a (cat:1.9)", "(:1.9)"),
        ("a [cat:dog:5]", "a [cat:dog:6]", "[::6]"),
        ("a [cat|dog]", "a [cat|dog|bird]", "[||]"),
        ("(a cat), b", "a cat, b", "instead of ['()']"),
        ("a cat __animals__", "a cat", "instead of ['__animals__']"),
    ],
)
def test_changed_syntax_is_a_different_skeleton(generic: str, candidate: str, why: str) -> None:
    difference = skeleton(generic).difference(skeleton(candidate))
    assert difference is not None and why in difference


def test_a_candidate_that_does_not_parse_has_not_the_same_structure() -> None:
    # issue 14 item 10: text "<a:" and "d>" moved next to each other read as the extra network "<a:], b, d>",
    # which swallows the "]" of "[<a:]"
    assert same_structure("d>, [<a:], b, c", "b, d>, c, [<a:]")
    assert not same_structure("d>, [<a:], b, c", "[<a:], b, d>, c")
    with pytest.raises(PromptSyntaxError, match=r"the '\]' at column 5 is inside the extra network '<a:\], b, d>'"):
        skeleton("[<a:], b, d>, c")


def test_the_issue_prompt_is_refused_as_a1111_reads_it() -> None:
    # A1111 reads "<a:], b, <, c>" as one extra network (re_extra_net), leaving "[" unclosed
    with pytest.raises(PromptSyntaxError, match=r"unbalanced '\[' at column 1: missing '\]' \(the '\]' at column 5"):
        skeleton("[<a:], b, <, c>, d, e")


def test_skeleton_is_hashable_and_cached_per_string() -> None:
    assert len({skeleton("a AND b"), skeleton("c AND d"), skeleton("a BREAK b")}) == 2
    assert isinstance(skeleton("a"), Skeleton)


# --- the property over generated prompts: every paraphrase re-parses to the generic's skeleton -------------

_WORDS = ["cat", "red hair", "1girl", "smile", "city at night", "misty tower", "blue eyes", "Emma Watson", "Tokyo"]
_PHRASE = st.lists(st.sampled_from(_WORDS), min_size=1, max_size=3).map(" ".join)


@st.composite
def hostile_prompts(draw: st.DrawFn) -> str:
    item = st.one_of(
        _PHRASE,
        st.tuples(_PHRASE, st.sampled_from(["1.3", "0", "0.5", "2", ".7"])).map(lambda t: f"{t[0]}:{t[1]}"),
        st.tuples(_PHRASE, st.integers(0, 9)).map(lambda t: f"({t[0]}:1.{t[1]})"),
        _PHRASE.map(lambda t: f"(({t}))"),
        st.tuples(_PHRASE, _PHRASE).map(lambda t: f"[{t[0]}:{t[1]}:0.5]"),
        st.tuples(_PHRASE, _PHRASE).map(lambda t: f"[{t[0]}|{t[1]}]"),
        st.tuples(_PHRASE, _PHRASE).map(lambda t: f"{{{t[0]}|{t[1]}}}"),
        st.sampled_from(["<lora:detail:0.6>", "<lyco:x_y-z:0.3>", "__colors__", r"\(x\)"]),
        st.sampled_from(["<", ">", "<3", ":)", "_", "<a:", "c>", "[<a:]", "d:0"]),
    )
    items = draw(st.lists(item, min_size=1, max_size=7))
    seps = draw(
        st.lists(
            st.sampled_from([", ", ", ", " ", " BREAK ", " BREAK, ", "BREAK", " AND ", " AND, ", " :0.7 AND "]),
            min_size=len(items),
            max_size=len(items),
        )
    )
    prompt = "".join(i + s for i, s in zip(items, seps, strict=True))[: -len(seps[-1])]
    return prompt + draw(st.sampled_from(["", "", " :0.8", ":1.2", " <lora:z:1>"]))


@given(hostile_prompts(), st.integers(0, 3))
@example(r"cat Emma Watson \(x\)", 0)  # counterexamples hypothesis found before (a name's qualifier, a moved :w)
@example(r"Emma Watson \(x\)", 0)
@example("cat:1.3, Tokyo Tokyo", 0)
@example(r"cat, cat, cat, cat, Emma Watson:1.3 \(x\)BREAK__colors__", 0)
@example("(Tokyo Tokyo:1.0)", 0)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_paraphrase_has_the_generic_skeleton(prompt: str, seed: int) -> None:
    try:
        expected = skeleton(prompt)
    except PromptSyntaxError:
        return  # the user's prompt itself is refused (exit 2 in the CLI)
    result = rewrite(prompt, n=8, seed=seed)
    generic = skeleton(result.generic)
    # the user's structure, less only the groups a removed name left with no words ("(Tokyo Tokyo:1.0)" goes
    # whole: a weight of nothing is no syntax to keep)
    assert generic.within(expected), result.generic
    if generic != expected:
        assert result.names, result.generic  # only a name's removal may take a group away
    for paraphrase in result.paraphrases:
        assert skeleton(paraphrase) == generic, (result.generic, paraphrase)


@pytest.mark.parametrize(
    "prompt",
    [
        "d>, [<a:], b, <, c, e",  # issue 14 item 10
        "best quality BREAK, 1girl, red hair, blue eyes, smile",  # item 8
        "a cat AND, a picture of dog AND:0.5, a bird",
        "<lora x:1>BREAK Tom Cruise, smiling",
        "1girl, red hair:1.3, blue eyes, smile, outdoors",  # item 9
        "1girl, red hair:0, blue eyes:1.2, smile, outdoors, night",
    ],
)
def test_issue_reproducers_keep_their_skeleton(prompt: str) -> None:
    result = rewrite(prompt, n=32, seed=0)
    expected = skeleton(prompt)
    assert skeleton(result.generic) == expected
    for paraphrase in result.paraphrases:
        assert skeleton(paraphrase) == expected, paraphrase
        assert not re.search(r"\b(?:BREAK|AND)(?=\w)|(?<=\w)(?:BREAK|AND)\b", paraphrase), paraphrase


# --- A1111's own parser agrees (needs A1111_DIR) ---------------------------------------------------------

A1111_DIR = os.environ.get("A1111_DIR", "")


@cache
def _a1111() -> tuple[ModuleType, re.Pattern[str]]:
    modules = Path(A1111_DIR) / "modules"
    spec = importlib.util.spec_from_file_location("a1111_prompt_parser", modules / "prompt_parser.py")
    assert spec is not None and spec.loader is not None
    parser = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(parser)
    # extra_networks.py imports the whole WebUI: read its one regex instead
    tree = ast.parse((modules / "extra_networks.py").read_text(encoding="utf-8"))
    pattern = next(
        ast.literal_eval(node.value.args[0])
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and getattr(node.targets[0], "id", "") == "re_extra_net"
    )
    return parser, re.compile(pattern)


def _a1111_structure(prompt: str) -> list[tuple[float, int]]:
    """(weight, BREAK count) of each AND part, as A1111 computes them."""
    parser, extra = _a1111()
    text = extra.sub("", prompt)
    indexes, texts, _ = parser.get_multicond_prompt_list([text])
    out = []
    for index, weight in indexes[0]:
        attention = parser.parse_prompt_attention(texts[index])
        out.append((weight, sum(1 for t, w in attention if t == "BREAK" and w == -1)))
    return out


def _ours(s: Skeleton) -> list[tuple[float, int]]:
    weights = [1.0 if w is None else w for w in s.weights]
    breaks = [0] * len(weights)
    part = 0
    for boundary in s.boundaries:  # prompts here have no brackets with AND/BREAK inside
        if boundary == "AND":
            part += 1
        else:
            breaks[part] += 1
    return list(zip(weights, breaks, strict=True))


@pytest.mark.a1111
@pytest.mark.skipif(not A1111_DIR, reason="A1111_DIR is not set: no A1111 prompt_parser to compare with")
@given(hostile_prompts(), st.integers(0, 3))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a1111_reads_the_same_and_weights_and_breaks(prompt: str, seed: int) -> None:
    if "[" in prompt or "{" in prompt:  # schedules, alternation and variants: BREAK counts vary by step
        prompt = re.sub(r"[\[\]{}|]", " ", prompt)
    try:
        expected = skeleton(prompt)
    except PromptSyntaxError:
        return
    assert _ours(expected) == _a1111_structure(prompt)
    for paraphrase in rewrite(prompt, n=8, seed=seed).paraphrases:
        assert _a1111_structure(paraphrase) == _a1111_structure(prompt), paraphrase


# Prompts the fuzz run (tests/bench/fuzz_cli.py) found, each once a structure change A1111 would read.
FUZZ_FINDS = [
    "sitting AND (portrait:1.3) AND, best:0, ANDREW AND {umbrella|rain}, [eyes|standing]",  # a name removed
    "field AND x:BREAK((highly:2):2)AND[holding:short:.3]. side, body, ((Brad Pitt:0.5):0), umbrella BREAK cat",
    "body\u200bAND[Greg Rutkowski|looking], [looking|windy], uniform AND windy, short",  # AND before a schedule
    "a woman, 2girls, uniform :0.7 AND upper. [BREAK:2girls:10]ANDstanding\ndress AND cat",  # BREAK dissolving
    "cat:1.BREAK[of man 70|street three girl], rainy street, old man <lora:z:1>",
    "x, (a:1.)BREAK[viewer:school:.3], outdoors:1.2, smile, sky",
    "<lora:detail:0.6>BREAK<lora:detail:0.6>BREAKcat, dog, bird",
]


@pytest.mark.parametrize("prompt", FUZZ_FINDS)
def test_fuzz_finds_keep_their_skeleton(prompt: str) -> None:
    result = rewrite(prompt, n=16, seed=1)
    assert skeleton(result.generic) == skeleton(prompt), result.generic
    for paraphrase in result.paraphrases:
        assert skeleton(paraphrase) == skeleton(prompt), paraphrase


@pytest.mark.a1111
@pytest.mark.skipif(not A1111_DIR, reason="A1111_DIR is not set: no A1111 prompt_parser to compare with")
@pytest.mark.parametrize("prompt", FUZZ_FINDS)
def test_a1111_reads_fuzz_finds_as_the_prompt(prompt: str) -> None:
    from tests.bench.fuzz_cli import a1111_structure, load_a1111

    a1111 = load_a1111(A1111_DIR)
    assert a1111 is not None
    result = rewrite(prompt, n=16, seed=1)
    expected = a1111_structure(a1111, prompt)
    assert a1111_structure(a1111, result.generic) == expected, result.generic
    for paraphrase in result.paraphrases:
        assert a1111_structure(a1111, paraphrase) == expected, paraphrase


def test_within_allows_only_groups_taken_away() -> None:
    full = skeleton("a castle, (Zorblax:1.2), [x], oil painting BREAK night")
    assert skeleton("a castle, [x], oil painting BREAK night").within(full)
    assert not skeleton("a castle, (x:1.3), [x], oil painting BREAK night").within(full)  # a group added
    assert not skeleton("a castle, [x], oil painting, night").within(full)  # a BREAK lost
    assert not full.within(skeleton("a castle, [x], oil painting BREAK night"))
