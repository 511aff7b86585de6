"""Backend ``transformers``: a local instruction-tuned model (causal LM or seq2seq) from a file, folder or Hub id.

Options (keyword arguments of :func:`create_backend`, ``backend_options`` of the engine):

``model``
    A GGUF file (``SmolLM2-135M-Instruct.Q4_1.gguf``, what Ollama and LM Studio download), a directory with a
    saved model and tokenizer (or holding one GGUF file), or a Hugging Face id (downloaded once by
    transformers; default ``$SMOOTHIE_TRANSFORMERS_MODEL``). transformers 4.41+ with the ``gguf`` package
    reads a GGUF file itself; an older one (A1111 pins 4.30.2) gets a copy converted once into the cache
    (:mod:`smoothie.prompt.llm.gguf`). Encoder-decoder models (T5, BART) load as seq2seq, the rest causal.
``device``
    ``auto`` (default: ``cuda`` when available, else ``mps``, else ``cpu``), or any torch device string.
``dtype``
    ``auto`` (default: float16/bfloat16 on a GPU, float32 on the CPU), ``float32``, ``float16``, ``bfloat16``.
``threads``
    CPU threads for generating on the CPU (default: torch's, fewer when the machine's cores are already busy,
    by the load average: OpenMP threads that wait for busy cores make generation several times slower). Set
    around each ``generate`` only, so the host's own torch setting is left alone.
``timeout``
    Seconds for the whole request (default 120): waiting for the model to load, every ``generate`` (bounded
    with transformers' ``max_time``) and every smoothing round. A first request that finds the model still
    loading gives up at the timeout; loading goes on in the background for the next request.
``rounds``
    Recursive smoothing rounds after the first answer (default 1; 0 turns smoothing off).
``per_call``
    Descriptions asked of one generated sequence (default 1: N one-line sequences run as one batch, what a
    small model does best; a larger model can write 8 a sequence).
``examples``
    Earlier rewrites shown in each request (default 3).
``max_new_tokens``
    Upper bound on the new tokens of one generated answer (default 1024).
``temperature`` / ``top_p``
    Sampling settings (defaults 0.8 / 0.95). Generation never repeats a three-token sequence it wrote itself.
``cache_dir``
    Where to keep answers on disk as JSON (default ``$SMOOTHIE_LLM_CACHE_DIR``, else memory only).
``trust_remote_code``, ``show_original``
    Passed to transformers (default false) / show the user's original prompt (default false: a small model
    copies the names in it).

Works with transformers 4.30.2 (the version A1111 pins) and current releases: the model's chat template is
used when it has one (rendered here with jinja2 on transformers older than 4.34), else a plain instruction
prompt. Import is cheap: torch and transformers are imported when the model is first needed. :meth:`close`
unloads it; :meth:`offload` moves it off the GPU while the WebUI samples.
"""

from __future__ import annotations

import gc
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
from smoothie.prompt.llm.gguf import ModelSource, converted_folder, native_problem, resolve_model
from smoothie.prompt.llm.gguf import describe as describe_gguf
from smoothie.prompt.llm.http import Completion
from smoothie.prompt.llm.instructions import Message, render_plain
from smoothie.prompt.llm.options import cache_dir_value, float_in, int_in, positive_seconds, rounds_value
from smoothie.prompt.llm.pipeline import PipelineSettings, run_paraphrase
from smoothie.prompt.llm.stats import Stats

log = logging.getLogger(__name__)

ENV_MODEL = "SMOOTHIE_TRANSFORMERS_MODEL"
DEFAULT_TIMEOUT = 120.0
DTYPES = ("auto", "float32", "float16", "bfloat16")
MIN_NEW_TOKENS = 16
GENERATE_MARGIN_S = 0.05
NO_REPEAT_NGRAM = 3
#: A recommended model every host's transformers runs (plain multi-head attention; A1111 pins 4.30.2).
RECOMMENDED_EVERYWHERE = "HuggingFaceTB/SmolLM2-1.7B-Instruct"


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


