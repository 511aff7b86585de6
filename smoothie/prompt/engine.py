"""The prompt engine: a prompt in, a noun-free paraphrase ensemble out, WebUI syntax intact.

``rewrite`` = parse (:mod:`~smoothie.prompt.grammar`) → replace names (:mod:`~smoothie.prompt.names`) →
protect syntax (:mod:`~smoothie.prompt.protect`) → a backend paraphrases → every candidate is restored, names
a model introduced are replaced again, and each goes through the one validator
(:func:`smoothie.prompt.validate.check`): a candidate that changes an age, a number, a gender, a colour, a
direction, a trained tag, the syntax, or that is garbled or names someone is rejected (counted per reason in
:attr:`Rewrite.rejected`). Duplicates are dropped and the ensemble is topped up with the ``rules`` backend's
safe variants to exactly ``n``; :attr:`Rewrite.sources` says which backend wrote each paraphrase. A failing
backend never fails the rewrite: the rules backend answers and the warning is returned in
:attr:`Rewrite.warnings` (and logged).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from smoothie.params import MAX_ENSEMBLE as _PARAMS_MAX_ENSEMBLE
from smoothie.prompt.backends import Backend, ParaphraseRequest, Style, get_backend
from smoothie.prompt.grammar import Group, Prompt, Separator, Text, parse_prompt
from smoothie.prompt.names import Analysis, Genericiser, Name, NameOptions
from smoothie.prompt.protect import PLACEHOLDER, Protected, keep_part_weights, protect, restore_checked
from smoothie.prompt.restate import describes_person
from smoothie.prompt.tables import NameEntry
from smoothie.prompt.tagprompt import few_to_shuffle, looks_like_tags
from smoothie.prompt.text import fix_articles, stable_seed
from smoothie.prompt.validate import check

log = logging.getLogger(__name__)

# One limit for the script, the API, the CLI and this function (params.MAX_ENSEMBLE): a larger ensemble only
# costs text-encoder time, its average no longer moves.
MAX_ENSEMBLE = _PARAMS_MAX_ENSEMBLE

# When the rules backend's first ``n`` lines are not enough (a small prompt, or many rejected), up to this many
# more rounds of rules variants are offered; a round that adds nothing ends them.
EXTRA_ROUNDS = 4
# Work budget of a rewrite, in characters of candidate text validated: WORK_PER_LINE × n lines of the
# generic's length (at least WORK_FLOOR characters each). A 10,000-character prompt whose lines are rejected
# then stops after about 2n candidates instead of 9n, so a rewrite stays linear in the prompt's length; a short
# prompt is never cut short by it.
WORK_PER_LINE = 2
WORK_FLOOR = 2_000


@dataclass(frozen=True)
class Rewrite:
    """The result of :func:`rewrite`; ``to_json`` gives the CLI's documented object."""

    prompt: str
    generic: str
    names: tuple[Name, ...]
    paraphrases: tuple[str, ...]
    backend: str = "rules"
    warnings: tuple[str, ...] = ()
    #: parallel to ``paraphrases``: ``"model"`` (written by an LLM backend), ``"rules"`` (the rules backend) or
    #: ``"original"`` (the generic prompt itself, when nothing else passes the validator)
    sources: tuple[str, ...] = ()
    #: validator reason (``age``, ``number``, ``colour``, …) -> how many candidates it rejected
    rejected: Mapping[str, int] = field(default_factory=dict)
    #: the backend and model that wrote the ``"model"`` paraphrases ("transformers SmolLM2-….gguf",
    #: "openai llama3.2:1b at http://127.0.0.1:11434/v1"); "" when none of them did
    model: str = ""

    def source_summary(self) -> str:
        """Where the paraphrases came from, for the UI: "21 from the model (transformers X), 11 from the rules
        fallback", "32 from the rules backend"."""
        counts = Counter(self.sources)
        parts = []
        if counts["model"]:
            parts.append(f"{counts['model']} from the model" + (f" ({self.model})" if self.model else ""))
        if counts["rules"]:
            parts.append(f"{counts['rules']} from the rules " + ("fallback" if counts["model"] else "backend"))
        if counts["original"]:
            parts.append(f"{counts['original']} repeating the prompt")
        return ", ".join(parts) or "none"

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "generic": self.generic,
            "names": [n.to_json() for n in self.names],
            "paraphrases": list(self.paraphrases),
            "sources": list(self.sources),
            "rejected": dict(self.rejected),
            "model": self.model,
        }


