"""LoRA header reading, architecture detection, folder listing and prompt injection (smoothie.lora)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from safetensors.torch import save_file

from smoothie.lora import (
    Architecture,
    LoraFileError,
    detect_architecture,
    find_loras,
    has_lora,
    inject_lora,
    inject_trigger,
    inspect_lora,
    lora_tag,
    read_safetensors_header,
)

SHARED_LORA = Path(__file__).resolve().parents[2].parent / "shared" / "models" / "models" / "Lora"
needs_shared = pytest.mark.skipif(not SHARED_LORA.is_dir(), reason=f"shared test LoRAs not found at {SHARED_LORA}")


def _write_raw(path: Path, header: bytes, data: bytes = b"", length: int | None = None) -> Path:
    path.write_bytes(struct.pack("<Q", len(header) if length is None else length) + header + data)
    return path


@needs_shared
@pytest.mark.parametrize(
    ("stem", "arch", "top"),
    [
        ("tiny-sd1-lora", Architecture.SD1, "tiny"),
        ("tiny-sdxl-lora", Architecture.SDXL, "tiny"),
        ("wrong-tiny-sdxl", Architecture.SDXL, "wrong"),
    ],
)
def test_shared_loras(stem, arch, top):
    info = inspect_lora(SHARED_LORA / f"{stem}.safetensors")
    assert info.name == stem
    assert info.architecture is arch
    assert info.top_tags[0] == top
    assert info.n_tensors > 0


@needs_shared
def test_shared_loras_detected_from_keys_alone():
    for stem, arch in (("tiny-sd1-lora", Architecture.SD1), ("tiny-sdxl-lora", Architecture.SDXL)):
        header = read_safetensors_header(SHARED_LORA / f"{stem}.safetensors")
        header.pop("__metadata__")
        assert detect_architecture(header) is arch


@needs_shared
def test_find_loras_lists_shared_folder():
    names = [p.stem for p in find_loras(SHARED_LORA)]
    assert names == ["tiny-sd1-lora", "tiny-sdxl-lora", "wrong-tiny-sdxl"]


def test_header_read_without_loading_and_matches_library(tmp_path):
    f = tmp_path / "x.safetensors"
    save_file({"a": torch.zeros(2, 3), "b": torch.ones(4)}, str(f), metadata={"ss_base_model_version": "sd_v1"})
    header = read_safetensors_header(f)
    assert header["__metadata__"] == {"ss_base_model_version": "sd_v1"}
    assert header["a"]["shape"] == [2, 3]
    assert header["b"]["dtype"] == "F32"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "too short"),
        (b"1234", "too short"),
    ],
)
def test_too_short(tmp_path, content, message):
    f = tmp_path / "short.safetensors"
    f.write_bytes(content)
    with pytest.raises(LoraFileError, match=message):
        read_safetensors_header(f)


def test_missing_file(tmp_path):
    with pytest.raises(LoraFileError, match="does not exist"):
        read_safetensors_header(tmp_path / "nope.safetensors")
    with pytest.raises(LoraFileError, match="does not exist"):
        inspect_lora(tmp_path / "nope.pt")


def test_huge_header_refused_without_reading_it(tmp_path):
    f = _write_raw(tmp_path / "huge.safetensors", b"{}", length=2**40)
    with pytest.raises(LoraFileError, match="exceeds the limit"):
        read_safetensors_header(f)
    small_limit = _write_raw(tmp_path / "big.safetensors", b'{"__metadata__": {"a": "' + b"x" * 500 + b'"}}')
    with pytest.raises(LoraFileError, match="exceeds the limit of 100 bytes"):
        read_safetensors_header(small_limit, max_header_bytes=100)


def test_not_json_and_not_object(tmp_path):
    with pytest.raises(LoraFileError, match="not JSON"):
        read_safetensors_header(_write_raw(tmp_path / "a.safetensors", b"\x80\x81 not json"))
    with pytest.raises(LoraFileError, match="not an object"):
        read_safetensors_header(_write_raw(tmp_path / "b.safetensors", b"[1, 2]"))
    with pytest.raises(LoraFileError, match="__metadata__"):
        read_safetensors_header(_write_raw(tmp_path / "c.safetensors", b'{"__metadata__": 3}'))
    with pytest.raises(LoraFileError, match="data_offsets"):
        read_safetensors_header(_write_raw(tmp_path / "d.safetensors", b'{"t": {"dtype": "F32"}}'))


def test_a_pickle_renamed_is_not_safetensors(tmp_path):
    f = tmp_path / "pickle.safetensors"
    torch.save({"w": torch.zeros(3)}, f)
    with pytest.raises(LoraFileError, match=r"not a safetensors file|exceeds the limit|truncated"):
        read_safetensors_header(f)


def test_truncated_file(tmp_path):
    f = tmp_path / "t.safetensors"
    save_file({"w": torch.zeros(64, 64)}, str(f))
    data = f.read_bytes()
    f.write_bytes(data[: len(data) - 100])
    with pytest.raises(LoraFileError, match="truncated"):
        read_safetensors_header(f)
    header_len = struct.unpack("<Q", data[:8])[0]
    f.write_bytes(data[: 8 + header_len // 2])
    with pytest.raises(LoraFileError, match="truncated"):
        read_safetensors_header(f)


def _header(keys: dict[str, list[int]], meta: dict[str, str] | None = None) -> dict:
    h: dict = {k: {"dtype": "F16", "shape": s, "data_offsets": [0, 0]} for k, s in keys.items()}
    if meta is not None:
        h["__metadata__"] = meta
    return h


@pytest.mark.parametrize(
    ("header", "arch"),
    [
        (_header({}, {"ss_base_model_version": "sd_v2_768_v"}), Architecture.SD2),
        (_header({}, {"modelspec.architecture": "stable-diffusion-xl-v1-base/lora"}), Architecture.SDXL),
        (_header({}, {"modelspec.architecture": "stable-diffusion-v1/lora"}), Architecture.SD1),
        (_header({}, {"ss_v2": "True"}), Architecture.SD2),
        (_header({"lora_unet_x_attn2_to_k.lora_down.weight": [4, 768]}), Architecture.SD1),
        (_header({"lora_unet_x_attn2_to_k.lora_down.weight": [4, 1024]}), Architecture.SD2),
        (_header({"lora_unet_x_attn2_to_k.lora_down.weight": [4, 2048]}), Architecture.SDXL),
        (_header({"lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight": [4, 64]}), Architecture.SDXL),
        (
            _header(
                {
                    "lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": [4, 320],
                    "lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight": [4, 1024],
                }
            ),
            Architecture.SD2,
        ),
        (_header({"lora_unet_input_blocks_1_1_proj_in.lora_down.weight": [4, 320]}), Architecture.SD1),
        (_header({"something_else": [3]}), Architecture.UNKNOWN),
        (_header({}, {"ss_base_model_version": "flux1"}), Architecture.UNKNOWN),
    ],
)
def test_detect_architecture(header, arch):
    assert detect_architecture(header) is arch


def test_find_loras(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.safetensors", "A.pt", "sub/c.ckpt", "notes.txt", "sub/d.SAFETENSORS"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in find_loras(tmp_path)] == ["A.pt", "b.safetensors", "sub/c.ckpt"[4:], "d.SAFETENSORS"]
    assert [p.name for p in find_loras(tmp_path, recursive=False)] == ["A.pt", "b.safetensors"]
    assert find_loras(tmp_path / "missing") == []
    with pytest.raises(ValueError, match="not a directory"):
        find_loras(tmp_path / "b.safetensors")


def test_inspect_non_safetensors_is_unknown(tmp_path):
    f = tmp_path / "old.pt"
    f.write_bytes(b"pickle")
    assert inspect_lora(f).architecture is Architecture.UNKNOWN


def test_top_tags_tolerates_bad_metadata(tmp_path):
    f = tmp_path / "m.safetensors"
    save_file({"w": torch.zeros(1)}, str(f), metadata={"ss_tag_frequency": "{not json"})
    assert inspect_lora(f).top_tags == []
    save_file({"w": torch.zeros(1)}, str(f), metadata={"ss_tag_frequency": json.dumps({"1_a": {"x": 1, "y": 3}})})
    assert inspect_lora(f).top_tags == ["y", "x"]


def test_inject_lora_once():
    assert inject_lora("a cat", "wrong", 1.0) == "a cat <lora:wrong:1>"
    assert inject_lora("a cat <lora:wrong:0.5>", "wrong", 1.0) == "a cat <lora:wrong:0.5>"
    assert inject_lora("<lora:wrong>", "wrong", 1.0) == "<lora:wrong>"
    assert inject_lora("a <lora:wrongish:1>", "wrong", -0.5) == "a <lora:wrongish:1> <lora:wrong:-0.5>"
    assert inject_lora("", "wrong", 0.8) == "<lora:wrong:0.8>"
    assert inject_lora("a AND b :0.5", "w", 1) == "a AND b :0.5 <lora:w:1>"
    twice = inject_lora(inject_lora("x", "n", 1), "n", 1)
    assert twice.count("<lora:n") == 1
    assert lora_tag("n", 0.75) == "<lora:n:0.75>"


@pytest.mark.parametrize("name", ["", "  ", "a:b", "a>b", "<x"])
def test_bad_lora_names(name):
    with pytest.raises(ValueError, match="LoRA name"):
        inject_lora("x", name, 1)


def test_bad_lora_weight():
    with pytest.raises(ValueError, match="finite"):
        lora_tag("x", float("nan"))


def test_inject_trigger_once():
    assert inject_trigger("", "wrong") == "wrong"
    assert inject_trigger("blurry,", "wrong") == "blurry, wrong"
    assert inject_trigger("blurry, Wrong", "wrong") == "blurry, Wrong"
    assert inject_trigger("wrongly lit", "wrong") == "wrongly lit, wrong"
    assert inject_trigger("x", "  ") == "x"


@given(st.text(max_size=40), st.sampled_from(["wrong", "bad quality", "n1"]))
def test_injection_is_idempotent(text, trigger):
    once = inject_trigger(text, trigger)
    assert inject_trigger(once, trigger) == once
    p = inject_lora(text, "neg", 1.0)
    assert inject_lora(p, "neg", 0.3) == p
    assert has_lora(p, "neg")


@needs_shared
def test_auto_negative_lora_picks_the_trigger_named_lora_of_the_models_architecture(tmp_path):
    from smoothie.lora import choose_negative_lora

    paths = find_loras(SHARED_LORA)
    chosen = choose_negative_lora(paths, "wrong", Architecture.SDXL)
    assert chosen is not None
    assert chosen.stem == "wrong-tiny-sdxl"
    assert choose_negative_lora(paths, "wrong", Architecture.SD1) is None  # the only "wrong" LoRA is SDXL
    assert choose_negative_lora(paths, "wrong", Architecture.UNKNOWN) is None
    assert choose_negative_lora(paths, "", Architecture.SDXL) is None
    broken = tmp_path / "wrong-broken.safetensors"
    broken.write_bytes(b"\x00" * 4)  # unreadable: passed over, not fatal
    assert choose_negative_lora([broken, *paths], "WRONG", Architecture.SDXL) == chosen
