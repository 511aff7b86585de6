"""The structure of a WebUI prompt that every paraphrase must keep: :func:`skeleton`.

A paraphrase may change words, their order and the framing around them; it may not change what the WebUI
reads as syntax. The skeleton is that syntax, with the words left out, following A1111 v1.10.1
(``modules/prompt_parser.py`` and ``modules/extra_networks.py``):

* **AND sub-prompts, in order, with their weights.** ``get_multicond_prompt_list`` splits the prompt at
  every ``\\bAND\\b`` (inside brackets too) into sub-prompts that are denoised separately and summed with
  their weights. Each sub-prompt's weight is a trailing ``:w`` (``re_weight``), read after extra networks
  (``<lora:…>``) were removed from the prompt, and applies even without any AND: ``1girl, red hair:1.3``
  weighs the whole prompt 1.3 and ``…:0`` silences it. So a paraphrase that moves ``red hair:1.3`` to the end
  of a part re-weighs the whole part; one that loses ``AND``'s ``:0.7`` changes the mix.
  :attr:`Skeleton.weights` records them (``None``: no weight).
* **Boundaries, in order:** ``BREAK`` (``re_break`` in ``parse_prompt_attention``: a new 75-token chunk of the
  text encoder), ``AND``, and a bracket group holding an ``AND`` or ``BREAK`` (A1111 splits inside it, so no
  text may move across it).
* **Groups and atoms between boundaries**, as a multiset (a paraphrase may reorder tags, so order inside a
  chunk is free): ``(x:1.2)``, ``((x))``, ``[x]``, ``[a:b:0.5]``, ``[a|b]``, ``{a|b}`` by their shape
  (brackets, ``:``/``|`` separators, weights and step numbers, nested groups and atoms; the words inside are
  left out, so a name replaced inside a weight does not count as a change), and ``<lora:…>`` and
  ``__wildcards__`` verbatim. An escaped ``\\(`` is text to A1111 (a literal bracket), like the words.

Plain words, commas, ``<``/``>``/``_`` used as text and a ``:1.3`` in the middle of a part are text to A1111
(``re_attention`` reads ``:w`` only before a ``)``), so they are not part of the skeleton. A prompt that does
not parse has no skeleton: :func:`skeleton` raises :class:`~smoothie.prompt.grammar.PromptSyntaxError`.

The validator rejects a candidate whose skeleton differs from the generic prompt's (reason ``structure``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from smoothie.prompt.grammar import (
    Atom,
    Group,
    Prompt,
    PromptSyntaxError,
    Separator,
    Text,
    parse_prompt,
    without_extras,
)

# A1111's re_AND and re_weight (modules/prompt_parser.py): "…:1.3", "… : -0.5 ", "…:.5", "…:2." at the end
_RE_AND = re.compile(r"\bAND\b")
_RE_PART_WEIGHT = re.compile(r"\s*:\s*([-+]?(?:\d+\.?|\d*\.\d+))\s*$")
_RE_BREAK = re.compile(r"\bBREAK\b")
# Inside a group, the characters that are structure: ":" (weight, schedule), "|" (alternation, variants),
# "$$" (dynamic prompts' "{2$$a|b|c}"), the numbers that follow ":" or precede "$$", and BREAK/AND (A1111
# splits AND and BREAK inside brackets too).
_RE_GROUP_TOKEN = re.compile(
    r":\s*([-+]?(?:\d+\.?|\d*\.\d+))\s*$|:|\||([-+]?(?:\d+\.?|\d*\.\d+)?(?:-\d+)?)\$\$|\bAND\b|\bBREAK\b"
)


@dataclass(frozen=True)
class Skeleton:
    """The WebUI structure of a prompt (hashable; equal skeletons = the same syntax, words aside).

    ``weights``: one per AND sub-prompt, as A1111 splits them (an AND inside brackets splits too), the
    sub-prompt's trailing ``:w`` or None. ``boundaries``: what separates the chunks, in order: ``BREAK``,
    ``AND``, or the shape of a bracket group that holds an AND or a BREAK (A1111 splits inside it, so it is a
    boundary that must not move past any text). ``chunks``: between consecutive boundaries, the sorted shapes
    of the groups and atoms (order inside a chunk is free).
    """

    weights: tuple[float | None, ...]
    boundaries: tuple[str, ...]
    chunks: tuple[tuple[str, ...], ...]

    @property
    def and_count(self) -> int:
        return len(self.weights) - 1

    @property
    def break_count(self) -> int:
        return sum(len(_RE_BREAK.findall(b)) for b in self.boundaries)

    @property
    def weighted_parts(self) -> tuple[int, ...]:
        """Indexes of the AND sub-prompts that end in a bare ``:w``."""
        return tuple(i for i, w in enumerate(self.weights) if w is not None)

    def within(self, original: Skeleton) -> bool:
        """Whether this skeleton is ``original`` less some groups and atoms: the same AND weights and boundaries,
        each chunk's shapes a part of the original chunk's. A generic prompt keeps its prompt's skeleton within
        this sense: a group a removed name left with no words (``(Zorblax:1.2)``) goes whole."""
        if self.weights != original.weights or self.boundaries != original.boundaries:
            return False
        return all(
            not Counter(mine) - Counter(theirs) for mine, theirs in zip(self.chunks, original.chunks, strict=True)
        )

    def difference(self, other: Skeleton) -> str | None:
        """The first way ``other`` differs from this skeleton, in words; None when they are equal."""
        if self == other:
            return None
        if self.and_count != other.and_count:
            return f"{other.and_count} AND instead of {self.and_count}"
        if self.break_count != other.break_count:
            return f"{other.break_count} BREAK instead of {self.break_count}"
        for i, (mine, theirs) in enumerate(zip(self.weights, other.weights, strict=True), 1):
            if mine != theirs:
                where = f"sub-prompt {i}" if len(self.weights) > 1 else "the prompt"
                return f"{where} is weighted {_weight(theirs)} instead of {_weight(mine)}"
        if self.boundaries != other.boundaries:
            return f"separators {list(other.boundaries)} instead of {list(self.boundaries)}"
        for j, (a, b) in enumerate(zip(self.chunks, other.chunks, strict=True), 1):
            if a != b:
                lost = sorted(set(a) - set(b)) or sorted(a)
                gained = sorted(set(b) - set(a)) or sorted(b)
                chunk = f"chunk {j}" if len(self.chunks) > 1 else "the prompt"
                return f"{chunk} has syntax {gained} instead of {lost}"
        return "the structure differs"


def _weight(value: float | None) -> str:
    return "not at all" if value is None else f":{value:g}"


def skeleton(prompt: str | Prompt) -> Skeleton:
    """The skeleton of ``prompt`` (a string or a parsed :class:`Prompt`).

    >>> s = skeleton("masterpiece, (red hair:1.2) BREAK 1girl AND a dog :0.7")
    >>> s.and_count, s.break_count, s.weights
    (1, 1, (None, 0.7))
    >>> skeleton("a cat, (red hair:1.2)") == skeleton("(red hair:1.2), a small feline")
    True
    >>> skeleton("1girl, red hair:1.3, smile") == skeleton("1girl, smile, red hair:1.3")
    False
    """
    if isinstance(prompt, str):
        return _skeleton_of_text(prompt)
    return _skeleton_of(prompt)


@lru_cache(maxsize=256)
def _skeleton_of_text(prompt: str) -> Skeleton:  # the generic prompt is compared with every candidate
    return _skeleton_of(parse_prompt(prompt))


def _skeleton_of(parsed: Prompt) -> Skeleton:
    # A1111 (get_multicond_prompt_list): split at every AND of the prompt without its extra networks; each
    # sub-prompt's re_weight.
    weights = []
    for part in _RE_AND.split(without_extras(parsed.segments)):
        m = _RE_PART_WEIGHT.search(part)
        weights.append(float(m.group(1)) if m else None)
    boundaries: list[str] = []
    chunks: list[tuple[str, ...]] = []
    chunk: list[str] = []
    for seg in parsed.segments:
        boundary = (
            seg.keyword
            if isinstance(seg, Separator)
            else _shape(seg)
            if isinstance(seg, Group) and seg.separators
            else None
        )
        if boundary is not None:
            boundaries.append(boundary)
            chunks.append(tuple(sorted(chunk)))
            chunk = []
        elif isinstance(seg, Group):
            chunk.append(_shape(seg))
        elif isinstance(seg, Atom) and seg.kind in ("extra", "wildcard"):  # an escape \( is text to A1111
            chunk.append(seg.text)
    chunks.append(tuple(sorted(chunk)))
    return Skeleton(tuple(weights), tuple(boundaries), tuple(chunks))


def _shape(group: Group) -> str:
    """A group without its words: ``(a cat:1.20)`` → ``(:1.2)``, ``[day:night:5]`` → ``[::5]``."""
    out = [group.open]
    for child in group.children:
        if isinstance(child, Group):
            out.append(_shape(child))
        elif isinstance(child, Atom) and child.kind != "escape":
            out.append(child.text)
        elif isinstance(child, Text):
            out.extend(_text_shape(child.text))
    out.append(group.close)
    return "".join(out)


def _text_shape(text: str) -> list[str]:
    tokens = []
    for m in _RE_GROUP_TOKEN.finditer(text):
        if m.group(1) is not None:
            tokens.append(f":{float(m.group(1)):g}")
        elif m.group(0).endswith("$$"):
            tokens.append(f"{m.group(2)}$$")
        else:
            tokens.append(m.group(0))
    return tokens


def same_structure(generic: str, candidate: str) -> bool:
    """True when ``candidate`` parses and has the skeleton of ``generic`` (which must parse)."""
    expected = skeleton(generic)
    try:
        return skeleton(candidate) == expected
    except PromptSyntaxError:
        return False
