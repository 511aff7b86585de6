"""Content diversity per prompt, and the unrounded mean the scorer rounds to two places.

    .venv/bin/python -m tests.bench.diversity_by_prompt DUMP.jsonl [--scorer ../shared/bench/score_paraphrases.py]

DUMP is the scorer's ``--dump`` file (one {"case", "out"} a line). The measure is the scorer's own: its ``words``,
``STOP``, ``tag_style`` and framing rule (a word in the paraphrases of at least 30% of the prompts and in none of
their generics), imported from the scorer file, so the two cannot drift apart. Prints the framing words, one line a
natural-language prompt (lowest first, with whether a name was described), and the mean.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import itertools
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dump", type=Path)
    ap.add_argument("--scorer", type=Path, default=Path("../shared/bench/score_paraphrases.py"))
    args = ap.parse_args(argv)
    if not args.scorer.is_file():
        print(f"diversity_by_prompt: error: no scorer at {args.scorer} (give --scorer)", file=sys.stderr)
        return 2
    spec = importlib.util.spec_from_file_location("score_paraphrases", args.scorer)
    assert spec is not None and spec.loader is not None
    s = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(s)
    try:
        rows = [json.loads(line) for line in args.dump.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, json.JSONDecodeError) as exc:
        print(f"diversity_by_prompt: error: {args.dump}: {exc}", file=sys.stderr)
        return 2
    outs = [r["out"] for r in rows]
    seen: collections.Counter[str] = collections.Counter()
    for o in outs:
        generic = set(s.words(o.get("generic") or ""))
        seen.update({w for p in o["paraphrases"] for w in s.words(p)} - generic)
    framing = {w for w, k in seen.items() if k >= max(2, 0.3 * len(outs))}
    print("framing:", " ".join(sorted(framing)))
    found = []
    for r in rows:
        case, out = r["case"], r["out"]
        if s.tag_style(case["prompt"]):
            continue
        sets = [{w for w in s.words(p) if w not in s.STOP and w not in framing} for p in out["paraphrases"]]
        dist = [1 - len(a & b) / len(a | b) if a | b else 0.0 for a, b in itertools.combinations(sets, 2)]
        named = any(n.get("label") not in ("place",) and n.get("replacement") for n in out.get("names") or [])
        found.append((sum(dist) / max(1, len(dist)), named, case["prompt"]))
    for d, named, prompt in sorted(found):
        print(f"{d:.3f} {'named ' if named else 'plain '} {prompt[:100]}")
    if found:
        print(f"mean {sum(d for d, _, _ in found) / len(found):.4f} over {len(found)} natural-language prompts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
