"""Find proper nouns in prompt text and replace them with generic descriptions.

Sources, strongest first: the user's lists (names to keep, extra names), the built-in table
(:mod:`smoothie.prompt.tables`), danbooru's tag database (tagcomplete's ``danbooru.csv``, when installed next to
us or given), the ``name \\(series\\)`` rule of danbooru tags, context rules (``by X``, ``in the style of X``,
``X style``, ``named X``, ``my daughter X``) and spaCy NER / proper-noun tags. Each name gets a label (person,
artist, character, copyright, brand, artwork, item, studio, place) and a replacement chosen for its position
and for the prompt's style:

* ``a woman named Sarah`` → ``a woman``; ``my daughter Hope`` → ``my daughter`` (the noun already says who);
* ``by Rembrandt`` → ``dramatic chiaroscuro oil painting`` (a style description); an unknown artist's ``by X``
  is dropped (nothing is invented);
* ``Starbucks apron`` → ``green coffee-shop apron`` (a brand before a noun becomes an adjective);
* ``Brad Pitt drinking coffee`` → ``a rugged blond man drinking coffee``;
* in a tag prompt (``1girl, hatsune miku, …``) a character becomes tags of its look (``aqua hair, twintails,
  detached sleeves``), a copyright tag is dropped, an artist tag becomes style tags; danbooru's general tags
  are never names. A description never contradicts the prompt (:mod:`smoothie.prompt.describe`).

Places are found and kept unless ``scrub_places`` is set. Numbers, colours and directions are never names.
No replacement is a placeholder ("a person", "branded product"): a name is described, or the neutral noun the
sentence needs is kept, or it is dropped.

Work is linear in the prompt's length: names are looked up by word n-grams in hash tables, context rules look
at a bounded window, and spaCy sees at most :data:`NER_MAX_CHARS` characters in short pieces.
"""

from __future__ import annotations

import itertools
import logging
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Protocol

from smoothie.prompt import tables
from smoothie.prompt.describe import (
    COLOUR,
    Cues,
    clashes_with_scene,
    cues,
    fit_phrase,
    fit_tags,
    gender_of,
    gendered,
    without_any_colour,
)
from smoothie.prompt.grammar import Atom, Group, Prompt, Separator, Text
from smoothie.prompt.invariants import (
    AGE_WORDS,
    COLOUR_WORDS,
    FEMALE_WORDS,
    MALE_WORDS,
    NUMBER_WORDS,
    SAME_COLOUR,
    STRICT_DIRECTIONS,
    is_protected_word,
    is_trained_tag,
)
from smoothie.prompt.nlp import get_nlp, is_english_word, noun_lemmas
from smoothie.prompt.tables import NameEntry, NameTable, TagDatabase, normalise_form, tag_key
from smoothie.prompt.text import article as _article
from smoothie.prompt.text import counted, fix_articles, squeeze
from smoothie.prompt.text import strip_article as _strip_article
from smoothie.prompt.thesaurus import senses

log = logging.getLogger(__name__)

NER_MAX_CHARS = 6000  # spaCy reads this much of a prompt (names later on are found by tables and rules)
_NER_PIECE = 600  # ... in pieces of about this size, cut at commas or spaces
_CONTEXT = 160  # how far back a context rule looks ("in the style of", "named", "my daughter")

# Words: letters/digits with inner apostrophes, hyphens and dots ("McDonald's", "Coca-Cola", "St.", "d.va").
# A hyphen before a style word ends the word: "IKEA-style" is the name IKEA and "-style".
_WORD = re.compile(
    r"[A-Za-z0-9À-ÖØ-öø-ÿ](?:[\wÀ-ÖØ-öø-ÿ]|['’\.](?=[\wÀ-ÖØ-öø-ÿ])"
    r"|-(?!(?:style|styled|inspired|esque|themed|aesthetic|looking)\b)(?=[\wÀ-ÖØ-öø-ÿ]))*",
    re.IGNORECASE,
)
# A weight-like ":1.3" inside a tag, before a "\\(qualifier\\)" (A1111 reads it as text there).
_INNER_WEIGHT = re.compile(r":\s*[-+]?(?:\d|\.\d)")
_BY_CONTEXT = re.compile(
    r"(?:\b(?P<noun>(?:(?:concept|digital|fantasy|poster|pixel|line|fan|cover|key|splash|comic|manga|anime|cel|"
    r"vector|oil|ink|pencil|watercolou?r)\s+)?(?:art|artwork|painting|paintings|illustration|drawing|photo|"
    r"photograph|photography|picture|image|work|works|poster|comic|manga|anime))\s+)?\b(?P<verb>[a-z]+(?:ed|wn|ne|de|ot)\s+)?by\s+$|"
    r"\b(?:in\s+the\s+)?(?:style|manner|spirit|tradition)\s+of\s+$|\binspired\s+by\s+$|\bà\s+la\s+$|"
    r"(?:^|,)\s*artist:\s*$",
    re.IGNORECASE,
)
_NAMED_CONTEXT = re.compile(r"\s*\b(?:named|called|nicknamed)\s+$", re.IGNORECASE)
# "my daughter Hope", "her friend Marco", "our dog Biscuit": the noun says who; the name goes.
_ROLE_NOUN = (
    r"(?:(?:little|baby|big|older|younger|best|old|new|pet)\s+)?"
    r"(?:daughter|son|wife|husband|mother|father|mom|mum|dad|sister|brother|grandmother|grandfather|grandma|"
    r"grandpa|granddaughter|grandson|aunt|uncle|niece|nephew|cousin|friend|girlfriend|boyfriend|fiancee|"
    r"fiance|partner|baby|child|kid|boss|teacher|neighbou?r|dog|cat|puppy|kitten|horse|pony|parrot|hamster|"
    r"rabbit|bunny|pet|kitty|tabby|retriever|labrador|lab|corgi|pug|poodle|beagle|husky|terrier|bulldog|"
    r"dachshund|chihuahua|spaniel|collie|shepherd|doodle|greyhound|dalmatian|rottweiler|doberman|pomeranian|"
    r"shiba|goldfish|turtle|tortoise|lizard|gecko|iguana|snake|ferret|budgie|cockatiel|canary|goat|pig|hen|"
    r"chicken|duck|cow|guinea\s+pig)"
)
# up to three words between the owner and the role: "my golden retriever Biscuit", "my fat orange tabby Milo"
_ROLE_MODIFIERS = r"(?:[a-z][a-z'-]*\s+){0,3}"
# "my dog Biscuit", "my dog, Biscuit", "a dog Biscuit"; never "a cat, Zorblax" (a list: the next item)
_ROLE_CONTEXT = re.compile(
    rf"\b(?:(?:my|our|his|her|their|your)\s+{_ROLE_MODIFIERS}{_ROLE_NOUN}\s*,?\s+|(?:a|the)\s+{_ROLE_NOUN}\s+)$",
    re.IGNORECASE,
)
# "Greek goddess Athena", "detective Conan": a lower-case title noun right before a capitalised name says who.
_TITLE_NOUN_CONTEXT = re.compile(
    r"(?<![\w-])(?:god|goddess|king|queen|emperor|empress|prince|princess|pharaoh|saint|knight|wizard|witch|"
    r"sorcerer|sorceress|detective|inspector|agent|officer|sergeant|admiral|chef|nurse|professor|doctor|"
    r"captain|president|senator|general)\s+$"
)
_STYLE_AFTER = re.compile(
    r"^(?:['’]s)?(?:\s+|-)(?:style|styled|aesthetic|aesthetics|colou?rs|colou?ring|palette|vibes?|"
    # "Vermeer lighting" is a look; "Gandalf lighting his pipe" an action (the verb takes an object)
    r"lighting(?!\s+(?:a|an|the|his|her|their|its|my|our|your|one|up|some|candles?|fires?|lanterns?|torch)\b)|"
    r"inspired|esque|look|brushwork|composition|mood|feel)\b",
    re.IGNORECASE,
)
# "trending on ArtStation", "featured on Pixiv", "ArtStation HQ": a site named for the acclaim its work gets. The
# phrase is read whole, as acclaim for the kind of work the site shows ("trending concept art"), never as a
# description of the site ("trending on concept-art showcase").
_ACCLAIM_BEFORE = re.compile(
    r"\b(?P<acclaim>(?:(?:very|most|highly|extremely|currently|now)\s+)?(?:trending|popular|featured|top[- ]rated|"
    r"highly[- ]rated|best[- ]rated|award[- ]winning|prize[- ]winning|hot|viral|famous|acclaimed|upvoted|"
    r"showcased|spotlighted))\s+(?:on|at|in)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_ACCLAIM_AFTER = re.compile(
    r"^\s+(?P<acclaim>hq|trending|featured|contest[- ]winner|contest[- ]winning|award[- ]winning|winner|"
    r"daily[- ]deviation|front[- ]page|top[- ]picks?)\b",
    re.IGNORECASE,
)
_ACCLAIM_WORDS = {
    "hq": "high-quality",
    "contest winner": "award-winning",
    "contest winning": "award-winning",
    "winner": "award-winning",
    "daily deviation": "featured",
    "front page": "front-page",
    "top pick": "top-rated",
    "top picks": "top-rated",
}
_LIST_GLUE = re.compile(r"\s*(?:,|/|&|\band\b|\bor\b)\s*(?:(?:and|or)\s+)?", re.IGNORECASE)
# "Unreal Engine 5", "Octane Render 2023", "Blender 3.6": a product's version goes with its name
# A brand's version or model after it ("Unreal Engine 5", "a Porsche 911 in guards red", "a Leica M6"): the
# brand's product, gone with it (a bare number only where an item ends; a model code anywhere)
_VERSION_AFTER = re.compile(
    r"^\s+(?:v?\d+(?:\.\d+)*(?=\s*(?:[,.;:)\]|]|$))|[A-Za-z]{0,3}\d{2,}[A-Za-z]{0,3}\b|[A-Za-z]{1,3}\d[A-Za-z0-9]*\b)"
)
_ARTICLE_BEFORE = re.compile(r"\b(?:a|an|the)\s+$", re.IGNORECASE)
# an article and one to three lower-case adjectives right before a name ("a young ", "the tiny smiling ")
_ARTICLE_ADJECTIVES_BEFORE = re.compile(
    r"(?:^|[\s(\[{|,])(?:a|an|the)\s+"
    r"(?:(?!(?:of|in|on|at|with|by|for|from|to|and|or|as|like|near|over|under|named|called)\s)[a-z][a-z\-]*\s+){1,3}$"
)
# what follows a given name that opens a prompt and makes it someone: an -ing verb or a possessive
_ACTS_AFTER = re.compile(r"(?:['’]s\b|\s+[a-z]+ing\b)")
# ... and at a sentence's start, where a capital says nothing, what only a person does ("Rose blooming" is a flower)
_PERSON_ACTS_AFTER = re.compile(
    r"\s+(?:smiling|laughing|grinning|posing|waving|talking|singing|dancing|crying|reading|writing|sitting|"
    r"standing|walking|running|jogging|wearing|holding|looking|playing|cooking|eating|drinking|sleeping|"
    r"kneeling|hugging|kissing|riding|driving|painting|drawing|studying|working|shopping|jumping|swimming)\b|"
    r"\s+[a-z]+ing\s+(?:(?:with|at|to|for|on)\s+)?(?:her|his)\b",
    re.IGNORECASE,
)
# An unknown word in capitals is an acronym of the trade ("DSLR", "HDR", "VHS"), never a name spaCy guesses.
_ACRONYM = re.compile(r"[A-Z]{2,5}s?")
# Titles before a name, and who they say someone is when the name itself is unknown.
_TITLE_NOUNS = {
    **dict.fromkeys(("dr", "doctor"), "a doctor"),
    **dict.fromkeys(("prof", "professor"), "a professor"),
    **dict.fromkeys(("mr", "mister", "sir", "herr", "lord", "señor", "senor", "monsieur"), "a man"),
    **dict.fromkeys(
        ("mrs", "ms", "miss", "madam", "madame", "mme", "mlle", "frau", "dame", "lady", "señora", "senora"), "a woman"
    ),
    **dict.fromkeys(("captain", "capt"), "a captain"),
    "king": "a king",
    "queen": "a queen",
    "prince": "a prince",
    "princess": "a princess",
}
_TITLE = re.compile("|".join(_TITLE_NOUNS), re.IGNORECASE)
_TITLE_BEFORE = re.compile(r"(?<![\w.])(?P<title>(?:" + "|".join(_TITLE_NOUNS) + r")\.?)\s+$", re.IGNORECASE)
_TITLE_LEAD = re.compile(r"(?P<title>(?:" + "|".join(_TITLE_NOUNS) + r")\.?)\s+(?=[A-Z])", re.IGNORECASE)
_ARTICLE_LEAD = re.compile(r"(?:a|an)\s", re.IGNORECASE)
_WHEN_AFTER = re.compile(
    r"\s+(?:at|in|during|under|by)\s+(?:the\s+)?(?:night|nighttime|dawn|dusk|sunset|sunrise|twilight|noon|midnight|"
    r"winter|summer|autumn|fall|spring|rain|snow|fog|mist|evening|morning|daytime|daylight|moonlight|christmas)\b",
    re.IGNORECASE,
)
_DETERMINER_BEFORE = re.compile(
    r"\b(?:a|an|the|this|that|these|those|some|every|each|one|another|any|no)\s+$", re.IGNORECASE
)
_FROM_BEFORE = re.compile(r"\s*\b(?:from|of|in)\s+(?:the\s+)?$", re.IGNORECASE)
# "name \(series\)" in a tag: danbooru's qualifier. The name is the tag's words before the escaped bracket.
_SERIES = re.compile(r"\\\((?P<series>[^\\()]{1,60})\\\)")
# Qualifiers of danbooru's general tags ("bow \(weapon\)", "star \(symbol\)"): those tags are things, not names.
GENERAL_QUALIFIERS = frozenset(
    """object objects medium symbol animal food clothes clothing weapon style shape creature plant flower fruit sky
    texture theme expression place planet substance instrument pose artwork meme projectile vehicle
    mythology cheerleading card game sport body organ anatomy hairstyle hair headwear accessory emblem insignia
    container furniture tool toy drink plant bird fish insect cat dog horse computing phone computer software
    mtf ftm sexual basic generic concept weather season holiday nationality language letter number color colour
    pattern material liquid mineral gem gemstone""".split()
)
# Qualifiers of things that stories give names to ("dragonslayer \(sword\)", "excalibur \(weapon\)"): a tag of
# such a thing in words no English word says the name; the qualifier says the thing.
_NAMED_THING_KINDS = frozenset("sword weapon gun spear axe shield staff polearm lance blade scythe ship".split())
# Words that never follow a house's or a school's name inside its outfit's tag.
_NOT_IN_A_NAME = frozenset("under over on in with and of without through".split())
# Outfits a school, a house or a series gives its name to ("roswaal mansion maid uniform").
_NAMED_OUTFITS = frozenset("uniform uniforms outfit costume armor armour attire clothes swimsuit bodysuit".split())
# A Japanese honorific on a tag's word ("ranma-chan", "cheese-kun"): a name.
_HONORIFIC = re.compile(r"\w-(?:chan|kun|san|sama|tan|senpai|sensei|dono|chin|nyan)\b", re.IGNORECASE)
_HONORIFIC_WORD = re.compile(
    r"(?<![\w-])[a-z][a-z']*-(?:chan|kun|san|sama|tan|senpai|sensei|dono)(?![\w-])", re.IGNORECASE
)
# Qualifiers that say what kind of a character's tag it is, not its series ("\(cosplay\)", "\(female\)").
_KIND_QUALIFIERS = frozenset(
    """cosplay character persona vtuber female male human young adult child alternate costume real life
    actress actor artist singer""".split()
)
# Qualifiers that mark the tag before them as someone ("tifa lockhart \(cosplay\)"), never a kind of thing.
_NAME_MARKS = frozenset({"cosplay", "character", "persona", "vtuber"})
# A vtuber's or a game character's costume said by its kind, which stays as written ("mori calliope \(1st costume\)").
_COSTUME_QUALIFIER = re.compile(r"(?:\d+(?:st|nd|rd|th)|new year|casual|school|alternate|original) (?:costume|outfit)")
# Short series qualifiers of danbooru's character tags that are also English words ("saber \(fate\)"): as a
# qualifier they name a series (others, like "honkai" or "kancolle", are no English word and need no list).
SERIES_QUALIFIERS = frozenset(
    """fate persona tales sonic mario splatoon idolmaster precure pokemon digimon touhou vocaloid hololive
    overwatch cyberpunk arcane warcraft borderlands halo metroid kirby yakuza tekken naruto bleach berserk
    evangelion gundam macross monogatari""".split()
)
# Words of WebUI syntax written loosely ("<lora x:1>", "lora:a:1", "AND", "BREAK"): never names.
_SYNTAX_WORDS = frozenset(
    "lora loras lyco lycoris locon loha hypernet hypernetwork embedding embeddings break and".split()
)
_NON_NOUN_NEXT = frozenset(
    """and or but with without in on at of for from to by as into onto over under near behind beside while
    who which that is are was were be being been has have had its their his her our your my this these
    those a an the made built worn sewn drawn held shown seen taken thrown woven hung spun laid lit stuck
    sold""".split()  # and the past participles that end in no "-ed" ("Air Jordans made of porcelain")
)
# Works an artist's name before them describes: "a Van Gogh painting" -> "a swirling post-impressionist painting".
_ART_NOUNS = frozenset(
    """painting paintings drawing drawings illustration illustrations artwork artworks art sketch sketches print
    prints portrait portraits poster posters mural murals sculpture sculptures etching etchings engraving
    engravings woodcut lithograph canvas canvases piece pieces landscape landscapes still-life self-portrait
    self-portraits photo photos photograph photographs photography""".split()
)
# Nouns a series' name before them describes: "a Star Wars poster" -> "a space-opera poster".
_SERIES_NOUNS = frozenset(
    """race races game games world universe scene scenes movie film poster posters card cards figure figures
    figurine toy toys lego battle level map landscape setting cosplay outfit costume costumes fanart fan-art art
    artwork illustration screenshot wallpaper""".split()
)
# Nouns a person or character name modifies as an adjective: "Batman mask" -> "bat-themed vigilante mask".
_MERCH_NOUNS = frozenset(
    """costume costumes cosplay outfit outfits mask masks suit helmet figure figurine figurines toy toys doll dolls
    plush plushie poster posters shirt t-shirt hoodie sticker stickers logo mug lunchbox tattoo statue lego emblem
    themed theme merch merchandise fanart fan-art cake backpack pajamas onesie shaped""".split()
)


def _held(description: str, container: str) -> str | None:
    """What a product's description says its ``container`` holds ("slim can of energy drink with a red logo" →
    "energy drink with a red logo"; "classic ketchup bottle" → "classic ketchup"), or None when it does not say
    (the container is not there, or a word that is no noun comes before it: "caffeinated can")."""
    if f" {container} of " in f" {description}":
        return _strip_article(f" {description}".split(f" {container} of ", 1)[1])
    m = re.search(r"([\w-]+)\s+" + re.escape(container) + r"\b", description)
    if m is None or m.group(1).split("-")[-1].lower() not in noun_lemmas() or m.group(1).endswith("ed"):
        return None
    return _strip_article(description[: m.end(1)] + description[m.end() :])


def _underscored(text: str) -> bool:
    """Whether a tag prompt spells its tags as danbooru does ("long_hair, school_uniform"): every tag of
    several words joined by underscores, none with a space (weights and syntax aside)."""
    tags = [re.sub(r"[()\[\]{}]|:\s*[-+]?[\d.]+$|\\", "", t).strip() for t in text.split(",")]
    several = [t for t in tags if "_" in t or len(t.split()) > 1]
    return bool(several) and all(" " not in t for t in several) and any("_" in t for t in several)


def _description_head(description: str) -> str:
    """A description up to what it adds about its noun ("a tall blonde woman with a guitar" → "a tall blonde
    woman"): what a possessive or a modifier can carry."""
    return re.split(r"\s+(?:with|in|wearing|holding|and)\s+|,", description)[0]


def _spaced(text: str) -> str:
    """``text`` with danbooru's underscores read as spaces ("aisaka_taiga" → "aisaka taiga"), the same length,
    except in the trained tags that keep them (``score_8_up``, ``source_anime``, ``rating_safe``)."""
    return re.sub(
        r"[^,()\[\]{}|]+",
        lambda m: m.group(0) if is_trained_tag(m.group(0).strip()) else m.group(0).replace("_", " "),
        text,
    )


def _underscore(tags: str) -> str:
    """ "white hair, purple eyes" in danbooru's spelling: "white_hair, purple_eyes"."""
    return re.sub(r"(?<=[^,\s]) (?=[^,\s])", "_", tags)


