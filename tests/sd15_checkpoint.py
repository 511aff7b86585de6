"""Write a random-weight checkpoint shaped like Stable Diffusion 1.5, for tests against Forge and reForge.

Forge (``huggingface_guess``) and reForge (``ldm_patched``'s model detection) do not recognise the tiny test
models: they pick the model family by the UNet's ``model_channels`` (320), the cross-attention ``context_dim``
(768, the CLIP ViT-L/14 text width) and a convolutional ``proj_in``, and then build the text encoder and the VAE
from SD1.5's fixed configurations, so those must carry SD1.5's real sizes. This module writes such a file in the
original ``ldm`` key layout of an SD1.5 ``.safetensors`` (``model.diffusion_model.*``, ``first_stage_model.*``,
``cond_stage_model.transformer.text_model.*`` plus the noise-schedule buffers), fp16, EMA-free like
``v1-5-pruned-emaonly``:

* ``compact`` (default, 465 MB): the text encoder and the VAE exactly as SD1.5 (123 M + 84 M parameters) and a
  UNet with SD1.5's widths (320 channels, 8 heads, context 768, conv ``proj_in``, GEGLU; its input and output
  layers and first input block are shaped as in SD1.5) but one level of one residual block instead of four levels
  of two (26 M parameters instead of 860 M). Forge and reForge derive the UNet's depth from the file, so they load
  it as SD1.5; A1111 builds SD1.5's UNet from ``v1-inference.yaml`` and would not, unless given the ``.yaml`` that
  :func:`write_checkpoint` writes beside the file.
* ``full`` (~2.1 GB): every tensor of SD1.5 (UNet 860 M parameters), loadable by all three WebUIs as SD1.5.

The weights are deterministic (``torch.Generator`` seeded per tensor from the seed and the key, so any subset of
the state dict is reproducible on its own), scaled by ``1/sqrt(fan_in)`` so activations stay near unit size and
fp16 inference gives finite, noise-like images. Norm layers get weight 1 and a small random bias (a zero final
layer-norm bias would make A1111's emphasis normalisation divide by a zero mean). Writing streams one tensor at a
time: memory stays at the size of the largest tensor (the 49408×768 token embedding), and the file appears
atomically (written beside, then renamed). An existing file with the same preset, seed and format version is
reused.

Use: ``python -m tests.sd15_checkpoint [PATH] [--preset compact|full] [--seed N]``; from code
:func:`ensure_checkpoint`. The default path is in the user cache (``$XDG_CACHE_HOME`` or ``~/.cache``) under
``sd-webui-smoothie/``; never commit these files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import struct
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Bumped whenever the written bytes would change for the same preset and seed (cached files are rewritten).
FORMAT_VERSION = "1"

UNET = "model.diffusion_model."
VAE = "first_stage_model."
CLIP = "cond_stage_model.transformer.text_model."


@dataclass(frozen=True)
class UNetLayout:
    """The ``ldm`` ``UNetModel`` hyper-parameters that decide its tensors (``openaimodel.py`` names)."""

    model_channels: int = 320
    channel_mult: tuple[int, ...] = (1, 2, 4, 4)
    num_res_blocks: int = 2
    attention_levels: tuple[int, ...] = (0, 1, 2)  # SD1.5's attention_resolutions [4, 2, 1] at ds 1, 2, 4
    num_heads: int = 8
    context_dim: int = 768
    in_channels: int = 4
    out_channels: int = 4

    @property
    def time_embed_dim(self) -> int:
        return self.model_channels * 4


@dataclass(frozen=True)
class Preset:
    name: str
    unet: UNetLayout


PRESETS: dict[str, Preset] = {
    "full": Preset("full", UNetLayout()),
    "compact": Preset("compact", UNetLayout(channel_mult=(1,), num_res_blocks=1, attention_levels=(0,))),
}
DEFAULT_PRESET = "compact"

# SD1.5's fixed parts: CLIP ViT-L/14 text tower and the KL-f8 autoencoder.
CLIP_WIDTH, CLIP_LAYERS, CLIP_MLP, CLIP_VOCAB, CLIP_POSITIONS = 768, 12, 3072, 49408, 77
VAE_CH, VAE_CH_MULT, VAE_RES_BLOCKS, VAE_Z = 128, (1, 2, 4, 4), 2, 4

#: Tensor spec: shape and kind. Kinds: "w" weight (fan-in scaled), "b" bias, "norm_w", "norm_b", "embed",
#: "position_ids" (int64 0..76), "schedule:<name>" (fp32 DDPM buffers).
Spec = tuple[tuple[int, ...], str]


def _conv(table: dict[str, Spec], key: str, out_ch: int, in_ch: int, k: int, bias: bool = True) -> None:
    table[key + ".weight"] = ((out_ch, in_ch, k, k), "w")
    if bias:
        table[key + ".bias"] = ((out_ch,), "b")


def _linear(table: dict[str, Spec], key: str, out_f: int, in_f: int, bias: bool = True) -> None:
    table[key + ".weight"] = ((out_f, in_f), "w")
    if bias:
        table[key + ".bias"] = ((out_f,), "b")


def _norm(table: dict[str, Spec], key: str, ch: int) -> None:
    table[key + ".weight"] = ((ch,), "norm_w")
    table[key + ".bias"] = ((ch,), "norm_b")


def _unet_resblock(table: dict[str, Spec], key: str, ch_in: int, ch_out: int, emb: int) -> None:
    _norm(table, f"{key}.in_layers.0", ch_in)
    _conv(table, f"{key}.in_layers.2", ch_out, ch_in, 3)
    _linear(table, f"{key}.emb_layers.1", ch_out, emb)
    _norm(table, f"{key}.out_layers.0", ch_out)
    _conv(table, f"{key}.out_layers.3", ch_out, ch_out, 3)
    if ch_in != ch_out:
        _conv(table, f"{key}.skip_connection", ch_out, ch_in, 1)


def _spatial_transformer(table: dict[str, Spec], key: str, ch: int, context: int) -> None:
    """SD1's ``SpatialTransformer``: depth 1, 1x1 conv proj_in/out, GEGLU feed-forward (inner 4·ch)."""
    _norm(table, f"{key}.norm", ch)
    _conv(table, f"{key}.proj_in", ch, ch, 1)
    block = f"{key}.transformer_blocks.0"
    for attn, kv_dim in (("attn1", ch), ("attn2", context)):
        _linear(table, f"{block}.{attn}.to_q", ch, ch, bias=False)
        _linear(table, f"{block}.{attn}.to_k", ch, kv_dim, bias=False)
        _linear(table, f"{block}.{attn}.to_v", ch, kv_dim, bias=False)
        _linear(table, f"{block}.{attn}.to_out.0", ch, ch)
    _linear(table, f"{block}.ff.net.0.proj", ch * 8, ch)
    _linear(table, f"{block}.ff.net.2", ch, ch * 4)
    for n in (1, 2, 3):
        _norm(table, f"{block}.norm{n}", ch)
    _conv(table, f"{key}.proj_out", ch, ch, 1)


