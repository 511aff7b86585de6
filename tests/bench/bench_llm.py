"""Benchmark of the LLM backends on this machine: no real LLM is available offline, so a tiny *random* GPT-2.

    .venv/bin/python tests/bench/bench_llm.py [--cases ../shared/data/prompts-dev.jsonl] [--n 32]

1. builds a tiny random GPT-2 (2 layers, width 64) and a byte-level BPE tokenizer trained on the instruction
   texts and the cases, saved to a temporary directory and loaded back by path, as a user's model would be;
2. serves it on 127.0.0.1 (a random port) as an OpenAI-compatible server (``/v1/models``,
   ``/v1/chat/completions``) through :meth:`TransformersBackend.complete`;
3. for each backend (``openai`` against that server, ``transformers`` loading the directory) rewrites every
   case through the engine, counting how much of each ensemble came from the model rather than the
   ``rules`` fallback, and runs the shared paraphrase scorer with the backend selected by environment
   (``SMOOTHIE_OPENAI_BASE_URL``/``SMOOTHIE_OPENAI_MODEL``, ``SMOOTHIE_TRANSFORMERS_MODEL``).

A random model writes nonsense, which the parser rejects, so the ensembles are the fallback's: the figures
measure the pipeline's safety and overhead, not an LLM's quality. Run it with a real model to judge one:
``--model DIR_OR_ID`` serves and loads that instead.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from smoothie.prompt.backends.transformers import TransformersBackend  # noqa: E402
from smoothie.prompt.llm import instructions  # noqa: E402
from smoothie.prompt.llm.deadline import Deadline  # noqa: E402
from smoothie.prompt.llm.errors import BackendUnavailable  # noqa: E402

SERVED_NAME = "bench-model"


def build_tiny_model(path: Path, texts: list[str]) -> Path:
    import torch
    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from smoothie.prompt.backends import ParaphraseRequest

    sample = ParaphraseRequest(text=texts[0] if texts else "a cat", n=8)
    corpus = [
        instructions.render_plain(instructions.generation_messages(sample, 8)),
        instructions.render_plain(instructions.smoothing_messages(sample, texts[:8] or ["a cat"])),
        *texts,
    ]
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(
        corpus,
        trainers.BpeTrainer(
            vocab_size=2000,
            special_tokens=["<pad>", "</s>", "<unk>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_object=bpe, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=len(tok),
        n_positions=4096,
        n_embd=64,
        n_layer=2,
        n_head=2,
        bos_token_id=1,
        eos_token_id=1,
        pad_token_id=0,
    )
    transformers.GPT2LMHeadModel(config).save_pretrained(path)
    tok.save_pretrained(path)
    return path


class ModelServer:
    """An OpenAI-compatible chat-completions server on 127.0.0.1 over one :class:`TransformersBackend`."""

    def __init__(self, backend: TransformersBackend, max_new_tokens: int, timeout: float) -> None:
        self.backend = backend
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": SERVED_NAME, "object": "model"}]})
                else:
                    self._send(404, {"error": f"no route {self.path}"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                messages = body.get("messages") or []
                tokens = min(int(body.get("max_tokens") or max_new_tokens), max_new_tokens)
                try:
                    with lock:
                        (completion,) = server.backend.complete(
                            [messages], Deadline(timeout), seed=int(body.get("seed") or 0), max_tokens=tokens
                        )
                except BackendUnavailable as exc:
                    self._send(500, {"error": str(exc)})
                    return
                self._send(
                    200,
                    {
                        "object": "chat.completion",
                        "model": SERVED_NAME,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": completion.text},
                                "finish_reason": completion.finish_reason,
                            }
                        ],
                    },
                )

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> ModelServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


FRAMES = [
    "Picture", "Imagine", "A photo of", "Envision", "A candid shot of", "Look at", "Behold", "A scene with",
    "A view of", "Consider", "An image of", "Think of", "A glimpse of", "See", "Observe", "A study of",
]  # fmt: skip


class EchoServer:
    """Answers every chat instantly with 32 framings of the description it received: no model, only overhead."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                user = body["messages"][-1]["content"]
                description = user.split("Image description:\n", 1)[-1].split("\n", 1)[0]
                lines = [f"{frame} {description}{tail}" for tail in ("", ", in detail") for frame in FRAMES]
                data = json.dumps(
                    {"choices": [{"message": {"content": "\n".join(lines)}, "finish_reason": "stop"}]}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def overhead(cases: list[dict[str, Any]], n: int) -> tuple[float, float, float, float]:
    """Median ms a prompt: rules; the openai backend alone (HTTP + parsing) and through the engine, against the
    instant echo server; and the share of prompts the server answered."""
    import statistics

    from smoothie.prompt import rewrite
    from smoothie.prompt.backends import ParaphraseRequest
    from smoothie.prompt.backends.openai import OpenAIBackend

    echo = EchoServer()
    try:
        alone = OpenAIBackend(base_url=echo.base_url, model="echo", rounds=0)
        rules_ms, backend_ms, llm_ms, shares = [], [], [], []
        for seed, case in enumerate(cases, start=1000):  # fresh seeds: no cache answers
            t0 = time.perf_counter()
            alone.paraphrase(ParaphraseRequest(text=case["prompt"], n=n, seed=seed))
            backend_ms.append(1000 * (time.perf_counter() - t0))
            t0 = time.perf_counter()
            rewrite(case["prompt"], n=n, seed=seed)
            rules_ms.append(1000 * (time.perf_counter() - t0))
            t0 = time.perf_counter()
            result = rewrite(
                case["prompt"], n=n, seed=seed, backend="openai",
                backend_options={"base_url": echo.base_url, "model": "echo", "rounds": 0},
            )  # fmt: skip
            llm_ms.append(1000 * (time.perf_counter() - t0))
            shares.append(0.0 if any("rules" in w for w in result.warnings) else 1.0)
    finally:
        echo.close()
    med = statistics.median
    return med(rules_ms), med(backend_ms), med(llm_ms), sum(shares) / len(shares)


def llm_share(cases: list[dict[str, Any]], backend: str, n: int) -> tuple[float, int, float]:
    """Mean share of each ensemble that came from the model, prompts with any, and mean seconds a prompt."""
    from smoothie.prompt import rewrite

    shares = []
    start = time.perf_counter()
    for case in cases:
        result = rewrite(case["prompt"], n=n, backend=backend)
        share = 1.0
        for warning in result.warnings:
            if "used the rules backend" in warning:
                share = 0.0
            elif "usable of" in warning:
                share = int(warning.split(" gave ")[1].split(" usable")[0]) / n
        shares.append(share)
    seconds = (time.perf_counter() - start) / max(1, len(cases))
    return sum(shares) / max(1, len(shares)), sum(s > 0 for s in shares), seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default=str(ROOT.parent / "shared" / "data" / "prompts-dev.jsonl"))
    ap.add_argument("--scorer", default=str(ROOT.parent / "shared" / "bench" / "score_paraphrases.py"))
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--model", help="a model directory or Hugging Face id to use instead of the tiny random one")
    ap.add_argument("--max-new-tokens", type=int, default=512)
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)  # tiny model: threads only add contention on a 2-core machine
    cases = [json.loads(line) for line in Path(args.cases).read_text(encoding="utf-8").splitlines() if line.strip()]
    from smoothie.prompt import rewrite

    rewrite(cases[0]["prompt"], n=args.n)  # start-up (spaCy, tables) is not overhead
    rules_ms, backend_ms, echo_ms, echo_share = overhead(cases, args.n)
    print(
        f"[overhead] median per prompt: rules {rules_ms:.1f} ms; against an instant echo server: openai backend "
        f"alone {backend_ms:.1f} ms, through the engine {echo_ms:.1f} ms ({echo_share:.0%} answered by the server)"
    )
    with tempfile.TemporaryDirectory(prefix="smoothie-bench-llm-") as tmp:
        model = args.model or str(build_tiny_model(Path(tmp) / "tiny-gpt2", [c["prompt"] for c in cases]))
        served = TransformersBackend(model=model, timeout=args.timeout, max_new_tokens=args.max_new_tokens)
        served.load()
        with ModelServer(served, args.max_new_tokens, args.timeout) as server:
            env = {
                **os.environ,
                "SMOOTHIE_OPENAI_BASE_URL": server.base_url,
                "SMOOTHIE_OPENAI_MODEL": SERVED_NAME,
                "SMOOTHIE_TRANSFORMERS_MODEL": model,
                "OMP_NUM_THREADS": "1",
            }
            os.environ.update(
                {
                    k: env[k]
                    for k in ("SMOOTHIE_OPENAI_BASE_URL", "SMOOTHIE_OPENAI_MODEL", "SMOOTHIE_TRANSFORMERS_MODEL")
                }
            )
            print(
                f"model: {model if args.model else 'tiny random GPT-2 (nonsense output)'}; "
                f"cases: {len(cases)}; n={args.n}"
            )
            for backend in ("openai", "transformers"):
                share, used, seconds = llm_share(cases, backend, args.n)
                print(
                    f"[{backend}] in-process: {share:.1%} of paraphrases from the model, {used}/{len(cases)} prompts "
                    f"with any; {seconds:.2f} s/prompt"
                )
                run = subprocess.run(
                    [
                        sys.executable,
                        args.scorer,
                        args.cases,
                        "--python",
                        sys.executable,
                        "--n",
                        str(args.n),
                        "--backend",
                        backend,
                    ],
                    check=False,
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=1200,
                )
                tail = run.stdout.strip().splitlines()[-1:] or [run.stderr.strip()[-500:]]
                print(f"[{backend}] scorer: {tail[0]}")
        served.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