@dataclass(frozen=True)
class Scrubbed:
    """A text with its names replaced (captions, negative prompts)."""

    text: str
    names: tuple[Name, ...]


@dataclass
class _Genericised:
    prompt: Prompt
    generic: Prompt
    names: tuple[Name, ...]
    style: Style


_GENERICISERS: dict[NameOptions, Genericiser] = {}
_GEN_LOCK = threading.Lock()


def _genericiser(options: NameOptions) -> Genericiser:
    with _GEN_LOCK:
        if options not in _GENERICISERS:
            if len(_GENERICISERS) > 16:
                _GENERICISERS.clear()
            _GENERICISERS[options] = Genericiser(options)
        return _GENERICISERS[options]


def _name_options(
    keep: Iterable[str],
    extra_names: Iterable[NameEntry] = (),
    scrub_places: bool = False,
    tag_database: str | None = None,
) -> NameOptions:
    if isinstance(keep, str):
        keep = re.split(r"[,\n]", keep)
    return NameOptions(
        keep=tuple(sorted({k.strip() for k in keep if k and k.strip()})),
        extra=tuple(extra_names),
        scrub_places=scrub_places,
        tag_database=str(tag_database) if tag_database else None,
    )


def detect_style(prompt: Prompt) -> Style:
    """``tags`` for comma-separated tag prompts (``1girl, solo, short hair, …``), else ``natural``
    (:func:`smoothie.prompt.tagprompt.looks_like_tags`)."""
    return "tags" if looks_like_tags(_style_phrases(prompt)) else "natural"


def paraphrase_style(generic: Prompt, style: Style) -> Style:
    """How the generic prompt is paraphrased: as its names were found, except that a tag prompt with too few
    tags to shuffle (:func:`smoothie.prompt.tagprompt.few_to_shuffle`) is varied as natural text."""
    return "natural" if style == "tags" and few_to_shuffle(_style_phrases(generic)) else style


def _style_phrases(prompt: Prompt) -> list[str]:
    parts: list[str] = []
    for seg in prompt.segments:  # a weighted word stays inside its phrase: "a (misty:1.3) lake at dawn" is one
        if isinstance(seg, Text):
            parts.append(seg.text)
        elif isinstance(seg, Group):
            parts.append(" \x01" + " ".join(t.strip() for t in seg.texts()) + " ")  # \x01: inside a group
        else:
            parts.append(" , ")
    return "".join(parts).split(",")


def _context_text(prompt: Prompt) -> str:
    parts: list[str] = []
    for seg in prompt.segments:
        if isinstance(seg, Text):
            parts.append(seg.text)
        elif isinstance(seg, Group):
            parts.append(" " + " ".join(t.strip() for t in seg.texts()) + " ")
        elif isinstance(seg, Separator):
            parts.append(". ")
        else:
            parts.append(", ")
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _tag_phrases(prompt: Prompt) -> list[str]:
    phrases: list[str] = []
    for seg in prompt.segments:
        texts = [seg.text] if isinstance(seg, Text) else list(seg.texts()) if isinstance(seg, Group) else []
        for t in texts:
            phrases.extend(p.strip() for p in t.split(",") if p.strip())
    return phrases


def genericise(
    prompt: str | Prompt, options: NameOptions | None = None, analysis: Analysis | None = None
) -> _Genericised:
    """Replace the names of ``prompt``; ``analysis`` is a precomputed one (:func:`genericise_many`)."""
    parsed = parse_prompt(prompt) if isinstance(prompt, str) else prompt
    gen = _genericiser(options or NameOptions())
    style = detect_style(parsed)
    if analysis is None:
        analysis = gen.analyse(_context_text(parsed), _tag_phrases(parsed), style=style)
    generic = keep_part_weights(parsed, gen.genericise(parsed, analysis))
    names: dict[tuple[str, str], Name] = {}
    for name in analysis.found:
        names.setdefault((name.text.lower(), name.replacement), name)
    return _Genericised(parsed, generic, tuple(names.values()), style)


def genericise_many(prompts: list[str], options: NameOptions) -> list[str]:
    """The generic form of each prompt, with one batched spaCy pass for all of them."""
    parsed = [parse_prompt(p) for p in prompts]
    styles = [detect_style(p) for p in parsed]
    analyses = _genericiser(options).analyse_many([_context_text(p) for p in parsed], styles)
    return [genericise(p, options, a).generic.source for p, a in zip(parsed, analyses, strict=True)]