class _Loaded:
    """A model and tokenizer on their device, with what generation needs to know about them."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        device: Any,
        seq2seq: bool,
        context: int | None,
        template: str | None,
        newline_ids: list[int],
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.seq2seq = seq2seq
        self.context = context
        self.template = template
        self.newline_ids = newline_ids


class TransformersBackend:
    """Paraphrases from a local transformers model (see the module docstring for options)."""

    name = "transformers"

    def __init__(
        self,
        *,
        model: str | os.PathLike[str] | None = None,
        device: str = "auto",
        dtype: str = "auto",
        threads: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        rounds: int = 1,
        per_call: int = 1,
        examples: int = 3,
        max_new_tokens: int = 1024,
        temperature: float = 0.8,
        top_p: float = 0.95,
        cache_dir: str | os.PathLike[str] | None = None,
        trust_remote_code: bool = False,
        show_original: bool = False,
    ) -> None:
        model = model or os.environ.get(ENV_MODEL) or None
        if model is None:
            raise ValueError(
                "the transformers backend needs model= (a GGUF file, a model directory or a Hugging Face id such "
                f"as HuggingFaceTB/SmolLM2-360M-Instruct) or ${ENV_MODEL}; got none"
            )
        if not isinstance(model, str | os.PathLike) or not os.fspath(model).strip():
            raise ValueError(f"model must be a GGUF file, a model directory or a Hugging Face id, got {model!r}")
        if not isinstance(device, str) or not device.strip():
            raise ValueError(f"device must be 'auto' or a torch device such as 'cuda:0' or 'cpu', got {device!r}")
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        self.source: ModelSource = resolve_model(os.fspath(model))
        self.model_id = self.source.path
        self.device_option = device.strip()
        self.dtype_option = dtype
        self.threads = None if threads is None else int_in("threads", threads, 1, 1024)
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
            examples=int_in("examples", examples, 0, 16),
            show_original=bool(show_original),
        )
        self.cache = ResultCache(cache_dir_value(cache_dir))
        self.label = f"transformers model {self.source.name!r}"
        self.stats = Stats()
        self._state_lock = threading.Lock()  # guards the fields below
        self._generate_lock = threading.Lock()  # one generate at a time on one model
        self._loaded: _Loaded | None = None
        self._load_error: BaseException | None = None
        self._load_done = threading.Event()
        self._load_thread: threading.Thread | None = None
        self._load_started = 0.0

    def describe(self) -> str:
        """What answered, for the infotext and the UI: ``transformers SmolLM2-135M-Instruct.Q4_1.gguf``."""
        return f"transformers {self.source.name}"

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

    def _files(self, transformers: Any) -> tuple[str, dict[str, Any]]:
        """The folder (or Hub id) to load and the extra ``from_pretrained`` keywords (``gguf_file``)."""
        if self.source.gguf_file is None:
            return self.source.folder, {}
        version = _version_tuple(transformers.__version__)
        problem = native_problem(transformers.__version__)
        if problem is None:
            return self.source.folder, {"gguf_file": self.source.gguf_file}
        log.info("%s: %s; loading a copy converted once into the cache", self.label, problem)
        arch = describe_gguf(self.source.path)["architecture"]
        if arch == "qwen2" and version < (4, 37):
            raise BackendUnavailable(
                f"{self.source.name} is a Qwen2 model, which transformers {transformers.__version__} does not "
                "have (4.37 and later do): use a Llama-family GGUF file (SmolLM2, Llama, Mistral), or an OpenAI-"
                "compatible server such as Ollama with the backend openai or auto"
            )
        return str(converted_folder(self.source.path, expand_kv=version < (4, 31))), {}

    def _load_model(self) -> _Loaded:
        import torch
        import transformers

        device = self._resolve_device(torch)
        dtype = self._resolve_dtype(torch, device)
        folder, extra = self._files(transformers)
        common = {"trust_remote_code": self.trust_remote_code, **extra}
        try:
            config = transformers.AutoConfig.from_pretrained(folder, **common)
        except (KeyError, ValueError) as exc:
            if "model_type" in str(exc) or isinstance(exc, KeyError):  # an architecture this version lacks
                raise BackendUnavailable(
                    f"transformers {transformers.__version__} does not know the architecture of {self.source.name} "
                    f"({exc}): pick a Llama-family model such as {RECOMMENDED_EVERYWHERE}, or a GGUF file"
                ) from exc
            raise
        heads = getattr(config, "num_attention_heads", None)
        kv_heads = getattr(config, "num_key_value_heads", None) or heads
        old = _version_tuple(transformers.__version__) < (4, 31)
        if old and heads and kv_heads != heads and self.source.gguf_file is None:
            raise BackendUnavailable(
                f"{self.source.name} uses grouped-query attention, which transformers "
                f"{transformers.__version__} cannot run (4.31 and later can): pick {RECOMMENDED_EVERYWHERE}, "
                "or the model's GGUF file (converted for this version)"
            )
        seq2seq = bool(getattr(config, "is_encoder_decoder", False))
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder, **common)
        cls = transformers.AutoModelForSeq2SeqLM if seq2seq else transformers.AutoModelForCausalLM
        # transformers renamed torch_dtype to dtype in 4.56; older versions only know torch_dtype.
        dtype_kw = "dtype" if _version_tuple(transformers.__version__) >= (4, 56) else "torch_dtype"
        model = cls.from_pretrained(folder, **common, **{dtype_kw: dtype})
        _fix_rotary(model, getattr(config, "rope_theta", None))
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
        return _Loaded(model, tokenizer, device, seq2seq, context, _chat_template(tokenizer), _newline_ids(tokenizer))

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
            loaded = self._loaded
        self._to_device(loaded)
        return loaded

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

    def offload(self) -> bool:
        """Move a model on a GPU to the CPU and free its GPU memory (the next request moves it back).

        For a host that needs the memory for sampling; returns whether anything moved.
        """
        with self._generate_lock, self._state_lock:
            loaded = self._loaded
            if loaded is None or getattr(loaded.device, "type", "cpu") == "cpu":
                return False
            if _model_device_type(loaded.model) == "cpu":
                return False
            loaded.model.to("cpu")
        gc.collect()
        if loaded.device.type == "cuda":
            import torch

            torch.cuda.empty_cache()
        log.info("%s moved off %s", self.label, loaded.device)
        return True

    def _to_device(self, loaded: _Loaded) -> None:
        if getattr(loaded.device, "type", "cpu") != "cpu" and _model_device_type(loaded.model) != loaded.device.type:
            with self._generate_lock:
                loaded.model.to(loaded.device)

    @property
    def loaded(self) -> bool:
        with self._state_lock:
            return self._loaded is not None

    # -- generation --------------------------------------------------------------------------------------
    def _render(self, loaded: _Loaded, messages: Sequence[Message]) -> str:
        conv = list(messages)
        template = loaded.template
        if template:
            for attempt in (conv, _merge_system(conv)):  # some templates refuse a system role (Gemma)
                try:
                    return _apply_template(loaded.tokenizer, template, attempt)
                except Exception as exc:
                    log.debug("chat template failed (%s): trying without the system role", exc)
        return render_plain(conv)

    def _encode(self, loaded: _Loaded, conversations: Sequence[list[Message]], max_new: int) -> tuple[Any, int]:
        """Tokenised batch and the new-token budget that fits the model's context."""
        prompts = [self._render(loaded, conv) for conv in conversations]
        enc = loaded.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=not loaded.template)
        length = int(enc["input_ids"].shape[1])
        if loaded.context is None or length + max_new <= loaded.context:
            return enc, max_new
        if length + MIN_NEW_TOKENS <= loaded.context:
            return enc, loaded.context - length
        raise BackendUnavailable(
            f"{self.label}: the instructions take {length} tokens and leave no room in its {loaded.context}-token "
            "context"
        )

    def complete(
        self,
        conversations: Sequence[list[Message]],
        deadline: Deadline,
        *,
        seed: int,
        max_tokens: int,
        one_line: bool = False,
    ) -> list[Completion]:
        """One completion per chat conversation, generated as one batch within ``deadline``.

        Makes this backend a :class:`~smoothie.prompt.llm.pipeline.ChatModel`; also usable on its own (the
        tests serve it over HTTP). ``one_line``: each sequence stops at its first line break. Raises
        :class:`BackendUnavailable` on any failure.
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
            eos = [tok.eos_token_id] if tok.eos_token_id is not None else []
            if one_line:
                eos += [i for i in loaded.newline_ids if i not in eos]
            start = 1 if loaded.seq2seq else int(enc["input_ids"].shape[1])
            kwargs: dict[str, Any] = {
                "max_new_tokens": max_new,
                "do_sample": True,
                "temperature": self.temperature,
                "top_p": self.top_p,
                "max_time": budget,
                "pad_token_id": tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
                "logits_processor": _no_repeat_processors(start, NO_REPEAT_NGRAM, loaded.newline_ids),
            }
            if eos:
                kwargs["eos_token_id"] = eos
            # Only these two: older tokenizers also return token_type_ids, which T5's generate rejects (4.30).
            enc = {k: enc[k].to(loaded.device) for k in ("input_ids", "attention_mask") if k in enc}
            devices: list[int] = []
            if loaded.device.type == "cuda":
                devices = [loaded.device.index if loaded.device.index is not None else torch.cuda.current_device()]
            # fork_rng: seed this generation without disturbing the host's global RNG (A1111's image seeds).
            with torch.random.fork_rng(devices=devices), torch.inference_mode(), _cpu_threads(self._threads(loaded)):
                torch.manual_seed(seed)
                output = loaded.model.generate(**enc, **kwargs)
        except BackendUnavailable:
            raise
        except Exception as exc:  # CUDA out of memory, a model that cannot generate, …
            raise BackendUnavailable(f"{self.label} failed to generate: {type(exc).__name__}: {exc}") from exc
        finally:
            self._generate_lock.release()
        new_tokens = output if loaded.seq2seq else output[:, enc["input_ids"].shape[1] :]
        stops = set(eos)
        completions = []
        for row in new_tokens:
            ids = row.tolist()
            stopped = any(i in stops for i in ids)
            text = tok.decode(ids, skip_special_tokens=True)
            if one_line:
                text = text.lstrip("\n").split("\n", 1)[0]
            completions.append(Completion(text, "stop" if stopped else "length"))
        log.info("%s: generated %d sequence(s) in %.1f s", self.label, len(completions), deadline.elapsed())
        return completions

    def _threads(self, loaded: _Loaded) -> int | None:
        """Threads for this generation: the option, else on the CPU torch's number less the busy cores."""
        if getattr(loaded.device, "type", "cpu") != "cpu":
            return None
        if self.threads is not None:
            return self.threads
        return free_threads()

    def paraphrase(self, request: ParaphraseRequest) -> list[str]:
        key = cache_key(
            request,
            self.name,
            self.model_id,
            self.rounds,
            temperature=self.temperature,
            top_p=self.top_p,
            per_call=self.settings.per_call,
            examples=self.settings.examples,
            show_original=self.settings.show_original,
        )

        def run() -> list[str]:
            start = time.monotonic()
            examples = seed_examples(request)  # the rules backend's work: outside the model's timeout
            deadline = Deadline(self.timeout)
            harvest = run_paraphrase(self, request, self.settings, deadline, examples)
            self.stats.add(harvest, time.monotonic() - start)
            return harvest.lines

        return self.cache.cached(key, run, self.name)


