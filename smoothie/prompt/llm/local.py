"""A local language model chosen in Settings: the recommended ones, their download, and the backend options.

The WebUI's Settings → Smoothie offers a small instruction-tuned model by Hugging Face id (or any GGUF file,
model folder or id the user types). It is downloaded once, on first use, with a progress bar
(:func:`download`), loaded once by the ``transformers`` backend (on the GPU when there is one), and moved off
the GPU after each ensemble so sampling has the memory (:func:`smoothie.prompt.backends.offload_backends`).
The ``auto`` backend uses it when no local server (Ollama, LM Studio, llama.cpp) answers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smoothie.prompt.llm.errors import BackendUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recommended:
    """A model Settings offers: its Hub id, what it needs and why."""

    model_id: str
    label: str
    min_transformers: tuple[int, ...]


#: What Settings offers, best first. SmolLM2-1.7B-Instruct (Apache-2.0) uses plain multi-head attention, so it
#: runs on every host's transformers (A1111 pins 4.30.2); Qwen2.5 needs 4.37 (Forge, reForge).
RECOMMENDED: tuple[Recommended, ...] = (
    Recommended(
        "HuggingFaceTB/SmolLM2-1.7B-Instruct", "SmolLM2 1.7B Instruct: recommended with a GPU (3.4 GB)", (4, 30)
    ),
    Recommended(
        "Qwen/Qwen2.5-1.5B-Instruct", "Qwen2.5 1.5B Instruct: with a GPU, transformers 4.37+ (3.1 GB)", (4, 37)
    ),
    Recommended(
        "HuggingFaceTB/SmolLM2-360M-Instruct",
        "SmolLM2 360M Instruct: small, fine on a CPU, transformers 4.31+ (0.7 GB)",
        (4, 31),
    ),
)
DEFAULT_RECOMMENDED = RECOMMENDED[0].model_id
# Files a transformers model needs; the rest of a repository (GGUF, ONNX, .bin duplicates) is not downloaded.
ALLOW_PATTERNS = ("*.json", "*.safetensors", "*.txt", "*.model", "*.jinja", "tokenizer*")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def is_hub_id(spec: str) -> bool:
    """``org/name`` that is not a file or folder on this machine."""
    text = spec.strip()
    return bool(_HUB_ID.match(text)) and not Path(text).expanduser().exists()


def backend_options(model: str | None, device: str = "auto") -> dict[str, Any]:
    """The options that give the ``auto`` and ``transformers`` backends the Settings' local model."""
    options: dict[str, Any] = {}
    if model and model.strip():
        options["local_model"] = model.strip()
    if device and device != "auto":
        options["device"] = device
    return options


ProgressFn = Callable[[float, str], None]


def download(spec: str, progress: ProgressFn | None = None) -> str:
    """Make a Hub model available offline (once; later calls find the files in the Hugging Face cache) and
    return ``spec``; a file or folder is returned as is. ``progress(fraction, text)`` follows the download.

    Raises :class:`BackendUnavailable` naming the model and what went wrong (no network, no such model).
    """
    if not is_hub_id(spec):
        return spec
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise BackendUnavailable(f"downloading {spec} needs huggingface_hub: pip install huggingface_hub") from None
    kwargs: dict[str, Any] = {"repo_id": spec.strip(), "allow_patterns": list(ALLOW_PATTERNS)}
    if progress is not None:
        kwargs["tqdm_class"] = _progress_tqdm(spec, progress)
    try:
        path = snapshot_download(**kwargs)
    except Exception as exc:  # offline, gated, misspelt: the backend falls back to rules with this message
        raise BackendUnavailable(f"cannot download {spec}: {type(exc).__name__}: {exc}") from exc
    log.info("%s is available in %s", spec, path)
    return spec


def _progress_tqdm(spec: str, progress: ProgressFn) -> Any:
    from tqdm.auto import tqdm

    class Reporting(tqdm):
        def update(self, n: float | None = 1) -> bool | None:
            shown = super().update(n)
            total = self.total or 0
            if total:
                progress(min(1.0, self.n / total), f"downloading {spec}")
            return shown

    return Reporting


def cached(spec: str) -> bool:
    """Whether a Hub model is already in the Hugging Face cache (no download needed), or ``spec`` is local."""
    if not is_hub_id(spec):
        return Path(spec).expanduser().exists()
    try:
        from huggingface_hub import snapshot_download

        snapshot_download(repo_id=spec.strip(), allow_patterns=list(ALLOW_PATTERNS), local_files_only=True)
    except Exception:
        return False
    return True
