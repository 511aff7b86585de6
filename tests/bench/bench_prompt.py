"""Speed of the prompt engine: 32 paraphrases per prompt after start-up, and the CLI's cold start.

    .venv/bin/python -m tests.bench.bench_prompt [--repeats 5]

Each timed call uses a fresh seed, so the engine's result cache never answers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT.parent / "shared" / "data" / "prompts-dev.jsonl"
HELDOUT = ROOT / "tests" / "data" / "prompts-heldout.jsonl"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--n", type=int, default=32)
    args = ap.parse_args()
    prompts = [json.loads(x)["prompt"] for f in (DEV, HELDOUT) if f.exists() for x in f.read_text().splitlines() if x]

    t0 = time.perf_counter()
    from smoothie.prompt import rewrite

    rewrite("warm up the tables and spaCy", n=1)
    startup = time.perf_counter() - t0
    times = []
    for r in range(args.repeats):
        for p in prompts:
            t = time.perf_counter()
            rewrite(p, n=args.n, seed=1000 + r)
            times.append(1000 * (time.perf_counter() - t))
    times.sort()
    cold = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "smoothie", "rewrite", "--json", "a cat"], check=True, capture_output=True
        )
        cold.append(time.perf_counter() - t)
    print(f"prompts: {len(prompts)} x {args.repeats} repeats, n={args.n}")
    print(f"in-process start-up (import, spaCy, tables): {startup:.2f} s")
    print(
        f"rewrite, {args.n} paraphrases: median {statistics.median(times):.1f} ms, "
        f"p90 {times[int(0.9 * len(times))]:.1f} ms, max {times[-1]:.1f} ms"
    )
    print(f"CLI cold start, one prompt end to end: median {statistics.median(cold):.2f} s (of 3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
