"""The structure of a WebUI prompt that every paraphrase must keep: :func:`skeleton`.

A paraphrase may change words, their order and the framing around them; it may not change what the WebUI
reads as syntax. The skeleton is that syntax, with the words left out, following A1111 v1.10.1
(``modules/prompt_parser.py`` and ``modules/extra_networks.py``):

* **AND parts, in order.** ``get_multicond_prompt_list`` splits the prompt at ``\\bAND\\b`` into sub-prompts
  that are denoised separately and summed with their weights. Each sub-prompt's weight is a trailing
  ``:w`` (``re_weight``), read after extra networks (``<lora:…>``) were removed from the prompt, and applies
  even without any AND: ``1girl, red hair:1.3`` weighs the whole prompt 1.3 and ``…:0`` silences it. So a
  paraphrase that moves ``red hair:1.3`` to the end of a part re-weighs the whole part; one that loses
  ``AND``'s ``:0.7`` changes the mix. :attr:`Part.weight` records the weight (``None`` when there is none).
* **BREAK chunks, in order,** inside each part (``re_break`` in ``parse_prompt_attention``): each starts a new
  75-token chunk of the text encoder.
* **Groups and atoms of each chunk**, as a multiset (a paraphrase may reorder tags, so order inside a chunk
  is free): ``(x:1.2)``, ``((x))``, ``[x]``, ``[a:b:0.5]``, ``[a|b]``, ``{a|b}`` by their shape (brackets,
  ``:``/``|`` separators, weights and step numbers, nested groups and atoms; the words inside are left out,
  so a name replaced inside a weight does not count as a change), and ``<lora:…>``, ``__wildcards__`` and
  escapes ``\\(`` verbatim.

Plain words, commas, ``<``/``>``/``_`` used as text and a ``:1.3`` in the middle of a part are text to A1111
(``re_attention`` reads ``:w`` only before a ``)``), so they are not part of the skeleton. A prompt that does
not parse has no skeleton: :func:`skeleton` raises :class:`~smoothie.prompt.grammar.PromptSyntaxError`.

The validator rejects a candidate whose skeleton differs from the generic prompt's (reason ``structure``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from smoothie.prompt.grammar import Atom, Group, Prompt, PromptSyntaxError, Separator, Text, parse_prompt

# A1111's re_weight, anchored at the end of a sub-prompt: "…:1.3", "… : -0.5 ", "…:.5", "…:2."
_RE_PART_WEIGHT = re.compile(r"\s*:\s*([-+]?(?:\d+\.?|\d*\.\d+))\s*$")
# Inside a group, the characters that are structure: ":" (weight, schedule), "|" (alternation, variants),
# "$$" (dynamic prompts' "{2$$a|b|c}"), the numbers that follow ":" or precede "$$", and BREAK/AND (A1111
# splits AND and BREAK inside brackets too).
_RE_GROUP_TOKEN = re.compile(
    r":\s*([-+]?(?:\d+\.?|\d*\.\d+))\s*$|:|\||([-+]?(?:\d+\.?|\d*\.\d+)?(?:-\d+)?)\$\$|\bAND\b|\bBREAK\b"
)


@dataclass(frozen=True)
class Part:
    """One AND sub-prompt: its weight and, per BREAK chunk, the sorted shapes of its groups and atoms."""

    weight: float | None
    chunks: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Skeleton:
    """The WebUI structure of a prompt (hashable; equal skeletons = the same syntax, words aside)."""

    parts: tuple[Part, ...]

    @property
    def and_count(self) -> int:
        return len(self.parts) - 1

    @property
    def break_count(self) -> int:
        return sum(len(p.chunks) - 1 for p in self.parts)

    @property
    def weighted_parts(self) -> tuple[int, ...]:
        """Indexes of the parts that end in a bare ``:w``."""
        return tuple(i for i, p in enumerate(self.parts) if p.weight is not None)

    def difference(self, other: Skeleton) -> str | None:
        """The first way ``other`` differs from this skeleton, in words; None when they are equal."""
        if self == other:
            return None
        if self.and_count != other.and_count:
            return f"{other.and_count} AND instead of {self.and_count}"
        for i, (mine, theirs) in enumerate(zip(self.parts, other.parts, strict=True), 1):
            where = f"part {i}" if len(self.parts) > 1 else "the prompt"
            if mine.weight != theirs.weight:
                return f"{where} is weighted {_weight(theirs.weight)} instead of {_weight(mine.weight)}"
            if len(mine.chunks) != len(theirs.chunks):
                return f"{where} has {len(theirs.chunks) - 1} BREAK instead of {len(mine.chunks) - 1}"
            for j, (a, b) in enumerate(zip(mine.chunks, theirs.chunks, strict=True), 1):
                if a != b:
                    lost = sorted(set(a) - set(b)) or sorted(a)
                    gained = sorted(set(b) - set(a)) or sorted(b)
                    chunk = f", chunk {j}" if len(mine.chunks) > 1 else ""
                    return f"{where}{chunk} has syntax {gained} instead of {lost}"
        return "the structure differs"


def _weight(value: float | None) -> str:
    return "not at all" if value is None else f":{value:g}"


def skeleton(prompt: str | Prompt) -> Skeleton:
    """The skeleton of ``prompt`` (a string or a parsed :class:`Prompt`).

    >>> s = skeleton("masterpiece, (red hair:1.2) BREAK 1girl AND a dog :0.7")
    >>> s.and_count, s.break_count, s.parts[1].weight
    (1, 1, 0.7)
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
    parts: list[Part] = []
    part_sources: list[str] = []  # the part's source without extra networks, for its weight
    chunks: list[tuple[str, ...]] = []
    chunk: list[str] = []

    def end_part() -> None:
        chunks.append(tuple(sorted(chunk)))
        m = _RE_PART_WEIGHT.search("".join(part_sources))
        parts.append(Part(float(m.group(1)) if m else None, tuple(chunks)))

    for seg in parsed.segments:
        if isinstance(seg, Separator):
            if seg.keyword == "BREAK":
                chunks.append(tuple(sorted(chunk)))
                chunk = []
                part_sources.append(seg.source)
            else:
                end_part()
                chunks, chunk, part_sources = [], [], []
            continue
        if isinstance(seg, Atom) and seg.kind == "extra":
            chunk.append(seg.text)
            continue
        part_sources.append(seg.source)
        if isinstance(seg, Group):
            chunk.append(_shape(seg))
        elif isinstance(seg, Atom) and seg.kind != "and_weight":
            chunk.append(seg.text)
    end_part()
    return Skeleton(tuple(parts))


def _shape(group: Group) -> str:
    """A group without its words: ``(a cat:1.20)`` → ``(:1.2)``, ``[day:night:5]`` → ``[::5]``."""
    out = [group.open]
    for child in group.children:
        if isinstance(child, Group):
            out.append(_shape(child))
        elif isinstance(child, Atom):
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
