"""Words a paraphrase must keep exactly: numbers, colours, directions, ages, genders and trained tags.

"70 bottle caps" stays 70, a "girl" never becomes a "little girl", ``masterpiece`` is never "finest work".
Name detection never treats these words as names, the rules backend never substitutes them (the data tables'
test checks that no substitution key contains one) and :mod:`smoothie.prompt.validate` rejects any candidate
paraphrase that adds, drops or changes them.
"""

from __future__ import annotations

import re

NUMBER_WORDS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
    seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand
    thousands million millions dozen dozens half single double triple pair couple first second third fourth
    fifth sixth seventh eighth ninth tenth once twice thrice both""".split()
)

# Cardinals, decades and quantities whose count a paraphrase must keep (the ordinals and "both", "single" of
# NUMBER_WORDS are kept by the rules backend, but a model saying "a pair" for "two" is not a drift).
COUNT_WORDS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
    seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand
    thousands million millions dozen dozens pair trio quartet twenties thirties forties fifties sixties
    seventies eighties nineties""".split()
)

COLOUR_WORDS = frozenset(
    """red orange yellow green blue indigo violet purple pink magenta cyan teal turquoise aqua brown tan beige
    black white grey gray silver gold golden bronze copper crimson scarlet maroon burgundy navy azure cobalt
    emerald jade olive lime mint amber ochre ivory cream khaki lavender lilac mauve peach coral salmon rust
    charcoal ebony platinum blonde blond brunette auburn ginger redhead sepia monochrome rainbow colorful
    colourful multicolored multicoloured pastel neon""".split()
)

# Colour words that are nearly always colours (not a fish, a fruit, a metal or a spice): a candidate that adds
# or drops one of these changes the picture. "gray"/"grey", "blond"/"blonde" and "gold"/"golden" are one colour.
STRICT_COLOURS = frozenset(
    """red orange yellow green blue purple violet pink magenta cyan teal turquoise aqua brown black white grey
    gray silver gold golden crimson scarlet navy beige maroon lavender indigo emerald sepia ivory platinum
    auburn brunette blonde blond monochrome azure cobalt burgundy lilac mauve ochre khaki charcoal""".split()
)
SAME_COLOUR = {"gray": "grey", "blond": "blonde", "golden": "gold"}

DIRECTION_WORDS = frozenset(
    """left right up down upward upwards downward downwards above below over under beneath behind front back
    backward backwards forward forwards top bottom side sideways north south east west northern southern eastern
    western northeast northwest southeast southwest leftward rightward upside inside outside inward outward
    clockwise counterclockwise horizontal vertical diagonal""".split()
)

# One direction in three words: "under a full moon" = "beneath a full moon" = "underneath a full moon".
UNDER_WORDS = frozenset({"under", "beneath", "underneath"})
# Directions whose count a paraphrase keeps ("facing left", "looking up", "from above", "top view").
STRICT_DIRECTIONS = frozenset(
    """left right leftward rightward up upward upwards down downward downwards above below top bottom behind
    beneath underneath upside""".split()
)

# Words that state an age. Adding one ("girl" → "little girl", "woman" → "young woman", "man" → "old man")
# changes who is drawn; for a child it is also a safety problem.
AGE_WORDS = frozenset(
    """young younger youngest youthful child children kid kids toddler toddlers teen teens teenage teenager
    teenagers loli lolis shota baby babies infant infants schoolgirl schoolgirls schoolboy schoolboys juvenile
    juveniles minor minors preteen preteens underage tween tweens childlike girlish boyish adolescent adolescents
    old older oldest elderly aged ageing aging senior seniors middle-aged grey-haired elder elders adult adults
    newborn newborns youngster youngsters""".split()
)
# The words that say someone is old: one may stand for another ("an old man" = "an elderly man").
OLDER_WORDS = frozenset(
    "old older oldest elderly aged ageing aging senior seniors middle-aged grey-haired elder elders".split()
)
# "little" is an age only before a person: "a little girl", "the little ones", never "a little house".
LITTLE_PERSON = re.compile(
    r"\b(?:little|tiny|small)\s+(?:girls?|boys?|kids?|child|children|ones?|sisters?|brothers?|lady|ladies|"
    r"man|men|woman|women|person|people|princess|prince)\b",
    re.IGNORECASE,
)

FEMALE_WORDS = frozenset(
    """woman women girl girls lady ladies female females she her hers herself mother mothers daughter daughters
    queen princess wife sister sisters actress goddess maiden maidens lass lasses gal gals 1girl 2girls 3girls
    4girls 5girls 6+girls mom mum grandmother grandma aunt niece bride witch witches empress duchess heroine
    girlfriend feminine sorceress enchantress waitress nun""".split()
)
MALE_WORDS = frozenset(
    """man men boy boys gentleman gentlemen male males he him his himself father fathers son sons king prince
    husband brother brothers actor guy guys lad lads 1boy 2boys 3boys 4boys 5boys 6+boys dad grandfather grandpa
    uncle nephew groom wizard wizards emperor duke hero boyfriend masculine sorcerer waiter monk fellow""".split()
)

# Tags models were trained on verbatim: renaming one ("masterpiece" → "finest work") loses what it triggers.
# These are unambiguous wherever they stand; AMBIGUOUS_TAGS are tags only as a whole comma item ("newest, 1girl"),
# words elsewhere ("a safe in a bank").
TRAINED_TAGS = frozenset(
    (
        "masterpiece", "best quality", "high quality", "amazing quality", "great quality", "good quality",
        "normal quality", "medium quality", "bad quality", "low quality", "worst quality", "very aesthetic",
        "absurdres", "incredibly absurdres", "highres", "lowres", "newest", "nsfw", "sfw", "ultra detailed",
        "extremely detailed", "hdr", "uhd", "8k", "4k", "very awa",
    )
)  # fmt: skip
AMBIGUOUS_TAGS = frozenset(
    """aesthetic displeasing recent mid early old oldest safe sensitive general questionable explicit""".split()
) | {"very displeasing"}
SCORE_TAG = re.compile(r"(?<![\w])(?:score_\d+(?:_up)?|source_[a-z]+|rating_[a-z]+)(?![\w])", re.IGNORECASE)

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


def is_trained_tag(tag: str) -> bool:
    """A quality, score, rating or source tag a model was trained on (``score_8_up``, ``best quality``)."""
    t = " ".join(tag.strip().lower().split())
    return t in TRAINED_TAGS or t in AMBIGUOUS_TAGS or bool(SCORE_TAG.fullmatch(t))
