"""The built-in knowledge tables of the prompt engine (``smoothie/prompt/data``), checked rule by rule.

Each rule is a small validator that returns the problems it finds, so the tests below can show that the
shipped tables are clean *and* that every validator catches the mistake it is written for.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from smoothie.prompt import tables
from smoothie.prompt.invariants import COLOUR_WORDS, DIRECTION_WORDS, NUMBER_WORDS, is_protected_word
from smoothie.prompt.names import consistent
from smoothie.prompt.tables import DATA_DIR, normalise_form

NAMES = DATA_DIR / "names.jsonl"
FIRST_NAMES = DATA_DIR / "first_names.json"
GENERAL_TAGS = DATA_DIR / "general_tags.txt"
TAG_PHRASES = DATA_DIR / "tag_phrases.json"

LABELS = frozenset(
    {"person", "artist", "character", "brand", "artwork", "studio", "setting", "place", "copyright", "item"}
)
STYLE_LABELS = frozenset({"artist", "studio"})  # a style description, used where "by X" / "X style" stood
ARTICLE_LABELS = frozenset({"person", "character", "artwork", "item", "place"})  # a noun phrase with its article
# A copyright (series, game, franchise) is dropped where it stands ("1girl, genshin impact" loses the tag): it has
# no description, only optional style words for "X style"; an item (Excalibur) needs no variants.
UNDESCRIBED_LABELS = frozenset({"copyright"})
FEW_VARIANT_LABELS = frozenset({"copyright", "item"})
REQUIRED_KEYS = frozenset({"name", "label", "aliases", "generic", "modifier", "variants"})
# modifier_variants: alternatives to the modifier, for adjective positions ("green coffee-shop apron").
# lowercase: the entry's multi-word forms (spaces or hyphens) are names even written in lower case, as tag
# prompts write them ("will smith eating spaghetti", "octane render"); single words still need a capital.
# tags: the same as danbooru general tags, for tag prompts (a character's look, an artist's style).
# showcases: a site's kind of work, noun phrases without article ("trending on ArtStation" -> "trending concept
# art"; "artstation" alone -> "concept art").
# word: the name is also an ordinary noun ("Donkey", "Stitch"): a name only capitalised, in a name's position.
# looks: an artist's own look (noun phrases with their article), for where the artist is the subject ("Frida
# Kahlo painting a self-portrait"); the first is the canonical one.
OPTIONAL_KEYS = frozenset({"modifier_variants", "lowercase", "tags", "showcases", "word", "looks"})
TAG_RE = re.compile(r"[a-z0-9][a-z0-9 '\-.]*")

# Lower-case ASCII words, spaces, hyphens, apostrophes and commas: no capitalised word, no digit except in the
# style words "2d" and "3d" ("3d render").
REPLACEMENT_RE = re.compile(r"(?:[a-z]|(?<![a-z0-9])[23]d(?![a-z0-9]))(?:[a-z ,'\-]|(?<![a-z0-9])[23]d(?![a-z0-9]))*")
# Words a replacement must not introduce: counts and left/right/compass directions change the picture.
# (Colours may be introduced: they are what a name looks like. "one", "single", "pair", "over" are harmless.)
# ("one" is not harmless: a variant without it changes the count of number words the scorer sees.)
_HARMLESS_NUMBERS = frozenset({"single", "double", "pair", "couple", "half", "first", "once", "both"})
_TRUE_DIRECTIONS = frozenset(
    "left right leftward rightward north south east west northern southern eastern western".split()
)
INTRODUCED_FORBIDDEN = (NUMBER_WORDS - _HARMLESS_NUMBERS) | _TRUE_DIRECTIONS
# Nationality and place adjectives are names of places: a replacement describes the look instead.
DEMONYMS = frozenset(
    """american british english french german italian japanese chinese korean russian spanish dutch flemish
    mexican egyptian greek roman scandinavian venetian parisian tennessee hollywood texan irish scottish""".split()
)
# Words that make a description say how old someone is: a name's description never makes anyone younger; the
# few that are children by nature (a cartoon baby) say so in the generic, and variants add nothing.
AGE_WORDS = frozenset(
    """young younger youthful teen teens teenage teenager little schoolgirl schoolboy juvenile minor preteen
    underage tween childlike girlish boyish loli shota""".split()
)
CHILD_WORDS = frozenset("child children kid kids toddler baby babies infant".split())
GENDERED = frozenset("he she his her him girl girls boy boys man men woman women male female lady gentleman".split())
# Given names that are frequent ordinary words: the first-name lists leave them out.
WORD_NAMES = frozenset(
    """will may rose grace hope faith joy iris lily violet ruby amber olive jade pearl summer autumn winter
    dawn crystal holly ivy daisy heather angel mark bill jack pat rob sue art frank grant miles chase hunter
    june april august penny sky river storm rain star sandy rusty buck carol cliff drew earl guy sunny
    honey cherry candy destiny harmony melody bliss chance rock stone wolf fox hazel ginger scarlett aurora eve
    savannah sienna rosemary sakura noel robin ash basil glen dale chad gene lance walker rex dirk hank jasper jimmy
    jay brock teddy wade""".split()
)


# --- loading -------------------------------------------------------------------------------------------


def load_name_lines(path: Path = NAMES) -> list[dict[str, Any]]:
    entries = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        obj = json.loads(line)
        if not isinstance(obj, dict):
            raise TypeError(f"{path.name}:{lineno}: expected a JSON object, got {type(obj).__name__}")
        entries.append(obj)
    return entries


def replacements(entry: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, text) for every replacement text of an entry."""
    out = [("generic", entry.get("generic", "")), ("modifier", entry.get("modifier", ""))]
    out += [("variants", v) for v in entry.get("variants", [])]
    out += [("modifier_variants", v) for v in entry.get("modifier_variants", [])]
    out += [("showcases", v) for v in entry.get("showcases", [])]
    out += [("looks", v) for v in entry.get("looks", [])]
    return out


