"""The embedded paraphrase backend: offline, no model, deterministic for a seed.

Each paraphrase combines independent choices, so an ensemble of 32 varies in framing, vocabulary and order
while describing the same image:

* a framing of the subject ("Envision …", "A depiction of …"; medium-neutral, so the user's medium words
  decide), every one used once before any repeats;
* synonyms from :mod:`smoothie.prompt.thesaurus` in the same inflected form ("laughing" → "giggling");
* alternative descriptions of each replaced name (``hints``: "a rugged blond man" / "a square-jawed man");
* the order of the modifier phrases after the subject, and for tag prompts natural renderings of common tags.

Numbers, colours and directions are never keys of the thesaurus, so they always survive; placeholders
(``[[k]]``) are never touched.
"""

from __future__ import annotations

import hashlib
import random
import re
from functools import lru_cache

from smoothie.prompt import tables, tagprompt
from smoothie.prompt.backends import ParaphraseRequest, register_backend
from smoothie.prompt.nlp import is_english_word, noun_lemmas
from smoothie.prompt.text import fix_articles
from smoothie.prompt.thesaurus import FRAMINGS, TAG_LEADS, synonyms

_PH = re.compile(r"\[\[\d+\]\]")
_RE_DOUBLED = re.compile(r"\b([A-Za-z]{3,})\s+\1\b", re.IGNORECASE)  # "a young young woman" after a synonym
_FRAMING_WORDS = frozenset(f.split()[0].lower() for f in FRAMINGS if f != "{x}")


@lru_cache(maxsize=1)
def _synonym_pattern() -> re.Pattern[str]:
    keys = sorted(synonyms(), key=len, reverse=True)
    return re.compile(r"(?<![\w\-\[])(" + "|".join(re.escape(k) for k in keys) + r")(?![\w\-\]])", re.IGNORECASE)


def _match_case(template: str, word: str) -> str:
    return word[:1].upper() + word[1:] if template[:1].isupper() else word


def _stable_seed(*parts: object) -> int:
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class RulesBackend:
    """Paraphrases by framing, synonyms, name variants and reordering (see module docstring)."""

    name = "rules"

    def __init__(self, synonym_rate: float = 0.6, reorder_rate: float = 0.4) -> None:
        if not 0.0 <= synonym_rate <= 1.0:
            raise ValueError(f"synonym_rate must be within [0, 1], got {synonym_rate!r}")
        if not 0.0 <= reorder_rate <= 1.0:
            raise ValueError(f"reorder_rate must be within [0, 1], got {reorder_rate!r}")
        self.synonym_rate = synonym_rate
        self.reorder_rate = reorder_rate

    def paraphrase(self, request: ParaphraseRequest) -> list[str]:
        if request.n < 1:
            raise ValueError(f"n must be at least 1, got {request.n!r}")
        if request.style == "tags":  # tags stay verbatim: reordered, names described (smoothie.prompt.tagprompt)
            return tagprompt.paraphrase(request)
        seps = set(request.separators)
        if seps:  # split at BREAK/AND only: other placeholders stay inside their phrases
            pieces = re.split(r"\s*(" + "|".join(re.escape(x) for x in request.separators) + r")\s*", request.text)
        else:
            pieces = [request.text]
        base = _stable_seed(request.text, request.seed)
        framings = list(FRAMINGS)
        random.Random(base).shuffle(framings)
        seen: set[str] = set()
        out: list[str] = []
        budget = max(8 * request.n, 200)
        for i in range(budget):
            rng = random.Random(base + i + 1)
            parts: list[str] = []
            framed = True  # the opening of each AND sub-prompt is framed; a BREAK continues the same one
            subprompt = 0
            for piece in pieces:
                if piece in seps:
                    parts.append(f" {piece} ")
                    framed = piece not in request.breaks
                    subprompt += 0 if piece in request.breaks else 1
                    continue
                own = framings[(i + 7 * subprompt) % len(framings)] if framed else "{x}"
                parts.append(self._chunk(piece, rng, own, request))
                framed = False
            cand = re.sub(r"\s{2,}", " ", "".join(parts)).strip()
            if cand and cand not in seen:
                seen.add(cand)
                out.append(cand)
                if len(out) >= request.n:
                    break
        return out

    # --- one chunk ---------------------------------------------------------------------------------

    def _chunk(self, text: str, rng: random.Random, framing: str, request: ParaphraseRequest) -> str:
        phrases = [p.strip() for p in text.split(",")]
        phrases = [p for p in phrases if p]
        if not phrases:
            return text
        tags = request.style == "tags"
        phrases = [self._vary(p, rng, request, tags) for p in phrases]
        subject = next((i for i, p in enumerate(phrases) if re.search(r"[A-Za-z]", _PH.sub("", p))), None)
        if subject is None:
            return ", ".join(phrases)
        head, rest = phrases[: subject + 1], phrases[subject + 1 :]
        if rest and rng.random() < (0.7 if tags else self.reorder_rate):
            rng.shuffle(rest)
        subject_text = head[-1]
        if tags:  # a tag prompt keeps its shape: at most a light lead or, sometimes, a framing
            roll = rng.random()
            if framing != "{x}" and roll < 0.35:
                subject_text = _frame(framing, subject_text)
            elif roll < 0.7:
                lead = rng.choice(TAG_LEADS)
                subject_text = f"{lead} {subject_text}".strip() if lead else subject_text
        else:
            subject_text = _frame(framing, subject_text)
        if subject > 0 and subject_text[:1].isupper() and subject_text.split()[0].lower() in _FRAMING_WORDS:
            subject_text = subject_text[:1].lower() + subject_text[1:]  # a framing after a leading weight tag
        head[-1] = subject_text
        return ", ".join(head + rest)

    def _vary(self, phrase: str, rng: random.Random, request: ParaphraseRequest, tags: bool) -> str:
        # alternative descriptions of replaced names first (the thesaurus may then vary them further)
        for canonical, alternatives in request.hints.items():
            if canonical and canonical in phrase and rng.random() < 0.6:
                options = [a for a in alternatives.split("\n") if a]
                if options:
                    phrase = phrase.replace(canonical, rng.choice(options), 1)
        if tags:
            natural = tables.tag_phrases().get(tables.normalise_form(phrase))
            if natural and rng.random() < 0.4:
                return rng.choice(natural)

        def sub(m: re.Match[str]) -> str:
            if rng.random() >= self.synonym_rate:
                return m.group(0)
            if _is_noun_key(m.group(0).lower()) and not _head_position(phrase[m.end() :]):
                return m.group(0)  # "bottle caps": a noun modifying another noun is part of a compound
            alts = synonyms().get(m.group(0).lower())
            return _match_case(m.group(0), rng.choice(alts)) if alts else m.group(0)

        return fix_articles(_RE_DOUBLED.sub(r"\1", _synonym_pattern().sub(sub, phrase)))


