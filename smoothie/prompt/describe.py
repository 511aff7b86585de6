"""What a name's description may say in a given prompt: the user's own words win.

A character's description (``aqua hair, twintails, detached sleeves`` in a tag prompt, "a teal-haired anime
girl with long twin tails" in a sentence) describes how the character usually looks. The prompt may say
otherwise — Link "in a blue tunic", Miku with pink hair, a short-haired cosplay — and then the description's
contradicting part is dropped, never the user's. What the prompt already says is not said twice.

:func:`cues` reads the prompt once: the colours the user gave each thing (``pink hair`` → hair: pink, ``blue
tunic`` → tunic: blue, ``red-eyed`` → eyes: red), which exclusive choices are made (hair length, hairstyle),
the prompt's own tags, and who is in it (gender words). :func:`fit_tags` and :func:`fit_phrase` filter a
description against them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from smoothie.prompt.invariants import COLOUR_WORDS, FEMALE_WORDS, MALE_WORDS
from smoothie.prompt.nlp import adjective_lemmas, noun_lemmas
from smoothie.prompt.tables import normalise_form
from smoothie.prompt.text import fix_articles

# Colours as prompts write them; "golden hour", "silver screen" are not colours of a thing (checked by noun).
COLOUR = (
    r"(?:light|dark|pale|bright|deep|pastel|neon)?[\s\-]?(?:"
    + "|".join(
        sorted((c for c in COLOUR_WORDS if c not in ("colorful", "colourful", "rainbow")), key=len, reverse=True)
    )
    + r")"
)
# A thing and the slot its colour belongs to: "twin tails" and "ponytail" are the hair, "irises" the eyes.
_SLOT_OF = {
    "hair": "hair",
    "haired": "hair",
    "twintails": "hair",
    "twin tails": "hair",
    "ponytail": "hair",
    "pigtails": "hair",
    "braid": "hair",
    "braids": "hair",
    "bob": "hair",
    "locks": "hair",
    "curls": "hair",
    "bangs": "hair",
    "mane": "hair",
    "eyes": "eyes",
    "eye": "eyes",
    "eyed": "eyes",
    "irises": "eyes",
    "skin": "skin",
    "skinned": "skin",
    "dress": "dress",
    "gown": "dress",
    "shirt": "shirt",
    "blouse": "shirt",
    "top": "shirt",
    "tunic": "tunic",
    "jacket": "jacket",
    "coat": "coat",
    "cap": "headwear",
    "hat": "headwear",
    "beret": "headwear",
    "headwear": "headwear",
    "hood": "hood",
    "hoodie": "hoodie",
    "scarf": "scarf",
    "bow": "bow",
    "ribbon": "ribbon",
    "armor": "armor",
    "armour": "armor",
    "suit": "suit",
    "bodysuit": "bodysuit",
    "leotard": "leotard",
    "skirt": "skirt",
    "pants": "pants",
    "trousers": "pants",
    "shorts": "shorts",
    "boots": "boots",
    "gloves": "gloves",
    "cape": "cape",
    "cloak": "cape",
    "kimono": "kimono",
    "uniform": "uniform",
    "sweater": "sweater",
    "vest": "vest",
    "tie": "necktie",
    "necktie": "necktie",
    "headband": "headband",
    "hairband": "hairband",
    "bikini": "swimsuit",
    "swimsuit": "swimsuit",
    "sleeves": "sleeves",
    "thighhighs": "legwear",
    "stockings": "legwear",
    "pantyhose": "legwear",
    "socks": "socks",
    "shoes": "shoes",
    "sash": "sash",
    "robe": "robe",
    "horns": "horns",
    "wings": "wings",
    "tail": "tail",
    "lips": "lips",
    "fur": "fur",
    "feathers": "feathers",
    "collar": "collar",
}
_THING = "|".join(sorted((re.escape(k) for k in _SLOT_OF), key=len, reverse=True))
_COLOURED = re.compile(
    rf"(?<![\w\-])(?P<colours>{COLOUR}(?:(?:\s*(?:and|&|/|-)\s*|\s+){COLOUR})*)[\s\-]+(?P<thing>{_THING})(?![\w\-])"
    # "red hair bow", "blue eye patch": the colour is the accessory's, not the hair's or the eyes'
    r"(?!\s+(?:bows?|ribbons?|ornaments?|clips?|ties?|bands?|pins?|flowers?|accessor(?:y|ies)|patch|shadow|liner)\b)",
    re.IGNORECASE,
)
# Choices a prompt makes once: a description's hair length or hairstyle gives way to the user's.
_EXCLUSIVE = {
    "hair length": (
        "short hair",
        "medium hair",
        "long hair",
        "very long hair",
        "absurdly long hair",
        "bob cut",
        "buzz cut",
        "pixie cut",
        "bald",
    ),
    "hairstyle": (
        "twintails",
        "low twintails",
        "short twintails",
        "ponytail",
        "high ponytail",
        "side ponytail",
        "low ponytail",
        "twin braids",
        "single braid",
        "braided ponytail",
        "hair bun",
        "double bun",
        "single hair bun",
        "drill hair",
        "twin drills",
        "hime cut",
        "bob cut",
    ),
    # what covers or frames the eyes: "round eyewear" in the prompt is no blindfold
    "eyewear": (
        "blindfold",
        "round eyewear",
        "sunglasses",
        "glasses",
        "eyepatch",
        "goggles",
        "eye mask",
        "tinted eyewear",
        "covered eyes",
        "bandage over one eye",
    ),
}
_SLOT_OF_TAG = {tag: slot for slot, tags in _EXCLUSIVE.items() for tag in tags}
_FEMALE = frozenset(
    "woman women girl girls lady ladies she her herself female 1girl 2girls 3girls 4girls 5girls 6+girls "
    "multiple girls mother daughter sister wife queen princess actress".split()
)
_MALE = frozenset(
    "man men boy boys gentleman he him his himself male 1boy 2boys 3boys 4boys 5boys 6+boys multiple boys "
    "father son brother husband king prince actor".split()
)
# Words that make a description say how old someone is: never introduced by a replacement.
AGE_WORDS = frozenset(
    """young younger youthful child children kid kids toddler teen teens teenage teenager little schoolgirl
    schoolboy juvenile minor preteen tween childlike girlish boyish baby infant elderly aged old""".split()
)


@dataclass(frozen=True)
class Cues:
    """What the user's prompt itself says (see module docstring)."""

    colours: dict[str, frozenset[str]] = field(default_factory=dict)
    exclusive: frozenset[str] = frozenset()  # exclusive groups the user filled: "hair length", "hairstyle"
    tags: frozenset[str] = frozenset()  # the prompt's own comma-separated items, normalised
    gender: str = ""  # "female", "male", or "" when the prompt says neither (or both)
    words: frozenset[str] = frozenset()
    acts: bool = False  # the prompt gives someone an action or a pose of its own ("taking a selfie", "seated")
    busy: bool = False  # … an action with the hands ("pushing a cart", "taking a selfie"; not "standing")
    monochrome: bool = False  # the picture has no colours ("black and white", "monochrome", "sepia")


