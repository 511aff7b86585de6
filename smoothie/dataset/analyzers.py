"""Optional model analysers: a WD14 tagger (ONNX), a transformers captioner, or any callable (the tab
passes A1111's own CLIP/BLIP interrogator and DeepBooru through :class:`CallableAnalyzer`).

Each is an :class:`~smoothie.dataset.analyse.ImageAnalyser` of the analyse stage: the model is loaded once
on ``__enter__`` and released on ``__exit__`` (references dropped, CUDA cache emptied when torch is loaded),
so a run holds it only while it is needed. ``describe(image)`` returns comma-separated tags or a sentence
for one PIL image, stored in the record under ``models`` and merged into the caption. They run on the
pipeline's own thread, one image at a time. Models come from a local folder or a Hugging Face id
(downloaded by ``huggingface_hub`` on first use).
"""

from __future__ import annotations

import csv
import gc
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smoothie.dataset.analyse import Frame, ImageAnalyser

if TYPE_CHECKING:
    from PIL import Image

logger = logging.getLogger(__name__)


class AnalyzerError(RuntimeError):
    """An analyser could not be loaded or run; the message names the model and the cause."""


class Analyzer(ImageAnalyser):
    """A model that describes an image in words (tags or a sentence)."""

    name = "analyzer"
    thread_safe = False
    fields = ("models",)

    def analyse(self, frame: Frame, record: dict[str, Any]) -> None:
        record.setdefault("models", {})[self.key()] = self.describe(frame.image)

    def release(self) -> None:
        gc.collect()
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()

    def describe(self, image: Image.Image) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def key(self) -> str:
        """Identifies this analyser's output in the analysis cache."""
        return self.name


def _resolve(source: str, filenames: tuple[str, ...]) -> dict[str, Path]:
    """Local paths of ``filenames`` from a folder, or downloaded from the Hugging Face id ``source``."""
    path = Path(source).expanduser()
    if path.is_dir():
        found = {name: path / name for name in filenames}
        missing = [n for n, p in found.items() if not p.is_file()]
        if missing:
            raise AnalyzerError(f"model folder {str(path)!r} lacks {missing}")
        return found
    if path.exists() or source.startswith((".", "/", "~")) or "/" not in source or source.count("/") > 1:
        raise AnalyzerError(f"model {source!r}: not a folder with {list(filenames)} nor a Hugging Face id 'owner/name'")
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:
        raise AnalyzerError(f"model {source!r}: downloading needs huggingface_hub ({exc})") from None
    out: dict[str, Path] = {}
    for name in filenames:
        try:
            out[name] = Path(hf_hub_download(source, name))
        except Exception as exc:
            raise AnalyzerError(f"model {source!r}: cannot download {name!r}: {exc}") from None
    return out


