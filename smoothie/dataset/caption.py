"""Standardised captions: schema, controlled vocabulary, template, compounds, number lint, left/right swap.

A caption is assembled from *parts*: the fields of the schema (subject, pose, expression, eyes, mouth,
gaze, camera angle, shot, setting), free tags, the trigger word and the dominant colours. Text from a
sidecar, a tagger or a captioner is split into comma-separated tags (WebUI syntax — ``(a, b:1.2)``,
``<lora:…>``, ``[a:b:5]`` — is never split); each tag the vocabulary knows is filed under its field as
the canonical term, the rest stay free tags in their original order. The template then lays the parts
out; a comma-separated segment whose placeholders are all empty disappears with its comma.
"""

from __future__ import annotations

import json
import logging
import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FIELDS = ("subject", "pose", "expression", "eyes", "mouth", "gaze", "camera angle", "shot", "setting")
PLACEHOLDERS = frozenset({f.replace(" ", "_") for f in FIELDS} | {"trigger", "tags", "colours"})


# --------------------------------------------------------------------------------------------- template


def check_template(template: str) -> None:
    """Raise ``ValueError`` naming the problem if ``template`` is not a valid caption template."""
    if not isinstance(template, str) or not template.strip():
        raise ValueError(f"template: expected a non-empty string, got {template!r}")
    try:
        names = [name for _, name, spec, conv in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ValueError(f"template {template!r}: {exc}") from None
    unknown = sorted({n for n in names if n not in PLACEHOLDERS})
    if unknown:
        allowed = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
        raise ValueError(f"template {template!r}: unknown placeholder(s) {unknown}; allowed: {allowed}")
    if not names:
        raise ValueError(f"template {template!r}: has no placeholder; use some of {sorted(PLACEHOLDERS)}")


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill ``template``; segments (between top-level commas) whose placeholders are all empty are dropped."""
    out: list[str] = []
    for segment in template.split(","):
        names = [name for _, name, _, _ in string.Formatter().parse(segment) if name is not None]
        if names and not any(values.get(n, "").strip() for n in names):
            continue
        text = segment.format_map(_Blank(values)).strip()
        if text:
            out.append(text)
    return _tidy(", ".join(out))


class _Blank(dict[str, str]):
    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)

    def __missing__(self, key: str) -> str:
        return ""


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*,\s*(,\s*)+", ", ", text)
    text = re.sub(r"\s+,", ",", text)
    return text.strip(" ,")


# ------------------------------------------------------------------------------------------ vocabulary


def _norm(tag: str) -> str:
    return " ".join(tag.replace("_", " ").lower().split())


@dataclass(frozen=True)
class Vocabulary:
    """Field → canonical term → synonyms, plus tags to drop. Build with :func:`load_vocabulary`."""

    fields: Mapping[str, Mapping[str, tuple[str, ...]]]
    drop: frozenset[str] = frozenset()
    lookup: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    phrases: tuple[tuple[re.Pattern[str], str], ...] = ()
    # Terms found inside sentences (a captioner's): every canonical term and every synonym of 2+ words.
    terms: tuple[tuple[re.Pattern[str], str, str], ...] = ()

    @classmethod
    def build(cls, fields: Mapping[str, Mapping[str, Sequence[str]]], drop: Iterable[str] = ()) -> Vocabulary:
        lookup: dict[str, tuple[str, str]] = {}
        clean: dict[str, dict[str, tuple[str, ...]]] = {}
        phrase_terms: list[tuple[str, str]] = []
        for fname, terms in fields.items():
            if fname not in FIELDS:
                raise ValueError(f"vocabulary: unknown field {fname!r}; fields are {list(FIELDS)}")
            clean[fname] = {}
            for canonical, synonyms in terms.items():
                syns = tuple(str(s) for s in (synonyms or ()))
                clean[fname][canonical] = syns
                for term in (canonical, *syns):
                    key = _norm(term)
                    if key in lookup and lookup[key] != (fname, canonical):
                        raise ValueError(
                            f"vocabulary: {term!r} is listed under both {lookup[key]} and {(fname, canonical)}"
                        )
                    lookup[key] = (fname, canonical)
                for syn in syns:
                    if len(_norm(syn).split()) >= 2 and _norm(syn) != _norm(canonical):
                        phrase_terms.append((syn, canonical))
        phrase_terms.sort(key=lambda p: -len(p[0]))
        phrases = tuple((_phrase_re(s), c) for s, c in phrase_terms)
        in_text = sorted(
            {(t, f, c) for f, ts in clean.items() for c, syns in ts.items() for t in (c, *syns)
             if t == c or len(_norm(t).split()) >= 2},
            key=lambda x: (-len(x[0]), x),
        )  # fmt: skip
        found = tuple((_phrase_re(t), f, c) for t, f, c in in_text if _norm(t) not in {_norm(d) for d in drop})
        return cls(clean, frozenset(_norm(d) for d in drop), lookup, phrases, found)

    def classify(self, tag: str) -> tuple[str | None, str]:
        """``(field, canonical)`` for a known tag, ``(None, tag)`` for a free one, ``("", "")`` to drop it."""
        key = _norm(tag)
        if key in self.drop:
            return "", ""
        if key in self.lookup:
            return self.lookup[key]
        return None, tag

    def terms_in(self, text: str) -> list[tuple[str, str]]:
        """``(field, canonical)`` of the vocabulary's terms inside a sentence, longest first, each stretch of
        text used once (``a woman smiling at the camera`` → subject woman, expression smiling, gaze looking at
        viewer). Single-word synonyms are not looked for: inside a sentence they are too ambiguous."""
        found: list[tuple[str, str]] = []
        taken: list[tuple[int, int]] = []
        for pattern, fname, canonical in self.terms:
            for m in pattern.finditer(text):
                if any(m.start() < e and s < m.end() for s, e in taken):
                    continue
                taken.append(m.span())
                if (fname, canonical) not in found:
                    found.append((fname, canonical))
        return found

    def normalise_text(self, text: str) -> str:
        """Multi-word synonyms inside longer text replaced by their canonical term."""
        for pattern, canonical in self.phrases:
            text = pattern.sub(canonical, text)
        return text

    def as_json(self) -> dict[str, Any]:
        return {
            "fields": {f: {c: list(s) for c, s in terms.items()} for f, terms in self.fields.items()},
            "drop": sorted(self.drop),
        }


def _phrase_re(phrase: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in _norm(phrase).split()]
    return re.compile(r"(?<![^\W_])" + r"[\s_]+".join(words) + r"(?![^\W_])", re.IGNORECASE)


def default_vocabulary_data() -> dict[str, Any]:
    text = resources.files("smoothie.dataset").joinpath("data/vocabulary.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def load_vocabulary(path: Path | None = None) -> Vocabulary:
    """The default vocabulary, with the user's JSON file (same shape) merged over it."""
    data = default_vocabulary_data()
    fields: dict[str, dict[str, Any]] = {f: dict(t) for f, t in data["fields"].items()}
    drop = set(data.get("drop", []))
    if path is not None:
        try:
            user = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"vocabulary: file {str(path)!r} does not exist") from None
        except (OSError, ValueError) as exc:
            raise ValueError(f"vocabulary: cannot read {str(path)!r} as JSON: {exc}") from None
        if not isinstance(user, dict) or not isinstance(user.get("fields", {}), dict):
            raise ValueError(f"vocabulary: {str(path)!r} must be an object with a 'fields' object")
        for fname, terms in user.get("fields", {}).items():
            if terms is None:
                fields.pop(fname, None)
                continue
            if not isinstance(terms, dict):
                raise ValueError(f"vocabulary: field {fname!r} in {str(path)!r} must map terms to synonym lists")
            target = fields.setdefault(fname, {})
            for canonical, synonyms in terms.items():
                if synonyms is None:
                    target.pop(canonical, None)
                elif isinstance(synonyms, list) and all(isinstance(s, str) for s in synonyms):
                    target[canonical] = synonyms
                else:
                    raise ValueError(f"vocabulary: {fname}/{canonical} in {str(path)!r} must be a list of strings")
        drop |= set(user.get("drop", []))
        drop -= set(user.get("keep", []))
    return Vocabulary.build(fields, drop)