def unet_specs(layout: UNetLayout) -> dict[str, Spec]:
    """The UNet's tensors, as ``ldm.modules.diffusionmodules.openaimodel.UNetModel`` names them (no prefix)."""
    t: dict[str, Spec] = {}
    mc, emb = layout.model_channels, layout.time_embed_dim
    _linear(t, "time_embed.0", emb, mc)
    _linear(t, "time_embed.2", emb, emb)
    _conv(t, "input_blocks.0.0", mc, layout.in_channels, 3)
    chans = [mc]
    ch, idx = mc, 1
    last = len(layout.channel_mult) - 1
    for level, mult in enumerate(layout.channel_mult):
        for _ in range(layout.num_res_blocks):
            _unet_resblock(t, f"input_blocks.{idx}.0", ch, mult * mc, emb)
            ch = mult * mc
            if level in layout.attention_levels:
                _spatial_transformer(t, f"input_blocks.{idx}.1", ch, layout.context_dim)
            chans.append(ch)
            idx += 1
        if level != last:
            _conv(t, f"input_blocks.{idx}.0.op", ch, ch, 3)
            chans.append(ch)
            idx += 1
    _unet_resblock(t, "middle_block.0", ch, ch, emb)
    _spatial_transformer(t, "middle_block.1", ch, layout.context_dim)
    _unet_resblock(t, "middle_block.2", ch, ch, emb)
    idx = 0
    for level, mult in reversed(list(enumerate(layout.channel_mult))):
        for i in range(layout.num_res_blocks + 1):
            skip = chans.pop()
            _unet_resblock(t, f"output_blocks.{idx}.0", ch + skip, mc * mult, emb)
            ch = mc * mult
            sub = 1
            if level in layout.attention_levels:
                _spatial_transformer(t, f"output_blocks.{idx}.1", ch, layout.context_dim)
                sub = 2
            if level and i == layout.num_res_blocks:
                _conv(t, f"output_blocks.{idx}.{sub}.conv", ch, ch, 3)
            idx += 1
    _norm(t, "out.0", ch)
    _conv(t, "out.2", layout.out_channels, mc, 3)
    return t