def _fix_rotary(model: Any, theta: Any) -> None:
    """Rotary embeddings of transformers before 4.34 ignore ``rope_theta`` (always 10000) and cache their
    cos/sin tables at construction: rebuild them with the model's own base (SmolLM2: 100000)."""
    if not isinstance(theta, int | float) or theta <= 0:
        return
    import torch

    for module in model.modules():
        inv_freq = getattr(module, "inv_freq", None)
        cached = getattr(module, "max_seq_len_cached", None)
        if not isinstance(inv_freq, torch.Tensor) or not hasattr(module, "cos_cached") or not isinstance(cached, int):
            continue
        if getattr(module, "base", None) == theta:
            continue
        dim = inv_freq.numel() * 2
        fresh = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.float32, device=inv_freq.device) / dim))
        if torch.allclose(fresh, inv_freq.float()):
            continue
        module.inv_freq = fresh.to(inv_freq.dtype)
        t = torch.arange(cached, device=inv_freq.device, dtype=torch.float32)
        emb = torch.cat((torch.outer(t, fresh), torch.outer(t, fresh)), dim=-1)
        module.cos_cached = emb.cos()[None, None, :, :].to(module.cos_cached.dtype)
        module.sin_cached = emb.sin()[None, None, :, :].to(module.sin_cached.dtype)


