"""The one gate every paraphrase passes: does this candidate still draw the user's picture?

:func:`check` compares a candidate paraphrase with the generic prompt it paraphrases (both full WebUI prompts,
syntax restored, names already replaced) and returns the reasons to reject it; ``()`` accepts it. The engine
runs every backend's candidates through it (the rules backend's and a language model's alike), counts the
rejections per reason (:attr:`smoothie.prompt.engine.Rewrite.rejected`) and tops the ensemble up with safe
variants. The reasons are short stable codes:

``syntax``      the candidate does not parse, or its WebUI syntax (weights, ``<lora:…>``, wildcards, escapes)
                differs from the generic's: lost, changed or written by the backend itself;
``structure``   its ``BREAK`` / ``AND`` sequence (and the AND weights) differs;
``age``         it adds an age word ("girl" → "little girl", "woman" → "young woman", "old man");
``number``      a number, count or decade changed, was dropped or added ("12 candles", "1970s", "two");
``gender``      it adds a gender the prompt did not state ("a knight" → "a knight on his horse");
``colour``      it drops a colour the user wrote, or adds one;
``direction``   left/right, up/down, above/below, top/bottom changed;
``trained-tag`` a quality/score/rating tag (``masterpiece``, ``best quality``, ``score_9``) renamed, lost or added;
``garbled``     doubled articles or words ("a a", "the the"), "a"/"an" before the wrong sound, "a woman a lady";
``repeat``      a phrase said twice;
``placeholder`` placeholder text ("[[3]]", "branded product", "a fictional character");
``name``        a name the engine replaced came back.

Everything is compared on the words outside syntax; words the generic itself has never count against a
candidate (a user who wrote "a young girl" keeps "young"), nor do the faults of the generic's own text
(:func:`inherent`): a prompt that already says "a a street" or repeats "near the" forty times cannot have its
paraphrases refused as ``garbled`` or ``repeat``. Each BREAK/AND part is its own text for this: "a beach at
sunset AND a storm" is not garbled, though read through it says "sunset a storm"; "at sunset, a beach AND a
storm" is (a garble the generic says, as whole words, never counts).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from smoothie.prompt.grammar import Atom, Group, Prompt, PromptSyntaxError, Separator, Text, parse_prompt
from smoothie.prompt.invariants import (
    AGE_WORDS,
    AMBIGUOUS_TAGS,
    COLOUR_WORDS,
    COUNT_WORDS,
    FEMALE_WORDS,
    LITTLE_PERSON,
    MALE_WORDS,
    OLDER_WORDS,
    SAME_COLOUR,
    SCORE_TAG,
    STRICT_DIRECTIONS,
    TRAINED_TAGS,
    UNDER_WORDS,
)
from smoothie.prompt.nlp import is_english_word
from smoothie.prompt.skeleton import skeleton
from smoothie.prompt.text import fix_articles

REASONS = (
    "syntax",
    "structure",
    "age",
    "number",
    "gender",
    "colour",
    "direction",
    "trained-tag",
    "garbled",
    "repeat",
    "placeholder",
    "name",
)

# Colour words that are as often a thing (a fish, a fruit, a spice): kept when written, not counted when added.
_THING_COLOURS = frozenset("salmon lime mint olive rust cream ginger tan coral jade peach ebony charcoal".split())
_ADDED_COLOURS = COLOUR_WORDS - _THING_COLOURS
_NO_COLOUR = re.compile(r"\bgolden\s+hours?\b", re.IGNORECASE)  # a time of day, not a colour

# Text a paraphrase must never contain unless the prompt does: the engine's own placeholders and the stock
# phrases a name replacement falls back to.
_PLACEHOLDER_TEXT = re.compile(r"\[\[\d+\]\]|\{x\}|\[name\]|<name>|\{name\}", re.IGNORECASE)
_PLACEHOLDER_PHRASES = (
    "branded product",
    "distinctive artistic style",
    "a fictional character",
    "a person",
    "unnamed character",
    "generic brand",
)

_STOP = frozenset(
    """a an the of in on at to for with and or by from as is are was were be been being it its this that these
    those into onto over under near their there here which who whose what while very some any each his her
    their our your my""".split()
)
_TOKEN = re.compile(r"[a-z0-9_+]+(?:['’\-][a-z0-9_+]+)*")
_DOUBLED_ARTICLE = re.compile(r"\b(a|an|the)\s+(a|an|the)\b")
_BROKEN_PHRASE = re.compile(r"\b(a|an|the)\s+[\w\-]+\s+(a|an|the)\s")
_DOUBLED_WORD = re.compile(r"\b([a-z][\w\-']*)\s+\1\b")
_A_BEFORE_VOWEL = re.compile(r"\ba\s+([aeiou][\w\-]*)")
_AN_BEFORE_CONSONANT = re.compile(r"\ban\s+([b-df-gj-np-tv-z][\w\-]*)")
_A_EXCEPTIONS = re.compile(r"(?:one|once|eu|uni|use|usu|ur|ut|uk)")
_AN_EXCEPTIONS = re.compile(r"(?:hour|honest|honou?r|heir|herb)|[a-z]$")  # "an x-ray", "an f-stop": letters


@dataclass(frozen=True)
class _View:
    """What :func:`check` compares, computed once per text (views are cached)."""

    raw: str
    plain: str  # the words outside syntax, lower case (syntax and separators read as spaces)
    apart: str  # the same with each BREAK/AND part on its own (a separator read as a comma)
    parts: frozenset[str]  # words, with hyphenated compounds also split into their parts
    syntax: tuple[tuple[str, ...], ...]  # verbatim syntax segments of each BREAK/AND chunk, sorted
    structure: Any  # smoothie.prompt.skeleton: BREAK/AND with their weights, bracket/atom shapes, bare weights
    numbers: Counter[str]
    colours: Counter[str]
    added_colours: frozenset[str]
    directions: Counter[str]
    tags: Counter[str]
    grams: Counter[tuple[str, ...]]  # content-word bigrams and trigrams
    items: Counter[str]  # comma items, normalised
    little: int  # "little girl"-style age phrases


def check(generic: str, candidate: str, *, names: Sequence[Any] = ()) -> tuple[str, ...]:
    """The reasons to reject ``candidate`` as a paraphrase of ``generic`` (``()`` accepts it).

    ``names`` are the :class:`~smoothie.prompt.names.Name` objects the engine replaced in the prompt; any of
    them in the candidate is a ``name`` reason unless the generic keeps it (a place left in the prompt).

    >>> check("a girl holding 2 red apples", "a little girl holding 2 red apples")
    ('age',)
    >>> check("a girl holding 2 red apples", "a girl clutching two green apples")
    ('number', 'colour')
    >>> check("a girl holding 2 red apples", "a girl grasping 2 red apples")
    ()
    """
    g = _view(generic)
    if g is None:
        raise PromptSyntaxError(f"the generic prompt does not parse: {generic!r}")
    c = _view(candidate)
    if c is None:
        return ("syntax",)
    reasons: list[str] = []
    own = _inherent(generic)
    if c.syntax != g.syntax and not _same_syntax_but_descriptions(g, candidate, names):
        reasons.append("syntax")
    if c.structure != g.structure:
        reasons.append("structure")
    descriptions = _descriptions(names)
    if _age_added(g, c, descriptions):
        reasons.append("age")
    if g.numbers != c.numbers or _style_digits_dropped(g, c, descriptions):
        reasons.append("number")
    if _gender_added(g, c):
        reasons.append("gender")
    if _colour_changed(g, c, descriptions):
        reasons.append("colour")
    under = "under" in g.plain or "beneath" in c.plain or "underneath" in c.plain
    if (g.directions != c.directions or under) and _direction_changed(g.plain, c.plain, descriptions):
        reasons.append("direction")  # a name's description variant may say "a mole under the eye" or not
    if g.tags != c.tags:
        reasons.append("trained-tag")
    if "garbled" not in own and _garbled(g.plain, c.plain):
        reasons.append("garbled")
    if _repeated(g, c) if "repeat" not in own else _repeated_anew(g, c, descriptions):
        reasons.append("repeat")
    if _placeholder(g, c):
        reasons.append("placeholder")
    if names and _name_back(g, c, names):
        reasons.append("name")
    return tuple(reasons)


def inherent(generic: str) -> frozenset[str]:
    """The reasons ``generic`` triggers on its own text, which :func:`check` never counts against a
    candidate: ``garbled`` when it already doubles an article or a word or puts "a" before a vowel, ``repeat``
    when it already says a phrase twice (a long prompt that repeats "near the", a tag list with a tag twice).

    >>> sorted(inherent("a a cat on a red sofa, a dog on a red sofa"))
    ['garbled', 'repeat']
    >>> inherent("a cat on a mat")
    frozenset()
    """
    if _view(generic) is None:
        raise PromptSyntaxError(f"the generic prompt does not parse: {generic!r}")
    return _inherent(generic)


def accepts(generic: str, candidate: str, *, names: Sequence[Any] = ()) -> bool:
    """Whether :func:`check` finds nothing wrong."""
    return not check(generic, candidate, names=names)


# --- views -------------------------------------------------------------------------------------------


_SPLIT = re.compile(r"[\-'’]")
# Tokens (:data:`_TOKEN`) are ASCII letters, digits, ``_+`` and the joiners ``-'’``: set tests replace regexes.
_NO_SPLIT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_+")
_DIGITS = frozenset("0123456789")
_SYNTAX_CHARS = re.compile(r"[()\[\]{}<>\\]|__|\bBREAK\b|\bAND\b|:\s*[-+]?(?:\d+\.?|\d*\.\d+)\s*$")


@lru_cache(maxsize=4096)
def _view(text: str) -> _View | None:
    chunks: list[list[str]] = [[]]
    if not _SYNTAX_CHARS.search(text):  # plain words (most candidates): no need for the grammar
        plain = " ".join(text.split()).lower()
        read = apart = plain
        structure = skeleton(Prompt((Text(text),)))
    else:
        try:
            parsed = parse_prompt(text)
        except PromptSyntaxError:
            return None
        words: list[str] = []
        alone: list[str] = []  # the words with each separator read as a comma
        said: list[str] = []  # the words with the keywords a reader reads too ("BREAK 1girl, holding …" twice)
        for seg in parsed.segments:
            if isinstance(seg, Text):
                words.append(seg.text)
                alone.append(seg.text)
                said.append(seg.text)
            elif isinstance(seg, Separator):
                chunks.append([])
                words.append(" ")  # read through, as a reader does: "… in the storm AND a kraken" is garbled
                alone.append(" , ")
                said.append(f" {seg.source.strip().lower()} ")
            elif isinstance(seg, Group):
                chunks[-1].append(seg.source)
                words.append(" " + " ".join(seg.texts()) + " ")
                alone.append(words[-1])
                said.append(words[-1])
            elif isinstance(seg, Atom) and seg.kind == "and_weight":
                pass  # part of the skeleton
            else:
                chunks[-1].append(seg.source)
                words.append(" ")
                alone.append(" ")
                said.append(" ")
        plain = " ".join("".join(words).split()).lower()
        apart = " ".join("".join(alone).split()).lower()
        read = " ".join("".join(said).split()).lower()
        structure = skeleton(text)  # by text: cached, restore_checked has often just computed it
    tokens = _TOKEN.findall(plain)
    parts = [p for t in tokens for p in ((t, *_SPLIT.split(t)) if not _NO_SPLIT.issuperset(t) else (t,))]
    content = _content_words(plain)  # "fantasy album-cover" repeats "fantasy album cover"
    colours, added = _colours_of(plain, tokens)
    said_words = content if read == plain else _content_words(read)
    grams: Counter[tuple[str, ...]] = Counter(itertools.pairwise(said_words))
    grams.update(zip(said_words, said_words[1:], said_words[2:], strict=False))
    return _View(
        raw=text,
        plain=plain,
        apart=apart,
        parts=frozenset(parts),
        syntax=tuple(tuple(sorted(c)) for c in chunks),
        structure=structure,
        numbers=Counter(
            [t for t in tokens if not _DIGITS.isdisjoint(t) and not _style_digit(t)]
            + [p for p in parts if p in COUNT_WORDS]
        ),
        colours=colours,
        added_colours=added,
        directions=Counter(p for p in parts if p in STRICT_DIRECTIONS),
        tags=_trained_tags(plain),
        grams=grams,
        items=Counter(" ".join(i.split()) for i in plain.split(",") if i.strip()),
        little=len(LITTLE_PERSON.findall(plain)),
    )


_BLANK = _View(
    raw="",
    plain="",
    apart="",
    parts=frozenset(),
    syntax=((),),
    structure=None,
    numbers=Counter(),
    colours=Counter(),
    added_colours=frozenset(),
    directions=Counter(),
    tags=Counter(),
    grams=Counter(),
    items=Counter(),
    little=0,
)


@lru_cache(maxsize=256)
def _inherent(generic: str) -> frozenset[str]:
    g = _view(generic)
    own: set[str] = set()
    if g is None:
        return frozenset()
    # its own text, each BREAK/AND part on its own: read through, "a beach at sunset AND a storm" says "sunset a
    # storm", which is no fault of the user's (a candidate still may not garble across the separator)
    if _garbled("", g.apart):
        own.add("garbled")
    if _repeated(_BLANK, g):
        own.add("repeat")
    return frozenset(own)


# --- the checks --------------------------------------------------------------------------------------


def _colours(plain: str, vocabulary: frozenset[str]) -> Counter[str]:
    out: Counter[str] = Counter()
    for t in _TOKEN.findall(_NO_COLOUR.sub(" ", plain)) if "golden" in plain else _TOKEN.findall(plain):
        for p in (t, *t.split("-")) if "-" in t else (t,):
            if p in vocabulary:
                out[SAME_COLOUR.get(p, p)] += 1
    return out


def _colours_of(plain: str, tokens: list[str]) -> tuple[Counter[str], frozenset[str]]:
    """``(_colours(plain, COLOUR_WORDS), frozenset(_colours(plain, _ADDED_COLOURS)))`` in one pass over the
    view's ``tokens`` (``_TOKEN.findall(plain)``)."""
    if "golden" in plain:  # "golden hour" is no colour: tokens without it
        tokens = _TOKEN.findall(_NO_COLOUR.sub(" ", plain))
    out: Counter[str] = Counter()
    added: set[str] = set()
    for t in tokens:
        for p in (t, *t.split("-")) if "-" in t else (t,):
            if p in COLOUR_WORDS:
                colour = SAME_COLOUR.get(p, p)
                out[colour] += 1
                if p in _ADDED_COLOURS:
                    added.add(colour)
    return out, frozenset(added)


