"""A small OpenAI-compatible chat-completions client with a hard total deadline (standard library only).

``urllib``'s ``timeout`` bounds each socket operation, not the request: a server that trickles bytes, or
accepts the connection and never answers, could hold a caller far longer. Here every request runs under a
:class:`~smoothie.prompt.llm.deadline.Deadline`: the socket timeout is the time left, and a watchdog timer
shuts the socket down when the deadline passes, which wakes any blocked read. Retries (for 429/502/503/504
and dropped connections) happen only while time is left. Every failure is a
:class:`~smoothie.prompt.llm.errors.BackendUnavailable` that names the URL and what happened.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from smoothie.prompt.llm.deadline import Deadline
from smoothie.prompt.llm.errors import BackendUnavailable

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 8 * 1024 * 1024
RETRY_STATUS = frozenset({429, 502, 503, 504})
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Completion:
    """One chat completion: the assistant's text and why it stopped (``length`` means it was cut off)."""

    text: str
    finish_reason: str | None


def snippet(data: bytes | str, limit: int = 200) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


class _AbortedError(Exception):
    pass


class OpenAIClient:
    """Talks to ``base_url`` (such as ``http://127.0.0.1:11434/v1``): ``GET /models``, ``POST /chat/completions``."""

    def __init__(self, base_url: str, api_key: str | None = None, max_attempts: int = 2) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"base_url must be an http:// or https:// URL such as http://127.0.0.1:11434/v1, got {base_url!r}"
            )
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts!r}")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key or None
        self.max_attempts = max_attempts
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._prefix = parts.path.rstrip("/")

    # -- public API ---------------------------------------------------------------------------------------
    def list_models(self, deadline: Deadline) -> list[str]:
        """The ids the server lists under ``/models`` (Ollama, LM Studio, llama.cpp and vLLM all answer it)."""
        data = self._request_json("GET", "/models", None, deadline)
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise BackendUnavailable(
                f"{self.base_url}/models answered without a 'data' list: {snippet(json.dumps(data))}"
            )
        return [str(m["id"]) for m in items if isinstance(m, dict) and m.get("id")]

    def chat(self, payload: Mapping[str, Any], deadline: Deadline) -> Completion:
        """POST ``payload`` to ``/chat/completions`` and return the first choice's message."""
        data = self._request_json("POST", "/chat/completions", payload, deadline)
        try:
            choice = data["choices"][0]
            message = choice.get("message") or {}
            content = message.get("content")
            if content is None and isinstance(choice.get("text"), str):  # servers that answer in the completions shape
                content = choice["text"]
        except (KeyError, IndexError, TypeError, AttributeError):
            raise BackendUnavailable(
                f"{self.base_url}/chat/completions answered without choices[0].message: {snippet(json.dumps(data))}"
            ) from None
        if not isinstance(content, str):
            raise BackendUnavailable(
                f"{self.base_url}/chat/completions answered a non-text message: {snippet(json.dumps(data))}"
            )
        reason = choice.get("finish_reason")
        return Completion(content, reason if isinstance(reason, str) else None)

    # -- transport ----------------------------------------------------------------------------------------
    def _request_json(self, method: str, path: str, payload: Mapping[str, Any] | None, deadline: Deadline) -> Any:
        url = self.base_url + path
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        headers = {"Accept": "application/json", "User-Agent": "sd-webui-smoothie"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last: BackendUnavailable | None = None
        for attempt in range(1, self.max_attempts + 1):
            if deadline.expired:
                break
            try:
                status, raw = self._send(method, self._prefix + path, body, headers, deadline)
            except _RetryableError as exc:
                last = BackendUnavailable(f"{url}: {exc}")
                log.info("attempt %d of %s %s failed (%s)", attempt, method, url, exc)
                self._pause(deadline)
                continue
            if status in RETRY_STATUS and attempt < self.max_attempts:
                last = BackendUnavailable(f"{url} answered HTTP {status}: {snippet(raw)}")
                log.info("attempt %d of %s %s: HTTP %d, retrying", attempt, method, url, status)
                self._pause(deadline)
                continue
            if status != 200:
                hint = " (check the API key)" if status in (401, 403) else ""
                hint = hint or (" (check the model name and base_url)" if status == 404 else "")
                raise BackendUnavailable(f"{url} answered HTTP {status}{hint}: {snippet(raw)}")
            try:
                return json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise BackendUnavailable(f"{url} answered something that is not JSON: {snippet(raw)!r}") from None
        if last is not None and not deadline.expired:
            raise last
        raise BackendUnavailable(
            f"{url} did not answer within the {deadline.seconds:g} s timeout" + (f" ({last})" if last else "")
        )

    @staticmethod
    def _pause(deadline: Deadline) -> None:
        time.sleep(min(0.25, deadline.remaining() / 4))

    def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str], deadline: Deadline
    ) -> tuple[int, bytes]:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise BackendUnavailable(f"{self.base_url} did not answer within the {deadline.seconds:g} s timeout")
        conn: http.client.HTTPConnection
        if self._scheme == "https":
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=remaining, context=ssl.create_default_context()
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=remaining)
        aborted = threading.Event()

        def abort() -> None:
            aborted.set()
            sock = conn.sock
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        watchdog = threading.Timer(remaining, abort)
        watchdog.daemon = True
        watchdog.start()
        try:
            conn.connect()
            if aborted.is_set():
                raise _AbortedError
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            chunks: list[bytes] = []
            size = 0
            while True:
                if aborted.is_set():
                    raise _AbortedError
                if conn.sock is not None:
                    conn.sock.settimeout(max(0.01, deadline.remaining()))
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise BackendUnavailable(
                        f"{self._url(path)} answered more than {MAX_RESPONSE_BYTES} bytes; giving up"
                    )
            if aborted.is_set():
                raise _AbortedError
            return response.status, b"".join(chunks)
        except BackendUnavailable:
            raise
        except ConnectionRefusedError:
            if aborted.is_set():
                raise self._timeout_error() from None
            raise BackendUnavailable(
                f"cannot connect to {self.base_url}: connection refused (is the server running and listening there?)"
            ) from None
        except (_AbortedError, TimeoutError):
            raise self._timeout_error(deadline) from None
        except (ConnectionResetError, http.client.RemoteDisconnected, http.client.IncompleteRead) as exc:
            if aborted.is_set() or deadline.expired:
                raise self._timeout_error(deadline) from None
            raise _RetryableError(f"connection dropped ({type(exc).__name__})") from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if aborted.is_set() or deadline.expired:
                raise self._timeout_error(deadline) from None
            raise BackendUnavailable(f"cannot reach {self.base_url}: {type(exc).__name__}: {exc}") from None
        finally:
            watchdog.cancel()
            conn.close()

    def _url(self, path: str) -> str:
        """The full URL of a request path that already carries the base URL's own path (``/v1/models``)."""
        default = 443 if self._scheme == "https" else 80
        port = "" if self._port == default else f":{self._port}"
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{self._scheme}://{host}{port}{path}"

    def _timeout_error(self, deadline: Deadline | None = None) -> BackendUnavailable:
        limit = f"the {deadline.seconds:g} s timeout" if deadline is not None else "the timeout"
        return BackendUnavailable(f"{self.base_url} did not answer within {limit}")


class _RetryableError(Exception):
    """A transient transport failure worth another attempt while time is left."""
