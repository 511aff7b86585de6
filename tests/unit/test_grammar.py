from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smoothie.prompt.grammar import Atom, Group, Prompt, PromptSyntaxError, Separator, Text, parse_prompt
from smoothie.prompt.protect import protect, restore


@pytest.mark.parametrize(
    ("prompt", "kinds"),
    [
        ("a (cat:1.2)", ["weight"]),
        ("((motion blur))", ["emphasis"]),
        ("[faded]", ["deemphasis"]),
        ("[gold:silver:0.4] helmet", ["schedule"]),
        ("[cat|dog]", ["alternate"]),
        ("{red|blue} ball", ["variants"]),
    ],
)
def test_groups_are_classified(prompt: str, kinds: list[str]) -> None:
    groups = [s for s in parse_prompt(prompt).segments if isinstance(s, Group)]
    assert [g.kind for g in groups] == kinds


def test_atoms_and_separators() -> None:
    p = parse_prompt(r"__colors__ balloons <lora:eva_style:0.6> \(x\) BREAK sky AND sea :0.7")
    atoms = [(s.kind, s.text) for s in p.segments if isinstance(s, Atom)]
    assert ("wildcard", "__colors__") in atoms
    assert ("extra", "<lora:eva_style:0.6>") in atoms
    assert ("escape", r"\(") in atoms
    assert ("and_weight", " :0.7") in atoms
    assert [s.keyword for s in p.segments if isinstance(s, Separator)] == ["BREAK", "AND"]
    assert len(p.chunks()) == 3


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ("a (cat", "unbalanced '(' at column 3"),
        ("a cat)", "unbalanced ')' at column 6"),
        ("[a (b] c)", "mismatched brackets"),
        ("{a|b", "unbalanced '{'"),
    ],
)
def test_unbalanced_brackets_are_named(prompt: str, message: str) -> None:
    with pytest.raises(PromptSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        parse_prompt(prompt)


def test_escaped_brackets_are_text_not_syntax_errors() -> None:
    assert parse_prompt(r"a \(not a group").source == r"a \(not a group"


def test_map_text_keeps_weights_and_step_numbers() -> None:
    g = parse_prompt("[Emma:Anna:0.5]").segments[0]
    assert isinstance(g, Group)
    assert g.map_text(str.upper).source == "[EMMA:ANNA:0.5]"
    w = parse_prompt("(a cat:1.2)").segments[0]
    assert isinstance(w, Group)
    assert w.map_text(lambda t: t.replace("cat", "dog")).source == "(a dog:1.2)"


_WORDS = st.sampled_from(["cat", "red", "a", "city", "night", "girl", "70", "left", "misty", "by", "tower"])
_PLAIN = st.lists(_WORDS, min_size=1, max_size=4).map(" ".join)


@st.composite
def webui_prompts(draw: st.DrawFn) -> str:
    def atom() -> st.SearchStrategy[str]:
        return st.one_of(
            _PLAIN,
            st.tuples(_PLAIN, st.floats(0.1, 2.0).map(lambda f: f"{f:.2f}")).map(lambda t: f"({t[0]}:{t[1]})"),
            _PLAIN.map(lambda t: f"(({t}))"),
            _PLAIN.map(lambda t: f"[{t}]"),
            st.tuples(_PLAIN, _PLAIN, st.integers(1, 9)).map(lambda t: f"[{t[0]}:{t[1]}:0.{t[2]}]"),
            st.tuples(_PLAIN, _PLAIN).map(lambda t: f"[{t[0]}|{t[1]}]"),
            st.tuples(_PLAIN, _PLAIN).map(lambda t: f"{{{t[0]}|{t[1]}}}"),
            st.sampled_from(["<lora:detail:0.6>", "<hypernet:foo:1>", "<lyco:x_y-z:0.3>"]),
            st.sampled_from(["__colors__", "__artists/modern__"]),
            st.just(r"\(escaped\)"),
        )

    parts = draw(st.lists(atom(), min_size=1, max_size=6))
    seps = draw(st.lists(st.sampled_from([", ", " ", " BREAK ", " AND "]), min_size=len(parts), max_size=len(parts)))
    prompt = "".join(p + s for p, s in zip(parts, seps, strict=True)).strip()
    if draw(st.booleans()):
        prompt += " :0.8"
    return prompt


@given(webui_prompts())
@settings(max_examples=300, deadline=None)
def test_parse_round_trips(prompt: str) -> None:
    assert parse_prompt(prompt).source == prompt


@given(st.text(alphabet="ab ()[]{}<>:|_\\,.0123456789", max_size=40))
@settings(max_examples=500, deadline=None)
def test_parse_never_crashes_on_noise(prompt: str) -> None:
    try:
        parsed = parse_prompt(prompt)
    except PromptSyntaxError:
        return
    assert parsed.source == prompt


@given(webui_prompts())
@settings(max_examples=200, deadline=None)
def test_protect_restore_identity(prompt: str) -> None:
    prot = protect(parse_prompt(prompt))
    restored = restore(prot.text, prot)
    assert restored is not None
    assert " ".join(restored.split()) == " ".join(prompt.split())


def test_restore_reinserts_dropped_atoms_and_rejects_broken_structure() -> None:
    prot = protect(parse_prompt("a cat, <lora:x:0.5> BREAK a dog AND sky :0.7"))
    seps = prot.separator_placeholders()
    # the backend dropped the LoRA placeholder: it comes back in its own chunk
    dropped = f"a feline {seps[0]} a hound {seps[1]} heavens"
    out = restore(dropped, prot)
    assert out is not None
    assert out.count("<lora:x:0.5>") == 1
    assert out.index("<lora:x:0.5>") < out.index("BREAK")
    assert out.endswith(" :0.7")
    # a candidate that lost BREAK is rejected
    assert restore(f"a feline {seps[1]} heavens", prot) is None


def test_text_segments_are_the_only_rewritable_parts() -> None:
    p = parse_prompt("a (cat:1.2), <lora:x:1>")
    assert [type(s) for s in p.segments] == [Text, Group, Text, Atom]


# --- A1111's reading of extra networks, separators and sub-prompt weights (issue 14 items 7-10) -------------


def test_extra_networks_are_read_as_a1111_reads_them() -> None:
    # re_extra_net = <(\w+):([^>]+)>: everything up to the next ">", brackets included
    assert [s.source for s in parse_prompt("x <a:b) c> y").segments] == ["x ", "<a:b) c>", " y"]
    with pytest.raises(PromptSyntaxError, match=r"the '\]' at column 5 is inside the extra network '<a:\], b, <, c>'"):
        parse_prompt("[<a:], b, <, c>, d, e")


def test_nesting_deeper_than_the_limit_is_a_clear_error() -> None:
    assert parse_prompt("(" * 100 + "a" + ")" * 100).source == "(" * 100 + "a" + ")" * 100
    with pytest.raises(PromptSyntaxError, match="nested more than 100 deep at column 101"):
        parse_prompt("(" * 400 + "a" + ")" * 400)


@pytest.mark.parametrize(
    ("prompt", "keywords"),
    [
        ("a BREAK b AND c", ["BREAK", "AND"]),
        ("<lora:x:1>BREAK<lora:y:1>BREAKcat", []),  # extras removed first: "BREAKBREAKcat"
        ("a <lora:x:1>BREAK b", ["BREAK"]),
        ("a BREAK__colors__", []),  # "BREAK__colors__" is one word
        ("old:1.BREAK[day|night]", []),  # A1111 dissolves the alternation first: "BREAKday"
        ("[day:night:5]AND a cat", ["AND"]),  # AND is split on the raw prompt, before schedules
        ("[faded]BREAK a cat", ["BREAK"]),  # de-emphasis keeps its brackets
        ("ANDREW BREAKFAST", []),
    ],
)
def test_separators_are_where_a1111_sees_them(prompt: str, keywords: list[str]) -> None:
    assert [s.keyword for s in parse_prompt(prompt).segments if isinstance(s, Separator)] == keywords


@pytest.mark.parametrize(
    ("prompt", "weight"),
    [
        ("a cat:1.2 <lora:x:1> AND dog", ":1.2 "),  # A1111 reads the weight with the LoRA removed
        ("a cat, red hair:1.3", ":1.3"),
        ("a cat:1.2, <lora:x:1>", None),
        ("a cat:1.2 BREAK dog", None),
    ],
)
def test_a_sub_prompt_weight_is_an_atom(prompt: str, weight: str | None) -> None:
    weights = [s.text for s in parse_prompt(prompt).segments if isinstance(s, Atom) and s.kind == "and_weight"]
    assert weights == ([] if weight is None else [weight])


def test_rebuilt_prompts_never_glue_a_separator_to_a_word() -> None:
    p = parse_prompt("<lora x:1>BREAK Tom")
    segments = [Text("<a person") if isinstance(s, Text) and "lora" in s.text else s for s in p.segments]
    assert Prompt(tuple(segments)).source == "<a person BREAK Tom"
    assert Prompt((Text("a cat"), Separator("AND", " AND"), Text("A dog"))).source == "a cat AND A dog"


_FRAGMENTS = [*"abc ,:|.()[]{}<>_\\\n\u2028", "1.3", "AND", "BREAK", " AND ", "<lora:x:0.5>", "<a:]", "__x__", "__a_",
              "\\(", "\\", "c>", "<3", ":0.7", "🙂", "猫"]  # fmt: skip


@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join))
@settings(max_examples=600, deadline=None)
def test_the_fast_scanner_reads_every_prompt_as_the_lark_grammar_does(prompt: str) -> None:
    """parse_prompt scans with one regular expression (long prompts, issue 14 item 11); the lark grammar is the
    reference: the same items for every prompt whose brackets balance, and lark decides where the scanner stops."""
    from smoothie.prompt import grammar

    try:
        grammar._check_balance(prompt)
    except PromptSyntaxError:
        return
    try:
        expected = grammar._lark_items(prompt)
    except PromptSyntaxError:
        assert grammar._scan(prompt) is None  # a lone '\' at the end: lark words the error
        return
    assert grammar._scan(prompt) == expected


def test_a_prompt_the_scanner_stops_on_is_refused_as_the_grammar_refuses_it() -> None:
    with pytest.raises(PromptSyntaxError, match="cannot parse prompt"):
        parse_prompt("a cat \\")
    assert parse_prompt("(a \\) cat:1.2) __x__ <lora:y:1>").source == "(a \\) cat:1.2) __x__ <lora:y:1>"
