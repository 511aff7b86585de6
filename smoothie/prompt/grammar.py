"""The WebUI prompt grammar: parse a prompt into text and syntax, and render it back byte for byte.

A1111 parses prompts with lark (``modules/prompt_parser.py``: ``[a:b:n]`` scheduling, ``[a|b]`` alternation)
plus regular expressions for ``(x:1.2)`` attention, ``BREAK``, ``AND`` with ``:weight`` and ``<type:…>``
extra networks; sd-dynamic-prompts adds ``{a|b}`` variants and ``__wildcards__``. This module parses all of
them with one grammar (written for lark, the reference; one regular expression scans its terminals, ~4x faster
on long prompts) so a rewrite never damages syntax:

* :func:`parse_prompt` returns a :class:`Prompt`, a flat list of top-level :class:`Text`, :class:`Group`,
  :class:`Atom` and :class:`Separator` segments; ``render(parse_prompt(p)) == p`` for every prompt it accepts.
* Text inside groups (``(a cat:1.2)``, ``[day:night:0.5]``, ``{a|b}``) is reachable through
  :meth:`Group.map_text`, so names inside weights can be replaced while brackets and numbers stay verbatim.
* Unbalanced brackets, and brackets nested deeper than :data:`MAX_NESTING`, raise :class:`PromptSyntaxError`
  naming the bracket and its column.
* A sub-prompt's trailing ``:weight`` is found as A1111 finds it: extra networks are removed first, so in
  ``red hair:1.3 <lora:x:1> AND …`` the ``:1.3`` weighs the whole sub-prompt and becomes an ``and_weight`` atom.
* :attr:`Prompt.source` never glues ``BREAK``/``AND`` to a neighbouring word (``a personBREAK`` would no longer
  be a separator): segments built by a rewrite are joined with a space where one is needed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

from lark import Lark, Token, Tree
from lark.exceptions import LarkError

_GRAMMAR = r"""
start: _item*
_item: group | EXTRA | WILDCARD | ESC | TEXT | UNDERSCORE | LT | GT
group: LPAR _item* RPAR
     | LSQB _item* RSQB
     | LBRACE _item* RBRACE
