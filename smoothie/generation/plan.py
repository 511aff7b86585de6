"""One Smoothie run, decided before the host generates: the frozen :class:`RunPlan`, and its :class:`RunRecord`.

:func:`plan_run` turns the parameters, the loaded model's family and the installed LoRA files into everything
a host adapter applies: prompt edits (the negative LoRA's tag in the positive prompts, its trigger in the
negative ones), the CFG scale, the guidance, the ensemble, and what the infotext says. Adapters only apply
it; what actually happened while the host ran (an ensemble that could not be built, a sampler a guidance
method cannot hook, the paraphrase each image used) goes into the :class:`RunRecord`, and the infotext is
written from plan and record together, so it never claims what did not happen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smoothie.generation.ensemble import EnsemblePlan, Paraphraser
from smoothie.generation.guidance import GuidanceMode, GuidancePlan
from smoothie.generation.lora import LoraChoice, choose_lora
from smoothie.generation.model import ModelFamily
from smoothie.lora import inject_lora, inject_trigger
from smoothie.params import INFOTEXT_KEYS, EnsembleMode, SmoothieParams, format_infotext_value

if TYPE_CHECKING:
    from smoothie.prompt.engine import Rewrite

#: Infotext keys written by the run itself (beside the parameters' own).
ERROR_KEY = "Smoothie error"
NOTE_KEY = "Smoothie note"
GENERIC_KEY = "Smoothie generic"
#: What wrote the ensemble: the backend and model that answered and its share ("transformers X (21 of 32)").
MODEL_KEY = "Smoothie model"
PARAPHRASE_KEY = INFOTEXT_KEYS["paraphrase"]


#: The file types a WebUI loads as textual-inversion embeddings (the word is the file's name without it).
EMBEDDING_SUFFIXES = (".pt", ".safetensors", ".bin")


def embedding_words(folders: Iterable[Path]) -> tuple[str, ...]:
    """The words of the textual-inversion embeddings in ``folders`` (subfolders too): a prompt's ``lazypos`` or
    ``(easynegative:0.9)`` calls an embedding by its file name, a word the prompt engine must keep as written,
    never read as a name. A folder that is missing or unreadable adds nothing."""
    words: set[str] = set()
    for folder in folders:
        try:
            for path in Path(folder).rglob("*"):
                if path.suffix.lower() in EMBEDDING_SUFFIXES and path.is_file() and path.stem.strip():
                    words.add(path.stem)
        except OSError:
            continue
    return tuple(sorted(words))


def keep_for(prompt: str, keep: Sequence[str], embeddings: Sequence[str]) -> tuple[str, ...]:
    """The names to keep for ``prompt``: the user's, then each embedding word the prompt holds (a whole word,
    any case), so the engine's cache key grows only by what the prompt uses."""
    low = prompt.lower()
    used = [
        w for w in embeddings if w.lower() in low and re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", prompt, re.I)
    ]
    return tuple(dict.fromkeys([*keep, *used]))


def default_paraphraser(
    params: SmoothieParams,
    extra_names: Sequence[Any] = (),
    tag_database: str | None = None,
    backend_options: Mapping[str, Any] | None = None,
    embeddings: Sequence[str] = (),
) -> Paraphraser:
    """The prompt engine with the run's settings and a fixed seed (so a paste reproduces the ensemble).

    ``tag_database``: the tag database file (None: the default one). ``backend_options``: the LLM options from
    Settings (the local model), for the backends that take them. ``embeddings``: the words of the host's
    textual-inversion embeddings (:func:`embedding_words`), kept as written. A local model is moved off the GPU
    once the ensemble is written, so sampling has the memory.
    """
    from smoothie.prompt import rewrite
    from smoothie.prompt.backends import offload_backends

    kwargs: dict[str, Any] = {"extra_names": tuple(extra_names)} if extra_names else {}
    if tag_database:
        kwargs["tag_database"] = tag_database
    options = backend_options_for(params.backend, backend_options)
    if options:
        kwargs["backend_options"] = options

    def paraphrase(prompt: str) -> Rewrite:
        try:
            keep = keep_for(prompt, params.keep, embeddings)
            return rewrite(prompt, n=params.ensemble_size, backend=params.backend, seed=0, keep=keep, **kwargs)
        finally:
            offload_backends()

    return paraphrase


