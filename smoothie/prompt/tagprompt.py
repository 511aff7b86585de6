"""Paraphrases of danbooru-tag prompts: the same tags, in other orders, with names described in other words.

Models trained on danbooru tags (NovelAI-descended SD1.5 anime models, Pony, Illustrious, NoobAI, Animagine)
read each tag as a fixed token sequence: ``long hair`` is not ``hair worn long``. So a tag prompt is varied as
its trainers varied it, by shuffling (kohya's ``shuffle_caption`` with ``keep_tokens``):

* every general, quality and rating tag is kept verbatim; nothing is renamed, added or dropped;
* the leading quality, score, rating, source and count tags (``masterpiece, best quality, 1girl, solo``) stay
  first, in their order — trainers keep them in place and models expect them there;
* an extra network (``<lora:x:0.8>``) keeps its place (moving it changes nothing the encoder reads, so it is
  no new paraphrase); weighted tags (``(smirk:1.1)``), choices and wildcards move like any tag; a tag ending
  in a bare ``:weight`` keeps its place and never ends a part (A1111 would read it as the whole part's weight);
* the other tags are shuffled, and a replaced name's description (``aqua hair, twintails, detached sleeves``)
  is one of its consistent variants (:attr:`ParaphraseRequest.hints`), so the ensemble varies in order and in
  how much of a look each line spells out.

A prompt with few movable tags has few orders: :func:`paraphrase` returns every distinct one it finds (the
engine repeats them to fill the ensemble and says so).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from smoothie.prompt.request import ParaphraseRequest
from smoothie.prompt.text import stable_seed

_PH = re.compile(r"\[\[\d+\]\]")
_ONLY_PLACEHOLDERS = re.compile(r"(?:\s*\[\[\d+\]\]\s*)+")
_BARE_WEIGHT = re.compile(r":\s*[-+]?(?:\d+\.?|\d*\.\d+)\s*$")

# Tags that open a prompt and stay there: quality, aesthetic, resolution, score (Pony), source, rating, year
# (Animagine, NoobAI, Illustrious), and who is in the picture.
QUALITY_TAGS = frozenset(
    """masterpiece|best quality|high quality|good quality|normal quality|medium quality|low quality|worst quality|
    bad quality|amazing quality|great quality|very aesthetic|very awa|aesthetic|displeasing|very displeasing|absurdres|
    highres|incredibly absurdres|lowres|ultra detailed|ultra-detailed|extremely detailed|highly detailed|
    detailed|8k|4k|hdr|uhd|official art|newest|recent|mid|early|old|oldest|safe|sensitive|nsfw|sfw|general|
    questionable|explicit|anime screencap|anime coloring|illustration|best aesthetic|top quality|
    extremely detailed cg|unity 8k wallpaper|intricate details""".replace("\n", "").split("|")
)
_HEAD = re.compile(
    r"(?:score_\d(?:_up)?|source_[a-z]+|rating[_:][a-z]+|year \d{4}|\d+\+?(?:girl|boy|other)s?|"
    r"multiple (?:girls|boys|others)|solo|solo focus|no humans|\d{4}s \(style\))$"
)


def is_head_tag(tag: str) -> bool:
    """A tag that opens a prompt and stays first: ``masterpiece``, ``score_9``, ``rating_safe``, ``1girl``."""
    t = " ".join(tag.lower().split())
    if _HEAD.match(t):  # score_9, source_anime, rating_safe keep their underscores
        return True
    t = t.replace("_", " ")
    return t in QUALITY_TAGS or bool(_HEAD.match(t))


def looks_like_tags(phrases: Sequence[str]) -> bool:
    """Whether comma-separated ``phrases`` are a danbooru-tag prompt (``1girl, solo, short hair, …``) rather
    than sentences with commas ("a woman in a yellow raincoat walking 3 dogs, rainy street, side view")."""
    grouped = [p.strip().startswith("\x01") for p in phrases if re.search(r"[A-Za-z]", p)]  # (engine.detect_style)
    phrases = [p.replace("\x01", "").strip() for p in phrases if re.search(r"[A-Za-z]", p)]
    if not phrases:
        return False
    short = [p for p in phrases if len(p.split()) <= 3]
    body = [p for p in phrases if not is_head_tag(p)]
    if any(_COUNT.match(p.lower()) for p in phrases):  # "1girl", "2boys", "no humans"
        return len(short) * 2 >= len(phrases)
    if len(phrases) < 4 or len(short) * 4 < len(phrases) * 3:
        return False
    if any(grouped) and sum(1 for p, g in zip(phrases, grouped, strict=True) if not g and not is_head_tag(p)) < 5:
        # without a count tag, fewer than five plain phrases beside weighted ones are as often a sentence's pieces
        # ("((abandoned greenhouse)), overgrown ferns, broken glass roof, (volumetric light:1.3), morning fog"), and
        # their orders alone make no 32 lines
        return False
    if any(len(p.split()) >= 5 for p in body):
        return False  # "in the style of Hayao Miyazaki": a phrase of a sentence, which tags never are
    if any(re.match(r"(?:a|an|the)\s", p.strip(), re.IGNORECASE) for p in body):
        return False  # "a cozy cottage, glowing windows, …": an article, which no tag has
    # the first phrase after the quality tags says what the picture is: a sentence there means natural text
    return not body or len(body[0].split()) <= 3


def few_to_shuffle(phrases: Sequence[str]) -> bool:
    """Whether a prompt read as tags has too few tags to vary as tags: no count tag (``1girl``) and fewer than
    five after its quality tags ("gothic cathedral interior, stained glass, light beams, dust particles"). Four
    such phrases have 24 orders, too few for an ensemble, and are as often a scene written in pieces, so they
    are paraphrased as natural text (their names were still found as tags)."""
    phrases = [p.replace("\x01", "").strip() for p in phrases if re.search(r"[A-Za-z]", p)]
    if any(_COUNT.match(p.lower()) for p in phrases):
        return False
    return len([p for p in phrases if not is_head_tag(p)]) < 5


_COUNT = re.compile(r"(?:\d+\+?(?:girl|boy|other)s?|multiple (?:girls|boys|others)|no humans)$")


@dataclass(frozen=True)
class _Piece:
    """One BREAK/AND part: its leading tags, and the rest with what may move."""

    head: tuple[str, ...]
    body: tuple[str, ...]
    pinned: frozenset[int]  # body positions that keep their place
    groups: tuple[tuple[int, int, tuple[tuple[str, ...], ...]], ...]  # (first, last+1, alternatives) of names

    def orders(self) -> float:
        movable = len(self.body) - len(self.pinned)
        choices = math.prod(len(g[2]) for g in self.groups) if self.groups else 1
        return math.factorial(max(0, movable)) * choices


def _split_tags(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _piece(
    text: str, hints: dict[tuple[str, ...], tuple[tuple[str, ...], ...]], networks: frozenset[str] = frozenset()
) -> _Piece:
    tags = _split_tags(text)
    n_head = 0
    for t in tags:
        if is_head_tag(t) or (_ONLY_PLACEHOLDERS.fullmatch(t) and n_head == 0 and len(tags) > 1):
            n_head += 1
            continue
        break
    head, body = tuple(tags[:n_head]), tuple(tags[n_head:])
    pinned = frozenset(
        i
        for i, t in enumerate(body)
        if (_ONLY_PLACEHOLDERS.fullmatch(t) and set(_PH.findall(t)) <= networks) or _BARE_WEIGHT.search(_PH.sub("", t))
    )
    groups = []
    i = 0
    while i < len(body):
        for canon, alternatives in hints.items():
            k = len(canon)
            if tuple(body[i : i + k]) == canon and not any(j in pinned for j in range(i, i + k)):
                groups.append((i, i + k, (canon, *alternatives)))
                i += k - 1
                break
        i += 1
    return _Piece(head, body, pinned, tuple(groups))


def _render(piece: _Piece, rng: random.Random, shuffle: bool) -> str:
    body = list(piece.body)
    slots = [i for i in range(len(body)) if i not in piece.pinned]
    # the movable tags: each name group as its chosen alternative, the others one by one
    units: list[list[str]] = []
    in_group: set[int] = set()
    for first, last, alternatives in piece.groups:
        units.append(list(rng.choice(alternatives) if shuffle else alternatives[0]))
        in_group.update(range(first, last))
    units.extend([body[i]] for i in slots if i not in in_group)
    movable = [t for u in units for t in u]
    if shuffle:
        rng.shuffle(movable)
    # pinned tags keep their index (clamped to the new length); a bare weight never ends the part
    out = list(movable)
    for i in sorted(piece.pinned):
        out.insert(min(i, len(out)), body[i])
    if out and _BARE_WEIGHT.search(_PH.sub("", out[-1])) and not _BARE_WEIGHT.search(_PH.sub("", piece.body[-1])):
        movable_at = [k for k, t in enumerate(out) if t in movable and not _BARE_WEIGHT.search(t)]
        if movable_at:
            k = movable_at[-1]
            out[k], out[-1] = out[-1], out[k]
    return ", ".join([*piece.head, *out])


def paraphrase(request: ParaphraseRequest) -> list[str]:
    """Up to ``request.n`` distinct reorderings of a protected tag prompt (see module docstring); the first
    is the prompt's own order with the names' first descriptions."""
    if request.n < 1:
        raise ValueError(f"n must be at least 1, got {request.n!r}")
    seps = [s for s in request.separators if s in request.text]
    pieces_text = (
        re.split(r"\s*(" + "|".join(re.escape(x) for x in seps) + r")\s*", request.text) if seps else [request.text]
    )
    hints: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {}
    for canonical, alternatives in request.hints.items():
        canon = tuple(_split_tags(canonical))
        alts = tuple(tuple(_split_tags(a)) for a in alternatives.split("\n") if _split_tags(a))
        if canon and alts:
            hints[canon] = tuple(a for a in alts if a != canon)
    networks = frozenset(request.networks)
    parts: list[str | _Piece] = [p if p in seps else _piece(p, hints, networks) for p in pieces_text]
    total = math.prod(p.orders() for p in parts if isinstance(p, _Piece))
    base = stable_seed(request.text, request.seed)
    out: list[str] = []
    seen: set[str] = set()
    budget = max(8 * request.n, 64)
    for i in range(budget):
        rng = random.Random(base + i)
        line = " ".join(p if isinstance(p, str) else _render(p, rng, shuffle=i > 0 or request.seed != 0) for p in parts)
        line = re.sub(r"\s{2,}", " ", line).strip()
        if line and line not in seen:
            seen.add(line)
            out.append(line)
            if len(out) >= request.n or len(out) >= total:
                break
    return out


def tag_orders(tags: Sequence[str]) -> int:
    """How many orders the movable tags of a tag list have (for reports and tests)."""
    piece = _piece(", ".join(tags), {})
    return int(piece.orders())
