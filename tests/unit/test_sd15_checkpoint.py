"""The random SD1.5-shaped test checkpoint: its key/shape table, determinism, and the safetensors it writes.

The tables are checked against SD1.5's published parameter counts and the keys the WebUIs detect SD1.5 by; the
writer is checked on a cut-down table (the real file is 465 MB, written only where a host suite needs it).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from tests import sd15_checkpoint as ckpt

torch = pytest.importorskip("torch")

# runwayml/stable-diffusion-v1-5: UNet, VAE and CLIP ViT-L/14 text encoder parameter counts.
SD15_UNET, SD15_VAE, SD15_CLIP = 859_520_964, 83_653_863, 123_060_480


def test_full_preset_has_sd15_parameter_counts() -> None:
    table = ckpt.specs("full")
    assert ckpt.parameter_count(table, ckpt.UNET) == SD15_UNET
    assert ckpt.parameter_count(table, ckpt.VAE) == SD15_VAE
    assert ckpt.parameter_count(table, ckpt.CLIP) == SD15_CLIP
    assert ckpt.parameter_count(table) == SD15_UNET + SD15_VAE + SD15_CLIP


def test_compact_preset_keeps_text_encoder_and_vae_and_the_unet_widths() -> None:
    full, compact = ckpt.specs("full"), ckpt.specs("compact")
    for prefix in (ckpt.VAE, ckpt.CLIP):
        assert {k: v for k, v in compact.items() if k.startswith(prefix)} == {
            k: v for k, v in full.items() if k.startswith(prefix)
        }
    # Every UNet tensor of the compact layout that SD1.5 also has at that name has SD1.5's shape, except the
    # blocks that meet the (missing) lower levels; the first level and the in/out layers are SD1.5's own.
    for key in (
        "input_blocks.0.0.weight",
        "input_blocks.1.0.in_layers.2.weight",
        "input_blocks.1.1.proj_in.weight",
        "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight",
        "time_embed.0.weight",
        "out.2.weight",
    ):
        assert compact[ckpt.UNET + key] == full[ckpt.UNET + key], key
    assert ckpt.parameter_count(compact, ckpt.UNET) < SD15_UNET // 30
    assert 440e6 < ckpt.expected_size("compact") < 490e6  # ~465 MB
    assert 2.0e9 < ckpt.expected_size("full") < 2.2e9


@pytest.mark.parametrize("preset", sorted(ckpt.PRESETS))
def test_keys_the_webuis_detect_sd15_by(preset: str) -> None:
    table = ckpt.specs(preset)
    shape = {k: v[0] for k, v in table.items()}
    unet = ckpt.UNET
    # huggingface_guess (Forge) / ldm_patched (reForge): model_channels 320, context_dim 768, conv proj_in, no adm.
    assert shape[unet + "input_blocks.0.0.weight"] == (320, 4, 3, 3)
    assert shape[unet + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"] == (320, 768)
    assert shape[unet + "input_blocks.1.1.proj_in.weight"] == (320, 320, 1, 1)
    assert not any(k.startswith(unet + "label_emb") for k in table)
    # A1111's sd_models_config: SD1 = the CLIP text tower under cond_stage_model.transformer, width 768.
    assert shape[ckpt.CLIP + "embeddings.token_embedding.weight"] == (49408, 768)
    assert shape[ckpt.CLIP + "embeddings.position_ids"] == (1, 77)
    assert shape[ckpt.CLIP + "encoder.layers.11.mlp.fc1.weight"] == (3072, 768)
    assert not any(".layers.12." in k for k in table)
    assert shape["first_stage_model.decoder.conv_out.weight"] == (3, 128, 3, 3)
    assert shape["first_stage_model.quant_conv.weight"] == (8, 8, 1, 1)
    assert shape["alphas_cumprod"] == (1000,)
    assert not any(k.startswith(("model_ema.", "conditioner.", "cond_stage_model.model.")) for k in table)


def test_unet_layout_counts_blocks_like_ldm() -> None:
    table = ckpt.unet_specs(ckpt.UNetLayout())
    inputs = {int(k.split(".")[1]) for k in table if k.startswith("input_blocks.")}
    outputs = {int(k.split(".")[1]) for k in table if k.startswith("output_blocks.")}
    assert inputs == set(range(12)) and outputs == set(range(12))
    downsamples = sorted(int(k.split(".")[1]) for k in table if k.endswith(".op.weight"))
    assert downsamples == [3, 6, 9]
    upsamples = sorted(k for k in table if k.endswith(".conv.weight") and k.startswith("output_blocks."))
    assert {k.split(".conv.")[0] for k in upsamples} == {"output_blocks.2.1", "output_blocks.5.2", "output_blocks.8.2"}
    # No attention at the lowest level (SD1.5's attention_resolutions 4, 2, 1).
    assert not any(k.startswith(("input_blocks.10.1.", "input_blocks.11.1.", "output_blocks.1.1.")) for k in table)
    assert "input_blocks.8.1.proj_in.weight" in table and "output_blocks.3.1.proj_in.weight" in table


def test_tensors_are_deterministic_small_and_finite() -> None:
    table = ckpt.specs("compact")
    key = ckpt.UNET + "input_blocks.1.1.transformer_blocks.0.ff.net.0.proj.weight"
    a = ckpt.make_tensor(key, table[key], seed=0)
    b = ckpt.make_tensor(key, table[key], seed=0)
    c = ckpt.make_tensor(key, table[key], seed=1)
    assert a.dtype == torch.float16 and tuple(a.shape) == (2560, 320)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.isfinite(a).all()
    assert abs(float(a.float().std()) - 320**-0.5) < 0.01  # fan-in scaled
    other = ckpt.UNET + "input_blocks.1.1.transformer_blocks.0.ff.net.2.weight"
    assert not torch.equal(a[:320, :320], ckpt.make_tensor(other, table[other], seed=0)[:, :320])
    norm = ckpt.CLIP + "final_layer_norm.weight"
    assert torch.equal(ckpt.make_tensor(norm, table[norm]), torch.ones(768, dtype=torch.float16))
    bias = ckpt.CLIP + "final_layer_norm.bias"
    assert float(ckpt.make_tensor(bias, table[bias]).abs().sum()) > 0  # A1111's emphasis mean is never 0
    ids = ckpt.CLIP + "embeddings.position_ids"
    assert ckpt.make_tensor(ids, table[ids]).tolist() == [list(range(77))]
    alphas = ckpt.make_tensor("alphas_cumprod", table["alphas_cumprod"])
    assert alphas.dtype == torch.float32
    assert float(alphas[0]) == pytest.approx(1 - 0.00085, rel=1e-5)
    assert float(alphas[-1]) == pytest.approx(0.0046, abs=2e-4)  # SD1's scaled-linear schedule
    assert bool((alphas[1:] < alphas[:-1]).all())


@pytest.fixture
def small_table(monkeypatch: pytest.MonkeyPatch) -> dict[str, ckpt.Spec]:
    """The compact table cut to a few tensors of every kind, so writing takes milliseconds."""
    full = ckpt.specs("compact")
    keep = [
        ckpt.UNET + "input_blocks.0.0.weight",
        ckpt.UNET + "input_blocks.0.0.bias",
        ckpt.VAE + "decoder.norm_out.weight",
        ckpt.CLIP + "embeddings.position_ids",
        ckpt.CLIP + "final_layer_norm.bias",
        "alphas_cumprod",
    ]
    table = {k: full[k] for k in keep}
    monkeypatch.setattr(ckpt, "specs", lambda preset=ckpt.DEFAULT_PRESET: dict(table))
    return table


def test_writes_a_valid_safetensors_file(tmp_path: Path, small_table: dict[str, ckpt.Spec]) -> None:
    safetensors = pytest.importorskip("safetensors.torch")
    path = ckpt.write_checkpoint(tmp_path / "m.safetensors", "compact", seed=3)
    assert path.stat().st_size == ckpt.expected_size("compact", seed=3)
    loaded = safetensors.load_file(str(path))
    assert set(loaded) == set(small_table)
    for key, (shape, _kind) in small_table.items():
        assert tuple(loaded[key].shape) == shape
        assert torch.equal(loaded[key], ckpt.make_tensor(key, small_table[key], seed=3))
    assert ckpt.read_metadata(path) == ckpt.metadata("compact", 3)
    with path.open("rb") as fh:
        (length,) = struct.unpack("<Q", fh.read(8))
        assert length % 8 == 0
        json.loads(fh.read(length))
    yaml = path.with_suffix(".yaml").read_text(encoding="utf-8")
    assert "channel_mult: [1]" in yaml and "num_res_blocks: 1" in yaml and "context_dim: 768" in yaml
    assert not list(tmp_path.glob(".*.tmp"))


def test_ensure_reuses_an_identical_file_and_rewrites_another(
    tmp_path: Path, small_table: dict[str, ckpt.Spec]
) -> None:
    path = tmp_path / "m.safetensors"
    ckpt.ensure_checkpoint(path, "compact", seed=0)
    stamp = path.stat().st_mtime_ns
    path.with_suffix(".yaml").touch()
    assert ckpt.ensure_checkpoint(path, "compact", seed=0) == path
    assert path.stat().st_mtime_ns == stamp  # reused
    ckpt.ensure_checkpoint(path, "compact", seed=1)
    assert ckpt.read_metadata(path) == ckpt.metadata("compact", 1)
    path.write_bytes(b"not a safetensors file")
    assert ckpt.read_metadata(path) is None
    ckpt.ensure_checkpoint(path, "compact", seed=1)
    assert ckpt.read_metadata(path) == ckpt.metadata("compact", 1)
    ckpt.ensure_checkpoint(path, "full", seed=1)  # a full checkpoint needs no yaml: a stale one is removed
    assert not path.with_suffix(".yaml").exists()


def test_bad_arguments_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="preset='sd2'"):
        ckpt.specs("sd2")
    with pytest.raises(ValueError, match=r"must end in \.safetensors"):
        ckpt.write_checkpoint(tmp_path / "m.ckpt")
    assert ckpt.main([str(tmp_path / "m.bin")]) == 1


def test_default_path_is_in_the_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert ckpt.default_path("full", 2) == tmp_path / "sd-webui-smoothie" / "sd15-random-full-s2.safetensors"