def forms(entry: Mapping[str, Any]) -> list[str]:
    return [entry.get("name", ""), *entry.get("aliases", [])]


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _ngrams(text: str, longest: int, shortest: int = 1) -> set[str]:
    """Word n-grams of ``text``, with hyphenated words kept whole and also split: a superset of the scorer's
    whole-word matches, fast enough to check every replacement against every name."""
    grams: set[str] = set()
    for tokens in (re.findall(r"[a-z0-9'\-]+", text.lower()), re.findall(r"[a-z0-9']+", text.lower())):
        for n in range(shortest, min(longest, len(tokens)) + 1):
            grams.update(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def expected_article(phrase: str) -> str:
    w = phrase.lower()
    if w.startswith(("uni", "use", "usu", "uti", "eu", "one", "once", "ura", "ure", "uro")):
        return "a"
    if w.startswith(("hour", "honest", "honor", "heir")):
        return "an"
    return "an" if w[:1] in "aeiou" else "a"


# --- validators (each returns a list of problems) ------------------------------------------------------


def check_entry(entry: Mapping[str, Any]) -> list[str]:
    """Problems of one entry on its own."""
    name = entry.get("name")
    where = f"{name!r}"
    problems: list[str] = []
    keys = set(entry)
    if REQUIRED_KEYS - keys:
        problems.append(f"{where}: missing keys {sorted(REQUIRED_KEYS - keys)}")
    if keys - REQUIRED_KEYS - OPTIONAL_KEYS:
        problems.append(f"{where}: unknown keys {sorted(keys - REQUIRED_KEYS - OPTIONAL_KEYS)}")
    if problems:
        return problems
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        return [f"{where}: name must be a non-empty stripped string"]
    label = entry["label"]
    if label not in LABELS:
        problems.append(f"{where}: label {label!r} is not one of {sorted(LABELS)}")
    if "lowercase" in entry and (
        entry["lowercase"] is not True or not any(re.search(r"[\s\-]", str(f)) for f in forms(entry))
    ):
        problems.append(f"{where}: lowercase must be true and the entry needs a multi-word form")
    if "word" in entry and (
        entry["word"] is not True
        or label not in ("person", "character", "studio", "brand")
        or re.search(r"[\s\-]", entry["name"])
        or (label in ("person", "character") and any(re.search(r"[\s\-]", str(f)) for f in forms(entry)))
    ):
        # a studio or brand may have a longer form ("Blizzard Entertainment"): the flag is for its one word
        problems.append(f"{where}: word must be true, on a person, character, studio or brand named by one word")
    for key in ("aliases", "variants", *(k for k in ("modifier_variants",) if k in entry)):
        if not isinstance(entry[key], list) or not all(isinstance(x, str) for x in entry[key]):
            problems.append(f"{where}: {key} must be a list of strings")
    if not isinstance(entry["generic"], str) or not isinstance(entry["modifier"], str):
        problems.append(f"{where}: generic and modifier must be strings")
    if problems:
        return problems

    # the surface forms
    norm = [normalise_form(f) for f in forms(entry)]
    for form, key in zip(forms(entry), norm, strict=True):
        if not key or form != form.strip():
            problems.append(f"{where}: empty or unstripped form {form!r}")
        if label != "copyright" and any(re.fullmatch(r"[\d.,]+", tok) for tok in key.split()):
            problems.append(f"{where}: form {form!r} holds a bare number, which a rewrite must keep")
    for alias, key in zip(entry["aliases"], norm[1:], strict=True):
        if key == norm[0]:
            problems.append(f"{where}: alias {alias!r} repeats the name (lookups ignore case)")
    for key, count in Counter(norm).items():
        if count > 1:
            problems.append(f"{where}: form {key!r} listed {count} times")

    # the replacements
    texts = replacements(entry)
    own = {k for k in norm if k}
    if label == "person" and len(norm[0].split()) >= 2 and len(norm[0].split()[-1]) >= 3:
        own.add(norm[0].split()[-1])  # a surname is a name on its own ("Brown" of Millie Bobby Brown: no "brown hair")
    own_longest = max((len(k.split()) for k in own), default=1)
    for field, text in texts:
        if not text and (field == "modifier" or label in UNDESCRIBED_LABELS):
            continue
        if not REPLACEMENT_RE.fullmatch(text) or "  " in text:
            problems.append(f"{where}: {field} {text!r} must be lower-case letters, spaces, - ' , only")
            continue
        toks = words_of(text)
        for bad in sorted(set(toks) & INTRODUCED_FORBIDDEN):
            problems.append(f"{where}: {field} {text!r} introduces the count/direction word {bad!r}")
        for bad in sorted(set(toks) & DEMONYMS):
            problems.append(f"{where}: {field} {text!r} names a place or nationality ({bad!r})")
        for key in sorted(_ngrams(text, own_longest) & own):
            problems.append(f"{where}: {field} {text!r} contains its own name {key!r}")
    variants = entry["variants"]
    if label in UNDESCRIBED_LABELS:
        if entry["generic"] or variants:
            problems.append(f"{where}: a {label} is dropped, not described: generic and variants must be empty")
    elif not (0 if label in FEW_VARIANT_LABELS else 2) <= len(variants) <= 6:
        problems.append(f"{where}: {len(variants)} variants, want 2 to 6")
    if len(set(variants)) != len(variants) or entry["generic"] in variants:
        problems.append(f"{where}: variants repeat each other or the generic")
    mvars = entry.get("modifier_variants", [])
    if "modifier_variants" in entry and not 1 <= len(mvars) <= 4:
        problems.append(f"{where}: {len(mvars)} modifier_variants, want 1 to 4")
    if len(set(mvars)) != len(mvars) or entry["modifier"] in mvars:
        problems.append(f"{where}: modifier_variants repeat each other or the modifier")

    looks = entry.get("looks", [])
    if "looks" in entry:
        if (
            label != "artist"
            or not isinstance(looks, list)
            or not 1 <= len(looks) <= 4
            or len(set(looks)) != len(looks)
        ):
            problems.append(f"{where}: looks are 1 to 4 distinct noun phrases, for an artist")
            return problems
        for text in looks:
            first, _, rest = text.partition(" ")
            if first not in ("a", "an") or not rest or first != expected_article(rest):
                problems.append(f"{where}: look {text!r} needs the article {expected_article(rest)!r}")
            if len(text.split()) > 20:
                problems.append(f"{where}: look {text!r} is longer than 20 words")
            if text != looks[0] and not consistent(text, looks[0]):
                problems.append(f"{where}: look {text!r} says an age, gender, number or colour {looks[0]!r} does not")
    shows = entry.get("showcases", [])
    if "showcases" in entry:
        if label != "brand":
            problems.append(f"{where}: showcases are for brands (sites), not a {label}")
        if not 1 <= len(shows) <= 4 or len(set(shows)) != len(shows):
            problems.append(f"{where}: showcases must be 1 to 4 distinct noun phrases")
        for text in shows:
            if text.split(" ", 1)[0] in ("a", "an", "the") or len(text.split()) > 4:
                problems.append(f"{where}: showcase {text!r} must be a bare noun phrase of at most 4 words")
            if text != shows[0] and not consistent(text, shows[0]):
                problems.append(f"{where}: showcase {text!r} says more than {shows[0]!r}")

    # shape by label
    nouns = [("generic", entry["generic"])] + [("variants", v) for v in variants]
    for field, text in nouns if label not in UNDESCRIBED_LABELS else ():
        first, _, rest = text.partition(" ")
        if label in ARTICLE_LABELS:
            if first not in ("a", "an") or not rest:
                problems.append(f"{where}: {field} {text!r} of a {label} needs the article a/an")
            elif first != expected_article(rest):
                problems.append(f"{where}: {field} {text!r}: {expected_article(rest)!r} before {rest.split()[0]!r}")
        elif first in ("a", "an", "the"):
            problems.append(f"{where}: {field} {text!r} of a {label} takes no article")
        if len(text.split()) > 20:
            problems.append(f"{where}: {field} {text!r} is longer than 20 words")
    if label in ("person", "character") and len(entry["generic"].split()) < 3:
        problems.append(f"{where}: generic {entry['generic']!r} is too bare to keep the look")
    for field, text in [("modifier", entry["modifier"])] + [("modifier_variants", v) for v in mvars]:
        if text.split(" ", 1)[0] in ("a", "an", "the"):
            problems.append(f"{where}: {field} {text!r} is an adjective phrase and takes no article")
        if len(text.split()) > 4:
            problems.append(f"{where}: {field} {text!r} is longer than 4 words")
    if label in STYLE_LABELS:
        for field, text in texts:
            if re.search(r"\bstyled?$", text):
                problems.append(f"{where}: {field} {text!r} ends in 'style' (the engine keeps the prompt's own)")
    # variants say nothing the generic does not: no other age, gender, number, colour or direction
    for v in variants:
        if not consistent(v, entry["generic"]):
            problems.append(
                f"{where}: variant {v!r} says an age, gender, number, colour or direction the generic does not"
            )
    for v in mvars:
        if not consistent(v, entry["modifier"]):
            problems.append(f"{where}: modifier_variant {v!r} says more than the modifier {entry['modifier']!r}")
    # age: never younger, and variants never say an age the generic does not
    generic_ages = set(words_of(entry["generic"])) & CHILD_WORDS
    for field, text in texts:
        toks = set(words_of(text))
        for bad in sorted(toks & AGE_WORDS):
            problems.append(f"{where}: {field} {text!r} says an age ({bad!r})")
        if field in ("variants", "modifier_variants") and toks & CHILD_WORDS - generic_ages:
            problems.append(f"{where}: {field} {text!r} says an age the generic does not")
    # tags
    tags = entry.get("tags", [])
    if "tags" in entry:
        if not isinstance(tags, list) or not tags or not all(isinstance(t, str) for t in tags):
            problems.append(f"{where}: tags must be a non-empty list of strings")
            return problems
        if len(tags) > 10 or len(set(tags)) != len(tags):
            problems.append(f"{where}: tags repeat or are more than 10")
        for t in tags:
            toks = set(words_of(t))
            if not TAG_RE.fullmatch(t) or "  " in t or t != t.strip():
                problems.append(f"{where}: tag {t!r} must be lower-case letters, digits, spaces, - ' . only")
            if toks & (NUMBER_WORDS - _HARMLESS_NUMBERS) or toks & AGE_WORDS or toks & CHILD_WORDS:
                problems.append(f"{where}: tag {t!r} says a count or an age")
            if _ngrams(t, own_longest) & own:
                problems.append(f"{where}: tag {t!r} contains its own name")
    return problems


def check_names(entries: Iterable[Mapping[str, Any]], first_names: Mapping[str, Iterable[str]] = ()) -> list[str]:
    """Every entry's own problems plus those across entries: duplicate forms, first names, leaks."""
    entries = list(entries)
    problems = [p for e in entries for p in check_entry(e)]
    owner: dict[str, str] = {}
    for e in entries:
        for form in forms(e):
            key = normalise_form(str(form))
            if key in owner and owner[key] != e.get("name"):
                problems.append(f"form {key!r} belongs to both {owner[key]!r} and {e.get('name')!r}")
            owner.setdefault(key, str(e.get("name")))
    given = {n for names in dict(first_names).values() for n in names}
    for key, name in owner.items():
        if key in given:
            problems.append(f"{name!r}: form {key!r} is a bare first name (it would rename every {key!r})")
        if key in COLOUR_WORDS | DIRECTION_WORDS | NUMBER_WORDS or re.fullmatch(r"[\d.,]+", key):
            problems.append(f"{name!r}: form {key!r} is a protected word")
    # A replacement must not contain another entry's multi-word name: the rewrite would leak it.
    multi = {k: n for k, n in owner.items() if " " in k}
    longest = max((len(k.split()) for k in multi), default=0)
    for e in entries:
        for field, text in replacements(e):
            for key in sorted(_ngrams(str(text), longest, shortest=2) & multi.keys()):
                if multi[key] != e.get("name"):
                    problems.append(f"{e.get('name')!r}: {field} {text!r} contains the name {multi[key]!r}")
    return problems


# A person's or character's description says how they look, never where they are or what they do: it stands where
# the name stood, so "a corgi dressed as Napoleon atop a white horse" must not become "... dressed as a general on a
# rearing horse atop a white horse", nor "Einstein writing on a blackboard" "a scientist at a chalkboard ... writing".
# A place or prop phrase: a preposition of place and an article ("at a podium", "on a rooftop", "beside a car").
_SCENE_PHRASE = re.compile(
    r"\b(?:at|on|atop|beside|behind|under|beneath|below|next to|in front of|over|across|through|from|among|amid|"
    r"before|by|against|inside|into|onto)\s+(?:a|an|the|some)\s+(?P<what>[^,]+?)(?=,|\s+(?:and|with|in|wearing)\s|$)"
)
# ... except where it says where something is worn or on the body: "a scar over an eye", "a ring on a chain",
# "a lightning emblem on a red suit", "curly hair under a top hat".
_WORN_OR_BODY = frozenset(
    """eye eyes forehead cheek cheeks chest arm arms shoulder shoulders head back chain suit hat cap collar neck
    wrist belt cloak dress robe coat jacket""".split()
)
# "wearing a hat" is a look; any other -ing verb after the noun is an action ("holding a sign", "dunking").
_LOOK_VERBS = frozenset({"wearing"})


def check_looks(entries: Iterable[Mapping[str, Any]], nlp: Any = None) -> list[str]:
    """Person and character descriptions that describe a scene or an action instead of a look: a place or prop
    phrase, a relative clause ("whose nose grows"), and, with a spaCy pipeline, an -ing verb after the noun
    ("a professor sticking out their tongue", "a player dunking")."""
    texts = [
        (str(e.get("name")), str(t))
        for e in entries
        if e.get("label") in ("person", "character")
        for t in [e.get("generic", ""), *e.get("variants", [])]
    ] + [(str(e.get("name")), str(t)) for e in entries for t in e.get("looks", [])]
    problems: list[str] = []
    for name, text in texts:
        for m in _SCENE_PHRASE.finditer(text):
            if m.group("what").split()[-1].lower() not in _WORN_OR_BODY:
                problems.append(f"{name!r}: {text!r} places them: {m.group(0)!r}")
        if re.search(r"\bno humans\b|\b[1-6](?:girl|boy)s?\b|\bsolo\b", text):
            problems.append(f"{name!r}: {text!r} says a tag of the picture, not a look")
        if re.search(r"\bmid-(?!century)[a-z]+", text):
            problems.append(f"{name!r}: {text!r} does something: caught mid-action")
        if re.search(r"\b(?:who|whose|which|that)\b", text):
            problems.append(f"{name!r}: {text!r} is a clause, not a look")
    if nlp is not None:
        for (name, text), doc in zip(texts, nlp.pipe([t for _, t in texts]), strict=True):
            for i, tok in enumerate(doc):
                after_noun = i == len(doc) - 1 or (i > 0 and doc[i - 1].tag_ in ("NN", "NNS", "NNP", ",", "RB"))
                if tok.tag_ == "VBG" and tok.lower_ not in _LOOK_VERBS and after_noun:
                    problems.append(f"{name!r}: {text!r} does something: {tok.text!r}")
    return problems


def check_first_names(data: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    if set(data) != {"female", "male", "neutral"}:
        return [f"first_names.json keys are {sorted(data)}, want female, male, neutral"]
    seen: dict[str, str] = {}
    for kind, names in data.items():
        if not isinstance(names, list):
            problems.append(f"{kind}: not a list")
            continue
        for n in names:
            if not isinstance(n, str) or not re.fullmatch(r"[a-z][a-z'\-]*[a-z]", n):
                problems.append(f"{kind}: {n!r} is not a lower-case name")
                continue
            if n in seen:
                problems.append(f"{n!r} is listed under {seen[n]} and {kind}")
            seen[n] = kind
            if n in WORD_NAMES or is_protected_word(n):
                problems.append(f"{kind}: {n!r} is also an ordinary word; leave it out")
    return problems


def check_general_tags(lines: list[str], name_forms: Iterable[str] = ()) -> list[str]:
    problems: list[str] = []
    names = set(name_forms)
    for tag, count in Counter(lines).items():
        if count > 1:
            problems.append(f"tag {tag!r} listed {count} times")
    for tag in lines:
        if tag != tag.strip() or tag != tag.lower() or "_" in tag or "  " in tag:
            problems.append(f"tag {tag!r}: lower case, spaces not underscores, stripped")
        if re.search(r"[()\[\]{}<>:|\\]", tag):
            problems.append(f"tag {tag!r} holds prompt syntax characters")
        if tag in names:
            problems.append(f"tag {tag!r} is also a name in names.jsonl")
    return problems


def check_tag_phrases(
    data: Mapping[str, Any], general: Iterable[str] = (), name_forms: Iterable[str] = ()
) -> list[str]:
    problems: list[str] = []
    general, names = set(general), set(name_forms)
    for tag, phrases in data.items():
        toks = re.findall(r"[A-Za-z0-9']+", tag)
        if tag != normalise_form(tag):
            problems.append(f"key {tag!r} is not normalised (lower case, spaces)")
        bad = [t for t in toks if is_protected_word(t)]
        if bad:
            problems.append(f"key {tag!r} holds protected words {bad}: such tags stay verbatim")
        if general and tag not in general:
            problems.append(f"key {tag!r} is not in general_tags.txt")
        if tag in names:
            problems.append(f"key {tag!r} is a name in names.jsonl")
        if not isinstance(phrases, list) or not 1 <= len(phrases) <= 4:
            problems.append(f"key {tag!r}: want a list of 1 to 4 phrases")
            continue
        if len(set(phrases)) != len(phrases) or tag in phrases:
            problems.append(f"key {tag!r}: phrases repeat each other or the tag")
        tag_gendered = set(toks) & GENDERED
        for p in phrases:
            if not isinstance(p, str) or not REPLACEMENT_RE.fullmatch(p):
                problems.append(f"key {tag!r}: phrase {p!r} must be lower-case letters, spaces, - ' , only")
                continue
            pw = words_of(p)
            introduced = sorted(set(pw) & (COLOUR_WORDS | INTRODUCED_FORBIDDEN))
            if introduced:
                problems.append(f"key {tag!r}: phrase {p!r} introduces colour/count/direction words {introduced}")
            if set(pw) & GENDERED and not tag_gendered:
                problems.append(f"key {tag!r}: phrase {p!r} adds a gender the tag does not have")
    return problems


# --- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def name_entries() -> list[dict[str, Any]]:
    return load_name_lines()


@pytest.fixture(scope="module")
def first_names_data() -> dict[str, Any]:
    return json.loads(FIRST_NAMES.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def general_lines() -> list[str]:
    return [t for t in GENERAL_TAGS.read_text(encoding="utf-8").splitlines() if t and not t.startswith("#")]


@pytest.fixture(scope="module")
def tag_phrase_data() -> dict[str, Any]:
    return json.loads(TAG_PHRASES.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def name_forms(name_entries: list[dict[str, Any]]) -> set[str]:
    return {normalise_form(f) for e in name_entries for f in forms(e)}


def _report(problems: list[str]) -> str:
    return f"{len(problems)} problems, first ones:\n" + "\n".join(problems[:30])


# --- the shipped tables --------------------------------------------------------------------------------


def test_names_table_follows_the_rules(name_entries: list[dict[str, Any]], first_names_data: dict[str, Any]) -> None:
    problems = check_names(name_entries, first_names_data)
    assert not problems, _report(problems)


def test_people_and_characters_are_described_by_their_look(name_entries: list[dict[str, Any]]) -> None:
    from smoothie.prompt.nlp import get_nlp

    problems = check_looks(name_entries, get_nlp())
    assert not problems, _report(problems)


def test_check_looks_catches_scenes_and_actions() -> None:
    from smoothie.prompt.nlp import get_nlp

    def entry(text: str) -> dict[str, Any]:
        return {**GOOD, "name": "Napoleon", "label": "person", "generic": "a short emperor", "variants": [text]}

    for scene in (
        "a general on a rearing horse",
        "a scientist at a chalkboard full of equations",
        "a boy whose nose grows",
    ):
        assert check_looks([entry(scene)]), scene
    for look in ("a boy with a scar over an eye", "a hobbit with a ring on a chain", "a girl wearing a red hat"):
        assert not check_looks([entry(look)], get_nlp()), look
    nlp = get_nlp()
    if nlp is None:
        pytest.skip("no spaCy English model: the verb check needs its tagger")
    for action in ("a rumpled professor sticking out their tongue", "a muscular basketball player dunking"):
        assert check_looks([entry(action)], nlp), action


def test_names_table_is_broad(name_entries: list[dict[str, Any]]) -> None:
    counts = Counter(e["label"] for e in name_entries)
    minimum = {"artist": 300, "character": 250, "person": 250, "brand": 120, "artwork": 50, "studio": 20}
    short = {k: (counts[k], v) for k, v in minimum.items() if counts[k] < v}
    assert not short, f"too few entries (have, want): {short}"


def test_every_entry_loads_and_every_form_finds_its_entry(name_entries: list[dict[str, Any]]) -> None:
    """Through the engine's own loader: no form is shadowed by another entry (the first one would win)."""
    table = tables.NameTable()
    for obj in name_entries:
        table.add(tables.entry_from_dict(obj))
    lost = [
        (form, obj["name"])
        for obj in name_entries
        for form in forms(obj)
        if (hit := table.get(form)) is None or hit.name != obj["name"]
    ]
    assert not lost, lost[:20]


@pytest.mark.parametrize(
    ("form", "label"),
    [
        ("Brad Pitt", "person"),
        ("Pitt", "person"),
        ("Ivan Aivazovsky", "artist"),
        ("Aivazovsky", "artist"),
        ("Vermeer", "artist"),
        ("McDonald's", "brand"),
        ("McDonald", "brand"),
        ("Homer Simpson", "character"),
        ("Homer", "character"),
        ("asuka langley soryu", "character"),
        ("souryuu_asuka_langley", "character"),
        ("Abraham Lincoln", "person"),
        ("Coca-Cola", "brand"),
        ("Yoda", "character"),
        ("Yoshitaka Amano", "artist"),
        ("Mario", "character"),
        ("studio ghibli", "studio"),
        ("ghibli", "studio"),
        ("Emma Watson", "person"),
        ("PlayStation", "brand"),
        ("Katsushika Hokusai", "artist"),
        ("disney", "studio"),
        ("sakimichan", "artist"),
        ("ilya kuvshinov", "artist"),
        ("Frodo", "character"),
        ("Audrey Hepburn", "person"),
        ("Hepburn", "person"),
        ("BBC", "brand"),
        ("Batman", "character"),
        ("Caravaggio", "artist"),
        ("Rembrandt", "artist"),
        ("Starbucks", "brand"),
        ("Girl with a Pearl Earring", "artwork"),
        ("Mona Lisa", "artwork"),
        ("greg rutkowski", "artist"),
        ("hatsune_miku", "character"),
    ],
)
def test_names_people_type_are_known(form: str, label: str) -> None:
    entry = tables.builtin_names().get(form)
    assert entry is not None, f"{form!r} is not in names.jsonl"
    assert entry.label == label


def test_first_names_follow_the_rules(first_names_data: dict[str, Any], name_forms: set[str]) -> None:
    problems = check_first_names(first_names_data)
    assert not problems, _report(problems)
    assert len(first_names_data["female"]) >= 250
    assert len(first_names_data["male"]) >= 250
    assert {"sarah", "lisa", "emma", "audrey"} <= set(first_names_data["female"])
    assert {"david", "brad", "abraham"} <= set(first_names_data["male"])


def test_general_tags_follow_the_rules(general_lines: list[str], name_forms: set[str]) -> None:
    problems = check_general_tags(general_lines, name_forms)
    assert not problems, _report(problems)
    assert len(general_lines) >= 500
    must = {"1girl", "solo", "looking at viewer", "short hair", "twintails", "plugsuit", "masterpiece"}
    must |= {"best quality", "absurdres", "highres", "hoodie", "1boy"}
    assert must <= set(general_lines), must - set(general_lines)


def test_tag_phrases_follow_the_rules(
    tag_phrase_data: dict[str, Any], general_lines: list[str], name_forms: set[str]
) -> None:
    problems = check_tag_phrases(tag_phrase_data, general_lines, name_forms)
    assert not problems, _report(problems)
    assert len(tag_phrase_data) >= 200
    assert {"solo", "looking at viewer", "twintails", "highres"} <= set(tag_phrase_data)


def test_tables_load_through_the_engine_loaders() -> None:
    assert len(tables.builtin_names()) > 1000
    assert "sarah" in tables.first_names()["female"]
    assert "looking at viewer" in tables.general_tags()
    assert "gazing at the viewer" in tables.tag_phrases()["looking at viewer"]


# --- the validators catch what they are written for ---------------------------------------------------

GOOD = {
    "name": "Rembrandt",
    "label": "artist",
    "aliases": ["Rembrandt van Rijn"],
    "generic": "dramatic chiaroscuro oil painting",
    "modifier": "chiaroscuro",
    "variants": ["moody baroque oil portrait with deep shadows", "baroque oil painting lit by a warm light"],
}


def test_a_good_entry_passes() -> None:
    assert check_entry(GOOD) == []
    assert check_names([GOOD, {**GOOD, "name": "Vermeer", "aliases": []}]) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"label": "painter"}, "label 'painter'"),
        ({"generic": "Dramatic oil painting"}, "lower-case letters"),
        ({"generic": "oil painting from 1642"}, "lower-case letters"),
        ({"generic": "a dramatic oil painting"}, "takes no article"),
        ({"generic": "painting in the manner of rembrandt"}, "contains its own name"),
        ({"variants": ["painting of the rembrandt van rijn school", "dark oil"]}, "contains its own name"),
        ({"generic": "dramatic chiaroscuro style"}, "ends in 'style'"),
        ({"modifier": "the chiaroscuro"}, "takes no article"),
        ({"variants": ["dark oil painting"]}, "1 variants"),
        ({"variants": ["dark oil painting", "dark oil painting"]}, "repeat"),
        ({"aliases": ["rembrandt"]}, "repeats the name"),
        ({"aliases": ["Rijn 1606"]}, "bare number"),
        (
            {"label": "person", "name": "Ada Brown", "aliases": [], "generic": "a woman with brown hair"},
            "own name 'brown'",
        ),
        ({"generic": "three dark figures in oil"}, "count/direction word 'three'"),
        ({"generic": "dark oil painting lit from the left"}, "count/direction word 'left'"),
        ({"generic": "dutch oil painting"}, "place or nationality"),
        ({"extra": 1}, "unknown keys"),
        ({"modifier_variants": []}, "0 modifier_variants"),
        ({"lowercase": True, "aliases": []}, "multi-word form"),
        ({"lowercase": "yes", "aliases": ["Rembrandt van Rijn"]}, "lowercase must be true"),
        ({"showcases": ["dark oil painting"]}, "showcases are for brands"),
        ({"label": "brand", "showcases": ["a dark oil painting"]}, "bare noun phrase"),
        ({"label": "brand", "showcases": ["oil painting", "oil painting"]}, "distinct"),
        ({"label": "brand", "showcases": ["oil painting", "red oil painting"]}, "says more than"),
    ],
)
def test_check_entry_catches(change: dict[str, Any], expected: str) -> None:
    problems = check_entry({**GOOD, **change})
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"label": "person", "generic": "rugged blond man", "variants": ["a blond man", "a tall man"]}, "article"),
        ({"label": "person", "generic": "an rugged blond man", "variants": ["a blond man", "a tall man"]}, "'a'"),
        ({"label": "person", "generic": "a man", "variants": ["a blond man", "a tall man"]}, "too bare"),
    ],
)
def test_check_entry_catches_shape_by_label(entry: dict[str, Any], expected: str) -> None:
    base = {**GOOD, "variants": ["a warrior with a sword", "a fighter in mail"], "aliases": []}
    problems = check_entry({**base, **entry})
    assert any(expected in p for p in problems), problems