def _norm_colour(colour: str) -> str:
    c = re.sub(r"^(?:light|dark|pale|bright|deep|pastel|neon)[\s\-]?", "", colour.lower()).strip()
    return {"gray": "grey", "blond": "blonde", "golden": "gold", "armour": "armor"}.get(c, c)


def coloured_things(text: str) -> list[tuple[str, frozenset[str], int, int]]:
    """``(slot, colours, start, end)`` for each coloured thing: "pink hair", "red and white dress", "red-eyed"."""
    out = []
    for m in _COLOURED.finditer(text):
        colours = frozenset(_norm_colour(c) for c in re.findall(COLOUR, m.group("colours"), re.IGNORECASE))
        colours = frozenset(c for c in colours if c)
        if colours:
            out.append((_SLOT_OF[m.group("thing").lower()], colours, m.start(), m.end()))
    return out


_IN_TITLE = re.compile(
    r"\b(?!(?:A|An|The|This|That|One|Old|Young)\b)[A-Z][\w']*(?:-|\s+)(?:Man|Woman|Girl|Boy|Lady|King|Queen|Prince|Princess)\b"
)


def cues(text: str, tags: Iterable[str] = ()) -> Cues:
    """The cues of a prompt's plain text (syntax removed) and its comma-separated items."""
    colours: dict[str, set[str]] = {}
    for slot, cs, _s, _e in coloured_things(text):
        colours.setdefault(slot, set()).update(cs)
    own = frozenset(normalise_form(t) for t in tags if t.strip())
    exclusive = frozenset(_SLOT_OF_TAG[t] for t in own if t in _SLOT_OF_TAG)
    low = text.lower()
    exclusive |= frozenset(
        slot for slot, ts in _EXCLUSIVE.items() if any(re.search(rf"\b{re.escape(t)}\b", low) for t in ts)
    )
    words = frozenset(re.findall(r"[a-z0-9+]+", low))
    # "One-Punch Man", "Wonder Woman", "Iron Man": a capitalised gender word ending a title names no one here
    untitled = _IN_TITLE.sub(" ", text).lower()
    said = frozenset(re.findall(r"[a-z0-9+]+", untitled))
    female, male = bool(said & _FEMALE), bool(said & _MALE)
    gender = "female" if female and not male else "male" if male and not female else ""
    actions = [w for w in words if _is_action(w)]
    busy = any(w not in _HANDS_FREE for w in actions)
    monochrome = _MONOCHROME.search(low) is not None
    return Cues(
        {k: frozenset(v) for k, v in colours.items()}, exclusive, own, gender, words, bool(actions), busy, monochrome
    )


