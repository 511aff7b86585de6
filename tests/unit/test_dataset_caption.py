"""Captions: left/right swap properties, vocabulary, template, compounds, number lint, tag splitting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smoothie.dataset import caption as cap

WORDS = st.sampled_from(
    ["left", "right", "Left", "RIGHT", "leftward", "Rightwards", "leftmost", "left-handed", "left_hand", "lEft",
     "bright", "lefts", "all right", "hand", "the", ",", " ", "(", ":1.2)", "写真", "é", "-", "_", "7"]
)  # fmt: skip
TEXT = st.lists(st.one_of(WORDS, st.text(max_size=4)), max_size=12).map(" ".join)


@given(TEXT)
def test_swapping_twice_is_the_identity(text: str) -> None:
    assert cap.swap_left_right(cap.swap_left_right(text)) == text


MODEL = {"left": "right", "right": "left", "Left": "Right", "Right": "Left", "LEFT": "RIGHT", "RIGHT": "LEFT"}


@given(st.lists(st.sampled_from([*MODEL, "hand", "bright", "righteous", "eye", "Lefty"]), max_size=20))
def test_a_flipped_caption_says_right_where_it_said_left(tokens: list[str]) -> None:
    text = ", ".join(tokens)
    expected = ", ".join(MODEL.get(t, "Righty" if t == "Lefty" else t) for t in tokens)
    assert cap.swap_left_right(text) == expected


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("left hand on a helmet", "right hand on a helmet"),
        ("Left hand raised, looking RIGHT", "Right hand raised, looking LEFT"),
        ("left-handed, left_hand, leftwards, rightmost", "right-handed, right_hand, rightwards, leftmost"),
        ("(left eye:1.2), <lora:left:0.5>", "(right eye:1.2), <lora:right:0.5>"),
        ("bright light, lefts, leftover, lEft", "bright light, lefts, leftover, lEft"),
        ("on the left of a field", "on the right of a field"),
    ],
)
def test_swap_examples(before: str, after: str) -> None:
    assert cap.swap_left_right(before) == after


def test_vocabulary_files_tags_under_fields_as_canonical_terms() -> None:
    v = cap.load_vocabulary()
    parts = cap.CaptionParts()
    parts.add(v, "Grinning, looking_at_viewer, close up, masterpiece, a man looking at the camera, (red hat:1.2)")
    assert parts.fields["expression"] == ["smiling"]
    assert parts.fields["gaze"] == ["looking at viewer"]
    assert parts.fields["shot"] == ["close-up"]
    # Multi-word synonyms are normalised inside longer text, single words are not ("inside a car" stays).
    assert parts.tags == ["a man looking at viewer", "(red hat:1.2)"]
    parts.add(v, "inside a car, inside")
    assert "inside a car" in parts.tags
    assert parts.fields["setting"] == ["indoors"]


def test_user_vocabulary_merges_over_the_default(tmp_path: Path) -> None:
    path = tmp_path / "vocab.json"
    path.write_text(
        json.dumps({"fields": {"expression": {"smiling": ["beaming"], "sad": None}, "mouth": None}, "drop": ["solo"]})
    )
    v = cap.load_vocabulary(path)
    assert v.classify("beaming") == ("expression", "smiling")
    assert v.classify("grin") == (None, "grin")  # our synonyms for 'smiling' were replaced by the user's
    assert v.classify("sad") == (None, "sad")
    assert v.classify("open mouth") == (None, "open mouth")
    assert v.classify("solo") == ("", "")
    assert v.classify("standing") == ("pose", "standing")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read"),
        ('{"fields": {"haircut": {"bob": []}}}', "unknown field 'haircut'"),
        ('{"fields": {"pose": {"standing": "upright"}}}', "must be a list of strings"),
        ('{"fields": {"pose": {"x": ["smile"]}}}', "listed under both"),
    ],
)
def test_bad_vocabulary_files_are_refused_with_the_reason(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "v.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        cap.load_vocabulary(path)


def test_template_drops_empty_segments_and_checks_placeholders() -> None:
    values = {"trigger": "ohwx", "subject": "", "shot": "close-up", "tags": "red hat, glasses", "colours": ""}
    assert cap.render("{trigger}, {subject}, {shot}, {tags}, {colours}", values) == "ohwx, close-up, red hat, glasses"
    assert cap.render("photo of {subject}, {shot}", values) == "close-up"
    assert cap.render("a photo, {shot} shot", values) == "a photo, close-up shot"
    with pytest.raises(ValueError, match="unknown placeholder"):
        cap.check_template("{trigger}, {haircut}")
    with pytest.raises(ValueError, match="no placeholder"):
        cap.check_template("just text")
    with pytest.raises(ValueError, match="template"):
        cap.check_template("{trigger")


def test_split_tags_keeps_webui_syntax_whole() -> None:
    text = "a, (b, c:1.2), [d:e:5], <lora:x,y:1>, f\\, g, {h|i}"
    assert cap.split_tags(text) == ["a", "(b, c:1.2)", "[d:e:5]", "<lora:x,y:1>", "f\\, g", "{h|i}"]


def test_compounds_from_a_text_file_and_from_json(tmp_path: Path) -> None:
    txt = tmp_path / "c.txt"
    txt.write_text("mayonnaise bottle -> mayonnaise-container\ncross tattoo on arm => cross-arm\nred hat  # comment\n")
    c = cap.Compounds.load(txt)
    assert (
        c.apply("A Mayonnaise  bottle, a cross tattoo on arm, red hat")
        == "A mayonnaise-container, a cross-arm, red-hat"
    )
    js = tmp_path / "c.json"
    js.write_text(json.dumps({"mayonnaise bottle": "mayonnaise-container"}))
    assert cap.Compounds.load(js).apply("mayonnaise bottles") == "mayonnaise bottles"  # whole words only
    js.write_text(json.dumps({"x": ""}))
    with pytest.raises(ValueError, match="non-empty"):
        cap.Compounds.load(js)
    with pytest.raises(ValueError, match="does not exist"):
        cap.Compounds.load(tmp_path / "missing.txt")


def test_compound_suggestions_find_recurring_bound_phrases() -> None:
    captions = ["a woman, cross tattoo on arm, smiling"] * 4 + ["mayonnaise bottle on a table, close-up"] * 3
    captions += [f"unique phrase number {i}" for i in range(5)]
    found = {s["phrase"]: s["suggestion"] for s in cap.suggest_compounds(captions, vocabulary=cap.load_vocabulary())}
    assert found["cross tattoo on arm"] == "cross-arm"
    assert found["mayonnaise bottle"] == "mayonnaise-bottle"
    assert "tattoo on arm" not in found  # contained in a longer phrase seen as often
    assert "bottle on a table" not in found  # an article inside: not a bound concept
    assert "close-up" not in found and "unique phrase" not in found


@pytest.mark.parametrize(
    ("caption", "flagged"),
    [
        ("2 women in 70s clothes", True),
        ("three cats, seventies living room", True),
        ("two men, '80s fashion", True),
        ("a 1970s car", False),
        ("2 women, red dresses", False),
        ("70s style portrait", False),
    ],
)
def test_number_lint(caption: str, flagged: bool) -> None:
    warnings = cap.lint_numbers(caption)
    assert bool(warnings) is flagged
    if flagged:
        assert "ambiguous numbers" in warnings[0]


def test_colours_and_framing_are_never_suggested_as_compounds() -> None:
    """The tab used to suggest "grey tones → grey-tones": the colour phrase and framing words are not concepts."""
    captions = ["a woman, medium shot, upper body, facing left, red dress, cross tattoo on arm, black and grey tones"]
    captions = captions * 6 + ["a man, eye level, from above, white background, close up, grey tones"] * 4
    found = {s["phrase"] for s in cap.suggest_compounds(captions, vocabulary=cap.load_vocabulary())}
    assert "cross tattoo on arm" in found
    for phrase in found:
        assert cap.compound_candidate(phrase), phrase
    for bad in ("grey tones", "medium shot", "upper body", "facing left", "red dress", "white background"):
        assert bad not in found and not cap.compound_candidate(bad)
    assert cap.compound_candidate("mayonnaise bottle") and cap.compound_candidate("cross tattoo on arm")


def test_the_cooccurrence_picture_draws_exactly_what_was_counted() -> None:
    """Only tags seen in >= min_support captions are drawn, and every drawn pair is its true count (the picture
    used to show zeros for pairs of rarer tags that it never counted)."""
    import itertools
    import random

    from smoothie.dataset import cooccur

    rng = random.Random(3)
    vocab = [f"tag{i}" for i in range(25)]
    captions = [rng.sample(vocab, rng.randint(1, 6)) for _ in range(40)]
    co = cooccur.cooccurrence(captions, min_support=3)
    single = {t: sum(t in c for c in captions) for t in vocab}
    assert co.tags and all(single[t] >= 3 for t in co.tags)
    assert co.rare == sum(1 for t in vocab if 0 < single[t] < 3)
    for (i, a), (j, b) in itertools.product(enumerate(co.tags), repeat=2):
        truth = single[a] if a == b else sum(a in c and b in c for c in captions)
        assert co.matrix[i][j] == truth, (a, b)
    png = cooccur.plot(co)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    empty = cooccur.cooccurrence([["a"], ["b"]], min_support=3)
    assert empty.tags == () and cooccur.plot(empty)[:4] == b"\x89PNG"