def test_check_names_catches_problems_across_entries() -> None:
    twin = {**GOOD, "name": "Rembrandt Harmenszoon", "aliases": ["Rembrandt van Rijn"]}
    assert any("belongs to both" in p for p in check_names([GOOD, twin]))
    homer = {**GOOD, "name": "Homer Simpson", "aliases": ["David"]}
    assert any("bare first name" in p for p in check_names([homer], {"male": ["david"]}))
    leaky = {**GOOD, "name": "Vermeer", "aliases": [], "generic": "oil painting like rembrandt van rijn"}
    assert any("contains the name 'Rembrandt'" in p for p in check_names([GOOD, leaky]))


def test_check_first_names_catches() -> None:
    assert check_first_names({"female": ["sarah"], "male": ["david"], "neutral": ["alex"]}) == []
    assert check_first_names({"female": ["sarah"], "male": []})
    assert any("ordinary word" in p for p in check_first_names({"female": ["rose"], "male": [], "neutral": []}))
    assert any("listed under" in p for p in check_first_names({"female": ["alex"], "male": ["alex"], "neutral": []}))
    assert any("lower-case" in p for p in check_first_names({"female": ["Sarah"], "male": [], "neutral": []}))


def test_check_general_tags_catches() -> None:
    assert check_general_tags(["1girl", "solo"]) == []
    assert check_general_tags(["solo", "solo"])
    assert check_general_tags(["looking_at_viewer"])
    assert check_general_tags(["pokemon (creature)"])
    assert check_general_tags(["hatsune miku"], {"hatsune miku"})