# The times of day a picture can be set at, and the media it can be made in (a family of words each: "photo",
# "photograph" and "photography" say one medium). A style description that names another than the prompt does
# contradicts it: "twilight photography" for a scene "at night", "drybrush watercolor" for a "tempera" painting.
_TIMES = frozenset(
    """night midnight nighttime nocturnal twilight dusk dawn daybreak sunrise sunset sundown noon midday
    morning afternoon evening daylight daytime""".split()
)  # as the prompt's words are read: "night-time" is "night" and "time"
_MEDIUM_FAMILIES = {
    "photo": "photo photos photograph photographs photography photographic polaroid daguerreotype",
    "oil": "oil oils",
    "acrylic": "acrylic acrylics",
    "tempera": "tempera",
    "gouache": "gouache",
    "watercolor": "watercolor watercolors watercolour watercolours",
    "fresco": "fresco frescoes",
    "pastel": "pastels",
    "charcoal": "charcoal",
    "pencil": "pencil graphite",
    "ink": "ink inks",
    "woodblock": "woodblock woodcut woodcuts ukiyo",
    "etching": "etching etchings engraving engravings",
    "linocut": "linocut linocuts",
    "lithograph": "lithograph lithographs",
    "render": "render renders cgi 3d",
    "pixel": "pixel pixels",
    "claymation": "claymation",
    "collage": "collage",
    "mosaic": "mosaic",
}
_MEDIUM_OF = {w: family for family, words in _MEDIUM_FAMILIES.items() for w in words.split()}


def clashes_with_scene(text: str, cue: Cues) -> bool:
    """Whether a style description ``text`` sets the picture at another time of day, or in another medium, than
    the prompt does (a prompt that says neither leaves the description free)."""
    words = set(re.findall(r"[a-z0-9+]+", text.lower()))
    mine_times = cue.words & _TIMES
    if mine_times and (words & _TIMES) - mine_times:
        return True
    mine_media = {_MEDIUM_OF[w] for w in cue.words if w in _MEDIUM_OF}
    theirs = {_MEDIUM_OF[w] for w in words if w in _MEDIUM_OF}
    return bool(mine_media and theirs - mine_media)


# A picture without colours: a description's "red shorts" would contradict it.
_MONOCHROME = re.compile(
    r"\b(?:black[\s\-]+(?:and|&)[\s\-]+white|b\s*&\s*w|monochrome|monochromatic|greyscale|grayscale|sepia)\b"
)
# The colours a black-and-white picture still has.
_ACHROMATIC = frozenset(
    "black white grey gray silver monochrome redhead brunette blonde blond auburn ginger platinum".split()
)  # (hair's own shades read in black and white too: a "brunette" stays one)
_CHROMATIC = "|".join(sorted((c for c in COLOUR_WORDS if c not in _ACHROMATIC and c.isalpha()), key=len, reverse=True))