# ----------------------------------------------------------------------------------------------- parts


_OPEN = "([{<"
_CLOSE = ")]}>"


def split_tags(text: str) -> list[str]:
    """Comma-separated tags of ``text``; commas inside ``()``, ``[]``, ``{}``, ``<>`` do not split."""
    tags: list[str] = []
    depth = 0
    current: list[str] = []
    escaped = False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
            continue
        if ch == "\\":
            current.append(ch)
            escaped = True
            continue
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
        if ch in {",", "\n"} and depth == 0:
            tags.append("".join(current))
            current = []
        else:
            current.append(ch)
    tags.append("".join(current))
    return [" ".join(t.split()) for t in tags if t.strip()]


@dataclass
class CaptionParts:
    """The schema fields and free tags of one caption, before the template lays them out."""

    fields: dict[str, list[str]] = field(default_factory=lambda: {f: [] for f in FIELDS})
    tags: list[str] = field(default_factory=list)

    def add(self, vocabulary: Vocabulary, text: str) -> None:
        for tag in split_tags(text):
            fname, value = vocabulary.classify(tag)
            if fname == "":
                continue
            if fname is None:
                value = vocabulary.normalise_text(value)
                if _norm(value) not in {_norm(t) for t in self.tags}:
                    self.tags.append(value)
            elif value not in self.fields[fname]:
                self.fields[fname].append(value)

    def add_sentence(self, vocabulary: Vocabulary, sentence: str) -> None:
        """A captioner's sentence: the schema terms it says fill their (still empty) fields, and the sentence,
        normalised, is kept as a free tag (it says more than its terms)."""
        for fname, canonical in vocabulary.terms_in(sentence):
            if not self.fields[fname]:
                self.fields[fname].append(canonical)
        self.add(vocabulary, sentence)

    def set_default(self, fname: str, value: str) -> None:
        if value and not self.fields[fname]:
            self.fields[fname].append(value)

    def values(self, trigger: str = "", colours: str = "") -> dict[str, str]:
        out = {f.replace(" ", "_"): ", ".join(v) for f, v in self.fields.items()}
        out["tags"] = ", ".join(self.tags)
        out["trigger"] = trigger
        out["colours"] = colours
        return out

    def all_tags(self) -> list[str]:
        """Every concept in the caption (fields and free tags), for the co-occurrence report."""
        return [v for f in FIELDS for v in self.fields[f]] + list(self.tags)