def scrub(
    text: str,
    keep: Iterable[str] = (),
    scrub_places: bool = False,
    *,
    syntax: bool = True,
    tag_database: str | None = None,
) -> Scrubbed:
    """``text`` with names replaced by generic descriptions, WebUI syntax kept verbatim.

    ``syntax=False`` scrubs a caption: plain text, not a prompt, so ``:)`` or a stray bracket is kept as it is
    instead of raising :class:`~smoothie.prompt.grammar.PromptSyntaxError`.

    >>> scrub("a woman named Sarah, by Rembrandt").names[0].text
    'Sarah'
    >>> scrub("Sarah waving :) (at the beach", syntax=False).text.endswith(":) (at the beach")
    True
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    parsed = parse_prompt(text) if syntax else Prompt((Text(text),) if text else ())
    g = genericise(parsed, _name_options(keep, scrub_places=scrub_places, tag_database=tag_database))
    return Scrubbed(g.generic.source, g.names)


class _LRU:
    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.data: OrderedDict[tuple, Rewrite] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> Rewrite | None:
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                return self.data[key]
            return None

    def put(self, key: tuple, value: Rewrite) -> None:
        with self.lock:
            self.data[key] = value
            while len(self.data) > self.size:
                self.data.popitem(last=False)


_CACHE = _LRU()


def _validate(prompt: object, n: object) -> None:
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a string, got {type(prompt).__name__}")
    if not prompt.strip():
        raise ValueError("prompt is empty: nothing to rewrite")
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"n (ensemble size) must be an integer, got {n!r}")
    if n < 1 or n > MAX_ENSEMBLE:
        raise ValueError(f"n (ensemble size) must be between 1 and {MAX_ENSEMBLE}, got {n}")


def rewrite(
    prompt: str,
    n: int = 32,
    backend: str | Backend = "rules",
    seed: int = 0,
    keep: Iterable[str] = (),
    backend_options: Mapping[str, Any] | None = None,
    *,
    extra_names: Iterable[NameEntry] = (),
    scrub_places: bool = False,
    tag_database: str | None = None,
) -> Rewrite:
    """An ensemble of ``n`` distinct noun-free paraphrases of ``prompt``; deterministic for a seed.

    Raises :class:`~smoothie.prompt.grammar.PromptSyntaxError` (a ``ValueError``) for unbalanced brackets and
    ``ValueError`` for an empty prompt or an ``n`` outside 1..MAX_ENSEMBLE (256). A backend that fails is
    replaced by the rules backend, with the reason in ``warnings``. Every candidate passes
    :func:`smoothie.prompt.validate.check`; :attr:`Rewrite.sources` and :attr:`Rewrite.rejected` say who wrote
    each paraphrase and what was refused.
    """
    _validate(prompt, n)
    options = _name_options(keep, extra_names, scrub_places, tag_database)
    backend_name = backend if isinstance(backend, str) else backend.name
    key = (prompt, n, backend_name, seed, options, tuple(sorted((backend_options or {}).items(), key=str)))
    cached = _CACHE.get(key) if isinstance(backend, str) else None
    if cached is not None:
        return cached
    g = genericise(prompt, options)
    generic = g.generic.source
    warnings: list[str] = []
    prot = protect(g.generic)
    if not re.search(r"[A-Za-z0-9]", PLACEHOLDER.sub("", prot.text)):
        # only syntax, or words only inside weights/schedules, which are kept verbatim
        warnings.append("the prompt has no words outside syntax to paraphrase: every ensemble member repeats it")
        result = Rewrite(prompt, generic, g.names, (generic,) * n, backend_name, tuple(warnings), ("original",) * n)
        _CACHE.put(key, result)
        return result
    # every name description the prompt now holds (its variants, one a line; "" when it has none): a backend
    # varies them, and the rules backend parses each as one noun ("someone") rather than as loose words
    hints = {
        fix_articles(nm.replacement): "\n".join(fix_articles(v) for v in nm.variants if v != nm.replacement)
        for nm in g.names
        if nm.replacement and nm.replacement != nm.text
    }
    request = ParaphraseRequest(
        text=prot.text,
        n=n,
        seed=seed,
        placeholders=prot.placeholders(),
        separators=prot.separator_placeholders(),
        breaks=prot.break_placeholders(),
        style=paraphrase_style(g.generic, g.style),
        original=prompt,
        hints=hints,
        networks=tuple(f"[[{k}]]" for k, atom in enumerate(prot.atoms) if atom.startswith("<")),
        people=_weighted_people(prot, g.names),
        check=lambda candidate: _verdict(candidate, prot, generic, g.names),
    )
    rules = get_backend("rules")
    chosen: Backend = rules
    if isinstance(backend, str):
        try:
            chosen = get_backend(backend, **dict(backend_options or {}))
        except Exception as exc:
            if isinstance(exc, ValueError) and backend not in _known_backends():
                raise
            warnings.append(f"backend {backend!r} unavailable ({exc}); used the rules backend")
    else:
        chosen = backend
    ensemble = _Ensemble(generic, prot, options, g.names, n)
    if chosen is not rules:
        try:
            candidates = chosen.paraphrase(request)
        except Exception as exc:  # never fatal: timeouts, refused connections, garbage
            warnings.append(f"backend {chosen.name!r} failed ({type(exc).__name__}: {exc}); used the rules backend")
            candidates = []
        ensemble.offer(candidates, "model", recheck=True)
        if candidates and not ensemble.full():
            warnings.append(f"backend {chosen.name!r} gave {len(ensemble.texts)} usable of {n}; rules topped up")
    if not ensemble.full():
        ensemble.offer(rules.paraphrase(request), "rules", recheck=False)
    for extra_seed in range(1, 1 + EXTRA_ROUNDS):  # a small prompt, or many rejected: more rules variants
        left = ensemble.work_left()
        if ensemble.full() or left <= 0:
            break
        # each round asks for 2n lines (most repeat what was seen), no more than the work budget can validate
        want = min(2 * n, max(1, left // max(len(generic), 1)))
        more = ParaphraseRequest(**{**request.__dict__, "seed": seed * 7919 + extra_seed, "n": want})
        if not ensemble.offer(rules.paraphrase(more), "rules", recheck=False, budgeted=True):
            break  # a round that found nothing new: the next ones will not either
    if not ensemble.full():
        warnings.append(f"only {len(ensemble.texts)} distinct paraphrases exist for this prompt; repeated to {n}")
        ensemble.repeat()
    for w in warnings:
        log.warning("%s", w)
    sources = tuple(ensemble.sources[:n])
    result = Rewrite(
        prompt,
        generic,
        g.names,
        tuple(ensemble.texts[:n]),
        backend_name,
        tuple(warnings),
        sources,
        dict(sorted(ensemble.rejected.items())),
        _describe(chosen) if "model" in sources else "",
    )
    _CACHE.put(key, result)
    return result


def _verdict(candidate: str, prot: Protected, generic: str, names: tuple[Name, ...]) -> tuple[str, ...]:
    """``request.check`` for a backend: restore one protected candidate and validate it (``()`` accepts)."""
    r = restore_checked(candidate, prot)
    if r.text is None:
        return (r.reason or "syntax",)
    return check(generic, r.text, names=names)


def _describe(backend: Backend) -> str:
    """What a backend says it is (``describe()``: backend and model), else its name."""
    describe = getattr(backend, "describe", None)
    try:
        return str(describe()) if callable(describe) else backend.name
    except Exception:
        return backend.name


class _Ensemble:
    """The accepted paraphrases so far: restored, validated, distinct, with their sources and rejections."""

    def __init__(self, generic: str, prot: Protected, options: NameOptions, names: tuple[Name, ...], n: int):
        self.generic, self.prot, self.options, self.names, self.n = generic, prot, options, names, n
        self.texts: list[str] = []
        self.sources: list[str] = []
        self.seen: set[str] = set()
        self.rejected: Counter[str] = Counter()
        self.budget = WORK_PER_LINE * n * max(len(generic), WORK_FLOOR)
        self.work = 0  # characters validated so far
        # a name described inside protected syntax ("(Keira Knightley:1.1)" → "(a slender woman …:1.1)") is out
        # of a backend's reach: its variants are chosen here, per line, so the ensemble varies it too
        self.inner = _inner_descriptions(prot, names)

    def full(self) -> bool:
        return len(self.texts) >= self.n

    def work_left(self) -> int:
        return self.budget - self.work

    def offer(self, candidates: Iterable[str], source: str, *, recheck: bool, budgeted: bool = False) -> int:
        """Validate ``candidates`` until the ensemble is full (or, ``budgeted``, the work budget is spent);
        returns how many were accepted."""
        accepted = 0
        restored: list[str] = []
        for c in candidates:
            if not isinstance(c, str) or not c.strip():
                continue
            r = restore_checked(c, self.prot)
            if r.text is None:  # syntax or instructions the backend wrote itself, BREAK/AND moved or lost
                self.rejected[r.reason or "syntax"] += 1
                log.debug("rejected (%s, %s): %r", r.reason, r.detail, c)
            else:
                restored.append(_vary_inner(r.text, self.inner))
        if recheck and restored:  # a model may have written a name: genericise again, one spaCy batch
            restored = _regenericise(restored, self.options)
        for candidate in restored:
            if self.full() or (budgeted and self.work_left() <= 0):
                break
            text = candidate.strip()
            if not text or text in self.seen:
                continue
            self.seen.add(text)
            self.work += len(text)
            reasons = check(self.generic, text, names=self.names)
            if reasons:
                self.rejected.update(reasons)
                continue
            self.texts.append(text)
            self.sources.append(source)
            accepted += 1
        return accepted

    def repeat(self) -> None:
        """Fill up to ``n`` by repeating what was accepted (the generic prompt when nothing was)."""
        if not self.texts:
            self.texts, self.sources = [self.generic], ["original"]
        base = list(zip(self.texts, self.sources, strict=True))
        for i in range(self.n - len(self.texts)):
            text, source = base[i % len(base)]
            self.texts.append(text)
            self.sources.append(source)


def _weighted_people(prot: Protected, names: tuple[Name, ...]) -> tuple[str, ...]:
    """The placeholders of weights that hold exactly one person's description ("(Marilyn Monroe:1.3)" →
    "(a glamorous woman with platinum curls:1.3)"): one person, whom a sentence may say "who is …" of."""
    people = {
        fix_articles(nm.replacement)
        for nm in names
        if nm.label in ("person", "character") and nm.replacement and describes_person(nm.replacement)
    }
    out = []
    for k, atom in enumerate(prot.atoms):
        m = re.fullmatch(r"(\(+)([^():]+?)(?::\s*[-+]?(?:\d+\.?\d*|\.\d+))?(\)+)", atom)  # "(x:1.3)", "((x))"
        if m is not None and len(m.group(1)) == len(m.group(3)) and fix_articles(m.group(2).strip()) in people:
            out.append(f"[[{k}]]")
    return tuple(out)


def _inner_descriptions(
    prot: Protected, names: tuple[Name, ...]
) -> tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...]:
    """(protected atom, (description, its variants) for each name description it holds), for the atoms that
    hold a description with variants; () for most prompts."""
    out: list[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]] = []
    for atom in dict.fromkeys(prot.atoms):
        if atom.startswith("<"):  # a network's file name is never a description
            continue
        held: list[tuple[str, tuple[str, ...]]] = []
        for nm in names:
            canonical = fix_articles(nm.replacement) if nm.replacement else ""
            if not canonical or canonical == nm.text or canonical not in atom:
                continue
            variants = tuple(dict.fromkeys(fix_articles(v) for v in nm.variants if v and fix_articles(v) != canonical))
            if variants and all(canonical != c for c, _ in held):
                held.append((canonical, variants))
        if held:
            out.append((atom, tuple(held)))
    return tuple(out)


def _vary_inner(text: str, inner: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...]) -> str:
    """``text`` with each protected atom that holds name descriptions said with one of their variants (or kept),
    chosen evenly and deterministically from the line itself, each name on its own."""
    for atom, held in inner:
        if atom in text:
            varied = atom
            for k, (canonical, variants) in enumerate(held):
                pick = stable_seed(k, text) % (len(variants) + 1)
                if pick:
                    varied = varied.replace(canonical, variants[pick - 1], 1)
            text = text.replace(atom, varied, 1)
    return text


def _regenericise(texts: list[str], options: NameOptions) -> list[str]:
    try:
        return genericise_many(texts, options)
    except ValueError:  # a candidate the grammar rejects: check them one by one, dropping the bad ones
        kept = []
        for t in texts:
            try:
                kept.append(genericise(t, options).generic.source)
            except ValueError:
                continue
        return kept


def _known_backends() -> list[str]:
    from smoothie.prompt.backends import available_backends

    return available_backends()