def _vae_resblock(table: dict[str, Spec], key: str, ch_in: int, ch_out: int) -> None:
    _norm(table, f"{key}.norm1", ch_in)
    _conv(table, f"{key}.conv1", ch_out, ch_in, 3)
    _norm(table, f"{key}.norm2", ch_out)
    _conv(table, f"{key}.conv2", ch_out, ch_out, 3)
    if ch_in != ch_out:
        _conv(table, f"{key}.nin_shortcut", ch_out, ch_in, 1)


def _vae_mid(table: dict[str, Spec], key: str, ch: int) -> None:
    _vae_resblock(table, f"{key}.block_1", ch, ch)
    _norm(table, f"{key}.attn_1.norm", ch)
    for name in ("q", "k", "v", "proj_out"):
        _conv(table, f"{key}.attn_1.{name}", ch, ch, 1)
    _vae_resblock(table, f"{key}.block_2", ch, ch)


def vae_specs() -> dict[str, Spec]:
    """SD1.5's ``AutoencoderKL`` (ch 128, ch_mult 1-2-4-4, 2 res blocks, z 4), ``ldm`` names, no prefix."""
    t: dict[str, Spec] = {}
    mults, n = VAE_CH_MULT, len(VAE_CH_MULT)
    _conv(t, "encoder.conv_in", VAE_CH, 3, 3)
    block_in = VAE_CH
    for level in range(n):
        block_in = VAE_CH * ((1, *mults)[level])
        block_out = VAE_CH * mults[level]
        for j in range(VAE_RES_BLOCKS):
            _vae_resblock(t, f"encoder.down.{level}.block.{j}", block_in, block_out)
            block_in = block_out
        if level != n - 1:
            _conv(t, f"encoder.down.{level}.downsample.conv", block_in, block_in, 3)
    _vae_mid(t, "encoder.mid", block_in)
    _norm(t, "encoder.norm_out", block_in)
    _conv(t, "encoder.conv_out", 2 * VAE_Z, block_in, 3)
    _conv(t, "quant_conv", 2 * VAE_Z, 2 * VAE_Z, 1)
    _conv(t, "post_quant_conv", VAE_Z, VAE_Z, 1)
    block_in = VAE_CH * mults[-1]
    _conv(t, "decoder.conv_in", block_in, VAE_Z, 3)
    _vae_mid(t, "decoder.mid", block_in)
    for level in reversed(range(n)):
        block_out = VAE_CH * mults[level]
        for j in range(VAE_RES_BLOCKS + 1):
            _vae_resblock(t, f"decoder.up.{level}.block.{j}", block_in, block_out)
            block_in = block_out
        if level != 0:
            _conv(t, f"decoder.up.{level}.upsample.conv", block_in, block_in, 3)
    _norm(t, "decoder.norm_out", block_in)
    _conv(t, "decoder.conv_out", 3, block_in, 3)
    return t


