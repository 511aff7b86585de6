"""Optional analysers on tiny models built here: a WD14-shaped ONNX tagger and a transformers captioner."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from smoothie.dataset.analyzers import AnalyzerError, CallableAnalyzer, TransformersCaptioner, WD14Tagger

TAGS = [("general", 9), ("sensitive", 9), ("questionable", 9), ("explicit", 9)]
TAGS += [("red_theme", 0), ("blue_theme", 0), ("green_theme", 0), ("some_character_(series)", 4)]


def build_wd14(folder: Path, size: int = 16) -> Path:
    """A WD14-shaped tagger: NHWC BGR float input, sigmoid scores; tag k fires on the mean of one channel."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    # Scores = sigmoid(mean_bgr @ W + b); B, G, R means are 0..255.
    w = np.zeros((3, len(TAGS)), dtype=np.float32)
    w[2, 4] = 0.1  # R → red_theme
    w[0, 5] = 0.1  # B → blue_theme
    w[1, 6] = 0.1  # G → green_theme
    w[2, 7] = 0.1  # the character tag fires on red too
    b = np.full(len(TAGS), -12.0, dtype=np.float32)
    b[:4] = [2.0, -2.0, -3.0, -4.0]
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["input_1", "axes"], ["mean"], keepdims=0),
            helper.make_node("MatMul", ["mean", "W"], ["logits0"]),
            helper.make_node("Add", ["logits0", "B"], ["logits"]),
            helper.make_node("Sigmoid", ["logits"], ["predictions_sigmoid"]),
        ],
        "tiny_wd14",
        [helper.make_tensor_value_info("input_1", TensorProto.FLOAT, ["N", size, size, 3])],
        [helper.make_tensor_value_info("predictions_sigmoid", TensorProto.FLOAT, ["N", len(TAGS)])],
        initializer=[
            numpy_helper.from_array(np.array([1, 2], dtype=np.int64), "axes"),
            numpy_helper.from_array(w, "W"),
            numpy_helper.from_array(b, "B"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / "model.onnx"))
    with open(folder / "selected_tags.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tag_id", "name", "category", "count"])
        for i, (name, cat) in enumerate(TAGS):
            writer.writerow([i, name, cat, 100])
    return folder