def _colour_said(first: str, after: str) -> re.Pattern[str]:
    """ "red-and-blue ", "teal-haired ", "red ": a colour (one of ``first``) said of the next word, with the
    compound it makes (one of ``after``) and the words "colored"/"coloured" after it."""
    return re.compile(
        rf"\b(?:(?:light|dark|pale|bright|deep|pastel|neon)[\s\-])?(?:{first})"
        rf"(?:[\s\-]+(?:and|&)[\s\-]+(?:{_CHROMATIC}|black|white|grey|gray|silver))*"
        rf"(?:-(?:{after}))?\s+",
        re.IGNORECASE,
    )


_COLOUR_SAID = _colour_said(_CHROMATIC, "haired|eyed|skinned|colou?red|tinted|toned")
# A thing's colours, black, white and grey too (a thing has no hair or eyes to colour)
_ANY_COLOUR_SAID = _colour_said(f"{_CHROMATIC}|black|white|grey|gray|silver", "colou?red|tinted|toned")


def _without(pattern: re.Pattern[str], phrase: str) -> str:
    return fix_article(re.sub(r"\s{2,}", " ", pattern.sub("", phrase)).strip())


def without_any_colour(phrase: str) -> str:
    """A thing's description without the colours it says before its nouns, for a thing the user gave a colour
    ("a blue Ducati": "a blue racing motorcycle", never "a blue red racing motorcycle")."""
    return _without(_ANY_COLOUR_SAID, phrase)


def without_colours(phrase: str) -> str:
    """A description with its colours taken out, for a black-and-white picture ("a black cartoon mouse in red
    shorts" → "a black cartoon mouse in shorts"; black, white and grey stay)."""
    return _without(_COLOUR_SAID, phrase)


# How a description poses someone ("seated", "with folded hands", "holding a lute") or arms them ("with a laser
# sword"): said only where the prompt gives no action or pose of its own (the Mona Lisa "taking a selfie" has no
# folded hands, Vader pushing a shopping cart no sword).
POSE_WORDS = frozenset(
    """seated sitting standing folded crossed raised holding posing leaning kneeling clasped reclining lying
    pointing waving riding wielding playing singing dancing running walking resting""".split()
)
# "-ing" words that are things, not actions: "an oil painting", "a wedding dress", "morning light".
_ING_THINGS = frozenset(
    """painting paintings drawing drawings building buildings clothing ceiling lighting evening morning string
    king ring wing wings thing things sibling wedding bedding pudding dumpling dumplings stocking stockings
    earring earrings awning railing engraving etching carving sketching rendering setting landing
    spring darling duckling ducklings seedling ding swing sling wring sterling shilling""".split()
)


def _is_action(word: str) -> bool:
    """Whether ``word`` is a pose word or an ``-ing`` form of a verb (spaCy's verb lemmas) that is no thing."""
    if word in POSE_WORDS:
        return True
    if not word.endswith("ing") or len(word) < 6 or word in _ING_THINGS:
        return False
    from smoothie.prompt.nlp import verb_lemmas

    verbs, _exc = verb_lemmas()
    stem = word[:-3]
    return stem in verbs or stem + "e" in verbs or (len(stem) > 2 and stem[-1] == stem[-2] and stem[:-1] in verbs)


def contradicts(text: str, cue: Cues) -> bool:
    """Whether ``text`` (a tag or a phrase of a description) gives a thing a colour the user did not give it."""
    for slot, cs, _s, _e in coloured_things(text):
        mine = cue.colours.get(slot)
        if mine and not cs <= mine:
            return True
    return False


def fit_tags(tags: Sequence[str], cue: Cues, name: str = "") -> list[str]:
    """A description's tags that neither repeat nor contradict the prompt (order kept); ``name``: the tag being
    described, which says none of them ("scarlet devil mansion" does not say "mansion" already)."""
    out: list[str] = []

    def stems(text: str) -> set[str]:  # "braid" and "braided hair", "twintail" and "twintails" say one thing
        return {w[:5] for w in text.replace("-", " ").split()}

    named = normalise_form(name)
    own = [stems(t) for t in cue.tags if t and t != named]
    for tag in tags:
        key = normalise_form(tag)
        if key in cue.tags or key in (normalise_form(t) for t in out):
            continue
        words = stems(key)
        if any(o <= words or words <= o for o in own):  # "candy-pink hair" says the prompt's "pink hair" again
            continue  # "sunglasses" said, "sunglasses on head" is not said again; "long hair" wins over "very long"
        if _SLOT_OF_TAG.get(key) in cue.exclusive or contradicts(tag, cue):
            continue
        if set(key.split()) & AGE_WORDS:
            continue
        if key.endswith(("eyes", "eye")) and _EYES_HIDDEN & set(cue.tags):
            continue  # "blindfold": no one sees Gojo's blue eyes
        out.append(tag)
    return out


