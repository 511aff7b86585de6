"""Accuracy of the direction classifier: six labelled cartoon heads, then 40 others, many times over.

    .venv/bin/python -m tests.bench.bench_direction [--trials 30] [--pool 240] [--test 40] [--seed 0]

Draws ``--pool`` synthetic cartoon heads (tests/unit/test_dataset_cartoons.py: person and animal heads of
random shapes, colours, sizes and backgrounds, each drawn for its own direction), computes their direction
features once (EfficientNet-Lite0 on the head and on its mirror image), then for each trial picks three
left- and three right-facing heads as the examples and ``--test`` others as the run, and reports the share of
the run oriented right: by the examples alone, and with self-training on the run (what the pipeline does).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--pool", type=int, default=240)
    ap.add_argument("--test", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from smoothie.dataset import direction, effnet
    from tests.unit.test_dataset_cartoons import cartoon_set

    embedder = effnet.load()
    heads = cartoon_set(args.pool, seed=args.seed + 1000)
    t = time.perf_counter()
    vectors = np.stack([embedder.features(np.asarray(im), direction=True).direction for im, _ in heads])
    seconds = time.perf_counter() - t
    labels = np.array([label for _, label in heads])
    rng = np.random.default_rng(args.seed)
    alone, helped, train_s = [], [], []
    for _ in range(args.trials):
        order = rng.permutation(len(heads))
        left = [i for i in order if labels[i] == "left"][:3]
        right = [i for i in order if labels[i] == "right"][:3]
        run = [i for i in order if i not in left and i not in right][: args.test]
        examples = {"left": list(vectors[left]), "right": list(vectors[right])}
        truth = labels[run]
        model = direction.train(examples)
        alone.append(np.mean([d == t for (d, _), t in zip(model.predict(vectors[run]), truth, strict=True)]))
        t = time.perf_counter()
        model = direction.train(examples, vectors[run])
        train_s.append(time.perf_counter() - t)
        helped.append(np.mean([d == t for (d, _), t in zip(model.predict(vectors[run]), truth, strict=True)]))
    a, h = np.array(alone), np.array(helped)
    print(f"{args.pool} heads, features {seconds / args.pool * 1000:.0f} ms a head (two passes), {args.trials} trials")
    print(f"examples alone:      mean {a.mean():.3f}  min {a.min():.3f}  runs below 0.9: {np.mean(a < 0.9):.0%}")
    print(f"with self-training:  mean {h.mean():.3f}  min {h.min():.3f}  runs below 0.9: {np.mean(h < 0.9):.0%}")
    print(f"training time: {np.median(train_s) * 1000:.1f} ms (median)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
