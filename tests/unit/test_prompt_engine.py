from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings

from smoothie.prompt import PromptSyntaxError, rewrite, scrub
from smoothie.prompt.engine import detect_style
from smoothie.prompt.grammar import Atom, Group, Separator, parse_prompt
from smoothie.prompt.protected import protected_words_in

from .test_prompt_grammar import webui_prompts

ROOT = Path(__file__).resolve().parents[2]


def _syntax_tokens(prompt: str) -> list[str]:
    return [s.source for s in parse_prompt(prompt).segments if isinstance(s, (Atom, Group))]


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


def test_ensemble_is_distinct_deterministic_and_seeded() -> None:
    prompt = "a dog whose fur looks like a blueberry muffin, studio photo"
    a = rewrite(prompt, n=32, seed=1)
    b = rewrite(prompt, n=32, seed=1)
    c = rewrite(prompt, n=32, seed=2)
    assert len(set(a.paraphrases)) == 32
    assert a.paraphrases == b.paraphrases
    assert a.paraphrases != c.paraphrases


def test_numbers_colours_and_directions_survive() -> None:
    prompt = "70 bottle caps on a red table, looking left, 12 candles"
    r = rewrite(prompt, n=32)
    for p in r.paraphrases:
        for word in protected_words_in(prompt):
            assert re.search(rf"\b{word}\b", p), (word, p)


def test_tiny_prompt_still_gets_n_distinct() -> None:
    r = rewrite("cat", n=32)
    assert len(set(r.paraphrases)) == 32


def test_prompt_of_only_syntax_repeats_with_a_warning() -> None:
    r = rewrite("<lora:x:0.5>", n=3)
    assert r.paraphrases == ("<lora:x:0.5>",) * 3
    assert r.warnings


@pytest.mark.parametrize(("prompt", "n", "match"), [("", 4, "empty"), ("   ", 4, "empty"), ("cat", 0, "between 1")])
def test_bad_input_is_named(prompt: str, n: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        rewrite(prompt, n=n)


def test_unbalanced_prompt_raises_syntax_error() -> None:
    with pytest.raises(PromptSyntaxError):
        rewrite("a (cat", n=4)


def test_failing_backend_falls_back_to_rules() -> None:
    class Broken:
        name = "broken"

        def paraphrase(self, request):
            raise TimeoutError("server did not answer in 2 s")

    r = rewrite("a cat on a roof", n=8, backend=Broken())
    assert len(set(r.paraphrases)) == 8
    assert any("broken" in w and "TimeoutError" in w for w in r.warnings)


def test_backend_output_is_checked_and_topped_up() -> None:
    class Sloppy:
        name = "sloppy"

        def paraphrase(self, request):
            # drops the placeholder, repeats itself and names a celebrity: the engine repairs all three
            return ["Brad Pitt sitting on a roof", "Brad Pitt sitting on a roof", "a kitty on a rooftop"]

    r = rewrite("a cat on a roof, <lora:x:0.5>", n=6, backend=Sloppy())
    assert len(set(r.paraphrases)) == 6
    assert all("<lora:x:0.5>" in p for p in r.paraphrases)
    assert all("Brad Pitt" not in p for p in r.paraphrases)
    assert "a kitty on a rooftop, <lora:x:0.5>" in r.paraphrases


def test_tag_prompts_are_detected() -> None:
    assert detect_style(parse_prompt("1girl, solo, short hair, hoodie")) == "tags"
    assert detect_style(parse_prompt("a cat sitting on a windowsill in the rain")) == "natural"


def test_separators_keep_their_structure() -> None:
    r = rewrite("a samurai on a horse BREAK cherry blossoms AND a lake :0.7", n=16)
    for p in r.paraphrases:
        assert [s.keyword for s in parse_prompt(p).segments if isinstance(s, Separator)] == ["BREAK", "AND"]
        assert p.endswith(" :0.7")


@given(webui_prompts())
@settings(max_examples=50, deadline=None)
def test_fuzz_rewrite_never_crashes_never_loses_syntax(prompt: str) -> None:
    r = rewrite(prompt, n=4)
    tokens = _syntax_tokens(prompt)
    keywords = [s.keyword for s in parse_prompt(prompt).segments if isinstance(s, Separator)]
    for p in r.paraphrases:
        for tok in tokens:
            assert tok in p, (tok, p)
        assert [s.keyword for s in parse_prompt(p).segments if isinstance(s, Separator)] == keywords


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smoothie", *args],
        check=False,
        capture_output=True,
        text=True,
        input=stdin,
        cwd=ROOT,
        timeout=120,
    )


def test_cli_json_and_jsonl_contract(tmp_path: Path) -> None:
    out = _cli("rewrite", "--n", "5", "--json", "Brad Pitt in a diner, <lora:x:0.5>")
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert set(obj) == {"prompt", "generic", "names", "paraphrases"}
    assert len(obj["paraphrases"]) == 5
    assert all(set(n) == {"text", "label", "replacement"} for n in obj["names"])
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"prompt": "a cat"}\n\n{"prompt": "a dog, (red:1.2)"}\n', encoding="utf-8")
    out = _cli("rewrite", "--n", "3", "--jsonl", str(cases))
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert [x["prompt"] for x in lines] == ["a cat", "a dog, (red:1.2)"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["rewrite", ""], "empty"),
        (["rewrite", "a (cat"], "unbalanced"),
        (["rewrite", "--n", "0", "cat"], "--n must be"),
        (["rewrite", "--backend", "nope", "cat"], "--backend"),
        (["rewrite", "--device", "cuda", "cat"], "--device is not an option of the 'rules' backend"),
    ],
)
def test_cli_bad_input_exits_2(args: list[str], needle: str) -> None:
    out = _cli(*args)
    assert out.returncode == 2
    assert needle in out.stderr
    assert "Traceback" not in out.stderr


def test_cli_jsonl_error_names_the_line(tmp_path: Path) -> None:
    cases = tmp_path / "c.jsonl"
    cases.write_text('{"prompt": "ok"}\n{"prompt": "a (cat"}\n', encoding="utf-8")
    out = _cli("rewrite", "--jsonl", str(cases))
    assert out.returncode == 2
    assert "c.jsonl:2" in out.stderr


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
