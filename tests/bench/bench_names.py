"""Speed of name finding: the danbooru tag database, long prompts, and the whole CLI on 10,000 characters.

    .venv/bin/python -m tests.bench.bench_names [--tag-database ../shared/data/tagcomplete/danbooru.csv]

* loading the tag database (tagcomplete's CSV), cold and cached;
* ``genericise`` (names only) on long prompts built here, deterministic: a sentence-like prompt, a tag prompt
  with characters and series, a prompt full of known names, 10,000 characters without a space, 20,000 ``<``;
* the whole ``python -m smoothie rewrite --n 32 --json PROMPT`` on the same prompts (start-up included).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB = ROOT.parent / "shared" / "data" / "tagcomplete" / "danbooru.csv"


def long_prompts() -> dict[str, str]:
    rng = random.Random(1)
    words = (
        "a woman with red hair walking her dog through a misty forest at dawn holding a lantern near an old stone "
        "bridge while birds sing above the river and the mountains glow"
    ).split()

    def natural(n: int) -> str:
        parts: list[str] = []
        while len(", ".join(parts)) < n:
            parts.append(" ".join(rng.choice(words) for _ in range(8)))
        return ", ".join(parts)[:n]

    tags = [
        "1girl", "solo", "long hair", "smile", "red eyes", "hatsune miku", "genshin impact", "by makoto shinkai",
        "cat ears", "kafka \\(honkai: star rail\\)", "(smirk:1.1)", "<lora:x:0.5>", "city", "night", "Brad Pitt",
    ]  # fmt: skip

    def tag_prompt(n: int) -> str:
        parts: list[str] = []
        while len(", ".join(parts)) < n:
            parts.append(rng.choice(tags))
        return ", ".join(parts)

    return {
        "sentences 10k": natural(10_000),
        "tags 10k": tag_prompt(10_000),
        "names 10k": ", ".join(["Brad Pitt and Taylor Swift by Greg Rutkowski in Rome"] * 200)[:10_000],
        "no spaces 10k": "a" * 10_000,
        "20,000 '<'": "<" * 20_000,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tag-database", default=str(DEFAULT_DB) if DEFAULT_DB.exists() else None)
    ap.add_argument("--no-cli", action="store_true", help="skip the whole-CLI runs")
    args = ap.parse_args()

    from smoothie.prompt import tables
    from smoothie.prompt.engine import genericise
    from smoothie.prompt.names import NameOptions

    if args.tag_database:
        t = time.perf_counter()
        db = tables.load_tag_database(args.tag_database)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        tables.load_tag_database(args.tag_database)
        warm = time.perf_counter() - t
        print(f"tag database: {len(db):,} tags, load {cold:.2f} s, cached {1e6 * warm:.0f} µs")
    genericise("warm up: Brad Pitt, 1girl, hatsune miku")
    prompts = long_prompts()
    for name, prompt in prompts.items():
        t = time.perf_counter()
        genericise(prompt, NameOptions())
        print(f"genericise {name}: {time.perf_counter() - t:.2f} s")
    if not args.no_cli:
        for name, prompt in prompts.items():
            t = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "smoothie", "rewrite", "--n", "32", "--json", prompt],
                check=True,
                capture_output=True,
            )
            print(f"whole CLI, n=32, {name}: {time.perf_counter() - t:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
