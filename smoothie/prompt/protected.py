"""Words a rewrite never touches: numbers, colours and directions ("70 bottle caps" stays 70).

Name detection never treats them as names, the rules backend never substitutes them, and the data tables'
test checks that no substitution key contains one.
"""

from __future__ import annotations

import re

NUMBER_WORDS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
    seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand
    thousands million millions dozen dozens half single double triple pair couple first second third fourth
    fifth sixth seventh eighth ninth tenth once twice thrice both""".split()
)

COLOUR_WORDS = frozenset(
    """red orange yellow green blue indigo violet purple pink magenta cyan teal turquoise aqua brown tan beige
    black white grey gray silver gold golden bronze copper crimson scarlet maroon burgundy navy azure cobalt
    emerald jade olive lime mint amber ochre ivory cream khaki lavender lilac mauve peach coral salmon rust
    charcoal ebony platinum blonde blond brunette auburn ginger redhead sepia monochrome rainbow colorful
    colourful multicolored multicoloured pastel neon""".split()
)

DIRECTION_WORDS = frozenset(
    """left right up down upward upwards downward downwards above below over under beneath behind front back
    backward backwards forward forwards top bottom side sideways north south east west northern southern eastern
    western northeast northwest southeast southwest leftward rightward upside inside outside inward outward
    clockwise counterclockwise horizontal vertical diagonal""".split()
)

PROTECTED_WORDS = NUMBER_WORDS | COLOUR_WORDS | DIRECTION_WORDS

_NUMERIC = re.compile(r"\d")
_WORD = re.compile(r"[A-Za-z0-9']+")


def is_protected_word(word: str) -> bool:
    """True for a number (any token with a digit, or a number word), a colour or a direction."""
    w = word.lower().strip("'")
    return bool(_NUMERIC.search(w)) or w in PROTECTED_WORDS


def protected_words_in(text: str) -> list[str]:
    """The protected words of ``text``, in order (case kept)."""
    return [w for w in _WORD.findall(text) if is_protected_word(w)]
