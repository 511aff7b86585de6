"""Speed of name finding: the danbooru tag database, long prompts, and the whole CLI on 10,000 characters.

    .venv/bin/python -m tests.bench.bench_names [--tag-database ../shared/data/tagcomplete/danbooru.csv]
    .venv/bin/python -m tests.bench.bench_names --set ../shared/data/prompts-dev.jsonl   # the whole CLI on a set

* loading the tag database (tagcomplete's CSV), cold and cached;
* with ``--set FILE.jsonl``: only the whole CLI on every prompt of the file at once (as the scorer runs it), ms a
  prompt, without the database, with it on a first start (no cache yet) and with it cached in the user cache;
* ``genericise`` (names only) on long prompts built here, deterministic: a sentence-like prompt, a tag prompt
  with characters and series, a prompt full of known names, 10,000 characters without a space, 20,000 ``<``;
* the whole ``python -m smoothie rewrite --n 32 --json PROMPT`` on the same prompts (start-up included).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
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


def whole_cli(jsonl: str, tag_database: str | None, repeats: int) -> None:
    """``rewrite --n 32 --json --jsonl FILE`` end to end, ms a prompt (median of ``repeats``)."""
    count = sum(1 for line in Path(jsonl).read_text(encoding="utf-8").splitlines() if line.strip())
    base = [sys.executable, "-m", "smoothie", "rewrite", "--n", "32", "--backend", "rules", "--json", "--jsonl", jsonl]
    runs = [("no tag database", [], False)]
    if tag_database:
        db = ["--tag-database", tag_database]
        runs += [("tag database, first start (no cache)", db, True), ("tag database, cached", db, False)]
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "SMOOTHIE_CACHE_DIR": cache}
        for label, extra, cold in runs:
            times = []
            for _ in range(repeats):
                if cold:
                    for f in Path(cache).glob("tag-database/*"):
                        f.unlink()
                t = time.perf_counter()
                subprocess.run([*base, *extra], check=True, capture_output=True, env=env, cwd=ROOT)
                times.append(time.perf_counter() - t)
            times.sort()
            ms = 1000 * times[len(times) // 2] / count
            print(f"whole CLI, {count} prompts, n=32, {label}: {ms:.0f} ms/prompt (median of {repeats})")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tag-database", default=str(DEFAULT_DB) if DEFAULT_DB.exists() else None)
    ap.add_argument("--no-cli", action="store_true", help="skip the whole-CLI runs")
    ap.add_argument("--set", help="a prompts .jsonl: time only the whole CLI on it (without and with the database)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    if args.set:
        whole_cli(str(Path(args.set).resolve()), args.tag_database, args.repeats)
        return 0

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
