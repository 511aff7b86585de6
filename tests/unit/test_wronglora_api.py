"""The WebUI HTTP client (smoothie.wronglora.api) against a loopback fake and misbehaving servers."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from smoothie.wronglora.api import ApiError, UnreachableError, WebUIClient, normalise_url, sniff_extension
from smoothie.wronglora.backend import HttpBackend, inside, webui_folders
from smoothie.wronglora.plan import Settings, plan
from tests.unit.wronglora_fakes import fake_webui, webui_state


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("127.0.0.1:7860", "http://127.0.0.1:7860"),
        ("http://localhost:7860/", "http://localhost:7860"),
        ("https://host/sd/sdapi/v1/", "https://host/sd"),
        ("  http://[::1]:7860  ", "http://[::1]:7860"),
    ],
)
def test_normalise_url(url, expected):
    assert normalise_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"), [("", "no URL"), ("ftp://x", "only http"), ("http://", "no host"), ("http://h:99999", "port")]
)
def test_bad_urls(url, message):
    with pytest.raises(ApiError, match=message):
        WebUIClient(url)


def test_the_calls_against_the_fake(tmp_path):
    state = webui_state(tmp_path)
    with fake_webui(state) as url:
        client = WebUIClient(url)
        assert [m["model_name"] for m in client.sd_models()] == ["tiny-sd1", "tiny-sdxl"]
        assert client.options()["sd_model_checkpoint"].startswith("tiny-sd1")
        backend = HttpBackend(client)
        assert backend.lora_dir() == tmp_path / "webui" / "models" / "Lora"
        folders = backend.folders()
        assert folders["webui_dir"] == tmp_path / "webui"
        assert folders["data_dir"] == tmp_path / "webui"
        assert "models_dir" not in folders  # None in cmd-flags
        image, info = backend.generate(plan(0, Settings(width=64, height=64, seed=3)), backend.checkpoints()[1])
        assert image.extension == ".png"
        assert info["sd_model_name"] == "tiny-sdxl"
        assert info["seed"] == 3
        assert client.refresh_loras() is True
        client.interrupt()
        backend.restore(state.models[0]["title"])
    assert ("POST", "/sdapi/v1/interrupt", {}) in state.requests


def test_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(UnreachableError, match=rf"http://127.0.0.1:{port} cannot be reached \(connection refused\)"):
        WebUIClient(f"127.0.0.1:{port}").sd_models()


class _Odd(BaseHTTPRequestHandler):
    answers: ClassVar[dict[str, tuple[int, bytes]]] = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        code, body = self.answers.get(self.path, (404, b'{"detail": "Not Found"}'))
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.do_GET()


@contextmanager
def _odd(answers: dict[str, tuple[int, bytes]]) -> Iterator[str]:
    handler = type("H", (_Odd,), {"answers": answers})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_misbehaving_servers():
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 20).decode()
    answers = {
        "/sdapi/v1/sd-models": (200, b"<html>hello</html>"),
        "/sdapi/v1/options": (200, b'{"x": 1}'),
        "/sdapi/v1/cmd-flags": (500, b'{"error": "RuntimeError", "detail": "boom\\nsecond line"}'),
        "/sdapi/v1/txt2img": (200, json.dumps({"images": ["not base64!"], "info": "{}"}).encode()),
        "/sdapi/v1/refresh-loras": (404, b"{}"),
    }
    with _odd(answers) as url:
        client = WebUIClient(url)
        with pytest.raises(ApiError, match="did not answer JSON"):
            client.sd_models()
        with pytest.raises(ApiError, match=r"HTTP 500: boom second line"):
            client.cmd_flags()
        with pytest.raises(ApiError, match="not valid base64"):
            client.txt2img({})
        assert client.refresh_loras() is False
        assert HttpBackend(client).folders() == {}  # no cmd-flags: less to check, no failure
        answers["/sdapi/v1/txt2img"] = (200, json.dumps({"images": [base64.b64encode(b"GIF89a").decode()]}).encode())
        with pytest.raises(ApiError, match="not a PNG, JPEG or WebP"):
            client.txt2img({})
        answers["/sdapi/v1/txt2img"] = (
            200,
            json.dumps({"images": ["data:image/png;base64," + png], "info": "not json"}).encode(),
        )
        images, info = client.txt2img({})
        assert images[0].extension == ".png"
        assert info == {}
        answers["/sdapi/v1/txt2img"] = (200, json.dumps({"images": []}).encode())
        with pytest.raises(ApiError, match="returned no image"):
            HttpBackend(client).generate(plan(0, Settings()), None)
        answers["/sdapi/v1/sd-models"] = (200, b'{"not": "a list"}')
        with pytest.raises(ApiError, match="not a list of models"):
            client.sd_models()


def test_sniff_extension():
    assert sniff_extension(b"\x89PNG\r\n\x1a\nxxxx") == ".png"
    assert sniff_extension(b"\xff\xd8\xff\xe0") == ".jpg"
    assert sniff_extension(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == ".webp"
    assert sniff_extension(b"GIF89a") is None


def test_webui_folders_and_inside(tmp_path):
    flags = {
        "data_dir": str(tmp_path / "d"),
        "lora_dir": "",
        "localizations_dir": str(tmp_path / "w" / "localizations"),
        "x": 3,
    }
    folders = webui_folders(flags)
    assert folders == {
        "data_dir": tmp_path / "d",
        "localizations_dir": tmp_path / "w" / "localizations",
        "webui_dir": tmp_path / "w",
    }
    assert inside(tmp_path / "d" / "a", tmp_path / "d")
    assert inside(tmp_path / "d", tmp_path / "d")
    assert not inside(tmp_path / "dd", tmp_path / "d")
    (tmp_path / "link").symlink_to(tmp_path / "d", target_is_directory=True)
    assert inside(tmp_path / "link" / "x", tmp_path / "d")