def test_check_tag_phrases_catches() -> None:
    assert check_tag_phrases({"solo": ["alone", "a single figure"]}) == []
    assert check_tag_phrases({"red hair": ["crimson locks"]})
    assert check_tag_phrases({"looking back": ["glancing over the shoulder"]})
    assert check_tag_phrases({"1girl": ["a girl"]})
    assert check_tag_phrases({"solo": ["a lone girl"]})
    assert check_tag_phrases({"smile": ["Smiling"]})
    assert check_tag_phrases({"smile": ["smiling with two dimples"]})
    assert check_tag_phrases({"hat": ["a red hat"]})
    assert check_tag_phrases({"sitting": ["sitting", "seated"]})
    assert check_tag_phrases({"smile": []})
    assert check_tag_phrases({"smile": ["grinning"]}, general=["solo"])


# --- the danbooru tag database (tagcomplete's CSV) and user names files ---------------------------------

# tagcomplete's format: tag,category,count,"aliases" (category 0 general, 1 artist, 3 copyright, 4 character, 5 meta)
DANBOORU = """1girl,0,5000000,"1girls,sole_female"
highres,5,4000000,
zzyzx_qorvath,1,2400,
blorptown_(series),3,1900,"blorp"
mirelle_vantafeld_(blorptown),4,1200,"vantafeld_mirelle"
plugblade,0,800,
saber_(blorptown),4,500,"saber"
saber,0,300,
"comma,tag",0,10,
broken_row,x,12,
"""


