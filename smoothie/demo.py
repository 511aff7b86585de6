"""``python -m smoothie demo``: the main job on built-in sample prompts (what ``make demo`` runs)."""

from __future__ import annotations

import argparse
import time

SAMPLES = (
    "a woman named Lisa smiling, portrait, soft window light",
    "Brad Pitt drinking coffee in a diner, 1970s photo, (film grain:1.2)",
    "a lighthouse in a storm, by Ivan Aivazovsky, oil on canvas",
    "(best quality:1.3), 1girl, solo, hatsune miku, twintails, looking at viewer, <lora:detail_tweaker:0.5>",
    "a samurai on a horse BREAK cherry blossoms falling, [watercolor:ink:0.4]",
    "70 bottle caps arranged in a spiral on a red table, top-down view",
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="rewrite a few sample prompts and print the ensembles")
    p.add_argument("--n", type=int, default=8, help="paraphrases shown per prompt (default 8)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from smoothie.prompt import rewrite

    t0 = time.perf_counter()
    rewrite("warm up", n=1)  # loads spaCy and the tables once, so the timings below are per prompt
    print(f"start-up (spaCy, tables): {time.perf_counter() - t0:.1f} s\n")
    for prompt in SAMPLES:
        t = time.perf_counter()
        result = rewrite(prompt, n=32)
        ms = 1000 * (time.perf_counter() - t)
        print(f"prompt:  {prompt}")
        print(f"generic: {result.generic}")
        for name in result.names:
            print(f"  {name.label:<9} {name.text!r} -> {name.replacement or '(removed)'!r}")
        for i, para in enumerate(result.paraphrases[: args.n], 1):
            print(f"  {i:>2}. {para}")
        print(f"  … {len(result.paraphrases)} paraphrases in {ms:.0f} ms\n")
    return 0