def free_threads() -> int | None:
    """torch's thread count less the cores the load average says are busy (at least 1); None: no load average."""
    import torch

    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows
        return None
    cores = os.cpu_count() or 1
    return max(1, min(torch.get_num_threads(), int(cores - busy + 0.5)))


class _cpu_threads:  # noqa: N801 (a context manager used like a function)
    """Use ``threads`` torch threads inside the block, then the previous number again (None: unchanged)."""

    def __init__(self, threads: int | None) -> None:
        self.threads = threads
        self.before: int | None = None

    def __enter__(self) -> None:
        if self.threads is not None:
            import torch

            self.before = torch.get_num_threads()
            if self.before != self.threads:
                torch.set_num_threads(self.threads)

    def __exit__(self, *exc: object) -> None:
        if self.before is not None and self.threads is not None and self.before != self.threads:
            import torch

            torch.set_num_threads(self.before)


def _model_device_type(model: Any) -> str:
    try:
        return str(next(model.parameters()).device.type)
    except (StopIteration, AttributeError):
        return "cpu"


def _merge_system(conv: list[Message]) -> list[Message]:
    system = "\n\n".join(m["content"] for m in conv if m["role"] == "system")
    rest = [m for m in conv if m["role"] != "system"]
    if system and rest and rest[0]["role"] == "user":
        rest[0] = {"role": "user", "content": f"{system}\n\n{rest[0]['content']}"}
    return rest


