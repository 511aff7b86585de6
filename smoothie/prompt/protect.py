"""Protect WebUI syntax behind ``[[k]]`` placeholders for a paraphrase backend, and put it back.

A backend only ever sees words and placeholders. :func:`restore` trusts no backend:

* a line may contain only text and the placeholders it was given. WebUI syntax the backend wrote itself
  (``<lora:…:1.8>``, ``(x:1.9)``, ``[a|b]``, ``{a|b}``, ``__wildcard__``, ``AND``, ``BREAK``, an escape, a
  ``:0`` weight the prompt did not have) is rejected with reason ``syntax``, and instructions aimed at a
  model ("ignore previous instructions…", a server that was compromised or echoes its system prompt) with
  reason ``injection``;
* a candidate whose ``BREAK``/``AND`` placeholders are missing or out of order, or whose restored text does
  not parse to the prompt's :func:`~smoothie.prompt.skeleton.skeleton` (``<`` and ``>`` of the text moved
  next to each other can become an extra network), is rejected (``structure``);
* a placeholder it dropped is re-inserted at the end of its chunk, a duplicate is removed, an AND
  ``:weight`` goes back to the end of its sub-prompt;
* a weighted tag (``red hair:1.3``) the backend moved to the end of a sub-prompt is moved back inside it:
  A1111 reads a trailing ``:w`` as the weight of the whole sub-prompt (``:0`` silences it);
* ``BREAK``/``AND`` are never glued to a neighbouring word (``BREAK1girl`` is no separator).

:func:`check_text` applies the same "text only" rule to a replacement a user wrote (a names file).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from smoothie.prompt.grammar import Atom, Group, Prompt, PromptSyntaxError, Separator, Text, join_sources
from smoothie.prompt.skeleton import Skeleton, skeleton
from smoothie.prompt.text import squeeze

PLACEHOLDER = re.compile(r"\[\[(\d+)\]\]")

# What WebUI syntax looks like in text. Brackets of every kind (emphasis, schedules, alternation, dynamic
# prompts' variants, extra networks), escapes, wildcards, the separators, weights ("…:1.3", ":0"), and
# dynamic prompts' "$$" and "${…}".
_SYNTAX_TOKEN = re.compile(
    r"""(?P<weight>:\s*[-+]?(?:\d+\.?|\d*\.\d+)(?![\w.]))
      | (?P<keyword>\b(?:AND|BREAK)\b)
      | (?P<wildcard>__)
      | (?P<dollars>\$\$|\$\{)
      | (?P<char>[()\[\]{}<>|\\])""",
    re.VERBOSE,
)
# Instructions aimed at a model rather than a description of a picture: what a prompt-injection payload or
# a server echoing its own instructions writes.
_INJECTION = re.compile(
    r"""\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|the\s+|your\s+|every\s+|of\s+)*
          (?:previous|prior|above|earlier|preceding|former|original|system|safety|existing)\b
      | \b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+|the\s+|your\s+)*(?:instructions|rules|guidelines)\b
      | \bsystem\s+prompt\b | \bnew\s+instructions?\b | \byou\s+are\s+now\b | \bact\s+as\s+(?:an?\s+)?(?:ai|dan)\b
      | \bjailbreak | \bdo\s+anything\s+now\b | \bdeveloper\s+mode\b
      | \bas\s+an\s+ai\b | \b(?:assistant|system|user)\s*:""",
    re.IGNORECASE | re.VERBOSE,
)
# Words every _INJECTION pattern contains: a plain substring test first (C speed), the regex only when one is in.
_INJECTION_WORDS = ("ignore", "disregard", "forget", "override", "bypass", "system", "instruction", "you are",
                    "act as", "jailbreak", "anything", "developer", "as an ai", "assistant", "user")  # fmt: skip


def _instructions_in(text: str) -> re.Match[str] | None:
    lowered = " ".join(text.lower().split())
    if not any(word in lowered for word in _INJECTION_WORDS):
        return None
    return _INJECTION.search(text)


_WORD_CHAR = re.compile(r"\w")
_SYNTAX_CHARS = re.compile(r"[:()\[\]{}<>|\\$_]|AND|BREAK")
_RE_PART_WEIGHT = re.compile(r"\s*:\s*[-+]?(?:\d+\.?|\d*\.\d+)\s*$")


@dataclass(frozen=True)
class Protected:
    """``text`` with syntax as ``[[k]]``; ``atoms[k]`` is the verbatim syntax; ``chunk_of[k]`` its chunk.

    ``separators``: the placeholders of ``BREAK``, ``AND`` and of bracket groups with an ``AND``/``BREAK`` inside
    (A1111 splits there too), whose order a candidate must keep;
    ``extras``: the placeholders of extra networks (``<lora:…>``, removed by A1111 before it reads weights);
    ``part_ends``: the chunks that end an AND sub-prompt (followed by ``AND`` or the end of the prompt).
    """

    text: str
    atoms: tuple[str, ...]
    separators: tuple[int, ...]
    chunk_of: tuple[int, ...]
    and_weights: frozenset[int]
    extras: frozenset[int] = frozenset()
    part_ends: frozenset[int] = frozenset()
    skeleton: Skeleton | None = None
    #: the syntax tokens the prompt's own text has ("<3", "red hair:1.3"): a candidate may repeat them
    text_syntax: Counter[str] = field(default_factory=Counter, compare=False)
    #: the prompt's own text reads like instructions to a model (then such text is no injection)
    text_instructs: bool = False
    #: the separators that are a BREAK (or a bracket group with BREAK but no AND inside): not a new sub-prompt
    breaks: frozenset[int] = frozenset()
    #: (k, "before"/"after") where a bracket-group separator touched the text beside it, without a space
    glued: frozenset[tuple[int, str]] = frozenset()

    def placeholders(self) -> tuple[str, ...]:
        return tuple(f"[[{k}]]" for k in range(len(self.atoms)))

    def separator_placeholders(self) -> tuple[str, ...]:
        return tuple(f"[[{k}]]" for k in self.separators)

    def break_placeholders(self) -> tuple[str, ...]:
        return tuple(f"[[{k}]]" for k in self.separators if k in self.breaks)


@dataclass(frozen=True)
class Restored:
    """What :func:`restore_checked` made of a candidate: the prompt, or the reason it was rejected."""

    text: str | None
    reason: str | None = None
    detail: str = ""


def protect(prompt: Prompt) -> Protected:
    parts: list[str] = []
    atoms: list[str] = []
    separators: list[int] = []
    chunk_of: list[int] = []
    and_weights: set[int] = set()
    extras: set[int] = set()
    part_ends: set[int] = set()
    breaks: set[int] = set()
    glued: set[tuple[int, str]] = set()
    chunk = 0
    segments = prompt.segments
    for index, seg in enumerate(segments):
        if isinstance(seg, Text):
            parts.append(seg.text)
            continue
        k = len(atoms)
        atoms.append(seg.source)
        keywords = (seg.keyword,) if isinstance(seg, Separator) else seg.separators if isinstance(seg, Group) else ()
        if keywords:  # BREAK, AND, or a bracket group A1111 splits inside: nothing may move across it
            separators.append(k)
            chunk_of.append(-1)
            if "AND" not in keywords:
                breaks.add(k)
            elif isinstance(seg, Separator):  # (inside a group, the sub-prompt ends in the group: "(a AND")
                part_ends.add(chunk)
            if isinstance(seg, Group):  # a schedule's words join a word that touches it: keep that as it was
                if index > 0 and _WORD_CHAR.match(segments[index - 1].source[-1:]):
                    glued.add((k, "before"))
                if index + 1 < len(segments) and _WORD_CHAR.match(segments[index + 1].source[:1]):
                    glued.add((k, "after"))
            chunk += 1
            parts.append(f" [[{k}]] ")
            continue
        chunk_of.append(chunk)
        if isinstance(seg, Atom) and seg.kind == "and_weight":
            and_weights.add(k)
        if isinstance(seg, Atom) and seg.kind == "extra":
            extras.add(k)
        parts.append(f"[[{k}]]")
    part_ends.add(chunk)
    text = re.sub(r"[ \t]*( \[\[\d+\]\] )[ \t]*", r"\1", "".join(parts))
    return Protected(
        text.strip(),
        tuple(atoms),
        tuple(separators),
        tuple(chunk_of),
        frozenset(and_weights),
        frozenset(extras),
        frozenset(part_ends),
        skeleton(prompt),
        syntax_in(text),
        bool(_instructions_in(PLACEHOLDER.sub(" ", text))),
        frozenset(breaks),
        frozenset(glued),
    )


def syntax_in(text: str) -> Counter[str]:
    """The WebUI syntax tokens of ``text`` (placeholders ``[[k]]`` excluded), counted: ``(``, ``AND``, ``:1.3``…"""
    bare = PLACEHOLDER.sub(" ", text)
    found: Counter[str] = Counter()
    if not _SYNTAX_CHARS.search(bare):  # most lines: plain words
        return found
    for m in _SYNTAX_TOKEN.finditer(bare):
        if m.group("weight"):
            found[":" + format(float(m.group("weight").lstrip(":").strip()), "g")] += 1
        else:
            found[m.group(0)] += 1
    return found


def check_text(text: str) -> str | None:
    """Why ``text`` is not plain text for a prompt (WebUI syntax or instructions), or None when it is.

    >>> check_text("a tall woman with red hair") is None
    True
    >>> check_text("a woman <lora:x:1.8>")
    "WebUI syntax '<', ':1.8', '>'"
    """
    found = syntax_in(text)
    if found:
        return "WebUI syntax " + ", ".join(repr(t) for t in sorted(found, key=text.find))
    m = _instructions_in(text)
    if m:
        return f"instructions to a model ({m.group(0).strip()!r})"
    return None


def _rejected_syntax(candidate: str, protected: Protected) -> str | None:
    """The syntax ``candidate`` has beyond what the protected prompt's own text has (its ``<``, ``:1.3``…)."""
    extra = syntax_in(candidate) - protected.text_syntax
    if extra:
        return ", ".join(repr(t) for t in sorted(extra))
    return None


def restore_checked(candidate: str, protected: Protected) -> Restored:
    """The candidate with syntax put back, or why it was rejected (``syntax``, ``injection``, ``structure``)."""
    bad = _rejected_syntax(candidate, protected)
    if bad:
        return Restored(None, "syntax", f"the backend wrote WebUI syntax: {bad}")
    injected = None if protected.text_instructs else _instructions_in(PLACEHOLDER.sub(" ", candidate))
    if injected:
        return Restored(None, "injection", f"instructions to a model: {injected.group(0).strip()!r}")
    seps = set(protected.separators)
    order = [int(m.group(1)) for m in PLACEHOLDER.finditer(candidate) if int(m.group(1)) in seps]
    if order != list(protected.separators):
        return Restored(None, "structure", "BREAK/AND missing, repeated or out of order")
    pieces = (
        re.split(r"\s*(\[\[(?:" + "|".join(map(str, protected.separators)) + r")\]\])\s*", candidate)
        if seps
        else [candidate]
    )
    out: list[tuple[str, str]] = []
    chunk = 0
    for piece in pieces:
        m = PLACEHOLDER.fullmatch(piece)
        if m and int(m.group(1)) in seps:  # a keyword spaced on both sides (nothing glues to it); a bracket
            # group keeps the glue to a word it had in the prompt
            k = int(m.group(1))
            before = "" if (k, "before") in protected.glued else " "
            after = "" if (k, "after") in protected.glued else " "
            out.append((f"{before}{protected.atoms[k].strip()}{after}", "separator"))
            chunk += 1
            continue
        out.append((_restore_chunk(piece, chunk, protected), "text"))
    restored = join_sources(out).strip()
    if protected.skeleton is not None and _may_change_structure(candidate):
        try:
            changed = protected.skeleton.difference(skeleton(restored))
        except PromptSyntaxError as exc:
            changed = f"it does not parse: {exc}"
        if changed:
            return Restored(None, "structure", changed)
    return Restored(restored)


# Text without these characters cannot form syntax next to the verbatim atoms restore puts back (a keyword
# is rejected as syntax and never glued; a trailing weight needs ":"), so its structure is the prompt's.
_STRUCTURAL_TEXT = re.compile(r"[<>_:|$\\]|\b(?:AND|BREAK)\b")


def _may_change_structure(candidate: str) -> bool:
    return bool(_STRUCTURAL_TEXT.search(PLACEHOLDER.sub(" ", candidate)))


def restore(candidate: str, protected: Protected) -> str | None:
    """The candidate with syntax put back, or None when :func:`restore_checked` rejects it."""
    return restore_checked(candidate, protected).text


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
    if chunk in protected.part_ends and not weights:
        text = _no_weight_at_end(text, protected)
    trailing = ""
    if weights and protected.extras:
        # the weight goes before the extra networks that followed it in the prompt ("x:1.2 <lora:y:1>")
        m = re.search(r"(?:\s*\[\[(?:" + "|".join(map(str, sorted(protected.extras))) + r")\]\])+\s*$", text)
        if m:
            run = [int(k) for k in PLACEHOLDER.findall(m.group(0))]
            before = " ".join(f"[[{k}]]" for k in run if k < max(weights))
            trailing = " ".join(f"[[{k}]]" for k in run if k > max(weights))
            text = text[: m.start()] + (" " + before if before else "")
    text = PLACEHOLDER.sub(lambda m: protected.atoms[int(m.group(1))], text)
    trailing = PLACEHOLDER.sub(lambda m: protected.atoms[int(m.group(1))], trailing)
    if weights:
        text = text.rstrip() + "".join(protected.atoms[k] for k in weights).rstrip()
        return (text + (" " + trailing if trailing else "")).lstrip()
    return text.strip()


def _no_weight_at_end(text: str, protected: Protected) -> str:
    """``text`` (one sub-prompt's last chunk, placeholders in) rearranged so that it does not end in a bare
    ``:w``: the last comma item without one moves to the end (``a, red hair:1.3`` → ``red hair:1.3, a``);
    when every item is weighted, a comma ends the sub-prompt (A1111 then reads no weight)."""

    def visible(item: str) -> str:  # what A1111 reads: extra networks removed first
        return PLACEHOLDER.sub(lambda m: "" if int(m.group(1)) in protected.extras else m.group(0), item)

    if not _RE_PART_WEIGHT.search(visible(text)):
        return text
    items = text.split(",")
    for j in range(len(items) - 1, -1, -1):
        shown = visible(items[j]).strip()
        if shown and not _RE_PART_WEIGHT.search(shown):
            moved = items.pop(j).strip()
            rest = ",".join(items).rstrip().rstrip(",").strip()
            return f"{rest}, {moved}" if rest else moved
    return text.rstrip() + ","


def keep_part_weights(original: Prompt, rebuilt: Prompt) -> Prompt:
    """``rebuilt`` (``original`` with its words changed, syntax segment for segment the same) with a comma
    added where a sub-prompt now ends in a bare ``:w`` that it did not end in: removing the name in
    ``sitting, best:0, Andrew AND …`` would otherwise make A1111 weigh that whole sub-prompt 0."""
    want = skeleton(original).weights
    try:
        got = skeleton(rebuilt).weights
    except PromptSyntaxError:
        return rebuilt
    segments = list(rebuilt.segments)
    ands = [i for i, seg in enumerate(segments) if isinstance(seg, Separator) and seg.keyword == "AND"]
    if got == want or len(got) != len(want) or len(ands) + 1 != len(want):
        return rebuilt  # (an AND inside brackets: parts do not map to top-level segments; left as it is)
    ends = [*ands, len(segments)]
    for part, end in enumerate(ends):
        if want[part] is not None or got[part] is None:
            continue
        last = end - 1
        while last >= 0 and (
            (isinstance(segments[last], Atom) and segments[last].kind == "extra")  # type: ignore[union-attr]
            or (isinstance(segments[last], Text) and not segments[last].source.strip())
        ):
            last -= 1
        if last >= 0 and isinstance(segments[last], Text | Atom):
            source = segments[last].source
            body = source.rstrip()
            segments[last] = Text(body + "," + source[len(body) :])
    return Prompt(tuple(segments))
