"""Restate a prompt's sentences with new structure, keeping every word that draws the picture.

The rules backend gets its variety here, from the dependency parse (:func:`smoothie.prompt.nlp.parse`), not
from swapping nouns: the same subject, objects, settings and media, said another way.

* the subject phrase (:func:`restatements`): a participle ↔ a relative clause ↔ a full clause ("a woman
  laughing in a field" / "a woman who is laughing in a field" / "a woman is laughing in a field"); a
  with-phrase ↔ "who has" ↔ moved after the action; "a cat whose fur looks like a strawberry" ↔ "a cat with
  fur like a strawberry" ↔ "a cat with strawberry-like fur" ↔ "a cat, its fur looking like a strawberry"; a
  place or time fronted ("On a bridge in Prague, an elderly man …");
* the comma items after it (:func:`fold`): a medium becomes the head ("…, pencil sketch" → "a pencil sketch
  of …"), a time, a light or a setting joins the sentence ("…, golden hour" → "… at golden hour",
  "…, rainy street" → "… on a rainy street"), an object becomes a with-phrase ("…, 2 chess clocks on the
  table" → "…, with 2 chess clocks on the table").

Every restatement keeps the words of the phrase (and their order inside each constituent), so nouns, verbs,
colours and numbers survive; the engine's validator checks the result anyway. A phrase the parser reads in
an unexpected way gets no restatement rather than a wrong one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from smoothie.prompt.nlp import is_english_word, noun_lemmas, parse, verb_lemmas
from smoothie.prompt.text import article
from smoothie.prompt.thesaurus import alternatives, senses

# PH: a syntax placeholder in a noun's place; PHP / PHT: a name's description (a person / a thing)
NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS", "PH", "PHP", "PHT"})
_PLURAL_TAGS = frozenset({"NNS", "NNPS"})

# Prepositions of place and time a phrase can be fronted with ("On a bridge in Prague, …").
_FRONTABLE = frozenset(
    """in on at inside beneath under underneath near beside by behind outside across through among amid along
    around against atop within above below during over""".split()
)
# What a preposition may be said as and still open the phrase ("upon a ridge, …", "next to a lake, …").
_SAID_PREPS = frozenset("upon next close amidst".split())
_SURFACE_PREPS = frozenset("on onto upon atop into against".split())
_POSSESSIVES = frozenset("his her their its my our your".split())
# After a verb without an object these prepositions complete the action ("looking through a microscope",
# "staring at the sea", "walking across a bridge"): the phrase is not fronted away from its verb.
_BOUND_PREPS = frozenset("at through across against along around toward towards into onto over".split())
_LOOK_VERBS = frozenset(
    """looking look looks gazing gaze gazes staring stare stares peering peer peers glancing glance glances
    watching watch watches pointing point points smiling smiles waving waves""".split()
)

# Head nouns of people ("who" rather than "that"); words ending in -er/-ist/-ian/-man/-woman/-ess count too.
_PERSON_NOUNS = frozenset(
    """mechanic mechanics tailor nomad diplomat architect surgeon medic cadet prophet saint senator mayor sculptor
    janitor hermit vendor vendors tutor pilgrim pilgrims refugee refugees orc orcs goblin goblins chief deputy
    judge scout mercenary centurion pharaoh sultan shogun maid maids servant nanny twins
    someone somebody person people man men woman women girl girls boy boys child children kid kids lady ladies
    gentleman
    gentlemen guy guys baby babies toddler teen teenager adult adults couple family crowd friend friends
    knight knights samurai astronaut astronauts soldier soldiers wizard witch king queen prince princess
    bride groom monk nun priest pilot chef cook doctor nurse scientist student students teacher artist
    musician singer dancer athlete warrior warriors hero heroine villain detective cowboy cowgirl pirate
    pirates ninja ninjas viking vikings mermaid elf elves dwarf fairy vampire zombie cyborg android robot
    grandmother grandfather grandma grandpa mother father mom dad sister brother daughter son wife husband
    uncle aunt nephew niece cousin figure character trio duo quartet band team gymnast surfer skater
    skateboarder cyclist rider fisherman farmer blacksmith cashier clerk waiter waitress barista tourist
    traveler traveller hiker climber mage sorcerer sorceress enchantress spellcaster swordsman swordswoman
    gladiator emperor empress duke duchess lord goddess god angel demon creature vigilante crime-fighter superhero
    hero heroine sage celebrity icon star actor athlete player singer rapper president politician leader general
    officer spy agent assassin thief bandit hunter explorer adventurer scholar professor genius inventor physicist
    painter poet writer author monarch ruler noble nobleman noblewoman youth elder hobbit alien humanoid
    grandmaster captain sailor gentleman lady plumber warlord chancellor statesman aviator diva starlet geisha
    geishas maiko shaman jester bard shepherd sheriff clown mime pope cheerleader nurse ballerina blonde brunette
    quarterback conqueror cosmonaut host rebel tramp vagabond boss revolutionary guerrilla dandy aesthete pontiff
    socialite heartthrob bombshell troubadour idol guard champion official orator khan aristocrat entrepreneur
    playwright cleric narrator mogul billionaire tycoon magnate influencer streamer quintet sextet septet octet
    analyst legend grandson granddaughter grandchild grandkid stepson stepdaughter toddler newborn
    merchant peasant sergeant assistant attendant citizen civilian guest passenger shopkeeper
    villager""".split()
)
# Singular "persons" whose plural is read as things: "3 robots" join a scene as objects, "stars" shine.
_PLURAL_THINGS = frozenset("robot android cyborg creature figure character star icon legend idol".split())
_PERSON_SUFFIXES = ("er", "ist", "ian", "man", "woman", "ess", "men", "women", "ers", "ists", "ians")
_NOT_PERSON = frozenset(
    """computer controller flower tower water paper poster river corner dinner letter container cover
    number weather shower sweater burger hamburger character-less counter copper silver amber feather
    lighter laser monster charger speaker ladder leather timber thunder summer winter finger typewriter printer
    heater cooler locker drawer blender trailer scooter helicopter spider sticker marker rubber cylinder boulder
    shoulder border chamber saucer zipper slipper sneaker sneakers jumper heather freighter steamer tanker
    bomber thriller blister glacier pier manor harbor harbour anchor chandelier easter motorscooter cruiser roadster
    speedster tourer airliner jetliner trawler schooner copter quadcopter chopper blaster booster canister
    chronometer lager pilsner trainers loafers wrapper wafer revolver sequencer viewfinder rangefinder tracker
    render wallpaper newspaper trousers windbreaker puffer plaster polyester butter lobster rooster terrier tiger
    critter crater geyser skyscraper diner banner breaker""".split()
)
# Women's titles in -ress; any other word so ending is a thing ("a dress", "a fortress", "a mattress").
_PERSONS_RESS = frozenset(
    """actress empress waitress seamstress songstress temptress heiress mistress sorceress enchantress huntress
    murderess""".split()
)

# What is worn. A fronted "in <clothing>" reads as a place ("In a yellow raincoat, a woman"): never front these;
# the rules backend says "a woman in a coat" as "wearing a coat".
CLOTHING = frozenset(
    """coat raincoat overcoat jacket dress gown kimono suit uniform armor armour robe robes shirt t-shirt hoodie
    sweater cardigan skirt jeans trousers pants shorts bikini swimsuit leotard bodysuit plugsuit tunic cloak
    cape hat cap helmet mask scarf apron boots shoes sneakers gloves outfit costume clothes clothing attire
    tuxedo vest pajamas sari saree hanbok qipao beret fedora hood sandals mittens""".split()
)

# Media a prompt names; "…, pencil sketch" may become "a pencil sketch of …".
_MEDIUM_HEADS = frozenset(
    """photo photograph snapshot shot still painting sketch drawing illustration render rendering print poster
    engraving etching woodcut lithograph watercolor watercolour postcard polaroid screenshot cover panel portrait
    artwork mural fresco daguerreotype tintype selfie picture image scan close-up closeup""".split()
)
# Nouns that name how a picture looks (a style description's head): an item so named is no object in the picture.
_STYLE_NOUNS = frozenset(
    """art artwork artworks imagery aesthetic aesthetics style styles printmaking linework realism surrealism
    photography painting paintings illustrations prints renderings visuals graphics animation cinematography
    palette tones""".split()
)
# Items that are a time of day or a season, and the preposition they take.
_TIMES = {
    "golden hour": "at",
    "blue hour": "at",
    "dusk": "at",
    "dawn": "at",
    "sunset": "at",
    "sunrise": "at",
    "night": "at",
    "nighttime": "at",
    "night time": "at",
    "midnight": "at",
    "noon": "at",
    "midday": "at",
    "twilight": "at",
    "daybreak": "at",
    "nightfall": "at",
    "morning": "in the",
    "afternoon": "in the",
    "evening": "in the",
    "daytime": "in the",
    "summer": "in",
    "winter": "in",
    "autumn": "in",
    "spring": "in",
    "christmas": "at",
    "christmastime": "at",
    "halloween": "at",
    "easter": "at",
}
_SEASONS = frozenset({"summer", "winter", "autumn", "spring"})
_DAY_PARTS = frozenset({"morning", "afternoon", "evening", "night", "day", "dusk", "dawn"})
_LIGHT_HEADS = frozenset(
    """light lighting glow sunlight moonlight candlelight lamplight firelight starlight backlight backlighting
    rimlight daylight illumination""".split()
)
# Settings and the preposition + article they take when an item joins the sentence ("on a rainy street").
_SETTINGS: Mapping[str, tuple[str, str]] = {
    **dict.fromkeys(
        """street road avenue boulevard highway bridge stage rooftop roof balcony porch deck pier dock beach
        shore island hill hillside cliff ridge mountain mountaintop runway platform lawn""".split(),
        ("on", "a"),
    ),
    **dict.fromkeys(
        """room bedroom bathroom kitchen hall hallway corridor library classroom office studio workshop garage
        attic basement cellar bar pub cafe café diner restaurant bakery shop store market supermarket mall
        alley alleyway city town village forest jungle swamp desert canyon valley cave garden park meadow
        field courtyard yard greenhouse temple church cathedral castle palace mansion cabin tent laboratory
        lab gym arena stadium theater theatre museum gallery classroom dojo factory
        warehouse cockpit tavern inn hotel lobby prison dungeon ruin ruins forge smithy stable barn
        harbor harbour port marketplace bazaar plaza square ballroom nursery chapel mosque shrine monastery
        bookstore bookshop arcade casino nightclub club lounge salon spa sauna kitchenette""".split(),
        ("in", "a"),
    ),
    **dict.fromkeys("lake pond river stream waterfall fountain creek brook".split(), ("by", "a")),
    **dict.fromkeys(
        "counter table desk window bus-stop station crossroads intersection campfire fireplace".split(), ("at", "a")
    ),
    **dict.fromkeys("sky".split(), ("under", "a")),
    **dict.fromkeys("rain snow fog mist wind storm".split(), ("in", "the")),
}
_MASS_OR_PLURAL_OK = frozenset({"NNS", "NNPS"})
# What a thing "on" a surface is doing when nothing says otherwise ("a bottle on a towel" = resting on it).
_ON_VERBS = ("resting", "placed", "sitting")
_STATIC_OBJECTS = frozenset(
    """bottle bottles cup cups mug mugs vase vases book books bust statue statues sculpture figurine figurines lamp
    candle candles cake cakes plate plates bowl bowls box boxes bag bags hat phone smartphone controller laptop
    clock clocks apple apples pear orange lemon flower flowers bouquet teapot glass jar jars skull crown ring sword
    guitar violin radio toy toys doll dolls plush pillow cushion basket trophy trophies chessboard pumpkin
    pumpkins shoe shoes sneakers camera typewriter globe hourglass lantern teacup teacups tray burger sandwich pizza
    donut donuts cupcake cupcakes pie croissant bread loaf""".split()
)
# Buildings and plants stand where they are ("a lighthouse in a storm" = a lighthouse standing in a storm).
_STRUCTURES = frozenset(
    """lighthouse castle tower house cabin mansion church chapel cathedral temple shrine windmill barn cottage hut
    pagoda skyscraper monument obelisk tree oak pine willow lighthouse fortress palace ruin ruins booth kiosk
    farmhouse manor villa bungalow treehouse igloo tent yurt lodge inn tavern mill watermill gazebo pavilion
    monastery abbey mosque fort citadel keep observatory village villages hamlet town""".split()
)
# Settlements sit in their landscape; they do not stand ("a village nestled in the mountains").
_SETTLEMENTS = frozenset("village villages hamlet town".split())
# Heights a building is perched on ("a castle perched on a cliff").
_HEIGHTS = frozenset(
    """hill hilltop hills cliff cliffs clifftop ridge rock rocks crag mountain mountaintop mountainside summit peak
    bluff outcrop promontory headland""".split()
)
# Places a building is nestled in ("a cabin nestled in the woods").
_NESTS = frozenset(
    """woods forest forests valley valleys hills mountains trees pines jungle snow meadow glade clearing garden
    gardens countryside cove""".split()
)


_WHEN = frozenset(
    """dawn dusk sunrise sunset night nighttime midnight noon twilight morning evening afternoon day daybreak
    nightfall sundown winter summer spring autumn fall christmas halloween""".split()
)
_WEATHERS = frozenset("storm storms rain fog mist wind blizzard thunderstorm tempest hurricane downpour".split())


def _standing_verbs(toks: Parsed, prep: int, head: Tok) -> tuple[str, ...]:
    """How a building or a tree is where it is ("standing on a hill", "perched on a cliff", "nestled in the
    woods"): the same picture, said with the verb its place takes."""
    obj = next((toks[c].lower for c in toks[prep].children if toks[c].dep == "pobj"), "")
    p = toks[prep].lower
    if not obj or obj in _WHEN:
        return ()  # "a village at dawn": a time, not where it stands
    if obj in _WEATHERS:
        return ("standing",)  # "a lighthouse standing in a storm" (a lighthouse "set in a storm" is a story)
    if head.lower in _SETTLEMENTS:
        return ("nestled", "set") if p in ("in", "among", "amid", "within") else ("set",)
    verbs = ["standing", "set"]
    if p in ("on", "atop") and obj in _HEIGHTS:
        verbs.append("perched")
    if p in ("in", "among", "amid", "within") and obj in _NESTS:
        verbs.append("nestled")
    return tuple(verbs)


# "X as a bronze bust": the person rendered in that form.
_ARTWORK_FORMS = frozenset(
    """bust statue sculpture figurine doll plush toy painting portrait mosaic marionette puppet cartoon
    caricature silhouette hologram""".split()
)
# "X as a pirate captain": a person playing a role.
_ROLES_OK = frozenset(
    """astronaut pirate captain knight samurai chef pilot queen king princess prince detective cowboy soldier
    wizard witch vampire superhero doctor nurse scientist viking ninja grandmaster sailor firefighter""".split()
)


# Roles that are a position, not a costume one can be "dressed as".
_NOT_COSTUMES = frozenset({"grandmaster", "scientist", "doctor"})


def implied_on(head: Tok) -> bool:
    """Whether ``head`` is a thing that rests where it is ("a vase on a shelf" = resting, placed, sitting on it)."""
    return head.lower in _STATIC_OBJECTS


def _on_something(toks: Parsed, prep: Tok) -> bool:
    """ "on a table", "on the shelves": a place to rest on, never a state ("on fire", "on display", "on sale")."""
    obj = next((toks[c] for c in prep.children if toks[c].dep == "pobj"), None)
    return obj is not None and (obj.tag == "NNS" or any(toks[c].dep in ("det", "poss") for c in obj.children))


# Coverings whose look is a pattern: "fur that looks like a strawberry" is fur patterned like one.
_PATTERNED = frozenset("fur coat skin hide feathers plumage scales shell wings pelt".split())
_LIKE_VERBS = frozenset({"looks", "look", "seems", "seem", "appears", "appear"})
_RESEMBLE = {"looks": "resembles", "look": "resemble", "seems": "resembles", "appears": "resembles"}
_ING = {
    "is": "being",
    "are": "being",
    "has": "having",
    "have": "having",
    "looks": "looking",
    "look": "looking",
    "seems": "seeming",
    "appears": "appearing",
    "resembles": "resembling",
    "mimics": "mimicking",
    "lies": "lying",
    "dies": "dying",
    "runs": "running",
    "sits": "sitting",
    "swims": "swimming",
    "shines": "shining",
    "glows": "glowing",
    "sparkles": "sparkling",
    "shimmers": "shimmering",
    "hangs": "hanging",
    "flows": "flowing",
    "falls": "falling",
    "drips": "dripping",
    "covers": "covering",
    "spills": "spilling",
    "stretches": "stretching",
    "reaches": "reaching",
    "matches": "matching",
    "fades": "fading",
    "blends": "blending",
}


@dataclass(frozen=True)
class Tok:
    """One token of a parsed phrase (a plain copy of spaCy's, so parses can be cached and shared)."""

    i: int
    text: str
    ws: str
    tag: str
    dep: str
    head: int
    left: int  # first token of its subtree
    right: int  # last token of its subtree (inclusive)
    children: tuple[int, ...]

    @property
    def lower(self) -> str:
        return self.text.lower()


Parsed = tuple[Tok, ...]


@dataclass(frozen=True)
class Restatement:
    """The subject phrase said one way: ``np`` when it is a noun phrase ("a photo of" may precede it),
    ``fronted`` when it opens with a fronted place or time (no framing, no medium prefix before it)."""

    text: str
    np: bool = True
    fronted: bool = False
    kind: str = "original"
    framed: bool = True  # whether a framing may open it ("Picture portrait of …" reads badly: no)


def parse_phrases(phrases: Sequence[str]) -> list[Parsed | None]:
    """The parse of each phrase (cached; None without spaCy or for an empty phrase)."""
    missing = [p for p in dict.fromkeys(phrases) if p.strip() and _CACHE.get(p) is None]
    if missing:
        docs = parse(missing)
        if docs is None:
            return [None for _ in phrases]
        for p, doc in zip(missing, docs, strict=True):
            _CACHE[p] = tuple(
                Tok(
                    t.i,
                    t.text,
                    t.whitespace_,
                    _tag(t.tag_, t.text),
                    t.dep_,
                    t.head.i,
                    t.left_edge.i,
                    t.right_edge.i,
                    tuple(c.i for c in t.children),
                )
                for t in doc
            )
            _CACHE[p] = _adjectives_before_nouns(_CACHE[p])
        if len(_CACHE) > 4096:
            for key in list(_CACHE)[:1024]:
                del _CACHE[key]
    return [_CACHE.get(p) if p.strip() else None for p in phrases]


_CACHE: dict[str, Parsed] = {}


# A gerund naming what a thing is for ("a charging station", "a swimming pool"): a noun, never an action.
_GERUND_COMPOUNDS = frozenset(
    f"{g} {n}"
    for g, nouns in {
        "charging": "station stations port cable",
        "parking": "lot lots garage meter space spot",
        "swimming": "pool pools",
        "dining": "table room hall",
        "living": "room",
        "washing": "machine line",
        "fishing": "rod rods boat boats net nets village pier",
        "sleeping": "bag bags",
        "walking": "stick cane",
        "shopping": "cart carts bag bags mall street district",
        "running": "shoes track",
        "cutting": "board",
        "baking": "sheet tray dish",
        "waiting": "room area",
        "dressing": "table room gown",
        "rolling": "pin",
        "frying": "pan",
        "boxing": "ring gloves",
        "climbing": "wall gear rope",
        "skating": "rink",
        "filling": "station",
        "landing": "pad strip",
        "drinking": "fountain glass",
        "writing": "desk",
        "reading": "glasses lamp nook corner room",
        "sewing": "machine kit",
        "racing": "car cars bike bikes track motorcycle motorcycles motorbike motorbikes boat boats yacht helmet suit"
        " stripe stripes driver drivers",
        "training": "ground grounds",
        "diving": "board",
        "hiking": "boots trail",
        "spinning": "wheel",
        "sailing": "ship ships boat",
        "gaming": "chair setup room console",
        "cooking": "pot class",
        "mixing": "bowl",
        "changing": "room",
        "boarding": "pass school",
        "ironing": "board",
    }.items()
    for n in nouns.split()
)


def _adjectives_before_nouns(toks: Parsed) -> Parsed:
    """A word the lexicon knows only as an adjective, tagged a noun in a compound before a noun ("rustic/NN cabin
    interior" in a fragment): an adjective modifying that noun; and a gerund naming what a thing is for, tagged a
    verb ("a car charging/VBG station"): a noun in a compound."""
    out = list(toks)
    for k, t in enumerate(toks[:-1]):
        if t.tag == "VBG" and f"{t.lower} {toks[k + 1].lower}" in _GERUND_COMPOUNDS:
            out[k] = replace(t, tag="NN", dep="compound")  # "a car charging station": a station, no car charging
            continue
        if t.tag != "NN" or t.dep != "compound" or toks[k + 1].tag not in ("NN", "NNS"):
            continue
        entries = senses().get(t.lower, ())
        if entries and all(e.tags <= {"JJ", "VBN"} for e in entries):
            out[k] = replace(t, tag="JJ", dep="amod")
    return tuple(out)


def _tag(tag: str, text: str) -> str:
    """Names are already replaced, so a lower-case "proper noun" is a noun the tagger misread in a fragment
    ("rainy street" → NNP NNP)."""
    if tag in ("NNP", "NNPS") and text.islower():
        return "NNS" if tag == "NNPS" or (text.endswith("s") and not text.endswith("ss")) else "NN"
    return tag


def clear_cache() -> None:
    _CACHE.clear()


# --- rendering helpers -------------------------------------------------------------------------------


class _Doc:
    """A parsed phrase plus the words chosen for some of its tokens (synonyms)."""

    def __init__(self, toks: Parsed, subs: Mapping[int, str]):
        self.toks = toks
        self.subs = subs

    def word(self, i: int) -> str:
        return self.subs.get(i, self.toks[i].text)

    def span(self, a: int, b: int, skip: frozenset[int] = frozenset()) -> str:
        """Tokens ``a``..``b-1`` (minus ``skip``) with their original spacing."""
        out = []
        for t in self.toks[a:b]:
            if t.i in skip:
                continue
            out.append(self.word(t.i) + t.ws)
        return re.sub(r"\s{2,}", " ", "".join(out)).strip()

    def sub(self, i: int) -> tuple[int, int]:
        t = self.toks[i]
        return t.left, t.right + 1


def describes_person(description: str) -> bool:
    """Whether a name's description ("a caped vigilante in a dark cowl") is of a person."""
    head = re.split(r"\b(?:in|with|on|at|of|wearing|holding|and|who|that)\b", description.lower())[0]
    words = re.findall(r"[a-z][a-z\-]*", head)
    if any(w in _ANIMALS for w in words):
        return False
    return any(
        w in _PERSON_NOUNS or (w.endswith(_PERSON_SUFFIXES) and len(w) > 4 and not _not_person(w)) for w in words
    )


_SECOND_ONE = re.compile(
    r"\band\s+(?:a|an|the|his|her|their|its)\s+((?:[a-z-]+\s+){0,3}?[a-z-]+)\b(?=\s*(?:,|$|\s+(?:in|with|on|at)\b))"
)


def describes_several(description: str) -> bool:
    """Whether a name's description is of more than one ("a thin comedian and a stout comedian in bowler hats",
    "a pair of star-crossed lovers"): its verb is plural."""
    text = re.split(r"\b(?:who|that|wearing|holding)\b", description.lower())[0]
    if re.match(r"\s*(?:a\s+pair|a\s+couple|a\s+group|a\s+band|two|three|four|several)\s+of\b", text):
        return True
    # "a cartoon boy with spiky hair and a stuffed tiger" (not "a hat and a scarf", nor "a checked deerstalker" or
    # "an inverness cape": only the second one's head noun says who, and a thing may end like an agent noun)
    return any(_second_one(m.group(1).split()[-1]) for m in _SECOND_ONE.finditer(text))


def _second_one(head: str) -> bool:
    if head in _PERSON_NOUNS or head in _ANIMALS:
        return True
    if _ress_thing(head):
        return False
    return (
        head.endswith(("ian", "ist", "man", "woman", "men", "women", "ess")) and len(head) > 4 and not _not_person(head)
    )


def _several(tok: Tok) -> bool:
    """A plural noun, or a name's description of more than one."""
    return (
        tok.tag in _PLURAL_TAGS
        or (tok.tag == "NN" and tok.lower.endswith(_IRREGULAR_PLURALS))  # "grandchildren/NN peeking"
        or (tok.tag in ("PHP", "PHT") and describes_several(tok.text))
    )


# Plurals without an "s" the small parser may tag as singular.
_IRREGULAR_PLURALS = ("children", "people", "women", "mice", "geese", "teeth", "oxen", "cattle", "folks")


def is_creature(tok: Tok) -> bool:
    """Whether ``tok`` names a person or an animal (one that can wear, ride or perch)."""
    return _is_person(tok) or _is_animal(tok)


def is_bird(tok: Tok) -> bool:
    return tok.lower in _BIRDS


_BIRDS = frozenset(
    """bird birds owl owls crow crows raven ravens eagle eagles hawk hawks falcon falcons parrot parrots sparrow
    sparrows robin robins pigeon pigeons dove doves hummingbird hummingbirds kingfisher kingfishers magpie magpies
    finch finches bluebird bluebirds cardinal cardinals seagull seagulls gull gulls vulture vultures songbird
    songbirds woodpecker woodpeckers macaw macaws cockatoo cockatoos""".split()
)


def _not_person(word: str) -> bool:
    """A thing whose name ends like an agent noun ("a scooter", "towers")."""
    return word in _NOT_PERSON or (word.endswith("s") and word[:-1] in _NOT_PERSON)


def _is_person(tok: Tok) -> bool:
    if tok.tag == "PHP":
        return True
    if tok.tag in ("PH", "PHT"):
        return False
    w = tok.lower
    if w in _PERSON_NOUNS or (
        tok.tag in _PLURAL_TAGS and w.endswith("s") and w[:-1] in _PERSON_NOUNS and w[:-1] not in _PLURAL_THINGS
    ):
        return True
    if _not_person(w) or tok.tag not in NOUN_TAGS:
        return False
    if _ress_thing(w):
        return False
    if w.endswith(("man", "men")) and not w.endswith(("woman", "women")):
        # "fireman", "craftsmen", "cameraman": a word and "man"; "ramen", "abdomen", "specimen" are no one
        stem = w[:-3]
        return w in ("human", "humans") or (len(stem) >= 3 and is_english_word(stem))
    return w.endswith(_PERSON_SUFFIXES) and len(w) > 4


def _ress_thing(word: str) -> bool:
    """A thing that ends like "actress" ("darkness", "a dress", "a fortress", "a floral headdress")."""
    return word.endswith(("ness", "ress")) and word not in _PERSONS_RESS


_ONE = frozenset("a an one this that each every another".split())


def _plural(doc: _Doc, head: int) -> bool:
    t = doc.toks[head]
    if t.tag in _PLURAL_TAGS and any(doc.toks[c].dep == "det" and doc.toks[c].lower in _ONE for c in t.children):
        return False  # "a green ogre/NNS": the parser's plural tag, but one of them
    if _several(t):
        return True
    alive = _is_person(t) or _is_animal(t)  # "a plumber in a cap and overalls": the overalls are not a second one
    # a conjunct after the head's own preposition belongs to it, whatever the parse says ("a piazza with long
    # shadows and a distant train": one piazza)
    prep = min((c for c in t.children if doc.toks[c].dep == "prep" and c > head), default=len(doc.toks))
    return any(
        doc.toks[c].dep == "conj"
        and c < prep
        and not _others_conjunct(doc.toks, doc.toks[c], head)
        and (not alive or _is_person(doc.toks[c]) or _is_animal(doc.toks[c]))
        for c in t.children
    )  # "a boy and his grandmother"


def _others_conjunct(toks: Parsed, conj: Tok, head: int) -> bool:
    """ "a terrarium containing a forest and a cabin": the parser hangs the cabin on the terrarium, but the "and"
    before it is the forest's; the cabin is what the terrarium contains, no second terrarium."""
    cc = toks[conj.left - 1] if conj.left > 0 else None
    return cc is not None and cc.dep == "cc" and cc.head != head


def _ing(verb: str) -> str | None:
    v = verb.lower()
    if v in _ING:
        return _ING[v]
    if not v.endswith("s") or v.endswith("ss") or len(v) < 4:
        return None
    base = v[:-2] if v.endswith(("ches", "shes", "xes", "sses")) else v[:-1]
    if base.endswith("ie"):
        return base[:-2] + "ying"
    if base.endswith("e") and not base.endswith(("ee", "ye", "oe")):
        return base[:-1] + "ing"
    return base + "ing"


def _known_verb(word: str) -> bool:
    """Whether ``word`` is a form of a verb the lexicon knows ("sits", "stand", "can"), so a finite reading of it
    can be trusted; without spaCy's tables every word is taken at the parser's word."""
    verbs, exc = verb_lemmas()
    if not verbs:
        return True
    if word in exc or word in verbs or word in ("is", "are", "can", "will", "may", "must", "should", "would"):
        return True
    return any(word.endswith(suf) and word[: -len(suf)] in verbs for suf in ("es", "s")) or (
        word.endswith("ies") and word[:-3] + "y" in verbs
    )


_IRREGULAR_3SG = {"be": "is", "have": "has", "do": "does", "go": "goes"}


def present(ving: str, plural: bool) -> str | None:
    """The simple present of an ``-ing`` form ("laughing" → "laughs", "sitting" → "sits", "baking" →
    "bakes"; plural: "sit"), or None when its base form is uncertain."""
    w = ving.lower()
    if not w.endswith("ing") or len(w) < 5:
        return None
    verbs, exc = verb_lemmas()
    base = exc.get(w)
    if base is None:
        stem = w[:-3]
        options = []
        if len(stem) > 2 and stem[-1] == stem[-2] and stem[:-1] in verbs:
            options.append(stem[:-1])  # sitting -> sit
        if stem in verbs:
            options.append(stem)
        if stem + "e" in verbs:
            options.append(stem + "e")
        if not options:
            return None
        base = options[0]
        if stem in options and stem + "e" in options:  # riding: "rid" or "ride"? an undoubled CVC ends in -e
            cvc = re.search(r"(?:^|[^aeiou])[aeiou][^aeiouwxy]$", stem) and len(re.findall(r"[aeiou]+", stem)) == 1
            # "bathing", "breathing", "soothing": a verb on a soft "th" ends in -e ("bathes", never "baths")
            base = stem + "e" if cvc or stem.endswith("th") else stem
    if plural:
        return base if base != "be" else "are"
    if base in _IRREGULAR_3SG:
        return _IRREGULAR_3SG[base]
    if re.search(r"(?:s|sh|ch|x|z|o)$", base):
        return base + "es"
    if re.search(r"[^aeiou]y$", base):
        return base[:-1] + "ies"
    return base + "s"


# --- the subject phrase --------------------------------------------------------------------------------


@dataclass
class _Mod:
    kind: str  # ing, ed, with, whose, rel, pp, other
    a: int
    b: int
    head: int


@dataclass
class _Shape:
    subj: tuple[int, int]  # the subject noun phrase
    head: int  # its head noun (for who/that and agreement)
    mods: list[_Mod]  # what follows it, in order, tiling the rest of the phrase
    clause: bool  # the phrase is "<subject> <verb>ing …" with the verb as the root


_PREMODIFIERS = frozenset({"det", "amod", "compound", "nummod", "poss", "nmod"})


def _shape(toks: Parsed) -> _Shape | None:
    roots = [t for t in toks if t.dep == "ROOT"]
    if len(roots) != 1 or any(t.tag in (",", ":", "-LRB-", "-RRB-", "``", "''") for t in toks):
        return None
    root = roots[0]
    n = len(toks)
    if root.tag in NOUN_TAGS:
        if root.left != 0:
            return None
        if (both := _both_acting(toks, root)) is not None:
            return both
        mods: list[_Mod] = []
        pos = root.i + 1
        for c in sorted(root.children):
            if c < root.i:
                continue
            ct = toks[c]
            if ct.left != pos:
                return None
            if ct.tag == "RP" and ct.left == ct.right and mods:
                # "… with his tongue out", "… with arms up": the particle is the last thing's, never ", out"
                last = mods[-1]
                mods[-1] = _Mod(last.kind, last.a, ct.right + 1, last.head)
            elif ct.dep == "conj" and mods and _others_conjunct(toks, ct, root.i):
                # "… containing a miniature forest and a tiny red cabin": the cabin ends what comes before it
                last = mods[-1]
                mods[-1] = _Mod(last.kind, last.a, ct.right + 1, last.head)
            else:
                mods.append(_Mod(_mod_kind(toks, ct), ct.left, ct.right + 1, c))
            pos = ct.right + 1
        if pos != n:
            return None
        _reattach_action(toks, root, mods)
        return _Shape((0, root.i + 1), root.i, mods, clause=False)
    if root.tag in ("VBG", "VBN", "VBD"):
        subj = [c for c in root.children if toks[c].dep in ("nsubj", "nsubjpass") and c < root.i]
        if len(subj) != 1:
            return None
        s = toks[subj[0]]
        if s.left != 0 or s.right != root.i - 1 or s.tag not in NOUN_TAGS:
            return None
        if any(
            c < s.i and toks[c].dep not in ("det", "amod", "compound", "nummod", "poss", "nmod") for c in s.children
        ):
            return None
        kind = "ing" if root.tag == "VBG" else "ed"
        # the subject's own post-modifiers ("a girl with blue hair sitting …" parsed as subject + root verb)
        mods = []
        pos = s.i + 1
        for c in sorted(s.children):
            if c < s.i:
                continue
            ct = toks[c]
            if ct.left != pos:
                return None
            mods.append(_Mod(_mod_kind(toks, ct), ct.left, ct.right + 1, c))
            pos = ct.right + 1
        if pos != root.i:
            return None
        if kind == "ed" and mods:
            return None  # "someone sitting … with his arms crossed": a past participle after a whole clause is misread
        mods.append(_Mod(kind, root.i, n, root.i))
        return _Shape((0, s.i + 1), s.i, mods, clause=True)
    return None


def _both_acting(toks: Parsed, root: Tok) -> _Shape | None:
    """ "a tabby kitten and a white rabbit sharing a carrot": the parser hangs the action on the second one; it is
    what both do, and the two are the subject (plural) of the restatements."""
    kids = [toks[c] for c in root.children if c > root.i]
    if len(kids) != 2 or kids[0].dep != "cc" or kids[0].lower != "and" or kids[1].dep != "conj":
        return None
    conj = kids[1]
    if not (_is_person(root) or _is_animal(root)) or not (_is_person(conj) or _is_animal(conj)):
        return None  # "a girl and a sword glowing": only beings act together
    acts = [toks[c] for c in conj.children if c > conj.i]
    if len(acts) != 1 or acts[0].dep != "acl" or acts[0].tag != "VBG" or acts[0].left != conj.i + 1:
        return None
    if acts[0].right != len(toks) - 1 or kids[0].i != root.i + 1 or conj.left != root.i + 2:
        return None
    if any(toks[c].dep not in _PREMODIFIERS for c in conj.children if c < conj.i):
        return None
    return _Shape((0, conj.i + 1), root.i, [_Mod("ing", acts[0].i, len(toks), acts[0].i)], clause=False)


def _reattach_action(toks: Parsed, root: Tok, mods: list[_Mod]) -> None:
    """ "a caped vigilante in a dark cowl feeding pigeons": the parser hangs "feeding pigeons" on the cowl; a
    closing participle hung on a thing inside the last modifier belongs to the person or animal it follows. "a pack
    of wolves running across a river": hung on the members of a group, it is the group's."""
    if not mods or mods[-1].kind in ("ing", "ed", "whose", "rel"):
        return
    last = mods[-1]
    if toks[last.head].dep == "conj" and not any(toks[m.head].dep == "prep" for m in mods):
        # "a girl and a sword glowing": what ends a second one is its own (or both's), never the first's ("a
        # plumber in a red cap and blue overalls jumping": the overalls are what he wears, the jump is his)
        return
    n = len(toks)
    collective = root.lower in _COLLECTIVES and len(mods) == 1 and toks[last.a].lower == "of"
    if not collective and not (_is_person(root) or _is_animal(root)):
        return
    for v in toks[last.a + 1 : last.b]:
        if v.tag != "VBG" or v.dep != "acl" or v.right != n - 1 or v.left != v.i:
            continue
        owner = toks[v.head]
        if collective and owner.head != last.a:
            continue
        alive = _is_person(owner) or _is_animal(owner)
        if alive if collective else (owner.i != root.i and not alive):
            mods[-1] = _Mod(last.kind, last.a, v.i, last.head)
            mods.append(_Mod("ing", v.i, n, v.i))
        return


# Nouns that name a group of people or animals ("a pack of wolves"): what the members do, the group does.
_COLLECTIVES = frozenset(
    """pack herd flock group crowd swarm school pride team family troop band gang pod colony litter bunch couple
    pair trio quartet line row army squad crew choir""".split()
)

_ANIMALS = frozenset(
    """cat cats kitten kittens dog dogs puppy puppies fox foxes wolf wolves bear bears bird birds owl owls horse
    horses deer rabbit rabbits bunny mouse mice rat squirrel lion lions tiger tigers leopard cheetah elephant
    elephants giraffe zebra monkey monkeys ape gorilla panda pandas koala kangaroo frog frogs toad turtle turtles
    tortoise snake snakes lizard dragon dragons dinosaur fish whale whales dolphin dolphins shark octopus crab
    duck ducks ducklings goose swan swans heron crow raven eagle hawk parrot penguin penguins chicken hen rooster
    cow cows pig pigs sheep goat goats donkey camel bee bees butterfly butterflies spider ant corgi retriever
    hamster hedgehog otter otters seal seals raccoon bat bats unicorn griffin phoenix kraken creature beast
    animal animals pet pets salmon pigeons pigeon""".split()
)


def _is_animal(tok: Tok) -> bool:
    return tok.lower in _ANIMALS


def _mod_kind(toks: Parsed, t: Tok) -> str:
    if t.dep == "acl" and t.tag == "VBG":
        return "ing"
    if t.dep == "acl" and t.tag == "VBN":
        return "ed"
    if t.dep == "relcl":
        for c in t.children:
            if toks[c].dep in ("nsubj", "nsubjpass") and any(toks[g].lower == "whose" for g in toks[c].children):
                return "whose"
        return "rel"
    if t.dep == "prep" and t.lower == "with":
        return "with"
    if t.dep == "prep":
        return "pp"
    return "other"


def _place_of_with(toks: Parsed, shape: _Shape, k: int) -> bool:
    """Whether modifier ``k`` is a "with" phrase right followed by a place phrase ("with a cat on a stack of
    books"): the parser may hang the place on the head, but a reader gives it to the thing had."""
    if k + 1 >= len(shape.mods) or shape.mods[k].kind != "with":
        return False
    nxt = shape.mods[k + 1]
    return nxt.kind == "pp" and nxt.a == shape.mods[k].b and toks[nxt.a].lower in _PLACE_PREPS_AFTER_WITH


_PLACE_PREPS_AFTER_WITH = frozenset("on in atop upon under beneath inside beside by near".split())


# Small things that hold what is in them ("a ship in a bottle", "a firefly in a jar"): the pair is one thing.
_VESSELS = frozenset(
    """bottle bottles jar jars glass glasses cup cups mug mugs teacup teacups bowl bowls box boxes cage cages globe
    globes terrarium terrariums vase vases bubble bubbles fishbowl aquarium basket baskets bucket buckets pot pots
    jug jugs can cans tin tins crate crates bag bags pocket pockets envelope""".split()
)


# Adverbs that finish a with-phrase ("with a tiny rainforest inside", "with snow falling outside").
_AFTER_HAD = frozenset("inside outside within underneath beneath below above behind nearby around aboard".split())


def _front_pp(doc: _Doc, shape: _Shape) -> tuple[int, int] | None:
    """A place/time PP at the very end of the phrase that can open it instead."""
    toks = doc.toks
    n = len(toks)
    last = shape.mods[-1] if shape.mods else None
    if last is None or last.b != n:
        return None
    if last.kind in ("ing", "ed"):
        verb = toks[last.head]
        preps = [c for c in verb.children if c > verb.i and toks[c].dep == "prep" and toks[c].right == n - 1]
        if not preps:
            return None
        p = toks[preps[0]]
    elif last.kind == "pp":
        p = toks[last.head]
        if len(shape.mods) >= 2 and _place_of_with(toks, shape, len(shape.mods) - 2):
            return None  # "a nook with a cat on a stack of books": the cat's place, not the nook's
    else:
        return None
    if p.lower not in _FRONTABLE or p.left != p.i:
        return None
    said = doc.word(p.i).split()
    if not said or said[0].lower() not in _FRONTABLE | _SAID_PREPS:
        return None  # said as a verb ("riding a horse"), or part of a phrase said another way: it stays put
    if last.kind in ("ing", "ed"):
        verb = toks[last.head]
        has_object = any(toks[c].dep in ("dobj", "obj", "attr") for c in verb.children)
        if verb.lower in _LOOK_VERBS or (not has_object and p.lower in _BOUND_PREPS):
            return None  # "looking through a microscope": the place completes the verb, it cannot leave it
        if last.kind == "ed" and not has_object and p.i == verb.i + 1:
            return None  # "covered in ivy", "made of glass", "lit by candles": the participle's own complement
        if has_object and p.lower in _SURFACE_PREPS:
            obj = next((toks[c] for c in p.children if toks[c].dep == "pobj"), None)
            if obj is None or _SETTINGS.get(obj.lower, ("",))[0] != "on":
                return None  # "hammering a sword on an anvil": the sword is on it, not the smith (but "on a bridge")
    if any(t.tag.startswith("VB") for t in toks[p.i : n]):  # a misparse swallowed an action into the place
        return None
    if any(  # "in a yellow tutu dancing/NN in a puddle": an -ing verb the tagger took for a noun, with its phrase
        t.lower.endswith("ing") and toks[k + 1].tag in ("IN", "DT", "PRP$") and present(t.lower, False) is not None
        for k, t in enumerate(toks[p.i : n - 1], start=p.i)
    ):
        return None
    span_words = [t.lower for t in toks[p.i : n]]
    if any(w in _POSSESSIVES for w in span_words):  # "on his back": his = the subject's
        return None
    objs = [c for c in p.children if toks[c].dep == "pobj"]
    if not objs:
        return None
    obj = toks[objs[0]]
    if p.lower in ("in", "on") and obj.lower in CLOTHING:
        return None
    if p.lower in ("in", "inside", "within") and obj.lower in _VESSELS:
        return None  # "a ship in a bottle", "a cat in a box": what holds it is part of the thing, not a place
    if obj.tag in ("PRP", "WP"):
        return None
    return p.i, n


def restatements(toks: Parsed, subs: Mapping[int, str] | None = None) -> list[Restatement]:
    """Ways to say the subject phrase ``toks`` (the first is the phrase itself, with ``subs`` applied)."""
    doc = _Doc(toks, subs or {})
    # "a ship in a bottle sits on a desk" is a sentence: "In this scene, …", never "A vision of … sits"
    # (a past form is left out: "a pickup stuck/VBD in mud" is usually a participle the parser misread)
    finite = any(
        t.dep == "ROOT"
        and t.tag in ("VBZ", "VBP", "MD")
        and any(toks[c].dep == "nsubj" and not _bare_compound(toks, toks[c], t) for c in t.children)
        and _known_verb(t.lower)  # not "a 1980s synthwave/VBP detective"
        for t in toks
    )
    misread = not finite and _misread_verb(toks)
    original = Restatement(doc.span(0, len(toks)), np=not (finite or misread))
    if finite:
        return [original, *_participle_of(toks, subs or {})]
    if misread:  # only its place fronted: every noun-phrase reading of it is the parser's mistake
        return [original, *(r for r in restatements_of_shape(doc, toks, original) if r.fronted and not r.np)]
    return restatements_of_shape(doc, toks, original)


def restatements_of_shape(doc: _Doc, toks: Parsed, original: Restatement) -> list[Restatement]:
    """:func:`restatements` of a phrase read as a noun phrase with modifiers (see :func:`_shape`)."""
    shape = _shape(toks)
    if shape is None:
        return [original]
    medium = _medium_of(doc, shape)
    if medium is not None:
        return medium
    head = toks[shape.head]
    person = _is_person(head)
    unknown = head.tag == "PH"  # "[[0]]": who or that? say it without a relative pronoun
    plural = _plural(doc, shape.head)
    who = "who" if person else "that"
    be, have = ("are", "have") if plural else ("is", "has")
    subj = doc.span(*shape.subj)

    # each modifier's renderings: (text, is a relative clause that needs a comma before what follows)
    options: list[list[tuple[str, bool, str]]] = []
    # "my dog in a raincoat that jumps": after another modifier, "that" would tie the clause to its noun
    # (the raincoat jumps); "who" can only mean the person
    ambiguous = [k > 0 and not person for k in range(len(shape.mods))]
    # "a woman wearing a coat who is reading": a second "who" clause would stack on the user's own
    related = any(m.kind in ("rel", "whose") or _holds_relative(toks, m) for m in shape.mods)
    # a name's description that ends on its own list ("a yellow mouse creature with red cheeks and a zigzag tail"):
    # "that surfs" after it would be the tail's
    # ("who" after a person is clear enough unless a list ends it: "… with red hair and a scarf who is reading")
    listed = (
        r"\bwith\b|,|\band\b"
        if head.tag == "PHP"
        else r"\bwith\b|,|\band\b|\b(?:in|of|on|at|from|by|under|over|inside|beside|behind|among|near)\b"
    )  # "a goddess rising from the sea on a shell": "who is reimagined" after it would be the shell's
    if head.tag in ("PHP", "PHT") and re.search(listed, head.text):
        related = True
    # "my cat that sits", "Big Ben that is covered": a restrictive "that" after a one-of-a-kind thing is wrong
    if not person and (head.tag in ("NNP", "NNPS") or any(toks[c].tag == "PRP$" for c in head.children)):
        related = True
    for k, m in enumerate(shape.mods):
        plain = doc.span(m.a, m.b)
        opts = [(plain, False, "")]
        if unknown or ((ambiguous[k] or related) and m.kind in {"ing", "ed", "with"}):
            pass
        elif m.kind == "ed" and plural and _base_form(toks[m.head].lower):
            pass  # "two dogs run/VBN across a beach": a plural's present the tagger took for a participle
        elif m.kind in {"ing", "ed"}:
            opts.append((f"{who} {be} {plain}", True, "rel"))
        elif m.kind == "with" and _place_of_with(toks, shape, k):
            pass  # "a nook with a cat on a stack of books": the cat is on the books, "that has a cat, on …" splits them
        elif m.kind == "with" and not any(t.tag.startswith("VB") and t.dep != "amod" for t in toks[m.a : m.b]):
            obj = doc.span(m.a + 1, m.b)
            after = toks[m.b].lower if m.b < len(toks) else ""
            if after in _AFTER_HAD:
                pass  # "a terrarium with a tiny rainforest inside": never "that has a tiny rainforest, inside"
            elif obj and not re.search(r"\b(?:and|or)$", obj):  # "that has long shadows and": the parse lost the rest
                opts.append((f"{who} {have} {obj}", True, "has"))
        elif m.kind == "whose":
            opts.extend(_whose_options(doc, m, person, plural))
        elif (
            m.kind == "pp"
            and toks[m.a].lower == "on"
            and implied_on(head)
            and m.a == shape.head + 1
            and _on_something(toks, toks[m.a])
        ):
            opts.append((f"{_ON_VERBS[(m.a + len(toks)) % len(_ON_VERBS)]} {plain}", False, "resting"))
            opts.append((f"{_ON_VERBS[(m.a + len(toks) + 1) % len(_ON_VERBS)]} {plain}", False, "resting"))
        elif m.kind == "pp" and toks[m.a].lower in _FRONTABLE and head.lower in _STRUCTURES and m.a == shape.head + 1:
            for verb in _standing_verbs(toks, m.a, head):
                opts.append((f"{verb} {plain}", False, "standing"))
        elif m.kind == "pp" and toks[m.a].lower == "as" and person and not plural:
            role = next((toks[c] for c in toks[m.a].children if toks[c].dep == "pobj"), None)
            if role is not None and role.lower in _ROLES_OK and m.b == len(toks):
                opts.append((f"in the role of {doc.span(m.a + 1, m.b)}", False, "role"))
                if role.lower not in _NOT_COSTUMES:  # "X as a pirate captain" = X dressed as one
                    opts.append((f"dressed as {doc.span(m.a + 1, m.b)}", False, "dressed-as"))
        options.append(opts)

    out: dict[str, Restatement] = {original.text: original}

    def add(text: str, *, np: bool = True, fronted: bool = False, kind: str = "") -> None:
        text = re.sub(r"\s+,", ",", re.sub(r"\s{2,}", " ", text)).strip()
        if text and text not in out:
            out[text] = Restatement(text, np, fronted, kind)

    def join(parts: list[tuple[str, bool, str]]) -> str:
        s = subj
        for k, (text, needs_comma, _) in enumerate(parts):
            if text.startswith(","):
                s += text
            else:
                s += " " + text
            if needs_comma and k + 1 < len(parts):
                s += ","
        return s

    # one modifier re-rendered at a time (and the first two together), so each line differs in one place
    base = [o[0] for o in options]
    for k, opts in enumerate(options):
        for opt in opts[1:]:
            parts = list(base)
            parts[k] = opt
            add(join(parts), kind=opt[2])
    if len(options) >= 2 and len(options[0]) > 1 and len(options[1]) > 1 and options[1][1][2] == "rel":
        first, second = options[0][1], options[1][1]
        if first[2] == "has":  # "who has a white beard and is playing the violin"
            merged = (first[0] + " and " + second[0].split(" ", 1)[1], True, "rel2")
            add(join([merged, *base[2:]]), kind="rel2")

    # the first action as the predicate: "a woman is laughing in a field" (not for a wildcard or a choice: what
    # it becomes, one thing or several, is not known here, so the action stays a participle)
    ing = (
        next((k for k, m in enumerate(shape.mods) if m.kind == "ing" and not _holds_relative(toks, m)), None)
        if not unknown
        else None
    )  # "wearing a coat who is reading" keeps its "who" next to the one who reads
    thing = not is_creature(head) and head.tag not in ("PHP", "PH") and head.lower not in _COLLECTIVES
    if ing is not None and ing > 0 and thing:
        # "a stack of pancakes with syrup dripping down": after another modifier, a thing's action may be the last
        # noun's (the parser's guess is no better): it stays a participle
        ing = None
    if ing is not None:
        verb_text = base[ing][0]
        pre = join(base[:ing]) if ing else subj
        rest = ", ".join(p[0] for p in base[ing + 1 :])
        add(f"{pre} {be} {verb_text}" + (f", {rest}" if rest else ""), np=False, kind="clause")

    # the action in the simple present: "a woman who laughs in a field", "a woman laughs in a field"
    if ing is not None:
        m = shape.mods[ing]
        simple = present(doc.word(m.head), plural) if m.a == m.head and m.head not in doc.subs else None
        if simple:
            after = doc.span(m.a + 1, m.b)
            said = f"{simple} {after}".strip()
            pre = join(base[:ing]) if ing else subj
            rest = ", ".join(p[0] for p in base[ing + 1 :])
            if not unknown and not ambiguous[ing] and not related:
                parts = list(base)
                parts[ing] = (f"{who} {said}", True, "rel-present")
                add(join(parts), kind="rel-present")
            add(f"{pre} {said}" + (f", {rest}" if rest else ""), np=False, kind="clause-present")

    # "X as a bronze bust on a pedestal" -> "a bronze bust of X on a pedestal", "X in the form of a bronze bust …"
    as_at = next((k for k, m in enumerate(shape.mods) if m.kind == "pp" and toks[m.a].lower == "as"), None)
    if as_at is not None:
        m = shape.mods[as_at]
        art = next((toks[c] for c in toks[m.a].children if toks[c].dep == "pobj"), None)
        if art is not None and art.lower in _ARTWORK_FORMS and art.tag == "NN" and toks[m.a + 1].lower in ("a", "an"):
            who_text = join(base[:as_at]) if as_at else subj
            form = doc.span(m.a + 1, art.i + 1)
            after = " ".join([doc.span(art.i + 1, m.b), *(b[0] for b in base[as_at + 1 :])])
            add(f"{form} of {who_text} {after}", kind="artwork-of")
            add(f"{who_text} in the form of {form} {after}", kind="form-of")

    # "the face of an old fisherman" <-> "an old fisherman's face"
    owner = _possessive(doc, shape)
    if owner:
        add(owner, kind="possessive")

    # "12 candles on a birthday cake" -> "a birthday cake with 12 candles on it"
    inverted = _inverted(doc, shape, person)
    if inverted:
        add(inverted, kind="inverted")

    # "a bowl of ramen" said from what it holds: "ramen in a bowl", "a bowl filled with ramen"
    for text in _contents(doc, shape):
        add(text, kind="contents")

    # "a porch decorated with carved pumpkins" said from what does it: "carved pumpkins decorating a porch"
    active = _active(doc, shape, person)
    if active:
        add(active, kind="active")

    # a with-phrase right after the subject moves behind the action: "a man playing the violin, with a beard"
    if (
        len(shape.mods) >= 2
        and shape.mods[0].kind == "with"
        and shape.mods[1].kind in ("ing", "ed")
        and not any(t.tag.startswith("VB") for t in toks[shape.mods[0].a : shape.mods[0].b])
    ):
        moved = join(base[1:]) + ", " + base[0][0]
        add(moved, kind="with-moved")

    # a place or time at the end opens the phrase: "On a bridge in Prague, an elderly man playing the violin"
    front = _front_pp(doc, shape)
    if front is not None:
        fa, fb = front
        pp = doc.span(fa, fb)
        rest_np = doc.span(0, fa)
        # "in the snow, my cat sitting" is a fragment: a participle that ends what is left takes a verb instead
        dangling = any(m.kind in ("ing", "ed") and m.a < fa <= m.b for m in shape.mods)
        # "a tired clown asleep on a pew": the state after its noun takes "is" ("on a pew, a tired clown is asleep")
        state = next(
            (m for m in shape.mods if m.a == shape.head + 1 and m.b <= fa and toks[m.a].lower in _STATES_AFTER), None
        )
        # one bare noun opens as well ("over the prairie, thunderstorm": the rules backend gives it its article)
        if rest_np and (len(rest_np.split()) >= 2 or (fa == 1 and toks[0].tag in ("NN", "NNS"))):
            if state is not None:
                add(f"{pp}, {subj} {be} {doc.span(state.a, fa)}", np=False, fronted=True, kind="front-state")
            elif not dangling:
                add(f"{pp}, {rest_np}", np=False, fronted=True, kind="front")
            if ing is not None and shape.mods[ing].b == len(toks):
                m = shape.mods[ing]
                pre = join(base[:ing]) if ing else subj
                verb_text = doc.span(m.a, fa)
                if verb_text:
                    add(f"{pp}, {pre} {be} {verb_text}", np=False, fronted=True, kind="front-clause")
                    simple = present(doc.word(m.head), plural) if m.a == m.head and m.head not in doc.subs else None
                    if simple:
                        said = f"{simple} {doc.span(m.a + 1, fa)}".strip()
                        add(f"{pp}, {pre} {said}", np=False, fronted=True, kind="front-present")
    return list(out.values())


def _misread_verb(toks: Parsed) -> bool:
    """ "An old fisherman mends/NNS his nets", "The knight kneels/NNS before the queen": a sentence's verb the parser
    took for the plural head of a compound noun (an "a" cannot count a plural, a noun that is no noun's plural is
    a verb, and someone is rarely a kind of thing); a framing would read "A scene showing an old fisherman mends …"."""
    verbs, _exc = verb_lemmas()
    nouns = noun_lemmas()
    for t in toks:
        if t.dep != "ROOT" or t.tag != "NNS" or t.i == 0 or t.i + 1 >= len(toks):
            continue
        before, after = toks[t.i - 1], toks[t.i + 1]
        base = t.lower[:-2] if t.lower.endswith("es") and t.lower[:-2] in verbs else t.lower[:-1]
        if (
            before.dep == "compound"
            and before.tag in ("NN", "PHP")  # "<a detective's description> kneels/NNS on …": someone acts
            and before.head == t.i
            and base in verbs
            and after.tag in ("DT", "PRP$", "IN", "RP", "RB", "PRP")
            and (any(toks[c].lower in ("a", "an") for c in t.children) or base not in nouns or is_creature(before))
        ):
            return True
    return False


def _base_form(word: str) -> bool:
    """Whether a participle is also its verb's base form ("run", "come", "become", "cut"), so after a plural
    noun it may be the present tense."""
    verbs, _exc = verb_lemmas()
    return word in verbs and not word.endswith("ed")


def gerund(verb: str, plural: bool) -> str | None:
    """The ``-ing`` form of a simple present ("sits" → "sitting", "reads" → "reading", "flies" → "flying";
    plural: "sit" → "sitting"), or None when it is not certain (checked back with :func:`present`)."""
    w = verb.lower()
    if w in ("is", "are", "am", "has", "have", "does", "do") or not re.fullmatch(r"[a-z]+", w):
        return None
    verbs, exc = verb_lemmas()
    if plural:
        base = w
    elif w in exc:
        base = exc[w]
    elif w.endswith("ies") and w[:-3] + "y" in verbs:
        base = w[:-3] + "y"
    elif w.endswith("es") and w[:-2] in verbs and re.search(r"(?:s|sh|ch|x|z|o)$", w[:-2]):
        base = w[:-2]
    elif w.endswith("s") and not w.endswith("ss") and w[:-1] in verbs:
        base = w[:-1]
    else:
        return None
    if base not in verbs:
        return None
    if base.endswith("ie"):
        ing = base[:-2] + "ying"
    elif base.endswith("e") and not base.endswith(("ee", "ye", "oe")) and len(base) > 2:
        ing = base[:-1] + "ing"
    elif re.search(r"(?:^|[^aeiou])[aeiou][^aeiouwxy]$", base) and len(re.findall(r"[aeiou]+", base)) == 1:
        ing = base + base[-1] + "ing"  # sit -> sitting, run -> running
    else:
        ing = base + "ing"
    return ing if present(ing, plural) == w else None


def _participle_of(toks: Parsed, subs: Mapping[int, str]) -> list[Restatement]:
    """A sentence in the simple present said as its noun phrase and participle ("a ship in a bottle sits on a
    desk" → "a ship in a bottle sitting on a desk", "… that is sitting on a desk"), with the participle's own
    restatements. Only for a plain subject before one verb of the lexicon, nothing else before it."""
    roots = [t for t in toks if t.dep == "ROOT"]
    if len(roots) != 1:
        return []
    verb = roots[0]
    subject = [toks[c] for c in verb.children if toks[c].dep == "nsubj"]
    if (
        verb.tag not in ("VBZ", "VBP")
        or len(subject) != 1
        or subject[0].left != 0
        or subject[0].right != verb.i - 1
        or verb.i in subs
        or any(t.tag in ("PH", "PHP", "PHT") for t in toks)
        or any(
            toks[c].dep in ("aux", "neg", "auxpass", "nsubj", "expl", "ccomp") and c != subject[0].i
            for c in verb.children
        )
        or any(t.dep == "conj" and t.head == verb.i for t in toks)  # "a cat sits and watches": two actions
        # "a hamster napping inside a ramen bowl/VBP": a subject with a verb of its own is a misread noun phrase
        or any(t.tag.startswith("VB") or t.tag in ("WDT", "WP") for t in toks[: verb.i])
        # the verb agrees with its subject ("a cat sits", "two dogs sit"), or the tagger guessed
        or (verb.tag == "VBZ") != (subject[0].tag in ("NN", "NNP", "PRP") and not _several(subject[0]))
    ):
        return []
    ing = gerund(verb.lower, verb.tag == "VBP")
    if ing is None:
        return []
    text = "".join((ing if t.i == verb.i else t.text) + t.ws for t in toks).strip()
    parsed = parse_phrases([text])[0]
    if parsed is None or len(parsed) != len(toks) or parsed[verb.i].tag != "VBG":
        return []
    if any(a.text != b.text for a, b in zip(parsed, toks, strict=True) if a.i != verb.i):
        return []
    return [
        replace(r, kind="participle" if r.kind == "original" else r.kind)
        for r in restatements(parsed, subs)
        if r.kind not in ("clause-present", "front-present")  # the user's own sentence, or it fronted
    ]


# Parts and aspects of something, said with "of" or with a possessive ("the fur of a cat" / "a cat's fur"); not
# containers or amounts ("a bowl of ramen" is no "ramen's bowl").
_PARTS = frozenset(
    """face faces eyes eye hands hand fur coat skin hair feathers wings tail paws reflection shadow silhouette
    surface roof walls wall door windows interior ruins smile gaze expression mane horns antlers shell petals
    leaves branches trunk""".split()
)


# States said after their noun, only ever predicative ("a cat asleep", never "an asleep cat").
_STATES_AFTER = frozenset("asleep awake alone afloat adrift ablaze aglow alive afire ajar aloft astride".split())


def _holds_relative(toks: Parsed, m: _Mod) -> bool:
    """Whether a modifier holds a relative clause of the subject that the parser hung on its object ("wearing a
    coat who is reading"): moved or restated, the "who" would end up after the wrong noun."""
    return any(t.tag in ("WP", "WDT") for t in toks[m.a : m.b])


def _possessive(doc: _Doc, shape: _Shape) -> str | None:
    toks = doc.toks
    head = toks[shape.head]
    if head.lower not in _PARTS or head.tag not in ("NN", "NNS"):
        return None
    poss = next((toks[c] for c in head.children if toks[c].dep == "poss" and c < head.i), None)
    if poss is not None:  # "an old fisherman's weathered face" -> "the weathered face of an old fisherman"
        case = poss.right
        if toks[case].tag != "POS" or poss.left != 0 or poss.tag not in ("NN", "NNS"):
            return None
        owner_np = doc.span(0, case)
        rest = doc.span(case + 1, len(toks))
        return f"the {rest} of {owner_np}" if rest and case + 1 <= head.i == len(toks) - 1 else None
    if not shape.mods or shape.mods[0].kind != "pp" or toks[shape.mods[0].a].lower != "of":
        return None
    m = shape.mods[0]
    obj = next((toks[c] for c in toks[m.a].children if toks[c].dep == "pobj"), None)
    if obj is None or obj.right != m.b - 1 or obj.tag not in ("NN", "NNS"):
        return None
    if any(t.dep not in ("det", "amod", "compound", "nummod") for t in toks[m.a + 1 : obj.i]):
        return None  # only a plain owner: "of an old fisherman", not "of a man who …"
    det = toks[0] if toks[0].dep == "det" and toks[0].lower in ("the", "a", "an") else None
    part = doc.span(1 if det else 0, m.a)  # "weathered face"
    owner_np = doc.span(m.a + 1, m.b)
    rest = " ".join(b for b in (doc.span(x.a, x.b) for x in shape.mods[1:]) if b)
    mark = "'" if owner_np.endswith("s") and obj.tag == "NNS" else "'s"
    return f"{owner_np}{mark} {part}" + (f" {rest}" if rest else "")


_CONTAINERS = frozenset({"on", "in", "inside", "atop"})
# Weather, light and time are not things a subject sits on or in ("a storm with a lighthouse in it").
_NOT_CONTAINERS = (
    frozenset(
        """storm tempest rain snow fog mist haze wind night darkness dark light sunlight moonlight dusk dawn sunset
    sunrise twilight air sky space sun shade shadow shadows smoke water sea ocean background backdrop
    surface morning afternoon evening midday noon daytime nighttime day winter summer autumn spring springtime
    summertime wintertime distance foreground middle""".split()
    )
    | _MEDIUM_HEADS
)


def _inverted(doc: _Doc, shape: _Shape, person: bool) -> str | None:
    """ "N1 [doing] on/in N2" said from N2: "N2 with N1 [doing] on/in it", for things and animals (a person
    stays the head of the picture)."""
    toks = doc.toks
    if person or toks[shape.head].tag in ("PH", "PHP", "PHT") or not shape.mods or len(shape.mods) > 1:
        return None
    m = shape.mods[0]
    if m.kind == "pp":
        prep, verb_text = toks[m.a], ""
    elif m.kind == "ing":
        verb = toks[m.head]
        preps = [c for c in verb.children if c > verb.i and toks[c].dep == "prep" and toks[c].right == len(toks) - 1]
        if not preps or preps[0] != verb.i + 1:
            return None  # only "sleeping in a log", not "holding a cup in a kitchen"
        prep, verb_text = toks[preps[0]], doc.word(verb.i)
    else:
        return None
    if prep.lower not in _CONTAINERS or prep.right != len(toks) - 1:
        return None
    obj = next((toks[c] for c in prep.children if toks[c].dep == "pobj"), None)
    if obj is None or obj.tag != "NN" or obj.right != obj.i or obj.i != len(toks) - 1 or obj.lower in _NOT_CONTAINERS:
        return None  # only a plain place: "a cliff above a stormy sea with a castle on it" would be ambiguous
    if obj.lower in CLOTHING:
        return None  # "a dog in a sweater" is not "a sweater with a dog in it"
    det = next((toks[c] for c in obj.children if toks[c].dep == "det" and c < obj.i), None)
    if det is None or det.lower not in ("a", "an", "the") or det.i != prep.i + 1:
        return None
    place = doc.span(det.i, len(toks))
    thing = doc.span(*shape.subj)
    head = toks[shape.head]
    if head.lower in _WHEN or head.lower in _WEATHERS:
        return None  # "a rainy night in a big city" is a time there, never "a big city with a rainy night in it"
    if (
        head.tag == "NN"
        and head.lower not in _MASS_NOUNS
        and not any(toks[c].dep in ("det", "poss", "nummod") and c < head.i for c in head.children)
    ):
        thing = f"{article(thing)} {_lower_det(thing)}"  # "snail on a wet strawberry": "… with a snail on it"
    first = thing.split(" ", 1)[0]
    if first[:1].isupper() and not first.isupper() and is_english_word(first):
        thing = thing[:1].lower() + thing[1:]  # "Snow on a roof": "a roof with snow on it"
    middle = f" {verb_text}" if verb_text else ""
    return f"{place} with {thing}{middle} {prep.text} it"


# A state a thing is in, said from what holds it there: (participle, preposition) -> the doer's -ing form. Only
# states (a porch is decorated, a street lined with trees), never a making: "a mural painted by children" is no
# "children painting a mural", nor "a tower built of stone" any "stone building a tower".
_ACTIVE = {
    ("decorated", "with"): "decorating",
    ("adorned", "with"): "adorning",
    ("covered", "in"): "covering",
    ("covered", "with"): "covering",
    ("covered", "by"): "covering",
    ("blanketed", "in"): "blanketing",
    ("blanketed", "with"): "blanketing",
    ("blanketed", "by"): "blanketing",
    ("surrounded", "by"): "surrounding",
    ("encircled", "by"): "encircling",
    ("flanked", "by"): "flanking",
    ("framed", "by"): "framing",
    ("filled", "with"): "filling",
    ("lined", "with"): "lining",
    ("lined", "by"): "lining",
    ("dotted", "with"): "dotting",
    ("draped", "in"): "draping",
    ("draped", "with"): "draping",
    ("shrouded", "in"): "shrouding",
    ("shrouded", "by"): "shrouding",
    ("lit", "by"): "lighting",
    ("illuminated", "by"): "illuminating",
    ("run", "by"): "running",
    ("guarded", "by"): "guarding",
    ("pulled", "by"): "pulling",
    ("carried", "by"): "carrying",
    ("chased", "by"): "chasing",
    ("struck", "by"): "striking",
    ("topped", "with"): "topping",
    ("reflected", "in"): "reflecting",
    ("mirrored", "in"): "mirroring",
}


def _active(doc: _Doc, shape: _Shape, person: bool) -> str | None:
    """ "N1 [...] <state>-ed by/with/in N2" said from N2: "N2 <state>-ing N1 [...]" ("a street lined with cherry
    trees" -> "cherry trees lining a street"), when the state closes the phrase. A person stays the head of the
    picture, and a name's description is never made an object."""
    toks = doc.toks
    if person or toks[shape.head].tag in ("PH", "PHP", "PHT") or not shape.mods:
        return None
    m = shape.mods[-1]
    if m.kind != "ed" or m.b != len(toks) or m.head in doc.subs:
        return None
    verb = toks[m.head]
    if m.a != verb.i or verb.i + 1 >= len(toks):
        return None
    prep = toks[verb.i + 1]
    ving = _ACTIVE.get((verb.lower, prep.lower))
    if ving is None or prep.head != verb.i or prep.right != len(toks) - 1:
        return None
    obj = next((toks[c] for c in prep.children if toks[c].dep == "pobj"), None)
    if obj is None or obj.tag not in NOUN_TAGS or obj.left != prep.i + 1 or obj.right != len(toks) - 1:
        return None
    if any(t.tag in ("PRP", "PRP$", "PH", "PHP", "PHT", "CC") or t.lower in ("it", "them") for t in toks[obj.left :]):
        return None  # "surrounded by his friends", "lit by [[0]]", "covered in snow and ice": kept as written
    doer = doc.span(obj.left, len(toks))
    return f"{doer} {ving} {_lower_det(doc.span(0, m.a))}"


# What holds its contents ("a bowl of ramen" = "ramen in a bowl" = "a bowl filled with ramen"), what carries them
# on top ("a plate of cookies" = "cookies on a plate"), and what they are laid in ("a stack of waffles" = "waffles
# in a stack"; never "stacked up", which loses the word a reader checks it by).
_HOLDERS = frozenset("bowl cup mug glass jar bottle basket box crate bucket vase pot jug teacup tin bag barrel".split())
_CARRIERS = frozenset("plate tray platter".split())
_LAYS = frozenset("stack pile heap row".split())


def _contents(doc: _Doc, shape: _Shape) -> list[str]:
    """ "a <holder> of <contents> [place]" said from its contents, for a holder with "a"/"an" and contents
    without an article of their own ("a bowl of ramen", "a stack of 6 fluffy waffles")."""
    toks = doc.toks
    head = toks[shape.head]
    if head.lower not in _HOLDERS | _CARRIERS | _LAYS or head.tag != "NN" or not shape.mods:
        return []
    bare = toks[0].tag != "DT"  # "steaming bowl of ramen": one bowl, said with its article
    if (not bare and toks[0].lower not in ("a", "an")) or any(
        t.tag not in ("DT", "JJ", "NN", "VBN", "VBG") for t in toks[int(not bare) : shape.head]
    ):
        return []
    m = shape.mods[0]
    if m.kind != "pp" or toks[m.a].lower != "of" or m.a != shape.head + 1:
        return []
    obj = next((toks[c] for c in toks[m.a].children if toks[c].dep == "pobj"), None)
    if obj is None or obj.tag not in ("NN", "NNS") or obj.right != m.b - 1 or m.b - m.a < 2:
        return []
    if any(t.tag in ("DT", "PRP$", "CC", "PH", "PHP", "PHT") for t in toks[m.a + 1 : m.b]):
        return []  # "a bowl of the soup", "a cup of tea and cake": kept as written
    if any(x.kind not in ("pp", "with") for x in shape.mods[1:]):
        return []
    contents = doc.span(m.a + 1, m.b)
    holder = doc.span(0, shape.head + 1)
    holder = f"{article(holder)} {holder[:1].lower()}{holder[1:]}" if bare else _lower_det(holder)
    rest = doc.span(m.b, len(toks))
    tail = f" {rest}" if rest else ""
    if head.lower in _HOLDERS:
        return [f"{contents} in {holder}{tail}", f"{holder} filled with {contents}{tail}"]
    if head.lower in _CARRIERS:
        return [f"{contents} on {holder}{tail}"]
    return [f"{contents} in {holder}{tail}"]


def _lower_det(text: str) -> str:
    """A phrase that opened the line, now after a verb: "The old house" -> "the old house"."""
    return re.sub(r"^(A|An|The)\b", lambda x: x.group(1).lower(), text)


def _tail(toks: Parsed, k: int) -> Parsed | None:
    """Tokens ``k``… as a phrase of their own: indices from 0, the one hung outside the span its root."""
    sub = toks[k:]
    roots = [t for t in sub if t.head < k or t.head == t.i]
    if len(roots) != 1:
        return None
    out = []
    for t in sub:
        root = t is roots[0]
        out.append(
            replace(
                t,
                i=t.i - k,
                head=t.i - k if root else t.head - k,
                dep="ROOT" if root else t.dep,
                left=max(t.left, k) - k,
                right=t.right - k,
                children=tuple(c - k for c in t.children if c >= k),
            )
        )
    return tuple(out)


def _medium_of(doc: _Doc, shape: _Shape) -> list[Restatement] | None:
    """ "portrait of a girl with freckles": the medium stays the head, what it shows is restated on its own
    ("portrait of a girl who has freckles", "a girl with freckles, portrait", "portrait showing …")."""
    toks = doc.toks
    if not shape.mods or shape.mods[0].kind != "pp":
        return None
    m = shape.mods[0]
    if toks[m.a].lower != "of" or m.a != shape.head + 1:
        return None
    medium = doc.span(0, m.a)
    if medium.lower().split()[-1] not in _MEDIUM_HEADS:  # "portrait", "close-up" (tokenised close - up)
        return None
    inner_text = doc.span(m.a + 1, len(toks))  # what follows "of", however the parser hung its pieces
    framed = bool(re.match(r"(?:a|an|the)\s", medium, re.IGNORECASE))
    inner = _tail(toks, m.a + 1)
    subs = {i - (m.a + 1): w for i, w in doc.subs.items() if i > m.a}
    forms = [r for r in restatements(inner, subs) if r.np] if inner is not None else [Restatement(inner_text)]
    out: dict[str, Restatement] = {}
    for r in forms:
        for text, kind in (
            (f"{medium} of {r.text}", r.kind or "original"),
            (f"{r.text}, {medium}", "medium-after"),
            (f"{medium} showing {r.text}", "medium-showing"),
        ):
            out.setdefault(text, Restatement(text, kind=kind, framed=framed))
        if not framed:  # "portrait of X" may also be "a portrait of X", which a framing can open
            text = f"{article(medium)} {medium} of {r.text}"
            out.setdefault(text, Restatement(text, kind="medium-article"))
    return list(out.values())


def _whose_options(doc: _Doc, m: _Mod, person: bool, plural: bool) -> list[tuple[str, bool, str]]:
    """``whose fur looks like a strawberry`` said with a with-phrase, a participle or an adjective."""
    toks = doc.toks
    verb = toks[m.head]
    subj = next((toks[c] for c in verb.children if toks[c].dep in ("nsubj", "nsubjpass") and c < verb.i), None)
    if subj is None or subj.left != m.a or doc.word(m.a).lower() != "whose":
        return []
    part = doc.span(m.a + 1, subj.right + 1)  # "fur"
    if (
        verb.tag in ("VBN", "VBG")
        and subj.right + 2 == verb.i
        and toks[subj.right + 1].dep in ("aux", "auxpass")
        and toks[subj.right + 1].lower in ("is", "are")
        and part
    ):  # "whose fur is patterned like a rug" = "with fur patterned like a rug" = "…, its fur patterned like a rug"
        said = doc.span(verb.i, m.b)
        with_said: list[tuple[str, bool, str]] = [(f"with {part} {said}", True, "with-said")]
        if not person:
            with_said.append((f", {'their' if plural else 'its'} {part} {said}", True, "its"))
        return with_said
    if subj.right + 1 != verb.i:
        return []
    rest = doc.span(verb.i + 1, m.b)  # "like a strawberry"
    v = doc.word(verb.i)
    if not part or verb.tag not in ("VBZ", "VBP"):
        return []
    opts: list[tuple[str, bool, str]] = [(f"with {part} that {v} {rest}".strip(), True, "with-that")]
    ing = _ing(v)
    poss = "their" if plural else "its"
    if ing and not person:
        opts.append((f", {poss} {part} {ing} {rest}".strip(), True, "its"))
    like = rest.lower().startswith("like ") and v.lower() in _LIKE_VERBS
    if like:
        z = rest[5:].strip()
        opts.append((f"with {part} like {z}", True, "with-like"))
        resemble = _RESEMBLE.get(v.lower())
        if resemble:
            opts.append((f"whose {part} {resemble} {z}", True, "resembles"))
            opts.append((f"with {part} resembling {z}", True, "resembling"))
            opts.append((f"with {part} that {resemble} {z}", True, "with-that-resembles"))
            if not person:
                opts.append((f", {poss} {part} resembling {z}", True, "its-resembling"))
        if doc.toks[subj.i].lower in _PATTERNED:  # the issue's own example: "its fur patterned like a strawberry"
            if not person:
                opts.append((f", {poss} {part} patterned like {z}", True, "its-patterned"))
            opts.append((f"with {part} patterned like {z}", True, "patterned"))
        zt = list(toks[verb.i + 2 : m.b])
        nouns = [t for t in zt if t.tag in NOUN_TAGS]
        simple_z = len(nouns) == 1 and all(t.dep == "det" or t is nouns[0] for t in zt)
        single_part = subj.left == subj.i - 1  # "whose fur": no adjectives of its own
        if simple_z and single_part:
            opts.append((f"with {doc.word(nouns[0].i)}-like {part}", False, "z-like"))
    return opts


# --- comma items ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fold:
    """How a comma item can join the subject sentence."""

    kind: str  # medium, time, light, setting, object, weather, mood, attribute
    joined: tuple[str, ...] = ()  # the item after the sentence ("at golden hour", "with 1 palm tree")
    fronted: str = ""  # the item as an opening ("At golden hour")
    prefix: str = ""  # a medium as the head ("a pencil sketch of")
    suffix: tuple[str, ...] = ()  # a medium after the sentence ("captured in a 1970s photo")
    items: tuple[str, ...] = ()  # the item said another way, still an item ("moody atmosphere")
    attribute: str = ""  # an adjective that can join the subject ("a tired cashier")


# Weather said as an adjective item or as a phrase ("…, misty" / "… in the mist").
_WEATHER = {
    "misty": ("in the mist",),
    "foggy": ("in the fog",),
    "rainy": ("in the rain",),
    "snowy": ("in the snow",),
    "stormy": ("in a storm",),
    "overcast": ("under an overcast sky",),
    "sunny": ("in the sunshine",),
    "windy": ("in the wind",),
    "cloudy": ("under a cloudy sky",),
    "hazy": ("in the haze",),
}
# A mood adjective alone as an item: "…, moody" / "…, moody atmosphere".
_MOODS = frozenset(
    """dramatic moody atmospheric dreamy whimsical eerie serene peaceful melancholic melancholy nostalgic gloomy
    mysterious epic surreal ethereal romantic cozy cosy tranquil ominous somber sombre joyful playful""".split()
)
# A genre named alone as an item, said with what it gives the picture.
_GENRES = frozenset(
    {
        *"gothic horror|film noir|noir|cyberpunk|steampunk|dieselpunk|solarpunk|dark fantasy|high fantasy".split("|"),
        *"sci-fi|science fiction|horror|fantasy|gothic|vaporwave|synthwave|retrowave|cottagecore".split("|"),
        *"dark academia|art deco|western|space opera|post-apocalyptic|dystopian|utopian".split("|"),
    }
)
_LOOKS = frozenset("cinematic photorealistic hyperrealistic realistic minimalist vintage retro futuristic".split())
# How someone is, said as a separate item ("cashier wearing a cap, tired" = "a tired cashier wearing a cap").
_ATTRIBUTES = frozenset(
    """tired happy sad angry exhausted sleepy lonely bored scared surprised curious proud determined focused
    pensive thoughtful worried relaxed excited shy nervous confident grumpy annoyed cheerful joyful weary
    frightened anxious calm content""".split()
)
# Media that are no countable thing ("claymation", "food photography"): they follow the sentence, never head it.
_MASS_MEDIA = frozenset(
    """photography claymation animation art cgi watercolor watercolour gouache anime manga impasto pointillism
    cubism impressionism expressionism surrealism stop-motion""".split()
) | {"stop motion", "pixel art", "line art", "concept art", "digital art", "oil on canvas", "ink wash"}
_PHOTO_HEADS = frozenset("photo photograph snapshot shot still polaroid selfie screenshot postcard scan".split())
# How a medium is said after the sentence, in its own craft's words ("…, drawn as a pencil sketch").
_MEDIUM_VERBS: Mapping[str, tuple[str, ...]] = {
    **dict.fromkeys(_PHOTO_HEADS - {"shot"}, ("captured in", "shown in", "shot as")),
    "shot": ("captured in", "shown in"),  # never "shot as a luxury advertising shot"
    **dict.fromkeys("watercolor watercolour mural fresco".split(), ("painted as", "shown in", "depicted in")),
    "painting": ("shown in", "depicted in", "done as"),  # never "painted as an oil painting"
    "portrait": ("shown in", "depicted in"),  # a studio portrait is no painting
    **dict.fromkeys("sketch drawing illustration doodle".split(), ("drawn as", "shown in", "depicted in")),
    **dict.fromkeys("render rendering".split(), ("shown as", "shown in", "depicted in")),  # not "rendered as a render"
    **dict.fromkeys("poster engraving etching woodcut lithograph".split(), ("printed as", "shown in", "depicted in")),
    "print": ("shown in", "depicted in"),
}
# How a camera sees, said with its noun ("…, macro" / "…, macro shot").
_SHOTS = frozenset({
    "macro", "close-up", "closeup", "extreme close-up", "long exposure", "tilt-shift", "fisheye", "wide angle",
    "wide-angle", "low angle", "high angle", "dutch angle", "overhead", "aerial", "telephoto", "extreme macro",
})  # fmt: skip
# Resolution tags said with their noun ("…, 8k" / "…, 8k resolution").
# A view said another way, its words kept (never "top view" → "from above": that is a direction of its own).
_VIEWS = {
    "side view": ("side-on view", "view from the side"),
    "overhead shot": ("overhead view", "shot from overhead"),
    "aerial shot": ("aerial view", "aerial photo"),
    "drone shot": ("shot from a drone", "drone view"),
    "aerial drone shot": ("aerial shot from a drone", "aerial view from a drone"),
    "low angle shot": ("low angle view", "shot from a low angle"),
    "low-angle shot": ("low-angle view", "shot from a low angle"),
    "high angle shot": ("high angle view", "shot from a high angle"),
    "high-angle shot": ("high-angle view", "shot from a high angle"),
    "wide shot": ("wide view",),
    "close-up shot": ("close-up view",),
    "top-down shot": ("top-down view",),
    "top-down view": ("top-down shot",),
    "overhead view": ("overhead shot", "view from overhead"),
    "aerial view": ("aerial shot", "aerial perspective"),
    "profile view": ("view in profile",),
}
# What is in the sky, said as what the subject is under (the sky's own words kept: "clouds" stays "clouds").
_SKY_THINGS = {
    "clouds": ("with clouds", "under the clouds", "with clouds overhead"),
    "stars": ("with stars", "under the stars", "with stars overhead"),
    "full moon": ("with a full moon", "under a full moon", "with a full moon overhead"),
    "moon": ("with the moon", "under the moon"),
    "starry sky": ("under a starry sky",),
    "night sky": ("under the night sky",),
    "blue sky": ("under a blue sky",),
    "cloudy sky": ("under a cloudy sky",),
    "stormy sky": ("under a stormy sky",),
    "dramatic sky": ("under a dramatic sky",),
    "milky way": ("under the milky way", "with the milky way overhead"),
    "aurora": ("under the aurora", "with the aurora overhead"),
    "northern lights": ("under the northern lights", "with the northern lights overhead"),
}
# A camera lens named as an item ("fisheye lens", "85mm lens", "wide-angle lens"): how the picture was shot.
_LENS = re.compile(r"(?:[a-z0-9\-]+\s){1,2}lens|\d{2,4}mm\s+telephoto")  # "600mm telephoto" too
_RESOLUTIONS = frozenset("4k 8k 16k 2k uhd hd".split())
# How a light is, said of what it lights ("soft window light" = "softly lit by window light").
_LIGHT_ADVERBS = {
    "soft": "softly",
    "dramatic": "dramatically",
    "dim": "dimly",
    "bright": "brightly",
    "harsh": "harshly",
    "warm": "warmly",
    "gentle": "gently",
    "natural": "naturally",
}
# ("as night falls" is dusk, not night)
_FALLS = {"dusk": "as dusk falls", "dawn": "as dawn breaks", "twilight": "as twilight falls"}


_ADJECTIVAL = frozenset({"amod", "compound", "nummod", "det", "npadvmod"})


def fold(toks: Parsed | None, text: str) -> Fold | None:
    """How item ``text`` (its parse ``toks``) can join the sentence, or None when it stays an item."""
    words = text.strip()
    low = " ".join(words.lower().split())
    if not words or re.search(r"\[\[\d+\]\]", words):
        return None
    if low in _TIMES:
        prep = _TIMES[low]
        joined = [f"{prep} {low}"]
        if low in _FALLS:
            joined.append(_FALLS[low])
        if low in ("sunset", "sunrise"):
            joined.append(f"in the glow of {low}")
        if low == "night":
            joined += ["at nighttime", "by night"]
        if low == "dawn":
            joined.append("at daybreak")
        if low in ("golden hour", "blue hour"):
            joined.append(f"in {low} light")
        return Fold("time", tuple(joined), f"{prep.capitalize()} {low}")
    last_word = low.split()[-1]
    if (
        (last_word in _MASS_MEDIA or low in _MASS_MEDIA)
        and low not in ("art", "anime", "manga")
        and len(low.split()) <= 3
        and not re.search(r"[^\w\s\-]", low)
    ):  # "…, in the style of food photography"
        if low == "oil on canvas":
            return Fold("medium", suffix=("painted in oil on canvas",))
        if last_word == "photography":
            return Fold("medium", suffix=(f"in the style of {words}",))
        return Fold("medium", suffix=(f"in the style of {words}", f"done in {words}"))
    if low in _WEATHER:
        return Fold("weather", _WEATHER[low], _WEATHER[low][0][:1].upper() + _WEATHER[low][0][1:])
    if low in _MOODS:  # "moody" is not said "moody mood"
        return Fold("mood", items=tuple(f"{low} {n}" for n in ("mood", "atmosphere") if not low.startswith(n)))
    if low in _LOOKS:
        return Fold("mood", items=(f"{low} look", f"{low} style"))
    style = re.fullmatch(r"([a-z0-9][a-z0-9\- ]*?) style", low)
    if style and words.lower() == low and not style.group(1).endswith(("-", " in", " of", " the")):
        # "…, comic style" / "…, comic aesthetic" / "…, done in comic style": the same look
        return Fold("mood", items=(f"{style.group(1)} aesthetic", f"done in {low}"))
    if low in _GENRES:  # "…, gothic horror" / "…, gothic horror atmosphere"
        return Fold("mood", items=(f"{low} style", f"{low} aesthetic", f"{low} atmosphere"))
    if low in _SHOTS:  # (a long exposure or a tilt-shift is how it was shot, never a "view")
        views = ("shot",) if low in ("long exposure", "tilt-shift") else ("shot", "view")
        return Fold("mood", items=tuple(f"{words} {v}" for v in views))
    if low in _VIEWS:  # "…, side view" / "…, view from the side"
        return Fold("mood", items=_VIEWS[low])
    if low in _SKY_THINGS:  # "…, clouds" / "… under the clouds" / "…, with clouds overhead"
        return Fold("object", _SKY_THINGS[low])
    if _LENS.fullmatch(low):  # "…, fisheye lens" = "…, shot with a fisheye lens" / "…, through a fisheye lens"
        lead = f"{article(words)} {words}"
        return Fold("mood", items=(f"shot with {lead}", f"seen through {lead}"))
    if re.fullmatch(r"\d{2,3}mm", low):  # "…, 85mm" = "…, 85mm lens" / "taken with an 85mm lens"
        return Fold("mood", items=(f"{low} lens", f"taken with {article(low)} {low} lens"))
    if _DECADE.fullmatch(low):  # "…, 1840s" = "… in the 1840s" (never "with 1840s": a decade is no thing)
        return Fold("time", (f"in the {low}",), f"In the {low}")
    if low in _RESOLUTIONS or (len(low.split()) == 2 and all(w in _RESOLUTIONS for w in low.split())):
        return Fold("mood", items=(f"{words} resolution", f"in {words}"))
    if low in _ATTRIBUTES:
        return Fold("attribute", attribute=low)
    if (otherwise := _said_otherwise(" ".join(words.split()))) is not None:
        return otherwise
    if toks is None:
        return None
    named = re.split(r"\s+(?:with|of|in|and)\s+", low)[0].split()[-1]
    if " with " in low and (named in _MEDIUM_HEADS or named.rstrip("s") in _MEDIUM_HEADS or named in _STYLE_NOUNS):
        return None  # "…, serene layered-tone prints with soft gradients": a look, never "with … prints"
    last = toks[-1]
    if (
        len(toks) >= 2
        and last.tag in ("VBG", "VBN")
        and all(t.tag in NOUN_TAGS | {"JJ", "CD", "DT", "VBZ"} for t in toks[:-1])
    ):
        first_noun = toks[-2]
        if first_noun.lower.endswith("s") or any(t.tag in ("DT", "CD") for t in toks[:-1]):
            # "sparks flying", "tools scattered"; an event also as a clause: "… as sparks fly"
            several = _several(first_noun) or bool(re.search(r"[^s]s$", first_noun.lower))
            event = _as_event(toks[:-1], last, several)
            return Fold("object", (f"with {words}", *event))
    roots = [t for t in toks if t.dep == "ROOT"]
    if len(roots) != 1:
        return None
    root = roots[0]
    # a count is a determiner ("3 robots"), a decade is not ("1950s advertisement")
    det = any(
        toks[c].dep in ("det", "poss") or (toks[c].dep == "nummod" and not _DECADE.fullmatch(toks[c].lower))
        for c in root.children
        if c < root.i
    )
    article_det = any(toks[c].dep in ("det", "poss") for c in root.children if c < root.i)
    has_verb = any(t.tag.startswith("VB") for t in toks)
    if root.tag in NOUN_TAGS and root.left == 0 and not any(t.tag in (",", ":") for t in toks):
        head = root.lower
        pre_only = root.right == root.i  # nothing after the head ("rainy street", "1970s photo")
        adjectival = all(
            toks[c].dep in ("amod", "compound", "nummod", "det", "npadvmod") for c in root.children if c < root.i
        )
        if head in _MEDIUM_HEADS and pre_only and adjectival and root.tag == "NN":
            lead = words if article_det else f"{article(words)} {words}"
            verbs = _MEDIUM_VERBS.get(head, ("depicted in", "shown in", "rendered as"))
            return Fold("medium", prefix=f"{lead} of", suffix=tuple(f"{v} {lead}" for v in verbs))
        if head in _DAY_PARTS and pre_only and adjectival and root.i > 0 and root.tag == "NN":
            lead = words if article_det else f"{article(words)} {words}"
            return Fold("time", (f"on {lead}",), f"On {lead}")  # "on a rainy evening"
        if head in _SEASONS and pre_only and not det:
            return Fold("time", (f"in {words}",), f"In {words}")  # "in late summer"
        # "warm light glowing from the small windows" has its own source: no light the subject is bathed in
        own_source = any(toks[c].dep in ("acl", "relcl", "prep") and c > root.i for c in root.children)
        if head in _LIGHT_HEADS and root.tag == "NN" and not own_source:
            light: tuple[str, ...] = (
                f"in {words}",
                f"bathed in {words}",
                f"lit by {words}",
                f"illuminated by {words}",
                f"under {words}",
            )
            adverb = _LIGHT_ADVERBS.get(toks[0].lower) if toks[0].dep == "amod" and len(toks) > 2 else None
            if adverb and head in ("light", "lighting"):  # "soft window light" = "softly lit by window light"
                rest = "".join(t.text + t.ws for t in toks[1:]).strip()
                light += (f"{adverb} lit by {rest}",)
            return Fold("light", light, f"In {words}")
        if head in ("background", "backdrop") and pre_only and adjectival and root.tag == "NN" and root.i > 0:
            lead = words if article_det else f"{article(words)} {words}"  # "…, green background"
            return Fold("setting", (f"against {lead}", f"set against {lead}"), f"Against {lead}")
        # "rain outside", "rain on the window": it says where itself, so it is no setting ("in the rain on …")
        where = any(toks[c].dep in ("advmod", "prep") and c > root.i for c in root.children)
        if head in _SETTINGS and adjectival and root.tag == "NN" and not where:
            prep, art = _SETTINGS[head]
            lead = words if det else f"{art if art == 'the' else article(words)} {words}"
            said = [f"{prep} {lead}"]
            if prep == "in" and "inside" in alternatives("in", "IN", head):  # "inside a forge", never "inside rain"
                said.append(f"inside {lead}")
            return Fold("setting", tuple(said), f"{prep.capitalize()} {lead}")
        if head in _MEDIUM_HEADS:
            return None  # "children's book illustration" is how it is drawn, not something with it
        if _is_person(root):
            return None  # "my grandpa, a retired mechanic": the same one said again, no one "with" him
        if root.tag in _MASS_OR_PLURAL_OK or det:
            return Fold("object", (f"with {words}", *_acl_event(toks, root), *_behind(toks, root)))
        return None
    if has_verb and root.tag == "VBG":  # "sparks flying", "smoke rising from chimneys"
        subj = [c for c in root.children if toks[c].dep == "nsubj" and c < root.i]
        if (
            subj
            and toks[subj[0]].left == 0
            and (
                toks[subj[0]].tag in _MASS_OR_PLURAL_OK
                or _has_det(toks, subj[0])
                or toks[subj[0]].lower in _MASS_NOUNS  # "smoke rising from chimneys"
            )
        ):
            s = toks[subj[0]]
            clause: tuple[str, ...] = ()
            if s.right == root.i - 1 and not any(toks[c].dep in ("dobj", "obj") for c in root.children):
                rest = "".join(t.text + t.ws for t in toks[root.i + 1 :]).strip()
                clause = _as_event(toks[: root.i], root, _several(s), rest)
            return Fold("object", (f"with {words}", *clause))
    return None


# Light that comes through or from somewhere, said with how it comes ("light through the window" = "light
# streaming through the window"): the light, its source and its direction stay.
_LIGHT_ITEM = re.compile(
    r"(?P<np>(?:[\w\-]+\s){0,2}(?:light|sunlight|moonlight|daylight|lamplight|firelight|candlelight|sun|sunbeams|"
    r"rays|beams|shafts))\s+(?P<prep>through|from)\s+(?P<rest>[\w\-\s']+)",  # ("light shafts": a word before)
    re.IGNORECASE,
)
_DIRECTIONS = frozenset(
    {"above", "below", "behind", "the left", "the right", "the side", "one side", "the front", "the back"}
)
# What light comes through as through an opening (it pours through a window, never through the rain).
_OPENINGS = frozenset(
    """window windows glass curtain curtains blinds shutters door doors doorway cracks crack gaps gap skylight
    skylights roof ceiling canopy leaves trees branches clouds arches arch bars slats porthole portholes""".split()
)
# Smoke and steam from something, said with how they leave it (the thesaurus's rising/curling twins).
_SMOKE_ITEM = re.compile(r"(?P<np>(?:[\w\-]+\s){0,2}(?:smoke|steam))\s+from\s+(?P<rest>[\w\-\s']+)", re.IGNORECASE)
# Stuff in the air, said with how it stays there: fine stuff hangs, light things float or drift.
_HANGS = frozenset("dust flour pollen ash glitter spores motes particles haze smoke".split())
_DRIFTS = frozenset("petals leaves feathers snowflakes confetti bubbles embers seeds blossoms".split())
_IN_THE_AIR_WAYS: Mapping[str, tuple[str, ...]] = {
    **dict.fromkeys(_HANGS, ("hanging in", "floating in")),
    **dict.fromkeys(_DRIFTS, ("floating in", "drifting in")),
    "sparks": ("flying through",),
}
_IN_THE_AIR = re.compile(r"(?P<np>(?:[\w\-]+\s){0,2}(?P<head>[a-z]+))\s+in\s+the\s+air", re.IGNORECASE)
# Something far away, said as distant ("volcano in the distance" = "a distant volcano").
_IN_THE_DISTANCE = re.compile(
    r"(?P<det>(?:a|an|the)\s+)?(?P<np>(?:[a-z][a-z\-]*\s){0,2}[a-z][a-z\-]*)\s+in\s+the\s+distance", re.IGNORECASE
)
_NOT_IN_NP = frozenset("and or with of on in at by is are her his their its".split())
# What lies on a surface as a coat, said of the surface ("frost on the walls" = "the walls covered in frost").
_COATINGS: Mapping[str, tuple[str, ...]] = {
    "frost": ("covered in", "coated with"),
    "dew": ("wet with", "beaded with"),
    "condensation": ("fogged with", "beaded with"),
    "rain": ("streaked with", "wet with"),
    "raindrops": ("streaked with", "beaded with"),
    "droplets": ("beaded with",),
    "water droplets": ("beaded with",),
    "dust": ("covered in", "coated with"),
    "moss": ("covered in", "overgrown with"),
    "ivy": ("covered in", "overgrown with"),
    "vines": ("covered in", "overgrown with"),
    "snow": ("covered in",),
    "ice": ("coated with", "covered in"),
    "rust": ("covered in",),
    "cobwebs": ("covered in",),
    "graffiti": ("covered in",),
}
_COATING_ON = re.compile(
    r"(?P<stuff>" + "|".join(sorted(map(re.escape, _COATINGS), key=len, reverse=True)) + r")\s+on\s+"
    r"(?P<det>the|a|an|its|their)\s+(?P<np>(?:[a-z][a-z\-]*\s){0,2}[a-z][a-z\-]*)",
    re.IGNORECASE,
)


def _said_otherwise(words: str) -> Fold | None:
    """A comma item said another way that keeps all its things and adds how they are ("smoke from the chimney"
    → "smoke rising from the chimney", "volcano in the distance" → "a distant volcano"), else None."""
    if m := _LIGHT_ITEM.fullmatch(words):
        np, prep, rest = m.group("np"), m.group("prep").lower(), m.group("rest").strip()
        if prep == "through" and rest.lower().split()[-1] in _OPENINGS:
            verbs: tuple[str, ...] = ("streaming", "pouring", "coming")
        elif prep == "through":
            verbs = ("streaming",)  # "neon light through the rain" does not pour
        elif rest.lower() in _DIRECTIONS:
            verbs = ("coming", "falling") if rest.lower() == "above" else ("coming",)
        else:
            verbs = ("streaming", "coming")
        return Fold("mood", items=tuple(f"{np} {v} {prep} {rest}" for v in verbs))
    if m := _SMOKE_ITEM.fullmatch(words):
        return Fold(
            "mood", items=tuple(f"{m.group('np')} {v} from {m.group('rest').strip()}" for v in ("rising", "curling"))
        )
    if m := _IN_THE_AIR.fullmatch(words):
        head = m.group("head").lower()
        if ways := _IN_THE_AIR_WAYS.get(head, ()):
            return Fold("mood", items=tuple(f"{m.group('np')} {way} the air" for way in ways))
    if m := _COATING_ON.fullmatch(words):  # "frost on the walls" = "the walls covered in frost"
        stuff, det, np = m.group("stuff"), m.group("det"), m.group("np")
        if not any(w.lower() in _NOT_IN_NP or w.lower().endswith("ing") for w in np.split()):
            return Fold("mood", items=tuple(f"{det} {np} {v} {stuff}" for v in _COATINGS[stuff.lower()]))
    if m := _IN_THE_DISTANCE.fullmatch(words):
        np = m.group("np")
        if not any(w.lower() in _NOT_IN_NP or w.lower().endswith("ing") for w in np.split()) and np.lower() != "far":
            det = (m.group("det") or "").strip()
            said = f"distant {np}"
            lead = "the " if det.lower() == "the" else f"{article(said)} " if det else ""
            return Fold("mood", items=(lead + said,))
    return None


# Stuff, not things: it needs no article to act ("smoke rising", "steam curling").
_MASS_NOUNS = frozenset(
    """smoke steam fog mist snow rain water fire dust sand lava ice blood sunlight moonlight starlight light
    wind foam spray ash ink paint""".split()
)


def _bare_compound(toks: Parsed, subj: Tok, verb: Tok) -> bool:
    """ "ancient temple ruins/VBZ": a bare singular noun right before a plural noun the parser read as its verb
    is a compound ("the temple ruins" would have had its article)."""
    bare = not any(toks[c].dep in ("det", "poss", "nummod") for c in subj.children)
    if bare and subj.i == verb.i - 1 and verb.tag == "VBP" and verb.lower in noun_lemmas():
        # "ramen bowl/VBP with chopsticks": a thing that does nothing, and a noun the parser read as its verb
        # (what lives does act: "kids play in a park")
        return not is_creature(subj) and subj.tag != "PRP"
    return subj.tag == "NN" and subj.i == verb.i - 1 and verb.tag == "VBZ" and bare


def _behind(toks: Parsed, root: Tok) -> tuple[str, ...]:
    """ "a waterfall in the background" joined as "with a waterfall behind": the same place in the picture."""
    if len(toks) < root.i + 4 or [t.lower for t in toks[-3:]] != ["in", "the", "background"]:
        return ()
    prep = toks[-3]
    if prep.head != root.i or prep.i != root.right - 2 or any(t.tag in ("CC", ",") for t in toks[: prep.i]):
        return ()
    said = "".join(t.text + t.ws for t in toks[: prep.i]).strip()
    return (f"with {said} behind",)


def _acl_event(toks: Parsed, root: Tok) -> tuple[str, ...]:
    """ "3 robots selling noodles" (a noun with its action) also as a clause: "as 3 robots sell noodles"."""
    acts = [toks[c] for c in root.children if toks[c].dep == "acl" and toks[c].tag == "VBG" and c == root.i + 1]
    if not acts or (root.tag not in _MASS_OR_PLURAL_OK and not _has_det(toks, root.i)):
        return ()
    rest = "".join(t.text + t.ws for t in toks[acts[0].i + 1 :]).strip()
    return _as_event(toks[: root.i + 1], acts[0], _several(root), rest)


def _as_event(subject: Sequence[Tok], verb: Tok, plural: bool, rest: str = "") -> tuple[str, ...]:
    """An item that is an event said as a clause: "sparks flying" → "as sparks fly" (none when its verb has
    no certain present tense)."""
    said = present(verb.text, plural)
    if said is None:
        return ()
    who = "".join(t.text + t.ws for t in subject).strip()
    return (" ".join(x for x in ("as", who, said, rest) if x),)


_DECADE = re.compile(r"(?:\d{2})?\d0['’]?s")


def _has_det(toks: Parsed, i: int) -> bool:
    return any(toks[c].dep in ("det", "poss", "nummod") for c in toks[i].children if c < i)
