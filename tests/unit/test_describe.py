"""A name's description gives way to what the prompt itself says."""

from __future__ import annotations

import pytest

from smoothie.prompt.describe import (
    clashes_with_scene,
    coloured_things,
    contradicts,
    cues,
    fit_phrase,
    fit_tags,
    gender_of,
    gendered,
    without_colours,
)
from smoothie.prompt.nlp import get_nlp

needs_spacy = pytest.mark.skipif(get_nlp() is None, reason="spaCy's English model is not installed")


def test_cues_read_colours_choices_and_gender() -> None:
    c = cues("1girl, pink hair, short hair, blue tunic, red-eyed", ["1girl", "pink hair", "short hair", "blue tunic"])
    assert c.colours == {"hair": {"pink"}, "tunic": {"blue"}, "eyes": {"red"}}
    assert "hair length" in c.exclusive
    assert c.gender == "female"
    assert "pink hair" in c.tags
    assert cues("a man and a woman").gender == ""


def test_coloured_things_read_several_colours_and_compounds() -> None:
    found = {(slot, tuple(sorted(cs))) for slot, cs, _s, _e in coloured_things("a red and white dress, silver-haired")}
    assert found == {("dress", ("red", "white")), ("hair", ("silver",))}
    assert coloured_things("golden hour, a colorful sky") == []


def test_tags_that_repeat_or_contradict_the_prompt_are_dropped() -> None:
    c = cues("1girl, pink hair, twintails, blue tunic", ["1girl", "pink hair", "twintails", "blue tunic"])
    miku = ["aqua hair", "twintails", "very long hair", "detached sleeves", "necktie"]
    assert fit_tags(miku, c) == ["very long hair", "detached sleeves", "necktie"]
    link = ["blonde hair", "pointy ears", "green tunic", "green headwear"]
    assert fit_tags(link, c) == ["pointy ears", "green headwear"]  # a green cap does not say the tunic's colour


def test_an_exclusive_choice_of_the_user_wins() -> None:
    c = cues("1girl, ponytail, short hair", ["1girl", "ponytail", "short hair"])
    assert fit_tags(["long hair", "twintails", "green eyes"], c) == ["green eyes"]


def test_no_description_says_an_age() -> None:
    assert fit_tags(["young", "child", "green eyes"], cues("1girl")) == ["green eyes"]


@pytest.mark.parametrize(
    ("phrase", "prompt", "want"),
    [
        (
            "an elf-eared hero in a green tunic and pointed cap",
            "Link in a blue tunic",
            "an elf-eared hero in a pointed cap",
        ),
        ("a teal-haired anime girl with long twin tails", "Miku with pink hair", "an anime girl with long twin tails"),
        # what the prompt says itself is not said again: "Peach in a pink gown" is "a blonde princess in a pink gown"
        ("a blonde princess in a pink gown", "Peach in a pink gown", "a blonde princess"),
        ("a blonde princess in a pink gown", "a castle at night", "a blonde princess in a pink gown"),
        ("a scientist with glowing vials", "Curie in her lab, glowing green vials", "a scientist"),
        ("an inventor surrounded by arcs of electricity", "Tesla as lightning arcs around him", "an inventor"),
        ("a woman with long hair and a red scarf", "Frida, hair in the wind", "a woman with long hair and a red scarf"),
    ],
)
def test_phrases_lose_only_their_contradicting_part(phrase: str, prompt: str, want: str) -> None:
    assert fit_phrase(phrase, cues(prompt)) == want


def test_contradicts() -> None:
    c = cues("blue tunic, red eyes")
    assert contradicts("green tunic", c)
    assert contradicts("yellow eyes", c)
    assert not contradicts("blue tunic", c)
    assert not contradicts("green cap", c)


def test_a_coloured_accessory_of_the_hair_is_no_hair_colour() -> None:
    # "red hair bow": the bow is red; the description's black hair stays
    cue = cues("a princess with a red hair bow")
    assert "hair" not in cue.colours
    assert (
        fit_phrase("a princess with black hair and a white collar", cue)
        == "a princess with black hair and a white collar"
    )


def test_a_dropped_first_item_of_a_list_leaves_its_joiner() -> None:
    cue = cues("a girl with pink hair")
    assert fit_phrase("a fair princess with a short black bob, a red bow and a white collar", cue) == (
        "a fair princess with a red bow and a white collar"
    )


@needs_spacy
def test_a_pose_of_the_description_goes_when_the_prompt_gives_an_action() -> None:
    selfie = cues("the Mona Lisa taking a selfie")
    assert selfie.acts
    assert (
        fit_phrase("a serene woman with a faint smile and folded hands", selfie) == "a serene woman with a faint smile"
    )
    assert (
        fit_phrase(
            "a composed seated woman with veiled dark hair, a mysterious smile and hands resting together", selfie
        )
        == "a composed woman with veiled dark hair and a mysterious smile"
    )
    # the woman takes the selfie, not her portrait
    assert fit_phrase("a sfumato portrait of a placid woman with a knowing smile", selfie) == (
        "a placid woman with a knowing smile"
    )
    # without an action of its own the prompt keeps the whole description; "an oil painting" is no action
    still = cues("portrait of the Mona Lisa, oil painting, morning light")
    assert not still.acts
    assert fit_phrase("a serene woman with folded hands", still) == "a serene woman with folded hands"


