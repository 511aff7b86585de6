"""The built-in catalogue of bad-quality concepts the "wrong" dataset is generated from.

The negative-LoRA recipe asks the model itself for "high resolution low quality images", "using a variety of
prompt weightings to get more distinct examples of types of bad images, such as blurry and bad hands": each
image's prompt is a clean subject with a few of these concepts weighted up, and the negative prompt holds their
good opposites (and general quality words), so guidance pushes *toward* the flaw. A LoRA trained on the results,
captioned with one trigger word, learns "what this model does wrong"; used with the trigger in the negative
prompt, classifier-free guidance then steers away from all of it at once.

Concepts are grouped by kind of flaw (:data:`CATEGORIES`). Every image draws its main concept from a different
category in turn, so even a handful of images covers blur, compression, anatomy, hands, colour, exposure and
so on. A concept that needs people or hands is only paired with a subject that has them. The README lists the
catalogue (``python -m smoothie wrong-lora catalogue`` prints it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Concept:
    """One kind of flaw: the words that ask for it, the words for its opposite, and what it needs in the image."""

    text: str
    category: str
    good: tuple[str, ...]
    needs: str = ""  # "" (any subject), "people" or "hands"


@dataclass(frozen=True)
class Subject:
    """A plain subject for a prompt, and whether it shows people and hands (for anatomy and hand flaws)."""

    text: str
    people: bool = False
    hands: bool = False


def _c(category: str, good: str, needs: str, *texts: str) -> tuple[Concept, ...]:
    goods = tuple(g.strip() for g in good.split(","))
    return tuple(Concept(t, category, goods, needs) for t in texts)


#: Categories of flaws, each with its concepts (the flaw's words, its good opposites for the negative prompt).
CATEGORIES: dict[str, tuple[Concept, ...]] = {
    "blur": _c(
        "blur", "sharp focus, in focus", "", "blurry", "out of focus", "motion blur", "soft focus", "blurry background"
    ),
    "compression": _c(
        "compression",
        "clean image, lossless",
        "",
        "jpeg artifacts",
        "compression artifacts",
        "pixelated",
        "color banding",
        "macroblocking",
    ),
    "resolution": _c(
        "resolution",
        "highres, high detail",
        "",
        "lowres",
        "low resolution",
        "blurry upscale",
        "low detail",
        "thumbnail",
    ),
    "hands": _c(
        "hands",
        "perfect hands, five fingers",
        "hands",
        "bad hands",
        "extra fingers",
        "missing fingers",
        "fused fingers",
        "malformed hands",
        "too many fingers",
    ),
    "anatomy": _c(
        "anatomy",
        "correct anatomy, natural proportions",
        "people",
        "deformed anatomy",
        "bad anatomy",
        "extra limbs",
        "extra arms",
        "bad proportions",
        "long neck",
        "disfigured",
        "mutated body",
    ),
    "face": _c(
        "face",
        "detailed face, symmetrical eyes",
        "people",
        "deformed face",
        "asymmetrical eyes",
        "cross-eyed",
        "distorted face",
        "bad teeth",
    ),
    "colour": _c(
        "colour",
        "natural colors, balanced color grading",
        "",
        "oversaturated",
        "washed out colors",
        "desaturated",
        "chromatic aberration",
        "color cast",
    ),
    "exposure": _c(
        "exposure",
        "balanced exposure, soft natural lighting",
        "",
        "overexposed",
        "underexposed",
        "too dark",
        "blown highlights",
        "harsh flash",
    ),
    "noise": _c("noise", "clean, noise-free", "", "noisy", "grainy", "sensor noise", "heavy film grain", "dithering"),
    "marks": _c(
        "marks",
        "no text, clean background",
        "",
        "watermark",
        "signature",
        "text",
        "logo",
        "username",
        "timestamp",
    ),
    "composition": _c(
        "composition",
        "well composed, centered composition",
        "",
        "cropped",
        "out of frame",
        "bad framing",
        "tilted horizon",
        "duplicate",
        "cluttered",
    ),
    "craft": _c(
        "craft",
        "masterpiece, best quality, professional",
        "",
        "worst quality",
        "low quality",
        "amateur",
        "poorly drawn",
        "ugly",
        "messy",
    ),
}

#: Every concept, in catalogue order.
CONCEPTS: tuple[Concept, ...] = tuple(c for group in CATEGORIES.values() for c in group)

#: Plain subjects: people with hands (hand and anatomy flaws), people, animals, places, things.
SUBJECTS: tuple[Subject, ...] = (
    Subject("a portrait of a woman waving at the camera", people=True, hands=True),
    Subject("a man holding a cup of coffee", people=True, hands=True),
    Subject("a child holding a red balloon", people=True, hands=True),
    Subject("close-up of hands playing a piano", people=True, hands=True),
    Subject("a chef chopping vegetables in a kitchen", people=True, hands=True),
    Subject("two friends giving a high five in a park", people=True, hands=True),
    Subject("an old man reading a newspaper on a bench", people=True, hands=True),
    Subject("a woman playing an acoustic guitar", people=True, hands=True),
    Subject("a couple walking on a beach at sunset", people=True),
    Subject("a dancer in mid-leap on a stage", people=True),
    Subject("a runner crossing a city bridge", people=True),
    Subject("a cat sitting on a windowsill"),
    Subject("a dog running through a meadow"),
    Subject("a horse in a snowy field"),
    Subject("a mountain lake at dawn"),
    Subject("a busy city street at night"),
    Subject("a cozy living room with a fireplace"),
    Subject("a bowl of fruit on a wooden table"),
    Subject("a vintage car parked by a diner"),
    Subject("a lighthouse on a rocky coast"),
    Subject("a cathedral interior with stained glass"),
    Subject("a plate of pasta in a restaurant"),
)

#: Kinds of image, so the flaws are learned across media, not for one look only.
MEDIA: tuple[str, ...] = (
    "photo",
    "photograph",
    "digital painting",
    "illustration",
    "3d render",
    "anime illustration",
    "oil painting",
    "snapshot",
)

#: Always in the negative prompt: the words users put in positive prompts to ask for quality.
GENERAL_GOOD: tuple[str, ...] = ("high quality", "best quality", "sharp", "detailed")

#: Weights a concept may get (A1111's ``(text:w)``). Varied, per the recipe, so the images differ in how strong
#: each flaw is; above 1.6 the tiny weights of real models start to produce pure noise.
WEIGHTS: tuple[float, ...] = (1.1, 1.2, 1.3, 1.4, 1.5, 1.6)


def fits(concept: Concept, subject: Subject) -> bool:
    """Whether ``subject`` can show ``concept`` (hand flaws need hands, anatomy and face flaws need people)."""
    if concept.needs == "hands":
        return subject.hands
    if concept.needs == "people":
        return subject.people
    return True


def describe() -> str:
    """The catalogue as Markdown (for ``wrong-lora catalogue`` and the README)."""
    lines = ["| category | concepts (weighted up in the prompt) | opposites (in the negative prompt) | needs |"]
    lines.append("| --- | --- | --- | --- |")
    for name, group in CATEGORIES.items():
        needs = group[0].needs or "any subject"
        lines.append(f"| {name} | {', '.join(c.text for c in group)} | {', '.join(group[0].good)} | {needs} |")
    return "\n".join(lines)