_TAG_RE = re.compile(
    r"(?<![\w])(" + "|".join(re.escape(t) for t in sorted(TRAINED_TAGS, key=len, reverse=True)) + r")(?![\w])"
)


def _trained_tags(plain: str) -> Counter[str]:
    found: Counter[str] = Counter(m.group(1) for m in _TAG_RE.finditer(plain.replace("_", " ")))
    found.update(m.group(0) for m in SCORE_TAG.finditer(plain))
    found.update(i for i in (" ".join(x.split()) for x in plain.split(",")) if i in AMBIGUOUS_TAGS)
    return found


_OLDER = OLDER_WORDS


def _age_added(g: _View, c: _View, descriptions: tuple[str, ...]) -> bool:
    added = (c.parts & AGE_WORDS) - g.parts
    if added and added <= _OLDER and g.parts & _OLDER and _older_count(c.plain) <= _older_count(g.plain):
        added = frozenset()  # "an old man" said "an elderly man": the same age in another word, not one more
    if added & _OLDER and g.parts & _OLDER and descriptions:
        # one description of a named person says "middle-aged", another "older": the same adult, when the
        # words come from the name's descriptions, not from the user's sentence
        outside = _without(c.plain, descriptions)
        added -= {w for w in added & _OLDER if not _has(outside, w)}
    return bool(added) or c.little > g.little