# ------------------------------------------------------------------------------------------- compounds


@dataclass(frozen=True)
class Compounds:
    """Phrases that must stay bound, rewritten as one token (``mayonnaise bottle`` → ``mayonnaise-container``)."""

    rules: tuple[tuple[str, str], ...] = ()

    @classmethod
    def load(cls, path: Path | None) -> Compounds:
        """From JSON (``{"phrase": "compound"}``) or text: ``phrase -> compound`` per line, or just ``phrase``
        (joined with hyphens). ``#`` starts a comment."""
        if path is None:
            return cls()
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ValueError(f"compounds: file {str(path)!r} does not exist") from None
        except OSError as exc:
            raise ValueError(f"compounds: cannot read {str(path)!r}: {exc}") from None
        rules: list[tuple[str, str]] = []
        if text.lstrip().startswith("{"):
            try:
                data = json.loads(text)
            except ValueError as exc:
                raise ValueError(f"compounds: {str(path)!r} is not valid JSON: {exc}") from None
            for phrase, compound in data.items():
                if not isinstance(compound, str) or not compound.strip():
                    raise ValueError(f"compounds: {phrase!r} in {str(path)!r} must map to a non-empty string")
                rules.append((phrase, compound.strip()))
        else:
            for number, raw_line in enumerate(text.splitlines(), 1):
                line = raw_line.split("#", 1)[0].strip()
                if not line:
                    continue
                for arrow in ("=>", "->", "→"):
                    if arrow in line:
                        phrase, compound = (p.strip() for p in line.split(arrow, 1))
                        break
                else:
                    phrase, compound = line, "-".join(line.split())
                if not phrase or not compound:
                    raise ValueError(f"compounds: {str(path)!r} line {number}: expected 'phrase -> compound'")
                rules.append((phrase, compound))
        return cls.from_pairs(rules)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Compounds:
        rules = sorted({(p.strip(), c.strip()) for p, c in pairs if p.strip()}, key=lambda r: (-len(r[0]), r))
        return cls(tuple(rules))

    def apply(self, text: str) -> str:
        for phrase, compound in self.rules:
            text = _phrase_re(phrase).sub(compound.replace("\\", "\\\\"), text)
        return text