# Tags that hide the eyes: a description's eye colour is not in the picture.
_EYES_HIDDEN = frozenset({"blindfold", "closed eyes", "eyes closed", "covered eyes", "eyepatch over both eyes"})


_PART_SPLIT = re.compile(r"(,\s*|\s+(?:with|in|wearing|and|holding|surrounded by)\s+)")


def fit_phrase(phrase: str, cue: Cues) -> str:
    """A description phrase with its contradicting parts removed: "an elf-eared hero in a green tunic and cap"
    in a prompt with a blue tunic → "an elf-eared hero"; a contradicting colour in the head ("a teal-haired
    anime girl" with pink hair) is dropped from it ("an anime girl")."""
    if cue.acts or cue.words & _PICTURE_WORDS:
        # "a sfumato portrait of a placid woman" taking a selfie: the woman does, not her portrait; and in a
        # prompt that says "portrait" itself, the portrait is said once
        phrase = _PORTRAIT_OF.sub("", phrase)
    if cue.monochrome:
        phrase = without_colours(phrase)
    if cue.acts:
        phrase = _without_own_action(phrase)
    posed = cue.acts and (_poses(phrase) or _armed(phrase, cue))
    repeated = any(_said_already(part, cue) for part in _PART_SPLIT.split(phrase)[2::2])
    if not posed and not repeated and (not coloured_things(phrase) or not cue.colours):
        return phrase
    parts = _PART_SPLIT.split(phrase)
    head, rest = parts[0], parts[1:]
    if posed:  # "a seated noblewoman" -> "a noblewoman"; "holding a lute" is a part of its own and goes below
        head = _POSE_BEFORE_WORD.sub("", head)
    for slot, cs, s, e in reversed(coloured_things(head)):
        mine = cue.colours.get(slot)
        if mine and not cs <= mine:
            head = head[:s] + head[e:]
            head = re.sub(r"\s{2,}", " ", head).strip()
    kept = [head]
    i = 0
    inherited = False  # the joiner of a dropped part passed on to this one
    while i + 1 < len(rest):
        joiner, part = rest[i], rest[i + 1]
        i += 2
        took, inherited = inherited, False
        if (
            contradicts(part, cue)
            or _said_already(part, cue)
            or (posed and (_poses(joiner + part) or _armed(part, cue)))
        ):
            # "with X and Y": dropping X keeps "with Y"; "with A, B and X" keeps "with A and B"
            if kept and joiner.strip() == "and" and len(kept) > 1:
                if len(kept) > 2 and kept[-2].strip() == ",":
                    kept[-2] = " and "
                continue
            if i + 1 < len(rest) and rest[i].strip() in ("and", ","):
                # the next part takes this part's joiner ("in a green tunic and cap" -> "in cap", "with A, B" ->
                # "with B")
                rest[i] = joiner
                inherited = True
            continue
        if (
            took
            and joiner.strip() in ("in", "with", "wearing", "holding")
            and not re.match(r"(?i)(?:a|an|the|his|her|their|its|\d)\b", part)
            and not re.search(r"(?i)\w(?:s|es)\b$", part.split(" and ")[0])
            and part.split(" and ")[0].split()[-1].lower() not in _MASS  # "with messy black hair", never "a …"
        ):
            part = ("an " if re.match(r"(?i)[aeiou]", part) else "a ") + part  # "in cap" -> "in a cap"
        kept.extend([joiner, part])
    text = "".join(kept).strip(" ,")
    return fix_article(text)


# Nouns said without an article ("with messy black hair", "in heavy armor").
_MASS = frozenset(
    "hair fur skin makeup armor armour clothing clothes jewelry jewellery lipstick stubble attire".split()
)


