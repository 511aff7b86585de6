"""Applying one Smoothie run to an A1111 processing object ``p``, and undoing it.

Everything is scoped to ``p`` and to the sampler's denoiser that A1111 builds for ``p``:

* the prompt ensemble replaces ``p.get_conds_with_caching`` with a per-instance wrapper that computes the
  positive conditioning from the paraphrases (its own cache, never A1111's ``persistent_cond_cache``);
* CFG rescale wraps ``combine_denoised`` of the denoiser whose ``p`` is this one (found through the
  ``on_cfg_denoiser`` callback, which does nothing for any other generation);
* the negative LoRA and its trigger are written into this ``p``'s prompts; a CFG boost into ``p.cfg_scale``.

:class:`SmoothieRun` is a context manager: leaving it (normally, on error or after an interrupt) restores
every attribute it changed, so the next plain generation is bit-identical to one in a host that never loaded
the extension.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smoothie.params import AUTO_LORA, NO_LORA, EnsembleMode, SmoothieParams

logger = logging.getLogger(__name__)

STATE_ATTR = "_smoothie_run"
# Encode at most this many prompt variants in one text-encoder batch (bounds memory for large ensembles).
ENCODE_BATCH = 64


def model_architecture(sd_model: Any) -> Any:
    from smoothie.lora import Architecture

    if getattr(sd_model, "is_sdxl", False):
        return Architecture.SDXL
    if getattr(sd_model, "is_sd2", False):
        return Architecture.SD2
    if getattr(sd_model, "is_sd1", False):
        return Architecture.SD1
    return Architecture.UNKNOWN


def lora_dirs() -> list[Path]:
    from modules import shared

    dirs = [getattr(shared.cmd_opts, "lora_dir", None), getattr(shared.cmd_opts, "lyco_dir_backcompat", None)]
    return [Path(d) for d in dirs if d]


def list_lora_names() -> list[str]:
    """Names (file stems) of the LoRAs in A1111's LoRA folders, as ``<lora:NAME>`` accepts them."""
    from smoothie.lora import find_loras

    names: list[str] = []
    for d in lora_dirs():
        try:
            for path in find_loras(d):
                if path.stem not in names:
                    names.append(path.stem)
        except (OSError, ValueError) as exc:
            logger.warning("Smoothie: cannot list LoRAs in %s: %s", d, exc)
    return sorted(names, key=str.casefold)


def find_lora_file(name: str) -> Path | None:
    from smoothie.lora import find_loras

    candidates = [p for d in lora_dirs() for p in find_loras(d)]
    for path in candidates:
        if path.stem == name:
            return path
    for path in candidates:
        if path.stem.casefold() == name.casefold():
            return path
    return None


def check_negative_lora(name: str, sd_model: Any) -> tuple[str | None, str | None]:
    """(usable name, None) or (None, message) for a negative LoRA and the loaded model."""
    from smoothie.lora import Architecture, LoraFileError, inspect_lora

    path = find_lora_file(name)
    if path is None:
        where = ", ".join(str(d) for d in lora_dirs()) or "the LoRA folder"
        return None, f"negative LoRA {name!r} not found in {where}; generated without it"
    try:
        info = inspect_lora(path)
    except LoraFileError as exc:
        return None, f"negative LoRA {name!r} cannot be read ({exc}); generated without it"
    model_arch = model_architecture(sd_model)
    if Architecture.UNKNOWN not in (info.architecture, model_arch) and info.architecture is not model_arch:
        return None, (
            f"negative LoRA {name!r} is an {info.architecture.label} LoRA but the loaded model is "
            f"{model_arch.label}; generated without it"
        )
    return path.stem, None


@dataclass
class RunState:
    """What one run needs while A1111 samples; stored on ``p`` under :data:`STATE_ATTR`."""

    params: SmoothieParams
    ensemble: bool = False
    rescale: float = 0.0
    messages: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    paraphrases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    generic: dict[str, str] = field(default_factory=dict)
    cond_cache: list[tuple[Any, Any]] = field(default_factory=list)
    denoisers: list[Any] = field(default_factory=list)
    step_x: Any = None
    step_sigma: Any = None
    encoded_prompts: int = 0