@pytest.fixture
def extensions(tmp_path: Path) -> Path:
    tags = tmp_path / "a1111-sd-webui-tagcomplete" / "tags"
    tags.mkdir(parents=True)
    (tags / "danbooru.csv").write_text(DANBOORU, encoding="utf-8")
    return tmp_path


def test_tagcomplete_csv_is_found_and_read(extensions: Path) -> None:
    path = tables.find_tagcomplete_csv(extensions)
    assert path is not None
    db = tables.load_tag_database(path)
    assert db.get("zzyzx qorvath").label == "artist"  # type: ignore[union-attr]
    assert db.get("blorp").label == "copyright"  # an alias  # type: ignore[union-attr]
    entry = db.get("Mirelle_Vantafeld \\(Blorptown\\)")  # as a prompt writes it: escaped, any case
    assert entry is not None and entry.label == "character"
    assert entry.aliases == ("mirelle vantafeld",)  # the name without its qualifier
    assert db.get("1girl") is None and db.is_general("1girl") and db.is_general("highres")
    assert db.category("comma,tag") == tables.GENERAL
    assert db.lookup("saber") == ("saber", tables.GENERAL, 300)  # an alias never shadows a real tag
    assert db.lookup("broken row") is None
    assert tables.tagcomplete_names(str(extensions)) is db  # loaded once per file version


