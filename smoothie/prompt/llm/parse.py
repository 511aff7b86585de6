"""Defensive parsing of an LLM's answer into clean candidate paraphrases.

Models answer in many shapes: numbered or bulleted lists, quoted lines, Markdown bold, code fences, a JSON
array, a chatty preamble ("Sure! Here are 32 descriptions:"), a closing remark, ``<think>…</think>`` blocks
from reasoning models, a refusal, or plain noise. :func:`parse_candidates` never raises on any text; it
returns the lines that look like descriptions of the requested image, each with its ``[[k]]`` placeholders
normalised (spacing fixed, unknown ones removed, repeats removed), plus counts of what it dropped and why.

A line is kept when it
- is not chatter or a refusal, and has no undecodable bytes or control characters (a broken model's output),
- has at least two words of letters outside placeholders and is not absurdly long,
- keeps every protected word of the request (numbers, colours, directions: "70 bottle caps" stays 70),
- shares at least one content word with the request when the request has three or more (a rewrite of "a cat
  whose fur looks like a strawberry" mentions the cat or the strawberry; random text does not),
- is not a copy of the request or of a line the model was shown (``copy``),
- adds no more new content words than half the request has (at least 3), not counting one new word for each
  of the request's words it no longer says (a synonym): a small model that tells a story around the picture
  ("… the moon has just finished its evening walk") draws a different image (``added``),
- still says half of the request's content words, itself or by a synonym the examples used (``lost``), and
  every medium word it has (``medium``: a "studio photo" or "claymation" left out is another picture),
- is no talk about the task ("The image prompt was: …", "I reworded it"), borrows nothing from the
  instructions' own example (``example``) and does not describe one person twice with two of the engine's
  descriptions (``repeat``).
The prompt engine checks placeholders, separators and names again afterwards; this module only cleans.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from smoothie.prompt.invariants import is_protected_word, protected_words_in

PLACEHOLDER_RE = re.compile(r"\[\s*\[\s*(\d{1,4})\s*\]\s*\]")
_THINK_RE = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.IGNORECASE | re.DOTALL)
_THINK_OPEN_RE = re.compile(r"<(think|thinking|reasoning)>", re.IGNORECASE)
_THINK_CLOSE_RE = re.compile(r"</(think|thinking|reasoning)>", re.IGNORECASE)
_FENCE_RE = re.compile(r"^\s*```[\w+-]*\s*$")
_MARKER_RE = re.compile(
    r"""^\s*(?:
        (?:[-*•·‣◦▪●–—+>]\s*)+                                 # bullets, dashes, quote marks of Markdown
      | \(?\d{1,3}\s*[.):\]](?:\s+|$)                            # 1.  1)  (1)  1:  1]
      | \#\s*\d{1,3}\s*[.):-]?(?:\s+|$)                          # #1
      | (?:description|variant|version|option|paraphrase|prompt|line)\s*\#?\d{1,3}\s*[.):-](?:\s+|$)
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_INLINE_NUMBERED_RE = re.compile(r"(?:^|\s)(\d{1,2})[.)]\s+(?=\S)")
# Markdown bold. Not "__x__": that is a WebUI wildcard, left for the engine to reject as syntax.
_BOLD_RE = re.compile(r"\*\*(.+?)\*\*")
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»", "„": "“", "`": "`", "「": "」"}
_CHATTER_START_RE = re.compile(
    r"""^(?:here\s+(?:are|is)|here's|sure\b|certainly\b|of\s+course\b|okay\b|ok\b|absolutely\b
       |below\s+(?:are|is)|the\s+following|as\s+requested|these\s+(?:are|descriptions|variations|lines|prompts)
       |i\s+hope|hope\s+(?:this|these)|let\s+me\s+know|feel\s+free|note\s*:|notes?\s*:|please\s+note
       |i've\s|i\s+have\s+(?:written|kept|rewritten|made|created|provided|avoided)|each\s+(?:line|description)\s
       |(?:description|variant|version|paraphrase|rewrite)s?\s*:?\s*$|\(?\s*note\b)""",
    re.IGNORECASE | re.VERBOSE,
)
_REFUSAL_RE = re.compile(
    r"""\b(?:i\s*(?:'m|am)\s+(?:sorry|afraid|unable|not\s+able)|i\s+(?:can(?:'|no)t|cannot|won't|will\s+not|must\s+decline)
       |as\s+an\s+ai\b|i\s+apologi[sz]e|against\s+(?:my|the)\s+(?:guidelines|policy|policies)
       |not\s+able\s+to\s+(?:help|assist|comply)|unable\s+to\s+(?:help|assist|comply|fulfil|fulfill))""",
    re.IGNORECASE | re.VERBOSE,
)
# Undecodable bytes (U+FFFD) and control characters: a broken or random model, never a description.
_GARBLED_RE = re.compile(r"[\ufffd\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LETTER_WORD_RE = re.compile(r"[^\W\d_]{2,}")
_WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_STOPWORDS = frozenset(
    """a an the and or but of in on at to for with from by as is are was were be been being it its this that these
    those there their they them his her he she him you your we our i me my who whom whose which what while
    into onto upon about across after against along among around before between beyond during near off out
    through toward towards within without very so than then too also just only some any each every all no not
    has have had having do does did looks look looking like one""".split()
)
MAX_LINE_FACTOR = 6
MAX_LINE_SLACK = 300
_COPY_TOKEN_RE = re.compile(r"\[\[\d+\]\]|[^\W_]+")
# A line may add this many content words the prompt (and the examples shown) never had, or half as many as the
# prompt has, whichever is more: room to describe a thing in new words, not to tell a story around it.
MIN_ADDED = 3
ADDED_SHARE = 0.5
# ... must still say at least half of the prompt's content words (itself, or by a synonym the examples used):
# a small model's line that keeps a word or two of the prompt and tells its own story draws another picture;
MIN_COVERAGE = 0.5
# ... and every medium word the prompt has: a "studio photo" or "claymation" left out is another picture.
_MEDIUM_WORDS = frozenset(
    """photo photograph photography photographic polaroid film analog cinematic still painting painted oil acrylic
    watercolor watercolour gouache canvas sketch sketched drawing drawn pencil charcoal ink pastel crayon
    illustration illustrated lineart render rendered rendering 3d cgi claymation clay stop-motion animation
    animated anime manga cartoon comic pixel voxel vector engraving etching woodcut linocut lithograph mosaic
    sculpture statue figurine origami papercraft collage screenprint poster blueprint infographic""".split()
)
# Talk about the task rather than a description: "The image prompt was: …", "I reworded …", "the image is still
# the same".
_META_RE = re.compile(
    r"\b(?:prompts?|reworded|rewrit\w*|rephras\w*|paraphras\w*|original\s+(?:message|description|image|text)"
    r"|the\s+image\s+(?:is|remains)\s+(?:still\s+)?the\s+same|same\s+as\s+it\s+ever)\b",
    re.IGNORECASE,
)
# Words of framing and description that add nothing to the picture ("a depiction of", "an image showing").
_FRAMING_STEMS = frozenset(
    w[:5]
    for w in """image picture photo photograph depiction depicted depicting scene shot view showing shows shown
    featuring features portrait rendering render illustration artwork visual envision imagine picture behold
    consider think glimpse capture captured captures captures frame framed composition presents presenting""".split()
)


@dataclass
class ParseResult:
    """Candidate lines and a tally of what was dropped and why (chatter, refusal, garbled, short, long, …)."""

    lines: list[str] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    refusal: bool = False

    def summary(self) -> str:
        parts = [f"{len(self.lines)} kept"] + [f"{n} {why}" for why, n in sorted(self.dropped.items())]
        return ", ".join(parts)


def strip_reasoning(text: str) -> str:
    """Remove ``<think>…</think>`` blocks; an unclosed opening block swallows the rest."""
    text = _THINK_RE.sub("\n", text)
    close = list(_THINK_CLOSE_RE.finditer(text))
    if close:  # a closing tag with its opening one in the system prompt's echo or missing
        text = text[close[-1].end() :]
    opening = _THINK_OPEN_RE.search(text)
    if opening:
        text = text[: opening.start()]
    return text


def split_answer(text: str) -> list[str]:
    """Raw candidate lines of an answer: JSON arrays, fenced blocks, one-per-line or inline numbered lists."""
    text = strip_reasoning(text).replace("\r\n", "\n").replace("\r", "\n")
    as_json = _json_lines(text)
    if as_json is not None:
        return as_json
    lines = [ln for ln in text.split("\n") if not _FENCE_RE.match(ln)]
    out: list[str] = []
    for line in lines:
        numbers = [int(m.group(1)) for m in _INLINE_NUMBERED_RE.finditer(line)]
        # "1. a cat … 2. a feline … 3. …" on one line: split before each number when they count up from 1.
        if len(numbers) >= 2 and numbers == list(range(numbers[0], numbers[0] + len(numbers))) and numbers[0] <= 2:
            starts = [m.start(1) for m in _INLINE_NUMBERED_RE.finditer(line)] + [len(line)]
            out.extend(line[a:b] for a, b in itertools.pairwise(starts))
        else:
            out.append(line)
    return out


def _json_lines(text: str) -> list[str] | None:
    stripped = text.strip()
    fence = re.match(r"^```[\w+-]*\s*\n(.*)\n```$", stripped, re.DOTALL)
    if fence:
        stripped = fence.group(1).strip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        data = json.loads(stripped)
    except (json.JSONDecodeError, RecursionError):
        return None
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            return None
        data = lists[0]
    if not isinstance(data, list):
        return None
    out: list[str] = []
    for item in data:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):  # [{"description": "…"}]
            texts = [v for v in item.values() if isinstance(v, str)]
            if texts:
                out.append(max(texts, key=len))
    return out


