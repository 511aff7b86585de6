"""Time saved by the guidance interval: a real WebUI generating with CFG everywhere vs. CFG only for small σ.

    python -m tests.bench.bench_interval forge [--size 256] [--steps 12] [--runs 3] [--sigma-max 1.0]

Starts the host named by ``<HOST>_DIR`` (``a1111``, ``forge``, ``reforge``; tests/hosts.py) with this checkout
and its SD1 test model and times txt2img (Euler, one seed) with Smoothie's guidance ``cfg`` and no interval,
then with the interval ``[0, sigma-max]`` (the early, high-σ steps run on the conditional prediction alone).
Forge and reForge skip the unconditional UNet pass at those steps; A1111 still computes it (see README).
Prints the median seconds of each request and the share saved.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time

from smoothie.params import SmoothieParams
from tests.hosts import HOSTS, host_from_args, models_for, running


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_interval", description=__doc__.split("\n\n")[0])
    parser.add_argument("host", choices=[k.key for k in HOSTS])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sigma-max", type=float, default=1.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    kind, host = host_from_args(parser, args.host)
    base = {
        "prompt": "a photo of a lighthouse on a cliff at dusk",
        "seed": 1,
        "steps": args.steps,
        "width": args.size,
        "height": args.size,
        "sampler_name": "Euler",
        "cfg_scale": 7,
        "override_settings": {"sd_model_checkpoint": models_for(kind).checkpoints["sd1"]},
        "script_name": "smoothie",
    }
    cases = {
        "CFG at every step": SmoothieParams(enabled=False, negative_lora="", guidance="cfg"),
        f"CFG only for σ ≤ {args.sigma_max:g}": SmoothieParams(
            enabled=False, negative_lora="", guidance="cfg", sigma_max=args.sigma_max
        ),
    }
    results: dict[str, float] = {}
    with running(host, run_install=False) as server:
        server.txt2img({**base, "script_args": cases["CFG at every step"].to_args()}, timeout=3600)  # warm-up
        for name, params in cases.items():
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                server.txt2img({**base, "script_args": params.to_args()}, timeout=3600)
                times.append(time.perf_counter() - start)
            results[name] = statistics.median(times)
    return _report(kind.label, args, results)


def _report(label: str, args: argparse.Namespace, results: dict[str, float]) -> int:
    full, limited = results.values()
    print(f"{label}: {args.size}² Euler {args.steps} steps, median of {args.runs} (whole txt2img request)")
    for name, seconds in results.items():
        print(f"  {name:<28} {seconds:7.2f} s")
    print(f"  saved: {(full - limited) / full:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
