from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings

from smoothie.prompt import PromptSyntaxError, rewrite
from smoothie.prompt.engine import detect_style
from smoothie.prompt.grammar import Atom, Group, Separator, parse_prompt
from smoothie.prompt.invariants import protected_words_in
from smoothie.prompt.validate import check

from .test_grammar import webui_prompts

ROOT = Path(__file__).resolve().parents[2]


def _syntax_tokens(prompt: str) -> list[str]:
    return [s.source for s in parse_prompt(prompt).segments if isinstance(s, (Atom, Group))]


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


def test_every_candidate_is_validated_and_counted_by_reason() -> None:
    class Drifting:
        name = "drifting"

        def paraphrase(self, request):
            return [
                "a little girl holding 2 red apples",  # age
                "a girl holding 3 red apples",  # number
                "a girl holding 2 green apples",  # colour
                "a girl holding 2 red apples in her hands",  # fine: kept, from the model
                "a a girl holding 2 red apples",  # garbled
            ]

    r = rewrite("a girl holding 2 red apples", n=6, backend=Drifting())
    assert all(r.rejected.get(reason, 0) >= 1 for reason in ("age", "colour", "garbled", "number"))
    assert r.paraphrases[0] == "a girl holding 2 red apples in her hands"
    assert r.sources == ("model",) + ("rules",) * 5
    assert len(r.sources) == len(r.paraphrases) == 6
    assert all(check(r.generic, p) == () for p in r.paraphrases)


def test_rules_paraphrases_pass_the_validator_too() -> None:
    for prompt in ("a woman laughing in a sunflower field, golden hour", "12 candles on a cake, dim room"):
        r = rewrite(prompt, n=32)
        assert all(check(r.generic, p, names=r.names) == () for p in r.paraphrases)
        assert set(r.sources) == {"rules"}


def test_nothing_valid_falls_back_to_the_generic_prompt() -> None:
    r = rewrite("<lora:x:1>, (cat:1.2)", n=3)  # only syntax: nothing to paraphrase
    assert r.paraphrases == (r.generic,) * 3
    assert r.sources == ("original",) * 3


def _count_checks(monkeypatch: pytest.MonkeyPatch, reject: bool) -> list[str]:
    from smoothie.prompt import engine

    seen: list[str] = []
    real = engine.check

    def counting(generic: str, candidate: str, **kw: object) -> tuple[str, ...]:
        seen.append(candidate)
        return ("colour",) if reject else real(generic, candidate, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "check", counting)
    return seen


def test_rounds_stop_once_a_round_gives_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _count_checks(monkeypatch, reject=True)
    r = rewrite("a fox in the snow at dawn, watercolour", n=8, seed=11)
    # the rules round (8) and one extra round of 2n; the three rounds after it would not do better
    assert len(seen) <= 8 + 16
    assert r.sources == ("original",) * 8 and r.rejected == {"colour": len(seen)}
    assert any("only 0 distinct" in w for w in r.warnings)


def test_work_is_linear_in_the_prompt_length(monkeypatch: pytest.MonkeyPatch) -> None:
    from smoothie.prompt.engine import WORK_PER_LINE

    seen = _count_checks(monkeypatch, reject=True)
    prompt = ", ".join(f"a lantern {i} by the river" for i in range(160))  # ~4,000 characters
    rewrite(prompt, n=8, seed=12)
    # the first rules round is always validated; the extra rounds stop at the work budget
    assert sum(map(len, seen)) <= (WORK_PER_LINE + 1) * 8 * len(prompt) + len(max(seen, key=len))


def test_a_prompt_that_repeats_itself_still_gets_paraphrases() -> None:
    # "a a" and the repeated "red sofa" are the user's own: they never count against a paraphrase
    prompt = ". ".join(f"a a cat on a red sofa near the door number {i}" for i in range(6))
    r = rewrite(prompt, n=8, seed=2)
    assert len(set(r.paraphrases)) == 8 and set(r.sources) == {"rules"}
    assert "garbled" not in r.rejected and "repeat" not in r.rejected


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
    # a group holding a name the engine reported is rewritten (or dropped when the name was all it held)
    tokens = [t for t in _syntax_tokens(prompt) if not any(n.text in t for n in r.names)]
    keywords = [s.keyword for s in parse_prompt(prompt).segments if isinstance(s, Separator)]
    for p in r.paraphrases:
        for tok in tokens:
            assert tok in p, (tok, p)
        for empty in ("()", "[]"):
            assert empty in prompt or empty not in p, p
        assert [s.keyword for s in parse_prompt(p).segments if isinstance(s, Separator)] == keywords


def test_a_name_described_inside_syntax_varies_too_and_the_syntax_stays() -> None:
    """ "(Keira Knightley:1.1)": the weight is the user's, the description ours; its variants reach the
    ensemble although no backend may touch protected syntax."""
    r = rewrite("(Keira Knightley:1.1) as a pirate captain on a ship deck, storm", n=32)
    inside = {m.group(1) for x in r.paraphrases for m in [re.search(r"\(([^()]*):1\.1\)", x)] if m}
    assert len(inside) >= 2, inside
    assert all(x.count(":1.1)") == 1 and "Keira" not in x and "Knightley" not in x for x in r.paraphrases)
    both = rewrite("[Morgan Freeman|Samuel L. Jackson] narrating in a recording studio", n=32)
    second = {re.search(r"\|([^\]]*)\]", x).group(1) for x in both.paraphrases}  # type: ignore[union-attr]
    assert len(second) >= 2, second  # each name of the alternation varies on its own


def test_a_weighted_person_is_restated_like_anyone_and_all_their_descriptions_are_used() -> None:
    """ "(Marilyn Monroe:1.3) sipping a milkshake": 32 distinct lines (was 7, each repeated: the variants that
    open with another variant's words were refused as changed syntax), and the weighted person is a "who"."""
    r = rewrite("(Marilyn Monroe:1.3) sipping a milkshake", n=32)
    assert len(set(r.paraphrases)) == 32 and not r.rejected, r.rejected
    inside = {m.group(1) for x in r.paraphrases for m in [re.search(r"\(([^()]*):1\.3\)", x)] if m}
    assert len(inside) >= 5, inside
    assert any(re.search(r":1\.3\) (?:who is sipping|is sipping|sips|who sips)\b", x) for x in r.paraphrases)
    nested = rewrite("((Emma Watson)) reading in a library", n=32)
    assert any(re.search(r"\)\) (?:who is reading|is reading|reads|who reads)\b", x) for x in nested.paraphrases)


def test_a_weighted_word_inside_a_sentence_keeps_it_a_sentence() -> None:
    """ "a (misty:1.3) lake at dawn, a wooden boat, soft light" is natural language, not four tags: the weight
    does not cut its phrase in two."""
    assert detect_style(parse_prompt("a (misty:1.3) lake at dawn, a wooden boat, soft light")) == "natural"
    assert detect_style(parse_prompt("masterpiece, 1girl, (red hair:1.2), smile, <lora:x:0.5>, night")) == "tags"
