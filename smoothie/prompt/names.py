"""Find proper nouns in prompt text and replace them with generic descriptions.

Sources, strongest first: the user's lists (names to keep, extra names), the built-in table
(:mod:`smoothie.prompt.tables`), the tagcomplete danbooru database when installed, context rules (``by X``,
``in the style of X``, ``X style``, ``named X``) and spaCy NER / proper-noun tags. Each name gets a label
(person, artist, character, brand, artwork, studio, place) and a replacement chosen for its position:

* ``a woman named Sarah`` → ``a woman`` (the name is dropped: the noun already describes her);
* ``by Rembrandt`` → ``dramatic chiaroscuro oil painting`` (a style description);
* ``Starbucks apron`` → ``green coffee-shop apron`` (a brand before a noun becomes an adjective);
* ``Vermeer lighting`` / ``ghibli style`` → the artist's adjectival form;
* ``Brad Pitt drinking coffee`` → ``a rugged blond man drinking coffee``.

Places are found and kept unless ``scrub_places`` is set. Numbers, colours and directions are never names.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from smoothie.prompt import tables
from smoothie.prompt.invariants import is_protected_word
from smoothie.prompt.nlp import get_nlp, is_english_word
from smoothie.prompt.tables import NameEntry, NameTable, normalise_form
from smoothie.prompt.text import article as _article
from smoothie.prompt.text import fix_articles, squeeze
from smoothie.prompt.text import strip_article as _strip_article

log = logging.getLogger(__name__)

# Words: letters/digits with inner apostrophes, hyphens and dots ("McDonald's", "Coca-Cola", "St.").
_WORD = re.compile(r"[A-Za-z0-9À-ÖØ-öø-ÿ](?:[\wÀ-ÖØ-öø-ÿ]|['’\-\.](?=[\wÀ-ÖØ-öø-ÿ]))*")
_BY_CONTEXT = re.compile(
    r"(?:\b(?P<noun>(?:(?:concept|digital|fantasy|poster|pixel|line|fan|cover|key|splash|comic|manga|anime|cel|"
    r"vector|oil|ink|pencil|watercolou?r)\s+)?(?:art|artwork|painting|paintings|illustration|drawing|photo|"
    r"photograph|photography|picture|image|work|works|poster|comic|manga|anime))\s+)?\b(?P<verb>[a-z]+(?:ed|wn|ne|de|ot)\s+)?by\s+$|"
    r"\b(?:in\s+the\s+)?(?:style|manner|spirit|tradition)\s+of\s+$|\binspired\s+by\s+$|\bà\s+la\s+$",
    re.IGNORECASE,
)
_NAMED_CONTEXT = re.compile(r"\s*\b(?:named|called|nicknamed)\s+$", re.IGNORECASE)
_STYLE_AFTER = re.compile(
    r"^(?:['’]s)?(?:\s+|-)(?:style|styled|aesthetic|aesthetics|lighting|colou?rs|colou?ring|palette|vibes?|"
    r"inspired|esque|look|brushwork|composition|mood|feel)\b",
    re.IGNORECASE,
)
_ARTICLE_BEFORE = re.compile(r"\b(?:a|an|the)\s+$", re.IGNORECASE)
_NON_NOUN_NEXT = frozenset(
    """and or but with without in on at of for from to by as into onto over under near behind beside while
    who which that is are was were be being been has have had its their his her our your my this these
    those a an the""".split()
)
_DEFAULT_GENERIC = {
    "person": "a person",
    "artist": "distinctive artistic style",
    "character": "a fictional character",
    "brand": "branded product",
    "artwork": "a classic painting",
    "studio": "animated film style",
    "place": "",
}
_DEFAULT_VARIANTS = {
    "artist": ("expressive painterly style", "refined illustrative style", "detailed artistic rendering"),
    "character": ("a costumed character", "a storybook character"),
    "artwork": ("a famous old painting", "a renowned classical artwork"),
    "studio": ("animated feature film style", "polished animation style"),
}
# Nouns a person or character name modifies as an adjective: "Batman mask" -> "bat-themed vigilante mask".
_MERCH_NOUNS = frozenset(
    """costume costumes cosplay outfit outfits mask masks suit helmet figure figurine figurines toy toys doll dolls
    plush plushie poster posters shirt t-shirt hoodie sticker stickers logo mug lunchbox tattoo statue lego emblem
    themed theme merch merchandise fanart fan-art cake backpack pajamas onesie""".split()
)
_DEFAULT_MODIFIER = {"artist": "painterly", "studio": "animated"}
_STYLE_LABELS = frozenset({"artist", "studio"})
_NER_LABELS = {
    "PERSON": "person",
    "ORG": "brand",
    "PRODUCT": "brand",
    "WORK_OF_ART": "artwork",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
}
_PLACE_GENERIC = {"GPE": "a city", "LOC": "a landscape", "FAC": "a landmark"}


@dataclass(frozen=True)
class Name:
    """A name found in a prompt: ``text`` as written, its ``label`` and what replaced it."""

    text: str
    label: str
    replacement: str
    source: str = ""
    variants: tuple[str, ...] = ()

    def to_json(self) -> dict[str, str]:
        return {"text": self.text, "label": self.label, "replacement": self.replacement}


@dataclass(frozen=True)
class NameOptions:
    """How names are found: names to keep, extra names, and whether places are scrubbed too."""

    keep: tuple[str, ...] = ()
    extra: tuple[NameEntry, ...] = ()
    scrub_places: bool = False
    use_ner: bool = True
    use_tagcomplete: bool = True
    extensions_dir: str | None = None  # where to look for a1111-sd-webui-tagcomplete (default: next to us)


@dataclass
class _Found:
    start: int
    end: int
    entry: NameEntry
    ner_label: str = ""


@dataclass
class _Context:
    """Per-prompt detection results shared by all text leaves of the prompt."""

    options: NameOptions
    ner: dict[str, tuple[str, str]] = field(default_factory=dict)  # surface -> (label, NER label)
    found: list[Name] = field(default_factory=list)
    before: str = ""


class Genericiser:
    """Detect and replace names; one instance is reused across prompts (tables are loaded once)."""

    def __init__(self, options: NameOptions | None = None) -> None:
        self.options = options or NameOptions()
        self.table = tables.builtin_names()
        self.user = NameTable()
        for entry in self.options.extra:
            self.user.add(entry, override=True)
        self.danbooru = tables.tagcomplete_names(self.options.extensions_dir) if self.options.use_tagcomplete else None
        self.keep = tuple(normalise_form(k) for k in self.options.keep if k.strip())

    # --- detection -------------------------------------------------------------------------------------

    def analyse(self, context_text: str, tag_phrases: Sequence[str] = (), doc: Any = None) -> _Context:
        """Run NER once over the whole prompt (and over suspicious tags of tag-style chunks); ``doc`` is the
        context already parsed (see :meth:`analyse_many`)."""
        ctx = _Context(self.options)
        if not self.options.use_ner:
            return ctx
        nlp = get_nlp()
        if nlp is None:
            return ctx
        if doc is None:
            doc = nlp(context_text)
        for ent in doc.ents:
            label = _NER_LABELS.get(ent.label_)
            if label is None or not self._plausible_entity(ent.text, context_text, ent.start_char):
                continue
            if ent.text == ent.text.lower() and ent.label_ != "PERSON":  # "mech", "plugsuit": things, not brands
                continue
            first = normalise_form(ent.text).split()[0]
            acts = ent.end < len(doc) and doc[ent.end].tag_ == "VBG"  # "X holding a cup": X is someone
            if label == "brand" and " " in ent.text.strip() and (first in _given_names() or acts):
                label = "person"  # "Linus Sebastian" read as ORG: a given name first, or doing something
            ctx.ner.setdefault(ent.text, (label, ent.label_))
        for tok in doc:
            if (
                tok.pos_ == "PROPN"
                and tok.text[:1].isupper()
                and tok.text not in ctx.ner
                and not is_english_word(tok.text)
                and not is_protected_word(tok.text)
                and not any(tok.text in surface for surface in ctx.ner)
                and len(tok.text) > 2
            ):
                ctx.ner.setdefault(tok.text, ("character", "PROPN"))
        candidates = [t for t in tag_phrases if self._suspicious_tag(t)]
        if candidates:
            # Capitalise like a name, but not verbs and function words, so "eileen collins smiling" is read as
            # the person "Eileen Collins" doing something, not as one name "Eileen Collins Smiling".
            prefix = "A picture of "
            titled = [prefix + " ".join(_name_case(w) for w in t.split(" ")) + "." for t in candidates]
            for tag, tdoc in zip(candidates, nlp.pipe(titled), strict=True):
                words = tag.split()
                foreign = 2 <= len(words) <= 3 and not any(is_english_word(w) for w in words)
                propn = [t for t in tdoc if t.pos_ == "PROPN"]
                # A lower-case tag holds a name where spaCy reads a person in it; or, for a tag of two or three
                # words none of which is English, any entity or proper nouns throughout ("kaguya shinomiya"
                # comes back as ORG). A single unknown word read as ORG or GPE is far more often a garment or a
                # thing ("plugsuit"), so only PERSON counts there.
                for ent in tdoc.ents:
                    start, end = ent.start_char - len(prefix), ent.end_char - len(prefix)
                    if start < 0 or end > len(tag):
                        continue
                    whole = (start, end) == (0, len(tag))
                    if ent.label_ == "PERSON" or (foreign and whole):
                        surface = tag[start:end]
                        given = normalise_form(surface).split()[0] in _given_names()
                        ctx.ner.setdefault(surface, ("person" if given else "character", ent.label_))
                if foreign and not tdoc.ents and len(propn) >= len(words):
                    ctx.ner.setdefault(tag, ("character", "PROPN"))
        return ctx

    def analyse_many(self, context_texts: Sequence[str]) -> list[_Context]:
        """:meth:`analyse` for many texts with one batched spaCy pass (checking an LLM's 32 candidates)."""
        nlp = get_nlp() if self.options.use_ner else None
        if nlp is None:
            return [self.analyse(t) for t in context_texts]
        return [self.analyse(t, (), doc) for t, doc in zip(context_texts, nlp.pipe(context_texts), strict=True)]

    def _plausible_entity(self, text: str, context: str, start: int) -> bool:
        words = _WORD.findall(text)
        if not words or all(is_protected_word(w) for w in words):
            return False
        if any(normalise_form(text) == k or normalise_form(text) in k for k in self.keep):
            return False
        if text == text.lower():  # spaCy is unreliable on lower case ("cashier" as ORG)
            return not all(is_english_word(w) for w in words)
        if all(is_english_word(w) for w in words):
            # "Rainy" opening a prompt is not a name; "Brad Pitt" (two capitals) or "Pearl" mid-prompt may be
            capitalised = [w for w in words if w[:1].isupper()]
            if len(words) == 1:
                return bool(capitalised) and (start > 0 or words[0].isupper())
            return len(capitalised) >= 2
        return True

    def _suspicious_tag(self, tag: str) -> bool:
        norm = normalise_form(re.sub(r"[^\w\s'\-]", " ", tag))
        words = norm.split()
        if not words or len(words) > 4 or norm in tables.general_tags():
            return False
        if any(is_protected_word(w) for w in words):
            return False
        return not all(is_english_word(w) for w in words)

    # --- replacement -----------------------------------------------------------------------------------

    def replace(self, text: str, ctx: _Context) -> str:
        """``text`` (one leaf of the prompt) with every name replaced; records what was found in ``ctx``."""
        if not text.strip():
            return text
        found = self._find(text, ctx)
        if not found:
            return text
        out: list[str] = []
        pos = 0
        for f in found:
            if f.start < pos:
                continue
            left = text[pos : f.start]
            right = text[f.end :]
            ctx.before = "".join(out)  # what precedes ``left`` in this leaf, already rewritten
            new_left, replacement, consumed_right = self._render(left, text[f.start : f.end], right, f, ctx)
            out.append(new_left)
            out.append(replacement)
            pos = f.end + consumed_right
        out.append(text[pos:])
        return _tidy("".join(out))

    def _blocked(self, text: str) -> list[tuple[int, int]]:
        spans = []
        low = text.lower()
        for k in self.keep:
            for m in re.finditer(r"(?<!\w)" + re.escape(k).replace(r"\ ", r"[\s_]+") + r"(?!\w)", low):
                spans.append((m.start(), m.end()))
        return spans

    def _find(self, text: str, ctx: _Context) -> list[_Found]:
        blocked = self._blocked(text)
        words = list(_WORD.finditer(text))
        taken: list[tuple[int, int]] = list(blocked)
        found: list[_Found] = []

        def free(s: int, e: int) -> bool:
            return all(e <= a or s >= b for a, b in taken)

        # A name spaCy found whole ("Grace Hopper") is not cut down to a table alias inside it ("Hopper").
        ner_spans = [
            (m.start(), m.end())
            for surface in ctx.ner
            if " " in surface.strip() and self.table.get(surface) is None and self.user.get(surface) is None
            for m in re.finditer(r"(?<![\w])" + re.escape(surface) + r"(?![\w])", text)
        ]

        def inside_ner(s: int, e: int) -> bool:
            return any(a <= s and e <= b and (a, b) != (s, e) for a, b in ner_spans)

        # 1. table-like sources by word n-grams, longest first
        for table in (self.user, self.table, self.danbooru):
            if table is None or not len(table):
                continue
            for n in range(min(table.max_words, len(words)), 0, -1):
                for i in range(len(words) - n + 1):
                    s, e = words[i].start(), words[i + n - 1].end()
                    if not free(s, e):
                        continue
                    surface = text[s:e]
                    entry = table.get(surface)
                    if entry is None and surface.lower().endswith(("'s", "’s")):
                        entry = table.get(surface[:-2])
                        e -= 2 if entry is not None else 0
                        surface = text[s:e]
                    if entry is None or not self._case_ok(surface, entry, text, s, e) or inside_ner(s, e):
                        continue
                    found.append(_Found(s, e, entry))
                    taken.append((s, e))
        # 2. context rules for names nobody knows: "by X", "in the style of X", "named X", "X style"
        for s, e, label in self._rule_spans(text, words):
            if free(s, e):
                found.append(_Found(s, e, self._unknown_entry(text[s:e], label)))
                taken.append((s, e))
        # 3. NER surfaces (exact, whole word)
        for surface, (label, ner_label) in sorted(ctx.ner.items(), key=lambda kv: -len(kv[0])):
            for m in re.finditer(r"(?<![\w])" + re.escape(surface) + r"(?![\w])", text):
                if free(m.start(), m.end()):
                    entry = self._unknown_entry(surface, label)
                    found.append(_Found(m.start(), m.end(), entry, ner_label))
                    taken.append((m.start(), m.end()))
        found.sort(key=lambda f: f.start)
        return found

    def _case_ok(self, surface: str, entry: NameEntry, text: str, start: int, end: int) -> bool:
        """Common words ("Homer", "Pearl Earring") count as names only when written like names, or when
        the context says name: ``disney style``, ``by homer``, or a whole tag ``, batman,`` of a
        person/character/artist/studio (never a brand or artwork: ``apple`` stays a fruit)."""
        words = _WORD.findall(surface)
        if entry.source == "user" or (entry.lowercase and len(re.split(r"[\s\-]+", surface.strip())) > 1):
            return True
        if not all(is_english_word(w) or is_protected_word(w) for w in words):
            return True
        if _STYLE_AFTER.match(text[end:]) or _BY_CONTEXT.search(text[:start]):
            return True
        whole_tag = re.fullmatch(r"\s*", text[:start].rsplit(",", 1)[-1]) and re.match(r"\s*(?:,|$)", text[end:])
        if whole_tag and "," in text and entry.label in ("person", "character", "artist", "studio"):
            return True
        caps = [w for i, w in enumerate(words) if w[:1].isupper()]
        if len(words) == 1:
            return bool(caps)
        return len(caps) >= 2 or (len(caps) == 1 and not words[0][:1].isupper())

    def _rule_spans(self, text: str, words: list[re.Match[str]]) -> Iterable[tuple[int, int, str]]:
        for i, w in enumerate(words):
            left = text[: w.start()]
            if _BY_CONTEXT.search(left) or _NAMED_CONTEXT.search(left):
                label = "person" if _NAMED_CONTEXT.search(left) else "artist"
                j = i
                while j < len(words) and j - i < 4 and self._name_like(words[j].group(), first=j == i):
                    between = text[words[j - 1].end() : words[j].start()] if j > i else " "
                    if j > i and not re.fullmatch(r"\s+", between):
                        break
                    j += 1
                if j > i:
                    yield w.start(), words[j - 1].end(), label
                    if label == "artist":
                        yield from self._artist_list(text, words, j)
            m = _STYLE_AFTER.match(text[w.end() :])
            if m and not is_english_word(w.group()) and not is_protected_word(w.group()) and w.group().isalpha():
                yield w.start(), w.end(), "studio"

    def _artist_list(self, text: str, words: list[re.Match[str]], j: int) -> Iterable[tuple[int, int, str]]:
        """``by A, B and C``: the items after an artist that look like names (no English word among them
        but capitalised ones) are artists too; the list ends at the first ordinary phrase."""
        while j < len(words):
            between = text[words[j - 1].end() : words[j].start()]
            if words[j].group().lower() == "and" and j + 1 < len(words) and not between.strip(" ,"):
                j += 1  # "by A and B", "by A, and B"
                between = ","
            if not re.fullmatch(r"\s*(?:,|&|\band\b)\s*", between):
                return
            k = j
            while k < len(words) and k - j < 3:
                if k > j and not re.fullmatch(r"\s+", text[words[k - 1].end() : words[k].start()]):
                    break
                k += 1
            item = [m.group() for m in words[j:k]]
            end_ok = k == len(words) or re.match(r"\s*(?:,|&|\band\b|$)", text[words[k - 1].end() :])
            if not end_ok or not all(self._name_like(w, first=False) for w in item):
                return
            if all(is_english_word(w) for w in item):
                return
            yield words[j].start(), words[k - 1].end(), "artist"
            j = k

    def _name_like(self, word: str, *, first: bool) -> bool:
        if is_protected_word(word) or not re.search(r"[A-Za-z]", word):
            return False
        low = word.lower()
        if low in _NON_NOUN_NEXT or normalise_form(low) in tables.general_tags():
            return False
        if word[:1].isupper():
            return not (first and is_english_word(word) and word.lower() in ("the", "a", "an", "night", "hand"))
        return not is_english_word(word)

    def _unknown_entry(self, surface: str, label: str) -> NameEntry:
        if label == "person":
            first = normalise_form(surface).split()[0] if surface.strip() else ""
            names = tables.first_names()
            generic = "a woman" if first in names["female"] else "a man" if first in names["male"] else "a person"
            return NameEntry(surface, "person", generic, "", (), (), "ner")
        return NameEntry(surface, label, "", "", _DEFAULT_VARIANTS.get(label, ()), (), "rule")

    def _render(self, left: str, surface: str, right: str, f: _Found, ctx: _Context) -> tuple[str, str, int]:
        """(new left text, replacement, characters of ``right`` consumed)."""
        entry = f.entry
        label = entry.label
        if label == "place" and not ctx.options.scrub_places:
            ctx.found.append(Name(surface, "place", surface, entry.source))
            return left, surface, 0
        generic = entry.generic or _DEFAULT_GENERIC.get(label, "")
        if label == "place":
            generic = entry.generic or _PLACE_GENERIC.get(f.ner_label, "a place")
        # an unknown brand before a noun is simply dropped ("Zorblax soda can" -> "soda can")
        modifier = entry.modifier or ("" if label == "brand" and entry.source != "table" else _strip_article(generic))
        variants = entry.variants or _DEFAULT_VARIANTS.get(label, ())

        named = _NAMED_CONTEXT.search(left)
        if named:  # "a woman named Sarah" -> "a woman"
            ctx.found.append(Name(surface, label, "", entry.source))
            return left[: named.start()], "", 0
        by = _BY_CONTEXT.search(left)
        if by:
            return self._render_style(left, surface, by, entry, ctx)
        style_after = _STYLE_AFTER.match(right)
        next_word = re.match(r"^(?:['’]s)?\s+([A-Za-z][\w\-]*)", right)
        nxt = next_word.group(1).lower() if next_word else ""
        as_adjective = (label == "brand" and nxt and nxt not in _NON_NOUN_NEXT and not nxt.endswith("ing")) or (
            label in ("person", "character") and nxt in _MERCH_NOUNS and entry.modifier
        )
        if style_after or as_adjective:
            if style_after and label not in ("brand", *_STYLE_LABELS) and not entry.modifier:
                label, modifier = "artist", _DEFAULT_MODIFIER["artist"]  # "Vermeer lighting": an artist's look
            replacement = modifier
            consumed = 0
            if right.startswith(("'s", "’s")) and label in ("brand", "artist", "studio"):
                consumed = 2
            alternatives = entry.modifier_variants if entry.modifier else tuple(_strip_article(v) for v in variants)
            ctx.found.append(Name(surface, label, replacement, entry.source, alternatives))
            if style_after and style_after.group(0).startswith("-"):
                return left, replacement + " ", 1  # "ghibli-style" -> "anime style"
            return left, replacement, consumed
        replacement = generic  # a bare artist tag in a tag prompt gets the style description itself
        article = _ARTICLE_BEFORE.search(left)
        if article and re.match(r"(?i)(a|an|the)\s", replacement):
            left = left[: article.start()]
        ctx.found.append(Name(surface, label, replacement, entry.source, variants))
        return left, replacement, 0

    def _render_style(
        self, left: str, surface: str, by: re.Match[str], entry: NameEntry, ctx: _Context
    ) -> tuple[str, str, int]:
        """``by X`` / ``in the style of X`` / ``painted by X``: the name becomes a style description."""
        if entry.label in _STYLE_LABELS:
            style, variants, label = entry.generic or _DEFAULT_GENERIC[entry.label], entry.variants, entry.label
        elif entry.modifier and entry.source == "table":
            style, variants, label = f"{entry.modifier} style", (), "artist"
        else:  # an unknown name in an artist's position
            style, variants, label = _DEFAULT_GENERIC["artist"], _DEFAULT_VARIANTS["artist"], "artist"
        context = by.group(0).lower()
        verb = (by.group("verb") or "").strip().lower()
        noun = (by.group("noun") or "").strip().lower()
        ends_in_style = style.lower().endswith(("style", "styles"))
        if " of " in context or verb == "inspired" or context.startswith(("inspired", "à")):
            head, replacement = left, style  # "in the style of X" -> "in the style of <style>"
            if ends_in_style and " of " in context:  # not "in the style of painterly style"
                head = left[: by.start()] + f"in {_article(style)} "
        elif verb:
            lead = left[: by.start()] + (f"{noun} " if noun else "")
            how = f"in {_article(style)} " if ends_in_style else "in the style of "
            head, replacement = lead + f"{verb} {how}", style
        else:
            head = left[: by.start()]
            preceding = (ctx.before + head).rstrip()
            if preceding and not preceding.endswith((",", "(", "[", ":", "|")):
                head = head.rstrip() + ", "  # "Nighthawks by Hopper" -> "<the artwork>, <the style>"
            replacement = style
            content = [w for w in noun.split() if w not in ("art", "artwork", "work", "works")]
            if content and not all(w in style.split() for w in content):
                replacement = f"{style}, {noun}"  # "concept art by X" -> "<style>, concept art"
        ctx.found.append(Name(surface, label, replacement, entry.source, variants))
        return head, replacement, 0


def _name_case(word: str) -> str:
    low = word.lower()
    if low in _NON_NOUN_NEXT or low.endswith(("ing", "ed")) or not word[:1].isalpha():
        return word
    return word[:1].upper() + word[1:]


def _given_names() -> frozenset[str]:
    names = tables.first_names()
    return names["female"] | names["male"] | names["neutral"]


def _style_label(label: str) -> str:
    return label if label in _STYLE_LABELS else "artist"


_RE_REPEATED_ITEM = re.compile(r"(?<![^,\s])([^,\[\]()<>]+?)(?:\s*(?:,|\band\b)\s*\1)+(?=\s*(?:,|$))")


def _tidy(text: str) -> str:
    """Collapse spaces and empty comma items a replacement left behind, keep outer whitespace."""
    m = re.match(r"^(\s*)(.*?)(\s*)$", text, re.S)
    assert m is not None
    lead, body, trail = m.groups()
    body = squeeze(body)
    body = _RE_REPEATED_ITEM.sub(r"\1", body)  # two unknown artists -> one style description, not two
    return lead + fix_articles(body) + trail