def test_tag_database_is_reloaded_when_the_file_changes(tmp_path: Path) -> None:
    f = tmp_path / "tags.csv"
    f.write_text("kivvo_(x),4,10,\n", encoding="utf-8")
    first = tables.load_tag_database(f)
    assert first.get("kivvo (x)") is not None
    f.write_text("kivvo_(x),4,10,\nqapla,1,20,\n", encoding="utf-8")
    os.utime(f, ns=(first_ns := f.stat().st_mtime_ns + 10**9, first_ns))
    second = tables.load_tag_database(f)
    assert second is not first and second.get("qapla") is not None


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), ("", "no tags found"), ("just some text\nand more\n", "no tags found")],
)
def test_a_bad_tag_database_is_named(tmp_path: Path, content: str | None, message: str) -> None:
    f = tmp_path / "bad.csv"
    if content is not None:
        f.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=f"tag database .*bad.csv.*{message}"):
        tables.load_tag_database(f)


def test_a_directory_is_not_a_tag_database(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a file"):
        tables.load_tag_database(tmp_path)


@pytest.fixture
def disk_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache directory, and every tag database big enough to be cached there."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SMOOTHIE_CACHE_DIR", str(cache))
    monkeypatch.setattr(tables, "DISK_CACHE_MIN_BYTES", 0)
    return cache