def _chat_template(tokenizer: Any) -> str | None:
    """The tokenizer's chat template: the attribute (4.34+) or, on older transformers, its saved config."""
    template = getattr(tokenizer, "chat_template", None)
    if not template:
        template = (getattr(tokenizer, "init_kwargs", None) or {}).get("chat_template")
    if isinstance(template, dict):  # several named templates: the default one
        template = template.get("default")
    if isinstance(template, list):  # [{"name": …, "template": …}] as saved by recent versions
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        template = named.get("default")
    return template if isinstance(template, str) and template.strip() else None


def _apply_template(tokenizer: Any, template: str, conv: list[Message]) -> str:
    if hasattr(tokenizer, "apply_chat_template"):
        return str(
            tokenizer.apply_chat_template(conv, chat_template=template, tokenize=False, add_generation_prompt=True)
        )
    return render_template(template, conv, tokenizer)


def render_template(template: str, conv: Sequence[Message], tokenizer: Any = None) -> str:
    """Render a Hugging Face chat template with jinja2 (for transformers older than 4.34), as they do."""
    from jinja2.exceptions import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    special = {}
    for name in ("bos_token", "eos_token", "pad_token", "unk_token"):
        value = getattr(tokenizer, name, None) if tokenizer is not None else None
        special[name] = str(value) if value is not None else ""
    return env.from_string(template).render(messages=list(conv), add_generation_prompt=True, **special)


def _newline_ids(tokenizer: Any) -> list[int]:
    """Ids of the tokens whose text holds a line break (byte-level ``Ċ``, SentencePiece ``<0x0A>``)."""
    try:
        vocab = tokenizer.get_vocab()
    except Exception:
        return []
    special = set(getattr(tokenizer, "all_special_ids", []) or [])
    return sorted(
        i for token, i in vocab.items() if i not in special and ("Ċ" in token or "\n" in token or token == "<0x0A>")
    )


def _no_repeat_processors(start: int, size: int, newlines: Sequence[int] = ()) -> Any:
    """A logits processor list that forbids repeating, within one line, any ``size``-token sequence the model
    itself wrote (from position ``start``): a small model's loops ("golden hour, golden hour, …") end before
    they begin, while copying the prompt's words, and starting each line of a list alike, stay allowed
    (transformers' ``no_repeat_ngram_size`` counts the prompt and every line)."""
    from transformers import LogitsProcessor, LogitsProcessorList

    breaks = frozenset(newlines)

    class NoRepeatGenerated(LogitsProcessor):
        def __call__(self, input_ids: Any, scores: Any) -> Any:
            if int(input_ids.shape[1]) - start < size:
                return scores
            for row, generated in enumerate(input_ids[:, start:].tolist()):
                line_start = max((i + 1 for i, token in enumerate(generated) if token in breaks), default=0)
                ids = generated[line_start:]
                length = len(ids)
                if length < size:
                    continue
                prefix = ids[length - size + 1 :]
                banned = {ids[i + size - 1] for i in range(length - size + 1) if ids[i : i + size - 1] == prefix}
                if banned:
                    scores[row, list(banned)] = -float("inf")
            return scores

    return LogitsProcessorList([NoRepeatGenerated()])


def create_backend(**options: Any) -> TransformersBackend:
    return TransformersBackend(**options)


register_backend("transformers", TransformersBackend)  # the class itself: its signature lists the options