_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "in",
        "on",
        "at",
        "to",
        "with",
        "without",
        "by",
        "for",
        "from",
        "into",
        "onto",
        "over",
        "under",
        "near",
        "behind",
        "beside",
        "is",
        "are",
        "be",
        "her",
        "his",
        "their",
        "its",
        "this",
        "that",
        "these",
        "those",
        "some",
        "very",
    ]
)
_PREPOSITIONS = frozenset({"on", "in", "with", "at", "over", "under", "behind"})


# Words that never make a compound: colours (a model must learn "red" apart from "ball") and the words of
# framing, direction and the colour phrase ("grey tones", "medium shot", "facing left", "from above").
_COLOUR_WORDS = frozenset(
    "black grey gray white red orange yellow green teal blue purple pink brown beige cyan magenta violet gold "
    "golden silver tan cream maroon navy olive turquoise light dark pale bright deep vivid pastel muted "
    "monochrome colour colours color colors coloured colored tone tones toned hue hues".split()
)
_FRAMING_WORDS = frozenset(
    "shot shots close-up closeup medium cowboy portrait view angle facing left right viewer profile frontal "
    "photo photograph picture image framing background foreground bokeh blurry telephoto dutch".split()
)
_FRAMING_PHRASES = (
    "upper body", "lower body", "full body", "eye level", "close up", "from above", "from below", "from behind",
    "from side", "looking at", "looking away", "looking up", "looking down", "looking back", "depth of field",
)  # fmt: skip


def compound_candidate(phrase: str) -> bool:
    """Whether ``phrase`` may be suggested as a compound: no colour or framing word or phrase in it."""
    if any(w in _COLOUR_WORDS or w in _FRAMING_WORDS for w in phrase.split()):
        return False
    return not any(f" {p} " in f" {phrase} " for p in _FRAMING_PHRASES)