def clean_line(line: str) -> str:
    """One raw line without list markers, Markdown emphasis, surrounding quotes or trailing separators."""
    line = line.strip()
    for _ in range(3):
        before = line
        line = _BOLD_RE.sub(lambda m: m.group(1) or "", line).replace("**", "").strip()
        line = _MARKER_RE.sub("", line, count=1).strip()
        if len(line) >= 2 and line[0] in _QUOTES and line.endswith(_QUOTES[line[0]]):
            line = line[1:-1].strip()
        elif line[:1] in _QUOTES and line.count(line[0]) == 1 and line[0] not in "'`":
            line = line[1:].strip()  # an opening quote whose closing one was cut off
        line = line.rstrip(" ,;|").strip()
        if line == before:
            break
    return " ".join(line.split())


def normalise_placeholders(line: str, allowed: Iterable[str]) -> str:
    """Fix spacing inside ``[[ k ]]``, drop placeholders not in ``allowed`` and repeats of allowed ones."""
    allowed_set = set(allowed)
    seen: set[str] = set()

    def fix(match: re.Match[str]) -> str:
        token = f"[[{int(match.group(1))}]]"
        if token not in allowed_set or token in seen:
            return " "
        seen.add(token)
        return token

    fixed = PLACEHOLDER_RE.sub(fix, line)
    fixed = re.sub(r"\s+([,.;:!?])", r"\1", fixed)
    fixed = re.sub(r"([,;])\s*[,;]+", r"\1", fixed)
    return " ".join(fixed.split()).strip(" ,;")


