"""The instruction set: what a language model is asked, written for a 135M model and a 70B one alike.

One task, asked the same way every round: *describe exactly this image in new words*, ``count`` times, one
description a line. The system message states the rules in short sentences, one a line (a small model follows
short sentences; a large one loses nothing):

- the same image in new words: new vocabulary, sentence shape and order; describe a thing rather than just
  name it, as the essay's strawberry cat does ("Envision a cat whose fur mimics the vibrant red and dotted
  texture of a strawberry");
- every subject, object, action, setting, light and style, and every number, colour and direction word,
  exactly as written; nothing added to the picture;
- a tag prompt is answered with tags (quality tags and count tags such as ``1girl`` kept as they are);
- no names of people, characters, artists, brands, products or artworks: describe how they look;
- every ``[[k]]`` token copied once, unchanged (``BREAK``/``AND`` tokens kept in order);
- only the descriptions: one a line, no numbering, quotes or comments.

The request (user message) gives the image prompt, the words to keep, the engine's other ways to say its name
descriptions, optionally the user's original prompt, and **rewrites so far**: accepted paraphrases shown as
examples to write away from. Round 0 shows the validated paraphrases of the rules backend; each smoothing
round (recursive smoothing, ``rounds``) shows the best round's accepted model paraphrases, so the ensemble
drifts away from the first formulations, as the essay's "recursive" prompting does.

:func:`render_plain` turns the messages into one instruction prompt for models without a chat template
(seq2seq models such as T5, base models).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypedDict

from smoothie.prompt.invariants import protected_words_in
from smoothie.prompt.llm.parse import PLACEHOLDER_RE
from smoothie.prompt.request import ParaphraseRequest


class Message(TypedDict):
    role: str
    content: str


STRAWBERRY_CAT = "Envision a cat whose fur mimics the vibrant red and dotted texture of a strawberry"


def system_message(style: str, separators: Sequence[str], count: int) -> str:
    """The rules, one short sentence a line (a 135M model follows short sentences, a large one loses nothing)."""
    lines = [
        "You rewrite prompts for a text-to-image model.",
        "Describe exactly the same image in new words: new vocabulary, a new sentence shape, a new order. Describe "
        f'a thing rather than just naming it, as in "{STRAWBERRY_CAT}" for a strawberry-patterned cat.',
        "Keep every subject, object, action, setting, light and style, and every number, colour and direction "
        "word exactly as written. Add nothing to the picture.",
    ]
    if style == "tags":
        lines.append(
            "The prompt is a list of comma-separated tags: answer with tags too, reordered and with synonyms, "
            "keeping quality tags and tags such as 1girl as they are."
        )
    lines.append(
        "Never write the name of a person, character, artist, brand, product or artwork: describe how it looks."
    )
    tokens = "Copy every token such as [[0]] exactly once, unchanged."
    if len(separators) == 1:
        tokens += f" {separators[0]} splits the prompt in two: keep it between the same two parts."
    elif separators:
        tokens += f" {', '.join(separators)} split the prompt into parts: keep them in this order."
    lines.append(tokens)
    lines.append(
        "Answer with one new description a line and nothing else: no numbering, no quotation marks, no comment."
        if count > 1
        else "Answer with the new description only: one line, no quotation marks, no comment."
    )
    return "\n".join(lines)


def keep_words(text: str) -> list[str]:
    """Protected words (numbers, colours, directions) of a protected prompt, placeholders ignored, unique."""
    seen: dict[str, None] = {}
    for word in protected_words_in(PLACEHOLDER_RE.sub(" ", text)):
        seen.setdefault(word, None)
    return list(seen)


MAX_HINTS = 6
MAX_VARIANTS = 3


def hint_lines(text: str, hints: Mapping[str, str]) -> list[str]:
    """``- phrase: other way / other way`` for the engine's hints (a generic phrase → its alternatives)."""
    out = []
    for phrase, variants in list(hints.items())[:MAX_HINTS]:
        options = [v.strip() for v in str(variants).splitlines() if v.strip()][:MAX_VARIANTS]
        if phrase and options and phrase in text:
            out.append(f"- {phrase}: " + " / ".join(options))
    return out


def request_text(
    request: ParaphraseRequest, count: int, examples: Sequence[str] = (), *, show_original: bool = False
) -> str:
    """The user message: the prompt, what to keep, hints, the original, earlier rewrites, and the ask."""
    text = request.text
    parts = [f"Image prompt: {text}"]
    words = keep_words(text)
    if words:
        parts.append("Keep exactly: " + ", ".join(words))
    alternatives = hint_lines(text, request.hints)
    if alternatives:
        parts.append("Other ways to say some parts:\n" + "\n".join(alternatives))
    original = request.original.strip()
    if show_original and original and original != text.strip():
        parts.append(
            "The user's original prompt, for context only (it may contain names: describe them, never write them):\n"
            + original
        )
    if examples:
        parts.append("Rewrites so far:\n" + "\n".join(examples))
    if count > 1:
        ask = f"Write {count} new rewrites of the image prompt, one per line"
    else:
        ask = "Write one new rewrite of the image prompt"
    parts.append(ask + (", different from these." if examples else "."))
    return "\n\n".join(parts)


def generation_messages(
    request: ParaphraseRequest, count: int, examples: Sequence[str] = (), *, show_original: bool = False
) -> list[Message]:
    """Messages asking for ``count`` new descriptions of ``request.text``, showing ``examples``."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count!r}")
    return [
        {"role": "system", "content": system_message(request.style, request.separators, count)},
        {"role": "user", "content": request_text(request, count, examples, show_original=show_original)},
    ]


def render_plain(messages: Sequence[Message]) -> str:
    """One instruction prompt from chat messages, for models without a chat template."""
    parts: list[str] = []
    for message in messages:
        role, content = message["role"], message["content"].strip()
        if role == "system":
            parts.append(content)
        elif role == "user":
            parts.append(f"### Request\n{content}")
        else:
            parts.append(f"### Answer\n{content}")
    parts.append("### Answer\n")
    return "\n\n".join(parts)