def clip_specs() -> dict[str, Spec]:
    """The CLIP ViT-L/14 text tower as ``transformers.CLIPTextModel`` names it under ``text_model.``."""
    t: dict[str, Spec] = {
        "embeddings.token_embedding.weight": ((CLIP_VOCAB, CLIP_WIDTH), "embed"),
        "embeddings.position_embedding.weight": ((CLIP_POSITIONS, CLIP_WIDTH), "embed"),
        "embeddings.position_ids": ((1, CLIP_POSITIONS), "position_ids"),
    }
    for layer in range(CLIP_LAYERS):
        key = f"encoder.layers.{layer}"
        for proj in ("k_proj", "v_proj", "q_proj", "out_proj"):
            _linear(t, f"{key}.self_attn.{proj}", CLIP_WIDTH, CLIP_WIDTH)
        _norm(t, f"{key}.layer_norm1", CLIP_WIDTH)
        _linear(t, f"{key}.mlp.fc1", CLIP_MLP, CLIP_WIDTH)
        _linear(t, f"{key}.mlp.fc2", CLIP_WIDTH, CLIP_MLP)
        _norm(t, f"{key}.layer_norm2", CLIP_WIDTH)
    _norm(t, "final_layer_norm", CLIP_WIDTH)
    return t


#: The DDPM buffers an SD1 ``LatentDiffusion`` state dict carries (linear_start 0.00085, linear_end 0.012, 1000).
SCHEDULE = (
    "betas",
    "alphas_cumprod",
    "alphas_cumprod_prev",
    "sqrt_alphas_cumprod",
    "sqrt_one_minus_alphas_cumprod",
    "log_one_minus_alphas_cumprod",
    "sqrt_recip_alphas_cumprod",
    "sqrt_recipm1_alphas_cumprod",
    "posterior_variance",
    "posterior_log_variance_clipped",
    "posterior_mean_coef1",
    "posterior_mean_coef2",
)
TIMESTEPS = 1000


def specs(preset: str = DEFAULT_PRESET) -> dict[str, Spec]:
    """Every tensor of the checkpoint: full key → (shape, kind)."""
    if preset not in PRESETS:
        raise ValueError(f"preset={preset!r} is not one of {sorted(PRESETS)}")
    table: dict[str, Spec] = {name: ((TIMESTEPS,), f"schedule:{name}") for name in SCHEDULE}
    table.update({UNET + k: v for k, v in unet_specs(PRESETS[preset].unet).items()})
    table.update({VAE + k: v for k, v in vae_specs().items()})
    table.update({CLIP + k: v for k, v in clip_specs().items()})
    return table


def parameter_count(table: dict[str, Spec], prefix: str = "") -> int:
    """Number of trainable values under ``prefix`` (the schedule buffers and position ids excluded)."""
    return sum(
        math.prod(shape)
        for key, (shape, kind) in table.items()
        if key.startswith(prefix) and kind != "position_ids" and not kind.startswith("schedule:")
    )


def _schedule(name: str) -> Any:
    import torch

    betas = torch.linspace(0.00085**0.5, 0.012**0.5, TIMESTEPS, dtype=torch.float64) ** 2
    alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
    prev = torch.cat([torch.ones(1, dtype=torch.float64), alphas_cumprod[:-1]])
    posterior_variance = betas * (1.0 - prev) / (1.0 - alphas_cumprod)
    values = {
        "betas": betas,
        "alphas_cumprod": alphas_cumprod,
        "alphas_cumprod_prev": prev,
        "sqrt_alphas_cumprod": alphas_cumprod.sqrt(),
        "sqrt_one_minus_alphas_cumprod": (1.0 - alphas_cumprod).sqrt(),
        "log_one_minus_alphas_cumprod": (1.0 - alphas_cumprod).log(),
        "sqrt_recip_alphas_cumprod": (1.0 / alphas_cumprod).sqrt(),
        "sqrt_recipm1_alphas_cumprod": (1.0 / alphas_cumprod - 1).sqrt(),
        "posterior_variance": posterior_variance,
        "posterior_log_variance_clipped": torch.log(posterior_variance.clamp(min=1e-20)),
        "posterior_mean_coef1": betas * prev.sqrt() / (1.0 - alphas_cumprod),
        "posterior_mean_coef2": (1.0 - prev) * (1.0 - betas).sqrt() / (1.0 - alphas_cumprod),
    }
    return values[name].to(torch.float32)