def backend_options_for(backend: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Of ``options``, those backend ``backend`` accepts (``local_model`` is ``model`` to ``transformers``)."""
    if not options:
        return {}
    from smoothie.prompt.backends import backend_parameters

    given = dict(options)
    if backend == "transformers" and "local_model" in given:
        given["model"] = given.pop("local_model")
    try:
        accepted = backend_parameters(backend)
    except ValueError:  # an unknown backend: the engine says so
        return {}
    return given if accepted is None else {k: v for k, v in given.items() if k in accepted}


def model_value(rewrite: Rewrite) -> str:
    """The ``Smoothie model`` infotext value: what wrote the ensemble, and how much of it."""
    used = rewrite.sources.count("model")
    if used:
        return f"{rewrite.model} ({used} of {len(rewrite.sources)})"
    return "none (rules)" if rewrite.backend != "rules" else ""


@dataclass(frozen=True)
class RunPlan:
    """Everything one run changes, decided up front. Build it with :func:`plan_run`."""

    params: SmoothieParams
    family: ModelFamily
    ensemble: EnsemblePlan | None
    guidance: GuidancePlan
    #: The CFG scale to generate with (None: keep the host's).
    cfg_scale: float | None
    lora: LoraChoice
    #: The trigger to add to the negative prompts ("" for none): with the LoRA, or alone in the placebo cell.
    trigger: str
    #: Problems the user must see (``Smoothie error``) and plain information (``Smoothie note``).
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def positive(self, prompt: str) -> str:
        """A positive prompt with the negative LoRA's tag (once; none when no LoRA is applied)."""
        if self.lora.name is None:
            return prompt
        return inject_lora(prompt, self.lora.name, self.lora.weight)

    def negative(self, prompt: str) -> str:
        """A negative prompt with the trigger word (once; unchanged when there is no trigger to add)."""
        return inject_trigger(prompt, self.trigger) if self.trigger else prompt

    @property
    def edits_prompts(self) -> bool:
        return self.lora.name is not None or bool(self.trigger)

    def infotext(self) -> dict[str, str]:
        """The parameters as this run applies them (before anything at generation time changes that)."""
        info = self.params.to_infotext()
        info.pop(PARAPHRASE_KEY, None)  # per image, from the record
        info.pop(INFOTEXT_KEYS["sweep"], None)  # a way of running the script, not a setting of the image
        info[INFOTEXT_KEYS["enabled"]] = format_infotext_value(self.ensemble is not None)
        _guidance_infotext(info, self.guidance)
        info[INFOTEXT_KEYS["negative_lora"]] = self.lora.infotext_value
        return {k: v for k, v in info.items() if v != ""}


def plan_run(
    params: SmoothieParams,
    *,
    family: ModelFamily,
    lora_files: Sequence[Path] = (),
    lora_folders: Sequence[Path] = (),
    cfg_scale: float | None = None,
    placebo: bool = False,
    paraphraser: Paraphraser | None = None,
    extra_names: Iterable[Any] = (),
    tag_database: str | None = None,
    backend_options: Mapping[str, Any] | None = None,
    embeddings: Sequence[str] = (),
) -> RunPlan:
    """Decide the run of ``params`` on a model of ``family`` with the LoRA files the host can load.

    ``cfg_scale`` is the host's CFG scale (only used to say that a rescale at CFG 1 changes nothing).
    ``placebo`` is the comparison grid's control cell: the trigger in the negative prompt without its LoRA.
    ``paraphraser`` replaces the prompt engine (tests; ``extra_names`` is the user's names list for it,
    ``tag_database`` the tag database file, None for the default one, and ``backend_options`` the LLM options
    from Settings); ``embeddings`` the words of the host's textual-inversion embeddings, kept as written.
    """
    errors: list[str] = []
    notes: list[str] = []

    ensemble = None
    if params.enabled:
        ensemble = EnsemblePlan(
            mode=params.mode,
            size=params.ensemble_size,
            paraphraser=paraphraser
            or default_paraphraser(
                params, tuple(extra_names), tag_database, backend_options=backend_options, embeddings=embeddings
            ),
            first=params.paraphrase if params.mode is EnsembleMode.PER_IMAGE else 0,
        )

    guidance = guidance_plan(params)
    if guidance.active and family.is_flow:
        label = guidance.label
        reason = f"{label} not applied: {family.label} is a flow-matching model, which {label} does not fit"
        guidance = GuidancePlan(skipped=reason)
        notes.append(reason)

    boost = params.cfg_boost or None
    scale = boost if boost is not None else cfg_scale
    if guidance.mode is not GuidanceMode.CFG and scale == 1.0:
        notes.append(f"CFG scale 1: no guidance for {guidance.label} to change")

    lora = LoraChoice(requested="", weight=params.lora_weight)
    trigger = ""
    if placebo:
        trigger = params.trigger
    elif params.negative_lora:
        lora = choose_lora(
            params.negative_lora,
            trigger=params.trigger,
            weight=params.lora_weight,
            family=family,
            files=lora_files,
            folders=lora_folders,
        )
        trigger = params.trigger if lora.applied else ""
        if lora.error:
            errors.append(lora.error)
        if lora.note:
            notes.append(lora.note)
    return RunPlan(
        params=params,
        family=family,
        ensemble=ensemble,
        guidance=guidance,
        cfg_scale=boost,
        lora=lora,
        trigger=trigger,
        errors=tuple(errors),
        notes=tuple(notes),
    )


def guidance_plan(params: SmoothieParams) -> GuidancePlan:
    """The guidance ``params`` ask for: the method (rescale with φ 0 is the host's CFG) and the interval."""
    low, high = params.interval or (None, None)
    if params.guidance == "apg":
        mode = GuidanceMode.APG
    elif params.guidance == "rescale" and params.rescale > 0:
        mode = GuidanceMode.RESCALE
    else:
        mode = GuidanceMode.CFG
    return GuidancePlan(
        mode,
        rescale=params.rescale if mode is GuidanceMode.RESCALE else 0.0,
        eta=params.apg_eta,
        norm_threshold=params.apg_norm_threshold,
        momentum=params.apg_momentum,
        sigma_min=low,
        sigma_max=high,
    )


def _guidance_infotext(info: dict[str, str], guidance: GuidancePlan | None) -> None:
    """Write the guidance keys as applied (``guidance`` None: nothing applied): the method, φ only for rescale,
    APG's settings only for APG, the interval's sides only where set."""
    mode = guidance.mode if guidance is not None else GuidanceMode.CFG
    info[INFOTEXT_KEYS["guidance"]] = mode.value
    rescale = guidance.rescale if guidance is not None and mode is GuidanceMode.RESCALE else 0.0
    info[INFOTEXT_KEYS["rescale"]] = format_infotext_value(rescale)
    for name in ("apg_eta", "apg_norm_threshold", "apg_momentum", "sigma_min", "sigma_max"):
        info.pop(INFOTEXT_KEYS[name], None)
    if guidance is None:
        return
    if mode is GuidanceMode.APG:
        info[INFOTEXT_KEYS["apg_eta"]] = format_infotext_value(guidance.eta)
        info[INFOTEXT_KEYS["apg_norm_threshold"]] = format_infotext_value(guidance.norm_threshold)
        info[INFOTEXT_KEYS["apg_momentum"]] = format_infotext_value(guidance.momentum)
    if guidance.sigma_min is not None:
        info[INFOTEXT_KEYS["sigma_min"]] = format_infotext_value(guidance.sigma_min)
    if guidance.sigma_max is not None:
        info[INFOTEXT_KEYS["sigma_max"]] = format_infotext_value(guidance.sigma_max)


@dataclass
class RunRecord:
    """What happened while the host ran the plan; with the plan, the source of the infotext.

    Messages are kept once each, in order. ``paraphrase_used`` maps an image's index in the run to the
    paraphrase it used (per-image mode), for its own infotext.
    """

    plan: RunPlan
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ensemble_failed: bool = False
    guidance_skipped: str | None = None
    generic: str | None = None
    model: str = ""  # model_value() of the first prompt's rewrite
    paraphrase_used: dict[int, int] = field(default_factory=dict)
    encoded_texts: int = 0

    def __post_init__(self) -> None:
        for message in self.plan.errors:
            self.error(message)
        for message in self.plan.notes:
            self.note(message)

    def error(self, message: str) -> bool:
        """Record a problem; False when it was already recorded (so a host shows it once)."""
        if message in self.errors:
            return False
        self.errors.append(message)
        return True

    def note(self, message: str) -> bool:
        if message in self.notes:
            return False
        self.notes.append(message)
        return True

    def fail_ensemble(self, reason: str) -> str:
        """The ensemble could not be built: the rest of the run uses the prompt as written. Returns the message."""
        self.ensemble_failed = True
        message = f"prompt ensemble failed ({reason}); generated from the prompt as written"
        self.error(message)
        return message

    def skip_guidance(self, reason: str) -> None:
        """The guidance could not be applied (e.g. a sampler it cannot hook)."""
        self.guidance_skipped = reason
        self.note(reason)

    @property
    def ensemble_active(self) -> bool:
        return self.plan.ensemble is not None and not self.ensemble_failed

    @property
    def guidance_active(self) -> bool:
        return self.plan.guidance.active and self.guidance_skipped is None

    def paraphrase_for(self, image: int) -> str | None:
        """``Smoothie paraphrase`` for image ``image`` (per-image mode, once its conditioning was built)."""
        index = self.paraphrase_used.get(image)
        return None if index is None or not self.ensemble_active else str(index)

    def infotext(self) -> dict[str, str]:
        """The ``Smoothie …`` entries of the infotext, true to what happened so far."""
        info = self.plan.infotext()
        if self.ensemble_failed:
            info[INFOTEXT_KEYS["enabled"]] = format_infotext_value(False)
        if self.guidance_skipped is not None:
            _guidance_infotext(info, None)
        if self.generic is not None and self.ensemble_active:
            info[GENERIC_KEY] = self.generic
        if self.model and self.ensemble_active:
            info[MODEL_KEY] = self.model
        if self.notes:
            info[NOTE_KEY] = "; ".join(self.notes)
        if self.errors:
            info[ERROR_KEY] = "; ".join(self.errors)
        return info
