"""The run plan and its record (smoothie.generation.plan): what a run changes, and an infotext that is true."""

from __future__ import annotations

from pathlib import Path

import pytest

from smoothie.generation import GuidanceMode, ModelFamily, RunRecord, embedding_words, keep_for, plan_run
from smoothie.params import SmoothieParams
from tests.unit.generation_fakes import FakeParaphraser
from tests.unit.test_generation_lora import write_lora


@pytest.fixture
def loras(tmp_path: Path) -> list[Path]:
    return [write_lora(tmp_path, "wrong-sd1", "sd_v1"), write_lora(tmp_path, "wrong-sdxl", "sdxl_base_v1-0")]


def _plan(family=ModelFamily.SD1, files=(), **changes):
    return plan_run(SmoothieParams(**changes), family=family, lora_files=files, paraphraser=FakeParaphraser(4))


def test_defaults_on_sd1(loras):
    plan = _plan(files=loras)
    assert plan.ensemble is not None
    assert plan.ensemble.size == 32
    assert plan.guidance.mode is GuidanceMode.RESCALE
    assert plan.guidance.rescale == 0.7
    assert plan.cfg_scale is None
    assert plan.lora.name == "wrong-sd1"
    assert plan.trigger == "wrong"
    assert plan.positive("a cat") == "a cat <lora:wrong-sd1:1>"
    assert plan.negative("blurry") == "blurry, wrong"
    assert plan.errors == ()
    assert plan.notes == ()
    info = plan.infotext()
    assert info["Smoothie ensemble"] == "True"
    assert info["Smoothie rescale"] == "0.7"
    assert info["Smoothie LoRA"] == "wrong-sd1"
    assert "Smoothie keep" not in info  # empty values are left out
    assert "Smoothie paraphrase" not in info  # per image, from the record


def test_prompt_edits_are_idempotent(loras):
    plan = _plan(files=loras, lora_weight=0.5)
    once = plan.positive("a cat")
    assert plan.positive(once) == once
    assert plan.negative(plan.negative("blurry")) == "blurry, wrong"
    assert plan.positive("") == "<lora:wrong-sd1:0.5>"
    assert plan.negative("") == "wrong"


def test_nothing_on():
    plan = _plan(enabled=False, rescale=0.0, negative_lora="")
    assert plan.ensemble is None
    assert not plan.guidance.active
    assert not plan.edits_prompts
    assert plan.positive("a cat") == "a cat"
    assert plan.negative("blurry") == "blurry"
    info = plan.infotext()
    assert info["Smoothie ensemble"] == "False"
    assert info["Smoothie rescale"] == "0"
    assert info["Smoothie LoRA"] == "None"


def test_cfg_boost():
    assert _plan(cfg_boost=20).cfg_scale == 20
    assert _plan(cfg_boost=0).cfg_scale is None


def test_flow_models_skip_the_rescale_and_say_so():
    plan = _plan(ModelFamily.FLUX, negative_lora="")
    assert not plan.guidance.active
    assert plan.guidance.skipped is not None
    assert plan.notes == (plan.guidance.skipped,)
    assert "Flux is a flow-matching model" in plan.notes[0]
    assert plan.infotext()["Smoothie rescale"] == "0"


def test_rescale_at_cfg_one_is_noted():
    plan = plan_run(SmoothieParams(negative_lora=""), family=ModelFamily.SD1, cfg_scale=1.0)
    assert plan.guidance.active
    assert any("CFG scale 1" in n for n in plan.notes)


def test_lora_refused_is_an_error_and_nothing_is_injected(loras):
    plan = _plan(ModelFamily.SD1, loras, negative_lora="wrong-sdxl")
    assert plan.lora.name is None
    assert plan.trigger == ""
    assert plan.positive("a cat") == "a cat"
    assert plan.negative("blurry") == "blurry"
    assert len(plan.errors) == 1
    assert "SDXL LoRA" in plan.errors[0]
    assert plan.infotext()["Smoothie LoRA"] == "None"


def test_auto_without_a_fitting_lora_is_a_note_and_records_none(loras):
    plan = _plan(ModelFamily.SD2, loras)
    assert plan.lora.name is None
    assert plan.errors == ()
    assert len(plan.notes) == 1
    assert plan.infotext()["Smoothie LoRA"] == "None"