def suggest_compounds(
    captions: Iterable[str], min_count: int = 3, vocabulary: Vocabulary | None = None
) -> list[dict[str, Any]]:
    """Recurring multi-word concepts that may leak apart in training, with a hyphenated suggestion.

    A phrase of 2–4 words inside one tag, not starting or ending with a function word, seen in at least
    ``min_count`` captions and in at least 2 % of them, not already a term of the vocabulary, and with no
    colour or framing word in it (:func:`compound_candidate`: "grey tones" or "medium shot" are not
    concepts to bind).
    ``X … on Y`` phrases (``cross tattoo on arm``) are suggested as ``X-Y`` (``cross-arm``), other phrases
    joined with hyphens. Past 2,000 captions, phrases still rarer than 0.2 % are forgotten as the count
    goes (lossy counting, Manku & Motwani 2002), so memory stays bounded on large folders.
    """
    counts: Counter[str] = Counter()
    total = 0
    for caption in captions:
        total += 1
        if total % 2000 == 0:  # lossy counting: forget phrases still rare, so memory stays bounded
            rare = max(2, total // 500)
            for phrase in [p for p, c in counts.items() if c < rare]:
                del counts[phrase]
        seen: set[str] = set()
        for tag in split_tags(caption):
            words = re.findall(r"[a-z][a-z'-]*", tag.lower())
            for n in (2, 3, 4):
                for i in range(len(words) - n + 1):
                    gram = words[i : i + n]
                    if gram[0] in _STOP or gram[-1] in _STOP or any("-" in w for w in gram):
                        continue
                    inner = [w for w in gram[1:-1] if w in _STOP]
                    if len(inner) > 1 or any(w not in _PREPOSITIONS for w in inner):
                        continue
                    phrase = " ".join(gram)
                    if compound_candidate(phrase):
                        seen.add(phrase)
        counts.update(seen)
    floor = max(min_count, int(0.02 * total + 0.999))
    known = set(vocabulary.lookup) if vocabulary is not None else set()
    frequent = {p: c for p, c in counts.items() if c >= floor and p not in known}
    # Keep the longest phrases: drop a phrase contained in a longer one seen as often.
    out: list[dict[str, Any]] = []
    for phrase, count in sorted(frequent.items(), key=lambda kv: (-len(kv[0].split()), -kv[1], kv[0])):
        if any(f" {phrase} " in f" {o['phrase']} " and o["count"] >= count for o in out):
            continue
        words = phrase.split()
        mid = [i for i, w in enumerate(words) if w in _PREPOSITIONS]
        suggestion = f"{words[0]}-{words[-1]}" if mid and 0 < mid[0] < len(words) - 1 else "-".join(words)
        out.append({"phrase": phrase, "suggestion": suggestion, "count": count})
    out.sort(key=lambda o: (-o["count"], o["phrase"]))
    return out


# ------------------------------------------------------------------------------------------------ lint


_DECADE = re.compile(
    r"(?<![\w'’])(?:['’]?\d0s|1[5-9]\d0s|20[0-2]0s|(?:nineteen-)?(?:twenties|thirties|forties|fifties|sixties|"
    r"seventies|eighties|nineties))(?!\w)",
    re.IGNORECASE,
)
_NUMBER_WORDS = [
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "dozen",
]
_COUNT = re.compile(r"(?<![\w'’])(\d+|" + "|".join(_NUMBER_WORDS) + r")\s+([a-z]+)", re.IGNORECASE)


def lint_numbers(caption: str) -> list[str]:
    """Warnings for ambiguous numbers: a decade (``70s``, ``'80s``, ``1990s``) in a caption that also counts
    something (``2 women``, ``three cats``): a model learns the digits of both as counts."""
    decades = [m.group(0) for m in _DECADE.finditer(caption)]
    if not decades:
        return []
    spans = [m.span() for m in _DECADE.finditer(caption)]
    counts = [m.group(0) for m in _COUNT.finditer(caption) if not any(lo <= m.start(1) < hi for lo, hi in spans)]
    if not counts:
        return []
    return [
        f"ambiguous numbers: the decade {d!r} next to the count {counts[0]!r}; "
        "write the decade as a style ('1970s-style') or spell the count out"
        for d in decades
    ]


# -------------------------------------------------------------------------------------------- left/right

_LR_PAIRS = (
    ("left", "right"),
    ("leftward", "rightward"),
    ("leftwards", "rightwards"),
    ("leftmost", "rightmost"),
    ("lefthand", "righthand"),
    ("lefthanded", "righthanded"),
    ("lefty", "righty"),
)
_LR_MAP = dict(_LR_PAIRS) | {b: a for a, b in _LR_PAIRS}
_LR_WORDS = "|".join(sorted(_LR_MAP, key=len, reverse=True))
_LR_RE = re.compile(r"(?<![^\W_])(" + _LR_WORDS + r")(?![^\W_])", re.IGNORECASE)


def swap_left_right(text: str) -> str:
    """Swap left and right, word by word, keeping case (``Left hand`` → ``Right hand``, ``LEFT`` → ``RIGHT``).

    For the caption of a mirrored image. Hyphens and underscores separate words (``left-handed`` →
    ``right-handed``, ``left_hand`` → ``right_hand``); words in mixed case (``lEft``) are left alone, so
    swapping twice always gives the text back. Word-level: "all right" becomes "all left" too.
    """

    def repl(match: re.Match[str]) -> str:
        word = match.group(0)
        other = _LR_MAP[word.lower()]
        if word.islower():
            return other
        if word.isupper():
            return other.upper()
        if word[0].isupper() and word[1:].islower():
            return other.capitalize()
        return word

    return _LR_RE.sub(repl, text)