def _older_count(plain: str) -> int:
    return sum(1 for w in re.findall(r"[a-z]+(?:-[a-z]+)*", plain) if w in _OLDER)


def _descriptions(names: Sequence[Any]) -> tuple[str, ...]:
    """The name descriptions (replacements and their variants), lower case, longest first."""
    if not names:
        return ()
    try:
        return _descriptions_of(tuple(names))  # the engine checks every candidate against the same names
    except TypeError:  # unhashable name objects
        return _descriptions_of.__wrapped__(names)


@lru_cache(maxsize=64)
def _descriptions_of(names: Sequence[Any]) -> tuple[str, ...]:
    texts = set()
    for name in names:
        for t in (getattr(name, "replacement", ""), *getattr(name, "variants", ())):
            if isinstance(t, str) and t.strip() and t.strip().lower() != str(getattr(name, "text", "")).lower():
                texts.add(" ".join(fix_articles(t).lower().split()))
    return tuple(sorted(texts, key=len, reverse=True))


def _same_syntax_but_descriptions(g: _View, candidate: str, names: Sequence[Any]) -> bool:
    """The candidate's syntax is the generic's once each name description variant inside it is read as the
    replacement it varies ("(a slim woman with dark hair:1.1)" for "(a slender woman …:1.1)")."""
    text = candidate
    for name in names:
        canonical = getattr(name, "replacement", "")
        if not isinstance(canonical, str) or not canonical.strip():
            continue
        canonical = fix_articles(canonical)
        said = {fix_articles(v) for v in getattr(name, "variants", ()) if isinstance(v, str) and v.strip()}
        if not said - {canonical}:
            continue
        # one pass, longest first: a variant that opens another ("a glamorous woman" of "a glamorous woman with
        # platinum curls") or the canonical itself is read once, never inside what was just put back
        forms = sorted(said | {canonical}, key=len, reverse=True)
        text = re.sub("|".join(re.escape(f) for f in forms), canonical, text)
    if text == candidate:
        return False
    view = _view(text)
    return view is not None and view.syntax == g.syntax


