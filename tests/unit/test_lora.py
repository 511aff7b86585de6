"""LoRA header reading, architecture detection, folder listing and prompt injection (smoothie.lora)."""

from __future__ import annotations

import json
import os
import struct
import time
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors import safe_open
from safetensors.torch import save_file

from smoothie.lora import (
    MAX_HEADER_BYTES,
    MAX_JSON_VALUES,
    Architecture,
    LoraFileError,
    LoraInfo,
    choose_negative_lora,
    clear_cache,
    detect_architecture,
    find_loras,
    has_lora,
    inject_lora,
    inject_trigger,
    inspect_lora,
    lora_tag,
    read_safetensors_header,
)
from smoothie.lora import inspect as lora_inspect

SHARED_LORA = Path(__file__).resolve().parents[2].parent / "shared" / "models" / "models" / "Lora"
needs_shared = pytest.mark.skipif(not SHARED_LORA.is_dir(), reason=f"shared test LoRAs not found at {SHARED_LORA}")


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


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
    with pytest.raises(LoraFileError, match="does not start with"):
        read_safetensors_header(_write_raw(tmp_path / "a.safetensors", b"\x80\x81 not json"))
    with pytest.raises(LoraFileError, match="not JSON"):
        read_safetensors_header(_write_raw(tmp_path / "a2.safetensors", b"{not json"))
    with pytest.raises(LoraFileError, match="does not start with"):
        read_safetensors_header(_write_raw(tmp_path / "b.safetensors", b"[1, 2]"))
    with pytest.raises(LoraFileError, match="__metadata__"):
        read_safetensors_header(_write_raw(tmp_path / "c.safetensors", b'{"__metadata__": 3}'))
    with pytest.raises(LoraFileError, match="data_offsets"):
        read_safetensors_header(_write_raw(tmp_path / "d.safetensors", b'{"t": {"dtype": "F32", "shape": [1]}}'))


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


# --- hostile headers (issue 14 item 6): only LoraFileError leaves the reader, and the work is bounded --------------