# The kinds of work danbooru writes after a title that reads like a word ("celeste \\(video game\\)", "sonic
# \\(series\\)"): a copyright tag, however its first words read alone.
_TITLE_KINDS = frozenset(
    {
        "series", "franchise", "video game", "game", "manga", "novel", "light novel", "visual novel", "film",
        "movie", "comic", "webcomic", "webtoon", "tv series", "anime series",
    }
)  # fmt: skip
# Who a sentence-like tag is about ("girl sitting on a bench"): never a series' title.
_SOMEONE_WORDS = frozenset("girl girls boy boys woman women man men person people child children".split())
# What holds a product, said before it ("a can of X", "a bottle of X").
_CONTAINERS = frozenset(
    "can cans bottle bottles cup cups glass glasses mug box boxes bag bags pack jar carton tin packet bar tube".split()
)
# What is someone's own, said after their name ("Gene Kelly pose" = "a man's pose").
_OWN_NOUNS = frozenset(
    """pose poses haircut hairstyle hairdo smile grin stance expression pout wink glare gaze signature autograph
    concert concerts lookalike""".split()
)
# What a description of an unknown name may fall back to: the neutral noun the sentence needs, never a
# placeholder like "a person" or "a fictional character".
_NEUTRAL = {
    ("person", "female"): "a woman",
    ("person", "male"): "a man",
    ("person", ""): "someone",
    ("character", "female"): "a girl",
    ("character", "male"): "a boy",
    ("character", ""): "a figure",
}
_ANIME_NEUTRAL = {"female": "an anime girl", "male": "an anime boy", "": "an anime character"}
_STYLE_LABELS = frozenset({"artist", "studio"})
_NER_LABELS = {
    "PERSON": "person",
    "ORG": "brand",
    "PRODUCT": "brand",
    "WORK_OF_ART": "artwork",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "NORP": "place",
}
_PLACE_GENERIC = {"GPE": "a city", "LOC": "a landscape", "FAC": "a landmark", "NORP": ""}
# "a still from X", "an episode of X": X is a film, a show or a game ("a poster of X" may show someone).
_WORK_BEFORE = re.compile(
    r"\b(?:(?:screenshot|screencap|screen cap|still|scene|frame|clip|episode|trailer|cover|poster)s?\s+(?:from|in)|"
    r"(?:episode|trailer|season)s?\s+of)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
# A tag that is one token with letters after digits reads as a handle ("mx2j", "96yottea"), unless its letters
# are a unit or a count ("1girl", "8k", "1080p", "35mm", "1990s", "4koma", "20th").
_HANDLE = re.compile(r"(?=(?:.*[a-z]){2})[a-z]*\d+[a-z]+[a-z\d]*")
_UNIT_AFTER_DIGITS = re.compile(
    r"\d+(?:girls?|boys?|others?|k|d|p|fps|s|mm|cm|th|st|nd|rd|koma|x|hz|bit|kb|mb|gb|px|am|pm|ft|in|m|kg|g)"
)
# Nouns after a one-word name that make it a place: "Gotham skyline", "Zorbia streets".
_PLACE_AFTER = frozenset(
    """skyline skylines streets street city harbour harbor port downtown outskirts rooftops alley alleys
    countryside coast coastline valley mountains hills village town suburbs district""".split()
)
# An ORG or a FAC that is a building or a site is a place, never a brand ("the Treasury at Petra").
_PLACE_HEADS = frozenset(
    """treasury temple cathedral church chapel basilica mosque synagogue palace castle tower bridge museum
    gallery library abbey monastery fort fortress citadel gate square plaza park garden gardens station
    stadium arena hall theatre theater opera house market bazaar cemetery tomb mausoleum pyramid pyramids
    wall walls canal harbour harbor port lighthouse university college school academy hospital falls
    mountain mount lake river bay island islands valley canyon desert forest beach coast street avenue
    boulevard road district quarter village city town""".split()
)


@dataclass(frozen=True)
class Name:
    """A name found in a prompt: ``text`` as written, its ``label`` and what replaced it (``""``: dropped).

    ``variants`` are consistent alternatives to ``replacement`` (a backend may use any of them: they say no
    more than the replacement does, in other words or, for tags, fewer of them).
    """

    text: str
    label: str
    replacement: str
    source: str = ""
    variants: tuple[str, ...] = ()

    def to_json(self) -> dict[str, str]:
        return {"text": self.text, "label": self.label, "replacement": self.replacement}


@dataclass(frozen=True)
class NameOptions:
    """How names are found: names to keep, extra names, places, and danbooru's tag database.

    ``tag_database``: a tagcomplete-format CSV (``rewrite --tag-database FILE``); without it the file named by
    the ``SMOOTHIE_TAG_DATABASE`` environment variable, else the tagcomplete extension's own ``tags/danbooru.csv``
    when that extension is installed next to us (``use_tagcomplete``; ``extensions_dir`` overrides where "next
    to us" is).
    """

    keep: tuple[str, ...] = ()
    extra: tuple[NameEntry, ...] = ()
    scrub_places: bool = False
    use_ner: bool = True
    use_tagcomplete: bool = True
    extensions_dir: str | None = None
    tag_database: str | None = None


@dataclass
class Analysis:
    """What the whole prompt says, computed once and shared by all its text leaves: the names spaCy found,
    the prompt's style (``tags`` or ``natural``), its cues (:class:`~smoothie.prompt.describe.Cues`), and the
    names replaced so far (:attr:`found`)."""

    options: NameOptions
    style: str = "natural"
    ner: dict[str, tuple[str, str]] = field(default_factory=dict)  # surface -> (label, NER label)
    cues: Cues = field(default_factory=Cues)
    found: list[Name] = field(default_factory=list)
    before: str = ""  # the rewritten text just before the current name (a bounded tail)
    following: str = ""  # the prompt's text right after the weight being read ("(Frida Kahlo:1.2) tending …")
    described: set[str] = field(default_factory=set)  # entries already described (a second mention is dropped)
    emitted: set[str] = field(default_factory=set)  # description tags already written (never twice)
    unescaped: set[str] = field(default_factory=set)  # series the user wrote without escapes: "rem (re:zero)"
    anime: bool = False  # the prompt names anime/game things (danbooru names, a "\(series\)" tag)
    acclaimed: str = ""  # the last "trending <work>" written ("trending on A and B": B's work joins it)
    series_seen: dict[str, int] = field(default_factory=dict)  # series qualifiers described so far
    choosing: bool = False  # replacing one choice of "{a|b}" / "[a:b:n]"
    weighted_in_sentence: bool = False  # replacing the words of a weight inside a sentence ("of (X:1.3) in")
    in_weight: bool = False  # replacing the words of a weight: "(jack-o' challenge:1.2)" keeps its tags to weigh
    prior: str = ""  # the prompt's text before the leaf being read (bounded: where a tag prompt names its characters)
    after: str = ""  # the prompt's text after the leaf being read (bounded: whether a tag closes the prompt)


class _Lookup(Protocol):
    max_words: int

    def get(self, form: str) -> NameEntry | None: ...

    def __len__(self) -> int: ...


@dataclass
class _Found:
    start: int
    end: int
    entry: NameEntry
    ner_label: str = ""
    kind: str = ""  # "series": a "name \(series\)" tag; "role": after "my daughter"; "sibling": a choice


class Genericiser:
    """Detect and replace names; one instance is reused across prompts (tables are loaded once)."""

    def __init__(self, options: NameOptions | None = None) -> None:
        self.options = options or NameOptions()
        self.table = tables.builtin_names()
        self.user = NameTable()
        for entry in self.options.extra:
            self.user.add(entry, override=True)
        self.db: TagDatabase | None = None
        if self.options.tag_database:
            self.db = tables.load_tag_database(self.options.tag_database)  # ValueError names a bad file
        elif self.options.use_tagcomplete:
            self.db = tables.default_tag_database(self.options.extensions_dir)
        self.keep = tuple(normalise_form(k) for k in self.options.keep if k.strip())

    # --- the whole prompt --------------------------------------------------------------------------------

    def genericise(self, prompt: Prompt, analysis: Analysis) -> Prompt:
        """``prompt`` with every name replaced, WebUI syntax kept; what was replaced is in ``analysis.found``.

        Runs of text and escaped brackets are treated as one text (``kafka \\(honkai: star rail\\)`` is one
        tag); names inside weights, alternations and ``{a|b}`` choices are replaced in place.
        """
        segments = list(prompt.segments)
        whole = "".join(
            s.source for s in segments
        )  # each text run's context, read by offset (one join, not one per run)
        starts = list(itertools.accumulate((len(s.source) for s in segments), initial=0))
        out: list[Text | Atom | Group | Separator] = []
        i = 0
        while i < len(segments):
            seg = segments[i]
            if isinstance(seg, Text) or (isinstance(seg, Atom) and seg.kind == "escape"):
                j = i
                while j < len(segments) and (
                    isinstance(segments[j], Text) or (isinstance(segments[j], Atom) and segments[j].kind == "escape")  # type: ignore[union-attr]
                ):
                    j += 1
                run = "".join(s.source for s in segments[i:j])
                nxt = segments[j] if j < len(segments) else None
                if isinstance(nxt, Group) and self._unescaped_series(run, nxt, analysis):
                    # "rem (re:zero)": the series written without escapes, which A1111 reads as an emphasis
                    # group: read as one tag, then the group is kept around the series described ("(anime)")
                    inner = nxt.source[1:-1].strip()
                    analysis.unescaped.add(inner)
                    new = _trim_like(run, self.replace(run.rstrip() + " \\(" + inner + "\\)", analysis))
                    described = _UNESCAPED_OUT.search(new)
                    if described is not None:
                        out.extend(_reparse(new[: described.start()]))
                        out.append(Group("emphasis", "(", ")", (Text(described.group("words")),)))
                        out.extend(_reparse(new[described.end() :]))
                    else:  # the name stayed (kept, or not read as one): the user's group as it was
                        out.extend(_reparse(run))
                        out.append(nxt)
                    i = j + 1
                    continue
                analysis.prior = whole[max(0, starts[i] - _PRIOR) : starts[i]]
                analysis.after = whole[starts[j] : starts[j] + _PRIOR]
                out.extend(_reparse(_trim_like(run, self.replace(run, analysis))))
                analysis.prior = analysis.after = ""
                i = j
                continue
            if isinstance(seg, Group):
                analysis.weighted_in_sentence = (
                    seg.kind == "weight"
                    and _next_char(reversed(segments[:i]), last=True) not in ("", ",", "(", "[", "{", "|")
                    and _next_char(segments[i + 1 :]) not in ("", ",", ")", "]", "}", "|")
                )
                analysis.following = "".join(s.source for s in segments[i + 1 : i + 4])[:60]
                analysis.in_weight = seg.kind == "weight"
                new_group = self._group(seg, analysis)
                analysis.weighted_in_sentence = analysis.in_weight = False
                analysis.following = ""
                if _emptied(seg, new_group):
                    # "((by Zorbert Quill))": the group held only an unknown name; it goes with its list comma
                    _drop_list_glue(out, segments, i)
                else:
                    out.append(new_group)
            else:
                out.append(seg)
            i += 1
        return Prompt(tuple(_merge(out)))

    def _unescaped_series(self, run: str, group: Group, analysis: Analysis) -> bool:
        if group.kind != "emphasis" or analysis.style != "tags" or len(group.children) != 1:
            return False
        inner = group.source[1:-1].strip()
        if not inner or not run.rstrip() or run.rstrip().endswith(","):
            return False
        before = run.rsplit(",", 1)[-1].strip()
        if not before or len(before.split()) > 4:
            return False
        if self.db is not None:
            found = self.db.lookup(f"{before} ({inner})")
            if found is not None:
                return found[1] in (tables.CHARACTER, tables.COPYRIGHT, tables.ARTIST)
        return self._series_entry(inner) is not None

    def _group(self, group: Group, analysis: Analysis) -> Group:
        """A group with the names inside replaced: each choice of ``{a|b}`` / ``[a|b]`` on its own, the words
        of a weight or schedule without its numbers; a choice next to a name is read as a name too."""
        children: list[Text | Atom | Group] = []
        kids = list(group.children)
        split_at = "|" if group.kind in ("variants", "alternate") else ":" if group.kind == "schedule" else ""
        siblings = self._choice_names(group, split_at) if split_at else set()
        i = 0
        while i < len(kids):
            child = kids[i]
            if isinstance(child, Group):
                children.append(self._group(child, analysis))
                i += 1
                continue
            if isinstance(child, Atom) and child.kind != "escape":
                children.append(child)
                i += 1
                continue
            j = i
            while j < len(kids) and (
                isinstance(kids[j], Text) or (isinstance(kids[j], Atom) and kids[j].kind == "escape")  # type: ignore[union-attr]
            ):
                j += 1
            run = "".join(k.source for k in kids[i:j])
            last = j == len(kids)
            tail = ""
            if last and group.kind in ("weight", "schedule"):
                m = re.search(r":\s*[-+]?(?:\d+\.?|\d*\.\d+)\s*$", run)
                if m:
                    run, tail = run[: m.start()], m.group(0)
            parts = re.split(r"(\|)" if split_at == "|" else r"(:)", run) if split_at else [run]
            new_parts = []
            for part in parts:
                if part in ("|", ":") or not part.strip():
                    new_parts.append(part)
                    continue
                lead, body, trail = _outer_space(part)
                if normalise_form(body) in siblings:
                    new_parts.append(lead + self._sibling(body, analysis) + trail)
                    continue
                analysis.choosing = bool(split_at)  # one of several: "{Sarah|Emma}" is one woman, not another
                new = self.replace(body, analysis)
                low = body.lower()
                if (
                    split_at
                    and new == body
                    and re.fullmatch(r"[A-Z][a-z]+", body)
                    and low in _given_names()
                    and low not in tables.word_names()
                ):
                    # "{Sarah|Emma}", "[Sarah:Emma:5]": spaCy read the choices as one name ("Sarah Emma")
                    found = _Found(0, len(body), self._unknown_entry(body, "person", analysis))
                    new = self._render("", body, "", found, analysis)[1]
                analysis.choosing = False
                new_parts.append(lead + new + trail)
            children.extend(c for c in _reparse("".join(new_parts)) if not isinstance(c, Separator))
            if tail:
                children.append(Text(tail))
            i = j
        return Group(group.kind, group.open, group.close, tuple(_merge(children)))

    def _choice_names(self, group: Group, sep: str = "|") -> set[str]:
        """The choices of ``{Zelda|Peach}`` (or the prompts of ``[A:B:0.5]``) that are names because a sibling
        is one: a capitalised word the table knows as part of a character's or person's name ("Peach" of
        "Princess Peach"), or a capitalised name nobody knows ("{Ezio Auditore|Altair}", "[Cillian Murphy:Adrien
        Brody:0.5]"), never a common noun ("{Mario|Cat}")."""
        options = [o.strip() for t in group.texts() for o in t.split(sep) if o.strip()]
        known = [o for o in options if self._known_name(o)]
        if not known:
            return set()
        out = set()
        nouns = noun_lemmas()
        for o in options:
            if not o[:1].isupper():
                continue
            if o in known:
                entry = self.table.get(o)
                others = [x for x in options if x != o and (x in known or self.table.partial(x) is not None)]
                if others and entry is not None and entry.word:
                    out.add(normalise_form(o))  # "{Sonic|Tails}": the word is a name beside another name
                continue
            words = o.split()
            protected = any(is_protected_word(w) for w in words)
            if sep == ":" and protected:
                continue  # "[Taylor Swift:Red:0.5]": a colour, never Red Sonja (but "{Zelda|Peach}" is the princess)
            if self.table.partial(o) is not None or (
                1 <= len(words) <= 3
                and all(re.fullmatch(r"[A-Z][a-z'’\-]+", w) for w in words)
                and not (len(words) == 1 and o.lower() in nouns)
                and not protected
            ):
                out.add(normalise_form(o))
        return out

    def _from_other_series(self, entry: NameEntry, after: str) -> bool:
        """ "Fubuki from One-Punch Man": a series the table knows, said right after the name, that is none of the
        series the entry's forms name ("fubuki (kancolle)"): another character of the same name."""
        m = _FROM_SERIES.match(after)
        if m is None:
            return False
        theirs = _entry_series(entry)
        if not theirs:
            return False
        series = self.table.get(m.group(1).strip())
        if series is None or series.label != "copyright":
            return False  # a series nobody knows says nothing either way
        return not theirs & {normalise_form(f) for f in series.forms()}

    def _known_name(self, text: str) -> bool:
        for table in (self.user, self.table):
            entry = table.get(text)
            if entry is not None and entry.label in ("person", "character"):
                return True
        return False

    def _sibling(self, text: str, analysis: Analysis) -> str:
        entry = self.table.partial(text) or self.table.get(text)
        if entry is None:
            replaced = self.replace(text, analysis)
            if replaced != text and replaced.strip():
                return replaced  # (never nothing: "[A:B:0.5]" with B gone would draw no one after the switch)
            analysis.found = [n for n in analysis.found if n.text != text]
            # a name nobody knows beside a known one: the same kind of someone ("[Cillian Murphy:Adrien Brody:0.5]"
            # -> "a man", as the other is one)
            known = next((n for n in reversed(analysis.found) if n.label in ("person", "character")), None)
            sex = gender_of((known.replacement,)) if known is not None else ""
            if sex in ("male", "female") and known is not None and known.label == "person":
                entry = NameEntry(text, "person", "a man" if sex == "male" else "a woman", source="rule")
            else:
                entry = self._unknown_entry(text, known.label if known is not None else "person", analysis)
        found = _Found(0, len(text), entry, kind="sibling")
        _left, replacement, _consumed = self._render("", text, "", found, analysis)
        return replacement

    # --- detection -------------------------------------------------------------------------------------

    def analyse(
        self, context_text: str, tag_phrases: Sequence[str] = (), doc: Any = None, style: str = "natural"
    ) -> Analysis:
        """Read the whole prompt once: its cues, and the names spaCy finds in it (and in suspicious tags of a
        tag prompt); ``doc`` is the context already parsed (see :meth:`analyse_many`)."""
        analysis = Analysis(self.options, style=style, cues=cues(context_text, tag_phrases))
        analysis.anime = style == "tags"
        if not self.options.use_ner:
            return analysis
        nlp = get_nlp()
        if nlp is None:
            return analysis
        docs = [doc] if doc is not None else list(nlp.pipe(_ner_pieces(context_text)))
        for d in docs:
            self._read_doc(d, analysis)
        seen: set[str] = set()
        candidates = []
        for t in tag_phrases:
            key = normalise_form(t)
            if key not in seen and self._suspicious_tag(t):
                seen.add(key)
                candidates.append(t)
        if candidates and style == "tags":  # a sentence's comma parts are no tags: spaCy read them in context
            self._read_tags(nlp, candidates[:400], analysis)
        return analysis

    def _read_doc(self, doc: Any, analysis: Analysis) -> None:
        text = doc.text
        coordinated: set[str] = set()
        for found in doc.ents:
            ent = found
            if len(found) > 1 and found[0].text in ("a", "an"):  # "a Bob Marley t-shirt": the article is the shirt's
                ent = found[1:]
                ent.label_ = found.label_
            label = _NER_LABELS.get(ent.label_)
            if label is None or not self._plausible_entity(ent.text, text, ent.start_char):
                continue
            if ent.text == ent.text.lower() and ent.label_ != "PERSON":  # "mech", "plugsuit": things, not brands
                continue
            words = normalise_form(ent.text).split()
            if words[0] == "the" and len(words) > 1 and self.table.get(re.sub(r"(?i)^the\s+", "", ent.text)):
                continue  # "the Mona Lisa, oil painting": the table's artwork, never a landmark the NER guessed
            first = words[0]
            acts = ent.end < len(doc) and doc[ent.end].tag_ == "VBG"  # "X holding a cup": X is someone
            shown = _SHOWN_BEFORE.search(text[max(0, ent.start_char - 40) : ent.start_char]) is not None
            if label == "brand" and len(words) > 1 and (first in _given_names() or acts or shown):
                label = "person"  # "Linus Sebastian" read as ORG: a given name first, doing something, or shown
            elif (
                label == "brand"
                and (acts or shown)
                and self.table.get(ent.text) is None
                and not re.search(r"\b(?:a|an|the|my|his|her|their|our|this|that)\s+$", text[: ent.start_char], re.I)
            ):
                label = "person"  # "Zorvak floating over a city": no brand floats; "a Tesla driving" is a car
            ner_label = ent.label_
            before = text[max(0, ent.start_char - 16) : ent.start_char].lower()
            if label in ("brand", "person") and len(words) > 1 and words[-1] in _PLACE_HEADS:
                label, ner_label = "place", "FAC"  # "Wembley Stadium" read as PERSON: a place
            if label == "brand" and (
                words[-1] in _PLACE_HEADS
                or words[0] in _PLACE_HEADS
                or (before.split() or [""])[-1] in _PERIOD_WORDS  # "renaissance Florence", "feudal Japan"
                or (words[0] == "the" and len(words) > 1)  # "the Taj Mahal reflected in a pond": a landmark
                or re.search(
                    r"\b(?:in|at|near|from|outside|around|across|over|inside|beside|behind|beneath|under|towards?"
                    r"|front\s+of|next\s+to|top\s+of|steps\s+of|foot\s+of)\s+(?:the\s+)?"
                    r"(?:(?:renaissance|medieval|ancient|old|modern|victorian|rainy|snowy|sunny|misty|foggy|downtown|"
                    r"historic|futuristic|feudal|1\d{3}s|\d{4})\s+)?$",  # "in renaissance Florence": still a place
                    before,
                )
            ):
                # "the Treasury", "Temple of Artemis", "at Petra", "in front of the Taj Mahal": a place, never a brand
                label, ner_label = "place", "FAC"
            if (
                label == "person"
                and (
                    re.search(
                        r"\b(?:over|above|across|in|near|around|through|outside|beyond|at)\s+(?:the\s+)?$", before
                    )
                    or (_place_preposition(doc, ent.start) and first not in _given_names())
                )
                and not _STYLE_AFTER.match(text[ent.end_char : ent.end_char + 40])
                and not acts
            ):
                label, ner_label = "place", "GPE"  # "balloons over Cappadocia": somewhere, not someone
            if label in ("person", "brand") and self._period_place(words, ent.text):
                label, ner_label = "place", "GPE"  # "Victorian London", "Medieval Europe": a place in its time
            if label in ("person", "brand") and _WORK_BEFORE.search(text[max(0, ent.start_char - 40) : ent.start_char]):
                label = "copyright"  # "a screenshot from Breaking Bad": a film or show, not someone
            after = re.match(r"\s+([a-z]+)", text[ent.end_char : ent.end_char + 30])
            if (
                len(words) == 1
                and after is not None
                and (after.group(1) in _PLACE_AFTER or after.group(1) in _PLACE_HEADS)  # "Neuschwanstein castle"
                and (label == "person" or (label == "brand" and re.search(r"\bthe\s+$", before)))
                and self.table.get(ent.text) is None
            ):
                # "Gotham skyline", "Zorbia harbour", "on the Amalfi coast": somewhere, not someone or something
                label, ner_label = "place", "GPE"
            if label == "place" and ent.label_ == "NORP":
                continue  # "Japanese", "Gothic": adjectives a prompt needs, not names to replace
            if (
                label == "place"
                and acts
                and len(words) <= 2
                and not re.search(
                    r"\b(?:in|at|near|from|over|across|around|through|outside|inside)\s+(?:the\s+)?$", before
                )
            ):
                # "Zorblax waving at the camera": someone, not somewhere (but "a kid in Paris eating a croissant":
                # the action after a place is the subject's)
                label, ner_label = "person", "PERSON"
            if re.search(r"\s(?:and|&)\s", ent.text) and self.table.get(ent.text) is None:
                # "Shrek & Donkey", "Lilo and Stitch" read as one ORG: two names (each found on its own), or none
                if label == "person":
                    for part in re.split(r"\s+(?:and|&)\s+", ent.text):
                        if part[:1].isupper() and self._plausible_entity(part, text, ent.start_char):
                            analysis.ner.setdefault(part.strip(), (label, ner_label))
                else:
                    coordinated.update(t.text for t in ent)  # "Procter & Gamble": no single proper noun either
                continue
            surface = re.sub(r"['’]s$", "", ent.text)  # "Van Gogh's": the name without the possessive
            surface = surface.strip(" \t|,;")  # "x, |Sarah": spaCy's span takes a stray "|" the prompt keeps
            if not surface:
                continue
            analysis.ner.setdefault(surface, (label, ner_label))
        for tok in doc:
            if (
                tok.pos_ == "PROPN"
                and tok.text[:1].isupper()
                and not _ACRONYM.fullmatch(tok.text)
                and tok.text not in coordinated
                and tok.text not in analysis.ner
                and not _hyphen_piece(tok)  # "Pre-Raphaelite"
                and not is_english_word(tok.text)
                and not is_protected_word(tok.text)
                and len(tok.text) > 2
                and not any(tok.text in surface for surface in analysis.ner)
                and not (self.db is not None and self.db.is_general(tok.text))
            ):
                analysis.ner.setdefault(tok.text, ("character", "PROPN"))

    def _read_tags(self, nlp: Any, candidates: list[str], analysis: Analysis) -> None:
        # Capitalise like a name, but not verbs and function words, so "eileen collins smiling" is read as
        # the person "Eileen Collins" doing something, not as one name "Eileen Collins Smiling".
        prefix = "A picture of "
        titled = [prefix + " ".join(_name_case(w) for w in t.split(" ")) + "." for t in candidates]
        for tag, tdoc in zip(candidates, nlp.pipe(titled), strict=True):
            words = tag.split()
            foreign = 2 <= len(words) <= 3 and not any(is_english_word(w) for w in words)
            propn = [t for t in tdoc if t.pos_ == "PROPN"]
            # A lower-case tag holds a name where spaCy reads a person in it; or, for a tag of two or three
            # words none of which is English, any entity or proper nouns throughout ("kaguya shinomiya"
            # comes back as ORG). A single unknown word read as ORG or GPE is far more often a garment or a
            # thing ("plugsuit"), so only PERSON counts there.
            for ent in tdoc.ents:
                start, end = ent.start_char - len(prefix), ent.end_char - len(prefix)
                if start < 0 or end > len(tag):
                    continue
                whole = (start, end) == (0, len(tag))
                low = tag.lower().split()
                if whole and len(low) >= 2 and low[-1] in _GENERAL_HEADS() and low[0] not in _given_names():
                    continue  # "sukajan jacket", "hanfu dress": a garment a loanword names, never a person
                if ent.label_ == "PERSON" or (foreign and whole):
                    surface = tag[start:end]
                    if not whole and " " not in surface and is_english_word(surface):
                        continue  # "moon" of "bishoujo senshi sailor moon": a word, matched everywhere after
                    given = normalise_form(surface).split()[0] in _given_names()
                    analysis.ner.setdefault(surface, ("person" if given else "character", ent.label_))
            if foreign and not tdoc.ents and len(propn) >= len(words):
                analysis.ner.setdefault(tag, ("character", "PROPN"))

    def analyse_many(self, context_texts: Sequence[str], styles: Sequence[str] = ()) -> list[Analysis]:
        """:meth:`analyse` for many texts with one batched spaCy pass (checking an LLM's 32 candidates);
        ``styles``: each text's style (default natural; a tag prompt's tags are read one by one)."""
        styles = list(styles) or ["natural"] * len(context_texts)
        nlp = get_nlp() if self.options.use_ner else None
        if nlp is None or any(len(t) > _NER_PIECE for t in context_texts) or "tags" in styles:
            return [
                self.analyse(t, _items(t) if st == "tags" else (), style=st)
                for t, st in zip(context_texts, styles, strict=True)
            ]
        return [
            self.analyse(t, (), doc, style=st)
            for t, doc, st in zip(context_texts, nlp.pipe(_ner_text(t) for t in context_texts), styles, strict=True)
        ]

    def _plausible_entity(self, text: str, context: str, start: int) -> bool:
        words = _WORD.findall(text)
        if not words or all(is_protected_word(w) for w in words):
            return False
        key = normalise_form(text)
        if (
            key in _STYLE_TERMS
            or (" " in key and key in tables.general_tags())
            or all(w.lower() in _STYLE_TERMS for w in words)
        ):
            return False  # "Art Deco", "Brutalist", "Dutch Golden Age": a movement or a period, never a name
        if re.match(r"-[A-Za-z]", context[start + len(text) : start + len(text) + 2]) or (
            start > 0 and re.search(r"[A-Za-z]-$", context[max(0, start - 2) : start])
        ):
            return False  # "Pre-Raphaelite": a piece of a hyphenated word is no name on its own
        if len(words) == 1 and words[0].lower() in _CELESTIAL:
            return False  # "Earth rising behind", "Mars on the horizon": the planet, not a person
        if any(re.search(r"\d", w) for w in words):
            return False  # "tag144 red hair": no name spaCy guesses has digits (the tables know "2b")
        if len(words) == 1 and _ACRONYM.fullmatch(words[0]):
            return False  # "RAW photo, DSLR, HDR, VHS style": terms of the trade (the tables know "NASA", "BMW")
        if any(w.lower() in _SYNTAX_WORDS or "BREAK" in w or "AND" in w for w in words):
            return False  # "lora", "BREAK": syntax written loosely
        if any(normalise_form(text) == k or normalise_form(text) in k for k in self.keep):
            return False
        if self.db is not None and self.db.is_general(text):
            return False  # "yuri", "miko", "gyaru": danbooru's general tags
        if text == text.lower():  # spaCy is unreliable on lower case ("cashier" as ORG)
            if len(words) >= 2 and (
                words[-1] in _GENERAL_HEADS() or (words[-1] in noun_lemmas() and words[0] not in _given_names())
            ):
                return False  # "ferris wheel", "petri dish": a kind of thing its last word names ("taylor swift" stays)
            if len(words) >= 2 and is_english_word(words[0]) and words[0] not in _given_names():
                return False  # "moody neo-noir vibes": an adjective opens it; a lower-case name opens with a name
            nxt = re.match(r"\s+([a-z][\w-]*)", context[start + len(text) : start + len(text) + 30])
            if len(words) == 1 and nxt is not None and _modified(nxt.group(1)) and words[0] not in _given_names():
                return False  # "kaiju movie still": one unknown lower-case word before a noun modifies it
            return not all(is_english_word(w) for w in words)
        if all(is_english_word(w) for w in words):
            # "Rainy" opening a prompt is not a name; "Brad Pitt" (two capitals) or "Pearl" mid-prompt may be
            capitalised = [w for w in words if w[:1].isupper()]
            if len(words) == 1 and _DETERMINER_BEFORE.search(context[max(0, start - 20) : start]):
                return False  # "a garden with a Rose blooming", "the Rose": a word after an article is that word
            nxt = re.match(r"\s+([a-z][\w-]*)", context[start + len(text) : start + len(text) + 30])
            if len(words) == 1 and nxt is not None and _modified(nxt.group(1)):
                return False  # "Sarah, Rose garden", "Amber light": a word before a noun modifies it
            if len(words) == 1:
                if capitalised and start == 0 and _ACTS_AFTER.match(context[start + len(text) :]):
                    # "Sarah walking her dog", "Amber's smile": a given name doing something opens the prompt
                    low = words[0].lower()
                    return low in _given_names() or low in tables.word_names()
                low = words[0].lower()
                if capitalised and start == 0 and low in _given_names() and low not in tables.word_names():
                    # "Sarah, red dress, beach", "Sarah and Tom", "Sarah in a red dress": a given name (no ordinary
                    # word) opening the prompt
                    after = context[start + len(text) :]
                    if _WHEN_AFTER.match(after):
                        return False  # "Austin at night", "Florence in autumn": a city's name, whatever spaCy says
                    return (
                        re.match(
                            r"\s*(?:[,.;]|$|&|(?:and|as|in|with|at|on|wearing|holding|the)\b"
                            r"|from\s+(?!above|below|afar|space|orbit|the\s+(?:air|sky|sea|water|ground|distance)\b))",
                            after,
                        )
                        is not None
                    )
                return bool(capitalised) and (start > 0 or words[0].isupper())
            return len(capitalised) >= 2
        return True

    def _unknown_tag(self, tag: str) -> str:
        """``character`` or ``copyright`` for a tag that reads as a name nobody listed, else ``""``."""
        lead = re.match(r"\s*(?:by\s+|artist:\s*)", tag, re.IGNORECASE)
        body = tag[lead.end() :] if lead else tag
        words = _WORD.findall(body)
        if not words or len(words) > 12 or "\\" in body or any(ch in body for ch in "[]()<>:{}|"):
            return ""
        key = normalise_form(body)
        if key in tables.general_tags() or (self.db is not None and self.db.lookup(body) is not None):
            return ""
        if any(re.search(r"\d", w) or is_protected_word(w) or w.lower() in _SYNTAX_WORDS for w in words):
            return ""
        if not lead and len(words) >= 2 and _acting(words[0]):
            return ""  # "holding bokken", "eating dango": what someone does with a thing a loanword names
        foreign = [
            w for w in words if not _english_or_compound(w) and not (self.db is not None and self.db.is_general(w))
        ]  # "holding pocky": a general tag's word is no stranger's name
        if len(words) >= 2 and words[-1].lower() in _GENERAL_HEADS():
            return ""  # "ferris wheel", "rgb lighting", "paopu fruit": a kind of thing a general tag names
        if not foreign or (len(words) == 1 and len(words[0]) < 5):
            return ""  # a short single word ("dojo") is more often a loanword than a name
        if len(words) >= 3 and sum(w.lower() in _PARTICLES for w in words) >= 1 and len(foreign) >= 2:
            return "copyright"  # "dungeon ni deai wo motomeru …": a light-novel title
        if len(words) > 4 and len(foreign) < 2:
            return ""
        return "artist" if lead else "copyright" if len(words) > 4 else "character"

    def _lone_stranger(self, tag: str) -> bool:
        """A single word of three letters or more that is no English word, no general tag, no syntax: a handle."""
        word = tag.strip()
        return (
            re.fullmatch(r"[a-z][a-z'’-]{2,}", word) is not None
            # "dojo", "onsen", "tatami": a short word of Japanese syllables is a loanword as likely as a name
            and not (len(word) <= 6 and _ROMAJI.fullmatch(word))
            and not _english_or_compound(word.replace("-", "").replace("'", "").replace("’", ""))
            and not ("-" in word and all(is_english_word(p) for p in word.split("-") if p))  # "back-to-back"
            and not is_protected_word(word)
            and word not in _SYNTAX_WORDS
            and normalise_form(word) not in tables.general_tags()
            and not (self.db is not None and self.db.lookup(word) is not None)
        )

    def _series_after_character(self, tag: str) -> bool:
        """Whether ``tag``, right after a character's tag, reads as that character's series: no general tag
        (nor one by its last word: "sunflower field", "cat ears"), no colour, count or number, and either several
        words or a word that is no English word ("vshojo")."""
        if "\\" in tag or any(ch in tag for ch in "[]()<>{}|") or re.search(r":\s*[-+]?[\d.]", tag):
            return False  # syntax, or a weight ("avatar: the last airbender" is a title)
        key = normalise_form(tag)
        words = key.split()
        if not words or len(words) > 8 or key in tables.general_tags():
            return False
        if re.fullmatch(r"\d+\+?(?:girls?|boys?|others?)|\d{2,4}s?|\d+k", key) or not re.search(r"[a-z]{2}", key):
            return False  # a count, a year or decade ("ranma 1/2", "persona 5" are titles)
        if self.db is not None:
            return False  # the database names every series it knows; one it does not know is no series
        if _acting(words[0]):
            return False  # "holding scissor blade", "wearing senketsu": what the character does or wears
        if words[0] in _SOMEONE_WORDS or ({"a", "an"} & set(words) and any(_acting(w) for w in words[1:])):
            return False  # "girl sitting on a bench": a sentence-like tag of the picture, no title
        foreign = any(not _english_or_compound(w) for w in words if w.isalpha())
        if words[-1] in _GENERAL_HEADS() or any(
            w in COLOUR_WORDS or (is_protected_word(w) and not (foreign and re.fullmatch(r"[\d/.]+", w))) for w in words
        ):
            return False  # a colour, a count ("ranma 1/2", a title with a word no English word, keeps its number)
        return len(words) >= 2 or not _english_or_compound(words[0])

    def _names_a_thing_inside(self, tag: str) -> bool:
        """Whether a general tag of the database holds a series or its thing that the built-in table describes
        ("holding poke ball", "pokemon on head"): the general tag says the name all the same. Only words that
        are no English word alone ("link" of "link cable" is a word)."""
        if "(" in tag:
            return False  # "pokemon \\(creature\\)": the qualifier says the kind (:meth:`_general_said`)
        words = tag.split()
        for n in range(len(words) - 1, 0, -1):
            for i in range(len(words) - n + 1):
                sub = words[i : i + n]
                if n == 1 and (is_english_word(sub[0]) or not re.fullmatch(r"[a-z]*[aeiouy][a-z]*", sub[0].lower())):
                    continue  # "link cable", "spoken zzz": a word, a sound
                known = self.table.get(" ".join(sub))
                if known is not None and known.label in ("item", "copyright") and not known.word:
                    return True  # a character inside a general tag is mostly a kind ("peter pan collar")
        return False

    def _coined_outfit(self, tag: str, analysis: Analysis) -> str | None:
        """With no tag database: a tag of three words or more that names an outfit after a school, a house or a
        series in a word that is no English word ("roswaal mansion maid uniform", "nijigasaki school uniform"):
        the outfit without the name ("" when the prompt says it already), else None."""
        words = normalise_form(tag).split()
        if len(words) < 3 or "(" in tag or words[-1] not in _NAMED_OUTFITS:
            return None
        first = words[0]
        if (
            not first.isalpha()
            or _english_or_compound(first)  # "highleg one-piece swimsuit"
            or any(w in _NOT_IN_A_NAME for w in words[1:])  # "shibari over clothes": how it is worn
            or is_protected_word(first)
            or first in tables.general_tags()
            or not all(is_english_word(w) for w in words[1:])
        ):
            return None
        rest = words[1:]
        said = _general_suffix(rest)
        if (
            not said
        ):  # "tokiwadai school swimsuit" -> "school swimsuit", "roswaal mansion maid uniform" -> "maid uniform"
            said = " ".join(rest[-2:]) if len(rest) >= 2 and rest[-2] in tables.general_tags() else words[-1]
        return "" if said in analysis.cues.tags else said

    def _general_naming(self, tag: str, analysis: Analysis) -> str | None:
        m = re.fullmatch(r"(.*?)\s*\\\((.*)\\\)", tag.strip())
        body, written = (m.group(1), m.group(2)) if m else (tag, "")
        said = self._general_said(body, normalise_form(written))
        if said and normalise_form(said) in analysis.cues.tags and said != written:
            # "maid, roswaal mansion maid uniform": "maid" is said already, never "maid, maid" (a qualifier is
            # among the prompt's phrases only because the escaped brackets split its tag)
            return ""
        return said

    def _general_said(self, body: str, qualifier: str) -> str | None:
        """A general tag of the database (``body`` and its normalised ``qualifier``) that still says a name in a
        word no English word ("roswaal mansion maid uniform", "pokemon \\(creature\\)"): the general tag it
        says without the name ("maid uniform", "creature"; "" when none is left), else None."""
        db = self.db
        words = normalise_form(body).split()

        def names(word: str) -> bool:
            if db is not None:
                return db.name_word(word) or db.name_first_word(word)
            known = self.table.get(word)
            return known is not None and known.label in ("copyright", "character") and not known.word

        named = [k for k, w in enumerate(words) if w.isalpha() and not is_english_word(w) and names(w)]
        if not named:
            coined = bool(words) and all(w.isalpha() and not is_english_word(w) for w in words)
            if coined and qualifier in _NAMED_THING_KINDS:
                return qualifier  # "dragonslayer \(sword\)": a named sword is a sword
            return None
        rest = words[max(named) + 1 :]
        spans = sorted(
            ((i, j) for i in range(len(rest)) for j in range(i + 1, len(rest) + 1)), key=lambda p: (p[0] - p[1], -p[0])
        )
        for i, j in spans:  # the longest general tag left, the last of equals ("maid" of "mansion maid uniform")
            said = " ".join(rest[i:j])
            if said in tables.general_tags() or (db is not None and db.is_general(said)):
                return said
        if qualifier and (_says_a_kind(qualifier) or (db is not None and db.is_general(qualifier))):
            return qualifier
        return ""

    def _suspicious_tag(self, tag: str) -> bool:
        norm = normalise_form(re.sub(r"[^\w\s'\-]", " ", tag))
        words = norm.split()
        if not words or len(words) > 4 or norm in tables.general_tags():
            return False
        if self.db is not None and self.db.is_general(tag):
            return False
        if any(is_protected_word(w) for w in words):
            return False
        return not all(is_english_word(w) for w in words)

    # --- replacement -----------------------------------------------------------------------------------

    def replace(self, text: str, analysis: Analysis) -> str:
        """``text`` (one leaf of the prompt) with every name replaced; records what was found in ``analysis``."""
        if not text.strip():
            return text
        # danbooru's own spelling ("aisaka_taiga, long_hair") is read as its words; the text keeps its spelling
        found = self._find(_spaced(text) if analysis.style == "tags" else text, analysis)
        if not found:
            return text
        underscored = analysis.style == "tags" and _underscored(text)
        out: list[str] = []
        pos = 0
        tail = ""
        for f in found:
            if f.start < pos:
                continue
            left = text[pos : f.start]
            right = text[f.end :]
            analysis.before = tail  # what precedes ``left`` in this leaf, already rewritten (its end)
            surface_key = normalise_form(text[f.start : f.end])
            said = [n.replacement for n in analysis.found if normalise_form(n.text) != surface_key]
            new_left, replacement, consumed_right = self._render(left, text[f.start : f.end], right, f, analysis)
            if underscored:  # "edelgard_von_hresvelg, long_hair": her look in the prompt's spelling (white_hair)
                replacement = _underscore(replacement)
                if analysis.found and analysis.found[-1].replacement:
                    named = analysis.found[-1]
                    analysis.found[-1] = replace(
                        named,
                        replacement=_underscore(named.replacement),
                        variants=tuple(map(_underscore, named.variants)),
                    )
            if f.entry.label == "brand" and replacement != text[f.start : f.end]:
                version = _VERSION_AFTER.match(right[consumed_right:])  # "Unreal Engine 5": not "… render 5"
                consumed_right += version.end() if version else 0
            replacement = _without_said_tail(replacement, right[consumed_right:], analysis)
            if not replacement and re.match(r"['’]s\b", right[consumed_right:]) and not new_left.endswith(("'s", "’s")):
                consumed_right += 2  # "a cat, Zorblax Quenton's guitar": a dropped owner takes its "'s" along
            if new_left.endswith(("'s ", "’s ")) and (art := _ARTICLE_LEAD.match(replacement)) is not None:
                replacement = replacement[art.end() :]  # "my grandmother's a serene woman …": no article
            qualifiers = self._qualifiers(text[f.start : f.end], f, analysis)
            if qualifiers and analysis.style == "tags" and not replacement and f.entry.label == "copyright":
                # "naruto \(series\)" (a copyright tag): the user's escaped brackets stay with the series described
                # ("\(shonen anime\)", as a character's series is); one nobody describes goes whole, no bracket
                # left on its own
                own = re.search(r"\\\((.*?)\\\)", text[f.start : f.end])
                qualifiers = (
                    f"\\({f.entry.modifier}\\)" if f.entry.modifier else f"\\({own.group(1)}\\)" if own else qualifiers
                )
            if qualifiers:  # the user's escaped brackets stay (the prompt's structure), a series in them described
                glue = ", " if analysis.style == "tags" and replacement else " " if replacement else ""
                replacement = replacement + glue + qualifiers
            if f.entry.label in ("brand", "item") and replacement and _COLOUR_BEFORE.search(new_left):
                # "a blue Ducati": the user's colour is the thing's, the description's own goes (and its variants')
                replacement = self._uncoloured(replacement, analysis)
            last = re.search(r"([A-Za-z][\w\-]*)\s+$", new_left)
            first = re.match(r"([A-Za-z][\w\-]*)\s+", replacement)
            if last and first and last.group(1).lower() == first.group(1).lower():
                replacement = replacement[first.end() :]  # "a red Ferrari": "a red sports car", not "red red"
            if (
                f.entry.label in ("person", "character")
                and _ARTICLE_LEAD.match(replacement)
                and replacement in said
                and not analysis.choosing
            ):
                # "Hope and Faith" -> "a woman and another woman", never "a woman and a woman" (one lost)
                replacement = "another " + _strip_article(replacement)
            if (
                f.entry.label in ("person", "character", "artwork")
                and " " in replacement.strip()
                and re.match(r"\s+but\s+(?:she|he|they|it|the|this)\b", right[consumed_right:])
            ):
                # "the Mona Lisa but she is a hacker": after a description, "…, but she is a hacker"
                replacement += ","
            out.append(new_left)
            out.append(replacement)
            tail = (tail + new_left + replacement)[-_CONTEXT:]
            pos = f.end + consumed_right
        out.append(text[pos:])
        return _tidy("".join(out), text)

    def _blocked(self, text: str) -> list[tuple[int, int]]:
        spans = []
        low = text.lower()
        for k in self.keep:
            for m in re.finditer(r"(?<!\w)" + re.escape(k).replace(r"\ ", r"[\s_]+") + r"(?!\w)", low):
                spans.append((m.start(), m.end()))
        return spans

    def _find(self, text: str, analysis: Analysis) -> list[_Found]:
        occupied = bytearray(len(text) + 1)
        found: list[_Found] = []

        def free(s: int, e: int) -> bool:
            return 1 not in occupied[s:e]

        def take(s: int, e: int) -> None:
            occupied[s:e] = b"\x01" * (e - s)

        def add(f: _Found) -> None:
            found.append(f)
            take(f.start, f.end)

        for s, e in self._blocked(text):
            take(s, e)
        words = list(_WORD.finditer(text))
        for w in words:  # "BREAKhair", "umbrellaBREAK", "xAND": A1111's keywords glued to text are never names
            if "BREAK" in w.group() or "AND" in w.group():
                take(w.start(), w.end())
        tags_style = analysis.style == "tags"

        # 0. "name \(series\)" tags, and whole tags the tag database calls general (kept verbatim)
        for f in self._series_spans(text, analysis):
            if free(f.start, f.end):
                said = (
                    self._general_naming(text[f.start : f.end], analysis)
                    if f.entry.label == "general" and tags_style
                    else None
                )
                if said is not None:  # "pokemon \(creature\)" -> "creature"
                    add(_Found(f.start, f.end, NameEntry(text[f.start : f.end], "item", said)))
                elif f.entry.label == "general":
                    take(f.start, f.end)
                else:
                    add(f)
        if tags_style:  # "hornet \(hollow knight\), hollow knight": the qualifier's series as a tag of its own
            series_named = {normalise_form(m.group("series")) for m in _SERIES.finditer(text)}
            series_named -= {q for q in series_named if q.split()[-1:] and q.split()[-1] in GENERAL_QUALIFIERS}
            # a kind is no series: "katana \(sword\), sword over shoulder" keeps the pose
            series_named -= {q for q in series_named if q in _NAMED_THING_KINDS or _says_a_kind(q)}
            for s, e in _tag_spans(text):
                tag = normalise_form(text[s:e])
                if (
                    free(s, e)
                    and "\\(" not in text[s:e]
                    and any(tag == q or tag.startswith(q + " ") for q in series_named if len(q) >= 2)
                ):
                    add(_Found(s, e, NameEntry(text[s:e], "copyright", "", source="series"), kind="tag"))
        if tags_style:
            for f in self._bare_characters(text, analysis):
                if free(f.start, f.end):
                    add(f)
        if tags_style:
            for s, e in _tag_spans(text):  # "by lack", "artist:as109": a tag "by X" of a tag prompt names an artist
                by_tag = re.fullmatch(
                    r"(?:(?:art\s+)?by\s+|artist:\s*)([\w\-.']+(?:\s+[\w\-.']+){0,2})", text[s:e], re.IGNORECASE
                )
                if by_tag is None or not free(s, e):
                    continue
                who = normalise_form(by_tag.group(1))
                if who.split()[0] in ("the", "a", "an", "my", "his", "her", "their", "night", "day", "hand"):
                    continue  # "by the window", "by hand"
                if who in tables.general_tags() or (self.db is not None and self.db.is_general(who)):
                    continue
                if all(w in tables.general_tags() for w in who.split()):
                    continue  # "by cat cat": general tags after "by", no one's name
                if self.table.get(who) is None and _says_how(who):
                    continue  # "by gloomy lake", "by red lanterns": a place described, no one's name
                entry = next(  # "by kubo tite": the table's artist, in either order of the names
                    (
                        x
                        for x in (self.table.get(who), self.table.get(" ".join(reversed(who.split()))))
                        if x is not None and x.label in _STYLE_LABELS
                    ),
                    None,
                )
                add(_Found(s + by_tag.start(1), e, entry or self._unknown_entry(by_tag.group(1), "artist", analysis)))
        if tags_style:
            for s, e in _tag_spans(text):  # "mx2j", "96yottea": an artist's handle, letters after digits
                handle = text[s:e].strip().lower()
                if (
                    free(s, e)
                    and _HANDLE.fullmatch(handle)
                    and not _UNIT_AFTER_DIGITS.fullmatch(handle)
                    and handle not in tables.general_tags()
                    and (self.db is None or self.db.lookup(handle) is None)
                    and self.table.get(handle) is None
                ):
                    add(_Found(s, e, self._unknown_entry(text[s:e], "artist", analysis)))
        if self.db is not None:
            for s, e in _tag_spans(text):
                known = self.table.get(text[s:e])
                if (
                    tags_style
                    and known is not None
                    and known.label == "brand"  # a series' named thing ("master sword") is still described
                    and self.db.is_general(text[s:e])
                ):
                    take(s, e)  # "pocky", "coca-cola" in a tag prompt: the general tag a model was trained on stays
                    continue
                if not free(s, e) or known is not None:
                    continue
                if tags_style and self._names_a_thing_inside(text[s:e]):
                    continue  # "holding poke ball": the series' thing inside the general tag is described below
                if self.db.is_general(text[s:e]):
                    said = self._general_naming(text[s:e], analysis) if tags_style else None
                    if said is None and tags_style:  # "tracen school uniform": a school's name on its uniform
                        said = self._coined_outfit(text[s:e], analysis)
                    if said is None:
                        take(s, e)
                    else:  # "roswaal mansion maid uniform" -> "maid uniform": the tag without its name
                        add(_Found(s, e, NameEntry(text[s:e], "item", said)))
                elif tags_style and (entry := self.db.get(text[s:e])) is not None:
                    add(_Found(s, e, entry))  # a whole tag the database names, however long
        elif tags_style:
            for s, e in _tag_spans(text):
                if free(s, e) and self.table.get(text[s:e]) is None:
                    said = self._coined_outfit(text[s:e], analysis)
                    if said is not None:  # "nijigasaki school uniform" -> "school uniform", with no database
                        add(_Found(s, e, NameEntry(text[s:e], "item", said)))

        # A name spaCy found whole ("Grace Hopper") is not cut down to a table alias inside it ("Hopper").
        ner_spans = [
            (m.start(), m.end())
            for surface in analysis.ner
            if " " in surface.strip() and self.table.get(surface) is None and self.user.get(surface) is None
            for m in re.finditer(r"(?<![\w])" + re.escape(surface) + r"(?![\w])", text)
        ]

        def inside_ner(s: int, e: int) -> bool:
            return any(a <= s and e <= b and (a, b) != (s, e) for a, b in ner_spans)

        # 1. table-like sources by word n-grams, longest first
        sources: list[_Lookup] = [self.user, self.table]
        if self.db is not None:
            sources.append(self.db)
        for table in sources:
            if not len(table):
                continue
            for n in range(min(table.max_words, len(words)), 0, -1):
                for i in range(len(words) - n + 1):
                    s, e = words[i].start(), words[i + n - 1].end()
                    if not free(s, e):
                        continue
                    surface = text[s:e]
                    mixed = surface[:1].islower() and words[i + n - 1].group()[:1].isupper()  # "our dog Biscuit"
                    said_as_name = not tags_style and (
                        self.table.get(surface) is not None
                        or self.table.get(words[i].group()) is not None
                        or analysis.ner.get(surface, ("", ""))[1] in ("ORG", "PERSON", "PRODUCT", "WORK_OF_ART")
                    )  # "a vintage Fiat 500": a name in a sentence, whatever tag danbooru makes of it
                    held = (mixed and not tags_style) or said_as_name
                    if table is self.db and n >= 2 and self.db.is_general(surface) and not held:
                        take(s, e)  # "San Francisco", "Hong Kong": a general tag, whatever its words name alone
                        continue
                    entry = table.get(surface)
                    if entry is None and e < len(text) and text[e] in "!?":
                        bang = re.match(r"[!?]+", text[e:])
                        if bang is not None and (entry := table.get(text[s : e + bang.end()])) is not None:
                            e += bang.end()  # "vspo!", "k-on!": the name's own punctuation goes with it
                            surface = text[s:e]
                    if entry is None and surface.lower().endswith(("'s", "’s")):
                        entry = table.get(surface[:-2])
                        e -= 2 if entry is not None else 0
                        surface = text[s:e]
                    if entry is not None and entry.label == "brand" and inside_ner(s, e):
                        # "Land Rover Defender", "Porsche 911 Turbo": a brand opening a longer name is the brand's
                        # product, said as the brand ("a vintage off-road 4x4"), not a stranger
                        model_end = max((b for a, b in ner_spans if a == s and b > e), default=e)
                        if model_end > e and free(s, model_end):
                            product = table.get(text[e:model_end].strip())  # "Nike Air Jordans": the table's own
                            if product is not None and product.label == "brand":
                                entry = product
                            e = model_end
                            surface = text[s:e]
                    if entry is None or inside_ner(s, e):
                        continue
                    if _other_series(entry, text[e:]) or self._from_other_series(entry, text[e:]):
                        continue  # "fubuki \\(one-punch man\\)" is not the table's "fubuki (kancolle)"
                    while e < len(text) and text[e] in "!?" and table.get(text[s : e + 1]) is not None:
                        e += 1  # "k-on!": the name's own punctuation goes with it
                    if (bangs := re.match(r"[!?]+(?=\s*(?:[,)\]|]|$))", text[e:])) is not None:
                        e += bangs.end()  # "haikyuu!!": a title's marks end its tag, they go with it
                    if text[e : e + 1] == "." and _ABBREVIATED.search(surface):
                        e += 1  # "super mario bros.": the abbreviation's full stop goes with it
                    by = _BY_CONTEXT.search(text[max(0, s - _CONTEXT) : s])
                    if (
                        by
                        and entry.label in ("character", "copyright", "item")
                        and not (entry.label == "copyright" and entry.modifier and " of" in by.group(0).lower())
                    ):
                        # "by mika pikazo": after "by" comes an artist, whatever else the words name (a series
                        # with style words is itself a style: "in the style of Blade Runner")
                        continue
                    if (
                        tags_style
                        and entry.label == "brand"
                        and self.db is not None
                        and table is not self.db
                        and self.db.is_general(surface)
                    ):
                        continue  # "holding pocky": a general tag a model was trained on, whatever brand it names
                    if entry.source == "tagcomplete":
                        if not self._db_ok(surface, text, s, e, tags_style):
                            continue
                        if not tags_style and surface[:1].isupper():
                            # "by Auguste Rodin": the database's "auguste" is only the start of the name
                            s, e = _whole_name_run(text, s, e)
                    elif not self._case_ok(surface, entry, text, s, e, tags=tags_style):
                        continue
                    if entry.word and " " not in surface.strip() and not _name_position(text, s, e):
                        continue  # "a donkey", "donkey, farm", "Donkey grazing": the word, not Shrek's Donkey
                    add(_Found(s, e, entry))
        # 2. context rules for names nobody knows: "by X", "in the style of X", "named X", "X style"
        for s, e, label in self._rule_spans(text, words, analysis):
            if free(s, e):
                add(
                    _Found(
                        s, e, self._unknown_entry(text[s:e], label, analysis), kind="role" if label == "role" else ""
                    )
                )
        # 3. NER surfaces (exact, whole word)
        for surface, (label, ner_label) in sorted(analysis.ner.items(), key=lambda kv: -len(kv[0])):
            word_name = " " not in surface and surface.lower() in tables.word_names()
            for m in re.finditer(r"(?<![\w])" + re.escape(surface) + r"(?![\w])", text):
                if word_name and not tags_style:
                    nxt = re.match(r"\s+([a-z][\w-]*)", text[m.end() : m.end() + 30])
                    if not _name_position(text, m.start(), m.end()) or (nxt is not None and _modified(nxt.group(1))):
                        continue  # "a girl named Rose, Rose garden": the second is the flower (only in name position)
                if tags_style and _object_of_action(text, m.start()):
                    continue  # "holding bokken": spaCy's person on lower case is the thing a tag's verb takes
                if (
                    tags_style
                    and surface.islower()
                    and " " not in surface
                    and not _character_slot(text, m.start(), found, analysis)
                ):
                    continue  # "(sake bottle:1.1), sakazuki": a lower-case loanword among things, not a character
                if free(m.start(), m.end()):
                    add(_Found(m.start(), m.end(), self._unknown_entry(surface, label, analysis), ner_label))
        # 3a. "Batman and Robin", "Tom and Jerry", "Hope and Faith": a capitalised word listed with a person or
        # character (right after it, or before it off a sentence's start) names one too. A given name is a person;
        # an ordinary singular noun becomes the noun it is ("Shrek and Donkey" -> "a donkey" when no table
        # describes Donkey); any other word the neutral noun of a character.
        for f in [f for f in found if f.entry.label in ("character", "person") and f.kind not in ("series", "tag")]:
            after = re.match(r"(\s+(?:and|&)\s+|\s*,\s*)([A-Z][a-z]+)\b(?!['’]s|\s+[A-Z])", text[f.end : f.end + 40])
            lo = max(0, f.start - 40)
            before = re.search(r"(?<![\w'’.-])([A-Z][a-z]+)(\s+(?:and|&)\s+|\s*,\s*)$", text[lo : f.start])
            for listed, base in ((after, f.end), (before, lo)):
                if listed is None:
                    continue
                m = listed
                group = 2 if m is after else 1
                word = m.group(group)
                s, e = base + m.start(group), base + m.end(group)
                low = word.lower()
                if not free(s, e) or is_protected_word(word) or low in _NON_NOUN_NEXT or low in _SYNTAX_WORDS:
                    continue
                if _DETERMINER_BEFORE.search(text[max(0, s - 20) : s]):
                    continue  # "a Rose and Sarah"
                nxt = re.match(r"\s+([a-z][\w-]*)", text[e : e + 30])
                if nxt is not None and _modified(nxt.group(1)):
                    continue  # "Sarah, Rose garden": a word before a noun modifies it
                given = low in _given_names() or low in tables.word_names()
                if "," in m.group(1 if m is after else 2) and not given:
                    continue  # a list at commas holds names only where they are given names ("Sarah, Emma")
                if m is before and not given and _sentence_start(text, s):
                    continue  # "Dogs and Snoopy": a capital opening a sentence says nothing
                if self.db is not None and self.db.is_general(word) and not given:
                    continue
                if given:
                    add(_Found(s, e, self._unknown_entry(word, "person", analysis), kind="listed"))
                elif is_english_word(word) and low in noun_lemmas() and not _plural(low):
                    add(_Found(s, e, NameEntry(word, "character", f"{_article(word)} {low}", source="rule")))
                else:
                    add(_Found(s, e, NameEntry(word, "character", "", source="rule"), kind="listed"))
        # 3c. "Jenna Ortega as Wednesday": the role a person plays, a character the table knows by one word of
        # its name ("Wednesday" of "Wednesday Addams")
        for f in [f for f in found if f.entry.label == "person"]:
            role = re.match(r"\s+as\s+([A-Z][a-z]+)\b(?!\s+[A-Z])", text[f.end : f.end + 40])
            if role is None:
                continue
            s, e = f.end + role.start(1), f.end + role.end(1)
            entry = self.table.partial(role.group(1))
            if free(s, e) and entry is not None and entry.label == "character":
                add(_Found(s, e, entry, kind="sibling"))
        # 3b. "Dr. Watson", "Queen Amira": a title before a name goes with it and, for a name nobody knows,
        # says who it is ("a doctor", "a queen"); a title alone is no name
        found = self._with_titles(text, found)
        # 4. a whole tag of a tag prompt that is no general tag and holds a word that is no English word (nor two
        # run together: "sweatdrop"): a name the tables do not know ("toga himiko", "nekotoufu"); a Japanese
        # title ("watashi ga motenai no wa …") is a series
        if tags_style:
            occupied = bytearray(len(text) + 1)
            for f in found:
                take(f.start, f.end)
            for s, e in self._blocked(text):  # a name to keep (an embedding's word) is never an unknown tag
                take(s, e)
            for s, e in _tag_spans(text):
                if not free(s, e):
                    continue
                kind = self._unknown_tag(text[s:e])
                lone = len(_WORD.findall(text[s:e])) == 1 and not re.search(r"[\d_]", text[s:e])
                if lone and _artist_slot(text, e, analysis) and self._lone_stranger(text[s:e]):
                    kind = "artist"  # "…, confetti, wanke": an artist's tag closes a tag prompt (danbooru's order)
                elif (
                    _artist_slot(text, e, analysis)
                    and re.fullmatch(r"[a-z]{2,}\d{3,}", text[s:e].strip())
                    and (self.db is None or self.db.lookup(text[s:e]) is None)
                ):
                    kind = "artist"  # "…, herbs, as109": a handle of letters and a number closing a tag prompt
                elif lone and kind == "character" and not _character_slot(text, s, found, analysis):
                    continue  # "chinese clothes, hanfu", "(sake bottle:1.1), sakazuki": a loanword among things
                if kind:
                    add(_Found(s, e, NameEntry(text[s:e], kind, "", source="tag"), kind="tag"))
            for m in _HONORIFIC_WORD.finditer(text):  # "hugging cheese-kun": a name inside a tag goes, the tag stays
                if free(m.start(), m.end()) and not is_english_word(m.group(0)):
                    add(_Found(m.start(), m.end(), NameEntry(m.group(0), "item", "", source="tag"), kind="tag"))
            # "raven \(dc\), teen titans", "mabel pines, gravity falls": right after a character's tag comes its
            # series (danbooru's order); a tag there that is no general tag nor reads as one is that series
            spans = list(_tag_spans(text))
            characters = {  # a one-word tag read as a name only for its spelling ("pocky") says too little
                f.end
                for f in found
                if f.entry.label in ("character", "person")
                and not (f.kind == "tag" and " " not in f.entry.name and not _HONORIFIC.search(f.entry.name))
            }
            for (_, prev_end), (s, e) in itertools.pairwise(spans):
                if prev_end in characters and free(s, e) and self._series_after_character(text[s:e]):
                    add(_Found(s, e, NameEntry(text[s:e], "copyright", "", source="tag"), kind="tag"))
            found = self._whole_titles(text, spans, found)
            # "hakurei reimu, …, hakurei shrine", "jujutsu kaisen, …, jujutsu tech uniform": a tag that says a word
            # of a character's or a series' name in the same prompt is that series' named thing: the thing stays
            surfaces = [text[f.start : f.end] for f in found if f.entry.label in ("character", "copyright")]
            surfaces += [n.text for n in analysis.found if n.label in ("character", "copyright")]
            for s, e in spans:
                if free(s, e) and (said := _named_after(text[s:e], surfaces, analysis)) is not None:
                    add(_Found(s, e, NameEntry(text[s:e], "item", said), kind="tag"))
        # "A Brutalist library", "an Art Deco lobby": a movement or a period no rule nor spaCy may call a name
        found = [
            f
            for f in found
            if (
                f.entry.source in ("table", "user", "tagcomplete")
                or normalise_form(text[f.start : f.end]) not in _STYLE_TERMS
            )
            and not is_trained_tag(text[f.start : f.end])  # "very awa": a tag a model was trained on is no name
        ]
        found.sort(key=lambda f: f.start)
        return found

    def _whole_titles(self, text: str, spans: list[tuple[int, int]], found: list[_Found]) -> list[_Found]:
        """``komi-san wa komyushou desu``: a tag holding names whose other words are no English words either is
        a title around a name; it goes whole (a series), never leaving ``wa`` behind. A name described inside
        such a tag stays, unless the prompt describes that name elsewhere already."""
        for s, e in spans:
            inner = [f for f in found if s <= f.start and f.end <= e and (f.start, f.end) != (s, e)]
            if not inner:
                continue
            first = min(inner, key=lambda f: f.start)
            lead = len(text[s:e]) - len(text[s:e].lstrip())
            if (
                len(inner) == 1
                and first.entry.label == "copyright"
                and first.start == s + lead
                and re.fullmatch(r"\s*(?:\d+|[ivx]+)?\s*:\s*[\w\s'’!?.-]{1,60}", text[first.end : e])
            ):
                # "danganronpa 2: goodbye despair": a series with its number and subtitle goes whole
                found = [f for f in found if f is not first]
                found.append(_Found(s, e, NameEntry(text[s:e], "copyright", "", source="tag"), kind="tag"))
                continue
            rest = text[s:e]
            for f in sorted(inner, key=lambda f: -f.start):
                rest = rest[: f.start - s] + " " + rest[f.end - s :]
            left = _WORD.findall(rest)
            if not left or any(
                (_english_or_compound(w) and w.lower() not in _PARTICLES)
                or is_protected_word(w)
                or w.lower() in _SYNTAX_WORDS
                or (self.db is not None and self.db.is_general(w))
                for w in left
            ):
                continue
            elsewhere = {f.entry for f in found if f not in inner}
            if any(f.entry.generic and f.entry not in elsewhere for f in inner):
                continue
            found = [f for f in found if f not in inner]
            found.append(_Found(s, e, NameEntry(text[s:e], "copyright", "", source="tag"), kind="tag"))
        return found

    def _with_titles(self, text: str, found: list[_Found]) -> list[_Found]:
        titles = [
            f
            for f in found
            if _TITLE.fullmatch(text[f.start : f.end].rstrip("."))
            # "a grey cat named Professor": after "named" a title is the whole name
            and not _NAMED_CONTEXT.search(text[max(0, f.start - _CONTEXT) : f.start])
        ]
        out = [f for f in found if f not in titles]
        for k, f in enumerate(out):
            if f.entry.label not in ("person", "character") or f.kind in ("series", "tag"):
                continue
            before = text[max(0, f.start - 20) : f.start]
            m = _TITLE_BEFORE.search(before)
            start = f.start - (len(before) - m.start("title")) if m is not None else f.start
            title = m.group("title") if m is not None else ""
            if m is None:  # spaCy's span took the title: "Queen Amira"
                inner = _TITLE_LEAD.match(text, f.start, f.end)
                if inner is None:
                    continue
                title = inner.group("title")
            entry = f.entry
            if entry.source not in ("table", "user", "tagcomplete"):
                who = _TITLE_NOUNS[title.lower().rstrip(".")]
                entry = NameEntry(text[start : f.end], entry.label, who, source=entry.source)
            out[k] = _Found(start, f.end, entry, f.ner_label, f.kind)
        kept = [t for t in titles if not any(o.start <= t.start < o.end for o in out)]
        return out + [t for t in kept if t.entry.source in ("table", "user", "tagcomplete")]

    def _series_spans(self, text: str, analysis: Analysis) -> Iterable[_Found]:
        """``kafka \\(honkai: star rail\\)``: a character of a series, unless the qualifier says the tag is a
        thing (``bow \\(weapon\\)``) or the database calls it general."""
        if "\\(" not in text:
            return
        for m in _SERIES.finditer(text):
            # the name: the words of its tag before the bracket (a bounded look back: linear in the text)
            back = max(0, m.start() - 120)
            lo = max(text.rfind(",", back, m.start()), text.rfind("|", back, m.start()), back - 1) + 1
            name, series = text[lo : m.start()], m.group("series").strip()
            if not name.strip():
                continue
            # the name is the last words of its tag (at most four), after any "by" / "artist:" lead
            lead = re.match(r"\s*(?:(?:art\s+)?by\s+|artist:\s*)?", name, re.IGNORECASE)
            offset = lead.end() if lead else 0
            if _INNER_WEIGHT.search(name, offset):
                # "Emma Watson:1.3 \(x\)": a weight-like ":1.3" inside the tag (A1111 reads it as text) ends
                # the name; the qualifier belongs to no name here, and the name itself is found as any other
                continue
            words = list(_WORD.finditer(name, offset))
            if not words:
                continue
            first = max(0, len(words) - 4)
            # the longest run of last words that some table knows ("cat Emma Watson \\(x\\)": "Emma Watson"),
            # else, in a sentence, the capitalised last words; in a tag, the tag's last four words
            tail_known = ""  # "ryoumen sukuna \(jujutsu kaisen\)": a tag whose last words the table knows
            for k in range(first, len(words)):
                cand = name[words[k].start() :]
                if any(t is not None and t.get(cand) is not None for t in (self.user, self.table, self.db)):
                    lead_word = words[first].group().lower()
                    if analysis.style == "tags" and k > first and not _acting(lead_word) and lead_word != "by":
                        tail_known = cand  # in a tag, the whole tag is the name: no "ryoumen" is left behind
                    else:
                        first = k
                    break
            else:
                if analysis.style != "tags":
                    k = len(words)
                    while k > first and words[k - 1].group()[:1].isupper():
                        k -= 1
                    first = k if k < len(words) else len(words) - 1
            start = lo + words[first].start()
            name = name[words[first].start() :]
            surface = text[start : m.end()]
            key = tag_key(surface)
            entry = self.user.get(key) or self.table.get(key)
            if entry is None and tail_known:
                entry = self.user.get(tail_known) or self.table.get(tail_known)
            if entry is None and self.db is not None:
                hit = self.db.lookup(key)
                marks = normalise_form(series) in _NAME_MARKS
                if hit is not None and not (marks and (self.user.get(name) or self.table.get(name))):
                    # ("tifa lockhart \(cosplay\)" is a general tag of the database: still the table's Tifa)
                    if hit[1] in (tables.GENERAL, tables.META) and marks and self.db.category(name) == tables.CHARACTER:
                        # "morrigan aensland \(cosplay\)": danbooru files a cosplay as a general tag, but the
                        # character in it is a name all the same (the cosplay stays, as without the database)
                        entry = NameEntry(surface, "character", "", source="series")
                    elif hit[1] in (tables.GENERAL, tables.META):
                        # a general tag of a series is a named thing ("excalibur \(fate/stay night\)")
                        if self._is_copyright(series):
                            base = self.table.get(tag_key(name))
                            entry = (
                                base
                                if base is not None and base.label == "item"
                                else NameEntry(surface, "item", "", source="tagcomplete")
                            )
                        else:
                            yield _Found(start, m.end(), NameEntry(surface, "general", ""), kind="series")
                            continue
                    else:
                        entry = self.db.get(key)
                        base = self.user.get(name) or self.table.get(name)
                        if (
                            hit[1] == tables.CHARACTER
                            and base is not None
                            and base.label == "character"
                            and not base.word
                            and not _other_series(base, surface[len(name) :])
                        ):
                            entry = base  # "rem (re:zero)": the table's description, as without the database
            if entry is None and normalise_form(series) in _TITLE_KINDS:
                # "sonic \(series\)": a copyright tag (however its first words read alone), gone whole
                entry = NameEntry(surface, "copyright", "", source="series")
            if entry is None:
                qualifier = normalise_form(series)
                marks_a_name = qualifier in _NAME_MARKS
                if (
                    not marks_a_name
                    and _says_a_kind(qualifier)
                    and not self._is_copyright(series)  # "falchion \(fire emblem\)": a series, not an emblem
                ):
                    yield _Found(start, m.end(), NameEntry(surface, "general", ""), kind="series")
                    continue
                base = self.user.get(name) or self.table.get(name)
                if (
                    base is not None
                    and base.label in ("character", "person", "item")
                    and not (base.word and self._is_copyright(series))
                    and not _other_series(base, surface[len(name) :])
                ):
                    entry = base  # (a word entry is one character: "robin \(one piece\)" is not DC's Robin)
                elif not marks_a_name and analysis.style != "tags" and not self._series_like(name, series):
                    # "cat \(escaped\)": English words in escaped brackets, nothing says a series
                    yield _Found(start, m.end(), NameEntry(surface, "general", ""), kind="series")
                    continue
                else:
                    by_artist = lead is not None and lead.group(0).strip() != ""
                    entry = NameEntry(surface, "artist" if by_artist else "character", "", source="series")
            analysis.anime = True
            end = m.end()
            more = _MORE_QUALIFIERS.match(text, end)
            if more is not None:
                end = more.end()  # "byleth \\(female\\) \\(fire emblem\\)": both qualifiers go with the name
            yield _Found(start, end, entry, kind="series")

    def _bare_characters(self, text: str, analysis: Analysis) -> Iterable[_Found]:
        """``acheron, honkai star rail``: a character's tag written without its ``\\(series\\)``, the series a
        tag of its own in the same prompt: the character the table (or the database) knows as
        ``acheron (honkai: star rail)``, however English its name reads alone ("acheron", "firefly")."""
        whole = analysis.prior + text + analysis.after
        qualifiers: set[str] = set()
        for s, e in _tag_spans(whole):
            tag = whole[s:e].strip()
            for source in (self.table, self.db):
                entry = source.get(tag) if source is not None and tag else None
                if entry is not None and entry.label == "copyright":
                    qualifiers.update(normalise_form(q) for q in (entry.name, *entry.aliases, tag))
        if not qualifiers:
            return
        for s, e in _tag_spans(text):
            lead = s + len(text[s:e]) - len(text[s:e].lstrip())
            tag = text[s:e].strip()
            if not re.fullmatch(r"[A-Za-z][\w'’.\- ]*", tag) or len(tag.split()) > 3:
                continue
            for q in sorted(qualifiers):
                entry = next(
                    (
                        x
                        for x in (
                            self.user.get(f"{tag} ({q})"),
                            self.table.get(f"{tag} ({q})"),
                            self.db.get(f"{tag} ({q})") if self.db is not None else None,
                        )
                        if x is not None and x.label == "character"
                    ),
                    None,
                )
                if entry is not None:
                    analysis.anime = True
                    yield _Found(lead, lead + len(tag), entry)
                    break

    def _qualifiers(self, surface: str, f: _Found, analysis: Analysis) -> str:
        """The escaped qualifiers of a replaced ``name \\(…\\)``, kept so the prompt keeps its structure: a
        series is described (``nami \\(one piece\\)`` → ``\\(shonen anime\\)``: the table's style words for it,
        ``anime`` for one nobody describes, ``artist`` for an artist's handle), any other qualifier stays as
        written (``\\(cosplay\\)``, ``\\(female\\)``, ``\\(actress\\)``). None where the user wrote no
        escapes ("rem (re:zero)")."""
        if f.kind != "series" or "\\(" not in surface:
            return ""
        out = []
        marks = list(_SERIES.finditer(surface))
        for k, m in enumerate(marks):
            qualifier = m.group("series").strip()
            if f.entry.label == "artist":
                words = "artist"
            elif (
                analysis.style == "tags"
                and k < len(marks) - 1
                and f.entry.label in ("character", "person")
                and len(qualifier.split()) >= 2  # (a class of one word stays: "jeanne d'arc alter \(avenger\)")
                and normalise_form(qualifier) not in _KIND_QUALIFIERS
                and not _COSTUME_QUALIFIER.fullmatch(normalise_form(qualifier))
            ):
                # "taihou \(enraptured companion\) \(azur lane\)", "jeanne d'arc alter \(swimsuit berserker\) \(fate\)":
                # before the series, the name of one of the character's costumes
                words = "alternate costume"
            elif self._names_a_series(qualifier) or (
                analysis.style == "tags"
                and k == len(marks) - 1  # "jeanne d'arc alter \(avenger\) \(fate\)": the series comes last
                and (
                    f.entry.source in ("series", "table")
                    or (f.entry.source, f.entry.label) == ("tagcomplete", "character")
                )
                and normalise_form(qualifier) not in _KIND_QUALIFIERS
                and not _COSTUME_QUALIFIER.fullmatch(normalise_form(qualifier))  # "\(1st costume\)" stays
                and not (self.db is not None and self.db.is_general(qualifier))
            ):  # "adora \(she-ra\)", "yuna \(ff10\)": in a tag prompt, a character's qualifier is its series
                series = self.table.get(qualifier)
                said = (
                    [series.modifier, *series.modifier_variants]
                    if series is not None and series.label == "copyright" and series.modifier
                    else []
                )
                # a second character of the same series: its qualifier in other words ("2girls, hoshino
                # \(blue archive\), shiroko \(blue archive\)": shuffled tags never repeat a phrase)
                seen = analysis.series_seen.get(normalise_form(qualifier), 0)
                analysis.series_seen[normalise_form(qualifier)] = seen + 1
                options = [w for w in dict.fromkeys([*said, "anime"]) if w]
                words = options[min(seen, len(options) - 1)]
                analysis.found.append(Name(m.group(0), "copyright", f"\\({words}\\)", f.entry.source))
            else:
                words = qualifier
            if qualifier in analysis.unescaped:
                out.append(f"\\(\x00{words}\x00\\)")  # marked: genericise() turns it back into "(words)"
            else:
                out.append(f"\\({words}\\)")
        return " ".join(out)

    def _names_a_series(self, qualifier: str) -> bool:
        """A qualifier that names something (a series, a handle) rather than saying what kind of thing it is."""
        if self._is_copyright(qualifier):
            return True
        if self.db is not None and self.db.category(qualifier) in (tables.COPYRIGHT, tables.ARTIST, tables.CHARACTER):
            return True
        return any(not is_english_word(w) and not is_protected_word(w) for w in _WORD.findall(qualifier))

    def _series_like(self, name: str, series: str) -> bool:
        """Whether an unknown ``name \\(series\\)`` reads as a character of a series: a word of either part
        that is no English word ("honkai", "shiroko"), a known copyright, or a given name ("lucy")."""
        words = _WORD.findall(name) + _WORD.findall(series)
        if any(not is_english_word(w) and not is_protected_word(w) for w in words):
            return True
        first = normalise_form(name).split()[:1]
        return self._is_copyright(series) or bool(
            first and (first[0] in _given_names() or first[0] in tables.word_names())
        )

    def _series_entry(self, series: str) -> NameEntry | None:
        """The copyright a ``\\(series\\)`` qualifier names, from the tables (None when unknown)."""
        entry = self.table.get(series)
        if entry is not None and entry.label == "copyright":
            return entry
        return None

    def _is_copyright(self, series: str) -> bool:
        if self._series_entry(series) is not None or normalise_form(series) in SERIES_QUALIFIERS:
            return True
        return self.db is not None and self.db.category(series) == tables.COPYRIGHT

    def _db_ok(self, surface: str, text: str, start: int, end: int, tags_style: bool) -> bool:
        """A tag-database name matches where it cannot be an ordinary word: a whole tag of a tag prompt (or
        after ``by``), or, in a sentence, a name of several words or none English, written like a name."""
        words = _WORD.findall(surface)
        english = all(is_english_word(w) or is_protected_word(w) for w in words)
        left = text[max(0, start - _CONTEXT) : start]
        whole_tag = re.search(
            r"(?:^|[,|(\[{:])\s*(?:by\s+|artist:\s*)?$", left, re.IGNORECASE
        ) is not None and re.match(r"\s*(?:[,|)\]}]|$)", text[end:])
        if tags_style and whole_tag:
            return True  # "magion02", "vspo!": a whole tag the database names is that name
        if any(is_protected_word(w) for w in words) and len(words) == 1:
            return False
        if _BY_CONTEXT.search(left):
            return True
        if tags_style:
            # inside a longer tag only a name that is no English word ("shiroko swimsuit", not "sky")
            return not english and (len(words) > 1 or len(surface) > 3)
        if english:
            caps = [w for w in words if w[:1].isupper()]
            return len(words) > 1 and len(caps) == len(words)
        return len(words) > 1 or surface[:1].isupper()

    def _case_ok(self, surface: str, entry: NameEntry, text: str, start: int, end: int, *, tags: bool = True) -> bool:
        """Common words ("Homer", "Pearl Earring") count as names only when written like names, or when
        the context says name: ``disney style``, ``by homer``, or a whole tag ``, batman,`` of a
        person/character/artist/studio/copyright (never a brand or artwork: ``apple`` stays a fruit; in a
        sentence's comma items only a person or a character: ``…, blizzard, …`` is the weather there)."""
        words = _WORD.findall(surface)
        if entry.source != "user" and entry.label == "artwork" and self._plain_phrase(surface, text, start, end):
            return False  # "starry night, a campfire": a sky, not Van Gogh's painting
        if entry.source == "user" or (entry.lowercase and len(re.split(r"[\s\-]+", surface.strip())) > 1):
            return True
        if not all(is_english_word(w) or is_protected_word(w) for w in words):
            return True
        left = text[max(0, start - _CONTEXT) : start]
        if _STYLE_AFTER.match(text[end:]) or _BY_CONTEXT.search(left):
            return True
        tag_start = re.fullmatch(r"\s*", left.rsplit(",", 1)[-1]) is not None
        if tag_start and entry.label == "copyright" and "," in text and len(words) > 1:
            return True  # "fire emblem fates": a series title opening a tag, with or without its subtitle
        whole_tag = tag_start and re.match(r"\s*(?:,|$)", text[end:])
        # in a sentence's comma items only someone stands alone as a name ("…, blizzard, …" is weather there)
        alone = ("person", "character", "artist", "studio", "copyright", "item") if tags else ("person", "character")
        if (
            whole_tag
            and "," in text
            and entry.label in alone
            and not (self.db is not None and self.db.is_general(surface))
        ):
            return True
        caps = [w for w in words if w[:1].isupper()]
        if len(words) == 1:
            return bool(caps)
        return len(caps) >= 2 or (len(caps) == 1 and not words[0][:1].isupper())

    def _plain_phrase(self, surface: str, text: str, start: int, end: int) -> bool:
        """Whether an artwork's title written in lower case is the ordinary phrase it is made of ("starry night",
        "last supper"): two English words, no "the", no artist, "painting" or "by" around it."""
        words = surface.split()
        if surface != surface.lower() or len(words) != 2 or not all(is_english_word(w) for w in words):
            return False
        left, right = text[max(0, start - _CONTEXT) : start].lower(), text[end : end + _CONTEXT].lower()
        if re.search(r"(?:\bthe|['’]s|\bby|\bof)\s+$", left) or re.match(
            r"\s*(?:\(?\s*(?:painting|artwork|masterpiece|by)\b|['’]s\b)", right
        ):
            return False
        before = re.findall(r"[a-z][\w\-]*", left)[-3:]
        return not any(
            (entry := self.table.get(" ".join(before[i:]))) is not None and entry.label in _STYLE_LABELS
            for i in range(len(before))
        )

    def _rule_spans(self, text: str, words: list[re.Match[str]], analysis: Analysis) -> Iterable[tuple[int, int, str]]:
        given = _given_names()
        for i, w in enumerate(words):
            left = text[max(0, w.start() - _CONTEXT) : w.start()]
            by, named = _BY_CONTEXT.search(left), _NAMED_CONTEXT.search(left)
            if by or named:
                label = "person" if named else "artist"
                j = i
                while j < len(words) and j - i < 4:
                    between = text[words[j - 1].end() : words[j].start()] if j > i else " "
                    if j > i and not re.fullmatch(r"\s+", between):
                        break
                    if j > i and (k := _after_particles(text, words, j)) > j:
                        j = k  # "Jacob van Ruisdael", "Leonardo da Vinci": the particles go with the surname
                        continue
                    if not self._name_like(words[j].group(), first=j == i, named=bool(named)):
                        break
                    j += 1
                if j > i:
                    yield w.start(), words[j - 1].end(), label
                    if label == "artist":
                        yield from self._artist_list(text, words, j)
                continue
            token = w.group()
            low = token.lower()
            if (
                token[:1].isupper()
                and not token.isupper()
                and (_ROLE_CONTEXT.search(left) or _TITLE_NOUN_CONTEXT.search(left))
                and not (self.table.get(token) is not None and _TITLE_NOUN_CONTEXT.search(left))
            ):
                # "my daughter Hope", "our dog Biscuit": a capitalised word right after the noun that says who is
                # a name (words like Hope are names only here); a surname may follow
                yield w.start(), _with_surname(text, words, i), "role"
                continue
            if (
                token[:1].isupper()
                and not token.isupper()
                and low in tables.word_names()
                and not re.search(r"\b(?:a|an|the|this|that|some|one|every)\s+$", left, re.IGNORECASE)
                and (_PERSON_ACTS_AFTER if _sentence_start(text, w.start()) else _ACTS_AFTER).match(text[w.end() :])
                and not (self.db is not None and self.db.is_general(token))
            ):
                # "Amber walking her dog", "a portrait of Hope smiling": a first name that is also a word, in
                # name position (capitalised, doing something); "amber eyes" and "Rose garden" stay words
                yield w.start(), _with_surname(text, words, i), "person"
                continue
            if (
                token[:1].isupper()
                and low in given
                and low not in _SYNTAX_WORDS
                and not is_english_word(token)
                and not analysis.ner
                and not (self.db is not None and self.db.is_general(token))
            ):
                # without spaCy: a capitalised given name ("Sarah laughing") and a capitalised surname after it
                yield w.start(), _with_surname(text, words, i), "person"
                continue
            m = _STYLE_AFTER.match(text[w.end() : w.end() + 40])
            if (
                m
                and token.isalpha()
                and not is_protected_word(token)
                and low not in _STYLE_TERMS  # "manga style", "shoujo style": a kind of drawing, no studio
                and _name_like_word(token)
            ):
                yield w.start(), w.end(), "studio"

    def _artist_list(self, text: str, words: list[re.Match[str]], j: int) -> Iterable[tuple[int, int, str]]:
        """``by A, B and C``: the items after an artist that look like names (no English word among them
        but capitalised ones) are artists too; the list ends at the first ordinary phrase."""
        while j < len(words):
            between = text[words[j - 1].end() : words[j].start()]
            if words[j].group().lower() == "and" and j + 1 < len(words) and not between.strip(" ,"):
                j += 1  # "by A and B", "by A, and B"
                between = ","
            if not re.fullmatch(r"\s*(?:,|&|\band\b)\s*", between):
                return
            k = j
            while k < len(words) and k - j < 3:
                if k > j and not re.fullmatch(r"\s+", text[words[k - 1].end() : words[k].start()]):
                    break
                k += 1
            item = [m.group() for m in words[j:k]]
            end_ok = k == len(words) or re.match(r"\s*(?:,|&|\band\b|$)", text[words[k - 1].end() :])
            if not end_ok or not all(self._name_like(w, first=False) for w in item):
                return
            if all(is_english_word(w) for w in item):
                return
            if self.db is not None and self.db.is_general(" ".join(item)):
                return
            yield words[j].start(), words[k - 1].end(), "artist"
            j = k

    def _name_like(self, word: str, *, first: bool, named: bool = False) -> bool:
        if is_protected_word(word) or not re.search(r"[A-Za-z]", word):
            return False
        low = word.lower()
        if low in _NON_NOUN_NEXT:
            return False
        if normalise_form(low) in tables.general_tags() and not (named and word[:1].isupper()):
            return False  # (but "a cat named Mochi" is the cat's name, whatever danbooru's tag "mochi" is)
        if self.db is not None and self.db.is_general(low) and not word[:1].isupper():
            return False
        if word[:1].isupper():
            return not (first and is_english_word(word) and word.lower() in ("the", "a", "an", "night", "hand"))
        if named and first and low in tables.word_names():
            return True  # "a girl named hope"
        return not is_english_word(word)

    def _period_place(self, words: list[str], surface: str) -> bool:
        """ "Victorian London", "Feudal Japan": a period's adjective before somewhere spaCy knows on its own, which
        its model reads as one PERSON or ORG (and a prompt would lose the place). Never a name the table knows,
        a given name ("Christian Bale") or a title ("Captain America" has no period adjective)."""
        first, rest = words[0], " ".join(surface.split()[1:])
        if (
            len(words) < 2
            or self.table.get(surface) is not None
            or first in _given_names()
            or not is_english_word(first)
            or not (first.endswith(_PERIOD_ENDINGS) or first in _PERIOD_WORDS)
            or any(w in _given_names() for w in words[1:])
        ):
            return False
        nlp = get_nlp()
        if nlp is None:
            return False
        ents = nlp(f"a street in {rest}").ents
        return len(ents) == 1 and ents[0].text == rest and ents[0].label_ in ("GPE", "LOC")

    def _unknown_entry(self, surface: str, label: str, analysis: Analysis) -> NameEntry:
        if label == "person" and analysis.style == "tags":
            # "1girl, solo, tony taka": a name nobody knows among tags is a character or an artist, never "a
            # man" added to the picture
            return NameEntry(surface, "character", "", source="ner")
        if label in ("person", "role"):
            words = normalise_form(surface).split()
            first = words[0] if words else ""
            names = tables.first_names()
            gender = (
                "female" if first in names["female"] or first in tables.word_names("female")
                else "male" if first in names["male"] or first in tables.word_names("male")
                else analysis.cues.gender
            )  # fmt: skip
            return NameEntry(
                surface, "person", _NEUTRAL[("person", gender)], source="ner" if label == "person" else "rule"
            )
        return NameEntry(surface, label, "", source="rule")

    # --- rendering ------------------------------------------------------------------------------------

    def _render(self, left: str, surface: str, right: str, f: _Found, analysis: Analysis) -> tuple[str, str, int]:
        """(new left text, replacement, characters of ``right`` consumed). A fictional setting (the table's
        "setting": Hogwarts, Gotham, the Shire) is said the way a brand is, a noun phrase where it stands and its
        modifier before a noun ("the Shire countryside" -> "the pastoral green-hill countryside"), and reported
        as a setting."""
        if f.entry.label != "setting":
            return self._render_as(left, surface, right, f, analysis)
        seen = len(analysis.found)
        out = self._render_as(left, surface, right, replace(f, entry=replace(f.entry, label="brand")), analysis)
        analysis.found[seen:] = [replace(n, label="setting") for n in analysis.found[seen:]]
        return out

    def _render_as(self, left: str, surface: str, right: str, f: _Found, analysis: Analysis) -> tuple[str, str, int]:
        entry = f.entry
        label = entry.label
        if label == "place" and not analysis.options.scrub_places:
            analysis.found.append(Name(surface, "place", surface, entry.source))
            return left, surface, 0
        if label == "place":
            generic = entry.generic or _PLACE_GENERIC.get(f.ner_label, "a place")
            if generic.startswith("the "):
                generic = generic[4:]  # "the Taj Mahal" as NER read it
            if re.match(r"(?:a|an)\s", generic) and (the := re.search(r"\b[Tt]he\s+$", left)):
                left = left[: the.start()]  # "the Colosseum at night" -> "a ruined stone amphitheater at night"
            analysis.found.append(Name(surface, "place", generic, entry.source))
            return left, generic, 0
        if label == "artwork" and (maker := _UNKNOWN_OWNER.search(left)) is not None:
            # "Rodin's The Thinker": whoever made a work the table knows goes with it; the work's description
            # says it all (never "Rodin's a bronze statue …")
            analysis.found.append(Name(maker.group("who"), "artist", "", "rule"))
            left = left[: maker.start()]
        window = left[-_CONTEXT:]
        named = _NAMED_CONTEXT.search(window)
        if named or f.kind == "role":  # "a woman named Sarah" -> "a woman"; "my daughter Hope" -> "my daughter"
            analysis.found.append(Name(surface, label, "", entry.source))
            cut = len(left) - len(window) + named.start() if named else len(left.rstrip(" ,"))
            # "my grandmother Edith's table" -> "my grandmother's table": the possessive stays with the role
            owner = "'s" if f.kind == "role" and re.search(r"['’]s$", surface) else ""
            return left[:cut], owner, _comma_after(right) if f.kind == "role" and left.rstrip().endswith(",") else 0
        unknown = entry.source not in ("table", "user", "tagcomplete")  # found by spaCy or a rule
        if (
            unknown
            and label == "person"
            and f.kind != "sibling"
            and normalise_form(surface).split()[0] not in _given_names()
            and re.search(r"(?:^|[,(\[{|])\s*$", left)
            and re.match(r"\s*(?:[,)\]}|]|$)", right)
            and not analysis.weighted_in_sentence  # "portrait of (X:1.3) in a garden": the sentence's subject
        ):
            # "..., Weta Digital, ...", "Super Saiyan": an unknown name alone in its item, no given name: a studio,
            # a term or a place more often than a person; "someone" there says nothing the picture needs
            return self._drop(left, surface, right, label, entry, analysis)
        if (label == "brand" and (entry.showcases or not entry.generic)) or (
            unknown and _ACCLAIM_BEFORE.search(window)  # "trending on Zorbnet": a site, whatever spaCy says
        ):
            acclaimed = self._render_acclaim(left, surface, right, entry, analysis)
            if acclaimed is not None:
                return acclaimed
        if (
            unknown
            and label in ("person", "character")
            and f.kind != "sibling"
            and re.match(r"\s+the\s+(?:[a-z][\w\-]*\s+){0,2}[a-z][\w\-]*\b(?!\s+(?:of|and)\b)", right)
        ):
            # "Ariel the little mermaid": the words after the name say who (was "someone the little mermaid")
            analysis.found.append(Name(surface, label, "", entry.source))
            return left, "", len(right) - len(right.lstrip())
        if label in ("person", "character") and analysis.style != "tags":
            sequel = re.match(r"\s+(?:\d{1,4}|II|III|IV)(?=\s*(?:[,.;)\]}|]|$))", right)
            if sequel is not None:  # "The Witcher 3", "Zorblax 2": a game's or a film's title, not the character
                new_left, replacement, _ = self._drop(left, surface, right, "copyright", entry, analysis)
                return new_left, replacement, len(sequel.group(0))
            previous = analysis.found[-1] if analysis.found else None
            if (
                previous is not None
                and previous.label == "character"
                and previous.replacement
                and re.fullmatch(r"\s+from\s+(?:the\s+)?", left) is not None
            ):
                # "Link from Zelda": the series the character comes from, not a second character
                return self._drop(left, surface, right, "copyright", entry, analysis)
        if analysis.style == "tags" and f.kind != "sibling":
            tagged = self._render_tag(left, surface, right, f, analysis)
            if tagged is not None:
                return tagged
        by = _BY_CONTEXT.search(window)
        if by:
            return self._render_style(left, right, len(left) - len(window), surface, by, entry, analysis)
        if label == "copyright":
            return self._render_copyright(left, surface, right, entry, analysis)
        # an owner ("Hemingway's typewriter") is said as the prompt says it: "a burly man's" reads no gender word
        # to a reader counting words, so its variants add none either
        generic, variants = self._description(entry, analysis, gender=not right.startswith(("'s", "’s")))
        modifier = entry.modifier or (
            "" if label in ("brand", "item") and entry.source != "table" else _strip_article(generic)
        )
        style_after = _STYLE_AFTER.match(right)
        themed = re.match(r"-(?:themed|shaped)\b", right)
        if themed and not style_after and label in ("person", "character", "brand", "item") and generic:
            # "a Hello Kitty-themed cake", "a Batman-shaped cloud": the look's own words before the hyphen, never a
            # whole description ("a white cartoon cat with a red bow-themed cake")
            looks = [_strip_article(_description_head(d)) for d in (generic, *variants)]
            if entry.modifier and "themed" not in entry.modifier:  # its modifier first, then its looks' heads
                looks = [entry.modifier, *(v for v in entry.modifier_variants if "themed" not in v), *looks]
            said = looks[0]
            analysis.found.append(
                Name(surface, label, said, entry.source, tuple(dict.fromkeys(x for x in looks[1:] if x and x != said)))
            )
            return left, said, 0
        container = re.search(r"\b([a-z]+) of\s+$", window)
        if container and container.group(1) in _CONTAINERS and generic:
            # "a can of Red Bull": the drink the description's own can holds ("a can of energy drink with a red
            # bull logo", never "a can of a slim can of energy drink")
            held = [_held(d, container.group(1)) for d in (generic, *variants)]
            generic = held[0] or generic
            variants = tuple(dict.fromkeys(h for h in held[1:] if h and h != generic))
        # the word after the name, also past the syntax around it ("a (Totoro:1.3) shaped cloud",
        # "a [Pikachu:Totoro:0.5] plush"): a noun there may make the name a modifier
        next_word = re.match(r"^(?:['’]s)?\s+([A-Za-z][\w\-]*)", right if right.strip() else analysis.following)
        nxt = next_word.group(1).lower() if next_word else ""
        possessive = right.startswith(("'s", "’s"))
        # "Nike running shoe", "a Tesla charging station": an -ing word and a noun after a brand are its product
        ing_noun = re.match(r"^\s+[a-z]+ing\s+([a-z][\w\-]*)", right)
        as_adjective = (
            (
                label == "brand"
                and nxt
                and nxt not in _NON_NOUN_NEXT
                and not (nxt.endswith(("ing", "ed")) and is_english_word(nxt))  # "Mercedes-Benz gullwing" is a car
            )
            or (label == "brand" and ing_noun is not None and _modified(ing_noun.group(1)))
            or (label in ("person", "character") and nxt in _MERCH_NOUNS and entry.modifier)
            or (label in _STYLE_LABELS and possessive and nxt and nxt not in _NON_NOUN_NEXT)
            or (label in _STYLE_LABELS and nxt in _ART_NOUNS)  # "a Van Gogh painting": the artist's look
        )
        if (
            label == "artist"
            and not style_after
            and not possessive
            and _subject(window, right if right.strip() else analysis.following)
        ):
            # "Frida Kahlo painting a self-portrait", "a portrait of Van Gogh": the artist as a person, not a style,
            # described by their own look where the table knows it, else by the neutral noun
            if entry.looks:  # fitted to the prompt like any person's description
                person = replace(entry, label="person", generic=entry.looks[0], variants=entry.looks[1:])
                replacement, variants = self._description(person, analysis)
                variants = tuple(dict.fromkeys(v for v in variants if v != replacement))
            else:
                replacement, variants = _NEUTRAL[("person", _gender(entry.name, analysis))], ()
            article = _ARTICLE_BEFORE.search(window)
            if article:
                left = left[: len(left) - len(window) + article.start()]
            analysis.found.append(Name(surface, "person", replacement, entry.source, variants))
            return left, replacement, 0
        if possessive and label in _STYLE_LABELS and self._artwork_follows(right[2:]):
            # "Van Gogh's Starry Night": the artwork's own description says it all
            analysis.found.append(Name(surface, label, "", entry.source))
            return left, "", 2 + len(right[2:]) - len(right[2:].lstrip())
        if style_after or as_adjective:
            if style_after and label not in ("brand", *_STYLE_LABELS) and not entry.modifier:
                label = "artist"  # "Vermeer lighting": an artist's look
                modifier = "painterly" if entry.source == "table" else ""
            replacement = modifier
            said_next = set(re.findall(r"[a-z]+", right.lower())[:4])
            if as_adjective and modifier and set(re.findall(r"[a-z]+", modifier.lower())) <= said_next:
                replacement = ""  # "an Nvidia graphics card": "a graphics card", never "a graphics-card graphics card"
            consumed = 0
            if possessive and label in ("brand", "artist", "studio"):
                consumed = 2
            alternatives = (
                tuple(v for v in entry.modifier_variants if consistent(v, replacement))
                if entry.modifier
                else tuple(_strip_article(v) for v in variants)
            )
            # "a Heinz ketchup bottle": "a classic ketchup bottle", never "ketchup ketchup" or "bottled ketchup bottle"
            for said_word in re.findall(r"[a-z][a-z\-]*", right.lower())[:2] if as_adjective and nxt else ():
                replacement = _without_word(replacement, said_word)
                alternatives = tuple(dict.fromkeys(a for a in (_without_word(v, said_word) for v in alternatives) if a))
            analysis.found.append(Name(surface, label, replacement, entry.source, alternatives))
            if style_after and style_after.group(0).startswith("-"):
                if not replacement:  # "a Zorbco-style room": "a room", not "a style room"
                    return left, "", len(style_after.group(0))
                if re.match(r"-styled?\b", style_after.group(0), re.IGNORECASE):
                    return left, replacement + " ", 1  # "ghibli-style" -> "anime style"
                return left, replacement, 0  # "Van Gogh-inspired" -> "swirling post-impressionist-inspired"
            if not replacement and style_after:  # an unknown name's "X style": drop "style" too
                return left, "", len(style_after.group(0))
            if style_after and label in _STYLE_LABELS and generic and re.match(r"\s+inspired\b", style_after.group(0)):
                # "Tim Burton inspired" is the artist's look said whole, never "gothic whimsical inspired"
                analysis.found[-1] = Name(surface, label, generic, entry.source, tuple(variants))
                return left, generic, len(style_after.group(0))
            return left, replacement, consumed
        replacement = generic  # a bare artist tag gets the style description itself
        if label in ("person", "character") and not possessive and analysis.style != "tags":
            if nxt in _MERCH_NOUNS and nxt not in _NON_NOUN_NEXT:
                # "a Bob Marley t-shirt", with no look to print: "a t-shirt" (never "someone t-shirt")
                analysis.found.append(Name(surface, label, "", entry.source))
                return left, "", len(right) - len(right.lstrip()) if left.endswith(" ") else 0
            if nxt in _OWN_NOUNS and replacement:
                # "Gene Kelly pose", "Joe Smith haircut": the person's own, said as theirs ("a man's pose")
                owner, *owners = dict.fromkeys(f"{_description_head(d)}'s" for d in (replacement, *variants))
                article = _ARTICLE_BEFORE.search(window)
                if article and re.match(r"(?i)(a|an|the|someone)\s", owner):
                    left = left[: len(left) - len(window) + article.start()]
                analysis.found.append(Name(surface, label, owner, entry.source, tuple(owners)))
                return left, owner, 0
        if not replacement:
            return self._drop(left, surface, right, label, entry, analysis)
        if (
            label == "brand"
            and _NEEDS_ARTICLE_BEFORE.search(window)
            and not (container and container.group(1) in _CONTAINERS)
        ):
            # "coffee at Starbucks" -> "coffee at a coffee shop with a green mermaid logo", not "at coffee shop …"
            replacement, *others = (counted(v) for v in (replacement, *variants))
            variants = tuple(others)
        article = _ARTICLE_BEFORE.search(window)
        if article and re.match(r"(?i)(a|an|the|someone)\s", replacement + " "):
            left = left[: len(left) - len(window) + article.start()]
        elif _ARTICLE_ADJECTIVES_BEFORE.search(window) and label in ("person", "character"):
            # "a young Clint Eastwood", "a tiny Totoro": the prompt's article and adjectives, the description's noun
            said_words = set(window.lower().split())
            sized = {w for group in _SAID_ONCE for w in group if said_words & group}
            replacement, *others = (
                _without_size(re.sub(r"(?i)^(?:a|an|the)\s+", "", v), sized) for v in (replacement, *variants)
            )
            variants = tuple(others)
        if possessive and label in ("person", "character"):
            # "Taylor Swift's cat": the description's head only ("a tall blonde woman's cat")
            replacement = _description_head(replacement)
            variants = tuple(dict.fromkeys(h for h in map(_description_head, variants) if h != replacement))
        elif label in ("person", "character"):
            # "Pinocchio with a long nose": the prompt says it next, the description does not say it first
            replacement = _unsaid(replacement, right)
            variants = tuple(dict.fromkeys(v for v in (_unsaid(v, right) for v in variants) if v != replacement))
        analysis.found.append(Name(surface, label, replacement, entry.source, variants))
        return left, replacement, 0

    def _render_acclaim(
        self, left: str, surface: str, right: str, entry: NameEntry, analysis: Analysis
    ) -> tuple[str, str, int] | None:
        """``trending on X`` / ``featured on X`` / ``X HQ`` with X a site: the whole phrase becomes acclaim for
        the site's kind of work (an unknown site's: "artwork"); "on A and B" joins B's work to A's; a known site
        alone in its comma item becomes its kind of work. None when the name is in none of these."""
        window = left[-_CONTEXT:]
        before = _ACCLAIM_BEFORE.search(window)
        after = None if before else _ACCLAIM_AFTER.match(right)
        around = (analysis.before + left + " " + right).lower()
        said = [w for w in entry.showcases if re.search(r"(?<![\w-])" + re.escape(w) + r"(?![\w-])", around)]
        works = tuple(w for w in entry.showcases if not any(x in w for x in said)) or ("artwork",)  # never twice
        if before is None and after is None:
            previous = analysis.acclaimed
            alone = (analysis.before + left).rstrip().endswith(",") or not (analysis.before + left).strip()
            if entry.showcases and alone and re.match(r"\s*(?:,|$)", right):
                # "ArtStation" as a tag of its own: the look of its work ("concept art"), not the site; nothing
                # when the prompt says that already ("concept art, artstation")
                work = "" if said else works[0]
                analysis.found.append(Name(surface, "brand", work, entry.source, works[1:] if work else ()))
                return left, work, 0
            if not previous or not _LIST_GLUE.fullmatch(left) or not analysis.before.endswith(previous):
                return None
            work = works[0]  # "trending on ArtStation and Pixiv": "trending concept art and anime illustration"
            if work in previous:  # the same kind of work again: the name goes with its "and"
                analysis.found.append(Name(surface, "brand", "", entry.source))
                return "", "", 0
            analysis.found.append(Name(surface, "brand", work, entry.source, works[1:]))
            analysis.acclaimed = previous + left + work
            return left, work, 0
        written = (before or after).group("acclaim")  # type: ignore[union-attr]
        acclaim = _ACCLAIM_WORDS.get(re.sub(r"[\s-]+", " ", written.lower()), written)
        replacement = f"{acclaim} {works[0]}"
        variants = tuple(f"{acclaim} {w}" for w in works[1:])
        head, consumed = left, 0
        if before is not None:
            head = left[: len(left) - len(window) + before.start()]
        elif after is not None:
            consumed = after.end()
        preceding = (analysis.before + head).rstrip()
        if head.strip() and not preceding.endswith((",", "(", "[", ":", "|")):
            head = head.rstrip() + ", "  # "a knight trending on ArtStation" -> "a knight, trending concept art"
        analysis.found.append(Name(surface, "brand", replacement, entry.source, variants))
        analysis.acclaimed = replacement
        return head, replacement, consumed

    def _artwork_follows(self, text: str) -> bool:
        words = list(_WORD.finditer(text[:80]))
        for n in range(min(5, len(words)), 0, -1):
            surface = text[words[0].start() : words[n - 1].end()]
            entry = self.table.get(surface)
            if entry is not None and entry.label == "artwork" and self._case_ok(surface, entry, text, 0, len(surface)):
                return True  # "Van Gogh's Starry Night" (not "Monet's water lilies": no title, the words stay)
        return False

    def _drop(
        self, left: str, surface: str, right: str, label: str, entry: NameEntry, analysis: Analysis
    ) -> tuple[str, str, int]:
        """A name with nothing to say about it: removed with the words that only served it (an article,
        "from", "of")."""
        analysis.found.append(Name(surface, label, "", entry.source))
        window = left[-_CONTEXT:]
        base = len(left) - len(window)
        nxt = re.match(r"\s+([a-z][\w-]*)", right)
        modifies = nxt is not None and nxt.group(1) not in _NON_NOUN_NEXT and not nxt.group(1).endswith("ing")
        # "a Pokemon trainer" -> "a trainer": the article belongs to the noun the name modified
        m = _FROM_BEFORE.search(window) or (None if modifies else _ARTICLE_BEFORE.search(window))
        if m and m.start() > 0 and not window[: m.start()].rstrip().endswith((",", "(", "[", "|", ":")):
            kept = left[: base + m.start()]
            dangling = re.search(r"\s+(?:with|alongside|beside|featuring|and|for|to)\s*$", kept)
            if dangling is not None and re.match(r"\s*(?:[,.;)\]|]|$|BREAK\b|AND\b)", right):
                kept = kept[: dangling.start()]  # "drinking tea with the Zorbtubbies": not "drinking tea with"
            return kept, "", 0
        if m and m.start() == 0 and not left[:base].strip():
            return "", "", 0
        glue = re.search(r"\s*(?:\band\b|&|\bor\b)\s*$", left)
        if glue is not None and re.match(r"\s*(?:[,.;)\]|]|$)", right):
            return left[: glue.start()], "", 0  # "by Greg Rutkowski and Zorblax": no dangling "and"
        return left, "", 0

    def _render_copyright(
        self, left: str, surface: str, right: str, entry: NameEntry, analysis: Analysis
    ) -> tuple[str, str, int]:
        """A series, game or franchise: "from Genshin Impact" goes; "genshin impact style" takes the entry's
        style words when it has them; otherwise it is dropped."""
        style_after = _STYLE_AFTER.match(right)
        if style_after or re.match(r"^\s+(?:characters?|fanart|fan art|art|cosplay|outfit|costume)\b", right):
            if entry.modifier:
                analysis.found.append(Name(surface, "copyright", entry.modifier, entry.source, entry.modifier_variants))
                return left, entry.modifier, 0
            if style_after:
                analysis.found.append(Name(surface, "copyright", "", entry.source))
                return left, "", len(style_after.group(0))
        nxt = re.match(r"\s+([a-z][\w-]*)", right)
        if entry.modifier and nxt is not None and nxt.group(1) in _SERIES_NOUNS:
            # "a Mario Kart race", "a Star Wars poster": the series' look before the noun
            analysis.found.append(Name(surface, "copyright", entry.modifier, entry.source, entry.modifier_variants))
            return left, entry.modifier, 0
        opening = not (analysis.before + left).strip() or (analysis.before + left).rstrip().endswith((".", "(", "["))
        if entry.modifier and opening and re.match(r"\s+(?:[a-z]+ing|in|on|at|with|under|inside|near|by)\b", right):
            # "Rick and Morty in a spaceship": the series is the sentence's subject, its characters are meant
            replacement = f"{entry.modifier} characters"
            analysis.found.append(Name(surface, "copyright", replacement, entry.source))
            return left, replacement, 0
        return self._drop(left, surface, right, "copyright", entry, analysis)

    @staticmethod
    def _uncoloured(replacement: str, analysis: Analysis) -> str:
        """``replacement`` (the last name's) and its recorded variants without their colours."""
        said = without_any_colour(replacement) or replacement
        _recorded_as(analysis, replacement, said, without_any_colour)
        return said

    def _description(self, entry: NameEntry, analysis: Analysis, *, gender: bool = True) -> tuple[str, tuple[str, ...]]:
        """A noun phrase for ``entry`` that fits the prompt, and its consistent variants."""
        label = entry.label
        generic = entry.generic
        if generic and label in ("person", "character", "artwork"):
            generic = fix_articles(fit_phrase(generic, analysis.cues))
        if not generic and label in ("person", "character"):
            cue = analysis.cues.gender
            if label == "character" and (analysis.anime or entry.source in ("tagcomplete", "series")):
                generic = _ANIME_NEUTRAL[cue]
            else:
                generic = _NEUTRAL[(label, cue)]
        if not generic and label == "artwork":
            generic = "a painting"
        fitted = [fix_articles(fit_phrase(v, analysis.cues)) for v in entry.variants]
        sex = ""
        if gender and entry.generic and label in ("person", "character"):
            # "a powerful tennis player with braided hair": whoever the descriptions (or the given name) say she is,
            # every one of them says it, or the picture may show a man
            sex = gender_of((entry.generic, *entry.variants)) or _given_gender(entry.name)
            said = gendered(generic, sex)
            if said != generic or _classed(generic, sex) != generic:
                # the description says it (or now does): so do its variants ("a mustachioed plumber" says it
                # its own way, and so may they)
                generic, fitted = said, [gendered(v, sex) for v in fitted]
        variants = tuple(v for v in fitted if v and consistent(_classed(v, sex), _classed(generic, sex)))
        return generic, variants

    def _render_style(
        self, left: str, right: str, base: int, surface: str, by: re.Match[str], entry: NameEntry, analysis: Analysis
    ) -> tuple[str, str, int]:
        """``by X`` / ``in the style of X`` / ``painted by X``: the name becomes a style description; an
        unknown name is dropped with its ``by`` (nothing is invented)."""
        style, variants, label = "", entry.variants, entry.label
        if entry.label in _STYLE_LABELS and entry.generic:
            style = entry.generic
        elif entry.modifier and entry.source == "table":
            style, variants, label = f"{entry.modifier} style", (), "artist"
        if label not in _STYLE_LABELS:
            label = "artist"
        start = base + by.start()
        context = by.group(0).lower()
        verb = (by.group("verb") or "").strip().lower()
        noun = (by.group("noun") or "").strip().lower()
        if style and variants:
            # "a gas station at night, by Crewdson": never "twilight photography"; "tempera, by Wyeth": never
            # "drybrush watercolor" (while one fits)
            fitting = [v for v in (style, *variants) if not clashes_with_scene(v, analysis.cues)]
            if fitting:
                style, variants = fitting[0], tuple(fitting[1:])
        if style and variants:  # "…, woodblock print, by Hiroshige": not "ukiyo-e woodblock print …, woodblock print"
            style, variants = _least_said(style, variants, analysis.before + left[:start] + " " + right)
        if not style:
            analysis.found.append(Name(surface, label, "", entry.source))
            if " of " in context or context.startswith(("inspired", "à")) or context.strip().startswith("in"):
                return _strip_dangling(left[:start]), "", 0
            medium = _MEDIUM_OF_VERB.get(verb, "")
            if medium and not noun and re.match(r"\s*(?:[,.;)\]}|]|$|BREAK\b|AND\b)", right):
                # "a windmill painted by <unknown>": what it is made as stays, the name goes ("a windmill, painting")
                head = _strip_dangling(left[:start]).rstrip()
                said = re.search(rf"\b{medium[:5]}", (analysis.before + head).lower()) is not None
                if said or not head:
                    return (head + " ") if head and not said else _strip_dangling(left[:start]), "", 0
                glue = " " if head.endswith((",", "(", "[", ":", "|")) else ", "
                return head + glue + medium, "", 0
            keep = (
                f"{verb} "
                if verb and verb not in ("painted", "drawn", "illustrated", "made", "done", "created")
                else ""
            )
            kept_noun = f"{noun} " if noun else ""
            return _strip_dangling(left[:start] + kept_noun + keep if (kept_noun or keep) else left[:start]), "", 0
        ends_in_style = re.search(r"\bstyles?\b", style.lower()) is not None  # "… film style with soft …" too
        if " of " in context or verb == "inspired" or context.startswith(("inspired", "à")):
            head, replacement = left, style  # "in the style of X" -> "in the style of <style>"
            if ends_in_style and " of " in context:  # not "in the style of painterly style"
                head = left[:start] + f"in {_article(style)} "
            elif " of " in context and not verb:  # "in the style of a painterly animated film still …"
                replacement = _counted_style(style)
                variants = tuple(_counted_style(v) for v in variants)
        elif verb:
            lead = left[:start] + (f"{noun} " if noun else "")
            how = f"in {_article(style)} " if ends_in_style else "in the style of "
            head, replacement = lead + f"{verb} {how}", style
        else:
            head = left[:start]
            preceding = (analysis.before + head).rstrip()
            if preceding and not preceding.endswith((",", "(", "[", ":", "|")):
                head = head.rstrip() + ", "  # "Nighthawks by Hopper" -> "<the artwork>, <the style>"
            replacement = style
            content = [w for w in noun.split() if w not in ("art", "artwork", "work", "works")]

            def says_noun(text: str) -> str:  # "concept art by X" -> "<style>, concept art"
                return text if all(w in text.split() for w in content) else f"{text}, {noun}"

            if content:  # the user's own "fantasy illustration" stays in every variant, said once
                replacement = says_noun(style)
                saying = tuple(v for v in variants if says_noun(v) == v)
                variants = saying if saying else tuple(says_noun(v) for v in variants)
        analysis.found.append(Name(surface, label, replacement, entry.source, variants))
        return head, replacement, 0

    def _render_tag(
        self, left: str, surface: str, right: str, f: _Found, analysis: Analysis
    ) -> tuple[str, str, int] | None:
        """A name in a tag prompt becomes tags: a character its look (``aqua hair, twintails``), an artist
        its style tags, a copyright nothing. None when the name sits inside a sentence-like tag (then the
        natural-language rendering applies)."""
        entry = f.entry
        label = entry.label
        tag_start = max(left.rfind(","), left.rfind("|"), left.rfind("("), left.rfind("["))
        lead = left[tag_start + 1 :]
        tag_end_m = re.search(r"[,|)\]]", right)
        rest = right[: tag_end_m.start()] if tag_end_m else right
        prefix = re.fullmatch(r"\s*(?:(?:art\s+|drawn\s+|painted\s+)?by\s+|artist:\s*)?", lead, re.IGNORECASE)
        if prefix is None:
            return None  # the name is not at the start of its tag: "holding miku plush"
        rest_words = rest.strip()
        # danbooru writes a title's subtitle between tildes: "kaguya-sama wa kokurasetai ~tensai-tachi no …~"
        tilde = label == "copyright" and re.fullmatch(r"~[^~]{1,80}~", rest_words) is not None
        if rest_words and not tilde and not re.fullmatch(r"(?:['’]s\s+)?[\w\- ]{1,40}", rest_words):
            return None
        keep_left = left[: tag_start + 1] + (" " if tag_start >= 0 and lead[:1].isspace() else "")
        by = bool(prefix.group(0).strip())
        if label in ("copyright", "general"):
            subtitle = tilde or (
                rest_words and len(rest_words.split()) <= 4 and normalise_form(rest_words) not in tables.general_tags()
            )
            if rest_words and not _STYLE_AFTER.match(rest) and not subtitle:
                tags: list[str] = []  # "genshin impact uniform": the series goes, the uniform stays
            else:  # the tag, or a title with its subtitle ("fire emblem fates", "persona 5 royal"), goes
                analysis.found.append(Name(surface, label, "", entry.source))
                return keep_left, "", len(rest)
        elif label in _STYLE_LABELS or by:
            tags = fit_tags(entry.tags, analysis.cues) if entry.tags else []
            tags = [t for t in tags if normalise_form(t) not in analysis.emitted]
            if not tags and entry.generic and entry.label in _STYLE_LABELS:
                tags = [entry.generic]
            if rest_words and _STYLE_AFTER.match(rest):
                rest = ""  # "ghibli style" -> the style tags themselves
        elif entry.tags:
            if entry.name in analysis.described:  # "artoria pendragon \(fate\), saber": one character, once
                tags = []
            else:
                tags = [
                    t for t in fit_tags(entry.tags, analysis.cues, surface) if normalise_form(t) not in analysis.emitted
                ]
                if not tags and analysis.in_weight and entry.label == "item":
                    tags = list(entry.tags)  # "(jack-o' challenge:1.2)": the weight keeps what it weighs
        elif label in ("person", "character", "item") and not entry.generic:
            tags = []  # an unknown character or thing of a tag prompt: its tag goes, the user's other tags stay
        elif label in ("person", "character"):
            # a known person without tags: the words of the description, as tags ("busty blonde woman, twin low
            # pigtails, green jacket"): a tag prompt is read, and shuffled, one tag at a time
            if entry.name in analysis.described:
                tags = []
            else:
                phrase = fit_phrase(entry.generic, analysis.cues)
                tags = [
                    t
                    for t in fit_tags(_phrase_tags(phrase), analysis.cues)
                    if normalise_form(t) not in analysis.emitted
                ]
                if not tags:
                    return None
        else:
            tags = [_strip_article(entry.generic)] if entry.generic else []
        rest_tag = rest.strip()
        if rest_tag.startswith(("'s", "’s")):
            rest_tag = rest_tag[2:].strip()
        replacement = ", ".join([*tags, rest_tag] if rest_tag else tags)
        variants = _tag_variants(tags, rest_tag, surface) if tags else ()
        analysis.described.add(entry.name)
        analysis.emitted.update(normalise_form(t) for t in tags)
        analysis.found.append(Name(surface, label, replacement, entry.source, variants))
        return keep_left, replacement, len(rest)


_PHRASE_PARTS = re.compile(r",\s*|\s+(?:with|and|in|wearing|who|that)\s+|\s+(?=holding\s)")
# Two colours of one thing ("pigtails dyed pink and blue"): one tag, never "…, blue".
_COLOUR_PAIR = re.compile(rf"\b({COLOUR})\s+and\s+({COLOUR})\b", re.IGNORECASE)


def _phrase_tags(phrase: str) -> list[str]:
    """A description phrase as tags: "a busty blonde woman with twin low pigtails and a green jacket" ->
    ["busty blonde woman", "twin low pigtails", "green jacket"] (articles go; "on her forehead" stays with its
    part). [] when a part is no short noun phrase (a clause the split would break)."""
    tags = []
    for piece in _PHRASE_PARTS.split(_COLOUR_PAIR.sub(r"\1-and-\2", phrase)):
        part = re.sub(r"^(?:a|an|the|some|his|her|their)\s+", "", piece.strip(" .;"), flags=re.IGNORECASE).strip()
        if not part:
            continue
        if len(part.split()) > 6 or re.search(r"\b(?:is|are|was|were|has|have)\b", part):
            return []
        tags.append(part)
    return tags


# Japanese particles: a tag of several foreign words held together by them is a title ("… no … wa …").
_PARTICLES = frozenset("no wa ga wo ni de mo to ka".split())


def _named_after(tag: str, surfaces: Sequence[str], analysis: Analysis) -> str | None:
    """``tag`` said without the words it shares with a name found in the prompt (``surfaces``), when what is left
    is an English thing ("hakurei shrine" beside "hakurei reimu" → "shrine"; "jujutsu tech uniform" beside
    "jujutsu kaisen" → "uniform"); "" when the prompt says that thing already; None for a tag that shares no
    name's word. A word of a name that is an English word counts only before an outfit ("star butterfly" says
    nothing of "butterfly wings")."""
    if "\\" in tag or any(ch in tag for ch in "()[]<>{}:|"):
        return None
    words = normalise_form(tag).split()
    if len(words) < 2:
        return None
    named = {
        w
        for surface in surfaces
        for w in normalise_form(re.sub(r"\\?\(.*?\\?\)", " ", surface)).split()
        if len(w) >= 4 and w.isalpha() and w not in tables.general_tags() and not is_protected_word(w)
    }
    outfit = len(words) >= 3 and words[-1] in _NAMED_OUTFITS
    shared = [k for k, w in enumerate(words) if w in named and (not is_english_word(w) or outfit)]
    rest = words[max(shared) + 1 :] if shared else []
    if not rest or not all(is_english_word(w) and w not in named for w in rest):
        return None
    said = " ".join(rest)
    if outfit and said not in tables.general_tags():
        said = _general_suffix(rest) or rest[-1]
    return "" if said in analysis.cues.tags else said


def _general_suffix(words: Sequence[str]) -> str:
    """The longest run of last ``words`` that is a general tag ("school uniform" of "tracen school uniform"), or ""."""
    return next((" ".join(words[i:]) for i in range(len(words)) if " ".join(words[i:]) in tables.general_tags()), "")


# "… from One-Punch Man", "… from the Legend of Zelda": the capitalised title said after a name.
_FROM_SERIES = re.compile(r"\s+from\s+(?:the\s+)?((?:[A-Z0-9][\w'’:!\-]*(?:\s+|$)){1,5})")


def _other_series(entry: NameEntry, after: str) -> bool:
    """Whether the series in the escaped brackets right ``after`` a name ("fubuki \\(one-punch man\\)") is none of
    the series the table's entry names in its forms ("fubuki (kancolle)"): another character of the same name."""
    m = re.match(r"\s*\\\((.+?)\\\)", after)
    if m is None:
        return False
    theirs = _entry_series(entry)
    return bool(theirs) and normalise_form(m.group(1)) not in theirs


def _entry_series(entry: NameEntry) -> set[str]:
    """The series a table entry's forms name in brackets ("fubuki (kancolle)" → {"kancolle"})."""
    return {normalise_form(q) for f in entry.forms() for q in re.findall(r"\((.+?)\)", f)}


def _english_or_compound(word: str) -> bool:
    """An English word, or two run together ("sweatdrop", "highleg", "legwear"): not a name."""
    low = word.lower().strip("'’")
    if is_english_word(low) or not low.isalpha():
        return True
    return any(is_english_word(low[:i]) and is_english_word(low[i:]) for i in range(3, len(low) - 2) if len(low) >= 6)


_DERIVING_PREFIXES = (
    "de", "un", "re", "over", "under", "non", "semi", "hyper", "ultra", "multi", "pre", "post", "anti", "sub",
    "super", "mis", "out", "micro", "macro", "mono", "poly", "neo", "retro",
)  # fmt: skip
_DERIVING_SUFFIXES = ("y", "ey", "ish", "ic", "ical", "esque", "like", "core", "punk", "wave", "ware")


def _name_like_word(word: str) -> bool:
    """Whether an unknown word before "style"/"aesthetic"/"lighting" can be a studio's or artist's name: not
    an English word, two run together ("cottagecore") or one derived ("witchy", "gothic"), not an acronym
    ("VHS", "rgb": all capitals, or no vowel)."""
    low = word.lower()
    if _english_or_compound(word) or (word.isupper() and len(word) <= 5) or not re.search(r"[aeiouy]", low):
        return False
    for prefix in _DERIVING_PREFIXES:  # "desaturated", "overexposed", "ultrawide": English words, prefixed
        rest = low[len(prefix) :]
        if low.startswith(prefix) and len(rest) >= 4 and _english_or_compound(rest):
            return False
    for suffix in _DERIVING_SUFFIXES:
        stem = low[: -len(suffix)]
        if (
            low.endswith(suffix)
            and len(stem) >= 3
            and (
                is_english_word(stem)
                or is_english_word(stem + "e")
                or (stem[-1] == stem[-2] and is_english_word(stem[:-1]))
            )
        ):
            return False
    return True


def _says_how(words: str) -> bool:
    """Whether the words after a tag's "by" describe a thing rather than name someone: a colour, number, age or
    gender word first, or a word the lexicon knows as an adjective before an English noun ("gloomy lake")."""
    first, *rest = words.split()
    if first in _KEPT_WORDS:
        return True
    adjective = any("JJ" in e.tags for e in senses().get(first, ()))
    return adjective and bool(rest) and all(is_english_word(w) for w in rest)


_UNKNOWN_OWNER = re.compile(
    r"(?<![\w'’])(?P<who>(?!(?:My|Our|His|Her|Their|Its|Your|The|A|An|This|That)\b)[A-Z][\w.\-]*"
    r"(?:\s+(?:de|da|van|von|del|di|le|la)?\s*[A-Z][\w.\-]*){0,3})['’]s\s+$"
)


def _without_word(modifier: str, word: str) -> str:
    """``modifier`` without ``word`` (or its plural) among its words, hyphenated ones too: "tomato-ketchup" before
    "ketchup" is "tomato"."""
    low = word.lower()

    def same(part: str) -> bool:  # "bottled" says "bottle" again
        p = part.lower()
        return p in (low, low + "s", low.removesuffix("s")) or (len(low) >= 5 and p.startswith(low[:5]))

    parts = ["-".join(p for p in w.split("-") if not same(p)) for w in modifier.split()]
    return " ".join(p for p in parts if p)


# A colour the user gave the thing a name stands for, right before the name: "a blue Ducati", "red and white Vans".
_COLOUR_BEFORE = re.compile(rf"\b{COLOUR}(?:[\s\-]+(?:and|&)[\s\-]+[a-z]+)?\s+$", re.IGNORECASE)


def _without_said_tail(replacement: str, right: str, analysis: Analysis) -> str:
    """``in the style of J.M.W. Turner, hazy golden light``: a description ending in what the user's next items
    say ("… seascape with hazy golden light") ends before it, so the user's words stay the user's (a variant of
    the description never takes them away) and nothing is said twice. The recorded name says the same."""
    m = re.search(r"\s+(?:with|and|in|under)\s+([^,()]+)$", replacement)
    if m is None or not re.match(r"\s*,\s*[^,]*?(?<![\w-])" + re.escape(m.group(1).strip()) + r"\s*(?:,|$)", right):
        return replacement
    trimmed = replacement[: m.start()]
    _recorded_as(analysis, replacement, trimmed)
    return trimmed


def _recorded_as(analysis: Analysis, replacement: str, said: str, variants: Callable[[str], str] | None = None) -> None:
    """The last name recorded with ``replacement`` now says ``said`` (and each of its variants ``variants(v)``,
    those left empty or saying ``said`` gone): the record says what the prompt now says."""
    for k in range(len(analysis.found) - 1, -1, -1):
        name = analysis.found[k]
        if name.replacement == replacement:
            kept = name.variants
            if variants is not None:
                kept = tuple(dict.fromkeys(v for v in map(variants, name.variants) if v and v != said))
            analysis.found[k] = replace(name, replacement=said, variants=kept)
            return


# A word made of Japanese syllables only (Hepburn romanisation): "dojo", "onsen", "tatami", "kantoku".
_ROMAJI = re.compile(r"(?:(?:[kgsztdnhbpmrwfj]|sh|ch|ts|[kgnhbpmr]y|j)?[aeiou]|n(?![aeiouy]))+", re.IGNORECASE)


def _artist_slot(text: str, end: int, analysis: Analysis) -> bool:
    """Whether the tag ending at ``end`` closes the prompt (nothing but spaces and commas after it, in this leaf
    and after it), where a tag prompt puts its artist, in a prompt with no LoRA (whose trigger word may close a
    prompt too)."""
    if text[end:].strip(" ,\n") or analysis.after.strip(" ,\n"):
        return False
    return "<" not in analysis.prior + text


def _character_slot(text: str, start: int, found: list[_Found], analysis: Analysis) -> bool:
    """Whether the tag at ``start`` stands where a tag prompt names its characters (danbooru's order, which
    trainers' captions keep): after nothing but quality, rating and count tags and other names ("1girl, solo,
    palutena"), so a single unknown word there is a name, and elsewhere more likely a thing ("hanfu"). The
    prompt's text before this leaf (:attr:`Analysis.prior`) counts too."""
    offset = len(analysis.prior)
    full = analysis.prior + text
    said = [normalise_form(n.text) for n in analysis.found if n.text.strip()]
    for s, e in _tag_spans(full[: start + offset]):
        tag = full[s:e].strip()
        lead = s + len(full[s:e]) - len(full[s:e].lstrip()) - offset
        if not tag or any(f.start <= lead < f.end for f in found):
            continue
        if any(n and n in normalise_form(tag) for n in said):
            continue  # a name of an earlier leaf ("tsunade \(naruto\)")
        if tag.startswith("<"):
            continue  # a LoRA tag
        inner = re.sub(r"^[(\[]+|(?::\s*[-+]?[\d.]+)?[)\]]+$", "", tag).strip()  # "(masterpiece:1.2)"
        words = _WORD.findall(inner)
        if is_trained_tag(inner) or (words and all(is_protected_word(w) or w.lower() in _SOLO_WORDS for w in words)):
            continue
        return False
    return True


_PRIOR = 600  # how much of the prompt before a leaf is read for where it stands
_SOLO_WORDS = frozenset("solo solo_focus duo trio group multiple".split())


def _acting(word: str) -> bool:
    """An English -ing verb ("holding", "wearing"): what opens a tag that says what someone does."""
    return word.lower().endswith("ing") and is_english_word(word)


def _object_of_action(text: str, start: int) -> bool:
    """Whether the word at ``start`` follows an English -ing verb opening its tag ("holding bokken",
    "eating dango"): the thing the verb takes, not a person."""
    lo = max(text.rfind(",", 0, start), text.rfind("(", 0, start), text.rfind("|", 0, start)) + 1
    lead = text[lo:start].split()
    return bool(lead) and _acting(lead[0])


def _emptied(old: Group, new: Group) -> bool:
    """Whether a bracket group (emphasis, alternation or weight) lost all its words: ``(lazypos:0.9)`` or
    ``(artist:hews:0.8)`` with the name gone is no ``(:0.9)`` (a weight of nothing), it goes whole."""

    def words(g: Group) -> str:
        text = "".join(c.source if not isinstance(c, Group) else words(c) for c in g.children)
        return re.sub(r":\s*[-+]?(?:\d+\.?\d*|\.\d+)\s*$", "", text) if g.kind == "weight" else text

    return (
        old.kind in ("emphasis", "deemphasis", "alternate", "weight")
        and re.search(r"\w", words(old)) is not None
        and re.search(r"\w", words(new)) is None
    )


def _drop_list_glue(out: list[Any], segments: list[Any], i: int) -> None:
    """Remove the comma that joined a dropped group to the list: the one before it, or else the one after it."""
    prev = out[-1] if out else None
    nxt = segments[i + 1] if i + 1 < len(segments) else None
    if isinstance(prev, Text) and prev.text.rstrip().endswith(","):
        if nxt is None or isinstance(nxt, Separator) or (isinstance(nxt, Text) and re.match(r"\s*,", nxt.text)):
            out[-1] = Text(prev.text.rstrip()[:-1].rstrip())
    elif (prev is None or isinstance(prev, Separator)) and isinstance(nxt, Text) and re.match(r"\s*,", nxt.text):
        segments[i + 1] = Text(re.sub(r"^\s*,\s*", "", nxt.text))


def _hyphen_piece(tok: Any) -> bool:
    """Whether a spaCy token is one piece of a hyphenated word ("Pre" of "Pre-Raphaelite")."""
    doc = tok.doc
    after = tok.i + 1 < len(doc) and not tok.whitespace_ and doc[tok.i + 1].text == "-"
    before = tok.i > 0 and doc[tok.i - 1].text == "-" and not doc[tok.i - 1].whitespace_
    return after or before


# Abbreviations that end a name ("Super Mario Bros.", "Martin Luther King Jr."): their full stop is the name's.
_ABBREVIATED = re.compile(r"\b(?:bros|jr|sr|inc|co|ltd|vol)$", re.IGNORECASE)

# What dresses the whole figure: the prompt's own one replaces a description's ("in a feather dress").
_OUTFITS = frozenset(
    "dress gown outfit robe robes kimono suit costume uniform armor armour tracksuit jumpsuit bodysuit".split()
)

# Bodies of the sky spaCy may read as a person or a place: the thing itself in a picture.
_CELESTIAL = frozenset("earth moon sun mars venus jupiter saturn neptune uranus pluto".split())

# "painted by <unknown artist>": the medium the verb says, kept as a noun when the name goes.
_MEDIUM_OF_VERB = {
    "painted": "painting",
    "drawn": "drawing",
    "sketched": "sketch",
    "illustrated": "illustration",
    "photographed": "photograph",
    "etched": "etching",
    "engraved": "engraving",
    "inked": "ink drawing",
    "sculpted": "sculpture",
    "carved": "carving",
}

# Surname particles: lower-case words inside a name ("Jacob van Ruisdael", "Anthony van Dyck", "Leonardo da Vinci").
_NAME_PARTICLES = frozenset("van von der den de da di du del della des la le ter ten zu dos das y".split())


def _after_particles(text: str, words: list[re.Match[str]], j: int) -> int:
    """The index after ``words[j:]``'s surname particles and the capitalised surname they lead to, or ``j`` when
    ``words[j]`` starts no such run ("van" alone, "de" before a lower-case word)."""
    k = j
    while k < len(words) and k - j < 3 and words[k].group() in _NAME_PARTICLES:
        if not re.fullmatch(r"\s+", text[words[k].end() : words[k + 1].start()] if k + 1 < len(words) else ","):
            return j
        k += 1
    if k == j or k >= len(words):
        return j
    surname = words[k].group()
    if not surname[:1].isupper() or is_protected_word(surname):
        return j
    return k + 1


def _with_surname(text: str, words: list[re.Match[str]], i: int) -> int:
    """The end of the name starting at ``words[i]``: one capitalised non-English word right after it is its
    surname ("my daughter Hope Kowalski")."""
    j = i + 1
    nxt = words[j].group() if j < len(words) else ""
    if nxt[:1].isupper() and not is_english_word(nxt) and re.fullmatch(r"\s+", text[words[i].end() : words[j].start()]):
        return words[j].end()
    return words[i].end()


_UNESCAPED_OUT = re.compile(r"\\\(\x00(?P<words>[^\x00]*)\x00\\\)")
_MORE_QUALIFIERS = re.compile(r"(?:\s*\\\([^\\()]{1,60}\\\))+")
_SERIES_IN = re.compile(r"\\\((?P<series>[^\\()]{1,60})\\\)\s*$")


def _tag_variants(tags: list[str], rest: str, seed_text: str) -> tuple[str, ...]:
    """Consistent alternatives to a tag description: the same first tags (what makes the look) with fewer of
    the others, so no alternative says anything the full description does not."""
    if len(tags) < 3:
        return ()
    rng = random.Random(seed_text)
    core = tags[:2]
    others = tags[2:]
    out: list[str] = []
    for k in range(len(others) - 1, -1, -1):
        pick = sorted(rng.sample(range(len(others)), k))
        chosen = core + [others[p] for p in pick]
        text = ", ".join([*chosen, rest] if rest else chosen)
        if text not in out:
            out.append(text)
        if len(out) >= 3:
            break
    return tuple(out)


# What a variant may not say unless its replacement says it: the validator rejects such a candidate anyway.
_KEPT_WORDS = AGE_WORDS | FEMALE_WORDS | MALE_WORDS | NUMBER_WORDS | COLOUR_WORDS | STRICT_DIRECTIONS


def consistent(variant: str, replacement: str) -> bool:
    """Whether ``variant`` says nothing about age, gender, number, colour or direction that ``replacement``
    does not ("a tall man" is no variant of "a tall sorcerer with a blindfold")."""

    def kept(text: str) -> set[str]:
        words = re.findall(r"[a-z0-9+]+", text.lower().replace("-", " "))
        return {SAME_COLOUR.get(w, w) for w in words if w in _KEPT_WORDS}

    return variant != replacement and kept(variant) <= kept(replacement)


def _least_said(style: str, variants: tuple[str, ...], prompt: str) -> tuple[str, tuple[str, ...]]:
    """The style descriptions that repeat fewest of the prompt's own words, at least :data:`_STYLES_KEPT` of them
    (the first leads): a description that says "woodblock print" or "baroque" beside the user's own says it
    twice."""

    def stems(text: str) -> set[str]:  # "photo" and "photograph", "print" and "prints" say the same thing
        return {w[:5] for w in re.findall(r"[a-z][a-z\-]{3,}", text.lower()) if w not in _STYLE_GLUE}

    own = stems(prompt)

    def repeats(text: str) -> int:
        return len(own & stems(text))

    ranked = sorted((style, *variants), key=repeats)  # stable: the table's order among equals
    least = repeats(ranked[0])
    kept = [t for t in ranked if repeats(t) == least] or ranked
    kept += [t for t in ranked if t not in kept][: max(0, _STYLES_KEPT - len(kept))]  # a few to vary
    return kept[0], tuple(kept[1:])


_STYLES_KEPT = 3


# Words every style description may share with a prompt without saying anything twice.
_STYLE_GLUE = frozenset("with and style styled look".split())


def _comma_after(right: str) -> int:
    m = re.match(r"\s*,", right)
    return m.end() if m else 0


def _strip_dangling(text: str) -> str:
    """``a lighthouse, `` / ``a heron, in`` after a dropped style: no dangling comma or preposition."""
    return re.sub(r"(?:\s*\b(?:in|by|of|with|and)\b)?\s*,?\s*$", "", text)


def _trim_like(old: str, new: str) -> str:
    """``new`` without a leading or trailing comma that ``old`` did not have (a dropped first or last tag)."""
    if new.strip().startswith(",") and not old.strip().startswith(","):
        new = old[: len(old) - len(old.lstrip())] + new.lstrip()[1:].lstrip()
    if new.strip().endswith(",") and not old.strip().endswith(","):
        new = new.rstrip()[:-1].rstrip() + old[len(old.rstrip()) :]
    return new


def _items(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


@lru_cache(maxsize=1)
def _GENERAL_HEADS() -> frozenset[str]:  # noqa: N802 - a constant, computed once
    """The last words of the built-in general tags ("hair", "field", "ears"): what a general tag ends in."""
    return frozenset(t.split()[-1] for t in tables.general_tags() if t.split())


def _next_char(segments: Iterable[Any], *, last: bool = False) -> str:
    """The first character that is no space in ``segments`` (read from the end when ``last``), or ``""``: what
    stands next to a weight, looked up without joining the whole prompt."""
    for seg in segments:
        text = seg.source.rstrip() if last else seg.source.lstrip()
        if text:
            return text[-1] if last else text[0]
    return ""


def _tag_spans(text: str) -> Iterable[tuple[int, int]]:
    """The stripped comma-separated items of ``text``."""
    for m in re.finditer(r"[^,|]+", text):
        lead = len(m.group(0)) - len(m.group(0).lstrip())
        body = m.group(0).strip()
        if body:
            yield m.start() + lead, m.start() + lead + len(body)


def _ner_pieces(text: str) -> list[str]:
    """What spaCy reads of a prompt: at most :data:`NER_MAX_CHARS` characters, in pieces cut at commas, with
    long runs without spaces (``<<<<…``, base64) blanked (spaCy's tokenizer is quadratic in a token's length)."""
    text = _ner_text(re.sub(r"\S{48,}", " ", text[:NER_MAX_CHARS]))
    if len(text) <= _NER_PIECE:
        return [text]
    pieces = []
    pos = 0
    while pos < len(text):
        end = min(len(text), pos + _NER_PIECE)
        if end < len(text):
            cut = max(text.rfind(",", pos, end), text.rfind(".", pos, end))
            if cut <= pos:
                cut = text.rfind(" ", pos, end)
            end = cut + 1 if cut > pos else end
        pieces.append(text[pos:end])
        pos = end
    return pieces


# What spaCy must not read as words: "<lora:x:1>" (the words inside are never names), wildcards, choice and
# schedule brackets; BREAK/AND are separators ("lora x:1>BREAK Tom" was one PERSON, "|Sarah" one token).
_NER_BLANK = re.compile(r"<[^<>]*>?|__[^_\s]+(?:/[^_\s]+)*__|[\[\]{}]")
_NER_APART = re.compile(r"\s*\|\s*|(?<=[A-Za-z]):(?=[A-Za-z])")  # "{Sarah|Emma}", "[Sarah:Emma:5]": two names
_NER_KEYWORD = re.compile(r"(?<![A-Za-z])(?:BREAK|AND)(?![A-Za-z])")


def _ner_text(text: str) -> str:
    """``text`` as spaCy should read it: WebUI syntax blanked, BREAK/AND read as commas, spaces squeezed."""
    if not any(c in text for c in "<_|[]{}:BA"):
        return text
    text = _NER_KEYWORD.sub(", ", _NER_APART.sub(", ", _NER_BLANK.sub(" ", text)))
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _reparse(text: str) -> list[Text | Atom | Group | Separator]:
    """Segments of a rewritten run: its text, and its escapes as atoms again (a replacement never writes
    syntax, so nothing else can appear)."""
    if not text:
        return []
    if "\\" not in text:
        return [Text(text)]
    out: list[Text | Atom | Group | Separator] = []
    for m in re.finditer(r"\\.|[^\\]+|\\", text, re.S):
        out.append(Atom("escape", m.group(0)) if len(m.group(0)) == 2 and m.group(0)[0] == "\\" else Text(m.group(0)))
    return out


def _merge(items: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if isinstance(item, Text) and out and isinstance(out[-1], Text):
            out[-1] = Text(out[-1].text + item.text)
        elif not (isinstance(item, Text) and not item.text):
            out.append(item)
    return out


def _outer_space(text: str) -> tuple[str, str, str]:
    m = re.match(r"^(\s*)(.*?)(\s*)$", text, re.S)
    assert m is not None
    return m.group(1), m.group(2), m.group(3)


def _name_case(word: str) -> str:
    low = word.lower()
    if low in _NON_NOUN_NEXT or low.endswith(("ing", "ed")) or not word[:1].isalpha():
        return word
    return word[:1].upper() + word[1:]


def _sentence_start(text: str, start: int) -> bool:
    """Whether ``start`` opens ``text`` or a sentence in it (where a capital says nothing about a name)."""
    head = text[:start].rstrip(" \t\"'([{")
    return not head or head[-1] in ".!?\n:"


def _says_a_kind(qualifier: str) -> bool:
    """Whether a normalised qualifier says what kind of thing its tag is ("weapon", "fruit"): its last word
    is a general qualifier, or the whole is a general tag."""
    words = qualifier.split()
    return bool(words) and (words[-1] in GENERAL_QUALIFIERS or qualifier in tables.general_tags())


_NAME_WORD_AFTER = re.compile(r"[ \t]+([A-Z][a-z][\w'\u2019-]*)")


def _whole_name_run(text: str, start: int, end: int) -> tuple[int, int]:
    """The span ``text[start:end]`` widened over the capitalised proper nouns right after it: a name the tag
    database knows by one word ("auguste") is written whole in a sentence ("by Auguste Rodin")."""
    nlp = get_nlp()
    while (m := _NAME_WORD_AFTER.match(text, end)) is not None:
        if is_english_word(m.group(1)):  # "Rodin" is in WordNet: the parse says whether it is a name here
            if nlp is None:
                break
            doc = nlp(text[start : m.end()])
            if not len(doc) or doc[-1].pos_ != "PROPN" or doc[-1].ent_type_ in ("NORP", "GPE", "LANGUAGE"):
                break  # "by Auguste Japanese style": a nationality, not the name's next word
        end = m.end()
    return start, end


def _name_position(text: str, start: int, end: int) -> bool:
    """Whether the word at ``text[start:end]``, also an ordinary noun, stands where a name does: capitalised,
    after no article or determiner, and at a sentence's start (where a capital says nothing) only doing what
    people do, with a possessive, or listed with another capitalised name ("Donkey and Shrek")."""
    if not text[start : start + 1].isupper() or _DETERMINER_BEFORE.search(text[max(0, start - 20) : start]):
        return False
    if not _sentence_start(text, start):
        return True
    right = text[end:]
    return bool(
        _PERSON_ACTS_AFTER.match(right) or re.match(r"['’]s\b", right) or re.match(r"\s*(?:,|&|\band\b)\s*[A-Z]", right)
    )


# What makes a name the subject of a sentence: doing something ("X sitting"; a verb-noun like "painting" only
# with its object: "X painting a self-portrait"), or shown ("a portrait of X").
_SUBJECT_AFTER = re.compile(
    r"(?::\s*-?\d*\.?\d+)?\)*\s+(?:(?!(?:painting|drawing|lighting|shading|rendering|etching|engraving|sketching|styling|coloring|"
    r"colouring|building|inking|clothing|setting)\b)[a-z]+ing\b|[a-z]+ing\s+(?:a|an|the|his|her|their|some)\b)",
)
_SHOWN_BEFORE = re.compile(
    r"\b(?:portrait|photo|photograph|picture|statue|bust|sculpture|caricature|selfie)\s+of\s+\(*$", re.IGNORECASE
)


def _subject(window: str, right: str) -> bool:
    return bool(_SUBJECT_AFTER.match(right) or _SHOWN_BEFORE.search(window))


def _given_gender(name: str) -> str:
    """``female``/``male`` from a name's given name alone (``""`` when the table does not know it)."""
    first = (normalise_form(name).split() or [""])[0]
    names = tables.first_names()
    return "female" if first in names["female"] else "male" if first in names["male"] else ""


def _classed(text: str, gender: str) -> str:
    """``text`` with its words of ``gender`` said as that gender ("a tall woman" → "a tall female"), so a
    description that says it as "woman" and one that says "female" agree."""
    if not gender:
        return text
    words = FEMALE_WORDS if gender == "female" else MALE_WORDS
    return re.sub(r"[A-Za-z0-9+]+", lambda m: gender if m.group(0).lower() in words else m.group(0), text)


def _gender(name: str, analysis: Analysis) -> str:
    """``female``/``male`` from a name's given name, else the prompt's cue (``""`` when it has none)."""
    first = (normalise_form(name).split() or [""])[0]
    names = tables.first_names()
    if first in names["female"]:
        return "female"
    if first in names["male"]:
        return "male"
    return analysis.cues.gender


# Nouns a style description may be one of: "in the style of a painterly film still", never "of painterly film still".
_COUNTED_STYLE_HEADS = frozenset(
    """still scene canvas painting portrait frame illustration print photo photograph drawing sketch poster image
    render woodcut engraving etching lithograph mural fresco panel tableau landscape seascape cityscape comic
    page spread cover shot snapshot picture poem film movie composition""".split()
)


def _counted_style(style: str) -> str:
    """``style`` with "a"/"an" when it names one countable work ("painterly animated film still with …")."""
    if re.match(r"(?:a|an|the)\s", style, re.IGNORECASE):
        return style
    head = re.split(r"\s+(?:with|of|in|and|from|by|on|under|against|where|that)\s+|,", style, maxsplit=1)[0]
    last = head.split()[-1].lower() if head.split() else ""
    return f"{_article(style)} {style}" if last in _COUNTED_STYLE_HEADS else style


def _unsaid(description: str, right: str) -> str:
    """``description`` without a phrase ("with a long nose", "in an orange jumpsuit") that the prompt says right
    after it: "a wooden puppet boy with a long nose with a long nose" says it twice."""
    follows = " ".join(right.split()).lower()
    acting = re.match(r"[a-z]+ing\s+([^,]+)", follows)  # "smoking a pipe in foggy london": what the name does
    if acting is not None:
        # "a lean detective ... with a pipe smoking a pipe": the prompt's own pipe, not the description's
        used = set(re.findall(r"[a-z]+", acting.group(1)))
        used |= {w + "s" for w in used} | {w + "es" for w in used}  # "with glowing vials holding a glowing vial"
        for m in _DESCRIPTION_PHRASE.finditer(description):
            if m.group("prep") in ("with", "holding") and _head_noun(m.group(0).partition(" ")[2]) in used:
                head, tail = description[: m.start()].rstrip(), description[m.end() :]
                listed = re.match(r",\s*|\s+and\s+", tail)
                if listed is not None:  # "a musician with a guitar and a relaxed smile" -> "… with a relaxed smile"
                    return re.sub(r"\s+", " ", f"{head} {m.group('prep')} {tail[listed.end() :]}").strip(" ,")
                return re.sub(r"\s+", " ", f"{head}{tail}").strip(" ,")
        # an item of the description's list: "a reggae singer with long dreadlocks and a guitar playing a guitar"
        for m in re.finditer(
            r"(,\s*|\s+and\s+)((?:a|an|the)\s+)?([a-z][\w-]*(?:\s+[a-z][\w-]*){0,2})(?=,|\s+and\s|$)", description
        ):
            if _head_noun(m.group(3)) not in used or not re.search(r"\bwith\b", description[: m.start()]):
                continue
            return re.sub(r"\s+", " ", _without_item(description, m)).strip(" ,")
        return description
    if not re.match(r"(?:with|in|wearing|holding)\s", follows):
        return description

    # the prompt's own first phrase ("with a long grey beard"): its preposition and the thing it names
    own = re.match(r"(with|in|wearing|holding)\s+(.+?)(?=,|\s+(?:and|with|in|wearing|holding|[a-z]+ing)\s|$)", follows)
    thing = re.split(r"\s+(?:made|covered|crafted|woven|of|from|that|which)\b", own.group(2))[0] if own else ""
    own_head = (own.group(1), _head_noun(thing)) if own is not None and _head_noun(thing) else None

    def said(phrase: str) -> bool:
        if re.match(_spelled(phrase.lower()) + r"(?![\w-])", follows) is not None:
            return True
        # "with a long gray beard" when the prompt says "with a white beard": the prompt's beard, not a second one
        prep, _, rest = phrase.partition(" ")
        if own_head is None:
            return False
        theirs = (prep.lower(), _head_noun(rest.lower()))
        if own_head == theirs:
            return True
        # "a singer with a swan dress" before the prompt's "in a dress made of feathers": one outfit, the prompt's
        worn = {own_head[0], theirs[0]} <= {"in", "wearing", "with"}
        return worn and (
            (own_head[1] == theirs[1] and own_head[1] in _OUTFITS)
            or (own_head[1] in _OUTFITS and theirs[1] in _OUTFITS)
        )

    for m in _DESCRIPTION_PHRASE.finditer(description):
        head, tail = description[: m.start()].rstrip(), description[m.end() :]
        whole = re.match(r"\s+and\s+.+?(?=,|\s+(?:with|in|wearing|holding)\s+|$)", tail)
        if whole is not None and said(m.group(0) + whole.group(0)):  # "in a red cap and blue overalls"
            return re.sub(r"\s+", " ", f"{head}{tail[whole.end() :]}").strip(" ,")
        if not said(m.group(0)):
            continue
        listed = re.match(r",\s*|\s+and\s+", tail)
        if listed is not None:  # "with A, B and C" -> "with B and C"
            rest = tail[listed.end() :]
            dropped = m.group(0)[len(m.group("prep")) :].split()
            nxt = re.match(r"([a-z][\w\-]*(?:\s+[a-z][\w\-]*)?)(?=,|\s+and\s|$)", rest)
            if dropped and dropped[0].lower() in ("a", "an") and nxt is not None and _countable(nxt.group(1)):
                rest = f"{'an' if rest[:1].lower() in 'aeiou' else 'a'} {rest}"  # "with a pointed hat and staff"
            return f"{head} {m.group('prep')} {rest}".strip()
        return re.sub(r"\s+", " ", f"{head}{tail}").strip(" ,")
    # an item of the description's list: "with A, <item> and C" -> "with A and C"
    item = re.match(r"(?:with|in|wearing|holding)\s+(.+?)(?=,|\s+(?:and|with|in|wearing|holding)\s+|$)", follows)
    if item is not None:
        listed = re.search(
            r"(,\s*|\s+and\s+)" + _spelled(item.group(1)) + r"(?=,|\s+and\s+|$)", description, re.IGNORECASE
        )
        if listed is not None:
            return _without_item(description, listed)
    return description


def _without_item(description: str, item: re.Match[str]) -> str:
    """``description`` without the list item ``item`` matched, whose group 1 is the comma or "and" before it:
    "with A, B and <item>" -> "with A and B"."""
    head, tail = description[: item.start()], description[item.end() :]
    if item.group(1).strip() == "and" and "," in head:
        cut = head.rindex(",")
        head = head[:cut] + " and " + head[cut + 1 :].lstrip()
    return f"{head}{tail}"


# Spellings of one word ("grey beard" is a "gray beard"): a description says it in either.
_SPELLINGS = (
    ("grey", "gray"),
    ("colour", "color"),
    ("armour", "armor"),
    ("moustache", "mustache"),
    ("jewellery", "jewelry"),
    ("centre", "center"),
    ("blonde", "blond"),
    ("greyish", "grayish"),
    ("coloured", "colored"),
)
_SPELLING = {w: f"(?:{a}|{b})" for a, b in _SPELLINGS for w in (a, b)}


# Words after which a brand or a setting said as a noun needs an article of its own ("at", "reading", "through").
_NEEDS_ARTICLE_BEFORE = re.compile(
    r"(?:^|\s)(?:at|in|into|inside|on|onto|of|from|through|across|near|by|beside|under|over|above|with|for|to|"
    r"towards?|around|outside|behind|beyond|within|like|as|[a-z]+ing)\s+$"
)
# A period's adjective before a place: "Victorian London", "Medieval Europe", "Elizabethan England".
_PERIOD_ENDINGS = ("ian", "an", "al", "ic", "ent", "ern")
# Art movements, architectural styles and periods: capitalised, spaCy may call them people or brands, but they
# say how a picture looks ("Art Deco hotel lobby", "Renaissance sfumato", "Dutch Golden Age technique").
_STYLE_TERMS = frozenset(
    (
        "art deco", "art nouveau", "brutalist", "brutalism", "renaissance", "high renaissance", "baroque", "rococo",
        "gothic", "neo-gothic", "bauhaus", "impressionism", "impressionist", "post-impressionism",
        "post-impressionist", "expressionism", "expressionist", "cubism", "cubist", "surrealism", "surrealist",
        "dada", "dadaism", "futurism", "futurist", "constructivism", "constructivist", "minimalism", "minimalist",
        "modernism", "modernist", "mid-century modern", "postmodern", "postmodernism", "pop art", "op art",
        "romanticism", "romantic", "neoclassical", "neoclassicism", "pre-raphaelite", "pointillism", "fauvism",
        "art brut", "de stijl", "belle epoque", "belle époque", "golden age", "dutch golden age", "victorian",
        "edwardian", "georgian", "tudor", "elizabethan", "regency", "byzantine", "romanesque", "ukiyo-e", "sumi-e",
        "streamline moderne", "memphis design", "vaporwave", "synthwave", "cyberpunk", "steampunk", "solarpunk",
        "dieselpunk", "biopunk", "art informel", "abstract expressionism", "photorealism", "hyperrealism", "realism",
        "naturalism", "tenebrism", "chiaroscuro", "sfumato", "japonisme", "chinoiserie", "americana", "flemish",
        "dutch", "italian renaissance", "northern renaissance", "old masters", "hudson river school",
        "manga", "manhwa", "manhua", "shoujo", "shojo", "shounen", "shonen", "seinen", "josei", "gekiga", "ukiyo",
        "kawaii", "chibi", "moe", "mecha", "isekai", "kaiju", "tokusatsu", "wuxia", "xianxia",
    )
)  # fmt: skip
_PERIOD_WORDS = frozenset(
    {"soviet", "feudal", "baroque", "renaissance", "gothic", "prehistoric", "futuristic", "medieval", "victorian"}
)
_PLACE_PREPOSITIONS = frozenset("over above across in near around through outside beyond at".split())


def _place_preposition(doc: Any, start: int) -> bool:
    """Whether the tokens before ``start`` are a place's preposition, an article and adjectives only:
    "in a stormy Gotham", "across the rain-soaked Zorbia" (spaCy's PERSON there is somewhere, not someone)."""
    i, adjectives = start - 1, 0
    while i >= 0 and (doc[i].tag_ in ("JJ", "JJR", "JJS", "VBN", "HYPH") or doc[i].text == "-") and adjectives < 5:
        i, adjectives = i - 1, adjectives + 1
    if adjectives == 0:
        return False
    if i >= 0 and doc[i].lower_ in ("a", "an", "the"):
        i -= 1
    return i >= 0 and doc[i].lower_ in _PLACE_PREPOSITIONS


_SIZE_WORDS = frozenset("tiny small little huge giant big large colossal massive enormous towering".split())
_AGE_WORDS = frozenset("young old elderly older younger aged aging ageing teenage youthful middle-aged".split())
# what a prompt's adjectives before a name say once for the whole phrase: its size, its age
_SAID_ONCE = (_SIZE_WORDS, _AGE_WORDS)


def _without_size(description: str, sized: set[str]) -> str:
    """``description`` without its own size (or age) words where the prompt gives one ("a tiny Totoro": not
    "huge"; "a young Queen Victoria": not "elderly")."""
    if not sized:
        return description
    words = description.split()
    # a size word that is the noun itself ("a forest giant with ...") stays
    kept = [
        w
        for i, w in enumerate(words)
        if w.lower() not in sized
        or w.endswith(",")
        or i + 1 == len(words)
        or words[i + 1].lower() in ("with", "in", "wearing", "holding", "and", "of")
    ]
    return " ".join(kept) or description


def _spelled(text: str) -> str:
    """A regex for ``text`` that takes either spelling of its words ("grey" or "gray")."""
    return "".join(_SPELLING.get(piece.lower(), re.escape(piece)) for piece in re.split(r"([A-Za-z]+)", text) if piece)


_MASS_NOUNS = frozenset(
    """hair fur skin makeup armor armour stubble clothing clothes gear jewelry jewellery lipstick eyeliner eyeshadow
    facepaint paint fabric leather silk lace denim""".split()
)


def _countable(item: str) -> bool:
    """Whether a bare list item ("pointed hat") takes "a" once the item before it is gone ("long hair" does not)."""
    words = item.lower().split()
    if not words or words[0] in ("a", "an", "the", "his", "her", "their", "its", "some", "two", "three"):
        return False
    return not (words[-1].endswith("s") or words[-1] in _MASS_NOUNS)


def _head_noun(phrase: str) -> str:
    """The thing a short phrase names ("a long grey beard" -> "gray beard"... its last word, one spelling)."""
    words = re.findall(r"[a-z][a-z\-]*", phrase.lower())
    if not words or len(words) > 5 or " and " in f" {phrase.lower()} ":
        return ""
    last = words[-1]
    return next((b for a, b in _SPELLINGS if last in (a, b)), last)


_DESCRIPTION_PHRASE = re.compile(
    r"\b(?P<prep>with|in|wearing|holding)\s+.+?(?=,|\s+(?:and|with|in|wearing|holding)\s+|$)"
)


def _modified(word: str) -> bool:
    """Whether ``word``, right after a capitalised ordinary word, is a noun it modifies ("Rose garden",
    "Amber light"), not what a name does ("Rose smiling", "Rose and Sam", "Rose in a dress")."""
    if word in _NON_NOUN_NEXT or word.endswith(("ing", "ed")):
        return False
    nouns = noun_lemmas()
    return word in nouns or (word.endswith("s") and word[:-1] in nouns)


def _plural(word: str) -> bool:
    """ "tails", "boots": a plural of a noun (its singular is a noun too)."""
    return word.endswith("s") and not word.endswith("ss") and word[:-1] in noun_lemmas()


def _given_names() -> frozenset[str]:
    names = tables.first_names()
    return names["female"] | names["male"] | names["neutral"]


_RE_REPEATED_ITEM = re.compile(r"(?<![^,\s])([^,\[\]()<>\\]+?)(?:\s*(?:,|\band\b)\s*\1)+(?=\s*(?:,|$))")


def _tidy(text: str, original: str = "") -> str:
    """Collapse spaces and empty comma items a replacement left behind, keep outer whitespace. An item
    repeated by replacements ("by A, by B" → one style twice) is said once; the user's own repetition
    ("cat, cat": emphasis) stays as written."""
    m = re.match(r"^(\s*)(.*?)(\s*)$", text, re.S)
    assert m is not None
    lead, body, trail = m.groups()
    body = squeeze(body)

    def once(rep: re.Match[str]) -> str:
        item = rep.group(1).strip()
        written = len(re.findall(r"(?<![\w])" + re.escape(item) + r"(?![\w])", original)) if item else 0
        return rep.group(0) if written >= 2 else rep.group(1)

    body = _RE_REPEATED_ITEM.sub(once, body)
    return lead + fix_articles(body) + trail