def _without(plain: str, descriptions: tuple[str, ...]) -> str:
    for d in descriptions:
        if d in plain:
            plain = plain.replace(d, " , ")
    return plain


def _gender_added(g: _View, c: _View) -> bool:
    return bool(
        (c.parts & MALE_WORDS and not g.parts & MALE_WORDS) or (c.parts & FEMALE_WORDS and not g.parts & FEMALE_WORDS)
    )


def _colour_changed(g: _View, c: _View, descriptions: tuple[str, ...] = ()) -> bool:
    """A colour the user wrote is dropped, or one is added. The colours of a named person's description are
    the engine's, not the user's: another description of the same person may name others ("a black cape" /
    "a dark cowl"), unless the user chose colours of their own (Link "in a blue tunic" must not become a
    description "in a green tunic")."""
    if not descriptions:
        if set(g.colours) - set(c.colours):
            return True  # a colour dropped
        return bool(c.added_colours - set(g.colours))  # a colour added
    own = _own_colours(g.plain, descriptions)
    if set(own) - set(c.colours):
        return True
    cand_outside = _colours(_without(c.plain, descriptions), _ADDED_COLOURS)
    if set(cand_outside) - set(g.colours):
        return True  # a colour added to the user's own words
    return bool(own and set(c.added_colours) - set(g.colours))