def test_placebo_has_the_trigger_without_the_lora(loras):
    params = SmoothieParams(negative_lora="", trigger="bad quality")
    plan = plan_run(params, family=ModelFamily.SD1, lora_files=loras, placebo=True)
    assert plan.lora.name is None
    assert plan.positive("a cat") == "a cat"
    assert plan.negative("blurry") == "blurry, bad quality"


def test_record_keeps_messages_once_and_the_infotext_true(loras):
    plan = _plan(files=loras, negative_lora="missing")
    record = RunRecord(plan)
    assert record.errors == list(plan.errors)
    assert not record.error(plan.errors[0])
    assert record.note("a note")
    assert not record.note("a note")
    record.generic = "a photo of a person"
    info = record.infotext()
    assert info["Smoothie error"] == plan.errors[0]
    assert info["Smoothie note"] == "a note"
    assert info["Smoothie generic"] == "a photo of a person"
    assert info["Smoothie ensemble"] == "True"

    message = record.fail_ensemble("the prompt is empty")
    assert message == "prompt ensemble failed (the prompt is empty); generated from the prompt as written"
    info = record.infotext()
    assert info["Smoothie ensemble"] == "False"
    assert "Smoothie generic" not in info
    assert info["Smoothie error"] == f"{plan.errors[0]}; {message}"
    assert not record.ensemble_active


def test_record_guidance_skipped_at_run_time():
    record = RunRecord(_plan(negative_lora=""))
    assert record.guidance_active
    record.skip_guidance("CFG rescale not applied: unsupported sampler (X)")
    assert not record.guidance_active
    info = record.infotext()
    assert info["Smoothie rescale"] == "0"
    assert info["Smoothie note"] == "CFG rescale not applied: unsupported sampler (X)"


def test_record_paraphrase_per_image():
    record = RunRecord(_plan(mode="per-image", negative_lora=""))
    record.paraphrase_used.update({0: 3, 1: 0})
    assert record.paraphrase_for(0) == "3"
    assert record.paraphrase_for(1) == "0"
    assert record.paraphrase_for(7) is None
    record.fail_ensemble("x")
    assert record.paraphrase_for(0) is None


def test_apg_is_planned_and_its_infotext_records_the_settings():
    plan = _plan(guidance="apg", apg_eta=0.25, apg_norm_threshold=10, apg_momentum=-0.4, negative_lora="")
    g = plan.guidance
    assert (g.mode, g.eta, g.norm_threshold, g.momentum, g.has_interval) == (GuidanceMode.APG, 0.25, 10.0, -0.4, False)
    info = plan.infotext()
    assert info["Smoothie guidance"] == "apg"
    assert info["Smoothie rescale"] == "0"
    assert (info["Smoothie APG eta"], info["Smoothie APG norm"], info["Smoothie APG momentum"]) == (
        "0.25",
        "10",
        "-0.4",
    )
    assert "Smoothie sigma min" not in info and "Smoothie sigma max" not in info
    assert "Smoothie sweep" not in info
    pasted = SmoothieParams.from_infotext(info)
    assert (pasted.guidance, pasted.apg_eta, pasted.apg_norm_threshold, pasted.apg_momentum) == ("apg", 0.25, 10, -0.4)


def test_rescale_and_cfg_infotexts_carry_no_apg_keys_and_the_interval_only_where_set():
    info = _plan(negative_lora="", sigma_max=5.42).infotext()
    assert info["Smoothie guidance"] == "rescale"
    assert info["Smoothie rescale"] == "0.7"
    assert not any(k.startswith("Smoothie APG") for k in info)
    assert info["Smoothie sigma max"] == "5.42" and "Smoothie sigma min" not in info
    plain = _plan(negative_lora="", guidance="cfg").infotext()
    assert plain["Smoothie guidance"] == "cfg"
    assert _plan(negative_lora="", guidance="cfg").guidance.active is False
    assert _plan(negative_lora="", guidance="cfg", sigma_min=0.5).guidance.active is True
    phi0 = _plan(negative_lora="", rescale=0.0)
    assert phi0.guidance.mode is GuidanceMode.CFG and phi0.infotext()["Smoothie guidance"] == "cfg"


def test_a_guidance_skipped_at_run_time_leaves_no_claim():
    plan = _plan(guidance="apg", sigma_min=0.3, negative_lora="")
    record = RunRecord(plan)
    record.skip_guidance("APG with a guidance interval not applied: unsupported sampler (DDIM)")
    info = record.infotext()
    assert info["Smoothie guidance"] == "cfg"
    assert not any(k.startswith(("Smoothie APG", "Smoothie sigma")) for k in info)
    assert "unsupported sampler" in info["Smoothie note"]


