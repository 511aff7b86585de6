"""Backend ``openai``: any OpenAI-compatible chat-completions server (Ollama, LM Studio, llama.cpp, vLLM, …).

Options (keyword arguments of :func:`create_backend`, ``backend_options`` of the engine):

``base_url``
    The server's ``/v1`` URL. Default ``$SMOOTHIE_OPENAI_BASE_URL``, else Ollama's
    ``http://127.0.0.1:11434/v1``. LM Studio serves ``http://127.0.0.1:1234/v1``, the llama.cpp server
    ``http://127.0.0.1:8080/v1``, vLLM ``http://127.0.0.1:8000/v1``.
``model``
    The model name the server knows. Default ``$SMOOTHIE_OPENAI_MODEL``, else the first model the server
    lists under ``/v1/models``.
``api_key`` / ``api_key_env``
    The bearer token, or the name of the environment variable holding it. Default: ``$SMOOTHIE_OPENAI_API_KEY``,
    else ``$OPENAI_API_KEY``, else none (local servers need none).
``timeout``
    Seconds for the whole request: connecting, reading, retries and every smoothing round (default 60).
``rounds``
    Recursive smoothing rounds after the first answer (default 1; 0 turns smoothing off).
``temperature``
    Sampling temperature (default 0.9).
``max_tokens``
    Upper bound on the tokens of one answer (default 4096).
``cache_dir``
    Where to keep answers on disk as JSON (default ``$SMOOTHIE_LLM_CACHE_DIR``, else memory only).
``per_call``
    Descriptions asked in one answer (default 32: an ensemble of 32 is one call).
``examples``
    Earlier rewrites shown in each request (default 6): the rules backend's validated paraphrases first,
    then, in each smoothing round, the best round's accepted ones.
``show_original``
    Show the user's original prompt as context (default true; the instructions forbid copying its names).

Import is cheap: the standard library only, no network until the first paraphrase.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from smoothie.prompt.backends import ParaphraseRequest, register_backend, seed_examples
from smoothie.prompt.llm.cache import ResultCache, cache_key
from smoothie.prompt.llm.deadline import Deadline
from smoothie.prompt.llm.errors import BackendUnavailable
from smoothie.prompt.llm.http import Completion, OpenAIClient
from smoothie.prompt.llm.instructions import Message
from smoothie.prompt.llm.options import cache_dir_value, float_in, int_in, positive_seconds, rounds_value
from smoothie.prompt.llm.pipeline import PipelineSettings, run_paraphrase
from smoothie.prompt.llm.stats import Stats

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://127.0.0.1:11434/v1"
DEFAULT_TIMEOUT = 60.0
ENV_BASE_URL = "SMOOTHIE_OPENAI_BASE_URL"
ENV_MODEL = "SMOOTHIE_OPENAI_MODEL"
ENV_API_KEYS = ("SMOOTHIE_OPENAI_API_KEY", "OPENAI_API_KEY")
MODEL_LIST_SECONDS = 10.0


_NOT_CHAT = ("embed", "rerank", "whisper", "tts", "bge-", "minilm")


def chat_models(models: Sequence[str]) -> list[str]:
    """The ids of ``models`` that can chat: embedding, reranking and speech models (which Ollama and LM Studio
    list beside the chat models) left out."""
    return [m for m in models if not any(word in m.lower() for word in _NOT_CHAT)]


def resolve_api_key(api_key: str | None, api_key_env: str | None) -> str | None:
    """``api_key`` itself, else the variable named by ``api_key_env``, else the default variables."""
    if api_key:
        return api_key
    if api_key_env is not None:
        if not isinstance(api_key_env, str) or not api_key_env.strip():
            raise ValueError(f"api_key_env must name an environment variable, got {api_key_env!r}")
        value = os.environ.get(api_key_env.strip())
        if not value:
            log.warning("api_key_env names %s, which is not set: sending no API key", api_key_env)
        return value or None
    return next((os.environ[v] for v in ENV_API_KEYS if os.environ.get(v)), None)


class _ServerChat:
    """:class:`~smoothie.prompt.llm.pipeline.ChatModel` over one server and model."""

    def __init__(self, client: OpenAIClient, model: str, temperature: float) -> None:
        self.client = client
        self.model = model
        self.temperature = temperature
        self.label = f"model {model!r} at {client.base_url}"

    def complete(
        self,
        conversations: Sequence[list[Message]],
        deadline: Deadline,
        *,
        seed: int,
        max_tokens: int,
        one_line: bool = False,
    ) -> list[Completion]:
        out: list[Completion] = []
        for index, messages in enumerate(conversations):
            payload: dict[str, Any] = {
                "model": self.model,
                "messages": list(messages),
                "temperature": self.temperature,
                "top_p": 0.95,
                "max_tokens": max_tokens,
                "seed": seed + index,
                "stream": False,
            }
            if one_line:
                payload["stop"] = ["\n"]
            try:
                out.append(self.client.chat(payload, deadline))
            except BackendUnavailable as exc:
                if not out:
                    raise
                log.warning(
                    "%s: call %d of %d failed, keeping the others: %s", self.label, index + 1, len(conversations), exc
                )
                out.extend(Completion("", "error") for _ in range(len(conversations) - len(out)))
                break
        return out


class OpenAIBackend:
    """Paraphrases from an OpenAI-compatible chat-completions server (see the module docstring for options)."""

    name = "openai"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        api_key_env: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        rounds: int = 1,
        temperature: float = 0.9,
        max_tokens: int = 4096,
        cache_dir: str | os.PathLike[str] | None = None,
        per_call: int = 32,
        examples: int = 6,
        show_original: bool = True,
    ) -> None:
        base_url = base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
        if not isinstance(base_url, str):
            raise ValueError(f"base_url must be a URL string, got {base_url!r}")
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise ValueError(f"model must be a non-empty model name, got {model!r}")
        self.client = OpenAIClient(base_url, resolve_api_key(api_key, api_key_env))
        self.model = model or os.environ.get(ENV_MODEL) or None
        self.timeout = positive_seconds("timeout", timeout)
        self.rounds = rounds_value(rounds)
        self.temperature = float_in("temperature", temperature, 0.0, 2.0)
        self.settings = PipelineSettings(
            rounds=self.rounds,
            per_call=int_in("per_call", per_call, 1, 256),
            max_tokens=int_in("max_tokens", max_tokens, 64, 131072),
            examples=int_in("examples", examples, 0, 32),
            show_original=bool(show_original),
        )
        self.cache = ResultCache(cache_dir_value(cache_dir))
        self.stats = Stats()
        self._resolved: str | None = self.model
        self._lock = threading.Lock()

    def _model_name(self, deadline: Deadline) -> str:
        with self._lock:
            if self._resolved:
                return self._resolved
        listing = Deadline(min(MODEL_LIST_SECONDS, max(0.01, deadline.remaining())))
        models = chat_models(self.client.list_models(listing))
        if not models:
            raise BackendUnavailable(
                f"{self.client.base_url} lists no chat models: pull or load one, or name it with the model option"
            )
        log.info("no model named: using %r, the first chat model %s lists", models[0], self.client.base_url)
        with self._lock:
            self._resolved = models[0]
        return models[0]

    def paraphrase(self, request: ParaphraseRequest) -> list[str]:
        key = cache_key(
            request,
            self.name,
            self.model or "(first listed)",
            self.rounds,
            base_url=self.client.base_url,
            temperature=self.temperature,
            per_call=self.settings.per_call,
            examples=self.settings.examples,
            show_original=self.settings.show_original,
        )

        def run() -> list[str]:
            start = time.monotonic()
            examples = seed_examples(request)  # local work (the rules backend): outside the server's timeout
            deadline = Deadline(self.timeout)
            chat = _ServerChat(self.client, self._model_name(deadline), self.temperature)
            harvest = run_paraphrase(chat, request, self.settings, deadline, examples)
            self.stats.add(harvest, time.monotonic() - start)
            return harvest.lines

        return self.cache.cached(key, run, self.name)

    def describe(self) -> str:
        """What answered, for the infotext and the UI: ``openai llama3.2:1b at http://127.0.0.1:11434/v1``."""
        with self._lock:
            model = self._resolved or self.model or "(first listed)"
        return f"openai {model} at {self.client.base_url}"

    def close(self) -> None:
        """Nothing to free: the server keeps its model. Present for symmetry with ``transformers``."""


def create_backend(**options: Any) -> OpenAIBackend:
    return OpenAIBackend(**options)


register_backend("openai", OpenAIBackend)  # the class itself: its signature lists the options