_T = '"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}'
_DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("header", "data", "message"),
    [
        pytest.param('{"t":' + _DEEP + "}", b"", "nests deeper", id="deep-nesting"),
        pytest.param('{"__metadata__":{"a":' + _DEEP + "}}", b"", "nests deeper", id="deep-metadata"),
        pytest.param(
            '{"t":{"dtype":"F16","shape":[4,' + "9" * 5000 + '],"data_offsets":[0,0]}}',
            b"",
            "not JSON",
            id="5000-digit-number",
        ),
        pytest.param(
            '{"lora_te_x.lora_down.weight":{"dtype":"F16","shape":[4,1e999],"data_offsets":[0,0]}}',
            b"",
            "no valid shape",
            id="infinite-dimension",
        ),
        pytest.param('{"t":{"dtype":"F16","shape":[4,"x"],"data_offsets":[0,0]}}', b"", "no valid shape", id="str-dim"),
        pytest.param('{"t":{"dtype":"U8","shape":[true],"data_offsets":[0,1]}}', b"x", "no valid shape", id="bool-dim"),
        pytest.param('{"t":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}', b"x", "no valid shape", id="neg-dim"),
        pytest.param('{"t":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}}', b"x", "no valid shape", id="float-dim"),
        pytest.param(
            '{"t":{"dtype":"U8","shape":' + str([1] * 17) + ',"data_offsets":[0,1]}}', b"x", "at most 16", id="17-dims"
        ),
        pytest.param('{"t":{"dtype":"U8","shape":NaN,"data_offsets":[0,1]}}', b"x", "not JSON", id="NaN"),
        pytest.param('{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,Infinity]}}', b"x", "not JSON", id="Infinity"),
        pytest.param('{"t":{"dtype":7,"shape":[1],"data_offsets":[0,1]}}', b"x", "dtype", id="dtype-int"),
        pytest.param(
            '{"t":{"dtype":"U8","shape":[1],"data_offsets":["0","1"]}}', b"x", "data_offsets", id="str-offsets"
        ),
        pytest.param('{"t":{"dtype":"U8","shape":[1],"data_offsets":[-1,1]}}', b"x", "data_offsets", id="neg-offset"),
        pytest.param('{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}', b"x", "data_offsets", id="3-offsets"),
        pytest.param('{"t":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}', b"x", "end before", id="reversed"),
        pytest.param(
            '{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,' + "9" * 40 + "]}}", b"x", "truncated", id="huge-offset"
        ),
        pytest.param(
            '{"t":{"dtype":"F32","shape":[' + ",".join(["4294967296"] * 16) + '],"data_offsets":[0,4]}}',
            b"xxxx",
            "overflows 64 bits",
            id="absurd-shape",
        ),
        pytest.param(
            '{"t":{"dtype":"F32","shape":[1048576,1048576,1048576],"data_offsets":[0,4]}}',
            b"xxxx",
            "needs more than 4 bytes",
            id="huge-shape",
        ),
        pytest.param(
            '{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', b"xxxx", "needs 8 bytes", id="short-span"
        ),
        pytest.param('{"t":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', b"xy", "expected 0", id="hole"),
        pytest.param("{" + _T + "}", b"xy", "cover 1 bytes of a 2-byte", id="trailing-data"),
        pytest.param(
            '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}',
            b"x",
            "expected 1",
            id="overlap",
        ),
        pytest.param(
            '{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"t":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}',
            b"xy",
            "expected 0",
            id="duplicate-tensor",
        ),
        pytest.param('{"t":[1,2]}', b"", "is a list, not an object", id="entry-list"),
        pytest.param('{"t":null}', b"", "not an object", id="entry-null"),
        pytest.param('{"__metadata__":{"a":1},' + _T + "}", b"x", "only strings", id="metadata-int"),
        pytest.param('{"__metadata__":[],' + _T + "}", b"x", "must be an object", id="metadata-list"),
        pytest.param('{"__metadata__":{"a":"\\ud800"},' + _T + "}", b"x", "lone surrogate", id="metadata-surrogate"),
        pytest.param(
            '{"\\udfff":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"x", "lone surrogate", id="name-surrogate"
        ),
        pytest.param('{"t":{}} trailing', b"", "not JSON", id="extra-data"),
        # hypothesis (reported by reliab): a dimension >= 2**64 on a tensor with no elements; the library reads
        # dimensions as u64 and refuses it, PyTorch refuses any above 2**63 - 1
        pytest.param(
            '{"t0": {"dtype": "BF16", "shape": [0, 36893488147419103232], "data_offsets": [0, 0]}, '
            '"t1": {"dtype": "BF16", "shape": [0], "data_offsets": [0, 0]}}',
            b"",
            r"'t0' has a dimension larger than 9223372036854775807",
            id="dimension-2**65-zero-size",
        ),
        pytest.param(
            '{"t":{"dtype":"U8","shape":[0,18446744073709551615],"data_offsets":[0,0]}}',
            b"",
            "dimension larger",
            id="dimension-2**64-1-zero-size",
        ),
        pytest.param(
            '{"t":{"dtype":"U8","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}',
            b"",
            "overflows 64 bits",
            id="running-product-overflows-before-0",
        ),
        pytest.param('{"t":{"dtype":"U8","shape":[-0],"data_offsets":[0,0]}}', b"", "no valid shape", id="minus-0"),
        pytest.param(
            '{"t":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"x", "dtype twice", id="dup-field"
        ),
        pytest.param('{"__metadata__":{},"__metadata__":{},' + _T + "}", b"x", "two __metadata__", id="dup-metadata"),
        pytest.param(
            '{"t":{"dtype":"U8","d\\u0074ype":"U8","shape":[1],"data_offsets":[0,1]}}',
            b"x",
            "dtype twice",
            id="dup-field-escaped",
        ),
        pytest.param(
            '{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"shape":[1]},"dtype":{"dtype":"U8","shape":[0],'
            '"data_offsets":[1,1]}}',
            b"x",
            "shape twice",
            id="dup-field-beside-a-tensor-named-dtype",
        ),
        pytest.param(
            '{"\\u005f_metadata__":{},"__metadata__":{},' + _T + "}", b"x", "two __metadata__", id="dup-meta-esc"
        ),
        pytest.param(
            '{"t":{"dtype":"FUTURE_TYPE","shape":[3],"data_offsets":[0,1]}}', b"x", "unknown dtype", id="dtype-unknown"
        ),
        pytest.param('{"t":{"dtype":"u8","shape":[1],"data_offsets":[0,1]}}', b"x", "unknown dtype", id="dtype-case"),
        pytest.param(
            '{"t":{"dtype":"F6_E2M3","shape":[4],"data_offsets":[0,3]}}', b"xyz", "cannot load|cannot read", id="F6"
        ),
        pytest.param(  # (the A1111 venv's safetensors 0.4.2 knows no F4 at all)
            '{"t":{"dtype":"F4","shape":[0,3],"data_offsets":[0,0]}}', b"", "odd last dim|cannot read", id="F4-odd"
        ),
    ],
)
def test_hostile_headers_are_refused_with_a_reason(tmp_path, header, data, message):
    f = _write_raw(tmp_path / "wrong-hostile.safetensors", header.encode(), data)
    with pytest.raises(LoraFileError, match=message):
        inspect_lora(f)
    with pytest.raises(LoraFileError, match=message):  # the cached answer is the same
        inspect_lora(f)