def test_flow_models_skip_apg_and_say_so():
    plan = _plan(family=ModelFamily.FLUX, guidance="apg", negative_lora="")
    assert not plan.guidance.active
    assert plan.notes and plan.notes[0].startswith("APG not applied")
    assert plan.infotext()["Smoothie guidance"] == "cfg"


def test_the_tag_database_reaches_the_prompt_engine(tmp_path):
    # Settings' tag database (a tagcomplete-format CSV): its artist tag is read as an artist, not a person.
    db = tmp_path / "tags.csv"
    db.write_text('1girl,0,100,""\nnight,0,50,""\nzenthari_mollowick,1,10,""\n', encoding="utf-8")
    prompt = "1girl, zenthari mollowick, night"
    labels = {}
    for database in (None, str(db)):
        plan = plan_run(SmoothieParams(ensemble_size=2), family=ModelFamily.SD1, tag_database=database)
        assert plan.ensemble is not None
        rewrite = plan.ensemble.paraphraser(prompt)
        labels[database] = {n.text: n.label for n in rewrite.names}
    assert labels[str(db)]["zenthari mollowick"] == "artist"
    assert labels[None].get("zenthari mollowick") != "artist"


def test_embedding_words_are_the_file_names_in_the_folders(tmp_path):
    (tmp_path / "neg").mkdir()
    for name in ("lazypos.safetensors", "neg/EasyNegative.pt", "badhand.bin", "notes.txt", "preview.png"):
        (tmp_path / name).write_bytes(b"x")
    assert embedding_words([tmp_path, tmp_path / "missing"]) == ("EasyNegative", "badhand", "lazypos")


def test_keep_for_adds_only_the_embeddings_a_prompt_uses():
    keep = keep_for("1girl, (lazypos:0.9), night", ("Mona Lisa",), ("lazypos", "lazy", "EasyNegative"))
    assert keep == ("Mona Lisa", "lazypos")
    assert keep_for("an easynegative look", (), ("EasyNegative",)) == ("EasyNegative",)


def test_an_embedding_in_the_prompt_is_kept_as_written():
    # "(lazypos:0.9)": an embedding's word, which no table knows and which reads like a name among tags
    prompt = "masterpiece, 1girl, solo, mermaid, fish tail, coral reef, (lazypos:0.9), night"
    generics = {}
    for embeddings in ((), ("lazypos",)):
        plan = plan_run(SmoothieParams(ensemble_size=4), family=ModelFamily.SD1, embeddings=embeddings)
        assert plan.ensemble is not None
        generics[embeddings] = plan.ensemble.paraphraser(prompt)
    kept = generics[("lazypos",)]
    assert all("(lazypos:0.9)" in p for p in kept.paraphrases)
    assert not any(n.text == "lazypos" for n in kept.names)
    assert "(:0.9)" not in generics[()].generic  # without the folder: never a weight of nothing


def test_record_says_which_model_wrote_the_ensemble():
    from smoothie.generation import MODEL_KEY, model_value
    from smoothie.prompt.engine import Rewrite

    mixed = Rewrite("p", "p", (), ("a",) * 4, "auto", sources=("model", "model", "model", "rules"), model="openai m")
    assert model_value(mixed) == "openai m (3 of 4)"
    assert model_value(Rewrite("p", "p", (), ("a",) * 2, "auto", sources=("rules", "rules"))) == "none (rules)"
    assert model_value(Rewrite("p", "p", (), ("a",) * 2, "rules", sources=("rules", "rules"))) == ""
    record = RunRecord(_plan(negative_lora=""))
    record.model = model_value(mixed)
    assert record.infotext()[MODEL_KEY] == "openai m (3 of 4)"
    record.fail_ensemble("x")
    assert MODEL_KEY not in record.infotext()  # no ensemble: nothing wrote it


def test_settings_llm_options_reach_the_backends_that_take_them():
    from smoothie.generation.plan import backend_options_for

    options = {"local_model": "org/model", "device": "cuda"}
    assert backend_options_for("auto", options) == options
    assert backend_options_for("transformers", options) == {"model": "org/model", "device": "cuda"}
    assert backend_options_for("openai", options) == {}
    assert backend_options_for("rules", options) == {}
    assert backend_options_for("no-such-backend", options) == {}
    assert backend_options_for("auto", None) == {}
