"""Speed and memory of the dataset pipeline.

    .venv/bin/python -m tests.bench.bench_dataset speed [--n 60] [--side 1600] [--workers 2] [--no-vision] [--no-dedup]
    .venv/bin/python -m tests.bench.bench_dataset memory [--small 100] [--large 10000] [--no-vision]
    (either with --set KEY=VALUE for any other PrepOptions field)

``speed``: images per second of the default pipeline (``dataset prep`` with its defaults: smart crops to 512,
the vision models where installed — MediaPipe face mesh and pose, EfficientNet-Lite0 with its embeddings for
near-duplicates — else Haar cascades, blur filter, dedup, captions, PNG output) against the floor of just
decoding every image and re-encoding it, at its own size, to the same format (PNG, same compression) with the
same number of worker threads. The images are JPEGs made from the scikit-image/matplotlib sample photos
(random crops, scales, mirrors and colour shifts, so no two are alike), ``--side`` pixels on their longest side.

``memory``: peak resident memory (ru_maxrss) of a fresh process running the pipeline (defaults, ``--size 256``)
over ``--small`` and ``--large`` small synthetic images (96 px JPEGs, so 10 000 take minutes, not hours); the
goal is large ≤ 1.2 × small (memory flat in the number of images).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make_images(folder: Path, n: int, side: int, seed: int = 0) -> None:
    """``n`` distinct JPEGs, longest side ``side``, from the sample photos."""
    import numpy as np
    from PIL import Image

    from tests.unit.test_dataset_folder import photos

    folder.mkdir(parents=True, exist_ok=True)
    pics = list(photos().values())
    rng = np.random.default_rng(seed)
    for i in range(n):
        p = pics[i % len(pics)]
        h, w = p.shape[:2]
        ch, cw = int(h * rng.uniform(0.7, 1.0)), int(w * rng.uniform(0.7, 1.0))
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        crop = p[y : y + ch, x : x + cw]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        crop = np.clip(crop.astype(np.float32) * rng.uniform(0.85, 1.15, size=3), 0, 255).astype(np.uint8)
        image = Image.fromarray(crop)
        scale = side / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
        image.save(folder / f"img_{i:05d}.jpg", quality=90)


def floor(folder: Path, workers: int) -> float:
    """Seconds to decode every image and re-encode it to PNG (compression 1, as the pipeline writes)."""
    from PIL import Image

    files = sorted(folder.glob("*.jpg"))

    def one(path: Path) -> int:
        with Image.open(path) as im:
            im.load()
            buffer = io.BytesIO()
            im.convert("RGB").save(buffer, "PNG", compress_level=1)
            return len(buffer.getvalue())

    t = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        sum(pool.map(one, files))
    return time.perf_counter() - t


def cpu_floor(folder: Path, workers: int) -> tuple[float, float]:
    """:func:`floor`'s wall seconds and the CPU seconds it used (all threads)."""
    c = time.process_time()
    wall = floor(folder, workers)
    return wall, time.process_time() - c


