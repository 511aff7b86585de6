"""The ``openai`` backend against a real OpenAI-compatible server on loopback (http.server in a thread).

Every server here listens on 127.0.0.1, port 0; a handler that "hangs" waits on an event that teardown sets,
so no test outlives its fixture.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from smoothie.prompt.backends import ParaphraseRequest
from smoothie.prompt.backends.openai import OpenAIBackend, create_backend, resolve_api_key
from smoothie.prompt.llm.cache import SHARED_MEMORY
from smoothie.prompt.llm.deadline import Deadline
from smoothie.prompt.llm.errors import BackendUnavailable
from smoothie.prompt.llm.http import MAX_RESPONSE_BYTES, OpenAIClient

SLACK = 1.0  # seconds a failing request may take beyond its timeout (thread scheduling on a busy CI machine)

REQUEST = ParaphraseRequest(
    text="a cat whose fur looks like a strawberry, [[0]], sitting on a red cushion",
    n=4,
    seed=7,
    placeholders=("[[0]]",),
    original="a cat whose fur looks like a strawberry, (masterpiece:1.2), sitting on a red cushion",
)
GOOD_LINES = [
    "Picture a cat with a coat like strawberry skin, [[0]], resting on a red cushion",
    "A feline whose fur copies a ripe strawberry sits on a red cushion, [[0]]",
    "On a red cushion sits a cat, [[0]], its fur patterned like a strawberry",
    "Close view of a strawberry-furred cat, [[0]], on a red cushion",
]

Reply = tuple[int, bytes | str, float]  # status, body, seconds to wait before answering


def chat_body(content: str, finish_reason: str = "stop") -> str:
    return json.dumps(
        {
            "id": "x",
            "object": "chat.completion",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}
            ],
        }
    )


class LoopbackServer:
    """An OpenAI-compatible server whose answers the test scripts: ``reply(path, json_body) -> Reply``."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any] | None, dict[str, str]]] = []
        self.reply: Callable[[str, dict[str, Any] | None], Reply] = lambda path, body: (200, chat_body(""), 0.0)
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                server.requests.append((method, self.path, body, dict(self.headers)))
                status, payload, delay = server.reply(self.path, body)
                if delay:
                    server.release.wait(delay)
                data = payload.encode() if isinstance(payload, str) else payload
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout): expected

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def chats(self) -> list[dict[str, Any]]:
        return [body for method, path, body, _ in self.requests if path.endswith("/chat/completions") and body]

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer()
    SHARED_MEMORY.clear()
    try:
        yield srv
    finally:
        srv.close()
        SHARED_MEMORY.clear()


def backend(server: LoopbackServer, **options: Any) -> OpenAIBackend:
    opts: dict[str, Any] = {"base_url": server.base_url, "model": "test-model", "timeout": 5.0, "rounds": 0}
    opts.update(options)
    return OpenAIBackend(**opts)


def answer_with(*contents: str) -> Callable[[str, dict[str, Any] | None], Reply]:
    """Answer successive chat calls with ``contents`` (the last one repeats)."""
    calls = iter(range(10_000))

    def reply(path: str, body: dict[str, Any] | None) -> Reply:
        i = next(calls)
        return 200, chat_body(contents[min(i, len(contents) - 1)]), 0.0

    return reply


# -- answers that are used ------------------------------------------------------------------------------