@lru_cache(maxsize=64)
def _own_colours(generic_plain: str, descriptions: tuple[str, ...]) -> Counter[str]:
    return _colours(_without(generic_plain, descriptions), COLOUR_WORDS)


def _garbled(gp: str, cp: str) -> bool:
    """Whether ``cp`` (a candidate's words) garbles where ``gp`` (the generic's) does not."""

    def theirs(phrase: str) -> bool:  # the user wrote it, as whole words ("a beach a" is not in "a beach at")
        return re.search(r"(?<![\w-])" + re.escape(phrase.strip()) + r"(?![\w-])", gp) is not None

    for rx in (_DOUBLED_ARTICLE, _DOUBLED_WORD):
        if any(not theirs(m.group(0)) for m in rx.finditer(cp)):
            return True
    if any(not theirs(m.group(0)) for m in _BROKEN_PHRASE.finditer(cp + " ")):
        return True
    for m in _A_BEFORE_VOWEL.finditer(cp):
        if not _A_EXCEPTIONS.match(m.group(1)) and not theirs(m.group(0)):
            return True
    return any(
        not _AN_EXCEPTIONS.match(m.group(1)) and not theirs(m.group(0)) for m in _AN_BEFORE_CONSONANT.finditer(cp)
    )


# "under" said another way: "beneath a full moon" = "underneath a full moon" = "under a full moon".
_BENEATH = UNDER_WORDS - {"under"}
# Words with a digit that name a style, not a number ("a 3d render", "2d art"): a description may say them or not.
_STYLE_DIGITS = frozenset({"2d", "3d"})


