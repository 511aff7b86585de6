"""Applying one run plan to a host's processing object ``p``, and undoing it.

A :class:`SmoothieRun` is attached to ``p`` when the script starts (the dropdown's ``run``, or the X/Y/Z cell's
``before_process``). The plan is made in :meth:`SmoothieRun.begin`, called from the always-on companion
script's ``process(p)``: by then every host has loaded the checkpoint that will generate (Forge loads it
lazily inside ``process_images``) and set up ``p.all_prompts``, so the LoRA is checked against the right model
and the prompt edits reach every prompt of the run. Then:

* the prompt edits go into ``all_prompts``/``all_negative_prompts`` (and the hires lists), the CFG boost into
  ``cfg_scale`` (and Forge's ``hr_cfg``);
* the ensemble replaces ``p.get_conds_with_caching`` with a per-instance wrapper answering the positive
  prompts from :func:`smoothie.generation.ensemble_conditioning` (its own cache, never the host's);
* guidance is hooked per host (:mod:`smoothie.webui.host`).

Leaving the run (normally, on error or after an interrupt) restores every attribute it changed, so the next
plain generation is bit-identical. Any failure at generation time becomes a message in the infotext and the
image is generated without the failing part.
"""

from __future__ import annotations

import logging
from typing import Any

from smoothie.generation import (
    PARAPHRASE_KEY,
    RunPlan,
    RunRecord,
    embedding_words,
    ensemble_conditioning,
    model_value,
    plan_run,
)
from smoothie.params import EnsembleMode, SmoothieParams
from smoothie.webui import host as hosts

logger = logging.getLogger(__name__)

STATE_ATTR = "_smoothie_run"
_PROMPT_LISTS = (
    ("all_prompts", "positive"),
    ("all_hr_prompts", "positive"),
    ("main_prompt", "positive"),
    ("all_negative_prompts", "negative"),
    ("all_hr_negative_prompts", "negative"),
    ("main_negative_prompt", "negative"),
)