# What a description may say someone does that is how they look, not an action of their own.
_WORN_ACTIONS = frozenset("wearing holding carrying sporting bearing clutching".split())


def _without_own_action(phrase: str) -> str:
    """A description without the action it gives its subject ("a towering lizard monster breathing atomic fire"
    → "a towering lizard monster"), for a prompt that gives the action: wading through a bay, he breathes no fire.
    What is worn or held is a look, not an action (the weapon rule decides on that)."""
    from smoothie.prompt.restate import present

    for m in re.finditer(r"\b([a-z][a-z\-]*) ([a-z]+ing)\b", phrase):
        noun, verb = m.group(1), m.group(2)
        if (
            verb in _WORN_ACTIONS
            or verb in _ING_THINGS
            or len(noun) < 3
            or noun in ("the", "his", "her", "its", "their", "and", "with", "for", "from")
            or noun not in noun_lemmas()
            or noun in adjective_lemmas()
            or present(verb, False) is None
        ):
            continue
        return phrase[: m.start(2)].rstrip(" ,")
    return phrase


def _said_already(part: str, cue: Cues) -> bool:
    """A part of a description that names a thing the prompt names itself ("a scientist with glowing vials" in a
    prompt with "glowing green vials"): said twice, the picture may hold two of them."""
    words = re.findall(r"[a-z]+", re.split(r"\bof\b", part.lower())[0])  # "arcs of electricity": the arcs
    if not words:
        return False
    word = words[-1]  # the thing the part names ("a cowboy hat" is a hat)
    nouns = noun_lemmas()
    base = word[:-1] if word.endswith("s") and word[:-1] in nouns else word
    if len(word) < 4 or base not in nouns or word in COLOUR_WORDS or base in _SAID_FREELY:
        return False
    return bool({word, base, base + "s", base + "es"} & cue.words)


# Parts of a person a prompt and a description may both name without saying one thing twice ("with long hair" and
# "hair in the wind" are the same hair).
_SAID_FREELY = frozenset("hair eyes ears face smile skin body hands arms legs".split())


def _armed(part: str, cue: Cues) -> bool:
    """A signature weapon the prompt does not mention while its hands are busy: Vader "with a laser sword"
    pushing a shopping cart (Link standing on a cliff keeps his sword)."""
    said = set(re.findall(r"[a-z]+", part.lower()))
    return cue.busy and bool(said & WEAPON_WORDS) and not (said & WEAPON_WORDS & cue.words)


# Poses and motions that leave the hands free for what a description gives them.
_HANDS_FREE = frozenset(
    """standing sitting seated lying kneeling posing leaning resting waiting looking gazing smiling walking running
    riding flying floating sleeping staring crying laughing""".split()
)


WEAPON_WORDS = frozenset(
    """sword swords lightsaber saber sabre blade blades rifle rifles gun guns pistol pistols revolver axe axes spear
    spears bow arrows dagger daggers katana katanas scythe trident whip chains shotgun""".split()
)


def _poses(part: str) -> bool:
    return bool(_POSE_OR_POSED & set(re.findall(r"[a-z]+", part.lower())))


# What a pose is said with ("overlapping hands", "arms at her sides"): a part that says it goes with the pose.
_POSED_PARTS = frozenset("hands arms overlapping".split())
_POSE_OR_POSED = POSE_WORDS | _POSED_PARTS
_POSE_BEFORE_WORD = re.compile(rf"\b(?:{'|'.join(sorted(POSE_WORDS))})\s+(?=\w)", re.IGNORECASE)
_PICTURE_WORDS = frozenset("portrait portraits painting paintings picture depiction".split())
_PORTRAIT_OF = re.compile(
    r"^(?:an?|the)\s+(?:[\w-]+\s+){0,2}(?:portrait|painting|picture|depiction)\s+of\s+(?=(?:an?|the)\s)", re.I
)


def fix_article(text: str) -> str:
    """``a anime girl`` → ``an anime girl`` at the start of a phrase (after a word was removed)."""
    m = re.match(r"^(a|an)\s+(\S+)", text, re.IGNORECASE)
    if not m:
        return text
    want = "an" if re.match(r"(?i)[aeio]|u(?!n[iu]|s[eu])|hon|hour", m.group(2)) else "a"
    return want + text[m.end(1) :] if m.group(1).lower() != want else text