def test_wd14_tagger_loads_tags_and_releases(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    folder = build_wd14(tmp_path / "wd14")
    tagger = WD14Tagger(str(folder), threshold=0.5)
    red = Image.new("RGB", (40, 30), (250, 10, 10))
    blue = Image.new("RGB", (30, 40), (10, 10, 250))
    with tagger:
        assert tagger.input_size == 16
        # Padding to a white square adds white (255 in every channel): the red image stays mostly red.
        assert tagger.describe(red) == "red theme"
        assert tagger.describe(blue) == "blue theme"
        scores = {name: p for name, _, p in tagger.scores(red)}
    assert scores["some_character_(series)"] > 0.85  # a name: left out unless characters=True
    assert tagger.session is None  # released on exit
    with pytest.raises(AnalyzerError, match="not loaded"):
        tagger.describe(red)
    with WD14Tagger(str(folder), threshold=0.5, characters=True) as named:
        assert named.describe(red) == "red theme, some character (series)"


def test_wd14_errors_name_the_model(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    with pytest.raises(AnalyzerError, match="lacks"):
        WD14Tagger(str(tmp_path)).load()
    folder = build_wd14(tmp_path / "bad")
    (folder / "selected_tags.csv").write_text("tag_id,name,category,count\n0,a,0,1\n")
    with pytest.raises(AnalyzerError, match=r"gives 8 scores but selected_tags\.csv has 1"):
        WD14Tagger(str(folder)).load()
    with pytest.raises(AnalyzerError, match="nor a Hugging Face id"):
        WD14Tagger("./no/such/dir").load()


def build_captioner(folder: Path) -> Path:
    """A tiny random ViT→GPT-2 encoder-decoder with a word-level tokenizer, saved like a hub model."""
    transformers = pytest.importorskip("transformers")
    tokenizers = pytest.importorskip("tokenizers")
    import torch

    words = ["<pad>", "<s>", "</s>", "<unk>", "a", "photo", "of", "cat", "red", "woman", "smiling"]
    vocab = {w: i for i, w in enumerate(words)}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    enc = transformers.ViTConfig(
        image_size=32, patch_size=16, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    )
    dec = transformers.GPT2Config(
        vocab_size=len(words), n_embd=16, n_layer=1, n_head=2, n_positions=32, bos_token_id=1, eos_token_id=2
    )
    dec.is_decoder = True
    dec.add_cross_attention = True
    config = transformers.VisionEncoderDecoderConfig.from_encoder_decoder_configs(enc, dec)
    config.decoder_start_token_id = 1
    config.pad_token_id = 0
    config.eos_token_id = 2
    torch.manual_seed(0)
    model = transformers.VisionEncoderDecoderModel(config=config)
    model.generation_config.decoder_start_token_id = 1
    model.generation_config.pad_token_id = 0
    model.generation_config.eos_token_id = 2
    # Random weights: make it say at least three real words (no pad/bos/unk) so the caption has content.
    model.generation_config.min_new_tokens = 3
    model.generation_config.bad_words_ids = [[0], [1], [3]]
    if tuple(int(x) for x in transformers.__version__.split(".")[:2]) < (4, 31):
        # transformers 4.30 (A1111's pin) does not save generation_config.json for this model: it reads these from
        # the model config (newer releases refuse them there)
        model.config.min_length = 4  # the decoder start token + three new ones
        model.config.bad_words_ids = [[0], [1], [3]]
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    transformers.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def test_transformers_captioner_generates_from_a_local_folder(tmp_path: Path) -> None:
    folder = build_captioner(tmp_path / "cap")
    captioner = TransformersCaptioner(str(folder), max_new_tokens=6)
    image = Image.new("RGB", (50, 40), (200, 120, 30))
    with captioner:
        first = captioner.describe(image)
        second = captioner.describe(image)
    assert first == second  # greedy decoding: deterministic
    assert first and set(first.split()) <= {"a", "photo", "of", "cat", "red", "woman", "smiling"}
    assert captioner.model is None  # released
    with pytest.raises(AnalyzerError, match="nor a Hugging Face id"):
        TransformersCaptioner("/no/such/model").load()


def test_callable_analyzer_calls_its_hooks_once() -> None:
    calls: list[str] = []
    analyzer = CallableAnalyzer(
        "interrogate",
        lambda im: f"  a photo   {im.size[0]} ",
        lambda: calls.append("load"),
        lambda: calls.append("unload"),
    )
    with analyzer:
        assert analyzer.describe(Image.new("RGB", (7, 3))) == "a photo 7"
        assert analyzer.describe(Image.new("RGB", (8, 3))) == "a photo 8"
    assert calls == ["load", "unload"]


# ------------------------------------------------------------------- Florence-2, BLIP, the catalogue


def build_florence(folder: Path) -> Path:
    """A transformers-native Florence-2 with random weights, a word-level tokenizer and 32 px images."""
    transformers = pytest.importorskip("transformers")
    if not hasattr(transformers, "Florence2ForConditionalGeneration"):
        pytest.skip(f"transformers {transformers.__version__} has no native Florence-2 (4.56+)")
    tokenizers = pytest.importorskip("tokenizers")
    import torch
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    words = ["<s>", "<pad>", "</s>", "<unk>", "<image>", "a", "photo", "of", "cat", "red", "woman", "smiling"]
    vocab = {w: i for i, w in enumerate(words)}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    fast = transformers.BartTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        extra_special_tokens={"image_token": "<image>"},
    )
    # 32 px through strides 4·2·2·2: one patch, plus the pooled token: two image tokens.
    images = CLIPImageProcessorPil(
        size={"height": 32, "width": 32}, crop_size={"height": 32, "width": 32}, do_center_crop=False,
        image_seq_length=2,
    )  # fmt: skip
    processor = transformers.Florence2Processor(
        image_processor=images, tokenizer=fast, post_processor_config={"pure_text": {}}
    )
    text = {
        "vocab_size": len(words), "d_model": 16, "encoder_layers": 1, "decoder_layers": 1,
        "encoder_attention_heads": 2, "decoder_attention_heads": 2, "encoder_ffn_dim": 32, "decoder_ffn_dim": 32,
        "max_position_embeddings": 64, "bos_token_id": 0, "pad_token_id": 1, "eos_token_id": 2,
        "decoder_start_token_id": 2,
    }  # fmt: skip
    vision_cfg = {"depths": [1, 1, 1, 1], "embed_dim": [8, 8, 8, 8], "num_heads": [1, 1, 1, 1]}
    vision_cfg |= {"num_groups": [1, 1, 1, 1], "projection_dim": 16, "window_size": 2}
    config = transformers.Florence2Config(vision_config=vision_cfg, text_config=text, image_token_id=vocab["<image>"])
    torch.manual_seed(0)
    model = transformers.Florence2ForConditionalGeneration(config)
    model.generation_config.min_new_tokens = 3
    model.generation_config.bad_words_ids = [[0], [1], [3], [4]]
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def test_florence2_is_asked_for_a_detailed_caption(tmp_path: Path) -> None:
    folder = build_florence(tmp_path / "florence")
    captioner = TransformersCaptioner(str(folder), max_new_tokens=5)
    image = Image.new("RGB", (60, 40), (30, 160, 90))
    with captioner:
        assert captioner.florence
        text = captioner.describe(image)
        assert text == captioner.describe(image)
    # Random weights say nonsense, but only the vocabulary's words (BART's decoder may join them without spaces).
    assert re.fullmatch(r"(?:a|photo|of|cat|red|woman|smiling| )+", text), text
    assert captioner.model is None and captioner.processor is None


def test_blip_captions_through_its_processor(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    if tuple(int(x) for x in transformers.__version__.split(".")[:2]) < (4, 31):
        pytest.skip("the random BLIP built here needs transformers 4.31+ (generation_config; A1111 pins 4.30.2)")
    tokenizers = pytest.importorskip("tokenizers")
    import torch

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "photo", "of", "cat", "red", "woman", "smiling"]
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    fast = transformers.BertTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]",
    )  # fmt: skip
    vision = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2}
    vision |= {"image_size": 32, "patch_size": 16}
    text = {"vocab_size": len(words), "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1}
    text |= {"num_attention_heads": 2, "max_position_embeddings": 32, "bos_token_id": 2, "sep_token_id": 3}
    text |= {"pad_token_id": 0, "eos_token_id": 3}
    config = transformers.BlipConfig(vision_config=vision, text_config=text)
    torch.manual_seed(0)
    model = transformers.BlipForConditionalGeneration(config)
    model.generation_config.min_new_tokens = 3
    model.generation_config.bad_words_ids = [[0], [1], [2], [4]]
    folder = tmp_path / "blip"
    model.save_pretrained(folder)
    images = transformers.BlipImageProcessor(size={"height": 32, "width": 32})
    transformers.BlipProcessor(image_processor=images, tokenizer=fast).save_pretrained(folder)
    with TransformersCaptioner(str(folder), max_new_tokens=6) as captioner:
        assert not captioner.florence
        text = captioner.describe(Image.new("RGB", (40, 30), (200, 20, 20)))
    assert text and set(text.split()) <= set(words[5:])


def test_the_catalogue_names_sizes_and_finds_its_models() -> None:
    from smoothie.dataset.analyzers import CATALOGUE, TRUSTED_REMOTE_CODE, choice

    assert {c.kind for c in CATALOGUE} == {"wd14", "captioner"}
    assert len({c.source for c in CATALOGUE}) == len(CATALOGUE)
    for c in CATALOGUE:
        assert c.source.count("/") == 1 and c.size.split()[1] in ("MB", "GB") and c.size in c.title()
        assert choice(c.title()) is c and choice(c.source) is c and choice(c.label) is c
    assert choice("no such model") is None
    florence = [c for c in CATALOGUE if "Florence" in c.label]
    assert florence and all(c.source in TRUSTED_REMOTE_CODE for c in florence)


def test_a_captioners_sentence_fills_the_schema(tmp_path: Path) -> None:
    from smoothie.dataset.options import PrepOptions
    from smoothie.dataset.pipeline import prepare

    src = tmp_path / "in"
    src.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)).save(src / "noise.png")
    sentence = CallableAnalyzer("fake-captioner", lambda im: "a woman standing on the beach and looking at the camera")
    opts = PrepOptions(src, tmp_path / "out", vision=False, scrub_names=False, workers=1, min_sharpness="off")
    (entry,) = prepare(opts, analyzers=[sentence]).report["images"]
    fields = entry["fields"]
    assert (fields["subject"], fields["pose"], fields["gaze"], fields["setting"]) == (
        "woman",
        "standing",
        "looking at viewer",
        "beach",
    )
    assert "a woman standing on the beach and looking at viewer" in entry["caption"]
