"""Wall time of txt2img with the Smoothie script over a plain run, in a real A1111, full-size SD1.5 at 512×512.

    A1111_DIR=/path/to/stable-diffusion-webui .venv/bin/python -m tests.bench.bench_script [--steps 4] [--repeat 2]

1. Builds a random-weight checkpoint of the full SD1.5 architecture (UNet from ``configs/v1-inference.yaml``,
   the KL VAE, CLIP ViT-L/14's text tower from its config) in a temporary folder, with A1111's own Python and
   ``ldm`` code; it is deleted at the end and never committed. Cost does not depend on the weights.
2. Starts A1111 with this checkout as an extension (``tests/a1111.py``), on that checkpoint.
3. Warms up (model load, first-call costs, the prompt engine's spaCy load) with another prompt, then times,
   interleaved, ``--repeat`` times: plain; ``smoothie`` average ×32; ``smoothie`` composable ×N (default 4:
   ×32 composable runs the UNet on 33 latents a step, hours on a 2-core CPU). Same prompt, seed, steps, sampler.
4. Prints a Markdown table (median wall times and ratios) and writes JSON to ``--json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROMPT = "a photo of Emma Watson walking in Paris at golden hour, detailed, 35mm"
WARMUP_PROMPT = "a portrait of Greg Rutkowski painting a castle"

BUILD_CODE = r"""
import sys, torch
from pathlib import Path
from omegaconf import OmegaConf
sys.path.insert(0, "repositories/stable-diffusion-stability-ai")
from ldm.modules.diffusionmodules.openaimodel import UNetModel
from ldm.models.autoencoder import AutoencoderKL
from transformers import CLIPTextConfig, CLIPTextModel
from safetensors.torch import save_file

out = Path(sys.argv[1])
cfg = OmegaConf.load("configs/v1-inference.yaml").model.params
torch.manual_seed(0)
sd = {}
unet = UNetModel(**cfg.unet_config.params)
sd.update({"model.diffusion_model." + k: v for k, v in unet.state_dict().items()})
del unet
vae_params = OmegaConf.to_container(cfg.first_stage_config.params)
vae = AutoencoderKL(ddconfig=vae_params["ddconfig"], lossconfig={"target": "torch.nn.Identity"}, embed_dim=4)
sd.update({"first_stage_model." + k: v for k, v in vae.state_dict().items()})
del vae
clip = CLIPTextModel(CLIPTextConfig.from_pretrained("openai/clip-vit-large-patch14"))
sd.update({"cond_stage_model.transformer." + k: v for k, v in clip.state_dict().items()})
del clip
sd = {k: v.detach().to(torch.float16).contiguous() for k, v in sd.items() if v.dtype.is_floating_point}
save_file(sd, str(out))
print(f"built {out} with {sum(v.numel() for v in sd.values()) / 1e6:.0f}M parameters")
"""


def build_checkpoint(host, path: Path) -> None:
    from tests import a1111

    subprocess.run(
        [str(host.python), "-c", BUILD_CODE, str(path)],
        cwd=host.webui_dir,
        env=a1111.server_env(host),
        check=True,
        timeout=1800,
    )


def payload(prompt: str, steps: int, script: list | None) -> dict:
    body = {
        "prompt": prompt,
        "negative_prompt": "blurry, lowres",
        "seed": 42,
        "steps": steps,
        "width": 512,
        "height": 512,
        "sampler_name": "Euler",
        "cfg_scale": 7,
        "override_settings": {"live_previews_enable": False},
    }
    if script is not None:
        body.update(script_name="smoothie", script_args=script)
    return body


def main(argv: list[str] | None = None) -> int:
    from tests import a1111

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--composable-size", type=int, default=4)
    parser.add_argument("--threads", default="2", help="OMP threads for A1111 (A1111_THREADS)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    host = a1111.locate()
    if host is None:
        print("A1111_DIR is not set: " + a1111.SETUP_HELP, file=sys.stderr)
        return 2
    import os

    os.environ["A1111_THREADS"] = args.threads
    work = Path(tempfile.mkdtemp(prefix="smoothie-bench-"))
    server = None
    try:
        ckpt = work / "sd15-random.safetensors"
        t0 = time.perf_counter()
        build_checkpoint(host, ckpt)
        print(f"checkpoint built in {time.perf_counter() - t0:.0f} s", flush=True)
        data_dir = a1111.prepare_data_dir(host, work / "data")
        link = data_dir / "models" / "Stable-diffusion" / "bench-sd15.safetensors"
        link.symlink_to(ckpt)
        # API only: with the UI, a slow model load races gradio start-up ("Cannot add middleware")
        server = a1111.launch(host, work, model="bench-sd15", run_install=False, extra_args=("--nowebui",), timeout=900)
        cases = {
            "plain": None,
            "average ×32": [True, 32, "average", "rules", "", 0.7],
            f"composable ×{args.composable_size}": [True, args.composable_size, "composable", "rules", "", 0.7],
        }
        print("warming up", flush=True)
        for script in cases.values():
            server.post("/sdapi/v1/txt2img", payload(WARMUP_PROMPT, args.steps, script), timeout=3600)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for r in range(args.repeat):
            for name, script in cases.items():
                t = time.perf_counter()
                result = server.post("/sdapi/v1/txt2img", payload(PROMPT, args.steps, script), timeout=3600)
                times[name].append(time.perf_counter() - t)
                info = json.loads(result["info"])["infotexts"][0]
                if script is not None and "Smoothie size" not in info:
                    raise RuntimeError(f"{name}: the script did not run: {info}")
                print(f"  run {r + 1} {name}: {times[name][-1]:.1f} s", flush=True)
        base = statistics.median(times["plain"])
        rows = [(name, statistics.median(ts), statistics.median(ts) / base) for name, ts in times.items()]
        print(f"\nSD1.5 architecture (random weights), 512×512, Euler, {args.steps} steps, seed 42, CPU")
        print("| run | median wall time (s) | ratio to plain |")
        print("|---|---|---|")
        for name, median, ratio in rows:
            print(f"| {name} | {median:.1f} | {ratio:.3f} |")
        if args.json:
            args.json.write_text(json.dumps({"steps": args.steps, "times": times}, indent=2), encoding="utf-8")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
