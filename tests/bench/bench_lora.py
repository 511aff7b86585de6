"""Cost of reading LoRA headers (issue 14 item 6): hostile and real files, first read and cached.

    .venv/bin/python -m tests.bench.bench_lora

Each case runs in a fresh process and prints the seconds of the first ``inspect_lora`` and of a second one
(served from the per-file cache), and the peak of Python's allocations during a first read (tracemalloc, in a
separate uncached read). Cases: the issue's reproducer (a 99 MB header declaring 1.5 M tensors, written sparse),
headers just under the caps (50,000 tensors; 1,000,000 JSON values), a 100,000-deep nesting, and a real-sized
kohya SDXL LoRA (2,000 tensors) written by the safetensors library.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = ("reproducer-99MB-1.5M-tensors", "50k-tensors", "1M-values", "deep-100k", "real-2k-tensors")


def _write(path: Path, header: bytes, data_len: int) -> None:
    with path.open("wb") as fh:
        fh.write(struct.pack("<Q", len(header)) + header)
        fh.truncate(8 + len(header) + data_len)


def _tensors(n: int) -> tuple[bytes, int]:
    header, offset = {}, 0
    for i in range(n):
        key = f"lora_unet_input_blocks_{i}_1_transformer_blocks_0_attn2_to_k.lora_down.weight"
        header[key] = {"dtype": "F16", "shape": [4, 2048], "data_offsets": [offset, offset + 16384]}
        offset += 16384
    return json.dumps(header, separators=(",", ":")).encode(), offset


def make(case: str, folder: Path) -> Path:
    path = folder / f"wrong-{case}.safetensors"
    if case == "reproducer-99MB-1.5M-tensors":
        with path.open("wb") as fh:  # the 8-byte length is all that is read: the rest stays sparse
            fh.write(struct.pack("<Q", 99_000_000) + b'{"')
            fh.truncate(8 + 99_000_000 + 1_500_000 * 16384)
    elif case == "50k-tensors":
        _write(path, *_tensors(50_000))
    elif case == "1M-values":
        _write(path, b'{"a":[' + b"0," * 999_990 + b"0]}", 0)
    elif case == "deep-100k":
        _write(path, b'{"t":' + b"[" * 100_000 + b"]" * 100_000 + b"}", 0)
    else:
        import torch
        from safetensors.torch import save_file

        tensors = {
            f"lora_unet_b{i}_attn2_to_k.lora_down.weight": torch.zeros(4, 2048, dtype=torch.float16)
            for i in range(2000)
        }
        meta = {"ss_base_model_version": "sdxl_base_v1-0", "ss_tag_frequency": json.dumps({"1_wrong": {"wrong": 6}})}
        save_file(tensors, str(path), metadata=meta)
    return path


def _read(path: str) -> str:
    from smoothie.lora import LoraFileError, inspect_lora

    try:
        info = inspect_lora(path)
    except LoraFileError as exc:
        return "refused: " + str(exc).split(": ", 1)[-1][:70]
    return f"{info.architecture.value}, {info.n_tensors} tensors"


def measure(path: str) -> None:
    import tracemalloc

    from smoothie.lora import clear_cache

    times = []
    for _ in range(2):
        start = time.perf_counter()
        outcome = _read(path)
        times.append(time.perf_counter() - start)
    clear_cache()
    tracemalloc.start()
    _read(path)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    name = Path(path).stem.removeprefix("wrong-")
    print(f"| {name} | {times[0]:.3f} s | {times[1] * 1e6:.0f} µs | {peak:.1f} MiB | {outcome} |")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        measure(sys.argv[2])
        return
    print("| case | first read | cached | peak Python allocation | outcome |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            path = make(case, Path(tmp))
            subprocess.run([sys.executable, "-m", "tests.bench.bench_lora", "--one", str(path)], check=True)
            path.unlink()


if __name__ == "__main__":
    main()
