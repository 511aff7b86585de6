"""The Smoothie parameters object: validation, API args and infotext round trips (smoothie.params)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smoothie.params import (
    FIELD_NAMES,
    FIELDS,
    GRID_DEFAULT_BOOST,
    MAX_ENSEMBLE,
    EnsembleMode,
    ParamsError,
    SmoothieParams,
)


def test_fields_are_the_dataclass_in_order():
    assert tuple(f.name for f in dataclasses.fields(SmoothieParams)) == FIELD_NAMES
    keys = [f.infotext for f in FIELDS]
    assert len(set(keys)) == len(keys)
    assert all(k.startswith("Smoothie ") for k in keys)


def test_defaults_make_a_plain_click_useful():
    p = SmoothieParams()
    assert p.enabled
    assert p.ensemble_size == 32
    assert p.mode is EnsembleMode.AVERAGE
    assert p.rescale == 0.7
    assert p.trigger == "wrong"
    assert p.backend == "auto"  # a local language model when the machine has one, else the rules backend
    assert p.effective_cfg_boost == GRID_DEFAULT_BOOST


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SmoothieParams().ensemble_size = 3  # type: ignore[misc]


def test_from_args_fills_defaults_and_none():
    assert SmoothieParams.from_args([]) == SmoothieParams()
    p = SmoothieParams.from_args([None, 8.0, "Composable", None, "Ada, Bob ,,Ada"])
    assert p.ensemble_size == 8
    assert p.mode is EnsembleMode.COMPOSABLE
    assert p.keep == ("Ada", "Bob")
    with pytest.raises(ParamsError, match=f"at most {len(FIELDS)}"):
        SmoothieParams.from_args([None] * (len(FIELDS) + 1))


def test_args_and_infotext_round_trip():
    p = SmoothieParams(
        enabled=False,
        ensemble_size=7,
        mode="per-image",
        keep=["Paris"],
        rescale=0.25,
        cfg_boost=14,
        negative_lora="wrong-tiny-sdxl",
        lora_weight=-0.5,
        trigger="bad quality",
        comparison=True,
        paraphrase=5,
    )
    assert SmoothieParams.from_args(p.to_args()) == p
    info = p.to_infotext()
    assert list(info) == [f.infotext for f in FIELDS]
    assert SmoothieParams.from_infotext(info) == p
    assert SmoothieParams.from_infotext({}) == SmoothieParams()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ensemble_size": 0}, "ensemble_size must be within 1–256, got 0"),
        ({"ensemble_size": 10000}, "ensemble_size must be within 1–256, got 10000"),
        ({"ensemble_size": 2.5}, "ensemble_size must be a whole number"),
        ({"ensemble_size": "many"}, "ensemble_size must be a number"),
        ({"ensemble_size": True}, "ensemble_size"),
        ({"mode": "mean"}, "mode must be one of"),
        ({"rescale": 1.5}, r"rescale must be a number within \[0, 1\]"),
        ({"rescale": float("nan")}, "rescale"),
        ({"cfg_boost": 0.5}, "cfg_boost must be 0"),
        ({"cfg_boost": 500}, "cfg_boost"),
        ({"lora_weight": 9}, "lora_weight"),
        ({"negative_lora": "a:b"}, "negative_lora"),
        ({"negative_lora": 3}, "negative_lora must be text"),
        ({"trigger": "<lora:x>"}, "trigger"),
        ({"enabled": "maybe"}, "enabled must be true or false"),
        ({"backend": " "}, "backend"),
        ({"keep": 5}, "keep"),
        ({"paraphrase": -1}, "paraphrase must be within 0–255, got -1"),
        ({"paraphrase": 1.5}, "paraphrase must be a whole number"),
    ],
)
def test_validation_names_field_and_value(changes, message):
    with pytest.raises(ParamsError, match=message):
        SmoothieParams(**changes)


def test_create_rejects_unknown_and_none_lora_is_empty():
    with pytest.raises(ParamsError, match="unknown Smoothie parameter"):
        SmoothieParams.create(size=3)
    assert SmoothieParams(negative_lora="None").negative_lora == ""
    assert SmoothieParams(negative_lora="None").to_args()[FIELD_NAMES.index("negative_lora")] == "None"


def test_mode_parse_accepts_labels():
    assert EnsembleMode.parse("Per image") is EnsembleMode.PER_IMAGE
    assert EnsembleMode.parse(EnsembleMode.AVERAGE) is EnsembleMode.AVERAGE


@given(
    enabled=st.booleans(),
    size=st.integers(1, MAX_ENSEMBLE),
    mode=st.sampled_from(list(EnsembleMode)),
    rescale=st.floats(0, 1),
    boost=st.one_of(st.just(0.0), st.floats(1, 50)),
    weight=st.floats(-4, 4),
    keep=st.lists(st.text("abcXYZ ", min_size=1, max_size=6), max_size=3),
)
def test_round_trip_property(enabled, size, mode, rescale, boost, weight, keep):
    p = SmoothieParams(
        enabled=enabled, ensemble_size=size, mode=mode, rescale=rescale, cfg_boost=boost, lora_weight=weight, keep=keep
    )
    assert SmoothieParams.from_args(p.to_args()) == p
    back = SmoothieParams.from_infotext(p.to_infotext())
    # infotext writes floats with %g (6 significant digits)
    assert back.replace(rescale=p.rescale, cfg_boost=p.cfg_boost, lora_weight=p.lora_weight) == p
    assert back.rescale == pytest.approx(p.rescale, rel=1e-5, abs=1e-6)


def test_guidance_fields_default_to_the_papers_values_and_old_args_still_work():
    from smoothie.params import APG_ETA, APG_MOMENTUM, APG_NORM_THRESHOLD

    p = SmoothieParams()
    assert (p.guidance, p.apg_eta, p.apg_norm_threshold, p.apg_momentum) == ("rescale", 0.0, 15.0, -0.5)
    assert (APG_ETA, APG_NORM_THRESHOLD, APG_MOMENTUM) == (0.0, 15.0, -0.5)
    assert p.interval is None and not p.sweep
    # the guidance fields come after every older one: an old caller's positional args mean what they meant
    names = list(FIELD_NAMES)
    assert names.index("guidance") > names.index("paraphrase")
    old = SmoothieParams.from_args([True, 8, "average", "rules", "", 0.3, 12.0])
    assert (old.rescale, old.cfg_boost, old.guidance) == (0.3, 12.0, "rescale")
    assert SmoothieParams(guidance="CFG Rescale").guidance == "rescale"
    assert SmoothieParams(sigma_min=0.28, sigma_max=5.42).interval == (0.28, 5.42)
    assert SmoothieParams(sigma_max=3).interval == (None, 3.0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"guidance": "pag"}, "guidance must be one of"),
        ({"apg_eta": 11}, "apg_eta must be a number within"),
        ({"apg_norm_threshold": -1}, "apg_norm_threshold must be a number within"),
        ({"apg_momentum": 2}, "apg_momentum must be a number within"),
        ({"sigma_min": 5, "sigma_max": 1}, "sigma_min must be below sigma_max"),
        ({"sigma_max": -1}, "sigma_max must be a number within"),
        ({"sweep": "maybe"}, "sweep must be true or false"),
    ],
)
def test_guidance_fields_are_validated(changes, message):
    with pytest.raises(ParamsError, match=message):
        SmoothieParams(**changes)


def test_guidance_fields_round_trip():
    p = SmoothieParams(
        guidance="apg",
        apg_eta=0.5,
        apg_norm_threshold=7.5,
        apg_momentum=-0.25,
        sigma_min=0.28,
        sigma_max=5.42,
        sweep=True,
    )
    assert SmoothieParams.from_args(p.to_args()) == p
    assert SmoothieParams.from_infotext(p.to_infotext()) == p


def test_paste_fills_the_keys_an_infotext_leaves_out():
    from smoothie.params import paste_value

    apg = {"Smoothie guidance": "apg", "Smoothie APG eta": "0.2", "Smoothie rescale": "0"}
    assert paste_value("guidance", apg) == "apg"
    assert paste_value("apg_eta", apg) == "0.2"
    assert paste_value("sigma_max", apg) == 0.0, "no interval recorded: no limit, not the field's old value"
    assert paste_value("apg_momentum", {"Smoothie guidance": "rescale"}) is None, "irrelevant to the image: left"
    old = {"Smoothie rescale": "0.7", "Smoothie size": "32"}  # an image from before the guidance option
    assert paste_value("guidance", old) == "rescale"
    assert paste_value("sigma_min", old) == 0.0
    assert paste_value("guidance", {"Steps": "20"}) is None, "not a Smoothie image: fields left alone"
    assert paste_value("sigma_min", {"Smoothie guidance": "cfg", "Smoothie sigma min": "0.28"}) == "0.28"
