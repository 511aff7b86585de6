"""What each image of the "wrong" dataset asks the WebUI for: prompt, negative prompt, seed and size.

Pure and deterministic: image *i* of a run with seed *s* always gets the same request, whatever the number of
images, so a run that stopped half-way resumes with exactly the images it would have made, and a larger ``--n``
extends a finished set. Main flaws go round the categories in a per-seed order (the first twelve images show
twelve different kinds of flaw), each with one to three companions of other kinds, at varied weights.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from smoothie.wronglora.catalogue import CATEGORIES, GENERAL_GOOD, MEDIA, SUBJECTS, WEIGHTS, Concept, Subject, fits

#: Bumped when the same (seed, index) would plan a different request (recorded with each image).
PLAN_VERSION = 1


@dataclass(frozen=True)
class Settings:
    """The generation settings shared by every image of a run."""

    width: int = 1024
    height: int = 1024
    steps: int = 20
    cfg_scale: float = 7.0
    sampler: str = ""  # "" = the WebUI's default sampler
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 64 <= value <= 4096 or value % 8:
                raise ValueError(f"{name} must be a multiple of 8 from 64 to 4096, got {value!r}")
        if not isinstance(self.steps, int) or not 1 <= self.steps <= 150:
            raise ValueError(f"steps must be from 1 to 150, got {self.steps!r}")
        if not 1.0 <= float(self.cfg_scale) <= 30.0:
            raise ValueError(f"cfg_scale must be from 1 to 30, got {self.cfg_scale!r}")
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise ValueError(f"seed must be from 0 to 4294967295, got {self.seed!r}")


@dataclass(frozen=True)
class Generation:
    """One image's request: everything the WebUI needs, and what it was made of (for the JSONL record)."""

    index: int
    prompt: str
    negative_prompt: str
    seed: int
    settings: Settings
    subject: str
    medium: str
    concepts: tuple[tuple[str, str, float], ...] = field(default=())  # (text, category, weight)

    def payload(self, checkpoint: str | None = None) -> dict[str, Any]:
        """The ``/sdapi/v1/txt2img`` request body. ``checkpoint`` (a title from ``/sdapi/v1/sd-models``) is set
        through ``override_settings`` and kept loaded afterwards (the caller restores the user's model once)."""
        s = self.settings
        body: dict[str, Any] = {
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "seed": self.seed,
            "subseed": -1,
            "subseed_strength": 0,
            "width": s.width,
            "height": s.height,
            "steps": s.steps,
            "cfg_scale": s.cfg_scale,
            "batch_size": 1,
            "n_iter": 1,
            "restore_faces": False,
            "tiling": False,
            "enable_hr": False,
            "save_images": False,
            "send_images": True,
            "do_not_save_samples": True,
            "do_not_save_grid": True,
        }
        if s.sampler:
            body["sampler_name"] = s.sampler
        if checkpoint:
            body["override_settings"] = {"sd_model_checkpoint": checkpoint}
            body["override_settings_restore_afterwards"] = False
        return body

    def record(self) -> dict[str, Any]:
        """The JSON-able description of this request (the dataset's ``generations.jsonl`` holds one per image)."""
        s = self.settings
        return {
            "index": self.index,
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "seed": self.seed,
            "width": s.width,
            "height": s.height,
            "steps": s.steps,
            "cfg_scale": s.cfg_scale,
            "sampler": s.sampler or None,
            "subject": self.subject,
            "medium": self.medium,
            "concepts": [{"text": t, "category": c, "weight": w} for t, c, w in self.concepts],
            "plan_version": PLAN_VERSION,
        }


def weighted(text: str, weight: float) -> str:
    """A1111/Forge emphasis: ``(text:1.3)``; weight 1 is the plain text."""
    return text if weight == 1.0 else f"({text}:{weight:g})"


def category_order(seed: int) -> list[str]:
    """The order in which a run's images take their main flaw's category (a permutation per seed)."""
    names = list(CATEGORIES)
    random.Random(f"wrong-lora/categories/{seed}").shuffle(names)
    return names


def plan(index: int, settings: Settings) -> Generation:
    """The request for image ``index`` (0-based) of a run with ``settings``."""
    if index < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    rng = random.Random(f"wrong-lora/{PLAN_VERSION}/{settings.seed}/{index}")
    order = category_order(settings.seed)
    main_category = order[index % len(order)]
    main = rng.choice(CATEGORIES[main_category])
    subject = rng.choice([s for s in SUBJECTS if fits(main, s)])
    medium = rng.choice(MEDIA)
    others = [n for n in order if n != main_category and any(fits(c, subject) for c in CATEGORIES[n])]
    rng.shuffle(others)
    chosen: list[Concept] = [main]
    for name in others[: rng.randint(1, 3)]:
        chosen.append(rng.choice([c for c in CATEGORIES[name] if fits(c, subject)]))
    weights = [rng.choice(WEIGHTS) for _ in chosen]
    prompt = ", ".join([subject.text, medium, *(weighted(c.text, w) for c, w in zip(chosen, weights, strict=True))])
    negative = _negative(chosen, weights, subject)
    return Generation(
        index=index,
        prompt=prompt,
        negative_prompt=negative,
        seed=(settings.seed + index) % 2**32,
        settings=settings,
        subject=subject.text,
        medium=medium,
        concepts=tuple((c.text, c.category, w) for c, w in zip(chosen, weights, strict=True)),
    )


def _negative(chosen: list[Concept], weights: list[float], subject: Subject) -> str:
    words: list[str] = []
    seen: set[str] = set()
    for concept, weight in zip(chosen, weights, strict=True):
        for good in concept.good:
            if good not in seen:
                seen.add(good)
                words.append(weighted(good, weight))
    for good in GENERAL_GOOD:
        if good not in seen:
            seen.add(good)
            words.append(good)
    return ", ".join(words)


def plan_all(n: int, settings: Settings) -> list[Generation]:
    """The requests for images ``0 … n-1``."""
    if n < 1:
        raise ValueError(f"the number of images must be at least 1, got {n}")
    return [plan(i, settings) for i in range(n)]


def settings_from(record: Mapping[str, Any]) -> Settings:
    """The :class:`Settings` a manifest recorded (see dataset.py)."""
    return Settings(
        width=int(record["width"]),
        height=int(record["height"]),
        steps=int(record["steps"]),
        cfg_scale=float(record["cfg_scale"]),
        sampler=str(record.get("sampler") or ""),
        seed=int(record["seed"]),
    )
