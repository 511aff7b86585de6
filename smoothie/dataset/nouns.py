"""ImageNet classes as plain caption words: a subject noun, or a setting, from the 1,000 class probabilities.

Each class gets a caption *noun* and a *group*. The rule, in order:

1. a hand-written table for the classes whose WordNet name is not what a caption says (``tabby`` → ``cat``,
   ``missile`` → ``rocket``, ``espresso`` → ``espresso cup``, ``maillot`` → ``swimsuit``);
2. the animal part of the list (indices 0–397, ordered by the WordNet tree) by ranges: the 118 dog breeds
   are ``dog`` in group ``dog``, the birds ``bird`` unless named (``owl``, ``parrot``), …;
3. everything else: the class's first WordNet lemma as written (``coffee mug``, ``space shuttle``).

Scene classes (``seashore``, ``alp``, ``library``, ``restaurant``) describe where a picture is, not what it
shows: they fill the ``setting`` field, never the subject.

:func:`subject_noun` adds the probabilities per group (so a cat split between ``tabby``, ``tiger cat`` and
``Egyptian cat`` is confidently a cat), takes the most probable group if its share reaches ``min_share``,
and names it by its most probable class's noun when that class holds at least half of the group (``owl``),
else by the group word (``bird``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np

FIRST_THING = 398  # classes 0-397 are animals, the rest things, foods, scenes and people
MIN_SHARE = 0.4  # a group must hold this much probability to name the subject
MIN_SETTING = 0.3

# (first, last, noun): the animal part of the class list, in WordNet order.
_RANGES = (
    (0, 1, "fish"),
    (2, 4, "shark"),
    (5, 6, "ray"),
    (7, 24, "bird"),
    (25, 29, "salamander"),
    (30, 32, "frog"),
    (33, 37, "turtle"),
    (38, 48, "lizard"),
    (49, 50, "crocodile"),
    (51, 51, "dinosaur"),
    (52, 68, "snake"),
    (69, 69, "trilobite"),
    (70, 77, "spider"),
    (78, 78, "tick"),
    (79, 79, "centipede"),
    (80, 100, "bird"),
    (101, 101, "elephant"),
    (102, 106, "animal"),
    (107, 126, "sea creature"),
    (127, 146, "bird"),
    (147, 148, "whale"),
    (149, 150, "sea mammal"),
    (151, 268, "dog"),
    (269, 272, "wolf"),
    (273, 275, "wild dog"),
    (276, 276, "hyena"),
    (277, 280, "fox"),
    (281, 285, "cat"),
    (286, 293, "big cat"),
    (294, 297, "bear"),
    (298, 299, "mongoose"),
    (300, 320, "insect"),
    (321, 326, "butterfly"),
    (327, 329, "sea creature"),
    (330, 332, "rabbit"),
    (333, 338, "rodent"),
    (339, 355, "hoofed animal"),
    (356, 364, "animal"),
    (365, 369, "ape"),
    (370, 384, "monkey"),
    (385, 386, "elephant"),
    (387, 388, "panda"),
    (389, 397, "fish"),
)

# index -> noun where the range word or the first lemma is not the plain caption word. A noun that differs
# from its range's word keeps the range word as its group (an owl is counted with the birds).
_NOUNS = {
    7: "rooster", 8: "chicken", 9: "ostrich", 15: "robin", 18: "magpie", 22: "eagle", 23: "vulture", 24: "owl",
    29: "axolotl", 33: "sea turtle", 34: "sea turtle", 39: "iguana", 40: "chameleon", 47: "chameleon",
    48: "komodo dragon", 50: "alligator", 71: "scorpion", 76: "tarantula", 84: "peacock", 87: "parrot",
    88: "parrot", 89: "cockatoo", 90: "parrot", 94: "hummingbird", 96: "toucan", 97: "duck", 98: "duck",
    99: "goose", 100: "swan", 102: "echidna", 103: "platypus", 104: "wallaby", 105: "koala", 106: "wombat",
    107: "jellyfish", 108: "sea anemone", 109: "coral", 112: "seashell", 113: "snail", 114: "slug",
    117: "nautilus", 118: "crab", 119: "crab", 120: "crab", 121: "crab", 122: "lobster", 123: "lobster",
    124: "crayfish", 125: "hermit crab", 127: "stork", 128: "stork", 130: "flamingo", 131: "heron",
    132: "egret", 144: "pelican", 145: "penguin", 146: "albatross", 149: "dugong", 150: "sea lion",
    286: "cougar", 287: "lynx", 288: "leopard", 289: "snow leopard", 290: "jaguar", 291: "lion", 292: "tiger",
    293: "cheetah", 299: "meerkat", 301: "ladybug", 306: "beetle", 308: "fly", 309: "bee", 310: "ant",
    311: "grasshopper", 312: "cricket", 314: "cockroach", 315: "mantis", 319: "dragonfly", 320: "damselfly",
    327: "starfish", 328: "sea urchin", 331: "hare", 333: "hamster", 334: "porcupine", 335: "squirrel",
    336: "marmot", 337: "beaver", 338: "guinea pig", 339: "horse", 340: "zebra", 341: "pig", 342: "wild boar",
    343: "warthog", 344: "hippopotamus", 345: "cow", 346: "water buffalo", 347: "bison", 348: "sheep",
    349: "bighorn sheep", 350: "ibex", 351: "antelope", 352: "impala", 353: "gazelle", 354: "camel",
    355: "llama", 356: "weasel", 357: "mink", 358: "polecat", 359: "ferret", 360: "otter", 361: "skunk",
    362: "badger", 363: "armadillo", 364: "sloth", 365: "orangutan", 366: "gorilla", 367: "chimpanzee",
    368: "gibbon", 369: "gibbon", 372: "baboon", 383: "lemur", 384: "lemur", 387: "red panda", 388: "panda",
    390: "eel", 391: "salmon", 393: "clownfish", 394: "sturgeon", 396: "lionfish", 397: "pufferfish",
    # objects whose first lemma is not the everyday word, or is a brand (Band Aid, iPod, Model T)
    408: "amphibious vehicle", 419: "bandage", 442: "bell tower", 564: "four-poster bed", 575: "golf cart",
    592: "hard drive", 605: "music player", 661: "vintage car", 906: "necktie", 908: "airplane wing",
    400: "academic gown", 412: "trash can", 418: "ballpoint pen", 421: "banister", 427: "barrel",
    428: "wheelbarrow", 436: "station wagon", 437: "lighthouse", 444: "tandem bicycle", 446: "ring binder",
    450: "bobsleigh", 458: "plaque", 459: "bra", 460: "breakwater", 468: "taxi", 469: "cauldron",
    476: "carousel", 477: "tool kit", 480: "cash machine", 487: "mobile phone", 490: "chain mail",
    493: "chest of drawers", 494: "bell", 502: "clog", 508: "computer keyboard", 513: "trumpet", 520: "crib",
    521: "slow cooker", 528: "telephone", 532: "dining table", 540: "oil rig", 545: "electric fan",
    548: "entertainment center", 553: "filing cabinet", 556: "fire screen", 566: "French horn",
    567: "frying pan", 570: "gas mask", 571: "gas pump", 580: "greenhouse", 589: "hair dryer",
    590: "handheld computer", 593: "harmonica", 595: "harvester", 599: "honeycomb", 606: "iron",
    607: "jack-o'-lantern", 608: "jeans", 609: "jeep", 610: "t-shirt", 612: "rickshaw", 617: "lab coat",
    626: "lighter", 628: "ocean liner", 629: "lipstick", 630: "loafer", 632: "loudspeaker", 634: "sawmill",
    638: "swimsuit", 639: "swimsuit", 642: "xylophone", 657: "rocket", 660: "mobile home", 673: "computer mouse",
    681: "laptop", 697: "pajamas", 705: "railway carriage", 707: "payphone", 708: "pedestal", 714: "plectrum",
    716: "picket fence", 717: "pickup truck", 724: "pirate ship", 725: "pitcher", 726: "woodworking plane",
    730: "plough", 731: "plunger", 732: "instant camera", 734: "police van", 738: "flowerpot", 744: "rocket",
    746: "hockey puck", 747: "punching bag", 750: "quilt", 751: "race car", 752: "racket", 754: "radio",
    757: "camper van", 759: "camera", 670: "scooter", 760: "refrigerator", 761: "remote control", 767: "eraser",
    769: "ruler",
    773: "salt shaker", 776: "saxophone", 778: "scale", 782: "screen", 800: "slot machine", 807: "solar dish",
    815: "spider web", 817: "sports car", 818: "spotlight", 829: "tram", 833: "submarine", 834: "suit",
    836: "sunglasses", 837: "sunglasses", 838: "sunscreen", 840: "mop", 842: "swimming trunks",
    844: "light switch", 847: "tank", 850: "teddy bear", 851: "television", 854: "theater curtain",
    856: "threshing machine", 862: "torch", 864: "tow truck", 867: "truck", 870: "tricycle", 874: "trolleybus",
    876: "tub", 878: "typewriter", 881: "upright piano", 882: "vacuum cleaner", 893: "wallet", 894: "wardrobe",
    895: "warplane", 896: "washbasin", 897: "washing machine", 911: "wool", 912: "rail fence", 916: "website",
    918: "crossword", 920: "traffic light", 921: "book cover", 926: "hot pot", 928: "ice cream",
    929: "ice lolly", 930: "baguette", 934: "hot dog", 936: "cabbage", 939: "zucchini", 943: "cucumber",
    944: "artichoke", 948: "green apple", 953: "pineapple", 955: "jackfruit", 960: "chocolate sauce",
    962: "meatloaf", 963: "pizza", 966: "glass of red wine", 967: "espresso cup", 968: "cup", 986: "orchid",
    989: "rose hip", 990: "conker", 991: "fungus", 992: "mushroom", 993: "mushroom", 994: "mushroom",
    995: "mushroom", 996: "mushroom", 997: "mushroom", 998: "ear of corn", 999: "toilet paper",
    981: "baseball player", 982: "groom", 983: "scuba diver",
}  # fmt: skip

# index -> group, where classes that are named differently are the same thing in a caption.
_GROUPS = {
    504: "cup", 967: "cup", 968: "cup",  # coffee mug, espresso, cup
    657: "rocket", 744: "rocket", 812: "rocket",  # missile, projectile, space shuttle
    836: "sunglasses", 837: "sunglasses", 638: "swimsuit", 639: "swimsuit", 665: "scooter", 670: "scooter",
    992: "mushroom", 993: "mushroom", 994: "mushroom", 995: "mushroom", 996: "mushroom", 997: "mushroom",
}  # fmt: skip

# index -> setting phrase: scenes, not things.
SETTINGS = {
    970: "mountains", 972: "cliff", 973: "coral reef", 974: "geyser", 975: "lakeside", 976: "headland",
    977: "sandbar", 978: "beach", 979: "valley", 980: "volcano", 415: "bakery", 424: "barbershop",
    454: "bookshop", 467: "butcher shop", 497: "church", 498: "cinema", 509: "candy store", 582: "grocery store",
    624: "library", 663: "monastery", 668: "mosque", 698: "palace", 727: "planetarium", 743: "prison",
    762: "restaurant", 788: "shoe shop", 819: "stage", 860: "tobacco shop", 865: "toy shop", 706: "patio",
    718: "pier", 536: "dock", 580: "greenhouse", 483: "castle", 425: "barn", 449: "boathouse",
}  # fmt: skip

# Classes that are people, not things: a person is the subject (the face and pose analysers decide how).
PEOPLE = frozenset({981, 982, 983})
# Things people wear: a picture whose main "thing" is one of these is a picture of a person wearing it.
WORN = frozenset(
    {399, 400, 411, 433, 439, 445, 451, 452, 457, 459, 461, 465, 474, 490, 501, 515, 518, 524, 552, 560, 568}
    | {570, 578, 601, 608, 610, 614, 617, 629, 638, 639, 643, 652, 655, 667, 678, 679, 689, 691, 697, 715, 735}
    | {775, 793, 796, 808, 824, 834, 836, 837, 841, 842, 869, 887, 903, 906}
)


@dataclass(frozen=True)
class ImageNetClass:
    index: int
    synset: str
    label: str  # the first WordNet lemma
    noun: str  # the caption word
    group: str


@lru_cache(maxsize=1)
def classes() -> tuple[ImageNetClass, ...]:
    """The 1,000 classes with their caption words (from ``data/imagenet_classes.json``)."""
    text = resources.files("smoothie.dataset").joinpath("data/imagenet_classes.json").read_text(encoding="utf-8")
    rows = json.loads(text)["classes"]
    if len(rows) != 1000:
        raise RuntimeError(f"data/imagenet_classes.json: expected 1000 classes, found {len(rows)}")
    ranges = {i: noun for first, last, noun in _RANGES for i in range(first, last + 1)}
    out = []
    for index, row in enumerate(rows):
        synset, lemmas = row.split(" ", 1)
        label = lemmas.split(",")[0].strip()
        range_word = ranges.get(index)
        noun = _NOUNS.get(index) or range_word or label
        group = _GROUPS.get(index) or range_word or noun
        out.append(ImageNetClass(index, synset, label, noun, group))
    return tuple(out)


@dataclass(frozen=True)
class Guess:
    noun: str
    share: float  # probability of its group
    label: str  # the most probable class of the group (its WordNet name), for the report
    worn: bool = False  # a thing people wear (a suit, a helmet): a sign of a person, not a subject
    animal: bool = False  # an animal (it has a face and faces a way; a thing does not)


def subject_noun(probabilities: Sequence[float] | np.ndarray, min_share: float = MIN_SHARE) -> Guess | None:
    """The caption noun of the picture's main thing, or None when no group is probable enough (or the most
    probable group is a scene or a person)."""
    import numpy as np

    probs = np.asarray(probabilities, dtype=np.float64)
    table = classes()
    shares: dict[str, float] = {}
    best: dict[str, int] = {}
    for c in table:
        if c.index in SETTINGS or c.index in PEOPLE:
            continue
        p = float(probs[c.index])
        shares[c.group] = shares.get(c.group, 0.0) + p
        if c.group not in best or p > probs[best[c.group]]:
            best[c.group] = c.index
    scene = sum(float(probs[i]) for i in SETTINGS) + sum(float(probs[i]) for i in PEOPLE)
    group, share = max(shares.items(), key=lambda kv: (kv[1], kv[0]))
    if share < min_share or scene > share:
        return None
    top = table[best[group]]
    noun = top.noun if float(probs[top.index]) >= 0.5 * share else group
    return Guess(noun, round(share, 3), top.label, top.index in WORN, top.index < FIRST_THING)


def setting(probabilities: Sequence[float] | np.ndarray, min_share: float = MIN_SETTING) -> str | None:
    """A setting phrase (``beach``, ``library``) when a scene class is probable enough."""
    import numpy as np

    probs = np.asarray(probabilities, dtype=np.float64)
    totals: dict[str, float] = {}
    for index, phrase in SETTINGS.items():
        totals[phrase] = totals.get(phrase, 0.0) + float(probs[index])
    phrase, share = max(totals.items(), key=lambda kv: (kv[1], kv[0]))
    return phrase if share >= min_share else None


def top_labels(probabilities: Sequence[float] | np.ndarray, k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` most probable classes as (WordNet name, probability), for the report."""
    import numpy as np

    probs = np.asarray(probabilities, dtype=np.float64)
    table = classes()
    order = np.argsort(-probs, kind="stable")[:k]
    return [(table[int(i)].label, round(float(probs[int(i)]), 3)) for i in order]
