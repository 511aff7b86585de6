"""Render the Smoothie CFG sweep grid in a real WebUI and save it (the README's picture), printing the measures.

    python -m tests.sweep_image forge docs/images/sweep.png [--size 128] [--steps 8] [--prompt TEXT]

Starts the host named by ``<HOST>_DIR`` (``a1111``, ``forge`` or ``reforge``; see tests/hosts.py) with this
checkout and its test model (random weights: the grid's layout and numbers are real, the pictures are not a
trained model's), runs txt2img with the script's CFG sweep (plain CFG, rescale, APG × CFG 7, 12, 20, 25, one
seed) and writes the grid. Each cell's ``Smoothie burn`` measures are printed as a table.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path

from smoothie.params import SmoothieParams
from tests.hosts import HOSTS, host_from_args, models_for, running


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.sweep_image", description=__doc__.split("\n\n")[0])
    parser.add_argument("host", choices=[k.key for k in HOSTS])
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--prompt", default="a photo of a lighthouse on a cliff at dusk, dramatic sky")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    kind, host = host_from_args(parser, args.host)
    params = SmoothieParams(enabled=False, negative_lora="", sweep=True)
    payload = {
        "prompt": args.prompt,
        "negative_prompt": "blurry",
        "seed": args.seed,
        "steps": args.steps,
        "width": args.size,
        "height": args.size,
        "sampler_name": "Euler",
        "override_settings": {"sd_model_checkpoint": models_for(kind).checkpoints["sd1"]},
        "script_name": "smoothie",
        "script_args": params.to_args(),
    }
    with running(host, run_install=False) as server:
        result = server.txt2img(payload, timeout=3600)
    if len(result.images) != 13:
        print(f"expected the grid and 12 cells, got {len(result.images)} images", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".part" + args.out.suffix)
    tmp.write_bytes(result.images[0])
    tmp.replace(args.out)
    print(f"{kind.label}: wrote {args.out} ({args.size}² cells, {args.steps} Euler steps, seed {args.seed})")
    for text in result.info.get("infotexts", [])[1:]:
        found = [re.search(pattern, text) for pattern in (r"Smoothie guidance: (\w+)", r"CFG scale: ([\d.]+)")]
        burn = re.search(r"Smoothie burn: ([^,\n]+)", text)
        method, cfg = (m.group(1) if m else "?" for m in found)
        print(f"{method:8} CFG {cfg:5} {burn.group(1) if burn else '?'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