@needs_spacy
def test_a_signature_weapon_goes_when_the_prompt_gives_an_action_without_it() -> None:
    cart = cues("Darth Vader pushing a shopping cart through a supermarket")
    assert fit_phrase("a menacing armored villain with a laser sword", cart) == "a menacing armored villain"
    duel = cues("Darth Vader fighting with a sword")  # the user's own sword: said once, not two swords
    assert fit_phrase("a menacing armored villain with a laser sword", duel) == "a menacing armored villain"
    still = cues("Darth Vader, portrait")
    assert fit_phrase("a menacing armored villain with a laser sword", still).endswith("laser sword")


def test_a_names_gender_is_what_its_descriptions_say() -> None:
    assert gender_of(["a tall cheerful woman with short curls", "a jolly cook"]) == "female"
    assert gender_of(["a smiling figure in a rhinestone cowgirl outfit", "a bubbly singer"]) == "female"
    assert gender_of(["a calm bearded figure", "a quiet swordsman"]) == "male"
    assert gender_of(["a masked vigilante", "a caped figure"]) == ""
    assert gender_of(["a tall woman", "a bearded man"]) == ""  # a pair, or a contradiction: nothing is said


@needs_spacy
@pytest.mark.parametrize(
    ("description", "gender", "said"),
    [
        ("a powerful tennis player with braided hair", "female", "a powerful female tennis player with braided hair"),
        ("a bubbly singer with a towering blonde wig", "female", "a bubbly female singer with a towering blonde wig"),
        ("a glittery pop star in a sequined bodysuit", "female", "a glittery female pop star in a sequined bodysuit"),
        ("an explorer in cargo shorts", "female", "a female explorer in cargo shorts"),
        ("a masked hero in a red suit", "male", "a masked male hero in a red suit"),
        ("a focused kung-fu master", "male", "a focused male kung-fu master"),  # one hyphenated word
        ("a skilled martial artist", "female", "a skilled female martial artist"),
        ("a tall woman with short curls", "female", "a tall woman with short curls"),  # said already
        ("a yellow electric mouse creature", "male", "a yellow electric mouse creature"),  # no person
        ("a powerful tennis player", "", "a powerful tennis player"),  # nothing known
    ],
)
def test_a_persons_description_says_the_gender_before_its_noun(description: str, gender: str, said: str) -> None:
    assert gendered(description, gender) == said


@pytest.mark.parametrize(
    ("description", "said"),
    [
        ("a black cartoon mouse in red shorts and white gloves", "a black cartoon mouse in shorts and white gloves"),
        ("a masked hero in a red-and-blue spider-web suit", "a masked hero in a spider-web suit"),
        ("a teal-haired anime girl with twin tails", "an anime girl with twin tails"),
        ("a blonde woman in a pink dress", "a blonde woman in a dress"),  # a shade of hair reads in grey too
    ],
)
def test_a_black_and_white_picture_takes_no_colours_from_a_description(description: str, said: str) -> None:
    assert without_colours(description) == said
    cue = cues("a portrait, black and white photo")
    assert cue.monochrome and fit_phrase(description, cue) == said
    assert not cues("a black cat on a white rug").monochrome


def test_a_portrait_is_said_once() -> None:
    said = cues("[Mona Lisa:Marilyn Monroe:0.4] portrait, pop art")
    assert fit_phrase("a renaissance portrait of a dark-haired woman with a subtle smile", said) == (
        "a dark-haired woman with a subtle smile"
    )
    assert fit_phrase("a renaissance portrait of a dark-haired woman", cues("in a museum")).startswith("a renaissance")


@needs_spacy
def test_a_description_gives_no_action_of_its_own_where_the_prompt_gives_one() -> None:
    wading = cues("Godzilla wading through Tokyo Bay at night")
    assert fit_phrase("a towering lizard monster breathing atomic fire", wading) == "a towering lizard monster"
    assert fit_phrase("a woman wearing a wide hat", wading) == "a woman wearing a wide hat"  # a look, no action
    still = cues("Godzilla, movie poster")
    assert fit_phrase("a towering lizard monster breathing atomic fire", still).endswith("atomic fire")


def test_what_covers_the_eyes_is_one_thing() -> None:
    own = ["1boy", "white hair", "round eyewear"]
    assert fit_tags(["short hair", "blindfold", "blue eyes"], cues(", ".join(own), own)) == ["short hair", "blue eyes"]


def test_a_style_that_sets_another_time_or_medium_than_the_prompt_clashes() -> None:
    night = cues("a motorcycle at a gas station at night, photo")
    assert clashes_with_scene("eerie twilight photography", night)
    assert not clashes_with_scene("staged tableau photograph with film-set suspense", night)
    tempera = cues("a farmhouse in a field, late autumn, tempera")
    assert clashes_with_scene("meticulous drybrush watercolor", tempera)
    assert not clashes_with_scene("austere realist painting with brittle texture", tempera)
    free = cues("a lighthouse on a cliff")  # says neither a time nor a medium: every style fits
    assert not clashes_with_scene("moody twilight watercolor", free)


def test_a_description_tag_that_says_a_prompt_tag_again_in_another_form_goes() -> None:
    c = cues("1girl, blonde hair, braid, red brooch", ["1girl", "blonde hair", "braid", "red brooch"])
    assert fit_tags(["braided hair", "white dress"], c) == ["white dress"]  # "braid" said already
