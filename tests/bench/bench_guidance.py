"""Cost per denoising step of Smoothie's guidance (CFG rescale, APG) against one step of the full SD1.5 UNet.

    python -m tests.bench.bench_guidance [--size 512] [--batch 1] [--threads 1] [--unet-runs 3] [--runs 300]

Needs torch and diffusers (``pip install diffusers``; A1111's and Forge's venvs have it). The UNet is built in
code with SD1.5's configuration (``UNet2DConditionModel``: 320/640/1280/1280 channels, 2 layers per block,
cross-attention 768, 8 heads; 859.5 M parameters) and random weights; its cost does not depend on the weights.
One step of CFG runs the UNet on the conditional and unconditional rows together (``2 × batch`` rows, latents
``4 × size/8 × size/8``, a 77-token context). The guidance is timed on that step's outputs, as the hosts call
it: ``GuidanceSession.combine_x0`` with x0 predictions (rescale: v-space conversion + per-sample std; APG:
momentum, norm threshold, float64 projection), against the host's own CFG combination ``u + s·(c − u)``.
Prints milliseconds (median) and each method's extra cost as a share of the UNet step. fp32 on the CPU.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any


def build_unet() -> Any:
    try:
        from diffusers import UNet2DConditionModel
    except ImportError:
        raise SystemExit(
            "bench_guidance needs diffusers: pip install diffusers (or run with A1111's/Forge's venv)"
        ) from None
    unet = UNet2DConditionModel(
        sample_size=64,
        in_channels=4,
        out_channels=4,
        layers_per_block=2,
        block_out_channels=(320, 640, 1280, 1280),
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=768,
        attention_head_dim=8,
    )
    return unet.eval()


def timed(fn: Callable[[], Any], runs: int, warmup: int = 1) -> float:
    """Median seconds of ``runs`` calls after ``warmup`` ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    import torch

    from smoothie.generation import GuidanceMode, GuidancePlan

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="image side in pixels (latent side = size/8)")
    parser.add_argument("--batch", type=int, default=1, help="images per step")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the same for UNet and guidance)")
    parser.add_argument("--unet-runs", type=int, default=3)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    side = args.size // 8
    b = args.batch

    unet = build_unet()
    params = sum(p.numel() for p in unet.parameters())
    x = torch.randn(2 * b, 4, side, side)
    t = torch.full((2 * b,), 500.0)
    context = torch.randn(2 * b, 77, 768)
    with torch.inference_mode():
        unet_s = timed(lambda: unet(x, t, encoder_hidden_states=context).sample, args.unet_runs)
        out = unet(x, t, encoder_hidden_states=context).sample

    sigma = torch.full((b,), 3.0)
    x_t = torch.randn(b, 4, side, side) * 3.0
    cond, uncond = out[:b] * 0.5, out[b:] * 0.5 + 0.1
    scale = 12.0

    def cfg() -> Any:
        return uncond + scale * (cond - uncond)

    def method(plan: GuidancePlan) -> Callable[[], Any]:
        session = plan.session()

        def step() -> Any:
            guided = uncond + scale * (cond - uncond)
            return session.combine_x0(x=x_t, sigma=sigma, cond=cond, uncond=uncond, guided=guided, scale=scale)

        return step

    with torch.inference_mode():
        cfg_s = timed(cfg, args.runs, warmup=10)
        rows = [
            ("CFG rescale φ=0.7", timed(method(GuidancePlan(GuidanceMode.RESCALE, rescale=0.7)), args.runs, 10)),
            ("APG η=0 r=15 β=-0.5", timed(method(GuidancePlan(GuidanceMode.APG)), args.runs, 10)),
        ]
    print(
        f"SD1.5 UNet ({params / 1e6:.1f} M parameters), {2 * b} rows of 4×{side}×{side} ({args.size}² images), "
        f"fp32 CPU, {args.threads} thread(s), torch {torch.__version__}"
    )
    print(f"UNet step (cond + uncond):        {unet_s * 1000:10.1f} ms")
    print(f"host CFG combination u+s(c-u):    {cfg_s * 1000:10.3f} ms  ({cfg_s / unet_s:.4%} of the UNet step)")
    for name, seconds in rows:
        extra = seconds - cfg_s
        share = extra / unet_s
        print(f"{name:<32}  {seconds * 1000:10.3f} ms  extra {extra * 1000:.3f} ms = {share:.4%} of the UNet step")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
