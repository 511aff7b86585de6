"""The "creativity" instruction set: what an LLM is asked, for a first ensemble and for smoothing rounds.

Two tasks, each a short system message, an optional worked example (few-shot) and the request:

- **generate**: describe the same image ``count`` different ways, varying framing, vocabulary, sentence shape
  and the order of details; never name a person, artist, character, brand or artwork (describe how it looks
  instead); keep every number, colour and direction; copy every ``[[k]]`` placeholder exactly once; answer one
  description a line with nothing else.
- **smooth**: given descriptions of one image, rewrite each so they read less formulaic (different openings,
  sentence patterns and rhythm, no stock phrases), same rules, same count, same order.

:func:`render_plain` turns the messages into one instruction prompt for models without a chat template
(seq2seq models such as T5, base causal models, tokenizers from before transformers 4.34).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypedDict

from smoothie.prompt.invariants import protected_words_in
from smoothie.prompt.request import ParaphraseRequest
from smoothie.prompt.llm.parse import PLACEHOLDER_RE
from smoothie.prompt.request import ParaphraseRequest


class Message(TypedDict):
    role: str
    content: str


_SAME_IMAGE = (
    "Same image. Keep every subject, object, count, action, pose, setting, lighting, medium, style and mood. "
    "Add nothing that would change the picture and leave nothing out."
)
_VARY = {
    "natural": (
        "Vary everything else. Change the framing (a photo of…, picture…, imagine…, a close view of…, a plain "
        "noun phrase, a scene in which…), the vocabulary (synonyms, more precise or more vivid words), the "
        "sentence shape (open with the subject, the setting, the light or the action; one long sentence or two "
        "short ones) and the order of the details. No two descriptions may start with the same words."
    ),
    "tags": (
        "The description is a comma-separated list of tags, and every new description must be one too. Vary "
        "everything else: reorder the tags, replace tags with synonyms or with more descriptive tags of two to "
        "five words, merge or split tags, and keep quality and style tags. No two lists may start with the "
        "same tag."
    ),
}
_NO_NAMES = (
    "Never write the name of a person, artist, photographer, character, brand, company, product, franchise, "
    "film, game or artwork, not even when the original prompt has one. Describe what it looks like instead: "
    '"a green coffee-shop apron with a round white logo", "a dramatic chiaroscuro oil painting in warm browns".'
)
_KEEP_WORDS = (
    'Keep every number, colour and direction word exactly as written: "70 bottle caps" stays 70, "left" stays '
    'left, "red" stays red.'
)
_PLACEHOLDERS = (
    "Tokens such as [[0]] and [[1]] stand for special prompt syntax. Copy every one of them exactly once into "
    "every description, unchanged, next to the words they belong to."
)


def _rules(style: str, separators: Sequence[str], *, smoothing: bool) -> list[str]:
    rules = [_SAME_IMAGE]
    if smoothing:
        rules.append(
            "Make them less formulaic: no two may share an opening, a sentence pattern or a stock phrase "
            '("imagine", "picture", "a stunning", "captures", "showcasing"); vary their length and rhythm; '
            "prefer concrete visual words to vague praise."
        )
    else:
        rules.append(_VARY["tags" if style == "tags" else "natural"])
    rules += [_NO_NAMES, _KEEP_WORDS]
    placeholder_rule = _PLACEHOLDERS
    if separators:
        if len(separators) == 1:
            placeholder_rule += (
                f" {separators[0]} splits the prompt into two parts: keep it between them, with what comes before it "
                "still before it and what comes after it still after it."
            )
        else:
            placeholder_rule += (
                f" {', '.join(separators)} split the prompt into parts: keep them in this order, and keep in each "
                "part what was in it."
            )
    rules.append(placeholder_rule)
    return rules


def _numbered(rules: Sequence[str]) -> str:
    return "\n".join(f"{i}. {rule}" for i, rule in enumerate(rules, 1))


def system_message(style: str, separators: Sequence[str], count: int, *, smoothing: bool = False) -> str:
    if smoothing:
        head = (
            "You edit prompts for a text-to-image model. You are given several descriptions of one image. "
            "Rewrite each of them so the set sounds less formulaic and more varied, while every description "
            "still shows exactly the same image."
        )
        answer = (
            "Answer with exactly as many lines as you were given, in the same order: one rewritten description "
            "per line, no numbering, no bullets, no quotation marks, no blank lines, no title and no comment."
        )
    else:
        head = (
            "You write prompts for a text-to-image model. You are given a description of one image. Write "
            f"{count} new descriptions of exactly that image, as different from each other as you can make them."
        )
        answer = (
            f"Answer with the {count} descriptions only: one per line, no numbering, no bullets, no quotation "
            "marks, no blank lines, no title and no comment before or after."
        )
    rules = [*_rules(style, separators, smoothing=smoothing), answer]
    return f"{head}\n\nRules:\n{_numbered(rules)}"


# A worked example per style (few-shot). The placeholder and the colour show rules 4 and 5 being followed.
_EXAMPLE_NATURAL = (
    "a cat whose fur looks like the skin of a strawberry, sitting on a red cushion, [[0]], soft window light",
    [
        "Picture a cat with a coat like strawberry skin, speckled with tiny seeds, curled on a red cushion, [[0]], "
        "lit by soft window light",
        "A feline whose fur copies the dimpled surface of a ripe strawberry rests on a red cushion in gentle "
        "daylight from a window, [[0]]",
        "Soft light from a window falls on a red cushion where a cat sits, [[0]], its fur patterned like the "
        "outside of a strawberry",
        "Close view of a strawberry-textured cat, [[0]], seated on a red cushion, window light, calm and soft",
    ],
)
_EXAMPLE_TAGS = (
    "[[0]], 1girl, solo, long blue hair, school uniform, cherry blossoms, looking left",
    [
        "1girl, solo, [[0]], school uniform, long flowing blue hair, falling cherry blossoms, looking left",
        "solo, 1girl, looking left, cherry blossom petals in the air, [[0]], blue hair past the shoulders, "
        "pleated school uniform",
        "[[0]], cherry blossom trees, 1girl, solo, long blue hair, sailor-style school uniform, looking left",
        "1girl, looking left, solo, [[0]], spring blossoms, long straight blue hair, neat school uniform",
    ],
)


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


def _request_text(
    text: str, count: int, original: str, *, show_original: bool, hints: Mapping[str, str] | None = None
) -> str:
    parts = [f"Image description:\n{text}"]
    words = keep_words(text)
    if words:
        parts.append("Words to keep exactly: " + ", ".join(words))
    tokens = list(dict.fromkeys(PLACEHOLDER_RE.findall(text)))
    if tokens:
        parts.append("Tokens to copy once into every description: " + ", ".join(f"[[{t}]]" for t in tokens))
    alternatives = hint_lines(text, hints or {})
    if alternatives:
        parts.append("Other ways to say some parts (use them for variety):\n" + "\n".join(alternatives))
    if show_original and original.strip() and original.strip() != text.strip():
        parts.append(
            "The user's original prompt, for context only (it may contain names: describe how they look, "
            f"never write them):\n{original.strip()}"
        )
    parts.append(f"Write {count} different descriptions of this image, one per line.")
    return "\n\n".join(parts)


def generation_messages(
    request: ParaphraseRequest, count: int, *, few_shot: bool = True, show_original: bool = True
) -> list[Message]:
    """Messages asking for ``count`` descriptions of ``request.text``."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count!r}")
    messages: list[Message] = [{"role": "system", "content": system_message(request.style, request.separators, count)}]
    if few_shot:
        source, lines = _EXAMPLE_TAGS if request.style == "tags" else _EXAMPLE_NATURAL
        messages.append({"role": "user", "content": _request_text(source, len(lines), "", show_original=False)})
        messages.append({"role": "assistant", "content": "\n".join(lines)})
    messages.append(
        {
            "role": "user",
            "content": _request_text(
                request.text, count, request.original, show_original=show_original, hints=request.hints
            ),
        }
    )
    return messages


def smoothing_messages(request: ParaphraseRequest, lines: Sequence[str]) -> list[Message]:
    """Messages asking to rewrite ``lines`` (descriptions of ``request.text``) less formulaically."""
    if not lines:
        raise ValueError("smoothing needs at least one description, got none")
    words = keep_words(request.text)
    keep = f"\n\nWords to keep exactly: {', '.join(words)}" if words else ""
    body = "\n".join(lines)
    user = (
        f"The image: {request.text}{keep}\n\nRewrite each of these {len(lines)} descriptions so they sound less "
        f"formulaic and more varied, keeping the image, every [[k]] token and every number, colour and direction. "
        f"Answer with exactly {len(lines)} lines.\n\n{body}"
    )
    return [
        {"role": "system", "content": system_message(request.style, request.separators, len(lines), smoothing=True)},
        {"role": "user", "content": user},
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