class SmoothieRun:
    """Context manager applying ``params`` to ``p``; see the module docstring."""

    def __init__(self, p: Any, params: SmoothieParams, *, record_script: bool = True, extra_names: Any = ()):
        self.p = p
        self.params = params
        self.state = RunState(params=params)
        self.record_script = record_script
        self.extra_names = tuple(extra_names)
        self._saved: dict[str, Any] = {}
        self._had_own_attr: dict[str, bool] = {}

    # --- reporting ----------------------------------------------------------------------------------------
    def report(self, message: str) -> None:
        """Tell the user once: log, a comment under the image, and ``Smoothie error`` in the infotext."""
        text = f"Smoothie: {message}"
        if text in self.state.messages:
            return
        self.state.messages.append(text)
        logger.warning("%s", text)
        self.p.comment(text)
        self.p.extra_generation_params["Smoothie error"] = "; ".join(
            m[len("Smoothie: ") :] for m in self.state.messages
        )

    def note(self, message: str) -> None:
        if message in self.state.notes:
            return
        self.state.notes.append(message)
        logger.info("Smoothie: %s", message)
        self.p.extra_generation_params["Smoothie note"] = "; ".join(self.state.notes)

    # --- enter / exit -------------------------------------------------------------------------------------
    def _save(self, name: str) -> None:
        if name not in self._saved:
            self._had_own_attr[name] = name in vars(self.p)
            self._saved[name] = getattr(self.p, name, None)

    def __enter__(self) -> SmoothieRun:
        try:
            self._apply()
        except BaseException:
            self._restore()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._restore()

    def _apply(self) -> None:
        from modules import shared

        p, params = self.p, self.params
        info = {k: v for k, v in params.to_infotext().items() if v != ""}
        if self.record_script:
            p.extra_generation_params["Script"] = "Smoothie"
        p.extra_generation_params.update(info)
        self._save(STATE_ATTR)
        setattr(p, STATE_ATTR, self.state)

        lora = params.negative_lora
        if lora:
            self._load_requested_checkpoint()
        if lora == AUTO_LORA:
            lora = self._auto_lora(params.trigger, shared.sd_model)
        if lora:
            name, problem = check_negative_lora(lora, shared.sd_model)
            if problem:
                self.report(problem)
            else:
                assert name is not None
                self._inject_lora(name, params.lora_weight)
                self._inject_trigger(params.trigger)
        if params.cfg_boost:
            self._save("cfg_scale")
            p.cfg_scale = params.cfg_boost
        if params.rescale > 0:
            self.state.rescale = params.rescale
        if params.enabled:
            self.state.ensemble = True
            self._save("get_conds_with_caching")
            original = type(p).get_conds_with_caching.__get__(p)
            p.get_conds_with_caching = _conds_wrapper(self, original)

    def _restore(self) -> None:
        p = self.p
        for denoiser in self.state.denoisers:
            vars(denoiser).pop("combine_denoised", None)
        self.state.denoisers.clear()
        self.state.cond_cache.clear()
        for name, value in self._saved.items():
            if self._had_own_attr[name]:
                setattr(p, name, value)
            else:
                vars(p).pop(name, None)
        self._saved.clear()

    # --- negative LoRA --------------------------------------------------------------------------------------
    def _map_prompts(self, attr: str, fn: Any) -> None:
        value = getattr(self.p, attr, None)
        if value is None:
            return
        self._save(attr)
        if isinstance(value, list):
            setattr(self.p, attr, [fn(v) for v in value])
        elif isinstance(value, str) and (value or not attr.startswith("hr_")):
            # an empty hires prompt means "same as the first pass": A1111 copies p.prompt, already injected
            setattr(self.p, attr, fn(value))

    def _load_requested_checkpoint(self) -> None:
        """Load the checkpoint an API request overrides (``override_settings.sd_model_checkpoint``) now.

        A1111 switches to it only inside ``process_images``, after this run is set up; the negative LoRA must
        be checked against the model that will generate, not the one loaded before. This is the load
        ``process_images`` would do anyway (it finds the model in place), and A1111 restores the previous
        model afterwards as usual."""
        from modules import sd_models, shared

        name = (getattr(self.p, "override_settings", None) or {}).get("sd_model_checkpoint")
        info = sd_models.checkpoint_aliases.get(name) if name else None
        if info is None or getattr(shared.sd_model, "sd_checkpoint_info", None) is info:
            return
        try:
            sd_models.reload_model_weights(info=info)
        except Exception as exc:  # A1111 reports a failing load itself in process_images
            self.report(f"cannot load the requested checkpoint {name!r} to check the negative LoRA ({exc})")

    def _auto_lora(self, trigger: str, sd_model: Any) -> str:
        """The LoRA ``auto`` stands for (recorded in the infotext), or "" with a note when none fits."""
        from smoothie.lora import choose_negative_lora, find_loras

        arch = model_architecture(sd_model)
        paths = [p for d in lora_dirs() if d.is_dir() for p in find_loras(d)]
        chosen = choose_negative_lora(paths, trigger, arch)
        if chosen is None:
            self.p.extra_generation_params["Smoothie LoRA"] = NO_LORA
            self.note(f"no {arch.label} LoRA named like {trigger!r} installed: generated without a negative LoRA")
            return ""
        self.p.extra_generation_params["Smoothie LoRA"] = chosen.stem
        return chosen.stem

    def _inject_lora(self, name: str, weight: float) -> None:
        from smoothie.lora import inject_lora

        for attr in ("prompt", "hr_prompt"):
            self._map_prompts(attr, lambda s: inject_lora(s, name, weight))

    def _inject_trigger(self, trigger: str) -> None:
        from smoothie.lora import inject_trigger

        if not trigger:
            return
        for attr in ("negative_prompt", "hr_negative_prompt"):
            self._map_prompts(attr, lambda s: inject_trigger(s, trigger))

    def inject_trigger_only(self, trigger: str) -> None:
        """The placebo control of the comparison grid: the trigger without its LoRA."""
        self._inject_trigger(trigger)

    # --- ensemble -----------------------------------------------------------------------------------------
    def paraphrases_for(self, prompt: str) -> tuple[str, ...]:
        from smoothie.prompt import rewrite

        cached = self.state.paraphrases.get(prompt)
        if cached is not None:
            return cached
        params = self.params
        kwargs: dict[str, Any] = {}
        if self.extra_names:
            kwargs["extra_names"] = self.extra_names
        r = rewrite(prompt, n=params.ensemble_size, backend=params.backend, seed=0, keep=params.keep, **kwargs)
        for warning in getattr(r, "warnings", ()):
            self.note(warning)
        self.state.paraphrases[prompt] = tuple(r.paraphrases)
        self.state.generic.setdefault(prompt, r.generic)
        if len(self.state.generic) == 1:
            self.p.extra_generation_params["Smoothie generic"] = r.generic
        return self.state.paraphrases[prompt]