def test_non_utf8_header(tmp_path):
    f = _write_raw(tmp_path / "wrong-latin1.safetensors", '{"é":{}}'.encode("latin-1"))
    with pytest.raises(LoraFileError, match="not UTF-8"):
        inspect_lora(f)


def test_what_the_loaders_accept_is_accepted(tmp_path):
    """Null metadata, whitespace padding, zero-size tensors (a huge dimension after a 0 too), extra fields (given
    twice too), duplicate metadata keys, the same tensor named twice (the last counts): all load."""
    cases = [
        ('{"__metadata__":null,' + _T + "}", b"x"),
        ("  {" + _T + "}    ", b"x"),
        ('{"z":{"dtype":"F32","shape":[0,5],"data_offsets":[0,0]},' + _T + "}", b"x"),
        ('{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":[1,{"x":2}]}}', b"x"),
        ('{"__metadata__":{"k":"1","k":"2"},' + _T + "}", b"x"),
        ('{"z":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]},' + _T + "}", b"x"),
        ('{"z":{"dtype":"F32","shape":[4294967296,4294967295,0],"data_offsets":[0,0]},' + _T + "}", b"x"),
        ('{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":-0,"x":1}}', b"x"),
        ('{"t":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},' + _T + "}", b"x"),
        ("{}", b""),
    ]
    if "F4" in lora_inspect.library_dtypes():
        cases += [
            ('{"t":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}}', b"x"),
            ('{"t":{"dtype":"F4","shape":[3,0],"data_offsets":[0,0]}}', b""),
        ]
    for i, (header, data) in enumerate(cases):
        info = inspect_lora(_write_raw(tmp_path / f"ok{i}.safetensors", header.encode(), data))
        assert info.architecture is Architecture.UNKNOWN


def test_dtypes_are_those_the_installed_library_reads(tmp_path, monkeypatch):
    known = lora_inspect.library_dtypes()
    assert {"U8", "F16", "BF16", "F32", "I64"} <= known <= set(lora_inspect.DTYPE_BITS)
    monkeypatch.setattr(lora_inspect, "library_dtypes", lambda: known - {"F16"})  # as an older library
    f = _write_raw(tmp_path / "wrong-f16.safetensors", b'{"t":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}', b"xy")
    with pytest.raises(LoraFileError, match="dtype F16, which the installed safetensors library cannot read"):
        inspect_lora(f)


