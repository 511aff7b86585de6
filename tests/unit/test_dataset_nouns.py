"""ImageNet classes to caption words: the table, the grouping rule, and real photos through the network."""

from __future__ import annotations

import numpy as np
import pytest

from smoothie.dataset import nouns


def _probs(**by_index: float) -> np.ndarray:
    p = np.full(1000, 0.0)
    for key, value in by_index.items():
        p[int(key.lstrip("c"))] = value
    rest = 1.0 - p.sum()
    free = p == 0
    p[free] = rest / free.sum()
    return p


def test_every_class_has_a_noun_and_a_group() -> None:
    table = nouns.classes()
    assert len(table) == 1000
    assert [c.index for c in table] == list(range(1000))
    assert all(c.noun.strip() and c.group.strip() and c.synset.startswith("n") for c in table)
    assert table[281].label == "tabby" and table[281].noun == "cat"
    assert {table[i].noun for i in range(151, 269)} == {"dog"}  # 118 breeds, one caption word
    assert table[24].noun == "owl" and table[24].group == "bird"
    assert table[504].noun == "coffee mug" and table[504].group == "cup"  # first lemma, hand-grouped
    assert table[812].noun == "space shuttle"  # the generic rule: the first WordNet lemma


def test_a_cat_split_between_breeds_is_a_cat() -> None:
    guess = nouns.subject_noun(_probs(c281=0.25, c282=0.2, c285=0.2))
    assert guess is not None and guess.noun == "cat" and guess.share > 0.6


def test_a_dominant_class_names_its_group_else_the_group_word_does() -> None:
    owl = nouns.subject_noun(_probs(c24=0.5, c22=0.05))
    assert owl is not None and owl.noun == "owl"
    birds = nouns.subject_noun(_probs(c10=0.15, c11=0.15, c12=0.15, c13=0.1))
    assert birds is not None and birds.noun == "bird"


def test_uncertain_pictures_get_no_noun() -> None:
    assert nouns.subject_noun(_probs(c500=0.2, c600=0.15)) is None
    assert nouns.subject_noun(np.full(1000, 1e-3)) is None


def test_scenes_are_settings_not_subjects() -> None:
    beach = _probs(c978=0.6, c977=0.1)
    assert nouns.subject_noun(beach) is None
    assert nouns.setting(beach) == "beach"
    assert nouns.setting(_probs(c281=0.9)) is None
    assert nouns.subject_noun(_probs(c981=0.7)) is None  # a ballplayer is a person: not an object noun


def test_top_labels_are_wordnet_names() -> None:
    assert nouns.top_labels(_probs(c967=0.7, c968=0.2), k=2) == [("espresso", 0.7), ("cup", 0.2)]


@pytest.mark.parametrize(
    ("name", "noun"), [("chelsea", "cat"), ("coffee", "espresso cup"), ("rocket", "rocket"), ("astronaut", None)]
)
def test_sample_photos(name: str, noun: str | None) -> None:
    pytest.importorskip("torch")
    from smoothie.dataset import effnet
    from tests.unit.test_dataset_folder import photos

    try:
        embedder = effnet.load()
    except effnet.UnavailableError as exc:
        pytest.skip(str(exc))
    guess = nouns.subject_noun(embedder.features(photos()[name]).probabilities)
    assert (guess.noun if guess else None) == noun


def test_brands_in_wordnet_become_generic_words() -> None:
    table = nouns.classes()
    brands = {419: "Band Aid", 521: "Crock Pot", 605: "iPod", 661: "Model T", 732: "Polaroid camera"}
    for index, label in brands.items():
        assert table[index].label == label
        assert label.split()[0] not in table[index].noun
