"""A loopback fake of the WebUI's ``/sdapi/v1`` API, for the wrong-LoRA kit's unit tests.

It answers what A1111 v1.10.1 answers for the calls the kit makes (field names read from A1111's
``modules/api/api.py`` and ``modules/api/models.py``): ``sd-models``, ``options`` (GET/POST), ``cmd-flags``,
``txt2img`` (a small PNG whose pixels depend on the seed and prompt, ``info`` as a JSON string), ``interrupt``
and ``refresh-loras``. Checkpoint switching follows ``override_settings`` / ``override_settings_restore_afterwards``.
Knobs make it fail the way real servers do (an HTTP 500 on the k-th image, a model it cannot switch to, …).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from PIL import Image


@dataclass
class FakeState:
    """What the fake server holds and records."""

    models: list[dict[str, Any]] = field(default_factory=list)
    current: str = ""
    flags: dict[str, Any] = field(default_factory=dict)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    txt2img_calls: int = 0
    fail_on_call: int | None = None  # 1-based txt2img call that answers HTTP 500
    stuck_model: bool = False  # generates with the current model whatever override_settings say
    same_image: bool = False  # ignores the seed (every image identical)
    image_format: str = "PNG"
    auth: str | None = None  # "user:pass" required
    no_api: bool = False  # every /sdapi path answers 404 (a WebUI started without --api)
    broken_cmd_flags: bool = False  # cmd-flags answers HTTP 500 (Forge started with --port)
    loras: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def title_of(self, name: str) -> str | None:
        for m in self.models:
            if name in (m["title"], m["model_name"]):
                return m["title"]
        return None


def make_models(folder: Path, names: dict[str, str]) -> list[dict[str, Any]]:
    """``sd-models`` entries for checkpoint files (``stem -> path``), as A1111 lists them."""
    out = []
    for stem, path in names.items():
        short = hashlib.sha256(stem.encode()).hexdigest()[:10]
        out.append(
            {
                "title": f"{stem}.safetensors [{short}]",
                "model_name": stem,
                "hash": short,
                "sha256": hashlib.sha256(stem.encode()).hexdigest(),
                "filename": str(path),
                "config": None,
            }
        )
    return out


def _png(seed: int, prompt: str, width: int, height: int, fmt: str) -> bytes:
    digest = hashlib.sha256(f"{seed}|{prompt}".encode()).digest()
    w, h = max(8, min(width, 64)), max(8, min(height, 64))
    pixels = bytes(digest[(i * 7) % 32] ^ (i & 0xFF) for i in range(w * h * 3))
    buffer = io.BytesIO()
    Image.frombytes("RGB", (w, h), pixels).save(buffer, format=fmt)
    return buffer.getvalue()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, code: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else None

    def _authorised(self) -> bool:
        state = self.server.state
        if state.auth is None:
            return True
        expected = "Basic " + base64.b64encode(state.auth.encode()).decode()
        if self.headers.get("Authorization") == expected:
            return True
        self._send(401, {"detail": "Not authenticated"})
        return False

    def do_GET(self) -> None:
        state = self.server.state
        with state.lock:
            state.requests.append(("GET", self.path, None))
        if not self._authorised():
            return
        if state.no_api and self.path.startswith("/sdapi/"):
            self._send(404, {"detail": "Not Found"})
            return
        if self.path == "/sdapi/v1/sd-models":
            self._send(200, state.models)
        elif self.path == "/sdapi/v1/options":
            self._send(200, {"sd_model_checkpoint": state.current, "samples_format": state.image_format.lower()})
        elif self.path == "/sdapi/v1/cmd-flags":
            if state.broken_cmd_flags:
                self._send(500, {"error": "ResponseValidationError", "detail": "", "body": "", "errors": ""})
            else:
                self._send(200, state.flags)
        elif self.path == "/sdapi/v1/loras":
            self._send(200, state.loras)
        else:
            self._send(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        state = self.server.state
        body = self._body()
        with state.lock:
            state.requests.append(("POST", self.path, body))
        if not self._authorised():
            return
        if state.no_api and self.path.startswith("/sdapi/"):
            self._send(404, {"detail": "Not Found"})
            return
        if self.path == "/sdapi/v1/options":
            title = state.title_of(str(body.get("sd_model_checkpoint", ""))) if body else None
            if body and "sd_model_checkpoint" in body and title is None:
                self._send(500, {"error": "RuntimeError", "detail": "model not found"})
                return
            if title:
                state.current = title
            self._send(200, None)
        elif self.path == "/sdapi/v1/txt2img":
            self._txt2img(body or {})
        elif self.path in ("/sdapi/v1/interrupt", "/sdapi/v1/refresh-loras"):
            self._send(200, None)
        else:
            self._send(404, {"detail": "Not Found"})

    def _txt2img(self, body: dict[str, Any]) -> None:
        state = self.server.state
        with state.lock:
            state.txt2img_calls += 1
            call = state.txt2img_calls
        if state.fail_on_call is not None and call == state.fail_on_call:
            self._send(500, {"error": "RuntimeError", "detail": "CUDA out of memory", "errors": "CUDA out of memory"})
            return
        wanted = (body.get("override_settings") or {}).get("sd_model_checkpoint")
        previous = state.current
        if wanted and not state.stuck_model:
            title = state.title_of(wanted.split(" [")[0]) or state.title_of(wanted)
            if title is None:
                self._send(500, {"error": "RuntimeError", "detail": f"checkpoint {wanted} not found"})
                return
            state.current = title
        used = state.current
        if body.get("override_settings_restore_afterwards", True):
            state.current = previous
        seed = int(body.get("seed", -1))
        seed = 1234 if seed == -1 or state.same_image else seed
        prompt = "" if state.same_image else str(body.get("prompt", ""))
        image = _png(seed, prompt, int(body.get("width", 512)), int(body.get("height", 512)), state.image_format)
        model = next(m for m in state.models if m["title"] == used)
        info = {
            "prompt": body.get("prompt"),
            "all_prompts": [body.get("prompt")],
            "negative_prompt": body.get("negative_prompt"),
            "seed": seed,
            "all_seeds": [seed],
            "sampler_name": body.get("sampler_name") or "DPM++ 2M",
            "sd_model_name": model["model_name"],
            "sd_model_hash": model["hash"],
            "infotexts": [
                f"{body.get('prompt')}\nSteps: {body.get('steps')}, Seed: {seed}, Model: {model['model_name']}"
            ],
        }
        self._send(
            200,
            {"images": [base64.b64encode(image).decode()], "parameters": body, "info": json.dumps(info)},
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: FakeState


@contextmanager
def fake_webui(state: FakeState) -> Iterator[str]:
    """Serve ``state`` on a free loopback port; yields the base URL."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = state
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def webui_state(tmp_path: Path) -> FakeState:
    """A fake A1111 with the shared tiny SD1 and SDXL checkpoints (or stand-ins with their key layouts), SD1
    loaded, and its folders under ``tmp_path/webui``."""
    root = tmp_path / "webui"
    ckpts = root / "models" / "Stable-diffusion"
    ckpts.mkdir(parents=True)
    (root / "models" / "Lora").mkdir()
    paths = {
        "tiny-sd1": _checkpoint(ckpts / "tiny-sd1.safetensors", "sd1"),
        "tiny-sdxl": _checkpoint(ckpts / "tiny-sdxl.safetensors", "sdxl"),
    }
    models = make_models(ckpts, paths)
    return FakeState(
        models=models,
        current=models[0]["title"],
        flags={
            "data_dir": str(root),
            "models_dir": None,
            "ckpt_dir": None,
            "lora_dir": str(root / "models" / "Lora"),
            "embeddings_dir": str(root / "embeddings"),
            "localizations_dir": str(root / "localizations"),
        },
    )


def _checkpoint(path: Path, kind: str) -> Path:
    """A stand-in checkpoint file with the key layout of ``kind`` (only the header is ever read)."""
    import torch
    from safetensors.torch import save_file

    keys = {
        "sd1": [
            "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight",
            "model.diffusion_model.out.0.weight",
        ],
        "sdxl": [
            "conditioner.embedders.0.transformer.text_model.final_layer_norm.weight",
            "conditioner.embedders.1.model.ln_final.weight",
        ],
    }[kind]
    save_file({k: torch.zeros(2) for k in keys}, str(path))
    return path


def load_toml(text: str) -> dict[str, Any]:
    """Parse TOML with the standard library (Python 3.11+) or tomli; skip the test where neither exists."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import pytest

        tomllib = pytest.importorskip("tomli")
    return tomllib.loads(text)