def test_an_unreadable_path_is_a_lora_file_error(tmp_path):
    folder = tmp_path / "wrong-folder.safetensors"
    folder.mkdir()
    with pytest.raises(LoraFileError, match="not a regular file"):
        inspect_lora(folder)
    with pytest.raises(LoraFileError):
        inspect_lora(str(tmp_path / "nul\x00byte.safetensors"))
    loop = tmp_path / "wrong-loop.safetensors"
    loop.symlink_to(loop)
    with pytest.raises(LoraFileError, match="cannot read"):
        inspect_lora(loop)
    fifo = tmp_path / "wrong-fifo.safetensors"
    os.mkfifo(fifo)
    with pytest.raises(LoraFileError, match="not a regular file"):  # never blocks on open()
        inspect_lora(fifo)


def test_too_many_values_refused_before_parsing(tmp_path, monkeypatch):
    from smoothie.lora import inspect as inspect_module

    def no_parse(*args, **kwargs):
        raise AssertionError("json.loads was called")

    monkeypatch.setattr(inspect_module.json, "loads", no_parse)
    f = _write_raw(tmp_path / "zeros.safetensors", b'{"a":[' + b"0," * MAX_JSON_VALUES + b"0]}")
    with pytest.raises(LoraFileError, match="JSON values"):
        inspect_lora(f)


def test_too_many_tensors(tmp_path, monkeypatch):
    from smoothie.lora import inspect as inspect_module

    monkeypatch.setattr(inspect_module, "MAX_TENSORS", 3)
    header = {f"t{i}": {"dtype": "U8", "shape": [1], "data_offsets": [i, i + 1]} for i in range(4)}
    f = _write_raw(tmp_path / "many.safetensors", json.dumps(header).encode(), b"xxxx")
    with pytest.raises(LoraFileError, match="4 tensors, more than any LoRA"):
        inspect_lora(f)


def test_a_99_mb_header_costs_nothing(tmp_path):
    """The issue's reproducer: a 99 MB header with 1.5 M tensors took 76 s and 1 GB; the length is refused from
    the 8-byte prefix, before a byte of JSON is read (the file here is sparse)."""
    f = tmp_path / "wrong-huge.safetensors"
    with f.open("wb") as fh:
        fh.write(struct.pack("<Q", 99_000_000) + b'{"')
        fh.truncate(8 + 99_000_000 + 1000)
    with pytest.raises(LoraFileError, match=f"exceeds the limit of {MAX_HEADER_BYTES}"):
        inspect_lora(f)


def test_top_tags_never_raise():
    for raw in ('{"d": {"x": 1e999, "y": 2}}', '{"d": {"x": NaN, "y": true, "z": 1}}', "[" * 5000, '{"d": [1]}', "7"):
        info = LoraInfo(path=Path("x"), name="x", architecture=Architecture.SDXL, metadata={"ss_tag_frequency": raw})
        assert isinstance(info.top_tags, list)
    info = LoraInfo(
        path=Path("x"),
        name="x",
        architecture=Architecture.SDXL,
        metadata={"ss_tag_frequency": '{"d": {"x": 1e999, "y": 2}}'},
    )
    assert info.top_tags == ["y"]


def test_detect_architecture_ignores_entries_of_the_wrong_type():
    assert detect_architecture({"lora_te_a.lora_down.weight": {"shape": [4, 1e999]}, "input_blocks_1_1_x": 3}) is (
        Architecture.SD1
    )
    assert detect_architecture({"x_attn2_to_k.lora_down.weight": {"shape": [4, "2048"]}}) is Architecture.UNKNOWN
    assert detect_architecture({"__metadata__": [1], "x": None}) is Architecture.UNKNOWN


def test_auto_choice_passes_over_hostile_files_and_says_why(tmp_path):
    good = tmp_path / "wrong-z.safetensors"
    save_file({"w": torch.zeros(1)}, str(good), metadata={"ss_base_model_version": "sdxl_base_v1-0"})
    deep = _write_raw(tmp_path / "wrong-a.safetensors", ('{"t":' + _DEEP + "}").encode())
    skipped: list[str] = []
    assert choose_negative_lora([deep, good], "wrong", Architecture.SDXL, skipped=skipped) == good
    assert skipped == ["wrong-a.safetensors (safetensors header nests deeper than the format allows)"]


# --- the per-file cache -----------------------------------------------------------------------------------------