def _new_process(monkeypatch: pytest.MonkeyPatch, *, csv_readable: bool) -> None:
    """Forget what this process loaded; with ``csv_readable`` False, parsing the CSV fails the test."""
    tables._DB_CACHE.clear()
    if not csv_readable:

        def parse(path: Path) -> list[list[str]]:
            raise AssertionError(f"{path} was parsed again instead of read from the cache")

        monkeypatch.setattr(tables, "_read_tag_rows", parse)


def test_a_later_process_reads_the_parsed_database_from_the_user_cache(
    extensions: Path, disk_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv_path = extensions / "a1111-sd-webui-tagcomplete" / "tags" / "danbooru.csv"
    first = tables.load_tag_database(csv_path)
    [cached] = (disk_cache / "tag-database").iterdir()
    assert not list(csv_path.parent.glob("*.bin"))  # nothing written next to the CSV
    _new_process(monkeypatch, csv_readable=False)
    second = tables.load_tag_database(csv_path)
    assert second is not first and second.path == csv_path
    assert second.parts() == first.parts()
    assert second.get("blorp").label == "copyright"  # type: ignore[union-attr]
    assert second.lookup("saber") == ("saber", tables.GENERAL, 300)
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]  # no temporary file left


def test_the_cache_follows_the_csv_and_survives_damage(
    tmp_path: Path, disk_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "tags.csv"
    f.write_text("kivvo_(x),4,10,\n", encoding="utf-8")
    tables.load_tag_database(f)
    [cached] = (disk_cache / "tag-database").iterdir()
    f.write_text("kivvo_(x),4,10,\nqapla,1,20,\n", encoding="utf-8")
    os.utime(f, ns=(later := f.stat().st_mtime_ns + 10**9, later))
    _new_process(monkeypatch, csv_readable=True)
    assert tables.load_tag_database(f).get("qapla") is not None  # the changed CSV, not the stale cache
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]  # replaced, one file per CSV
    for damage in (b"", cached.read_bytes()[:-7], cached.read_bytes()[:-1] + b"!", b"not a cache at all"):
        cached.write_bytes(damage)
        _new_process(monkeypatch, csv_readable=True)
        assert tables.load_tag_database(f).get("qapla") is not None
    _new_process(monkeypatch, csv_readable=False)  # and the last rebuild was written back
    assert tables.load_tag_database(f).get("kivvo (x)") is not None


