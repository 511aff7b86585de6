"""A thin client for the WebUI's own HTTP API (A1111, Forge and reForge share ``/sdapi/v1``), stdlib only.

Only what the wrong-LoRA kit needs: the checkpoints (``sd-models``), the loaded one (``options``), the server's
folders (``cmd-flags``), ``txt2img``, ``interrupt`` and ``refresh-loras``. Every failure is an :class:`ApiError`
whose message is one line naming the URL and what went wrong (not reachable, no API, authentication, the
server's own error text); nothing here retries or sleeps.

``http://user:password@host:port`` works for a WebUI started with ``--api-auth``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Largest response read (a txt2img answer carries base64 images: a 2048² PNG is ~8 MB).
MAX_RESPONSE_BYTES = 512 * 1024 * 1024


class ApiError(RuntimeError):
    """The WebUI could not be asked, or answered with an error; the message says which and why."""


class UnreachableError(ApiError):
    """Nothing answers at the URL (connection refused, no such host, timeout)."""


def normalise_url(url: str) -> str:
    """``127.0.0.1:7860`` → ``http://127.0.0.1:7860``; refuses other schemes and URLs without a host."""
    text = url.strip()
    if not text:
        raise ApiError("--api: no URL given (e.g. http://127.0.0.1:7860)")
    if "://" not in text:
        text = "http://" + text
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise ApiError(f"--api {url!r}: only http:// and https:// URLs are supported")
    if not parts.hostname:
        raise ApiError(f"--api {url!r}: no host in the URL")
    try:
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        raise ApiError(f"--api {url!r}: the port is not a number from 0 to 65535") from None
    path = parts.path.rstrip("/")
    if path.endswith("/sdapi/v1"):
        path = path[: -len("/sdapi/v1")]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass(frozen=True)
class Image:
    """One image a txt2img call returned: its encoded bytes and file extension (from its magic bytes)."""

    data: bytes
    extension: str