# "a waterfall in the background" = "with a waterfall behind": the same place in the picture.
_IN_THE_BACKGROUND = re.compile(r"\bin the background\b")


def _direction_changed(generic: str, candidate: str, descriptions: tuple[str, ...]) -> bool:
    """Whether the candidate says another direction than the user's own words (outside the names'
    descriptions, whose variants may say "under the eye" or not). "beneath" and "underneath" are "under" said
    another way: a candidate may use them where the user said any of the three ("under a full moon" →
    "beneath a full moon"), never elsewhere, and never says fewer of them than the user did; "in the
    background" is "behind" said another way."""

    def said(plain: str) -> tuple[Counter[str], int, int]:
        own = _without(plain, descriptions) if descriptions else plain
        words = re.findall(r"[a-z]+", _IN_THE_BACKGROUND.sub(" behind ", own))
        strict = Counter(w for w in words if w in STRICT_DIRECTIONS and w not in _BENEATH)
        return strict, sum(w in _BENEATH for w in words), sum(w in UNDER_WORDS for w in words)

    g_strict, _, g_under = said(generic)
    c_strict, c_beneath, c_under = said(candidate)
    return g_strict != c_strict or c_beneath > g_under or c_under < g_under


def _style_digit(token: str) -> bool:
    """ "3d", "2d", "3d-animated": a style word, every part of it with a digit a "2d"/"3d"."""
    parts = [p for p in token.split("-") if not _DIGITS.isdisjoint(p)]
    return bool(parts) and all(p in _STYLE_DIGITS for p in parts)


def _style_digits_dropped(g: _View, c: _View, descriptions: tuple[str, ...]) -> bool:
    """The user's own "3d"/"2d" (outside a name's description, whose variants may say it or not) kept."""
    if "3d" not in g.plain and "2d" not in g.plain:
        return False

    def count(plain: str) -> int:
        return sum(1 for t in _TOKEN.findall(_without(plain, descriptions)) if _style_digit(t))

    return count(c.plain) < count(g.plain)


def _repeated_anew(g: _View, c: _View, descriptions: tuple[str, ...] = ()) -> bool:
    """For a generic that already repeats itself: a phrase said twice that the user said once, with a word the
    user said once ("a man with shoulder-length dark hair … as a man with shoulder-length dark hair"). Phrases
    built only of the user's own repeated words (items reordered) stay theirs, except two BREAK chunks that open
    alike where the user's did not; and everything stays when the user repeats a name: its description variants
    then say their phrases as often as the user said the name."""
    if any(g.plain.count(d) > 1 for d in descriptions):
        return False
    once = _said_once(g.plain)
    said = _said_at_all(g.plain)
    described = _described_words(descriptions)
    return any(
        k > 1
        and g.grams.get(gram, 0) <= 1
        and (
            once.intersection(gram)
            or ("break" in gram and gram not in g.grams)
            # "an old wizard with a flowing gray beard … and an old wizard with a flowing silver beard": two
            # descriptions the user's own repetition allows, each varied into the same new words
            or (gram not in g.grams and not said.issuperset(gram) and described.issuperset(gram))
        )
        for gram, k in c.grams.items()
    )  # "BREAK 1girl, holding fan … BREAK 1girl, holding candy apple": the user's words, in a phrase never said