# What says a man without a gender word: a description with one of these needs no "male".
_MALE_MARKS = frozenset(
    "beard beards bearded mustache mustached moustache moustached mustachioed moustachioed goatee stubble".split()
)
# Nouns that say a woman without being on the validator's list of gender words.
_FEMALE_MARKS = frozenset(
    """cowgirl cowgirls songstress ballerina diva starlet heiress matriarch dame housewife seamstress hostess
    stewardess mistress madam""".split()
)
# The words every reader takes for a gender, with the marks that say it as plainly ("bearded", "cowgirl"); "hero"
# or "sorceress" say it less plainly: a description with only those still gets its "female"/"male".
_PLAIN_FEMALE = frozenset(
    """woman women girl girls lady ladies female females she her hers herself mother daughter daughters queen
    princess wife sister actress goddess maiden lass gal mom grandmother aunt niece bride witch empress
    duchess""".split()
)
_PLAIN_MALE = frozenset(
    """man men boy boys gentleman gentlemen male males he him his himself father son sons king prince husband
    brother actor guy guys lad dad grandfather uncle nephew groom wizard emperor duke""".split()
)
# Nouns that name a kind of singer or player before the noun ("a pop star", "a rock guitarist").
_GENRE_NOUNS = frozenset("pop rock jazz folk soul punk country rap opera metal blues disco indie martial".split())


def gender_of(descriptions: Iterable[str]) -> str:
    """``female``/``male`` when a name's descriptions say one gender and never the other, else ``""``."""
    said = {w for d in descriptions for w in re.findall(r"[a-z0-9+]+", d.lower())}
    female = bool(said & (FEMALE_WORDS | _FEMALE_MARKS)) or any(w.endswith(("woman", "women")) for w in said)
    male = bool(said & (MALE_WORDS | _MALE_MARKS))
    return "female" if female and not male else "male" if male and not female else ""


def gendered(description: str, gender: str) -> str:
    """A person's description that says no gender, with its gender before the noun it names ("a powerful tennis
    player with braided hair" → "a powerful female tennis player with braided hair"); unchanged where it says one
    already, names no person, or the parse finds no noun to put it before."""
    from smoothie.prompt.restate import describes_person, parse_phrases

    if gender not in ("female", "male"):
        return description
    words = set(re.findall(r"[a-z0-9+]+", description.lower()))
    if words & (_PLAIN_FEMALE | _PLAIN_MALE | _MALE_MARKS | _FEMALE_MARKS) or not describes_person(description):
        return description
    toks = parse_phrases([description])[0]
    root = next((t for t in toks or () if t.dep == "ROOT"), None)
    if toks is None or root is None or not root.tag.startswith("NN") or root.i == 0:
        return description
    if any(t.tag in ("IN", ",", "CC") for t in toks[: root.i]):
        return description  # "an adventurer with a plait and cargo shorts/ROOT": the parse lost the person
    start = root.i
    while start > 0:
        prev = toks[start - 1]
        if not prev.ws or prev.tag == "HYPH":
            start -= 1  # "a kung-fu master", "a guitar-picker": a hyphenated word is one word
            continue
        if prev.lower in _GENRE_NOUNS and prev.head >= start:
            start -= 1  # "a martial artist", "a pop star"
            continue
        if prev.dep != "compound" or not prev.tag.startswith("NN"):
            break
        if prev.lower in adjective_lemmas() or re.search(r"(?:y|ful|ous|ic|ive|ish)$", prev.lower):
            break  # "a bubbly/NN singer": an adjective the tagger read as a noun stays before the gender
        start -= 1  # "a tennis player": the gender goes before the kind ("a female tennis player")
    if start == 0:
        return description
    if toks[start - 1].tag not in ("DT", "JJ", "VBG", "VBN", "JJR", "JJS", "RB", "CD", "HYPH", "NN", "NNS"):
        return description
    offset = sum(len(t.text) + len(t.ws) for t in toks[:start])
    return fix_articles(f"{description[:offset]}{gender} {description[offset:]}")
