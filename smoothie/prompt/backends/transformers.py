"""Backend ``transformers``: a local instruction-tuned model (causal LM or seq2seq) from a path or a Hub id.

Options (keyword arguments of :func:`create_backend`, ``backend_options`` of the engine):

``model``
    A directory with a saved model and tokenizer, or a Hugging Face id (downloaded once by transformers;
    default ``$SMOOTHIE_TRANSFORMERS_MODEL``). Encoder-decoder models (T5, FLAN-T5, BART) load as seq2seq,
    everything else as a causal LM.
``device``
    ``auto`` (default: ``cuda`` when available, else ``mps``, else ``cpu``), or any torch device string.
``dtype``
    ``auto`` (default: float16/bfloat16 on a GPU, float32 on the CPU), ``float32``, ``float16``, ``bfloat16``.
``timeout``
    Seconds for the whole request (default 120): waiting for the model to load, every ``generate`` (bounded
    with transformers' ``max_time``) and every smoothing round. A first request that finds the model still
    loading gives up at the timeout; loading goes on in the background for the next request.
``rounds``
    Recursive smoothing rounds after the first answer (default 1; 0 turns smoothing off).
``max_new_tokens``
    Upper bound on the new tokens of one generated answer (default 1024).
``temperature`` / ``top_p``
    Sampling settings (defaults 0.8 / 0.95).
``per_call``
    Descriptions asked of one generated sequence (default 8); N = 32 runs as a batch of 4 sequences.
``cache_dir``
    Where to keep answers on disk as JSON (default ``$SMOOTHIE_LLM_CACHE_DIR``, else memory only).
``trust_remote_code``, ``few_shot``, ``show_original``
    Passed to transformers (default false) / include the worked example / the original prompt (default true).

Works with transformers 4.30.2 (the version A1111 pins) and current releases: chat templates (4.34+) are used
when the tokenizer has one, else a plain instruction prompt; the dtype keyword is chosen by version. Import
is cheap: torch and transformers are imported when the model is first needed. :meth:`close` unloads it.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from smoothie.prompt.backends import ParaphraseRequest, register_backend
from smoothie.prompt.llm.cache import ResultCache, cache_key
from smoothie.prompt.llm.deadline import Deadline
from smoothie.prompt.llm.errors import BackendUnavailable
from smoothie.prompt.llm.http import Completion
from smoothie.prompt.llm.instructions import Message, render_plain
from smoothie.prompt.llm.options import cache_dir_value, float_in, int_in, positive_seconds, rounds_value
from smoothie.prompt.llm.pipeline import PipelineSettings, run_paraphrase

log = logging.getLogger(__name__)

ENV_MODEL = "SMOOTHIE_TRANSFORMERS_MODEL"
DEFAULT_TIMEOUT = 120.0
DTYPES = ("auto", "float32", "float16", "bfloat16")
MIN_NEW_TOKENS = 16
GENERATE_MARGIN_S = 0.05


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


class _Loaded:
    """A model and tokenizer on their device."""

    def __init__(self, model: Any, tokenizer: Any, device: Any, seq2seq: bool, context: int | None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.seq2seq = seq2seq
        self.context = context


class TransformersBackend:
    """Paraphrases from a local transformers model (see the module docstring for options)."""

    name = "transformers"

    def __init__(
        self,
        *,
        model: str | os.PathLike[str] | None = None,
        device: str = "auto",
        dtype: str = "auto",
        timeout: float = DEFAULT_TIMEOUT,
        rounds: int = 1,
        max_new_tokens: int = 1024,
        temperature: float = 0.8,
        top_p: float = 0.95,
        per_call: int = 8,
        cache_dir: str | os.PathLike[str] | None = None,
        trust_remote_code: bool = False,
        few_shot: bool = True,
        show_original: bool = True,
    ) -> None:
        model = model or os.environ.get(ENV_MODEL) or None
        if model is None:
            raise ValueError(
                "the transformers backend needs model= (a model directory or a Hugging Face id such as "
                f"Qwen/Qwen2.5-1.5B-Instruct) or ${ENV_MODEL}; got none"
            )
        if not isinstance(model, str | os.PathLike) or not os.fspath(model).strip():
            raise ValueError(f"model must be a model directory or a Hugging Face id, got {model!r}")
        if not isinstance(device, str) or not device.strip():
            raise ValueError(f"device must be 'auto' or a torch device such as 'cuda:0' or 'cpu', got {device!r}")
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        self.model_id = os.fspath(model)
        self.device_option = device.strip()
        self.dtype_option = dtype
        self.timeout = positive_seconds("timeout", timeout)
        self.rounds = rounds_value(rounds)
        self.max_new_tokens = int_in("max_new_tokens", max_new_tokens, MIN_NEW_TOKENS, 32768)
        self.temperature = float_in("temperature", temperature, 0.01, 2.0)
        self.top_p = float_in("top_p", top_p, 0.01, 1.0)
        self.trust_remote_code = bool(trust_remote_code)
        self.settings = PipelineSettings(
            rounds=self.rounds,
            per_call=int_in("per_call", per_call, 1, 64),
            max_tokens=self.max_new_tokens,
            few_shot=bool(few_shot),
            show_original=bool(show_original),
        )
        self.cache = ResultCache(cache_dir_value(cache_dir))
        self.label = f"transformers model {self.model_id!r}"
        self._state_lock = threading.Lock()  # guards the fields below
        self._generate_lock = threading.Lock()  # one generate at a time on one model
        self._loaded: _Loaded | None = None
        self._load_error: BaseException | None = None
        self._load_done = threading.Event()
        self._load_thread: threading.Thread | None = None
        self._load_started = 0.0

    # -- loading -----------------------------------------------------------------------------------------
    def start_loading(self) -> None:
        """Begin loading in a background thread (idempotent); :meth:`paraphrase` calls it."""
        with self._state_lock:
            if self._load_thread is not None:
                return
            self._load_done.clear()
            self._load_error = None
            self._load_started = time.monotonic()
            self._load_thread = threading.Thread(target=self._load, name="smoothie-llm-load", daemon=True)
            self._load_thread.start()

    def _load(self) -> None:
        try:
            loaded = self._load_model()
        except BaseException as exc:  # reported to every request until close() resets
            log.warning("%s could not be loaded: %s: %s", self.label, type(exc).__name__, exc)
            with self._state_lock:
                self._load_error = exc
        else:
            with self._state_lock:
                self._loaded = loaded
            log.info("%s loaded on %s in %.1f s", self.label, loaded.device, time.monotonic() - self._load_started)
        finally:
            self._load_done.set()

    def _resolve_device(self, torch: Any) -> Any:
        if self.device_option != "auto":
            return torch.device(self.device_option)
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")

    def _resolve_dtype(self, torch: Any, device: Any) -> Any:
        if self.dtype_option != "auto":
            return getattr(torch, self.dtype_option)
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if device.type == "mps":
            return torch.float16
        return torch.float32

    def _load_model(self) -> _Loaded:
        import torch
        import transformers

        device = self._resolve_device(torch)
        dtype = self._resolve_dtype(torch, device)
        config = transformers.AutoConfig.from_pretrained(self.model_id, trust_remote_code=self.trust_remote_code)
        seq2seq = bool(getattr(config, "is_encoder_decoder", False))
        tokenizer = transformers.AutoTokenizer.from_pretrained(self.model_id, trust_remote_code=self.trust_remote_code)
        cls = transformers.AutoModelForSeq2SeqLM if seq2seq else transformers.AutoModelForCausalLM
        # transformers renamed torch_dtype to dtype in 4.56; older versions only know torch_dtype.
        dtype_kw = "dtype" if _version_tuple(transformers.__version__) >= (4, 56) else "torch_dtype"
        model = cls.from_pretrained(self.model_id, trust_remote_code=self.trust_remote_code, **{dtype_kw: dtype})
        model.to(device)
        model.eval()
        if tokenizer.pad_token_id is None and tokenizer.eos_token_id is not None:
            tokenizer.pad_token = tokenizer.eos_token
        if not seq2seq:
            tokenizer.padding_side = "left"  # decoder-only batches must end where generation starts
        context = None
        if not seq2seq:
            for attr in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
                value = getattr(config, attr, None)
                if isinstance(value, int) and value > 0:
                    context = value
                    break
        return _Loaded(model, tokenizer, device, seq2seq, context)

    def load(self) -> None:
        """Load the model now and wait for it (for a host that preloads); raises BackendUnavailable on failure."""
        self.start_loading()
        self._load_done.wait()
        with self._state_lock:
            if self._load_error is not None:
                exc = self._load_error
                raise BackendUnavailable(f"{self.label} could not be loaded: {type(exc).__name__}: {exc}")

    def _wait_loaded(self, deadline: Deadline) -> _Loaded:
        self.start_loading()
        if not self._load_done.wait(deadline.remaining()):
            waited = time.monotonic() - self._load_started
            raise BackendUnavailable(
                f"{self.label} is still loading after {waited:.0f} s (timeout {self.timeout:g} s); "
                "it goes on loading for the next request"
            )
        with self._state_lock:
            if self._load_error is not None:
                exc = self._load_error
                raise BackendUnavailable(f"{self.label} could not be loaded: {type(exc).__name__}: {exc}")
            assert self._loaded is not None
            return self._loaded

    def close(self) -> None:
        """Unload the model and free its (GPU) memory; the next request loads it again."""
        thread = self._load_thread
        if thread is not None:
            thread.join()
        with self._generate_lock, self._state_lock:
            loaded, self._loaded = self._loaded, None
            self._load_thread = None
            self._load_error = None
            self._load_done.clear()
        if loaded is None:
            return
        on_cuda = getattr(loaded.device, "type", "") == "cuda"
        del loaded
        gc.collect()
        if on_cuda:
            import torch

            torch.cuda.empty_cache()
        log.info("%s unloaded", self.label)

    @property
    def loaded(self) -> bool:
        with self._state_lock:
            return self._loaded is not None

    # -- generation --------------------------------------------------------------------------------------
    def _render(self, loaded: _Loaded, messages: Sequence[Message], *, compact: bool) -> str:
        conv = list(messages)
        if compact:  # drop the worked example: system + the final request only
            conv = [m for m in conv if m["role"] == "system"] + [conv[-1]]
        template = getattr(loaded.tokenizer, "chat_template", None)
        if template and hasattr(loaded.tokenizer, "apply_chat_template"):
            try:
                return str(loaded.tokenizer.apply_chat_template(conv, tokenize=False, add_generation_prompt=True))
            except Exception as exc:  # templates that reject a system role (Gemma, Mistral's older ones)
                log.debug("chat template refused the system role (%s): merging it into the first request", exc)
                merged = _merge_system(conv)
                try:
                    return str(loaded.tokenizer.apply_chat_template(merged, tokenize=False, add_generation_prompt=True))
                except Exception as exc2:
                    log.debug("chat template failed again (%s): using a plain prompt", exc2)
        return render_plain(conv)

    def _encode(self, loaded: _Loaded, conversations: Sequence[list[Message]], max_new: int) -> tuple[Any, int]:
        """Tokenised batch and the new-token budget that fits the model's context (example dropped if needed)."""
        enc = None
        for compact in (False, True):
            prompts = [self._render(loaded, conv, compact=compact) for conv in conversations]
            enc = loaded.tokenizer(prompts, return_tensors="pt", padding=True)
            length = int(enc["input_ids"].shape[1])
            if loaded.context is None or length + max_new <= loaded.context:
                return enc, max_new
            if length + MIN_NEW_TOKENS * 4 <= loaded.context and compact:
                return enc, loaded.context - length
        assert enc is not None
        raise BackendUnavailable(
            f"{self.label}: the instructions take {int(enc['input_ids'].shape[1])} tokens and leave no room "
            f"in its {loaded.context}-token context"
        )

    def complete(
        self, conversations: Sequence[list[Message]], deadline: Deadline, *, seed: int, max_tokens: int
    ) -> list[Completion]:
        """One completion per chat conversation, generated as one batch within ``deadline``.

        Makes this backend a :class:`~smoothie.prompt.llm.pipeline.ChatModel`; also usable on its own (the LLM
        benchmark serves it over HTTP). Raises :class:`BackendUnavailable` on any failure.
        """
        import torch

        loaded = self._wait_loaded(deadline)
        if not self._generate_lock.acquire(timeout=max(0.0, deadline.remaining())):
            raise BackendUnavailable(f"{self.label} is busy with another request and the timeout passed")
        try:
            enc, max_new = self._encode(loaded, conversations, min(max_tokens, self.max_new_tokens))
            budget = deadline.remaining() - GENERATE_MARGIN_S
            if budget <= 0:
                raise BackendUnavailable(f"{self.label}: no time left of the {self.timeout:g} s timeout to generate")
            tok = loaded.tokenizer
            kwargs: dict[str, Any] = {
                "max_new_tokens": max_new,
                "do_sample": True,
                "temperature": self.temperature,
                "top_p": self.top_p,
                "max_time": budget,
                "pad_token_id": tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
            }
            # Only these two: older tokenizers also return token_type_ids, which T5's generate rejects (4.30).
            enc = {k: enc[k].to(loaded.device) for k in ("input_ids", "attention_mask") if k in enc}
            devices: list[int] = []
            if loaded.device.type == "cuda":
                devices = [loaded.device.index if loaded.device.index is not None else torch.cuda.current_device()]
            # fork_rng: seed this generation without disturbing the host's global RNG (A1111's image seeds).
            with torch.random.fork_rng(devices=devices), torch.inference_mode():
                torch.manual_seed(seed)
                output = loaded.model.generate(**enc, **kwargs)
        except BackendUnavailable:
            raise
        except Exception as exc:  # CUDA out of memory, a model that cannot generate, …
            raise BackendUnavailable(f"{self.label} failed to generate: {type(exc).__name__}: {exc}") from exc
        finally:
            self._generate_lock.release()
        new_tokens = output if loaded.seq2seq else output[:, enc["input_ids"].shape[1] :]
        eos = tok.eos_token_id
        completions = []
        for row in new_tokens:
            ids = row.tolist()
            stopped = eos is not None and eos in ids
            text = tok.decode(ids, skip_special_tokens=True)
            completions.append(Completion(text, "stop" if stopped else "length"))
        log.info("%s: generated %d sequence(s) in %.1f s", self.label, len(completions), deadline.elapsed())
        return completions

    def paraphrase(self, request: ParaphraseRequest) -> list[str]:
        key = cache_key(
            request,
            self.name,
            self.model_id,
            self.rounds,
            temperature=self.temperature,
            top_p=self.top_p,
            per_call=self.settings.per_call,
            few_shot=self.settings.few_shot,
            show_original=self.settings.show_original,
        )
        return self.cache.cached(
            key, lambda: run_paraphrase(self, request, self.settings, Deadline(self.timeout)), self.name
        )


def _merge_system(conv: list[Message]) -> list[Message]:
    system = "\n\n".join(m["content"] for m in conv if m["role"] == "system")
    rest = [m for m in conv if m["role"] != "system"]
    if system and rest and rest[0]["role"] == "user":
        rest[0] = {"role": "user", "content": f"{system}\n\n{rest[0]['content']}"}
    return rest


def create_backend(**options: Any) -> TransformersBackend:
    return TransformersBackend(**options)


register_backend("transformers", TransformersBackend)  # the class itself: its signature lists the options
