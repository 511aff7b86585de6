"""The wrong-LoRA kit end to end on a real A1111: make the set, train it with kohya's sd-scripts, load the LoRA.

    A1111_DIR=… .venv/bin/python -m tests.bench.bench_wronglora --sd-scripts ~/sd-scripts \\
        [--sd-scripts-python ~/sd-scripts/venv/bin/python] [--checkpoint PATH] [--n 4] [--train-steps 6]

Starts A1111 (tests/hosts.py) with ``--checkpoint`` (default: the full-size random-weight SD1.5 checkpoint of
tests/sd15_checkpoint.py, whose layout sd-scripts' fixed SD1.5 U-Net loads; the tiny test models cannot be
trained by sd-scripts, whose SD1.5 and SDXL U-Nets are hard-coded), runs ``wrong-lora dataset`` (64×64, 2
steps) and ``wrong-lora train`` (sd-scripts with the given Python; CPU when it has no GPU), then generates with
``<lora:wrong-…:1>`` and with the Smoothie script's ``auto`` negative LoRA, and prints the seconds, the peak
memory of the training process and the infotexts (``Lora hashes`` shows A1111 loaded the LoRA). sd-scripts is the
user's own checkout: this script neither fetches nor installs it. Needs ``HF_HOME`` with the CLIP tokenizer
(``openai/clip-vit-large-patch14``) offline, as ../shared/models/hf has it.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests import hosts


def _cli(env: dict[str, str], *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "smoothie", "wrong-lora", *args],
        cwd=hosts.REPO,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    seconds = time.monotonic() - start
    print(f"$ python -m smoothie wrong-lora {' '.join(args)}\n  exit {done.returncode} in {seconds:.1f} s")
    print("  " + done.stdout.strip().replace("\n", "\n  "))
    if done.returncode:
        print(done.stderr[-4000:])
        raise SystemExit(done.returncode)
    return seconds, done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_wronglora", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sd-scripts", required=True, type=Path, help="your kohya sd-scripts checkout")
    parser.add_argument("--sd-scripts-python", type=Path, help="its environment's Python (default: its venv)")
    parser.add_argument("--checkpoint", type=Path, help="an SD1.5/SDXL .safetensors (default: random full SD1.5)")
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--train-steps", type=int, default=6)
    args = parser.parse_args(argv)
    kind = next(k for k in hosts.HOSTS if k.key == "a1111")
    host = kind.locate()
    if host is None:
        parser.error(f"{kind.env_dir} is not set: {kind.setup_help}")
    if args.checkpoint is None:
        from tests.sd15_checkpoint import ensure_checkpoint

        args.checkpoint = ensure_checkpoint(preset="full")
    checkpoint = args.checkpoint.resolve()
    hf = hosts.SHARED_MODELS / "hf"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if hf.is_dir():
        env.setdefault("HF_HOME", str(hf))
    with tempfile.TemporaryDirectory(prefix="bench-wronglora-") as tmp:
        work = Path(tmp)
        data = hosts.prepare_data_dir(host, work / "webui" / "data")
        (data / "models" / "Stable-diffusion" / checkpoint.name).symlink_to(checkpoint)
        server = hosts.launch(host, work / "webui", model=checkpoint.stem, timeout=900)
        try:
            print(f"A1111 up in {server.startup_s:.1f} s with {server.current_model()}")
            out = work / "set"
            _cli(env, "dataset", "--api", server.base_url, "--checkpoint", checkpoint.stem, "--n", str(args.n),
                 "--out", str(out), "--width", "64", "--height", "64", "--steps", "2", "--seed", "1")  # fmt: skip
            train = ["train", "--out", str(out), "--sd-scripts", str(args.sd_scripts), "--api", server.base_url,
                     "--train-steps", str(args.train_steps)]  # fmt: skip
            if args.sd_scripts_python:
                train += ["--sd-scripts-python", str(args.sd_scripts_python)]
            _cli(env, *train)
            log = (out / "train.log").read_text(encoding="utf-8", errors="replace").splitlines()
            print(
                "  sd-scripts: "
                + next((line.strip() for line in reversed(log) if "it]" in line or "s/it" in line), "?")
            )
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(f"  peak RSS of the largest child (the training): {peak:.0f} MB")
            name = f"wrong-{checkpoint.stem}"
            loras = [item["name"] for item in server.get("/sdapi/v1/loras")]
            print(f"  A1111 lists {name}: {name in loras}")
            base = {"prompt": "a cat", "negative_prompt": "wrong", "steps": 2, "width": 64, "height": 64, "seed": 1}
            with_lora = server.txt2img({**base, "prompt": f"a cat <lora:{name}:1>"})
            print("  <lora:…> infotext: " + with_lora.info["infotexts"][0].replace("\n", " | "))
            auto = server.txt2img({**base, "script_name": "smoothie", "script_args": []})
            print("  Smoothie auto infotext: " + auto.info["infotexts"][0].replace("\n", " | "))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