def stem(word: str) -> str:
    """A crude English stem, enough to match a word across inflections: ``sitting``/``sits`` → ``sit``,
    ``laughing``/``laughs`` → ``laugh``, ``candles`` → ``candl``, ``photograph`` → ``photo`` (5 letters at most)."""
    word = word.lower().replace("'", "")
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # sitt -> sit, runn -> run (but not "dress", "hall")
    return word[:5]


def content_stems(text: str) -> set[str]:
    """Content words of ``text`` as stems (:func:`stem`); placeholders, numbers, colours and directions ignored
    (those are checked on their own)."""
    text = PLACEHOLDER_RE.sub(" ", text)
    stems = set()
    for word in _WORD_RE.findall(text.lower()):
        if len(word) >= 3 and word not in _STOPWORDS and not is_protected_word(word):
            stems.add(stem(word))
    return stems


def _has_word(text: str, word: str) -> bool:
    return re.search(r"(?<![\w])" + re.escape(word) + r"(?![\w])", text, re.IGNORECASE) is not None


def is_chatter(line: str) -> bool:
    """A preamble, heading or closing remark rather than a description."""
    return bool(_CHATTER_START_RE.match(line)) or (line.endswith(":") and len(line) < 120)


def is_refusal(text: str) -> bool:
    return bool(_REFUSAL_RE.search(text))


def coverage(source: AbstractSet[str], line: AbstractSet[str], synonyms: AbstractSet[str] = frozenset()) -> float:
    """The share of the prompt's content words a line still says: itself, or by a synonym the examples used
    (each such word stands in for one missing word)."""
    if not source:
        return 1.0
    kept = len(source & line)
    stand_ins = len((line & synonyms) - source)
    return (kept + min(len(source) - kept, stand_ins)) / len(source)


def copy_key(text: str) -> str:
    """``text`` reduced to its words and placeholders, lower case: two lines with one key are the same line."""
    return " ".join(_COPY_TOKEN_RE.findall(text.lower()))