def _key_seed(seed: int, key: str) -> int:
    digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & 0x7FFF_FFFF_FFFF_FFFF


def make_tensor(key: str, spec: Spec, seed: int = 0) -> Any:
    """The tensor for ``key`` (fp16, except fp32 schedule buffers and int64 position ids), deterministic."""
    import torch

    shape, kind = spec
    if kind == "position_ids":
        return torch.arange(shape[-1], dtype=torch.int64).reshape(shape)
    if kind.startswith("schedule:"):
        return _schedule(kind.split(":", 1)[1])
    if kind == "norm_w":
        return torch.ones(shape, dtype=torch.float16)
    gen = torch.Generator().manual_seed(_key_seed(seed, key))
    if kind == "w":
        std = 1.0 / math.sqrt(math.prod(shape[1:]))  # fan-in: in_features, or in_ch·k·k
    elif kind == "embed":
        std = 0.02 if "token" in key else 0.01  # CLIP's own initialisation
    else:  # "b", "norm_b"
        std = 0.02
    return (torch.randn(shape, generator=gen, dtype=torch.float32) * std).to(torch.float16)


def iter_state_dict(preset: str = DEFAULT_PRESET, seed: int = 0) -> Iterator[tuple[str, Any]]:
    """``(key, tensor)`` pairs in key order, one tensor made at a time."""
    table = specs(preset)
    for key in sorted(table):
        yield key, make_tensor(key, table[key], seed)


_DTYPES = {"torch.float16": ("F16", 2), "torch.float32": ("F32", 4), "torch.int64": ("I64", 8)}


def _dtype_of(kind: str) -> tuple[str, int]:
    if kind == "position_ids":
        return _DTYPES["torch.int64"]
    if kind.startswith("schedule:"):
        return _DTYPES["torch.float32"]
    return _DTYPES["torch.float16"]


def metadata(preset: str, seed: int) -> dict[str, str]:
    return {
        "format": "pt",
        "smoothie.test_checkpoint": "sd15-random",
        "smoothie.preset": preset,
        "smoothie.seed": str(seed),
        "smoothie.format_version": FORMAT_VERSION,
        "modelspec.architecture": "stable-diffusion-v1",
        "modelspec.title": f"random SD1.5-shaped test checkpoint ({preset}, seed {seed})",
    }


def _header(table: dict[str, Spec], meta: dict[str, str]) -> bytes:
    header: dict[str, Any] = {"__metadata__": meta}
    offset = 0
    for key in sorted(table):
        shape, kind = table[key]
        dtype, size = _dtype_of(kind)
        nbytes = math.prod(shape) * size
        header[key] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return raw + b" " * (-len(raw) % 8)  # the data starts 8-byte aligned


def expected_size(preset: str = DEFAULT_PRESET, seed: int = 0) -> int:
    """The file's size in bytes (header included), without making any tensor."""
    table = specs(preset)
    header = _header(table, metadata(preset, seed))
    data = sum(math.prod(shape) * _dtype_of(kind)[1] for shape, kind in table.values())
    return 8 + len(header) + data


def read_metadata(path: Path) -> dict[str, str] | None:
    """The ``__metadata__`` of a safetensors file, or ``None`` if ``path`` is not a readable one."""
    try:
        with path.open("rb") as fh:
            (length,) = struct.unpack("<Q", fh.read(8))
            if length > 100_000_000:
                return None
            header = json.loads(fh.read(length))
    except (OSError, struct.error, ValueError):
        return None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    return dict(meta) if isinstance(meta, dict) else None


