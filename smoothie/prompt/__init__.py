"""The prompt engine: WebUI prompt grammar, proper nouns, genericising, paraphrase backends, ensembles.

Public API::

    from smoothie.prompt import rewrite, scrub, parse_prompt, PromptSyntaxError
    r = rewrite("Brad Pitt drinking coffee in a diner, 1970s photo", n=32, seed=0)
    r.generic, r.names, r.paraphrases
    scrub("Emma Watson smiling, by Greg Rutkowski").text

Nothing here needs torch; spaCy is optional (names are then found by table, rules and user lists).
"""

from __future__ import annotations

from smoothie.prompt.engine import MAX_ENSEMBLE, Rewrite, Scrubbed, detect_style, rewrite, scrub
from smoothie.prompt.grammar import PromptSyntaxError, parse_prompt
from smoothie.prompt.names import Name, NameOptions
from smoothie.prompt.tables import NameEntry, load_user_names

__all__ = [
    "MAX_ENSEMBLE",
    "Name",
    "NameEntry",
    "NameOptions",
    "PromptSyntaxError",
    "Rewrite",
    "Scrubbed",
    "detect_style",
    "load_user_names",
    "parse_prompt",
    "rewrite",
    "scrub",
]
