"""Backend ``auto``: the best language model this machine already has, else the rules backend.

In order, the first that is there answers:

1. a server the user configured (``base_url``, else ``$SMOOTHIE_OPENAI_BASE_URL``): used as given, local or
   remote, since the user chose it;
2. an OpenAI-compatible server already running on this machine: Ollama (``127.0.0.1:11434``), LM Studio
   (``127.0.0.1:1234``), the llama.cpp server (``127.0.0.1:8080``). Each is probed once per process (once per
   WebUI start) with ``GET /v1/models`` and a short timeout; one that lists a chat model is used with it;
3. a local model the user configured (``local_model``, else ``$SMOOTHIE_TRANSFORMERS_MODEL``): a GGUF file, a
   folder or a Hugging Face id, through the ``transformers`` backend;
4. otherwise nothing: the engine's rules backend writes the ensemble.

Only loopback addresses are probed: nothing leaves the machine unless the user configured a remote
``base_url``. :meth:`AutoBackend.describe` says which one answers (the WebUI shows it); :func:`reprobe`
forgets the probe so the next request looks again (a server started after the WebUI).

Options: ``base_url``, ``model`` (the server's model name), ``api_key``, ``local_model``, ``probe_timeout``
(seconds per port, default 0.5), ``ports`` (what to probe, default the three above), and the options both
LLM backends share (``timeout``, ``rounds``, ``cache_dir``), passed to whichever answers, plus ``device``,
``threads`` for a local model.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from smoothie.prompt.backends import Backend, ParaphraseRequest, get_backend, register_backend
from smoothie.prompt.llm.deadline import Deadline
from smoothie.prompt.llm.errors import BackendUnavailable
from smoothie.prompt.llm.http import OpenAIClient
from smoothie.prompt.llm.options import positive_seconds

log = logging.getLogger(__name__)

#: (name, port) of the local servers probed, in order.
LOCAL_SERVERS: tuple[tuple[str, int], ...] = (("Ollama", 11434), ("LM Studio", 1234), ("llama.cpp server", 8080))
LOOPBACK = "127.0.0.1"
DEFAULT_PROBE_TIMEOUT = 0.5
ENV_BASE_URL = "SMOOTHIE_OPENAI_BASE_URL"
ENV_LOCAL_MODEL = "SMOOTHIE_TRANSFORMERS_MODEL"


@dataclass(frozen=True)
class Found:
    """A local server that answered the probe: its name, ``/v1`` URL and the chat models it lists."""

    name: str
    base_url: str
    models: tuple[str, ...]


_PROBED: dict[tuple[tuple[str, int], ...], Found | None] = {}
_PROBE_LOCK = threading.Lock()


def probe(servers: Sequence[tuple[str, int]] = LOCAL_SERVERS, timeout: float = DEFAULT_PROBE_TIMEOUT) -> Found | None:
    """The first local server of ``servers`` that lists a chat model, probed once per process."""
    from smoothie.prompt.backends.openai import chat_models

    key = tuple(servers)
    with _PROBE_LOCK:
        if key in _PROBED:
            return _PROBED[key]
        found = None
        for name, port in servers:
            base_url = f"http://{LOOPBACK}:{port}/v1"
            try:
                models = chat_models(OpenAIClient(base_url, max_attempts=1).list_models(Deadline(timeout)))
            except BackendUnavailable as exc:
                log.debug("no %s at %s: %s", name, base_url, exc)
                continue
            if models:
                found = Found(name, base_url, tuple(models))
                log.info("found %s at %s with %d chat model(s): %s", name, base_url, len(models), ", ".join(models))
                break
            log.info("%s at %s lists no chat model: not used", name, base_url)
        _PROBED[key] = found
        return found


def reprobe() -> None:
    """Forget every probe result: the next request probes the local servers again."""
    with _PROBE_LOCK:
        _PROBED.clear()


_SHARED = ("timeout", "rounds", "cache_dir")


class AutoBackend:
    """Delegates to the first language model found (see the module docstring); none found: rules answers."""

    name = "auto"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        local_model: str | os.PathLike[str] | None = None,
        probe_timeout: float = DEFAULT_PROBE_TIMEOUT,
        ports: Sequence[int] | None = None,
        timeout: float | None = None,
        rounds: int | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        device: str | None = None,
        threads: int | None = None,
    ) -> None:
        self.base_url = base_url or os.environ.get(ENV_BASE_URL) or None
        self.model = model or None
        self.api_key = api_key or None
        self.local_model = os.fspath(local_model) if local_model else (os.environ.get(ENV_LOCAL_MODEL) or None)
        self.probe_timeout = positive_seconds("probe_timeout", probe_timeout)
        if ports is None:
            self.servers = LOCAL_SERVERS
        else:
            known = {port: name for name, port in LOCAL_SERVERS}
            if not all(isinstance(p, int) and 0 < p < 65536 for p in ports):
                raise ValueError(f"ports must be TCP port numbers, got {ports!r}")
            self.servers = tuple((known.get(p, f"server on port {p}"), p) for p in ports)
        shared = {"timeout": timeout, "rounds": rounds, "cache_dir": cache_dir}
        self.shared = {k: v for k, v in shared.items() if v is not None}
        self.local_options = {k: v for k, v in {"device": device, "threads": threads}.items() if v is not None}
        self._lock = threading.Lock()
        self._chosen: Backend | None = None
        self._why = ""
        self._resolved = False

    def resolve(self) -> Backend | None:
        """The backend that answers (built once; a server is probed once per process), or None for rules."""
        with self._lock:
            if self._resolved:
                return self._chosen
            self._chosen, self._why = self._choose()
            self._resolved = True
            log.info("auto backend: %s", self._why)
            return self._chosen

    def _choose(self) -> tuple[Backend | None, str]:
        if self.base_url:
            options = {"base_url": self.base_url, **self.shared}
            if self.model:
                options["model"] = self.model
            if self.api_key:
                options["api_key"] = self.api_key
            return get_backend("openai", **options), f"the configured server {self.base_url}"
        found = probe(self.servers, self.probe_timeout)
        if found is not None:
            model = self.model or found.models[0]
            backend = get_backend("openai", base_url=found.base_url, model=model, **self.shared)
            return backend, f"{found.name} at {found.base_url} with {model}"
        if self.local_model:
            backend = get_backend("transformers", model=self.local_model, **self.shared, **self.local_options)
            return backend, f"the local model {self.local_model}"
        ports = ", ".join(f":{port}" for _, port in self.servers)
        return None, f"no local server answered on {LOOPBACK} {ports} and no local model is set: rules"

    def describe(self) -> str:
        """Which model answers, for the UI and the infotext (``rules: …`` when none)."""
        chosen = self.resolve()
        if chosen is None:
            return self._why
        describe = getattr(chosen, "describe", None)
        return str(describe()) if callable(describe) else chosen.name

    def paraphrase(self, request: ParaphraseRequest) -> list[str]:
        chosen = self.resolve()
        return [] if chosen is None else chosen.paraphrase(request)

    def close(self) -> None:
        """Nothing of its own: the backend it chose is built (and released) through the registry."""


register_backend("auto", AutoBackend)