def _conds_wrapper(run: SmoothieRun, original: Any) -> Any:
    """``p.get_conds_with_caching`` that answers the positive prompts from the ensemble."""

    def get_conds_with_caching(function, required_prompts, steps, caches, extra_network_data, hires_steps=None):
        from modules import devices, prompt_parser, shared

        state = run.state
        if not state.ensemble or function is not prompt_parser.get_multicond_learned_conditioning:
            return original(function, required_prompts, steps, caches, extra_network_data, hires_steps)
        p = run.p
        try:
            key = (
                p.iteration if run.params.mode is EnsembleMode.PER_IMAGE else None,
                p.cached_params(
                    required_prompts, steps, extra_network_data, hires_steps, shared.opts.use_old_scheduling
                ),
            )
            for cached_key, value in state.cond_cache:
                if cached_key == key:
                    return value
            with devices.autocast():
                value = ensemble_conditioning(
                    run, shared.sd_model, required_prompts, steps, hires_steps, shared.opts.use_old_scheduling
                )
            state.cond_cache.append((key, value))
            return value
        except Exception as exc:  # the ensemble fails → generate from the prompt as written, and say so
            state.ensemble = False
            logger.debug("Smoothie ensemble failed", exc_info=True)
            run.report(f"prompt ensemble failed ({exc}); generated from the prompt as written")
            return original(function, required_prompts, steps, caches, extra_network_data, hires_steps)

    return get_conds_with_caching


def encode_prompts(sd_model: Any, texts: list[str], like: Any) -> dict[str, Any]:
    """Encode distinct ``texts`` in batches of :data:`ENCODE_BATCH`; returns text → conditioning.

    Same call A1111 makes (``sd_model.get_learned_conditioning(SdConditioning)``), so emphasis, embeddings,
    CLIP skip and SDXL's size conditioning apply as usual; A1111 pads a batch's prompts to one chunk count
    with the empty chunk.
    """
    from modules import prompt_parser

    unique = list(dict.fromkeys(texts))
    out: dict[str, Any] = {}
    for start in range(0, len(unique), ENCODE_BATCH):
        chunk = unique[start : start + ENCODE_BATCH]
        conds = sd_model.get_learned_conditioning(prompt_parser.SdConditioning(chunk, copy_from=like))
        for i, text in enumerate(chunk):
            out[text] = {k: v[i] for k, v in conds.items()} if isinstance(conds, dict) else conds[i]
    return out


