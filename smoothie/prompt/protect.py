"""Protect WebUI syntax behind ``[[k]]`` placeholders for a paraphrase backend, and put it back.

A backend only ever sees words and placeholders. :func:`restore` trusts no backend: a placeholder it dropped
is re-inserted at the end of its chunk, a duplicate is removed, an AND ``:weight`` goes back to the end of
its sub-prompt, and a candidate whose ``BREAK``/``AND`` structure changed is rejected (``None``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smoothie.prompt.grammar import Atom, Prompt, Separator, Text
from smoothie.prompt.text import squeeze

PLACEHOLDER = re.compile(r"\[\[(\d+)\]\]")


@dataclass(frozen=True)
class Protected:
    """``text`` with syntax as ``[[k]]``; ``atoms[k]`` is the verbatim syntax; ``chunk_of[k]`` its chunk."""

    text: str
    atoms: tuple[str, ...]
    separators: tuple[int, ...]
    chunk_of: tuple[int, ...]
    and_weights: frozenset[int]

    def placeholders(self) -> tuple[str, ...]:
        return tuple(f"[[{k}]]" for k in range(len(self.atoms)))

    def separator_placeholders(self) -> tuple[str, ...]:
        return tuple(f"[[{k}]]" for k in self.separators)

    def break_placeholders(self) -> tuple[str, ...]:
        return tuple(f"[[{k}]]" for k in self.separators if self.atoms[k].strip() == "BREAK")


def protect(prompt: Prompt) -> Protected:
    parts: list[str] = []
    atoms: list[str] = []
    separators: list[int] = []
    chunk_of: list[int] = []
    and_weights: set[int] = set()
    chunk = 0
    for seg in prompt.segments:
        if isinstance(seg, Text):
            parts.append(seg.text)
            continue
        k = len(atoms)
        atoms.append(seg.source)
        if isinstance(seg, Separator):
            separators.append(k)
            chunk_of.append(-1)
            chunk += 1
            parts.append(f" [[{k}]] ")
            continue
        chunk_of.append(chunk)
        if isinstance(seg, Atom) and seg.kind == "and_weight":
            and_weights.add(k)
        parts.append(f"[[{k}]]")
    text = re.sub(r"[ \t]*( \[\[\d+\]\] )[ \t]*", r"\1", "".join(parts))
    return Protected(text.strip(), tuple(atoms), tuple(separators), tuple(chunk_of), frozenset(and_weights))


def restore(candidate: str, protected: Protected) -> str | None:
    """The candidate with syntax put back, or None when its BREAK/AND structure differs from the prompt's."""
    seps = set(protected.separators)
    order = [int(m.group(1)) for m in PLACEHOLDER.finditer(candidate) if int(m.group(1)) in seps]
    if order != list(protected.separators):
        return None
    pieces = (
        re.split(r"\s*(\[\[(?:" + "|".join(map(str, protected.separators)) + r")\]\])\s*", candidate)
        if seps
        else [candidate]
    )
    out: list[str] = []
    chunk = 0
    for piece in pieces:
        m = PLACEHOLDER.fullmatch(piece)
        if m and int(m.group(1)) in seps:
            out.append(protected.atoms[int(m.group(1))])
            chunk += 1
            continue
        out.append(_restore_chunk(piece, chunk, protected))
    return "".join(out)


def _restore_chunk(text: str, chunk: int, protected: Protected) -> str:
    wanted = [k for k, c in enumerate(protected.chunk_of) if c == chunk]
    seen: set[int] = set()

    def sub(m: re.Match[str]) -> str:
        k = int(m.group(1))
        if k >= len(protected.atoms) or k not in wanted or k in seen or k in protected.and_weights:
            return ""
        seen.add(k)
        return m.group(0)

    text = PLACEHOLDER.sub(sub, text)
    missing = [k for k in wanted if k not in seen and k not in protected.and_weights]
    if missing:
        text = text.rstrip().rstrip(",") + "".join(f", [[{k}]]" for k in missing)
    weights = [k for k in wanted if k in protected.and_weights]
    text = squeeze(text)
    text = PLACEHOLDER.sub(lambda m: protected.atoms[int(m.group(1))], text)
    if weights:
        text = text.rstrip() + "".join(protected.atoms[k] for k in weights)
    return text.strip() if not weights else text.lstrip()
