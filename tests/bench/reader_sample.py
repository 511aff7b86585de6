"""Lines for a human (or helper) reader: 8 sampled paraphrases of every prompt of the scorer's dumps.

    .venv/bin/python -m tests.bench.reader_sample OUT.txt DUMP.jsonl [DUMP.jsonl ...] [--per-prompt 8] [--seed 13]

Each DUMP is the scorer's ``--dump`` file (one {"case", "out"} a line). OUT gets a "### PROMPT: …" header per
prompt and its sampled lines, each "- …". The same seed and dumps give the same sample, so two engines can be
read on the same prompts (docs/BENCHMARKS.md, "Session 13": readers mark each line that draws another picture,
breaks its grammar or would embarrass a user).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("dumps", type=Path, nargs="+")
    ap.add_argument("--per-prompt", type=int, default=8)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args(argv)
    if args.per_prompt < 1:
        print(f"reader_sample: error: --per-prompt must be at least 1, got {args.per_prompt}", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    lines: list[str] = []
    for dump in args.dumps:
        try:
            rows = [json.loads(x) for x in dump.read_text(encoding="utf-8").splitlines() if x.strip()]
        except (OSError, json.JSONDecodeError) as exc:
            print(f"reader_sample: error: {dump}: {exc}", file=sys.stderr)
            return 2
        for row in rows:
            paras = row["out"].get("paraphrases") or []
            lines.append(f"\n### PROMPT: {row['case']['prompt']}")
            lines.extend(f"- {p}" for p in rng.sample(paras, min(args.per_prompt, len(paras))))
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    print(f"{sum(1 for x in lines if x.startswith('- '))} lines from {len(args.dumps)} dumps -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