def ensemble_conditioning(run: SmoothieRun, sd_model: Any, prompts: Any, steps: int, hires_steps: Any, old: bool):
    """A1111's ``get_multicond_learned_conditioning(prompts)``, answered from each prompt's paraphrases."""
    from modules import prompt_parser

    from smoothie.guidance import average_schedules

    params = run.params
    mode = params.mode
    batch = len(prompts)
    # the texts whose conditioning each batch position needs
    per_position: list[tuple[str, ...]] = []
    for i, prompt in enumerate(prompts):
        paras = run.paraphrases_for(prompt)
        if mode is EnsembleMode.PER_IMAGE:
            index = (run.p.iteration * batch + i) % len(paras)
            per_position.append((paras[index],))
        else:
            per_position.append(paras)
    flat = [t for texts in per_position for t in texts]
    # AND parts and their weights, as A1111 parses them
    res_indexes, part_texts, _ = prompt_parser.get_multicond_prompt_list(flat)
    part_schedules = prompt_parser.get_learned_conditioning_prompt_schedules(part_texts, steps, hires_steps, old)
    variants = [text for sched in part_schedules for _, text in sched]
    encoded = encode_prompts(sd_model, variants, prompts)
    run.state.encoded_prompts += len(set(variants))
    scheduled = [
        [prompt_parser.ScheduledPromptConditioning(end, encoded[text]) for end, text in sched]
        for sched in part_schedules
    ]
    pad = getattr(sd_model, "cond_stage_model_empty_prompt", None)
    composable = prompt_parser.ComposableScheduledPromptConditioning
    result = []
    offset = 0
    for texts in per_position:
        members = res_indexes[offset : offset + len(texts)]
        offset += len(texts)
        n = len(members)
        if mode is EnsembleMode.COMPOSABLE or n == 1:
            result.append([composable(scheduled[idx], weight / n) for parts in members for idx, weight in parts])
            continue
        shape = [tuple(round(w, 6) for _, w in parts) for parts in members]
        if len(set(shape)) != 1:
            raise ValueError(f"paraphrases split into different AND parts/weights ({sorted(set(shape))[:3]})")
        averaged = []
        for k, (_, weight) in enumerate(members[0]):
            sched = average_schedules([[(s.end_at_step, s.cond) for s in scheduled[m[k][0]]] for m in members], pad=pad)
            averaged.append(composable([prompt_parser.ScheduledPromptConditioning(e, c) for e, c in sched], weight))
        result.append(averaged)
    return prompt_parser.MulticondLearnedConditioning(shape=(batch,), batch=result)


# --- CFG rescale through the on_cfg_denoiser callback ---------------------------------------------------------


def prediction_space(denoiser: Any) -> str | None:
    """``x0`` for k-diffusion-style denoisers, ``eps`` for DDIM/PLMS/UniPC, None for unknown ones."""
    from modules import sd_samplers_kdiffusion, sd_samplers_timesteps

    if isinstance(denoiser, sd_samplers_timesteps.CFGDenoiserTimesteps):
        return "eps"
    if isinstance(denoiser, sd_samplers_kdiffusion.CFGDenoiserKDiffusion):
        return "x0"
    try:
        from modules import sd_samplers_lcm

        if isinstance(denoiser, sd_samplers_lcm.CFGDenoiserLCM):
            return "x0"
    except ImportError:
        pass
    return None


def on_cfg_denoiser(params: Any) -> None:
    """Callback for every denoising step of every generation: acts only for a ``p`` with a Smoothie run."""
    denoiser = getattr(params, "denoiser", None)
    run_state = getattr(getattr(denoiser, "p", None), STATE_ATTR, None)
    if run_state is None or run_state.rescale <= 0:
        return
    run_state.step_x = params.x
    run_state.step_sigma = params.sigma
    if "combine_denoised" in vars(denoiser):
        return
    space = prediction_space(denoiser)
    if space is None:
        logger.warning("Smoothie: CFG rescale skipped for the unknown sampler denoiser %s", type(denoiser).__name__)
        denoiser.p.extra_generation_params["Smoothie note"] = (
            f"CFG rescale not applied: unsupported sampler ({type(denoiser).__name__})"
        )
        run_state.rescale = 0.0
        return
    original = denoiser.combine_denoised
    phi = run_state.rescale

    def combine_denoised(x_out, conds_list, uncond, cond_scale):
        from smoothie.guidance import rescale_cfg, rescale_cfg_x0

        guided = original(x_out, conds_list, uncond, cond_scale)
        if cond_scale == 1.0:
            return guided
        cond = original(x_out, conds_list, uncond, 1.0)
        if space == "eps":
            return rescale_cfg(guided, cond, phi)
        b = guided.shape[0]
        return rescale_cfg_x0(run_state.step_x[-b:], guided, cond, run_state.step_sigma[-b:], phi)

    denoiser.combine_denoised = combine_denoised
    run_state.denoisers.append(denoiser)