def test_inspect_reads_each_file_once(tmp_path, monkeypatch):
    from smoothie.lora import inspect as inspect_module

    f = tmp_path / "wrong.safetensors"
    save_file({"w": torch.zeros(1)}, str(f), metadata={"ss_base_model_version": "sd_v1"})
    reads: list[Path] = []
    real = inspect_module.read_safetensors_header

    def counting(path, *args, **kwargs):
        reads.append(Path(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(inspect_module, "read_safetensors_header", counting)
    first = inspect_lora(f)
    assert inspect_lora(f) is first
    assert len(reads) == 1
    save_file({"w": torch.zeros(2)}, str(f), metadata={"ss_base_model_version": "sdxl_base_v1-0"})  # new size
    assert inspect_lora(f).architecture is Architecture.SDXL
    assert len(reads) == 2
    broken = _write_raw(tmp_path / "wrong-broken.safetensors", b"{nope")
    for _ in range(3):
        with pytest.raises(LoraFileError, match="not JSON"):
            inspect_lora(broken)
    assert len(reads) == 3  # an error is cached too
    stat = broken.stat()
    _write_raw(broken, b"{}")
    os.utime(broken, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert inspect_lora(broken).n_tensors == 0  # fixed file: read again
    assert len(reads) == 4


def test_cache_is_bounded():
    from smoothie.lora.inspect import _InfoCache

    cache = _InfoCache(max_entries=3, max_chars=100)
    for i in range(5):
        cache.put((f"p{i}", 1), "error", 10)
    assert len(cache) == 3
    assert cache.get(("p0", 1)) is None
    cache.put(("big", 1), "x", 60)
    cache.put(("big2", 1), "x", 60)
    assert cache.get(("big", 1)) is None  # evicted to stay under max_chars
    cache.put(("huge", 1), "x", 1000)  # larger than the whole budget: not kept
    assert cache.get(("huge", 1)) is None
    cache.put(("p", 1), "old", 1)
    cache.put(("p", 2), "new", 1)  # a newer version of the same file replaces the old one
    assert cache.get(("p", 1)) is None
    assert cache.get(("p", 2)) == "new"


# --- fuzz: any header at all gives a LoraInfo or a LoraFileError -------------------------------------------------

_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["F16", "F32", "U8", "BF16", "sd_v1", "sdxl_base_v1-0", "lora_te1_x", "attn2_to_k.lora_down"]),
)
_json_tree = st.recursive(
    _json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(["dtype", "shape", "data_offsets", "__metadata__", "ss_tag_frequency", "t", "u"])
            | st.text(max_size=8),
            children,
            max_size=4,
        ),
    ),
    max_leaves=25,
)
_counter = iter(range(10**9))


def _fuzz_file(folder: Path, body: bytes, data: bytes = b"", length: int | None = None) -> Path:
    return _write_raw(folder / f"wrong-{next(_counter)}.safetensors", body, data, length)


def _only_lora_file_error(path: Path) -> None:
    try:
        info = inspect_lora(path)
    except LoraFileError:
        return
    assert isinstance(info.top_tags, list)
    assert isinstance(info.architecture, Architecture)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=_json_tree, data=st.binary(max_size=16), depth=st.sampled_from([0, 0, 0, 50, 5000]))
def test_fuzz_json_headers(tmp_path, tree, data, depth):
    body = json.dumps({"t": tree, "__metadata__": tree} if isinstance(tree, dict) else tree).encode()
    if depth:
        body = b'{"t":' + b"[" * depth + body + b"]" * depth + b"}"
    _only_lora_file_error(_fuzz_file(tmp_path, body, data))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=64), data=st.binary(max_size=8), length=st.one_of(st.none(), st.integers(0, 2**64 - 1)))
def test_fuzz_raw_bytes(tmp_path, body, data, length):
    _only_lora_file_error(_fuzz_file(tmp_path, b"{" + body, data, length))


# --- differential: on mutations of valid headers we agree with the safetensors library -----------------------------

_DTYPE_SIZES = {"U8": 1, "F16": 2, "BF16": 2, "F32": 4, "I64": 8}


