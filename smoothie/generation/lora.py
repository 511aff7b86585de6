"""Which negative LoRA a run applies, decided from the request, the loaded model's family and the LoRA files.

Never fails a generation: a LoRA that is missing, unreadable, malformed in a way the header reader does not
expect, or trained for another model family is left out with a message saying so, and the image is generated
without it. A ``<lora:…>`` tag is only ever planned for a file that exists (Forge drops every LoRA of a prompt
when one name in it is unknown).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from smoothie.generation.model import ModelFamily
from smoothie.lora import Architecture, choose_negative_lora, inspect_lora
from smoothie.params import AUTO_LORA, NO_LORA

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoraChoice:
    """The outcome: the LoRA to apply (``name``/``path``, None for none), and what to tell the user."""

    requested: str = ""
    name: str | None = None
    path: Path | None = None
    weight: float = 1.0
    #: A problem with the LoRA the user asked for (reported as ``Smoothie error``); generation goes on without it.
    error: str | None = None
    #: Why ``auto`` found nothing, or which files it had to pass over (``Smoothie note``).
    note: str | None = None

    @property
    def applied(self) -> bool:
        return self.name is not None

    @property
    def infotext_value(self) -> str:
        """What ``Smoothie LoRA`` records: the LoRA applied (so a paste reproduces it), else ``None``."""
        return self.name if self.name is not None else NO_LORA


def find_lora_file(name: str, files: Sequence[Path]) -> Path | None:
    """The file whose stem is ``name`` (exactly, else ignoring case), as ``<lora:NAME>`` resolves it."""
    for path in files:
        if path.stem == name:
            return path
    folded = name.casefold()
    for path in files:
        if path.stem.casefold() == folded:
            return path
    return None


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if text else type(exc).__name__


def _where(folders: Sequence[Path]) -> str:
    return ", ".join(str(d) for d in folders) or "the LoRA folder"


def choose_lora(
    requested: str,
    *,
    trigger: str,
    weight: float,
    family: ModelFamily,
    files: Sequence[Path],
    folders: Sequence[Path] = (),
) -> LoraChoice:
    """Decide the negative LoRA. ``requested`` is ``""`` (none), :data:`AUTO_LORA` or a LoRA name.

    ``files`` are the LoRA files the host can load (its LoRA folders, listed); ``folders`` only name them in
    messages. ``auto`` takes the first LoRA by name whose file name contains ``trigger`` and whose header says
    it was trained for ``family``. No exception from reading a file escapes: it becomes the message.
    """
    if not requested:
        return LoraChoice(requested="", weight=weight)
    if requested == AUTO_LORA:
        return _auto(trigger, weight, family, files)
    path = find_lora_file(requested, files)
    if path is None:
        return LoraChoice(
            requested,
            weight=weight,
            error=f"negative LoRA {requested!r} not found in {_where(folders)}; generated without it",
        )
    try:
        info = inspect_lora(path)
    except Exception as exc:  # any malformed file: a message, never a failed generation
        logger.debug("negative LoRA %s cannot be read", path, exc_info=True)
        return LoraChoice(
            requested,
            weight=weight,
            error=f"negative LoRA {requested!r} cannot be read ({_describe(exc)}); generated without it",
        )
    lora_arch = info.architecture
    if (
        lora_arch is not Architecture.UNKNOWN
        and family is not ModelFamily.UNKNOWN
        and lora_arch is not family.lora_architecture
    ):
        return LoraChoice(
            requested,
            weight=weight,
            error=(
                f"negative LoRA {requested!r} is an {lora_arch.label} LoRA but the loaded model is {family.label}; "
                "generated without it"
            ),
        )
    return LoraChoice(requested, name=path.stem, path=path, weight=weight)


def _auto(trigger: str, weight: float, family: ModelFamily, files: Sequence[Path]) -> LoraChoice:
    arch = family.lora_architecture
    if not trigger.strip():
        return LoraChoice(
            AUTO_LORA, weight=weight, note="negative LoRA auto needs a trigger word: generated without one"
        )
    if arch is Architecture.UNKNOWN:
        return LoraChoice(
            AUTO_LORA,
            weight=weight,
            note=(
                f"negative LoRA auto can only check SD1.x, SD2.x and SDXL LoRAs, and the loaded model is "
                f"{family.label}: generated without a negative LoRA"
            ),
        )
    candidates = [p for p in files if trigger.strip().casefold() in p.stem.casefold()]
    skipped: list[str] = []  # "NAME (why)" for each trigger-named file that could not be read
    try:
        chosen = choose_negative_lora(candidates, trigger, arch, skipped=skipped)
    except Exception:
        # A file the header reader did not expect: try the candidates one by one, passing over those that fail.
        logger.debug("auto negative LoRA: a candidate raised; retrying one by one", exc_info=True)
        chosen = None
        skipped.clear()
        for path in sorted(candidates, key=lambda p: p.stem.casefold()):
            try:
                chosen = choose_negative_lora([path], trigger, arch, skipped=skipped)
            except Exception as exc:
                skipped.append(f"{path.name} ({_describe(exc)})")
                continue
            if chosen is not None:
                break
    passed_over = f"; passed over unreadable {', '.join(skipped)}" if skipped else ""
    if chosen is None:
        return LoraChoice(
            AUTO_LORA,
            weight=weight,
            note=(
                f"no {'readable ' if skipped else ''}{arch.label} LoRA named like {trigger!r} installed: "
                f"generated without a negative LoRA{passed_over}"
            ),
        )
    return LoraChoice(AUTO_LORA, name=chosen.stem, path=chosen, weight=weight, note=passed_over[2:] or None)
