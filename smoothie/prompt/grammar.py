"""The WebUI prompt grammar: parse a prompt into text and syntax, and render it back byte for byte.

A1111 parses prompts with lark (``modules/prompt_parser.py``: ``[a:b:n]`` scheduling, ``[a|b]`` alternation)
plus regular expressions for ``(x:1.2)`` attention, ``BREAK``, ``AND`` with ``:weight`` and ``<type:…>``
extra networks; sd-dynamic-prompts adds ``{a|b}`` variants and ``__wildcards__``. This module parses all of
them with one lark grammar so a rewrite never damages syntax:

* :func:`parse_prompt` returns a :class:`Prompt`, a flat list of top-level :class:`Text`, :class:`Group`,
  :class:`Atom` and :class:`Separator` segments; ``render(parse_prompt(p)) == p`` for every prompt it accepts.
* Text inside groups (``(a cat:1.2)``, ``[day:night:0.5]``, ``{a|b}``) is reachable through
  :meth:`Group.map_text`, so names inside weights can be replaced while brackets and numbers stay verbatim.
* Unbalanced brackets raise :class:`PromptSyntaxError` naming the bracket and its column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
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
EXTRA.3: /<[A-Za-z_][\w\-]*:[^<>]*>/
WILDCARD.3: /__[\w\-\/\*\.]+?__/
ESC.2: /\\./s
TEXT: /[^\\()\[\]{}<>_]+/
UNDERSCORE: "_"
LT: "<"
GT: ">"
"""

_OPEN_TO_CLOSE = {"(": ")", "[": "]", "{": "}"}
_CLOSE_TO_OPEN = {v: k for k, v in _OPEN_TO_CLOSE.items()}

# A1111's own patterns (modules/prompt_parser.py): AND splits sub-prompts, each may end in ":weight".
_RE_SEPARATOR = re.compile(r"\s*\b(?:BREAK|AND)\b\s*")
_RE_AND_WEIGHT = re.compile(r"\s*:\s*[-+]?(?:\d+\.?|\d*\.\d+)\s*$")
_RE_GROUP_WEIGHT = re.compile(r":\s*[-+]?(?:\d+\.?|\d*\.\d+)\s*$")

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
        return "".join(s.source for s in self.segments)

    def chunks(self) -> list[list[Text | Atom | Group]]:
        """The segments between separators (one chunk per BREAK/AND part)."""
        out: list[list[Text | Atom | Group]] = [[]]
        for seg in self.segments:
            if isinstance(seg, Separator):
                out.append([])
            else:
                out[-1].append(seg)
        return out


def render(prompt: Prompt) -> str:
    return prompt.source


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(_GRAMMAR, parser="lalr", lexer="contextual", maybe_placeholders=False)


def _check_balance(prompt: str) -> None:
    """Name the first unbalanced bracket, with its 1-based column (escaped brackets are text)."""
    stack: list[tuple[str, int]] = []
    i = 0
    in_extra = False
    while i < len(prompt):
        ch = prompt[i]
        if ch == "\\":
            i += 2
            continue
        if in_extra:
            in_extra = ch != ">"
        elif ch == "<" and re.match(r"<[A-Za-z_][\w\-]*:[^<>]*>", prompt[i:]):
            in_extra = True
        elif ch in _OPEN_TO_CLOSE:
            stack.append((ch, i))
        elif ch in _CLOSE_TO_OPEN:
            if not stack:
                raise PromptSyntaxError(f"unbalanced {ch!r} at column {i + 1}: no matching {_CLOSE_TO_OPEN[ch]!r}")
            opener, pos = stack.pop()
            if _OPEN_TO_CLOSE[opener] != ch:
                raise PromptSyntaxError(
                    f"mismatched brackets: {opener!r} at column {pos + 1} is closed by {ch!r} at column {i + 1}"
                )
        i += 1
    if stack:
        opener, pos = stack[-1]
        raise PromptSyntaxError(f"unbalanced {opener!r} at column {pos + 1}: missing {_OPEN_TO_CLOSE[opener]!r}")


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
    """Split top-level text at BREAK / AND and cut each sub-prompt's ``:weight`` into an Atom."""
    out: list[Segment] = []
    for item in items:
        if not isinstance(item, Text):
            out.append(item)
            continue
        pos = 0
        for m in _RE_SEPARATOR.finditer(item.text):
            if m.start() > pos or not out or isinstance(out[-1], Separator):
                out.append(Text(item.text[pos : m.start()]))
            keyword = "BREAK" if "BREAK" in m.group(0) else "AND"
            out.append(Separator(keyword, m.group(0)))  # type: ignore[arg-type]
            pos = m.end()
        if pos < len(item.text):
            out.append(Text(item.text[pos:]))
    # Cut ":weight" at the end of every AND sub-prompt (A1111 applies it to each, even without AND).
    result: list[Segment] = []
    for i, seg in enumerate(out):
        nxt = out[i + 1] if i + 1 < len(out) else None
        at_end = nxt is None or (isinstance(nxt, Separator) and nxt.keyword == "AND")
        weight = _RE_AND_WEIGHT.search(seg.text) if isinstance(seg, Text) and at_end else None
        if isinstance(seg, Text) and weight:
            if weight.start() > 0:
                result.append(Text(seg.text[: weight.start()]))
            result.append(Atom("and_weight", weight.group(0)))
            continue
        if isinstance(seg, Text) and not seg.text:
            continue
        result.append(seg)
    return result


def parse_prompt(prompt: str) -> Prompt:
    """Parse a WebUI prompt. Raises :class:`PromptSyntaxError` for unbalanced brackets.

    >>> parse_prompt("a (cat:1.2) BREAK <lora:x:0.5>").source
    'a (cat:1.2) BREAK <lora:x:0.5>'
    """
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a string, got {type(prompt).__name__}")
    _check_balance(prompt)
    try:
        tree = _parser().parse(prompt) if prompt else Tree("start", [])
    except LarkError as exc:  # _check_balance catches what users hit; this names anything else
        raise PromptSyntaxError(f"cannot parse prompt: {str(exc).splitlines()[0]}") from exc
    items: list[Text | Atom | Group] = []
    for child in tree.children:
        items.extend(_build(child))
    parsed = Prompt(tuple(_split_separators(list(_merge_text(items)))))
    if parsed.source != prompt:  # the grammar's promise; a failure here is a bug in this module
        raise AssertionError(f"prompt did not round-trip: {prompt!r} -> {parsed.source!r}")
    return parsed