def _yaml(layout: UNetLayout) -> str:
    """An A1111 model config (``<checkpoint>.yaml``) for ``layout``: SD1's ``v1-inference.yaml`` with its UNet."""
    attention_resolutions = [2**level for level in layout.attention_levels]
    return f"""\
# Written by tests/sd15_checkpoint.py: SD1's v1-inference.yaml with this file's UNet depth.
model:
  base_learning_rate: 1.0e-04
  target: ldm.models.diffusion.ddpm.LatentDiffusion
  params:
    linear_start: 0.00085
    linear_end: 0.0120
    num_timesteps_cond: 1
    log_every_t: 200
    timesteps: 1000
    first_stage_key: "jpg"
    cond_stage_key: "txt"
    image_size: 64
    channels: 4
    cond_stage_trainable: false
    conditioning_key: crossattn
    monitor: val/loss_simple_ema
    scale_factor: 0.18215
    use_ema: False
    unet_config:
      target: ldm.modules.diffusionmodules.openaimodel.UNetModel
      params:
        image_size: 32
        in_channels: {layout.in_channels}
        out_channels: {layout.out_channels}
        model_channels: {layout.model_channels}
        attention_resolutions: {attention_resolutions}
        num_res_blocks: {layout.num_res_blocks}
        channel_mult: {list(layout.channel_mult)}
        num_heads: {layout.num_heads}
        use_spatial_transformer: True
        transformer_depth: 1
        context_dim: {layout.context_dim}
        use_checkpoint: False
        legacy: False
    first_stage_config:
      target: ldm.models.autoencoder.AutoencoderKL
      params:
        embed_dim: 4
        monitor: val/rec_loss
        ddconfig:
          double_z: true
          z_channels: 4
          resolution: 256
          in_channels: 3
          out_ch: 3
          ch: 128
          ch_mult: [1, 2, 4, 4]
          num_res_blocks: 2
          attn_resolutions: []
          dropout: 0.0
        lossconfig:
          target: torch.nn.Identity
    cond_stage_config:
      target: ldm.modules.encoders.modules.FrozenCLIPEmbedder
"""


def write_checkpoint(path: Path, preset: str = DEFAULT_PRESET, seed: int = 0, *, yaml: bool = True) -> Path:
    """Write the checkpoint to ``path`` (atomically) and, for a non-``full`` preset, ``path.with_suffix('.yaml')``.

    The yaml tells A1111 the UNet's depth; Forge and reForge ignore it. Returns ``path``.
    """
    table = specs(preset)
    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"path={str(path)!r}: the checkpoint's name must end in .safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    header = _header(table, metadata(preset, seed))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(struct.pack("<Q", len(header)))
            fh.write(header)
            for key in sorted(table):
                tensor = make_tensor(key, table[key], seed)
                fh.write(tensor.contiguous().numpy().tobytes())
        if tmp.stat().st_size != 8 + len(header) + sum(
            math.prod(s) * _dtype_of(k)[1] for s, k in table.values()
        ):  # pragma: no cover - a short write would be an OS error
            raise OSError(f"{tmp}: size mismatch after writing")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    config = path.with_suffix(".yaml")
    if yaml and preset != "full":
        config.write_text(_yaml(PRESETS[preset].unet), encoding="utf-8")
    elif config.exists() and preset == "full":
        config.unlink()  # a stale compact yaml would make A1111 build the wrong UNet
    return path


def default_path(preset: str = DEFAULT_PRESET, seed: int = 0) -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "sd-webui-smoothie" / f"sd15-random-{preset}-s{seed}.safetensors"


def ensure_checkpoint(path: Path | None = None, preset: str = DEFAULT_PRESET, seed: int = 0) -> Path:
    """``path`` (default :func:`default_path`) holding this preset and seed: reused if already there, else written."""
    path = default_path(preset, seed) if path is None else Path(path)
    meta = read_metadata(path) if path.is_file() else None
    same = meta is not None and meta == metadata(preset, seed) and path.stat().st_size == expected_size(preset, seed)
    if same and (preset == "full" or path.with_suffix(".yaml").is_file()):
        return path
    return write_checkpoint(path, preset, seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.sd15_checkpoint", description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", type=Path, help="output .safetensors (default: in the user cache)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default=DEFAULT_PRESET)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="rewrite even if an identical file is there")
    args = parser.parse_args(argv)
    path = args.path or default_path(args.preset, args.seed)
    start = time.perf_counter()
    try:
        if args.force:
            write_checkpoint(path, args.preset, args.seed)
        else:
            ensure_checkpoint(path, args.preset, args.seed)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    size = path.stat().st_size
    print(f"{path}  ({size / 1e6:.0f} MB, preset {args.preset}, seed {args.seed}, {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