def sniff_extension(data: bytes) -> str | None:
    """``.png``, ``.jpg`` or ``.webp`` from an image's first bytes (the WebUI encodes in its save format)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    if data.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return None


class WebUIClient:
    """The WebUI at ``url``. ``timeout`` bounds quick calls; ``generate_timeout`` one txt2img (a first call may
    load a checkpoint: minutes on a slow disk)."""

    def __init__(self, url: str, timeout: float = 30.0, generate_timeout: float = 1800.0) -> None:
        full = normalise_url(url)
        parts = urllib.parse.urlsplit(full)
        self._auth: str | None = None
        if parts.username is not None:
            user = urllib.parse.unquote(parts.username)
            password = urllib.parse.unquote(parts.password or "")
            self._auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            netloc = parts.hostname or ""
            if ":" in netloc:
                netloc = f"[{netloc}]"
            if parts.port is not None:
                netloc += f":{parts.port}"
            full = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
        self.url = full
        self.timeout = timeout
        self.generate_timeout = generate_timeout

    # -- the calls ---------------------------------------------------------------------------------------

    def sd_models(self) -> list[dict[str, Any]]:
        """The checkpoints the WebUI lists (``title``, ``model_name``, ``hash``, ``sha256``, ``filename``)."""
        answer = self.request("GET", "/sdapi/v1/sd-models")
        if not isinstance(answer, list):
            raise ApiError(f"{self.url}/sdapi/v1/sd-models answered {type(answer).__name__}, not a list of models")
        return [m for m in answer if isinstance(m, dict)]

    def options(self) -> dict[str, Any]:
        answer = self.request("GET", "/sdapi/v1/options")
        return answer if isinstance(answer, dict) else {}

    def set_options(self, values: Mapping[str, Any]) -> None:
        self.request("POST", "/sdapi/v1/options", dict(values), timeout=self.generate_timeout)

    def cmd_flags(self) -> dict[str, Any]:
        """The server's command-line options (its folders: ``data_dir``, ``ckpt_dir``, ``lora_dir``…)."""
        answer = self.request("GET", "/sdapi/v1/cmd-flags")
        return answer if isinstance(answer, dict) else {}

    def loras(self) -> list[dict[str, Any]]:
        """The LoRAs the WebUI lists (``name``, ``alias``, ``path``, ``metadata``)."""
        answer = self.request("GET", "/sdapi/v1/loras")
        return [m for m in answer if isinstance(m, dict)] if isinstance(answer, list) else []

    def txt2img(self, payload: Mapping[str, Any]) -> tuple[list[Image], dict[str, Any]]:
        """Generate; returns the images and the parsed ``info`` (seeds, prompts, model name, infotexts)."""
        answer = self.request("POST", "/sdapi/v1/txt2img", dict(payload), timeout=self.generate_timeout)
        if not isinstance(answer, dict):
            raise ApiError(f"{self.url}/sdapi/v1/txt2img answered {type(answer).__name__}, not an object")
        images: list[Image] = []
        for i, item in enumerate(answer.get("images") or []):
            if not isinstance(item, str):
                raise ApiError(f"{self.url}/sdapi/v1/txt2img: image {i} is not a base64 string")
            data = _b64(item.split(",", 1)[1] if item.startswith("data:") else item, self.url)
            ext = sniff_extension(data)
            if ext is None:
                raise ApiError(f"{self.url}/sdapi/v1/txt2img: image {i} is not a PNG, JPEG or WebP image")
            images.append(Image(data, ext))
        info: dict[str, Any] = {}
        raw = answer.get("info")
        if isinstance(raw, str) and raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                info = parsed
        return images, info

    def interrupt(self) -> None:
        """Stop the generation running now (best effort: errors are ignored)."""
        with contextlib.suppress(ApiError):
            self.request("POST", "/sdapi/v1/interrupt", {}, timeout=5)

    def refresh_loras(self) -> bool:
        """Ask the WebUI to re-scan its LoRA folder (False when it has no such call, e.g. without the Lora
        extension)."""
        try:
            self.request("POST", "/sdapi/v1/refresh-loras", {})
        except ApiError:
            return False
        return True

    # -- plumbing ----------------------------------------------------------------------------------------

    def request(self, method: str, path: str, payload: Any = None, timeout: float | None = None) -> Any:
        """One call; the parsed JSON answer. :class:`UnreachableError` / :class:`ApiError` with one-line messages."""
        url = self.url + path
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self._auth:
            req.add_header("Authorization", self._auth)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout if timeout is None else timeout) as resp:
                body = resp.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise ApiError(self._http_error(url, exc)) from None
        except urllib.error.URLError as exc:
            raise UnreachableError(f"the WebUI API at {self.url} cannot be reached ({_reason(exc.reason)})") from None
        except TimeoutError:
            raise UnreachableError(f"the WebUI at {self.url} did not answer {path} in time") from None
        except (ConnectionError, OSError) as exc:
            raise UnreachableError(f"the WebUI API at {self.url} cannot be reached ({_reason(exc)})") from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise ApiError(f"{url} answered more than {MAX_RESPONSE_BYTES} bytes")
        try:
            return json.loads(body)
        except ValueError:
            raise ApiError(
                f"{url} did not answer JSON (is this a Stable Diffusion WebUI started with --api?)"
            ) from None

    def _http_error(self, url: str, exc: urllib.error.HTTPError) -> str:
        detail = ""
        try:
            body = exc.read(65536)
            parsed = json.loads(body)
            if isinstance(parsed, dict):
                for key in ("detail", "error", "errors", "message"):
                    if parsed.get(key):
                        detail = str(parsed[key])
                        break
        except (ValueError, OSError):
            pass
        detail = " ".join(detail.split())[:300]
        if exc.code == 404 and "/sdapi/v1/" in url:
            return f"{self.url} has no {url[len(self.url) :]} (start the WebUI with --api)"
        if exc.code in (401, 403):
            return f"{url} refused the request ({exc.code}): the WebUI needs --api-auth credentials (http://user:pass@host:port)"
        return f"{url} answered HTTP {exc.code}" + (f": {detail}" if detail else "")


def _b64(text: str, url: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(f"{url}/sdapi/v1/txt2img: an image is not valid base64") from None


def _reason(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    text = str(reason).strip()
    return text or type(reason).__name__