class WD14Tagger(Analyzer):
    """SmilingWolf's WD14 taggers (``model.onnx`` + ``selected_tags.csv``) through onnxruntime.

    Preprocessing as the reference implementation (kohya's ``tag_images_by_wd14_tagger.py``): pad to a
    white square, resize to the model's input size, BGR, float32 in 0..255. General tags (category 0)
    above ``threshold`` are kept, ratings (category 9) ignored, character tags (category 4, names)
    only with ``characters=True`` and above ``character_threshold``.
    """

    name = "wd14"

    def __init__(
        self, source: str, threshold: float = 0.35, character_threshold: float = 0.85, characters: bool = False
    ) -> None:
        self.source = source
        self.threshold = threshold
        self.character_threshold = character_threshold
        self.characters = characters
        self.session: Any = None
        self.input_name = ""
        self.input_size = 448
        self.tags: list[tuple[str, int]] = []

    def key(self) -> str:
        return f"wd14:{self.source}:{self.threshold}:{self.character_threshold}:{self.characters}"

    def load(self) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise AnalyzerError("the WD14 tagger needs onnxruntime: pip install onnxruntime") from None
        files = _resolve(self.source, ("model.onnx", "selected_tags.csv"))
        try:
            with open(files["selected_tags.csv"], encoding="utf-8", newline="") as handle:
                rows = list(csv.reader(handle))
        except OSError as exc:
            raise AnalyzerError(f"WD14 tagger {self.source!r}: cannot read selected_tags.csv: {exc}") from None
        if not rows or rows[0][:3] != ["tag_id", "name", "category"]:
            raise AnalyzerError(f"WD14 tagger {self.source!r}: selected_tags.csv must start with tag_id,name,category")
        self.tags = [(row[1], int(row[2])) for row in rows[1:] if len(row) >= 3]
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()]
        try:
            self.session = ort.InferenceSession(str(files["model.onnx"]), providers=providers)
        except Exception as exc:
            raise AnalyzerError(f"WD14 tagger {self.source!r}: onnxruntime cannot load model.onnx: {exc}") from None
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        shape = inp.shape
        if len(shape) != 4 or not isinstance(shape[1], int) or shape[1] != shape[2] or shape[3] != 3:
            raise AnalyzerError(f"WD14 tagger {self.source!r}: expected an NHWC input [N, S, S, 3], got {shape}")
        self.input_size = int(shape[1])
        outputs = self.session.get_outputs()[0].shape
        if isinstance(outputs[-1], int) and outputs[-1] != len(self.tags):
            raise AnalyzerError(
                f"WD14 tagger {self.source!r}: model gives {outputs[-1]} scores but selected_tags.csv has "
                f"{len(self.tags)} tags"
            )
        logger.info("loaded WD14 tagger %s (%d tags, input %d)", self.source, len(self.tags), self.input_size)

    def release(self) -> None:
        self.session = None
        super().release()

    def scores(self, image: Image.Image) -> list[tuple[str, int, float]]:
        import numpy as np
        from PIL import Image as PILImage

        if self.session is None:
            raise AnalyzerError("WD14 tagger used outside its 'with' block (not loaded)")
        rgb = image.convert("RGB")
        side = max(rgb.size)
        canvas = PILImage.new("RGB", (side, side), (255, 255, 255))
        canvas.paste(rgb, ((side - rgb.width) // 2, (side - rgb.height) // 2))
        canvas = canvas.resize((self.input_size, self.input_size), PILImage.Resampling.BICUBIC)
        batch = np.asarray(canvas, dtype=np.float32)[None, :, :, ::-1].copy()
        probs = self.session.run(None, {self.input_name: batch})[0][0]
        return [(name, cat, float(p)) for (name, cat), p in zip(self.tags, probs, strict=True)]

    def describe(self, image: Image.Image) -> str:
        picked: list[tuple[float, str]] = []
        for name, category, p in self.scores(image):
            if (category == 0 and p >= self.threshold) or (
                category == 4 and self.characters and p >= self.character_threshold
            ):
                picked.append((p, name))
        picked.sort(key=lambda t: (-t[0], t[1]))
        return ", ".join(name.replace("_", " ") if len(name) > 3 else name for _, name in picked)


#: Hub repositories whose own model code (``trust_remote_code``) is run: Microsoft's Florence-2 releases.
TRUSTED_REMOTE_CODE = frozenset(f"microsoft/Florence-2-{size}{ft}" for size in ("base", "large") for ft in ("", "-ft"))
FLORENCE_TASK = "<MORE_DETAILED_CAPTION>"


class TransformersCaptioner(Analyzer):
    """An image-to-text model from transformers: BLIP, GIT, ViT-GPT2 and other encoder-decoders, and Florence-2
    (asked for its ``<MORE_DETAILED_CAPTION>`` task; Microsoft's Hub releases run their own model code, the
    transformers-native ones — ``model_type`` ``florence2`` in transformers 4.56 and later — do not)."""

    name = "captioner"

    def __init__(self, source: str, max_new_tokens: int = 40, device: str = "") -> None:
        self.source = source
        self.max_new_tokens = max_new_tokens
        self.device = device
        self.model: Any = None
        self.processor: Any = None
        self.image_processor: Any = None
        self.tokenizer: Any = None
        self.florence = False

    def key(self) -> str:
        return f"captioner:{self.source}:{self.max_new_tokens}"

    def load(self) -> None:
        try:
            import torch
            import transformers
        except ImportError as exc:
            raise AnalyzerError(f"the captioner needs torch and transformers ({exc})") from None
        src = self.source
        if not Path(src).expanduser().is_dir() and (src.count("/") != 1 or src.startswith((".", "/", "~"))):
            raise AnalyzerError(f"captioner {src!r}: not a model folder nor a Hugging Face id 'owner/name'")
        remote = src in TRUSTED_REMOTE_CODE
        try:
            config = transformers.AutoConfig.from_pretrained(src, trust_remote_code=remote)
        except Exception as exc:
            raise AnalyzerError(f"captioner {src!r}: cannot read its config: {exc}") from None
        self.florence = str(getattr(config, "model_type", "")).startswith("florence")
        try:
            processor = transformers.AutoProcessor.from_pretrained(src, trust_remote_code=remote)
        except Exception as exc:
            if self.florence:
                raise AnalyzerError(f"captioner {src!r}: cannot load its processor: {exc}") from None
            logger.debug("AutoProcessor failed for %s: %s", src, exc)
            processor = None
        self.processor = processor
        try:
            self.image_processor = getattr(processor, "image_processor", None) or (
                processor
                if processor is not None and not hasattr(processor, "decode")
                else transformers.AutoImageProcessor.from_pretrained(src)
            )
            self.tokenizer = getattr(processor, "tokenizer", None) or transformers.AutoTokenizer.from_pretrained(src)
        except Exception as exc:
            raise AnalyzerError(f"captioner {src!r}: cannot load its image processor/tokenizer: {exc}") from None
        names: tuple[str, ...] = ("AutoModelForImageTextToText", "AutoModelForVision2Seq")
        if remote:  # Microsoft's own Florence-2 code registers itself as a causal LM
            names = ("AutoModelForCausalLM", *names)
        auto_classes = [getattr(transformers, n, None) for n in names] + [transformers.VisionEncoderDecoderModel]
        error: Exception | None = None
        for auto in [a for a in auto_classes if a is not None]:
            try:
                self.model = (
                    auto.from_pretrained(src, trust_remote_code=remote) if remote else auto.from_pretrained(src)
                )
                break
            except Exception as exc:
                error = exc
        if self.model is None:
            raise AnalyzerError(f"captioner {src!r}: not an image-to-text model: {error}")
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(device).eval()
        self.device = device
        logger.info("loaded captioner %s on %s", src, device)

    def release(self) -> None:
        self.model = None
        self.processor = None
        self.image_processor = None
        self.tokenizer = None
        super().release()

    def describe(self, image: Image.Image) -> str:
        import torch

        if self.model is None:
            raise AnalyzerError("captioner used outside its 'with' block (not loaded)")
        rgb = image.convert("RGB")
        if self.florence:
            return self._florence(rgb)
        pixels = self.image_processor(images=rgb, return_tensors="pt")["pixel_values"]
        with torch.inference_mode():
            out = self.model.generate(
                pixel_values=pixels.to(self.device, self.model.dtype),
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                num_beams=1,
            )
        text = self.tokenizer.decode(out[0], skip_special_tokens=True)
        return " ".join(str(text).split())

    def _florence(self, rgb: Image.Image) -> str:
        import torch

        inputs = self.processor(text=FLORENCE_TASK, images=rgb, return_tensors="pt")
        inputs = {k: v.to(self.device, self.model.dtype) if v.is_floating_point() else v.to(self.device)
                  for k, v in inputs.items()}  # fmt: skip
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False, num_beams=3)
        raw = self.processor.batch_decode(out, skip_special_tokens=False)[0]
        try:
            text = self.processor.post_process_generation(raw, task=FLORENCE_TASK, image_size=rgb.size)[FLORENCE_TASK]
        except Exception:  # a processor without Florence's post-processing: plain decoding
            text = self.processor.batch_decode(out, skip_special_tokens=True)[0]
        return " ".join(str(text).split())


@dataclass(frozen=True)
class ModelChoice:
    """A captioner or tagger the tab offers, with its download size (the weights file as the Hugging Face Hub
    lists it; downloaded once into the Hub cache on first use)."""

    label: str
    kind: str  # wd14 | captioner
    source: str  # Hugging Face id
    size: str
    what: str  # what it writes

    def title(self) -> str:
        return f"{self.label} — {self.what}, {self.size} download"


CATALOGUE = (
    ModelChoice("WD14 ViT v3", "wd14", "SmilingWolf/wd-vit-tagger-v3", "379 MB", "danbooru tags"),
    ModelChoice("WD14 SwinV2 v3", "wd14", "SmilingWolf/wd-swinv2-tagger-v3", "467 MB", "danbooru tags"),
    ModelChoice("WD14 EVA02-Large v3", "wd14", "SmilingWolf/wd-eva02-large-tagger-v3", "1.26 GB", "danbooru tags"),
    ModelChoice("BLIP base", "captioner", "Salesforce/blip-image-captioning-base", "990 MB", "a sentence"),
    ModelChoice("BLIP large", "captioner", "Salesforce/blip-image-captioning-large", "1.88 GB", "a sentence"),
    ModelChoice("Florence-2 base", "captioner", "microsoft/Florence-2-base", "464 MB", "a detailed sentence"),
)


def choice(title_or_source: str) -> ModelChoice | None:
    """The catalogue entry with this title, label or Hugging Face id."""
    key = title_or_source.strip()
    return next((c for c in CATALOGUE if key in (c.title(), c.label, c.source)), None)


class CallableAnalyzer(Analyzer):
    """Any ``fn(PIL image) -> str``, with optional load/unload hooks (A1111's interrogators, from the tab)."""

    def __init__(
        self,
        name: str,
        fn: Callable[[Image.Image], str],
        load: Callable[[], object] | None = None,
        unload: Callable[[], object] | None = None,
    ) -> None:
        self.name = name
        self.fn = fn
        self._load = load
        self._unload = unload

    def load(self) -> None:
        if self._load is not None:
            try:
                self._load()
            except Exception as exc:  # the host's model failed to load (missing file, no network, …)
                raise AnalyzerError(f"{self.name}: could not be loaded: {type(exc).__name__}: {exc}") from exc

    def release(self) -> None:
        if self._unload is not None:
            self._unload()
        super().release()

    def describe(self, image: Image.Image) -> str:
        return " ".join(str(self.fn(image) or "").split())