def parse_candidates(
    answer: str,
    source: str,
    placeholders: Sequence[str] = (),
    *,
    drop_last: bool = False,
    exclude: Iterable[str] = (),
    known: Iterable[str] = (),
    foreign: Iterable[str] = (),
    hints: Mapping[str, str] | None = None,
) -> ParseResult:
    """Candidate paraphrases of ``source`` (the protected prompt) found in the model's ``answer``.

    ``placeholders``: the request's ``[[k]]`` tokens (others are removed). ``drop_last``: the answer was cut
    off (token or time limit), so its last line is probably incomplete and is discarded. ``exclude``: lines
    that are not new (the examples the model was shown, lines already had): a copy of one, or of ``source``
    itself, is dropped as ``copy``. ``known``: texts whose words count as the prompt's own (the examples, the
    engine's alternatives for names: their synonyms) when judging whether a line ``added`` things to the
    picture or ``lost`` part of it. ``foreign``: texts the line must not borrow from (the instructions' own
    example sentence): two of their words the prompt does not have drop it as ``example``. ``hints``: the
    engine's name descriptions and their alternatives; a line that says two of them describes one person
    twice (``repeat``).
    """
    result = ParseResult()
    if not isinstance(answer, str):
        return result
    raw = [ln for ln in split_answer(answer) if ln.strip()]
    if drop_last and raw:
        raw = raw[:-1]
        result.dropped["cut off"] += 1
    protected = {w.lower() for w in protected_words_in(PLACEHOLDER_RE.sub(" ", source))}
    source_stems = content_stems(source)
    known_stems: set[str] = set()
    for text in known:
        known_stems |= content_stems(text)
    allowed_stems = source_stems | known_stems | _FRAMING_STEMS
    synonym_stems = known_stems - source_stems - _FRAMING_STEMS  # words the examples used instead of the prompt's
    foreign_stems: set[str] = set()
    for text in foreign:
        foreign_stems |= content_stems(text)
    foreign_stems -= source_stems | known_stems
    max_added = max(MIN_ADDED, math.ceil(len(source_stems) * ADDED_SHARE))
    meta_ok = bool(_META_RE.search(source))
    medium_stems = {stem(w) for w in _WORD_RE.findall(PLACEHOLDER_RE.sub(" ", source).lower()) if w in _MEDIUM_WORDS}
    variants = [
        [v.lower() for v in [phrase, *str(alternatives).splitlines()] if v.strip()]
        for phrase, alternatives in (hints or {}).items()
    ]
    copies = {copy_key(source)} | {copy_key(text) for text in exclude}
    max_len = MAX_LINE_FACTOR * len(source) + MAX_LINE_SLACK
    seen: set[str] = set()
    for item in raw:
        line = clean_line(item)
        if not line:
            continue
        if is_refusal(line):
            result.dropped["refusal"] += 1
            continue
        if is_chatter(line) or (not meta_ok and _META_RE.search(line)):
            result.dropped["chatter"] += 1
            continue
        if _GARBLED_RE.search(line):
            result.dropped["garbled"] += 1
            continue
        line = normalise_placeholders(line, placeholders)
        bare = PLACEHOLDER_RE.sub(" ", line)
        if len(_LETTER_WORD_RE.findall(bare)) < 2:
            result.dropped["short"] += 1
            continue
        if len(line) > max_len:
            result.dropped["long"] += 1
            continue
        if any(not _has_word(bare, w) for w in protected):
            result.dropped["protected"] += 1
            continue
        stems = content_stems(bare)
        if len(source_stems) >= 3 and not (stems & source_stems):
            result.dropped["unrelated"] += 1
            continue
        key = copy_key(line)
        if key in seen:
            result.dropped["duplicate"] += 1
            continue
        if key in copies:
            result.dropped["copy"] += 1
            continue
        # a new word may stand in for one the line no longer says (a synonym); the rest are additions
        if len(stems - allowed_stems) - len(source_stems - stems) > max_added:
            result.dropped["added"] += 1
            continue
        if len(source_stems) >= 3 and coverage(source_stems, stems, synonym_stems) < MIN_COVERAGE:
            result.dropped["lost"] += 1
            continue
        if not medium_stems <= stems:
            result.dropped["medium"] += 1
            continue
        if len(stems & foreign_stems) >= 2:
            result.dropped["example"] += 1
            continue
        lowered = line.lower()
        if any(sum(v in lowered for v in group) >= 2 for group in variants):
            result.dropped["repeat"] += 1
            continue
        seen.add(key)
        result.lines.append(line)
    result.refusal = not result.lines and (result.dropped["refusal"] > 0 or is_refusal(answer))
    return result