@st.composite
def _mutated_file(draw):
    n = draw(st.integers(0, 3))
    header: dict = {}
    offset = 0
    for i in range(n):
        dtype = draw(st.sampled_from(sorted(_DTYPE_SIZES)))
        shape = draw(st.lists(st.integers(0, 3), max_size=3))
        size = _DTYPE_SIZES[dtype]
        for d in shape:
            size *= d
        header[f"t{i}"] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    if draw(st.booleans()):
        header["__metadata__"] = {"ss_base_model_version": "sd_v1"}
    data_len = offset
    mutation = draw(st.sampled_from(["none", "offset", "shape", "dtype", "data", "meta", "drop", "swap", "twice"]))
    names = [k for k in header if k != "__metadata__"]
    if mutation == "offset" and names:
        entry = header[draw(st.sampled_from(names))]
        entry["data_offsets"][draw(st.integers(0, 1))] += draw(st.sampled_from([-1, 1, 2**40]))
    elif mutation == "shape" and names:
        header[draw(st.sampled_from(names))]["shape"] = draw(
            st.lists(
                st.one_of(
                    st.integers(-1, 5),
                    st.sampled_from([2**32, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 2**65]),
                    st.just(1.0),
                    st.just("1"),
                ),
                max_size=4,
            )
        )
    elif mutation == "dtype" and names:
        header[draw(st.sampled_from(names))]["dtype"] = draw(
            st.sampled_from([*_DTYPE_SIZES, 3, "u8", "F4", "F6_E2M3", "X"])
        )
    elif mutation == "data":
        data_len += draw(st.sampled_from([-1, 1]))
    elif mutation == "meta":
        header["__metadata__"] = draw(st.sampled_from([None, {}, {"a": 1}, {"a": ["x"]}, [], "x"]))
    elif mutation == "drop" and names:
        del header[draw(st.sampled_from(names))][draw(st.sampled_from(["dtype", "shape", "data_offsets"]))]
    elif mutation == "swap" and len(names) >= 2:
        a, b = names[:2]
        header[a]["data_offsets"], header[b]["data_offsets"] = header[b]["data_offsets"], header[a]["data_offsets"]
    body = json.dumps(header)
    if mutation == "twice" and names:  # a key written twice: the library refuses a field it reads or __metadata__
        key = draw(st.sampled_from(["dtype", "shape", "data_offsets", "extra", "__metadata__"]))
        if key == "__metadata__":
            body = '{"__metadata__": {}, ' + body[1:]
        else:
            at = body.index("{", body.index(json.dumps(names[0]) + ": ")) + 1
            body = body[:at] + f"{json.dumps(key)}: {json.dumps(header[names[0]].get(key, 'x'))}, " + body[at:]
    return body.encode(), b"\0" * max(data_len, 0)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_mutated_file())
def test_we_accept_exactly_what_the_safetensors_library_loads(tmp_path, case):
    body, data = case
    f = _fuzz_file(tmp_path, body, data)
    try:
        with safe_open(str(f), framework="pt") as handle:
            for key in handle.keys():  # noqa: SIM118 (a safe_open handle is not a dict)
                handle.get_tensor(key)
        library_ok = True
    except Exception:
        library_ok = False
    try:
        inspect_lora(f)
        ours_ok = True
    except LoraFileError:
        ours_ok = False
    assert ours_ok == library_ok, body


def test_inspecting_a_real_lora_is_fast(tmp_path):
    """Not a timing test: one real-sized LoRA (2,000 tensors) read and then served from the cache."""
    tensors = {
        f"lora_unet_b{i}_attn2_to_k.lora_down.weight": torch.zeros(1, 2048, dtype=torch.float16) for i in range(2000)
    }
    f = tmp_path / "wrong-real.safetensors"
    save_file(tensors, str(f), metadata={"ss_tag_frequency": json.dumps({"1_wrong": {"wrong": 10}})})
    start = time.perf_counter()
    info = inspect_lora(f)
    assert info.n_tensors == 2000
    assert info.architecture is Architecture.SDXL
    assert inspect_lora(f) is info
    assert time.perf_counter() - start < 60  # a generous sanity bound, not a benchmark