def test_an_unwritable_cache_directory_only_costs_the_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("SMOOTHIE_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(tables, "DISK_CACHE_MIN_BYTES", 0)
    f = tmp_path / "tags.csv"
    f.write_text("plovrak,4,100,\n", encoding="utf-8")
    assert tables.load_tag_database(f).get("plovrak") is not None


def test_a_small_csv_is_not_cached_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMOOTHIE_CACHE_DIR", str(tmp_path / "cache"))
    f = tmp_path / "tags.csv"
    f.write_text("plovrak,4,100,\n", encoding="utf-8")
    tables.load_tag_database(f)
    assert not (tmp_path / "cache").exists()


def test_the_user_cache_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SMOOTHIE_CACHE_DIR", str(tmp_path))
    assert tables.user_cache_dir() == tmp_path
    monkeypatch.delenv("SMOOTHIE_CACHE_DIR")
    monkeypatch.setattr(tables.sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert tables.user_cache_dir() == tmp_path / "xdg" / "sd-webui-smoothie"


def test_tag_key_reads_every_spelling() -> None:
    for form in ("kafka_(honkai:_star_rail)", "kafka \\(honkai: star rail\\)", "Kafka (Honkai: Star Rail)"):
        assert tables.tag_key(form) == "kafka (honkai: star rail)"


def test_user_names_file(tmp_path: Path) -> None:
    f = tmp_path / "names.txt"
    f.write_text("# my characters\nCaptain Quasar | character | a caped space hero\nMarta\n", encoding="utf-8")
    entries = tables.load_user_names(f)
    assert [(e.name, e.label, e.generic) for e in entries] == [
        ("Captain Quasar", "character", "a caped space hero"),
        ("Marta", "person", ""),
    ]


def test_user_names_file_bad_label_is_named(tmp_path: Path) -> None:
    f = tmp_path / "names.txt"
    f.write_text("Zed | wizard\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"names.txt:1: label 'wizard'"):
        tables.load_user_names(f)


def test_partial_names_are_unique_words_of_characters() -> None:
    table = tables.NameTable()
    table.add(tables.NameEntry("Princess Peach", "character", "a princess in pink"))
    table.add(tables.NameEntry("Princess Zelda", "character", "an elf-eared princess"))
    assert table.partial("Peach").name == "Princess Peach"  # type: ignore[union-attr]
    assert table.partial("princess") is None  # two characters share it


def test_word_names_are_words_and_not_first_names(first_names_data: dict[str, Any]) -> None:
    words = tables.word_names()
    given = {n for names in first_names_data.values() for n in names}
    assert {"hope", "rose", "amber"} <= words
    assert not words & given
    assert tables.word_names("female") < words


def test_the_environment_names_a_default_tag_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "env.csv"
    f.write_text("plovrak,4,100,\n", encoding="utf-8")
    monkeypatch.setenv("SMOOTHIE_TAG_DATABASE", str(f))
    db = tables.default_tag_database(str(tmp_path))
    assert db is not None and db.get("plovrak") is not None
    monkeypatch.setenv("SMOOTHIE_TAG_DATABASE", str(tmp_path / "missing.csv"))
    assert tables.default_tag_database(str(tmp_path)) is None  # a warning, never an error at generation time