@lru_cache(maxsize=64)
def _said_once(plain: str) -> frozenset[str]:
    """The content words a generic says once (computed once per generic: the engine checks many candidates)."""
    return frozenset(w for w, k in Counter(_content_words(plain)).items() if k == 1)


@lru_cache(maxsize=64)
def _described_words(descriptions: tuple[str, ...]) -> frozenset[str]:
    """The content words of all the name descriptions (once per prompt: the engine checks many candidates)."""
    return frozenset(w for d in descriptions for w in _said_at_all(d))


@lru_cache(maxsize=64)
def _said_at_all(plain: str) -> frozenset[str]:
    return frozenset(_content_words(plain))


def _content_words(plain: str) -> list[str]:
    """The content words of ``plain``, a hyphenated compound read as its parts, as a reader counts them."""
    return [p for t in _TOKEN.findall(plain) for p in (_SPLIT.split(t) if "-" in t else (t,)) if p and p not in _STOP]


def _repeated(g: _View, c: _View) -> bool:
    if any(k > max(1, g.grams.get(gram, 0)) for gram, k in c.grams.items()):
        return True
    return any(k > max(1, g.items.get(item, 0)) for item, k in c.items.items())


_PLACEHOLDER_PHRASE = re.compile(r"(?<![\w])(?:" + "|".join(re.escape(p) for p in _PLACEHOLDER_PHRASES) + r")(?![\w])")


def _placeholder(g: _View, c: _View) -> bool:
    if _PLACEHOLDER_TEXT.search(c.raw) and not _PLACEHOLDER_TEXT.search(g.raw):
        return True
    if not any(p in c.plain for p in _PLACEHOLDER_PHRASES):
        return False
    return any(m.group(0) not in g.plain for m in _PLACEHOLDER_PHRASE.finditer(c.plain))


def _has(text: str, phrase: str, flags: int = 0) -> bool:
    """Whether ``phrase`` stands in ``text`` as whole words."""
    if not flags and phrase not in text:  # a plain substring test rules out most texts at C speed
        return False
    return _phrase_re(phrase, flags).search(text) is not None


@lru_cache(maxsize=1024)
def _phrase_re(phrase: str, flags: int) -> re.Pattern[str]:
    return re.compile(r"(?<![\w])" + re.escape(phrase) + r"(?![\w])", flags)


@lru_cache(maxsize=256)
def _name_words(text: str) -> tuple[tuple[str, bool], ...]:
    """The words of a name (4+ letters) a paraphrase may not bring back alone, each with whether it is an
    English word (then only its capitalised form counts: "Taylor Swift" vs "a swift bird")."""
    words = [w for w in re.findall(r"[A-Za-z][\w\-']+", text) if len(w) >= 4]
    if len(words) < 2:
        return ()
    return tuple((w, is_english_word(w)) for w in words)


def _name_back(g: _View, c: _View, names: Sequence[Any]) -> bool:
    for name in names:
        text = str(getattr(name, "text", name) or "").strip()
        replacement = str(getattr(name, "replacement", "") or "").strip()
        if not text or text.lower() == replacement.lower():
            continue  # a kept name (a place left in the prompt)
        if _has(c.plain, text.lower()) and not _has(g.plain, text.lower()):
            return True
        for w, english in _name_words(text):  # "Brad Pitt" -> "Pitt" too; "Taylor Swift": only "Swift"
            if not english:
                if _has(c.plain, w.lower()) and not _has(g.plain, w.lower()):
                    return True
            elif w[:1].isupper() and _has(c.raw, w) and not _has(g.raw, w):
                return True
    return False