class SmoothieRun:
    """One run of ``params`` on ``p``: a context manager; see the module docstring."""

    def __init__(
        self,
        p: Any,
        params: SmoothieParams,
        *,
        record_script: bool = True,
        placebo: bool = False,
        extra_names: Any = (),
        tag_database: str | None = None,
        host: hosts.A1111Host | None = None,
    ):
        self.p = p
        self.params = params
        self.record_script = record_script
        self.placebo = placebo
        self.extra_names = tuple(extra_names)
        self.tag_database = tag_database
        self.host = host or hosts.current()
        self.plan: RunPlan | None = None
        self.record: RunRecord | None = None
        self.empty_cache: dict[int, Any] = {}
        self.cond_cache: list[tuple[Any, Any]] = []
        self.denoisers: list[Any] = []
        self.step_x: Any = None
        self.step_sigma: Any = None
        self._written_keys: set[str] = set()
        self.failed = False
        self._saved: dict[str, Any] = {}
        self._had_own_attr: dict[str, bool] = {}

    # --- enter / exit -------------------------------------------------------------------------------------
    def __enter__(self) -> SmoothieRun:
        self.set_attr(STATE_ATTR, self)
        if self.record_script:
            self.p.extra_generation_params["Script"] = "Smoothie"
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()
        from smoothie.prompt.backends import release_backends

        release_backends()  # the job is done: an LLM backend frees its (GPU) memory for the next one

    def set_attr(self, name: str, value: Any) -> None:
        """Set ``p.name`` and remember the old value (or its absence) for :meth:`restore`."""
        if name not in self._saved:
            self._had_own_attr[name] = name in vars(self.p)
            self._saved[name] = getattr(self.p, name, None)
        setattr(self.p, name, value)

    def restore(self) -> None:
        for denoiser in self.denoisers:
            vars(denoiser).pop("combine_denoised", None)
        self.denoisers.clear()
        self.cond_cache.clear()
        self.empty_cache.clear()
        for name, value in self._saved.items():
            if self._had_own_attr[name]:
                setattr(self.p, name, value)
            else:
                vars(self.p).pop(name, None)
        self._saved.clear()

    # --- messages and infotext ------------------------------------------------------------------------------
    def report(self, message: str) -> None:
        """A problem the user must see: logged, a comment under the image, ``Smoothie error`` in the infotext."""
        if self.record is None or self.record.error(message):
            self._tell(message)

    def fail_ensemble(self, reason: str) -> None:
        """The ensemble cannot be built: the rest of the run generates from the prompt as written."""
        if self.record is not None:
            self._tell(self.record.fail_ensemble(reason))

    def _tell(self, message: str) -> None:
        text = f"Smoothie: {message}"
        logger.warning("%s", text)
        self.p.comment(text)
        self.sync_infotext()

    def note(self, message: str) -> None:
        if self.record is not None and self.record.note(message):
            logger.info("Smoothie: %s", message)
            self.sync_infotext()

    def skip_guidance(self, reason: str) -> None:
        if self.record is not None and self.record.guidance_skipped is None:
            logger.info("Smoothie: %s", reason)
            self.record.skip_guidance(reason)
            self.sync_infotext()

    def sync_infotext(self) -> None:
        """Write the record's ``Smoothie …`` entries into ``p.extra_generation_params`` (dropping stale ones)."""
        if self.record is None:
            return
        info = self.record.infotext()
        params = self.p.extra_generation_params
        for key in self._written_keys - set(info):
            params.pop(key, None)
        params.update(info)
        self._written_keys = set(info)

    # --- the plan -----------------------------------------------------------------------------------------
    def begin(self) -> None:
        """Make the plan against the loaded model and apply it (once; the host calls ``process`` once per p).

        Nothing here may fail the generation: an unexpected error undoes what was applied, is reported once (log,
        comment, ``Smoothie error``) and the image is generated without Smoothie.
        """
        if self.plan is not None or self.failed:
            return
        try:
            self._begin()
        except Exception as exc:
            logger.debug("Smoothie could not be applied", exc_info=True)
            self.failed = True
            self.restore()
            message = f"could not be applied ({type(exc).__name__}: {exc}); generated without Smoothie"
            logger.warning("Smoothie: %s", message)
            self.p.comment(f"Smoothie: {message}")
            params = self.p.extra_generation_params
            for key in self._written_keys:
                params.pop(key, None)
            params.pop(PARAPHRASE_KEY, None)
            params["Smoothie error"] = message

    def _begin(self) -> None:
        from modules import shared

        p = self.p
        sd_model = getattr(p, "sd_model", None) or shared.sd_model
        folders = self.host.lora_dirs()
        files = _list_loras(folders)
        self.plan = plan_run(
            self.params,
            family=self.host.family(sd_model),
            lora_files=files,
            lora_folders=folders,
            cfg_scale=getattr(p, "cfg_scale", None),
            placebo=self.placebo,
            extra_names=self.extra_names,
            tag_database=self.tag_database,
            backend_options=_llm_options(),
            embeddings=embedding_words(self.host.embedding_dirs()),
        )
        self.record = RunRecord(self.plan)
        for message in self.plan.errors:
            self._tell(message)
        for message in self.plan.notes:
            logger.info("Smoothie: %s", message)
        self.sync_infotext()

        plan = self.plan
        if plan.edits_prompts:
            self._edit_prompts(plan)
        if plan.cfg_scale is not None:
            self.host.set_cfg(self, plan.cfg_scale)
        if plan.ensemble is not None:
            original = type(p).get_conds_with_caching.__get__(p)
            self.set_attr("get_conds_with_caching", _conds_wrapper(self, original))
            if plan.ensemble.mode is EnsembleMode.PER_IMAGE:
                record = self.record

                def paraphrase(index: int = 0, **_: Any) -> str | None:
                    return record.paraphrase_for(index)

                p.extra_generation_params[PARAPHRASE_KEY] = paraphrase

    def _edit_prompts(self, plan: RunPlan) -> None:
        for attr, kind in _PROMPT_LISTS:
            value = getattr(self.p, attr, None)
            if value is None:
                continue
            edit = plan.positive if kind == "positive" else plan.negative
            if isinstance(value, list):
                self.set_attr(attr, [edit(v) for v in value])
            elif isinstance(value, str):
                self.set_attr(attr, edit(value))

    def before_sampling(self) -> None:
        if self.plan is None or self.failed:
            return
        try:
            self.host.before_sampling(self)
        except Exception as exc:  # e.g. a host whose UNet patcher changed: plain CFG, and say so
            logger.debug("Smoothie guidance could not be installed", exc_info=True)
            self.skip_guidance(f"guidance not applied ({type(exc).__name__}: {exc})")


def _list_loras(folders: list[Any]) -> list[Any]:
    from smoothie.lora import find_loras

    files = []
    for folder in folders:
        try:
            files.extend(find_loras(folder))
        except (OSError, ValueError) as exc:
            logger.warning("Smoothie: cannot list LoRAs in %s: %s", folder, exc)
    return files


def list_lora_names() -> list[str]:
    """Names (file stems) of the LoRAs the host can load, as ``<lora:NAME>`` accepts them."""
    names = {path.stem for path in _list_loras(hosts.current().lora_dirs())}
    return sorted(names, key=str.casefold)


def _multicond(result: Any) -> Any:
    """The host's ``MulticondLearnedConditioning`` for an :class:`~smoothie.generation.EnsembleConditioning`."""
    from modules import prompt_parser

    batch = [
        [
            prompt_parser.ComposableScheduledPromptConditioning(
                [prompt_parser.ScheduledPromptConditioning(end, cond) for end, cond in part.schedule], part.weight
            )
            for part in parts
        ]
        for parts in result.positions
    ]
    return prompt_parser.MulticondLearnedConditioning(shape=(len(batch),), batch=batch)


def _llm_options() -> dict[str, Any]:
    from smoothie.webui import settings

    return settings.llm_options()


