"""The LLM backends through the prompt engine (``smoothie.prompt.rewrite``) against a loopback server.

What a user sees: the server's paraphrases are used with the WebUI syntax restored, a name the model leaks is
removed, and an HTTP 500, a garbage answer or a hanging server each still give N paraphrases, within the
timeout, with a warning.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from smoothie.prompt import rewrite
from tests.unit.test_llm_openai import SLACK, LoopbackServer, Reply, chat_body

FRAMES = ["Picture", "Imagine", "A photo of", "Envision", "A candid shot of", "Look at", "Behold", "A scene with"]


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer()
    try:
        yield srv
    finally:
        srv.close()


def image_description(body: dict[str, Any] | None) -> str:
    assert body is not None
    user = body["messages"][-1]["content"]
    match = re.search(r"Image prompt: (.*)", user)
    assert match, user
    return match.group(1)


def options(server: LoopbackServer, **extra: Any) -> dict[str, Any]:
    return {"base_url": server.base_url, "model": "test-model", "timeout": 5.0, "rounds": 0, **extra}


def test_server_paraphrases_are_used_with_syntax_restored(server: LoopbackServer) -> None:
    subjects = ["a cat sitting on a red cushion", "a red cushion with a cat on it", "a cat resting on a red pillow"]
    sent: list[str] = []

    def reply(path: str, body: dict[str, Any] | None) -> Reply:
        placeholders = re.findall(r"\[\[\d+\]\]", image_description(body))
        lines = [
            f"{frame} {subject}, {' '.join(placeholders)}"
            for frame, subject in itertools.islice(itertools.product(FRAMES, subjects), 24)
        ]
        sent.extend(lines)
        return 200, chat_body("\n".join(lines)), 0.0

    server.reply = reply
    prompt = "(best quality:1.3), a cat sitting on a red cushion, <lora:eva_style:0.6>"
    result = rewrite(prompt, n=16, backend="openai", backend_options=options(server))
    assert result.warnings == ()
    assert len(set(result.paraphrases)) == 16
    assert result.sources == ("model",) * 16
    assert result.model == f"openai test-model at {server.base_url}"
    assert result.to_json()["sources"] == ["model"] * 16
    for p in result.paraphrases:
        assert "(best quality:1.3)" in p
        assert "<lora:eva_style:0.6>" in p
        assert "cat" in p
    # Every paraphrase is one of the server's lines with the syntax put back.
    restored = {line.replace("[[0]]", "(best quality:1.3)").replace("[[1]]", "<lora:eva_style:0.6>") for line in sent}
    assert len(server.chats()) == 1
    assert set(result.paraphrases) <= {" ".join(r.split()) for r in restored} | restored


def test_a_leaked_name_is_removed(server: LoopbackServer) -> None:
    def reply(path: str, body: dict[str, Any] | None) -> Reply:  # the model copies the name from the context
        lines = [f"{frame} Tom Hanks drinking coffee in a diner, 1970s photo" for frame in FRAMES]
        lines += [f"{frame} {image_description(body)}, who looks like Tom Hanks" for frame in FRAMES]
        return 200, chat_body("\n".join(lines)), 0.0

    server.reply = reply
    result = rewrite(
        "Tom Hanks drinking coffee in a diner, 1970s photo", n=32, backend="openai", backend_options=options(server)
    )
    assert len(set(result.paraphrases)) == 32
    assert not any(re.search(r"\b(tom|hanks)\b", p, re.IGNORECASE) for p in result.paraphrases)
    assert len(server.chats()) == 1
    # The model's framings survived the re-genericising: its answer was used, not thrown away; a line that
    # became "… who looks like <the same description>" says the description twice and is rejected.
    assert sum(p.startswith(tuple(FRAMES)) for p in result.paraphrases) >= 4
    assert result.rejected.get("repeat", 0) >= 4
    body = server.chats()[0]
    assert "Hanks" not in image_description(body)  # the engine sent the generic prompt


@pytest.mark.parametrize(
    ("reply", "timeout", "warning"),
    [
        ((500, '{"error": "boom"}', 0.0), 5.0, "HTTP 500"),
        ((200, "<html>bad gateway</html>", 0.0), 5.0, "not JSON"),
        ((200, chat_body("%%%% #### !!\n}{}{"), 0.0), 5.0, "no usable description"),
        ((200, chat_body("I'm sorry, I can't help with that."), 0.0), 5.0, "refused"),
        ((200, chat_body("a cat"), 30.0), 1.0, "did not answer within"),
    ],
    ids=["http-500", "not-json", "garbage", "refusal", "hang"],
)
def test_failures_fall_back_to_rules_within_the_timeout(
    server: LoopbackServer, reply: Reply, timeout: float, warning: str
) -> None:
    server.reply = lambda path, body: reply
    start = time.monotonic()
    result = rewrite(
        "a woman laughing in a sunflower field, golden hour",
        n=32,
        seed=int(time.time_ns() % 1000),
        backend="openai",
        backend_options=options(server, timeout=timeout),
    )
    elapsed = time.monotonic() - start
    assert len(set(result.paraphrases)) == 32
    assert any(warning in w and "used the rules backend" in w for w in result.warnings), result.warnings
    assert set(result.sources) == {"rules"} and result.model == ""
    assert elapsed < timeout + SLACK + 1.0  # + the rules backend's own time


def test_connection_refused_falls_back_fast() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    result = rewrite(
        "a lighthouse in a storm, oil on canvas",
        n=32,
        backend="openai",
        backend_options={"base_url": f"http://127.0.0.1:{port}/v1", "model": "m", "timeout": 10.0},
    )
    assert len(set(result.paraphrases)) == 32
    assert any("connection refused" in w for w in result.warnings)
    assert time.monotonic() - start < 3.0


def test_json_request_body_is_valid_openai_chat(server: LoopbackServer) -> None:
    server.reply = lambda path, body: (200, chat_body("a lighthouse battered by a storm, oil on canvas"), 0.0)
    rewrite("a lighthouse in a storm, oil on canvas", n=4, backend="openai", backend_options=options(server))
    (body,) = server.chats()
    json.dumps(body)
    assert set(body) >= {"model", "messages", "temperature", "max_tokens"}
    assert all(set(m) == {"role", "content"} for m in body["messages"])


def test_backends_are_registered_and_built_from_options(server: LoopbackServer) -> None:
    from smoothie.prompt.backends import available_backends, get_backend
    from smoothie.prompt.backends.openai import OpenAIBackend
    from smoothie.prompt.backends.transformers import TransformersBackend

    assert {"openai", "transformers"} <= set(available_backends())
    built = get_backend("openai", base_url=server.base_url, model="m", timeout=3.0)
    assert isinstance(built, OpenAIBackend)
    assert built is get_backend("openai", base_url=server.base_url, model="m", timeout=3.0)  # built once
    local = get_backend("transformers", model="/nowhere/model")
    assert isinstance(local, TransformersBackend)
    assert not local.loaded  # building loads nothing: the model loads on the first request


def test_importing_the_backends_is_cheap() -> None:
    import subprocess
    import sys

    code = (
        "import sys, smoothie.prompt.backends.openai, smoothie.prompt.backends.transformers;"
        "print(sorted(m for m in ('torch', 'transformers', 'spacy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_the_source_summary_says_where_the_paraphrases_came_from() -> None:
    from smoothie.prompt.engine import Rewrite

    mixed = Rewrite("p", "p", (), ("a",) * 32, "auto", sources=("model",) * 21 + ("rules",) * 11, model="openai m")
    assert mixed.source_summary() == "21 from the model (openai m), 11 from the rules fallback"
    rules = Rewrite("p", "p", (), ("a",) * 32, "rules", sources=("rules",) * 32)
    assert rules.source_summary() == "32 from the rules backend"
    assert Rewrite("p", "p", (), ("p",) * 2, "rules", sources=("original",) * 2).source_summary() == (
        "2 repeating the prompt"
    )
    assert mixed.to_json()["model"] == "openai m" and mixed.to_json()["sources"][0] == "model"


def test_the_validator_reaches_the_backend_through_the_request(server: LoopbackServer) -> None:
    seen: list[Any] = []

    def reply(path: str, body: dict[str, Any] | None) -> Reply:
        seen.append(body)
        return 200, chat_body("a young woman sleeping on a red cushion\na woman dozing on a blue cushion"), 0.0

    server.reply = reply
    result = rewrite("a woman sleeping on a red cushion", n=4, backend="openai", backend_options=options(server))
    assert result.rejected.get("age", 0) >= 1  # "young": the engine's validator, counted per reason
    assert not any("young" in p for p in result.paraphrases)
    assert set(result.sources) == {"rules"}  # the blue one never reached it: the parser drops a lost colour
    shown = seen[0]["messages"][-1]["content"].split("Rewrites so far:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert shown and all("red" in line for line in shown)  # rules paraphrases that passed it
