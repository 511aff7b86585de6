"""Backend ``auto`` (smoothie.prompt.backends.auto): the first language model the machine has, else rules.

The local servers are real OpenAI-compatible HTTP servers on loopback ports chosen by the OS (the ``ports``
option points the probe at them instead of Ollama's, LM Studio's and llama.cpp's).
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from smoothie.prompt import rewrite
from smoothie.prompt.backends import get_backend, release_backends
from smoothie.prompt.backends.auto import LOCAL_SERVERS, AutoBackend, probe, reprobe
from smoothie.prompt.backends.openai import OpenAIBackend
from smoothie.prompt.backends.transformers import TransformersBackend
from tests.unit.test_llm_openai import SLACK, LoopbackServer, Reply, chat_body

PROMPT = "a cat sitting on a red cushion, soft window light"
LINES = [
    "A cat resting on a red cushion in the soft light of a window",
    "Soft window light falls on a cat that sits on a red cushion",
    "On a red cushion, a cat sits bathed in gentle window light",
    "A cat perched on a red cushion, lit softly from a nearby window",
]


def models_body(*ids: str) -> str:
    return json.dumps({"object": "list", "data": [{"id": i, "object": "model"} for i in ids]})


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer()
    reprobe()
    release_backends()
    try:
        yield srv
    finally:
        srv.close()
        reprobe()
        release_backends()


def serving(*models: str) -> Any:
    def reply(path: str, body: dict[str, Any] | None) -> Reply:
        if path.endswith("/models"):
            return 200, models_body(*models), 0.0
        return 200, chat_body("\n".join(LINES)), 0.0

    return reply


def port_of(server: LoopbackServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1].split("/")[0])


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_local_server_that_lists_a_chat_model_answers(server: LoopbackServer) -> None:
    server.reply = serving("nomic-embed-text", "llama3.2:1b")
    options = {"ports": (closed_port(), port_of(server)), "timeout": 5.0, "rounds": 0}
    result = rewrite(PROMPT, n=8, backend="auto", backend_options=options)
    assert result.sources.count("model") == 4 and result.sources.count("rules") == 4
    assert result.model == f"openai llama3.2:1b at {server.base_url}"  # the embedding model was skipped
    assert result.backend == "auto"
    chosen = get_backend("auto", **options)
    assert isinstance(chosen, AutoBackend)
    assert isinstance(chosen.resolve(), OpenAIBackend)
    assert server.chats()[0]["model"] == "llama3.2:1b"


def test_servers_are_probed_once_per_process(server: LoopbackServer) -> None:
    server.reply = serving("qwen2.5:1.5b")
    ports = [port_of(server)]
    for timeout in (5.0, 6.0, 7.0):  # three differently configured auto backends
        AutoBackend(ports=ports, timeout=timeout).resolve()
    assert [path for _, path, _, _ in server.requests] == ["/v1/models"]
    reprobe()  # a server started after the WebUI: looked for again
    AutoBackend(ports=ports, timeout=8.0).resolve()
    assert [path for _, path, _, _ in server.requests] == ["/v1/models", "/v1/models"]


def test_nothing_found_means_rules_and_says_so() -> None:
    reprobe()
    port = closed_port()
    backend = AutoBackend(ports=[port])
    assert backend.resolve() is None
    assert backend.describe() == f"no local server answered on 127.0.0.1 :{port} and no local model is set: rules"
    result = rewrite(PROMPT, n=8, backend="auto", backend_options={"ports": (port,)})
    assert set(result.sources) == {"rules"} and result.model == "" and result.warnings == ()


def test_a_server_with_only_embedding_models_is_not_used(server: LoopbackServer) -> None:
    server.reply = serving("nomic-embed-text:latest", "bge-m3")
    assert AutoBackend(ports=[port_of(server)]).resolve() is None
    assert server.chats() == []


def test_a_hanging_server_costs_at_most_the_probe_timeout(server: LoopbackServer) -> None:
    server.reply = lambda path, body: (200, models_body("m"), 30.0)
    start = time.monotonic()
    assert AutoBackend(ports=[port_of(server)], probe_timeout=0.3).resolve() is None
    assert time.monotonic() - start < 0.3 + SLACK


def test_a_configured_server_is_used_as_given_without_probing(server: LoopbackServer) -> None:
    server.reply = serving("big-model")
    backend = AutoBackend(base_url=server.base_url, model="big-model", ports=[closed_port()], timeout=5.0, rounds=0)
    assert isinstance(backend.resolve(), OpenAIBackend)
    assert backend.describe() == f"openai big-model at {server.base_url}"
    assert backend.paraphrase(rewrite_request()) == LINES
    assert [path for _, path, _, _ in server.requests] == ["/v1/chat/completions"]


def test_a_configured_local_model_answers_when_no_server_does(monkeypatch: pytest.MonkeyPatch) -> None:
    reprobe()
    monkeypatch.delenv("SMOOTHIE_OPENAI_BASE_URL", raising=False)
    backend = AutoBackend(ports=[closed_port()], local_model="HuggingFaceTB/SmolLM2-360M-Instruct", threads=1)
    chosen = backend.resolve()
    assert isinstance(chosen, TransformersBackend)
    assert chosen.threads == 1 and not chosen.loaded  # nothing loads before the first request
    assert backend.describe() == "transformers HuggingFaceTB/SmolLM2-360M-Instruct"
    monkeypatch.setenv("SMOOTHIE_TRANSFORMERS_MODEL", "org/from-the-environment")
    assert AutoBackend(ports=[closed_port()]).describe() == "transformers org/from-the-environment"


def test_only_loopback_is_probed_by_default() -> None:
    assert [port for _, port in LOCAL_SERVERS] == [11434, 1234, 8080]
    found = probe([("nothing", closed_port())], timeout=0.2)
    assert found is None
    with pytest.raises(ValueError, match="ports must be TCP port numbers"):
        AutoBackend(ports=[0])


def rewrite_request() -> Any:
    from smoothie.prompt.request import ParaphraseRequest

    return ParaphraseRequest(text="a cat sitting on a red cushion, soft window light", n=4)
