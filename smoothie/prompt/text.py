"""Small text clean-ups every stage of the prompt engine shares.

* :func:`squeeze` — collapse the spaces and empty comma items a removed name or a dropped placeholder leaves;
* :func:`fix_articles` — ``a apple`` → ``an apple`` after a substitution changed the next word;
* :func:`article` / :func:`strip_article` — the indefinite article a phrase takes, and a phrase without its own;
* :func:`counted` / :data:`UNCOUNTED` — ``a``/``an`` before a description whose head is one countable thing;
* :func:`stable_seed` — a seed from text that is the same in every process (``hash()`` is salted per process).
"""

from __future__ import annotations

import hashlib
import re


def stable_seed(*parts: object) -> int:
    """A 64-bit number from ``parts`` (joined by U+001F), the same on every run and machine."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def squeeze(text: str) -> str:
    """Collapse runs of spaces, a space before a comma and empty comma items (``a , , b`` → ``a, b``), which
    a removed name or a dropped placeholder leaves behind."""
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"\s+,", ",", text)
    return re.sub(r",(\s*,)+", ",", text)


def article(phrase: str) -> str:
    """``a`` or ``an`` for ``phrase`` by its sound (hour, honest → an; unicorn, user, one → a)."""
    low = phrase.lower()
    number = re.match(r"\d+", low)
    if number:  # said aloud: "an 85mm lens", "an 11mm lens", "an 18th-century…", "a 35mm film", "a 180mm lens"
        digits = number.group(0)
        eleven = len(digits) in (2, 4, 5) and digits[:2] in ("11", "18")
        return "an" if digits[0] == "8" or eleven else "a"
    if low.startswith(("one", "uni", "use", "usu", "eu", "ur", "uti", "uten", "uto", "uku", "ufo", "ubiq")) and not (
        low.startswith("und")
    ):
        return "a"
    return "an" if re.match(r"(?i)[aeio]|u(?!n[iu]|s[eu])|hon(?:est|ou?r)|hour|heir", phrase) else "a"


def strip_article(text: str) -> str:
    """``text`` without a leading ``a``/``an``/``the``."""
    return re.sub(r"^(?:a|an|the)\s+", "", text, flags=re.IGNORECASE)


_RE_ARTICLE = re.compile(r"\b([Aa]n?)\s+([A-Za-z][\w\-]*)")


def fix_articles(text: str) -> str:
    """``a apple`` → ``an apple`` and ``an cat`` → ``a cat`` (common exceptions: hour, unicorn, one…)."""

    def sub(m: re.Match[str]) -> str:
        art, word = m.group(1), m.group(2)
        want = article(word)
        if art.lower() == want:
            return m.group(0)
        new = want.capitalize() if art[0].isupper() else want
        return f"{new} {word}"

    return _RE_ARTICLE.sub(sub, text)


# Heads said without an article: stuff, not a thing ("fog over a lake", "luxury fashion", "nature photography").
UNCOUNTED = frozenset(
    """smoke steam fog mist snow rain water fire dust sand lava ice blood sunlight moonlight starlight light wind
    foam spray ash ink paint darkness silence chaos snowfall rainfall sunshine grass foliage lightning thunder
    laughter music art food coffee tea wine beer bread chocolate candy fashion clothing furniture jewelry jewellery
    scenery apparel sportswear streetwear menswear womenswear couture tailoring wear footwear eyewear makeup
    cosmetics skincare fragrance perfume luggage equipment gear software technology photography
    photojournalism artwork illustration imagery animation cgi cuisine soda cola juice cereal cream pizza snacks
    merchandise branding advertising packaging style someone somebody something everyone everybody anyone
    nobody""".split()
)


def counted(phrase: str) -> str:
    """``phrase`` (a description without article) with ``a``/``an`` when its head is one countable thing
    ("coffee shop with a green mermaid logo" → "a coffee shop …"; "luxury fashion", "swoosh-logo shoes" stay)."""
    if re.match(r"(?i)(?:a|an|the|some|someone)\s", phrase + " "):
        return phrase
    head_part = re.split(r"\s+(?:with|of|in|on|and|for|from|by|at|under|over|that|where|[a-z]+ing)\s+|,", phrase)[0]
    head = head_part.split()[-1].lower() if head_part.split() else ""
    plural = head.endswith("s") and not head.endswith(("ss", "us", "is"))
    if not head or plural or head in UNCOUNTED or head.split("-")[-1] in UNCOUNTED:
        return phrase
    return f"{article(phrase)} {phrase}"
