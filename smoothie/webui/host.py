"""The three WebUIs Smoothie runs in, told apart by feature, and the few things each does its own way.

* **A1111** (v1.10): CFG is hooked through ``combine_denoised`` of the sampler's denoiser (found with the
  ``on_cfg_denoiser`` callback, gated on the run's ``p``); LoRAs live in ``--lora-dir`` and the old LyCORIS folder.
* **Forge** (``modules_forge`` and ``backend`` importable): ``combine_denoised`` is never called. Guidance is a
  post-CFG function on a clone of ``p.sd_model.forge_objects.unet``, installed before every sampling pass (the
  host resets ``forge_objects`` before each, hires included, so it needs no undo). Encoding must be preceded by
  ``set_clip_skip``; there is no ``cond_stage_model_empty_prompt``, so the padding chunk is ``""`` encoded once;
  ``p.hr_cfg`` is the hires pass's CFG; only ``--lora-dir`` is scanned.
* **reForge** (``ldm_patched`` importable, no ``backend``): like Forge for guidance and LoRAs; its
  ``combine_denoised`` is a pass-through of a result the model patcher already guided, so it must not be
  hooked. It ships its own RescaleCFG script: a run with both on is told so.

Everything a run *means* is in :mod:`smoothie.generation`; these classes only translate.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smoothie.generation import ModelFamily, detect_family

if TYPE_CHECKING:
    from smoothie.webui.run import SmoothieRun

logger = logging.getLogger(__name__)

MODEL_FLAGS = ("is_sd1", "is_sd2", "is_sdxl", "is_sd3")


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def model_family(sd_model: Any) -> ModelFamily:
    """The family of the host's loaded model object (flags first; Forge's Flux/Chroma by class)."""
    if sd_model is None:
        return ModelFamily.UNKNOWN
    flags = {flag: getattr(sd_model, flag, None) for flag in MODEL_FLAGS}
    return detect_family(flags, [c.__name__ for c in type(sd_model).__mro__])


class HostSyntax:
    """The host's prompt parser (``modules.prompt_parser``, the same on all three hosts) as a PromptSyntax."""

    def split_and(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        from modules import prompt_parser

        res_indexes, flat, _ = prompt_parser.get_multicond_prompt_list(list(texts))
        return [[(flat[index], float(weight)) for index, weight in parts] for parts in res_indexes]

    def schedules(self, texts: Sequence[str], steps: int, hires_steps: int | None) -> list[list[tuple[int, str]]]:
        from modules import prompt_parser, shared

        old = bool(getattr(shared.opts, "use_old_scheduling", False))
        found = prompt_parser.get_learned_conditioning_prompt_schedules(list(texts), steps, hires_steps, old)
        return [[(int(end), text) for end, text in sched] for sched in found]


class ModelEncoder:
    """``sd_model.get_learned_conditioning`` on ``SdConditioning`` batches, as the host calls it (emphasis,
    embeddings, CLIP skip, SDXL's size conditioning and Flux's distilled CFG all apply)."""

    def __init__(self, sd_model: Any, like: Any, empty: Callable[[], Any]):
        self.sd_model = sd_model
        self.like = like
        self._empty = empty

    def encode(self, texts: Sequence[str]) -> Any:
        from modules import prompt_parser

        return self.sd_model.get_learned_conditioning(prompt_parser.SdConditioning(list(texts), copy_from=self.like))

    def empty(self) -> Any:
        return self._empty()


class A1111Host:
    """AUTOMATIC1111 v1.10."""

    name = "A1111"
    #: Whether CFG is hooked through ``combine_denoised`` (A1111) or a post-CFG function (Forge, reForge).
    hooks_combine_denoised = True

    def family(self, sd_model: Any) -> ModelFamily:
        return model_family(sd_model)

    def lora_dirs(self) -> list[Path]:
        from modules import shared

        names = ("lora_dir", "lyco_dir_backcompat")
        dirs = [getattr(shared.cmd_opts, n, None) for n in names]
        return list(dict.fromkeys(Path(d) for d in dirs if d))

    def embedding_dirs(self) -> list[Path]:
        """The textual-inversion folder (``--embeddings-dir``; every host has it)."""
        from modules import shared

        folder = getattr(getattr(shared, "cmd_opts", None), "embeddings_dir", None)
        return [Path(folder)] if folder else []

    def syntax(self) -> HostSyntax:
        return HostSyntax()

    def encoder(self, run: SmoothieRun, sd_model: Any, like: Any) -> ModelEncoder:
        return ModelEncoder(sd_model, like, lambda: sd_model.cond_stage_model_empty_prompt)

    def set_cfg(self, run: SmoothieRun, scale: float) -> None:
        run.set_attr("cfg_scale", scale)

    def before_sampling(self, run: SmoothieRun) -> None:
        """Called before every sampling pass (``process_before_every_sampling``); A1111 hooks CFG elsewhere."""


class ForgeHost(A1111Host):
    """Stable Diffusion WebUI Forge (main: ``backend``, gradio 4)."""

    name = "Forge"
    hooks_combine_denoised = False

    def lora_dirs(self) -> list[Path]:
        from modules import shared

        d = getattr(shared.cmd_opts, "lora_dir", None)
        return [Path(d)] if d else []

    def encoder(self, run: SmoothieRun, sd_model: Any, like: Any) -> ModelEncoder:
        from modules import shared

        # Forge's own get_conds_with_caching sets CLIP skip before every encoding; the ensemble encodes instead.
        if hasattr(sd_model, "set_clip_skip"):
            sd_model.set_clip_skip(int(getattr(shared.opts, "CLIP_stop_at_last_layers", 1)))

        def empty() -> Any:
            key = id(sd_model)
            if key not in run.empty_cache:
                from modules import prompt_parser

                cond = sd_model.get_learned_conditioning(prompt_parser.SdConditioning([""], copy_from=like))
                cross = cond["crossattn"] if isinstance(cond, dict) else cond
                run.empty_cache[key] = cross[0] if cross.ndim == 3 else cross
            return run.empty_cache[key]

        return _ForgeEncoder(sd_model, like, empty)

    def set_cfg(self, run: SmoothieRun, scale: float) -> None:
        run.set_attr("cfg_scale", scale)
        if hasattr(run.p, "hr_cfg"):  # the hires pass's CFG (Forge's API default 1.0 means none at all)
            run.set_attr("hr_cfg", scale)

    def before_sampling(self, run: SmoothieRun) -> None:
        """Guidance as a post-CFG function on a clone of the pass's UNet patcher.

        A conditioning modifier on the same clone sees each step's CFG scale and σ first: it records the scale
        (Forge's post-CFG arguments lack it; APG needs it) and, outside the guidance interval, lowers it to 1 so
        the host skips the unconditional pass and returns the conditional prediction.
        """
        if run.record is None or not run.record.guidance_active or run.plan is None:
            return
        guidance = run.plan.guidance
        label = guidance.label
        p = run.p
        forge_objects = getattr(getattr(p, "sd_model", None), "forge_objects", None)
        unet = getattr(forge_objects, "unet", None)
        if unet is None or not hasattr(unet, "set_model_sampler_post_cfg_function"):
            run.skip_guidance(f"{label} not applied: this {self.name} has no post-CFG hook on its UNet")
            return
        if is_flow_sampling(unet):
            run.skip_guidance(f"{label} not applied: the model samples by flow matching, which {label} does not fit")
            return
        self.check_other_cfg(run, unet)
        session = guidance.session()
        # the pass's CFG scale, for a host without conditioning modifiers (the hires pass has its own on Forge)
        hires = bool(getattr(p, "is_hr_pass", False))
        fallback = getattr(p, "hr_cfg", None) if hires else None
        session.host_scale = float(fallback if fallback is not None else getattr(p, "cfg_scale", 7.0))

        def post_cfg(args: dict[str, Any]) -> Any:
            guided = args["denoised"]
            if run.record is None or not run.record.guidance_active:
                return guided
            try:
                return session.combine_x0(
                    x=args["input"],
                    sigma=args["sigma"],
                    cond=args["cond_denoised"],
                    uncond=args.get("uncond_denoised"),
                    guided=guided,
                    scale=args.get("cond_scale"),
                )
            except Exception as exc:  # a guidance failure must not fail the image: plain CFG from here on
                logger.debug("Smoothie guidance failed", exc_info=True)
                run.skip_guidance(f"{label} failed ({exc}) and was turned off")
                return guided

        def modifier(model: Any, x: Any, timestep: Any, uncond: Any, cond: Any, cond_scale: Any, *rest: Any) -> Any:
            if run.record is not None and run.record.guidance_active:
                cond_scale = session.step_scale(timestep, cond_scale)
            return (model, x, timestep, uncond, cond, cond_scale, *rest)

        clone = unet.clone()
        clone.set_model_sampler_post_cfg_function(post_cfg)
        if hasattr(clone, "add_conditioning_modifier"):
            clone.add_conditioning_modifier(modifier)
        elif guidance.has_interval:
            run.note(f"this {self.name} cannot skip the unconditional pass outside the guidance interval")
        forge_objects.unet = clone

    def check_other_cfg(self, run: SmoothieRun, unet: Any) -> None:
        if "sampler_cfg_function" in (getattr(unet, "model_options", None) or {}):
            run.note("another extension replaced the CFG function; Smoothie's guidance applies on top of its result")


class _ForgeEncoder(ModelEncoder):
    def encode(self, texts: Sequence[str]) -> Any:
        out = super().encode(texts)
        # what Forge's get_conds_with_caching does after encoding: emphasis etc. into the model's infotext params
        try:
            import backend.text_processing.classic_engine as classic

            extra = dict(getattr(classic, "last_extra_generation_params", {}) or {})
            if extra and isinstance(getattr(self.sd_model, "extra_generation_params", None), dict):
                self.sd_model.extra_generation_params.update(extra)
            classic.last_extra_generation_params = {}
        except ImportError:
            pass
        return out


class ReForgeHost(ForgeHost):
    """Stable Diffusion WebUI reForge (``ldm_patched``)."""

    name = "reForge"

    def check_other_cfg(self, run: SmoothieRun, unet: Any) -> None:
        params = getattr(run.p, "extra_generation_params", {}) or {}
        if params.get("rescale_cfg_enabled"):
            multiplier = params.get("rescale_cfg_multiplier")
            run.note(
                f"reForge's built-in RescaleCFG is also on (multiplier {multiplier}): the guidance is rescaled twice; "
                "turn one of them off"
            )
            return
        super().check_other_cfg(run, unet)


def is_flow_sampling(unet: Any) -> bool:
    """Whether the UNet patcher's model samples by flow matching (Forge's predictor or reForge's model_sampling)."""
    model = getattr(unet, "model", None)
    for attr in ("predictor", "model_sampling"):
        obj = getattr(model, attr, None)
        if obj is None:
            continue
        if getattr(obj, "prediction_type", None) == "const":
            return True
        names = [c.__name__ for c in type(obj).__mro__]
        if any(n == "CONST" or "Flow" in n or "Flux" in n for n in names):
            return True
    return False


@cache
def current() -> A1111Host:
    """The host this process runs in (decided once)."""
    if _importable("modules_forge") and _importable("backend"):
        host: A1111Host = ForgeHost()
    elif _importable("ldm_patched"):
        host = ReForgeHost()
    else:
        host = A1111Host()
    logger.info("Smoothie: running in %s", host.name)
    return host


def gradio_major() -> int:
    import gradio as gr

    try:
        return int(str(gr.__version__).split(".")[0])
    except ValueError:
        return 3


def js(code: str) -> dict[str, str]:
    """The keyword for an event's JavaScript: ``_js`` on gradio 3 (A1111), ``js`` on gradio 4 (Forge)."""
    return {"js": code} if gradio_major() >= 4 else {"_js": code}