def test_good_answer_is_parsed_and_the_request_carries_the_instruction_set(server: LoopbackServer) -> None:
    server.reply = answer_with(
        "Here are 4 descriptions:\n\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(GOOD_LINES, 1))
    )
    out = backend(server, temperature=0.7).paraphrase(REQUEST)
    assert out == GOOD_LINES
    (body,) = server.chats()
    assert body["model"] == "test-model"
    assert body["temperature"] == 0.7
    assert body["seed"] == 7
    assert body["stream"] is False
    assert "stop" not in body  # 4 lines in one answer: no stop at the first line break
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    system, user = body["messages"]
    assert "Never write the name of a person" in system["content"]
    assert "one new description a line" in system["content"]
    assert "[[0]]" in user["content"]
    assert REQUEST.text in user["content"]
    assert "Keep exactly: red" in user["content"]
    assert REQUEST.original in user["content"]  # context for the model, with the instruction not to copy names
    assert "Write 4 new rewrites of the image prompt, one per line, different from these." in user["content"]
    shown = user["content"].split("Rewrites so far:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert 1 <= len(shown) <= 6  # the rules backend's paraphrases as examples
    assert all("[[0]]" in line and "red" in line for line in shown)


def test_one_line_calls_ask_the_server_to_stop_at_the_line_break(server: LoopbackServer) -> None:
    server.reply = answer_with(GOOD_LINES[0])
    backend(server, per_call=1).paraphrase(REQUEST)
    bodies = server.chats()
    assert len(bodies) == REQUEST.n
    assert all(body["stop"] == ["\n"] for body in bodies)
    assert [body["seed"] for body in bodies] == [REQUEST.seed + i for i in range(REQUEST.n)]


def test_a_leaked_name_is_returned_for_the_engine_to_remove(server: LoopbackServer) -> None:
    leaky = "Brad Pitt as a cat with strawberry fur on a red cushion, [[0]]"
    server.reply = answer_with("\n".join([leaky, *GOOD_LINES[:2]]))
    out = backend(server).paraphrase(REQUEST)
    assert out[0] == leaky  # parsing keeps it; the engine genericises names again (tested end to end below)
    assert out[1:] == GOOD_LINES[:2]


def test_no_model_named_uses_the_first_the_server_lists(server: LoopbackServer) -> None:
    def reply(path: str, body: dict[str, Any] | None) -> Reply:
        if path.endswith("/models"):
            return 200, json.dumps({"object": "list", "data": [{"id": "llama3.2:1b"}, {"id": "other"}]}), 0.0
        return 200, chat_body("\n".join(GOOD_LINES)), 0.0

    server.reply = reply
    out = backend(server, model=None).paraphrase(REQUEST)
    assert out == GOOD_LINES
    assert [path for _, path, _, _ in server.requests] == ["/v1/models", "/v1/chat/completions"]
    assert server.chats()[0]["model"] == "llama3.2:1b"


def test_api_key_is_sent_from_the_named_environment_variable(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_LLM_KEY", "sk-test-123")
    server.reply = answer_with("\n".join(GOOD_LINES))
    backend(server, api_key_env="MY_LLM_KEY").paraphrase(REQUEST)
    headers = server.requests[0][3]
    assert headers.get("Authorization") == "Bearer sk-test-123"


def test_api_key_resolution_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMOOTHIE_OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert resolve_api_key(None, None) is None
    monkeypatch.setenv("OPENAI_API_KEY", "b")
    assert resolve_api_key(None, None) == "b"
    monkeypatch.setenv("SMOOTHIE_OPENAI_API_KEY", "a")
    assert resolve_api_key(None, None) == "a"
    assert resolve_api_key("given", None) == "given"
    assert resolve_api_key(None, "UNSET_VARIABLE_FOR_TEST") is None
    with pytest.raises(ValueError, match="api_key_env"):
        resolve_api_key(None, " ")


def test_answer_cut_off_by_the_token_limit_drops_its_last_line(server: LoopbackServer) -> None:
    def reply(path: str, body: dict[str, Any] | None) -> Reply:
        return 200, chat_body("\n".join([*GOOD_LINES[:3], "Close view of a strawberry-furred"]), "length"), 0.0

    server.reply = reply
    assert backend(server).paraphrase(REQUEST) == GOOD_LINES[:3]


def test_a_503_is_retried_once(server: LoopbackServer) -> None:
    calls: list[int] = []

    def reply(path: str, body: dict[str, Any] | None) -> Reply:
        calls.append(1)
        if len(calls) == 1:
            return 503, '{"error": "loading model"}', 0.0
        return 200, chat_body("\n".join(GOOD_LINES)), 0.0

    server.reply = reply
    assert backend(server).paraphrase(REQUEST) == GOOD_LINES
    assert len(calls) == 2


# -- recursive smoothing ----------------------------------------------------------------------------------

SMOOTHED = [
    "A cat in strawberry-red fur, seeds and all, [[0]], lounges on a red cushion",
    "Strawberry-patterned fur covers the cat dozing on the red cushion, [[0]]",
    "There is a cat on a red cushion, [[0]]; its coat is the dimpled skin of a strawberry",
    "Red cushion, sleepy cat, fur like a strawberry's surface, [[0]]",
]


def test_a_smoothing_round_shows_the_first_answer_as_examples(server: LoopbackServer) -> None:
    server.reply = answer_with("\n".join(GOOD_LINES), "\n".join(SMOOTHED))
    out = backend(server, rounds=1, examples=4).paraphrase(REQUEST)
    assert out == SMOOTHED + GOOD_LINES  # the latest round first
    first, second = server.chats()
    assert "Rewrites so far:\n" + "\n".join(GOOD_LINES) in second["messages"][-1]["content"]
    assert second["seed"] != first["seed"]


def test_two_rounds_make_three_calls_and_a_copied_line_is_not_new(server: LoopbackServer) -> None:
    server.reply = answer_with("\n".join(GOOD_LINES), "\n".join(SMOOTHED), "\n".join(GOOD_LINES[::-1]))
    out = backend(server, rounds=2).paraphrase(REQUEST)
    assert len(server.chats()) == 3
    assert out == SMOOTHED + GOOD_LINES  # round 2 only repeated round 0


def test_a_failed_smoothing_round_keeps_the_first_answer(server: LoopbackServer) -> None:
    calls: list[int] = []

    def reply(path: str, body: dict[str, Any] | None) -> Reply:
        calls.append(1)
        if len(calls) == 1:
            return 200, chat_body("\n".join(GOOD_LINES)), 0.0
        return 500, "internal error", 0.0

    server.reply = reply
    assert backend(server, rounds=1).paraphrase(REQUEST) == GOOD_LINES


def test_a_smoothing_round_that_hangs_returns_the_first_answer_within_the_timeout(server: LoopbackServer) -> None:
    calls: list[int] = []

    def reply(path: str, body: dict[str, Any] | None) -> Reply:
        calls.append(1)
        return 200, chat_body("\n".join(GOOD_LINES)), (0.0 if len(calls) == 1 else 30.0)

    server.reply = reply
    start = time.monotonic()
    out = backend(server, rounds=1, timeout=1.0).paraphrase(REQUEST)
    assert out == GOOD_LINES
    assert time.monotonic() - start < 1.0 + SLACK


# -- failures: each raises BackendUnavailable quickly ------------------------------------------------------


def test_http_500_raises(server: LoopbackServer) -> None:
    server.reply = lambda path, body: (500, '{"error": "boom"}', 0.0)
    with pytest.raises(BackendUnavailable, match="HTTP 500"):
        backend(server).paraphrase(REQUEST)


def test_http_401_names_the_api_key(server: LoopbackServer) -> None:
    server.reply = lambda path, body: (401, '{"error": "no key"}', 0.0)
    with pytest.raises(BackendUnavailable, match="HTTP 401 \\(check the API key\\)"):
        backend(server).paraphrase(REQUEST)


def test_a_body_that_is_not_json_raises(server: LoopbackServer) -> None:
    server.reply = lambda path, body: (200, "<html>proxy error</html>", 0.0)
    with pytest.raises(BackendUnavailable, match="not JSON"):
        backend(server).paraphrase(REQUEST)


def test_json_without_choices_raises(server: LoopbackServer) -> None:
    server.reply = lambda path, body: (200, '{"error": {"message": "model not found"}}', 0.0)
    with pytest.raises(BackendUnavailable, match="without choices"):
        backend(server).paraphrase(REQUEST)


def test_garbage_text_raises(server: LoopbackServer) -> None:
    server.reply = answer_with("%%%% #### 12 !!\n\n}{}{}{\nlorem ipsum dolor sit amet consectetur")
    with pytest.raises(BackendUnavailable, match="no usable description"):
        backend(server).paraphrase(REQUEST)


def test_empty_answer_raises(server: LoopbackServer) -> None:
    server.reply = answer_with("")
    with pytest.raises(BackendUnavailable, match="empty"):
        backend(server).paraphrase(REQUEST)


def test_refusal_raises(server: LoopbackServer) -> None:
    server.reply = answer_with("I'm sorry, but I can't help with rewriting this prompt.")
    with pytest.raises(BackendUnavailable, match="refused"):
        backend(server).paraphrase(REQUEST)


def test_an_oversized_answer_is_refused_naming_the_url_once(server: LoopbackServer) -> None:
    server.reply = lambda path, body: (200, b"x" * (MAX_RESPONSE_BYTES + 1), 0.0)
    with pytest.raises(BackendUnavailable) as info:
        backend(server).paraphrase(REQUEST)
    message = str(info.value)
    assert f"{server.base_url}/chat/completions answered more than {MAX_RESPONSE_BYTES} bytes" in message
    assert "/v1/v1" not in message


def test_a_hanging_server_raises_within_the_timeout(server: LoopbackServer) -> None:
    server.reply = lambda path, body: (200, chat_body("\n".join(GOOD_LINES)), 30.0)
    start = time.monotonic()
    with pytest.raises(BackendUnavailable, match=r"did not answer within the 0\.5 s timeout"):
        backend(server, timeout=0.5).paraphrase(REQUEST)
    assert time.monotonic() - start < 0.5 + SLACK


def test_a_server_that_trickles_bytes_is_cut_at_the_total_deadline() -> None:
    """Each byte arrives well inside a per-read timeout; only a total deadline stops this."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
            for _ in range(200):  # bounded: at most 200 × 0.05 s
                if stop.wait(0.05):
                    return
                try:
                    conn.sendall(b" ")
                except OSError:
                    return

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    client = OpenAIClient(f"http://127.0.0.1:{listener.getsockname()[1]}/v1")
    start = time.monotonic()
    try:
        with pytest.raises(BackendUnavailable, match="did not answer within"):
            client.chat({"model": "m", "messages": []}, Deadline(0.6))
        assert time.monotonic() - start < 0.6 + SLACK
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_connection_refused_raises_fast() -> None:
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(BackendUnavailable, match="connection refused"):
        OpenAIBackend(base_url=f"http://127.0.0.1:{port}/v1", model="m", timeout=5.0).paraphrase(REQUEST)
    assert time.monotonic() - start < 1.0


def test_a_server_with_no_models_says_so(server: LoopbackServer) -> None:
    server.reply = lambda path, body: (200, '{"object": "list", "data": []}', 0.0)
    with pytest.raises(BackendUnavailable, match="lists no chat models"):
        backend(server, model=None).paraphrase(REQUEST)


# -- cache --------------------------------------------------------------------------------------------------


def test_second_identical_request_is_served_from_memory(server: LoopbackServer) -> None:
    server.reply = answer_with("\n".join(GOOD_LINES))
    b = backend(server)
    assert b.paraphrase(REQUEST) == GOOD_LINES
    assert b.paraphrase(REQUEST) == GOOD_LINES
    assert len(server.chats()) == 1
    # A different seed, N or round count is a different request.
    b.paraphrase(ParaphraseRequest(**{**REQUEST.__dict__, "seed": 8}))
    backend(server, rounds=1).paraphrase(REQUEST)
    assert len(server.chats()) == 1 + 1 + 2


def test_disk_cache_survives_a_new_process_memory(server: LoopbackServer, tmp_path: Any) -> None:
    server.reply = answer_with("\n".join(GOOD_LINES))
    assert backend(server, cache_dir=str(tmp_path)).paraphrase(REQUEST) == GOOD_LINES
    SHARED_MEMORY.clear()
    assert backend(server, cache_dir=str(tmp_path)).paraphrase(REQUEST) == GOOD_LINES
    assert len(server.chats()) == 1
    assert len(list(tmp_path.glob("*.json"))) == 1


def test_failures_are_not_cached(server: LoopbackServer) -> None:
    replies = iter([(500, "x", 0.0), (200, chat_body("\n".join(GOOD_LINES)), 0.0)])
    server.reply = lambda path, body: next(replies)
    b = backend(server)
    b.client.max_attempts = 1  # no retry: the 500 reaches the caller
    with pytest.raises(BackendUnavailable):
        b.paraphrase(REQUEST)
    assert b.paraphrase(REQUEST) == GOOD_LINES


# -- options --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"base_url": "ftp://example/v1"}, "base_url must be an http"),
        ({"base_url": "127.0.0.1:11434"}, "base_url must be an http"),
        ({"timeout": 0}, "timeout must be a positive number of seconds, got 0"),
        ({"timeout": "5"}, "timeout must be a positive number"),
        ({"rounds": -1}, "rounds must be a whole number from 0 to 10, got -1"),
        ({"rounds": 1.5}, "rounds must be"),
        ({"temperature": 3}, "temperature must be a number from 0 to 2, got 3"),
        ({"model": ""}, "model must be a non-empty model name"),
    ],
)
def test_bad_options_name_the_option_and_value(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_backend(**options)


def test_defaults_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMOOTHIE_OPENAI_BASE_URL", "http://127.0.0.1:1234/v1")
    monkeypatch.setenv("SMOOTHIE_OPENAI_MODEL", "qwen2.5-7b-instruct")
    b = create_backend()
    assert b.client.base_url == "http://127.0.0.1:1234/v1"
    assert b.model == "qwen2.5-7b-instruct"
    monkeypatch.delenv("SMOOTHIE_OPENAI_BASE_URL")
    assert create_backend().client.base_url == "http://127.0.0.1:11434/v1"  # Ollama's


# -- a real peer: the same pipeline against SmolLM2-135M-Instruct served over HTTP --------------------------


@pytest.mark.slow
def test_a_server_serving_smollm2_answers_through_the_engine() -> None:
    from smoothie.prompt import rewrite
    from tests.llm_server import ModelServer, smollm2

    try:
        model = smollm2()
    except LookupError as exc:
        pytest.skip(str(exc))
    SHARED_MEMORY.clear()
    with ModelServer(model) as served:
        options = {"base_url": served.base_url, "timeout": 600.0, "rounds": 0, "per_call": 1, "examples": 3}
        result = rewrite(
            "a lighthouse in a storm, oil on canvas", n=8, seed=2, backend="openai", backend_options=options
        )
        assert "model" in result.sources, (result.rejected, result.warnings)
        assert result.model == f"openai smollm2-135m-instruct at {served.base_url}"
        assert len(served.requests) == 8  # one one-line call per paraphrase, each stopping at the line break
        assert all(body["stop"] == ["\n"] and body["model"] == "smollm2-135m-instruct" for body in served.requests)
        # and a server that then hangs still gives N paraphrases within the timeout
        start = time.monotonic()
        hanging = {**options, "timeout": 0.5}
        served.model = _Hanging()  # type: ignore[assignment]
        late = rewrite("a lighthouse in a storm, oil on canvas", n=8, seed=3, backend="openai", backend_options=hanging)
        assert time.monotonic() - start < 0.5 + SLACK + 2.0
        assert set(late.sources) == {"rules"} and any("did not answer within" in w for w in late.warnings)


class _Hanging:
    label = "hanging model"

    def complete(self, *args: Any, **kwargs: Any) -> Any:
        time.sleep(5)
        raise BackendUnavailable("too late")