LPAR: "("
RPAR: ")"
LSQB: "["
RSQB: "]"
LBRACE: "{"
RBRACE: "}"
EXTRA.3: /<\w+:[^>]+>/
WILDCARD.3: /__[\w\-\/\*\.]+?__/
ESC.2: /\\./s
TEXT: /[^\\()\[\]{}<>_]+/
UNDERSCORE: "_"
LT: "<"
GT: ">"
"""

_OPEN_TO_CLOSE = {"(": ")", "[": "]", "{": "}"}
# A1111's re_extra_net (modules/extra_networks.py): removed from the prompt before anything else is parsed, so
# "<a:], b>" is an extra network that swallows the "]".
_RE_EXTRA = re.compile(r"<\w+:[^>]+>")

_RE_KEYWORD = re.compile(r"\b(?:BREAK|AND)\b")
_RE_BRACKET_OR_ESCAPE = re.compile(r"[\\<()\[\]{}]")

# Deeper nesting is refused with a clear error (nobody writes it; the tree code would hit Python's recursion
# limit near 400 levels).
MAX_NESTING = 100
_CLOSE_TO_OPEN = {v: k for k, v in _OPEN_TO_CLOSE.items()}

# A1111's own patterns (modules/prompt_parser.py): AND splits sub-prompts, each may end in ":weight".
_RE_SEPARATOR = re.compile(r"\s*\b(?:BREAK|AND)\b\s*")
_RE_AND_WEIGHT = re.compile(r"\s*:\s*[-+]?(?:\d+\.?|\d*\.\d+)\s*$")
_RE_GROUP_WEIGHT = re.compile(r":\s*[-+]?(?:\d+\.?|\d*\.\d+)\s*$")
_WORD_CHAR = re.compile(r"\w")

GroupKind = Literal["weight", "emphasis", "deemphasis", "schedule", "alternate", "variants"]
AtomKind = Literal["extra", "wildcard", "escape", "and_weight"]


class PromptSyntaxError(ValueError):
    """A prompt the WebUI grammar cannot parse: the message names what is wrong and where."""


@dataclass(frozen=True)
class Text:
    """Plain words: the only thing a rewrite may change."""

    text: str

    @property
    def source(self) -> str:
        return self.text


@dataclass(frozen=True)
class Atom:
    """Syntax kept verbatim: ``<lora:x:1>``, ``__wildcard__``, an escaped ``\\(`` or an AND ``:0.7``."""

    kind: AtomKind
    text: str

    @property
    def source(self) -> str:
        return self.text


@dataclass(frozen=True)
class Separator:
    """``BREAK`` or ``AND`` with the whitespace around it, verbatim."""

    keyword: Literal["BREAK", "AND"]
    text: str

    @property
    def source(self) -> str:
        return self.text


@dataclass(frozen=True)
class Group:
    """A bracketed group; ``children`` are its contents (Text, Atom or nested Group), brackets verbatim."""

    kind: GroupKind
    open: str
    close: str
    children: tuple[Text | Atom | Group, ...]

    @property
    def source(self) -> str:
        return self.open + "".join(c.source for c in self.children) + self.close

    @property
    def separators(self) -> tuple[str, ...]:
        """The ``AND``/``BREAK`` inside, in order, as A1111 finds them: it splits AND and BREAK inside brackets
        too (``(a AND b:1.1)`` is two sub-prompts, the bracket cut in two), after removing extra networks."""
        return tuple(_RE_KEYWORD.findall(_RE_EXTRA.sub("", self.source)))

    def map_text(self, fn: Callable[[str], str]) -> Group:
        """This group with ``fn`` applied to its words, never to brackets, weights, step numbers or atoms."""
        new: list[Text | Atom | Group] = []
        last = len(self.children) - 1
        for i, child in enumerate(self.children):
            if isinstance(child, Group):
                new.append(child.map_text(fn))
            elif isinstance(child, Text):
                new.append(
                    Text(_map_words(child.text, fn, keep_weight=self.kind in ("weight", "schedule") and i == last))
                )
            else:
                new.append(child)
        return replace(self, children=tuple(new))

    def texts(self) -> Iterator[str]:
        """The words inside, weights and separators removed (for name detection)."""
        for child in self.children:
            if isinstance(child, Group):
                yield from child.texts()
            elif isinstance(child, Text):
                body = _RE_GROUP_WEIGHT.sub("", child.text)
                yield from (part for part in re.split(r"[|:]", body) if part.strip())


Segment = Text | Atom | Group | Separator


def _map_words(text: str, fn: Callable[[str], str], *, keep_weight: bool) -> str:
    """Apply ``fn`` to the word runs of ``text``, keeping ``|``/``:`` separators and a trailing weight."""
    tail = ""
    if keep_weight:
        m = _RE_GROUP_WEIGHT.search(text)
        if m:
            text, tail = text[: m.start()], m.group(0)
    parts = re.split(r"([|:])", text)
    out = [p if p in ("|", ":") or not p.strip() else _keep_outer_space(p, fn) for p in parts]
    return "".join(out) + tail


def _keep_outer_space(text: str, fn: Callable[[str], str]) -> str:
    m = re.match(r"^(\s*)(.*?)(\s*)$", text, re.S)
    assert m is not None
    return m.group(1) + fn(m.group(2)) + m.group(3)


@dataclass(frozen=True)
class Prompt:
    """A parsed prompt: top-level segments in order."""

    segments: tuple[Segment, ...]

    @property
    def source(self) -> str:
        return join_sources((s.source, _kind(s)) for s in self.segments)

    def chunks(self) -> list[list[Text | Atom | Group]]:
        """The segments between separators (one chunk per BREAK/AND part)."""
        out: list[list[Text | Atom | Group]] = [[]]
        for seg in self.segments:
            if isinstance(seg, Separator):
                out.append([])
            else:
                out[-1].append(seg)
        return out


def join_sources(pieces: Iterable[tuple[str, str]]) -> str:
    """Concatenate ``(text, kind)`` pieces (kind ``separator``, ``extra``, ``dissolving`` for a schedule or
    alternation, or ``text``), putting a space between ``BREAK``/``AND`` and a word it would otherwise be glued to.

    ``a person`` + ``BREAK `` must not become ``a personBREAK`` (no longer a separator for A1111), nor
    `` AND`` + ``A picture`` ``ANDA picture``, nor ``BREAK`` + ``[day|night]`` ``BREAK[day|night]`` (A1111 removes
    those brackets before it looks for BREAK). Extra networks are looked through, as A1111 removes them first:
    ``BREAK<lora:x:1>cat`` reads ``BREAKcat``. Pieces that already have a boundary are joined unchanged, so a
    parsed prompt renders byte for byte.
    """
    out: list[str] = []
    last = ""  # the last character written, extra networks aside
    last_kind = ""
    last_separator = ""
    for text, kind in pieces:
        if not text:
            continue
        if kind == "extra":
            out.append(text)
            continue
        if kind == "separator" or last_kind == "separator":
            keyword = text if kind == "separator" else last_separator
            touching = bool(last) and not last.isspace() and not text[0].isspace()
            glued = bool(_WORD_CHAR.match(last) and _WORD_CHAR.match(text[0]))
            dissolves = "BREAK" in keyword and "dissolving" in (kind, last_kind)
            if glued or (touching and dissolves):
                out.append(" ")
        out.append(text)
        last, last_kind = text[-1], kind
        if kind == "separator":
            last_separator = text
    return "".join(out)


def _kind(segment: Segment) -> str:
    if isinstance(segment, Separator):
        return "separator"
    if _is_extra(segment):
        return "extra"
    if isinstance(segment, Group) and segment.kind in ("schedule", "alternate"):
        return "dissolving"
    return "text"


def render(prompt: Prompt) -> str:
    return prompt.source


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(_GRAMMAR, parser="lalr", lexer="contextual", maybe_placeholders=False)


def _check_balance(prompt: str) -> None:
    """Name the first unbalanced bracket, with its 1-based column (escaped brackets are text, and brackets
    inside an extra network ``<lora:…>`` are part of it)."""
    stack: list[tuple[str, int]] = []
    extras: list[re.Match[str]] = []
    i = 0
    while True:
        found = _RE_BRACKET_OR_ESCAPE.search(prompt, i)  # jump over plain text
        if found is None:
            break
        i = found.start()
        ch = prompt[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "<":
            m = _RE_EXTRA.match(prompt, i)
            if m:
                extras.append(m)
                i = m.end()
                continue
        elif ch in _OPEN_TO_CLOSE:
            stack.append((ch, i))
            if len(stack) > MAX_NESTING:
                raise PromptSyntaxError(
                    f"brackets nested more than {MAX_NESTING} deep at column {i + 1}: "
                    f"at most {MAX_NESTING} levels are supported"
                )
        elif ch in _CLOSE_TO_OPEN:
            if not stack:
                hint = _hidden_in_extra(extras, _CLOSE_TO_OPEN[ch], 0, i)
                raise PromptSyntaxError(
                    f"unbalanced {ch!r} at column {i + 1}: no matching {_CLOSE_TO_OPEN[ch]!r}{hint}"
                )
            opener, pos = stack.pop()
            if _OPEN_TO_CLOSE[opener] != ch:
                raise PromptSyntaxError(
                    f"mismatched brackets: {opener!r} at column {pos + 1} is closed by {ch!r} at column {i + 1}"
                )
        i += 1
    if stack:
        opener, pos = stack[-1]
        hint = _hidden_in_extra(extras, _OPEN_TO_CLOSE[opener], pos, len(prompt))
        raise PromptSyntaxError(f"unbalanced {opener!r} at column {pos + 1}: missing {_OPEN_TO_CLOSE[opener]!r}{hint}")


def _hidden_in_extra(extras: list[re.Match[str]], bracket: str, start: int, end: int) -> str:
    """A hint when the bracket the user meant sits inside an extra network, which the WebUI reads to its ``>``."""
    for m in extras:
        if start <= m.start() < end and bracket in m.group(0):
            column = m.start() + m.group(0).index(bracket) + 1
            return (
                f" (the {bracket!r} at column {column} is inside the extra network {_clip(m.group(0))!r}, "
                "which the WebUI reads from '<' to the next '>')"
            )
    return ""


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _classify(open_: str, children: tuple[Text | Atom | Group, ...]) -> GroupKind:
    top_text = "".join(c.text for c in children if isinstance(c, Text))
    last = children[-1] if children else None
    ends_with_number = isinstance(last, Text) and bool(_RE_GROUP_WEIGHT.search(last.text))
    if open_ == "{":
        return "variants"
    if open_ == "(":
        return "weight" if ends_with_number else "emphasis"
    if "|" in top_text:
        return "alternate"
    if ends_with_number:
        return "schedule"
    return "deemphasis"


def _build(node: Tree | Token) -> list[Text | Atom | Group]:
    if isinstance(node, Token):
        kind = node.type
        if kind == "EXTRA":
            return [Atom("extra", str(node))]
        if kind == "WILDCARD":
            return [Atom("wildcard", str(node))]
        if kind == "ESC":
            return [Atom("escape", str(node))]
        return [Text(str(node))]
    assert node.data == "group"
    open_tok, *inner, close_tok = node.children
    children: list[Text | Atom | Group] = []
    for child in inner:
        children.extend(_build(child))
    merged = tuple(_merge_text(children))
    return [Group(_classify(str(open_tok), merged), str(open_tok), str(close_tok), merged)]


def _merge_text(items: list[Text | Atom | Group]) -> Iterator[Text | Atom | Group]:
    buf: list[str] = []
    for item in items:
        if isinstance(item, Text):
            buf.append(item.text)
            continue
        if buf:
            yield Text("".join(buf))
            buf = []
        yield item
    if buf:
        yield Text("".join(buf))


def _split_separators(items: list[Text | Atom | Group]) -> list[Segment]:
    """Split top-level text at BREAK / AND and cut each sub-prompt's ``:weight`` into an Atom.

    A keyword counts only where A1111's ``\\bBREAK\\b`` / ``\\bAND\\b`` would see it in the whole prompt, after
    extra networks were removed: a keyword touching a neighbouring word character (``\\bAND``,
    ``AND__wildcard__``, ``<lora:x:1>BREAK<lora:y:1>BREAKcat`` → ``BREAKBREAKcat``) stays text, and so does a
    BREAK touching a schedule or alternation, whose brackets A1111 removes before it looks for BREAK
    (``BREAK[day:night:5]`` reads ``BREAKday``; AND is split before, so ``AND[day|night]`` is an AND).
    """
    out: list[Segment] = []
    edges: dict[str, tuple[list[str], list[str]]] = {}  # computed at the first keyword (most prompts have none)
    for index, item in enumerate(items):
        if not isinstance(item, Text):
            out.append(item)
            continue
        pos = 0
        keywords = "AND" in item.text or "BREAK" in item.text  # a substring test spares the regex most texts
        for m in _RE_SEPARATOR.finditer(item.text) if keywords else ():
            keyword = "BREAK" if "BREAK" in m.group(0) else "AND"
            if keyword not in edges:
                edges[keyword] = _neighbour_edges(items, dissolve=keyword == "BREAK")
            before, after = edges[keyword][0][index], edges[keyword][1][index]
            start = m.start() + m.group(0).index(keyword)
            end = start + len(keyword)
            if (start == 0 and _WORD_CHAR.match(before)) or (end == len(item.text) and _WORD_CHAR.match(after)):
                continue  # glued to the neighbouring atom: plain text for A1111 too
            if m.start() > pos or not out or isinstance(out[-1], Separator):
                out.append(Text(item.text[pos : m.start()]))
            out.append(Separator(keyword, m.group(0)))  # type: ignore[arg-type]
            pos = m.end()
        if pos < len(item.text):
            out.append(Text(item.text[pos:]))
    # Cut ":weight" at the end of every AND sub-prompt (A1111 applies it to each, even without AND). A1111
    # removes extra networks before it looks, so a weight followed only by <lora:…> atoms still ends the part.
    result: list[Segment] = []
    for i, seg in enumerate(out):
        weight = _RE_AND_WEIGHT.search(seg.text) if isinstance(seg, Text) and _ends_part(out, i + 1) else None
        if isinstance(seg, Text) and weight:
            if weight.start() > 0:
                result.append(Text(seg.text[: weight.start()]))
            result.append(Atom("and_weight", weight.group(0)))
            continue
        if isinstance(seg, Text) and not seg.text:
            continue
        result.append(seg)
    return result


def _neighbour_edges(items: list[Text | Atom | Group], *, dissolve: bool) -> tuple[list[str], list[str]]:
    """For each item, the character A1111 sees just before it and just after it. Extra networks are looked
    through (removed first); with ``dissolve``, a schedule or alternation counts as a word character: its
    brackets are gone by the time A1111 looks for BREAK (AND is split before, on the raw prompt)."""

    def edge(item: Text | Atom | Group, last: bool) -> str:
        if dissolve and isinstance(item, Group) and item.kind in ("schedule", "alternate"):
            return "w"
        return item.source[-1:] if last else item.source[:1]

    befores, afters = [""] * len(items), [""] * len(items)
    seen = ""
    for i, item in enumerate(items):
        befores[i] = seen
        if not _is_extra(item):
            seen = edge(item, last=True)
    seen = ""
    for i in range(len(items) - 1, -1, -1):
        afters[i] = seen
        if not _is_extra(items[i]):
            seen = edge(items[i], last=False)
    return befores, afters


def without_extras(segments: Iterable[Segment]) -> str:
    """The text A1111 parses: the prompt with its extra networks (``<lora:…>``) removed."""
    return "".join(_RE_EXTRA.sub("", s.source) if isinstance(s, Group) else "" if _is_extra(s) else s.source
                   for s in segments)  # fmt: skip


def _is_extra(item: Segment) -> bool:
    """An extra network: A1111 removes it from the prompt before it looks for AND, BREAK and weights."""
    return isinstance(item, Atom) and item.kind == "extra"


def _ends_part(segments: list[Segment], start: int) -> bool:
    """True when ``segments[start:]`` up to the next AND (or the end) is only extra networks and whitespace."""
    for seg in segments[start:]:
        if isinstance(seg, Separator):
            return seg.keyword == "AND"
        if isinstance(seg, Atom) and seg.kind == "extra":
            continue
        if isinstance(seg, Text) and not seg.text.strip():
            continue
        return False
    return True


def _lark_items(prompt: str) -> list[Text | Atom | Group]:
    """The top-level items of a prompt whose brackets balance, by the lark grammar (the reference)."""
    try:
        tree = _parser().parse(prompt) if prompt else Tree("start", [])
    except LarkError as exc:  # _check_balance catches what users hit; this names anything else
        raise PromptSyntaxError(f"cannot parse prompt: {str(exc).splitlines()[0]}") from exc
    items: list[Text | Atom | Group] = []
    for child in tree.children:
        items.extend(_build(child))
    return items


# The grammar's terminals as lark's lexer tries them (priority, then the rest; each starts with its own
# characters), in one pattern: a 10,000-character prompt is scanned ~10x faster than lark's LALR parser
# builds its tree (the engine parses every candidate of a long prompt; issue 14 item 11).
_RE_TOKEN = re.compile(
    r"(?P<extra><\w+:[^>]+>)|(?P<wildcard>__[\w\-\/\*\.]+?__)|(?P<escape>(?s:\\.))"
    r"|(?P<text>[^\\()\[\]{}<>_]+)|(?P<open>[(\[{])|(?P<close>[)\]}])|(?P<char>[_<>])"
)


def _scan(prompt: str) -> list[Text | Atom | Group] | None:
    """:func:`_lark_items` without lark, for a prompt whose brackets balance; None where the scanner stops
    (a lone ``\\`` at the end), so lark decides. tests/unit/test_grammar.py compares the two."""
    stack: list[tuple[str, list[Text | Atom | Group]]] = [("", [])]
    pos, end = 0, len(prompt)
    match = _RE_TOKEN.match
    while pos < end:
        m = match(prompt, pos)
        if m is None:
            return None
        kind, value = m.lastgroup, m.group()
        pos = m.end()
        if kind in ("text", "char"):
            stack[-1][1].append(Text(value))
        elif kind == "open":
            stack.append((value, []))
        elif kind == "close":
            if len(stack) == 1 or _OPEN_TO_CLOSE[stack[-1][0]] != value:
                return None
            open_, children = stack.pop()
            merged = tuple(_merge_text(children))
            stack[-1][1].append(Group(_classify(open_, merged), open_, value, merged))
        else:
            stack[-1][1].append(Atom(kind, value))  # type: ignore[arg-type]
    return stack[0][1] if len(stack) == 1 else None


def parse_prompt(prompt: str) -> Prompt:
    """Parse a WebUI prompt. Raises :class:`PromptSyntaxError` for unbalanced brackets.

    >>> parse_prompt("a (cat:1.2) BREAK <lora:x:0.5>").source
    'a (cat:1.2) BREAK <lora:x:0.5>'
    """
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a string, got {type(prompt).__name__}")
    return _parse(prompt)


@lru_cache(maxsize=64)
def _parse(prompt: str) -> Prompt:  # a candidate is parsed by restore, the validator and skeleton: once
    _check_balance(prompt)
    items = _scan(prompt)
    if items is None:  # what the scanner does not read the same way: the lark grammar decides (and words errors)
        items = _lark_items(prompt)
    parsed = Prompt(tuple(_split_separators(list(_merge_text(items)))))
    if parsed.source != prompt:  # the grammar's promise; a failure here is a bug in this module
        raise AssertionError(f"prompt did not round-trip: {prompt!r} -> {parsed.source!r}")
    return parsed