def ensemble_multicond(run: SmoothieRun, sd_model: Any, prompts: Any, steps: int, hires_steps: Any) -> Any:
    """The ensemble's answer to ``get_multicond_learned_conditioning(prompts)`` for the current batch."""
    plan, record = run.plan, run.record
    if plan is None or plan.ensemble is None or record is None:
        raise RuntimeError("the ensemble was asked for before the run began")
    p = run.p
    first_image = int(getattr(p, "iteration", 0) or 0) * int(getattr(p, "batch_size", 1) or 1)
    result = ensemble_conditioning(
        plan.ensemble,
        list(prompts),
        first_image=first_image,
        syntax=run.host.syntax(),
        encoder=run.host.encoder(run, sd_model, prompts),
        steps=steps,
        hires_steps=hires_steps,
    )
    record.paraphrase_used.update(result.used)
    record.encoded_texts += result.encoded
    if record.generic is None and len(prompts):
        rewrite = plan.ensemble.rewrite(prompts[0])
        record.generic = rewrite.generic
        record.model = model_value(rewrite)
        for warning in rewrite.warnings:
            run.note(warning)
    run.sync_infotext()
    return _multicond(result)


def _conds_wrapper(run: SmoothieRun, original: Any) -> Any:
    """``p.get_conds_with_caching`` that answers the positive prompts from the ensemble."""

    def get_conds_with_caching(function, required_prompts, steps, caches, extra_network_data, hires_steps=None):
        from modules import devices, prompt_parser, shared

        record, plan = run.record, run.plan
        if (
            record is None
            or plan is None
            or plan.ensemble is None
            or not record.ensemble_active
            or function is not prompt_parser.get_multicond_learned_conditioning
        ):
            return original(function, required_prompts, steps, caches, extra_network_data, hires_steps)
        p = run.p
        try:
            per_image = plan.ensemble.mode is EnsembleMode.PER_IMAGE
            key = (
                p.iteration if per_image else None,
                p.cached_params(
                    required_prompts, steps, extra_network_data, hires_steps, shared.opts.use_old_scheduling
                ),
            )
            for cached_key, value in run.cond_cache:
                if cached_key == key:
                    return value
            with devices.autocast():
                value = ensemble_multicond(run, shared.sd_model, required_prompts, steps, hires_steps)
            run.cond_cache.append((key, value))
            return value
        except Exception as exc:  # the ensemble fails → generate from the prompt as written, and say so
            logger.debug("Smoothie ensemble failed", exc_info=True)
            run.fail_ensemble(str(exc) or type(exc).__name__)
            return original(function, required_prompts, steps, caches, extra_network_data, hires_steps)

    return get_conds_with_caching


# --- A1111: guidance through combine_denoised, found with the on_cfg_denoiser callback ----------------------


def prediction_space(denoiser: Any) -> str | None:
    """``x0`` for k-diffusion-style denoisers, ``eps`` for DDIM/PLMS/UniPC, None for unknown ones (A1111)."""
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
    """A1111 callback for every denoising step of every generation: acts only for a ``p`` with a Smoothie run."""
    denoiser = getattr(params, "denoiser", None)
    run = getattr(getattr(denoiser, "p", None), STATE_ATTR, None)
    if not isinstance(run, SmoothieRun) or run.plan is None or run.record is None or not run.record.guidance_active:
        return
    run.step_x = params.x
    run.step_sigma = params.sigma
    if "combine_denoised" in vars(denoiser):
        return
    guidance = run.plan.guidance
    space = prediction_space(denoiser)
    if space is None:
        run.skip_guidance(f"{guidance.label} not applied: unsupported sampler ({type(denoiser).__name__})")
        return
    if space == "eps" and guidance.needs_x0:
        sampler = type(getattr(denoiser, "sampler", None) or denoiser).__name__
        run.skip_guidance(
            f"{guidance.label} not applied: this sampler ({sampler}) works on noise predictions; "
            "APG and the guidance interval need a k-diffusion sampler (Euler, DPM++, …)"
        )
        return
    original = denoiser.combine_denoised
    session = guidance.session()  # one per denoiser: a hires pass builds a new one
    record = run.record

    def combine_denoised(x_out: Any, conds_list: Any, uncond: Any, cond_scale: float) -> Any:
        guided = original(x_out, conds_list, uncond, cond_scale)
        if not record.guidance_active or cond_scale == 1.0:
            return guided
        try:
            cond = original(x_out, conds_list, uncond, 1.0)
            uncond_pred = x_out[-uncond.shape[0] :]
            if space == "eps":
                return session.combine_eps(cond=cond, uncond=uncond_pred, guided=guided, scale=cond_scale)
            b = guided.shape[0]
            return session.combine_x0(
                x=run.step_x[-b:],
                sigma=run.step_sigma[-b:],
                cond=cond,
                uncond=uncond_pred,
                guided=guided,
                scale=cond_scale,
            )
        except Exception as exc:  # a guidance failure must not fail the image: plain CFG from here on
            logger.debug("Smoothie guidance failed", exc_info=True)
            run.skip_guidance(f"{guidance.label} failed ({exc}) and was turned off")
            return guided

    denoiser.combine_denoised = combine_denoised
    run.denoisers.append(denoiser)
