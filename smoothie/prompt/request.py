"""What the engine asks of a paraphrase backend, and what a backend is.

A module of its own so both sides can import it: the registry (:mod:`smoothie.prompt.backends`) and the LLM
machinery (:mod:`smoothie.prompt.llm`), which the LLM backends in turn import, without a cycle through the
registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

Style = Literal["natural", "tags"]

#: The engine's verdict on one protected candidate: the reasons to reject it (``()`` accepts it).
Check = Callable[[str], tuple[str, ...]]


@dataclass(frozen=True)
class ParaphraseRequest:
    """What the engine asks of a backend.

    ``text``: the generic (names already replaced) prompt with syntax protected as ``[[k]]``.
    ``placeholders``: every placeholder in ``text``, in order; each must appear exactly once in a candidate.
    ``separators``: the placeholders that stand for ``BREAK`` / ``AND`` (structure: their order matters);
    ``breaks``: those of them that are ``BREAK`` (a continuation of the same sub-prompt, not a new one).
    ``style``: ``tags`` for comma-separated tag prompts (``1girl, solo, …``), else ``natural``.
    ``original``: the user's prompt before genericising (context for an LLM; names must not be copied).
    ``hints``: each name description in ``text`` (what replaced a name) -> its consistent alternatives, one a
    line (empty when it has none). A backend may say a description another way only by one of these.
    ``networks``: the placeholders that stand for extra networks (``<lora:…>``): text the encoder never reads,
    so moving one changes nothing (a tag-prompt reordering keeps them in place rather than count a move as a
    new paraphrase).
    ``people``: the placeholders that stand for one person's description in a weight ("(Marilyn Monroe:1.3)"
    → "(a glamorous woman …:1.3)"): a backend may restate around them as around "someone".
    ``check``: the engine's validator for one *protected* candidate (restored and checked against the generic
    prompt): the reasons to reject it, ``()`` when it is accepted. A backend may use it to choose examples or
    rounds; the engine checks every returned candidate again either way. ``None``: no validator (a backend
    used on its own).
    """

    text: str
    n: int
    seed: int = 0
    placeholders: tuple[str, ...] = ()
    separators: tuple[str, ...] = ()
    breaks: tuple[str, ...] = ()
    style: Style = "natural"
    original: str = ""
    hints: Mapping[str, str] = field(default_factory=dict)
    networks: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    check: Check | None = field(default=None, compare=False, repr=False)

    def reasons(self, candidate: str) -> tuple[str, ...]:
        """``check(candidate)``, or ``()`` without a validator; a validator that raises rejects (``error``)."""
        if self.check is None:
            return ()
        try:
            return tuple(self.check(candidate))
        except Exception:  # a validator bug must not take the backend down with it
            return ("error",)


@runtime_checkable
class Backend(Protocol):
    """A paraphrase backend: ``paraphrase`` returns candidate protected paraphrases (may be fewer than n)."""

    name: str

    def paraphrase(self, request: ParaphraseRequest) -> list[str]: ...
