"""Choosing the negative LoRA for a run (smoothie.generation.lora): never a failed generation, never a tag for
a file that is not there."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from smoothie.generation import ModelFamily, choose_lora, find_lora_file
from smoothie.generation import lora as lora_module
from smoothie.params import AUTO_LORA


def write_lora(folder: Path, stem: str, version: str) -> Path:
    path = folder / f"{stem}.safetensors"
    save_file(
        {"lora_unet_x.lora_down.weight": torch.zeros(2, 2)}, str(path), metadata={"ss_base_model_version": version}
    )
    return path


@pytest.fixture
def loras(tmp_path: Path) -> list[Path]:
    return [
        write_lora(tmp_path, "aaa-style", "sd_v1"),
        write_lora(tmp_path, "wrong-sdxl", "sdxl_base_v1-0"),
        write_lora(tmp_path, "wrong-sd1", "sd_v1"),
        write_lora(tmp_path, "Zeta", "sd_v1"),
    ]


def _choose(requested, family, files, trigger="wrong", folders=()):
    return choose_lora(requested, trigger=trigger, weight=0.8, family=family, files=files, folders=folders)


def test_none_requested():
    choice = _choose("", ModelFamily.SD1, [])
    assert choice.name is None
    assert choice.error is None
    assert choice.note is None
    assert choice.infotext_value == "None"


def test_explicit_lora_that_fits(loras):
    choice = _choose("wrong-sdxl", ModelFamily.SDXL, loras)
    assert choice.name == "wrong-sdxl"
    assert choice.path == loras[1]
    assert choice.weight == 0.8
    assert choice.error is None
    assert choice.infotext_value == "wrong-sdxl"


def test_names_match_exactly_first_then_ignoring_case(loras):
    assert find_lora_file("zeta", loras) == loras[3]
    extra = write_lora(loras[0].parent, "zeta", "sd_v1")
    assert find_lora_file("zeta", [*loras, extra]) == extra
    assert find_lora_file("nope", loras) is None


def test_missing_lora_is_an_error_naming_the_folders(loras, tmp_path):
    choice = _choose("no-such-lora", ModelFamily.SD1, loras, folders=[tmp_path])
    assert choice.name is None
    assert choice.error == f"negative LoRA 'no-such-lora' not found in {tmp_path}; generated without it"
    assert choice.infotext_value == "None"


def test_wrong_architecture_is_an_error(loras):
    choice = _choose("wrong-sdxl", ModelFamily.SD1, loras)
    assert choice.name is None
    assert choice.error is not None
    assert "is an SDXL LoRA but the loaded model is SD1.x" in choice.error


@pytest.mark.parametrize("family", [ModelFamily.FLUX, ModelFamily.SD3, ModelFamily.CHROMA])
def test_sd_loras_do_not_fit_flow_models(loras, family):
    choice = _choose("wrong-sd1", family, loras)
    assert choice.name is None
    assert choice.error is not None
    assert f"the loaded model is {family.label}" in choice.error


def test_unknown_model_takes_an_explicit_lora(loras):
    assert _choose("wrong-sd1", ModelFamily.UNKNOWN, loras).name == "wrong-sd1"


def test_corrupt_lora_is_an_error(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    choice = _choose("bad", ModelFamily.SD1, [bad])
    assert choice.name is None
    assert choice.error is not None
    assert "cannot be read" in choice.error


@pytest.mark.parametrize("exc", [RecursionError("deep"), TypeError(), OverflowError("big"), KeyError("x")])
def test_any_exception_from_the_reader_becomes_a_message(loras, monkeypatch, exc):
    def explode(*args, **kwargs):
        raise exc

    monkeypatch.setattr(lora_module, "inspect_lora", explode)
    choice = _choose("wrong-sd1", ModelFamily.SD1, loras)
    assert choice.name is None
    assert choice.error is not None
    assert choice.error.startswith("negative LoRA 'wrong-sd1' cannot be read (")
    assert choice.error.endswith("generated without it")


def test_auto_takes_the_first_trigger_named_lora_of_the_family(loras):
    assert _choose(AUTO_LORA, ModelFamily.SDXL, loras).name == "wrong-sdxl"
    sd1 = _choose(AUTO_LORA, ModelFamily.SD1, loras)
    assert sd1.name == "wrong-sd1"
    assert sd1.requested == AUTO_LORA
    assert sd1.note is None


def test_auto_without_a_fitting_lora_is_a_note(loras):
    choice = _choose(AUTO_LORA, ModelFamily.SD2, loras)
    assert choice.name is None
    assert choice.error is None
    assert choice.note == "no SD2.x LoRA named like 'wrong' installed: generated without a negative LoRA"


def test_auto_on_a_model_it_cannot_check(loras):
    choice = _choose(AUTO_LORA, ModelFamily.FLUX, loras)
    assert choice.name is None
    assert choice.note is not None
    assert "Flux" in choice.note


def test_auto_needs_a_trigger(loras):
    choice = _choose(AUTO_LORA, ModelFamily.SD1, loras, trigger=" ")
    assert choice.name is None
    assert choice.note is not None


def test_auto_passes_over_a_file_that_makes_the_reader_raise(loras, monkeypatch):
    from smoothie import lora as lora_package

    real = lora_package.inspect.inspect_lora

    def fragile(path, *args, **kwargs):
        if Path(path).stem == "wrong-sd1":
            raise RecursionError("maximum recursion depth exceeded")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(lora_package.inspect, "inspect_lora", fragile)
    extra = write_lora(loras[0].parent, "wrong-sd1-v2", "sd_v1")
    choice = _choose(AUTO_LORA, ModelFamily.SD1, [*loras, extra])
    assert choice.name == "wrong-sd1-v2"
    assert choice.note is not None
    assert "wrong-sd1.safetensors (maximum recursion depth exceeded)" in choice.note
    nothing = _choose(AUTO_LORA, ModelFamily.SD1, loras)
    assert nothing.name is None
    assert nothing.note is not None
    assert "passed over unreadable wrong-sd1.safetensors" in nothing.note


def test_auto_names_a_malformed_trigger_file_it_passed_over(loras):
    bad = loras[0].parent / "wrong-broken.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    choice = _choose(AUTO_LORA, ModelFamily.SD1, [*loras, bad])
    assert choice.name == "wrong-sd1"  # the readable SD1 file is still chosen
    assert choice.note is not None
    assert choice.note.startswith("passed over unreadable wrong-broken.safetensors (")
    assert str(bad.parent) not in choice.note  # the reason names the file, not its full path twice
    nothing = _choose(AUTO_LORA, ModelFamily.SD1, [loras[1], bad])
    assert nothing.name is None
    assert nothing.note is not None
    assert nothing.note.startswith("no readable SD1.x LoRA named like 'wrong' installed: generated without")
    assert "a negative LoRA; passed over unreadable wrong-broken.safetensors (" in nothing.note