_FUNCTION_WORDS = frozenset(
    """in on at of with and or but to from by for into onto over under near beside behind while as like that
    who which is are was were has have during through across among amid against without""".split()
)


def _head_position(rest: str) -> bool:
    """Whether a word followed by ``rest`` heads its phrase (end, punctuation, a function word or a verb),
    rather than modifying the noun after it."""
    m = re.match(r"\s*([A-Za-z][\w\-']*)", rest)
    if m is None:
        return True
    nxt = m.group(1).lower()
    return nxt in _FUNCTION_WORDS or nxt.endswith("ing") or not re.match(r"\s", rest)


def _is_noun_key(key: str) -> bool:
    """Nouns (and multi-word keys) are varied only as heads; other words anywhere."""
    if " " in key:
        return True
    if key.endswith(("ing", "ed")):
        return False
    return key in noun_lemmas()


# "An image of a photo of …" stacks two framings: a phrase that already opens with "a photo of" takes only a
# framing that is a verb or a clause, never one that is itself "a <noun> of".
_NOUN_FRAMING = re.compile(r"^(?:a|an|the)\s[\w\-]+(?:\s[\w\-]+)?\s(?:of|with|showing|featuring)\b", re.IGNORECASE)
_MEDIUM_OPENING = re.compile(r"^(?:a|an|the)\s+(?:[\w\-]+\s+){0,2}?(?:of)\s", re.IGNORECASE)
_VERB_FRAMINGS = tuple(f for f in FRAMINGS if f == "{x}" or not _NOUN_FRAMING.match(f))


def _frame(framing: str, phrase: str) -> str:
    if framing == "{x}":
        return phrase
    if _MEDIUM_OPENING.match(phrase) and _NOUN_FRAMING.match(framing):
        framing = _VERB_FRAMINGS[FRAMINGS.index(framing) % len(_VERB_FRAMINGS)]
        if framing == "{x}":
            return phrase
    body = phrase
    first = re.match(r"([A-Z][a-z]+)\b(?!\s+[A-Z])", body)  # "Rainy street" yes, "Brad Pitt" (kept) no
    if first and is_english_word(first.group(1)):
        body = body[:1].lower() + body[1:]
    return fix_articles(framing.replace("{x}", body))


register_backend("rules", RulesBackend)