def speed(args: argparse.Namespace) -> None:
    from smoothie.dataset.options import PrepOptions
    from smoothie.dataset.pipeline import prepare

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        make_images(src, args.n, args.side)
        floor(src, args.workers)  # warm the page cache and Pillow
        floors = [cpu_floor(src, args.workers) for _ in range(2)]
        floor_s = min(w for w, _ in floors)
        floor_cpu = min(c for _, c in floors)
        extra: dict[str, object] = {"dedup": False} if args.no_dedup else {}
        extra = {**extra, "vision": args.vision, **settings(args)}
        opts = PrepOptions.from_values(
            {"input_dir": src, "output_dir": Path(tmp) / "out", "workers": args.workers, **extra}
        )
        warm = PrepOptions.from_values(
            {"input_dir": src, "output_dir": Path(tmp) / "warm", "workers": args.workers, **extra}
        )
        prepare(warm)  # load models, caches
        t, c = time.perf_counter(), time.process_time()
        result = prepare(opts)
        run_s, run_cpu = time.perf_counter() - t, time.process_time() - c
        t = time.perf_counter()
        again = prepare(opts)
        rerun_s = time.perf_counter() - t
    n = args.n
    print(f"{n} JPEGs, longest side {args.side}, {args.workers} worker threads, {os.cpu_count()} CPUs")
    print(f"floor (decode + PNG re-encode):  {n / floor_s:7.2f} images/s")
    kept = result.summary.counts.kept
    flags = (["--no-dedup"] if args.no_dedup else []) + ([] if args.vision else ["--no-vision"])
    what = ", ".join(["defaults", *flags] + [f"{k}={v}" for k, v in settings(args).items()])
    print(f"pipeline ({what}): {n / run_s:7.2f} images/s  = {floor_s / run_s:.2f} x the floor ({kept} kept)")
    print(f"  analyse {result.timings['analyse']:.2f} s, write {result.timings['write']:.2f} s")
    print(
        f"CPU seconds: floor {floor_cpu:.2f}, pipeline {run_cpu:.2f} = {floor_cpu / run_cpu:.2f} x "
        "(the same ratio in CPU time: steadier than wall time on a shared machine)"
    )
    print(f"second run (nothing to do):     {n / rerun_s:7.2f} images/s, {again.written} files written")


CHILD = """
import json, resource, sys
sys.path.insert(0, {root!r})
from pathlib import Path
from smoothie.dataset.options import PrepOptions
from smoothie.dataset.pipeline import prepare
values = dict(input_dir={src!r}, output_dir={dst!r}, workers={workers}, size={size}, **{extra!r})
r = prepare(PrepOptions.from_values(values))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"kept": r.summary.counts.kept, "peak_kib": peak}}))
"""


def memory(args: argparse.Namespace) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (args.small, args.large):
            src, dst = Path(tmp) / f"in{n}", Path(tmp) / f"out{n}"
            make_images(src, n, args.side, seed=n)
            code = CHILD.format(
                root=str(ROOT),
                src=str(src),
                dst=str(dst),
                workers=args.workers,
                size=args.size,
                extra={"vision": args.vision, **settings(args)},
            )
            t = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            info = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append((n, info["peak_kib"] / 1024, info["kept"], time.perf_counter() - t))
    for n, mib, kept, secs in rows:
        print(f"{n:6d} images ({kept} kept): peak RSS {mib:7.1f} MiB, {secs:6.1f} s")
    print(f"ratio {rows[1][1] / rows[0][1]:.3f} (goal <= 1.2)")


def settings(args: argparse.Namespace) -> dict[str, str]:
    """``--set KEY=VALUE`` options (PrepOptions fields, e.g. ``vision=false``)."""
    out: dict[str, str] = {}
    for item in args.set or []:
        key, _, value = item.partition("=")
        out[key.strip()] = value.strip()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--n", type=int, default=60)
    s.add_argument("--side", type=int, default=1600)
    s.add_argument("--workers", type=int, default=2)
    s.add_argument("--no-dedup", action="store_true", help="keep near-duplicates (every image is written)")
    s.add_argument(
        "--vision", action=argparse.BooleanOptionalAction, default=True, help="the vision models (default on)"
    )
    m = sub.add_parser("memory")
    m.add_argument("--small", type=int, default=100)
    m.add_argument("--large", type=int, default=10_000)
    m.add_argument("--side", type=int, default=96, help="longest side of the synthetic input images")
    m.add_argument("--size", type=int, default=256, help="output size (--size of the pipeline)")
    m.add_argument("--workers", type=int, default=2)
    m.add_argument(
        "--vision", action=argparse.BooleanOptionalAction, default=True, help="the vision models (default on)"
    )
    for p in (s, m):
        p.add_argument("--set", action="append", metavar="KEY=VALUE", help="a PrepOptions field, e.g. vision=false")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    speed(args) if args.what == "speed" else memory(args)
    _ = resource
    return 0


if __name__ == "__main__":
    sys.exit(main())
