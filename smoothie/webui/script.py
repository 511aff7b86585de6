"""The ``Smoothie`` entry of the txt2img/img2img Script dropdown, and its X/Y/Z-plot companion."""

from __future__ import annotations

import copy
import logging
from typing import Any

import gradio as gr
from modules import processing, scripts, shared

from smoothie.generation import caption_image, comparison_cells, sweep_cells
from smoothie.guidance.burn import burn_measures
from smoothie.params import (
    AUTO_LORA,
    FIELDS,
    GUIDANCE_METHODS,
    INFOTEXT_KEYS,
    MAX_ENSEMBLE,
    MAX_SIGMA,
    NO_LORA,
    EnsembleMode,
    ParamsError,
    SmoothieParams,
    paste_value,
)
from smoothie.webui import settings
from smoothie.webui.host import js
from smoothie.webui.run import STATE_ATTR, SmoothieRun, list_lora_names

logger = logging.getLogger(__name__)

TITLE = "Smoothie"
OVERRIDES_ATTR = "smoothie_overrides"
#: Infotext key of a CFG sweep cell's burn measures (in the API's infotexts of the sweep).
BURN_KEY = "Smoothie burn"


def _backends() -> list[str]:
    try:
        from smoothie.prompt.backends import available_backends

        return available_backends()
    except Exception as exc:  # a broken optional backend must not break the UI
        logger.warning("Smoothie: cannot list paraphrase backends: %s", exc)
        return ["auto", "rules"]


def _lora_choices() -> list[str]:
    return [AUTO_LORA, NO_LORA, *list_lora_names()]


def preview(
    prompt: str, size: Any, backend: str, keep: str, progress: Any = None
) -> tuple[str, list[list[str]], str, str]:
    """Generic prompt, names table, paraphrases (one a line) and a status line, without generating.

    The status says where the paraphrases came from ("21 from the model …, 11 from the rules fallback"). A
    local model from Settings that is not downloaded yet is downloaded first, with a progress bar.
    """
    from smoothie.generation.plan import backend_options_for, embedding_words, keep_for
    from smoothie.prompt import rewrite
    from smoothie.prompt.backends import offload_backends
    from smoothie.prompt.llm.errors import BackendUnavailable
    from smoothie.prompt.llm.local import cached, download
    from smoothie.webui.host import current

    try:
        params = SmoothieParams(ensemble_size=size, backend=backend, keep=keep)
        options = backend_options_for(params.backend, settings.llm_options())
        local = options.get("local_model") or (options.get("model") if params.backend == "transformers" else None)
        if local and progress is not None and not cached(str(local)):
            try:
                download(str(local), lambda fraction, text: progress(fraction, desc=text))
            except BackendUnavailable as exc:  # the engine falls back to rules and says why
                logger.warning("Smoothie: %s", exc)
        try:
            r = rewrite(
                prompt,
                n=params.ensemble_size,
                backend=params.backend,
                seed=0,
                keep=keep_for(prompt, params.keep, embedding_words(current().embedding_dirs())),
                **({"backend_options": options} if options else {}),
                **({"extra_names": names} if (names := settings.extra_names()) else {}),
                tag_database=settings.tag_database(),
            )
        finally:
            offload_backends()
    except (ValueError, ParamsError) as exc:
        return "", [], "", f"**Smoothie:** {exc}"
    except Exception as exc:
        logger.exception("Smoothie preview failed")
        return "", [], "", f"**Smoothie:** preview failed: {exc}"
    rows = [[n.text, n.label, n.replacement] for n in r.names]
    status = f"{len(r.paraphrases)} paraphrases ({r.source_summary()}), backend `{r.backend}`"
    if r.backend == "auto" and not r.model:
        status += f": {_auto_description(options)}"
    warnings = list(getattr(r, "warnings", ()))
    if warnings:
        status += " — " + "; ".join(warnings)
    return r.generic, rows, "\n".join(r.paraphrases), status


def _paste_key(name: str) -> Any:
    """The infotext key of a field, or for the fields an infotext may leave out, a function of the parsed
    infotext (the host calls it on paste; :func:`smoothie.params.paste_value` decides)."""
    if name in ("guidance", "sigma_min", "sigma_max"):
        return lambda params: paste_value(name, params)
    return INFOTEXT_KEYS[name]


def _auto_description(options: dict[str, Any]) -> str:
    try:
        from smoothie.prompt.backends import get_backend

        describe = getattr(get_backend("auto", **options), "describe", None)
        return str(describe()) if callable(describe) else "auto"
    except Exception as exc:
        return f"auto unavailable ({exc})"


# Gradio finds a Progress instance among an event function's defaults and fills it in (the download bar).
_PROGRESS = gr.Progress()


def _preview_with_progress(
    prompt: str, size: Any, backend: str, keep: str, progress: Any = _PROGRESS
) -> tuple[str, list[list[str]], str, str]:
    return preview(prompt, size, backend, keep, progress)


class SmoothieScript(scripts.Script):
    """Dropdown script: prompt ensemble, CFG rescale, negative LoRA, comparison grid."""

    def title(self) -> str:
        return TITLE

    def show(self, is_img2img: bool) -> bool:
        return True

    def ui(self, is_img2img: bool) -> list[Any]:
        from modules.ui_components import ToolButton

        d = settings.default_params()
        tab = "img2img" if is_img2img else "txt2img"
        label = {f.name: f.label for f in FIELDS}
        helps = {f.name: f.help for f in FIELDS}
        comps: dict[str, Any] = {}
        with gr.Group(elem_id=f"smoothie_{tab}", elem_classes=["smoothie-panel"]):
            with gr.Row():
                comps["enabled"] = gr.Checkbox(
                    label=label["enabled"], value=d.enabled, info=helps["enabled"], elem_id=f"smoothie_{tab}_enabled"
                )
                comps["comparison"] = gr.Checkbox(
                    label=label["comparison"], value=False, info=helps["comparison"], elem_id=f"smoothie_{tab}_grid"
                )
            with gr.Row():
                comps["ensemble_size"] = gr.Slider(
                    1, 256, step=1, value=d.ensemble_size, label=label["ensemble_size"], elem_id=f"smoothie_{tab}_size"
                )
                comps["mode"] = gr.Radio(
                    [m.value for m in EnsembleMode],
                    value=d.mode.value,
                    label=label["mode"],
                    elem_id=f"smoothie_{tab}_mode",
                )
                comps["paraphrase"] = gr.Number(
                    value=0,
                    minimum=0,
                    maximum=MAX_ENSEMBLE - 1,
                    precision=0,
                    label=label["paraphrase"],
                    elem_id=f"smoothie_{tab}_paraphrase",
                )
                backends = _backends()
                comps["backend"] = gr.Dropdown(
                    backends,
                    value=d.backend if d.backend in backends else "auto",
                    label=label["backend"],
                    elem_id=f"smoothie_{tab}_backend",
                )
            comps["keep"] = gr.Textbox(
                label=label["keep"],
                value=", ".join(d.keep),
                placeholder="e.g. Paris, Eiffel Tower — left as written in every paraphrase",
                elem_id=f"smoothie_{tab}_keep",
            )
            with gr.Accordion("Preview the ensemble", open=False, elem_id=f"smoothie_{tab}_preview"):
                with gr.Row():
                    preview_btn = gr.Button("Preview", elem_id=f"smoothie_{tab}_preview_btn", variant="secondary")
                    copy_generic = gr.Button("Generic prompt → prompt", elem_id=f"smoothie_{tab}_copy_generic")
                status = gr.Markdown(elem_id=f"smoothie_{tab}_status")
                generic = gr.Textbox(label="Generic prompt", lines=2, elem_id=f"smoothie_{tab}_generic")
                names = gr.Dataframe(
                    headers=["name", "label", "replaced by"],
                    datatype=["str", "str", "str"],
                    interactive=False,
                    label="Names found",
                    elem_id=f"smoothie_{tab}_names",
                )
                paraphrases = gr.Textbox(
                    label="Paraphrases (one a line; editable)", lines=8, elem_id=f"smoothie_{tab}_paraphrases"
                )
                with gr.Row():
                    line = gr.Number(value=1, precision=0, label="Line", elem_id=f"smoothie_{tab}_line")
                    copy_line = gr.Button("Copy line → prompt", elem_id=f"smoothie_{tab}_copy_line")
            with gr.Row():
                comps["guidance"] = gr.Radio(
                    list(GUIDANCE_METHODS),
                    value=d.guidance,
                    label=label["guidance"],
                    info=helps["guidance"],
                    elem_id=f"smoothie_{tab}_guidance",
                )
                comps["rescale"] = gr.Slider(
                    0.0, 1.0, step=0.05, value=d.rescale, label=label["rescale"], elem_id=f"smoothie_{tab}_rescale"
                )
                comps["cfg_boost"] = gr.Slider(
                    0.0,
                    50.0,
                    step=0.5,
                    value=d.cfg_boost,
                    label=label["cfg_boost"] + " (0 = keep)",
                    elem_id=f"smoothie_{tab}_boost",
                )
            with gr.Row():
                comps["apg_eta"] = gr.Slider(
                    -1.0, 2.0, step=0.05, value=d.apg_eta, label=label["apg_eta"], elem_id=f"smoothie_{tab}_apg_eta"
                )
                comps["apg_norm_threshold"] = gr.Slider(
                    0.0,
                    50.0,
                    step=0.5,
                    value=d.apg_norm_threshold,
                    label=label["apg_norm_threshold"] + " (0 = off)",
                    elem_id=f"smoothie_{tab}_apg_norm",
                )
                comps["apg_momentum"] = gr.Slider(
                    -1.0,
                    1.0,
                    step=0.05,
                    value=d.apg_momentum,
                    label=label["apg_momentum"],
                    elem_id=f"smoothie_{tab}_apg_momentum",
                )
            with gr.Row():
                comps["sigma_min"] = gr.Number(
                    value=d.sigma_min,
                    minimum=0,
                    maximum=MAX_SIGMA,
                    label=label["sigma_min"] + " (0 = no limit)",
                    info=helps["sigma_min"],
                    elem_id=f"smoothie_{tab}_sigma_min",
                )
                comps["sigma_max"] = gr.Number(
                    value=d.sigma_max,
                    minimum=0,
                    maximum=MAX_SIGMA,
                    label=label["sigma_max"] + " (0 = no limit)",
                    info=helps["sigma_max"],
                    elem_id=f"smoothie_{tab}_sigma_max",
                )
                comps["sweep"] = gr.Checkbox(
                    label=label["sweep"], value=False, info=helps["sweep"], elem_id=f"smoothie_{tab}_sweep"
                )
            with gr.Row():
                choices = _lora_choices()
                comps["negative_lora"] = gr.Dropdown(
                    choices, value=AUTO_LORA, label=label["negative_lora"], elem_id=f"smoothie_{tab}_lora"
                )
                refresh = ToolButton(
                    value="\U0001f504", elem_id=f"smoothie_{tab}_lora_refresh", elem_classes=["smoothie-refresh"]
                )
                comps["lora_weight"] = gr.Slider(
                    -4.0,
                    4.0,
                    step=0.05,
                    value=d.lora_weight,
                    label=label["lora_weight"],
                    elem_id=f"smoothie_{tab}_weight",
                )
                comps["trigger"] = gr.Textbox(
                    value=d.trigger, label=label["trigger"], elem_id=f"smoothie_{tab}_trigger"
                )

        refresh.click(fn=lambda: gr.update(choices=_lora_choices()), inputs=[], outputs=[comps["negative_lora"]])
        # The prompt box belongs to A1111; smoothie.js reads it (first input) and writes to it.
        preview_btn.click(
            fn=_preview_with_progress,
            **js(f"(p, s, b, k) => smoothieWithPrompt('{tab}', [p, s, b, k])"),
            inputs=[generic, comps["ensemble_size"], comps["backend"], comps["keep"]],
            outputs=[generic, names, paraphrases, status],
            show_progress=True,
        )
        copy_line.click(
            fn=None, **js(f"(n, t) => smoothieCopyLine('{tab}', n, t)"), inputs=[line, paraphrases], outputs=[]
        )
        copy_generic.click(fn=None, **js(f"(t) => smoothieCopyLine('{tab}', 1, t)"), inputs=[generic], outputs=[])

        ordered = [comps[f.name] for f in FIELDS]
        # the grids are ways of running the script, not settings of an image: never pasted
        pasted = [f for f in FIELDS if f.name not in ("comparison", "sweep")]
        self.infotext_fields = [(comps[f.name], _paste_key(f.name)) for f in pasted]
        self.paste_field_names = [f.infotext for f in pasted]
        return ordered

    def run(self, p: Any, *args: Any) -> Any:
        defaults = settings.default_params()
        try:
            params = SmoothieParams.from_args(args, defaults=defaults)
        except ParamsError as exc:
            message = f"Smoothie: {exc}; generated without Smoothie"
            logger.warning("%s", message)
            p.comment(message)
            p.extra_generation_params["Smoothie error"] = str(exc)
            return processing.process_images(p)
        if params.sweep:
            return sweep_grid(p, params)
        if params.comparison:
            return comparison_grid(p, params)
        with SmoothieRun(p, params, extra_names=settings.extra_names(), tag_database=settings.tag_database()):
            return processing.process_images(p)


class SmoothieHooks(scripts.Script):
    """Always-on companion with no UI: applies a Smoothie run at the points of generation the host offers.

    * ``before_process``: turns Smoothie on for the cells of an X/Y/Z plot that set a Smoothie axis (X/Y/Z plot
      is itself a dropdown script, so the ``Smoothie`` entry cannot run beside it; the axes put their values on
      ``p`` and this script applies them over the Settings defaults);
    * ``process``: the checkpoint that will generate is loaded (Forge loads it lazily inside
      ``process_images``) and the prompts are set up: the run plan is made and applied;
    * ``process_before_every_sampling``: Forge and reForge take guidance as a patch of the pass's UNet.

    Only ``p`` objects carrying a Smoothie run are touched. It runs after the other always-on scripts
    (``sorting_priority``, Forge/reForge), so it sees their prompt edits and reForge's own RescaleCFG.
    """

    sorting_priority = 100

    def title(self) -> str:
        return "Smoothie hooks"

    def show(self, is_img2img: bool) -> Any:
        return scripts.AlwaysVisible

    def ui(self, is_img2img: bool) -> list[Any]:
        return []

    def before_process(self, p: Any, *args: Any) -> None:
        overrides = getattr(p, OVERRIDES_ATTR, None)
        if not overrides or getattr(p, STATE_ATTR, None) is not None:
            return
        try:
            params = settings.default_params().replace(**overrides)
        except ParamsError as exc:
            p.comment(f"Smoothie: {exc}")
            p.extra_generation_params["Smoothie error"] = str(exc)
            return
        run = SmoothieRun(
            p, params, record_script=False, extra_names=settings.extra_names(), tag_database=settings.tag_database()
        )
        run.__enter__()
        p._smoothie_xyz_run = run

    def process(self, p: Any, *args: Any) -> None:
        run = getattr(p, STATE_ATTR, None)
        if isinstance(run, SmoothieRun):
            run.begin()

    def process_before_every_sampling(self, p: Any, *args: Any, **kwargs: Any) -> None:
        run = getattr(p, STATE_ATTR, None)
        if isinstance(run, SmoothieRun):
            run.before_sampling()

    def postprocess(self, p: Any, processed: Any, *args: Any) -> None:
        run = vars(p).pop("_smoothie_xyz_run", None)
        if run is not None:
            run.__exit__(None, None, None)


# --- comparison grid ------------------------------------------------------------------------------------------


def comparison_grid(p: Any, params: SmoothieParams) -> Any:
    from modules import images

    p.seed = processing.get_fixed_seed(p.seed)
    p.subseed = processing.get_fixed_seed(p.subseed)
    p.batch_size = 1
    p.n_iter = 1
    cells = comparison_cells(params, p.cfg_scale)
    shared.state.job_count = len(cells)
    results: list[tuple[str, Any]] = []
    infotexts: list[str] = []
    notes: list[str] = []
    for index, cell in enumerate(cells):
        if shared.state.interrupted or shared.state.stopping_generation:
            break
        label = cell.label
        shared.state.job = f"Smoothie grid {index + 1}/{len(cells)}: {label}"
        pc = copy.copy(p)
        pc.extra_generation_params = dict(p.extra_generation_params)
        pc.comments = {}
        pc.override_settings_restore_afterwards = True
        if cell.params is None:
            proc = processing.process_images(pc)
        else:
            with SmoothieRun(
                pc,
                cell.params,
                placebo=cell.placebo,
                extra_names=settings.extra_names(),
                tag_database=settings.tag_database(),
            ) as run:
                proc = processing.process_images(pc)
            lora = run.plan.lora if run.plan is not None else None
            if lora is not None and lora.requested and not cell.placebo:
                # the label says which LoRA was applied ("auto" stands for one), or that none was
                label = f"+ negative LoRA {lora.name}:{lora.weight:g}" if lora.name else f"{label} (not applied)"
        if not proc.images:
            break
        results.append((label, proc.images[0]))
        infotexts.append(proc.infotexts[0] if proc.infotexts else proc.info)
        notes.extend(c for c in pc.comments if c not in notes)
    if not results:
        return processing.Processed(p, [], p.seed, "", comments="\n".join(notes))
    grid = images.image_grid([im for _, im in results], rows=1)
    labels = [[images.GridAnnotation(label)] for label, _ in results]
    grid = images.draw_grid_annotations(grid, results[0][1].width, results[0][1].height, labels, [[]])
    return _grid_result(p, params, grid, [im for _, im in results], infotexts, "smoothie_grid", notes)


def _grid_result(
    p: Any, params: SmoothieParams, grid: Any, cells: list[Any], infotexts: list[str], name: str, notes: list[str]
) -> Any:
    """A grid and its cells as the host's result: the run's settings on ``p``, the grid saved as the user's grid
    settings say (with the first cell's infotext), then the cells, each with its own infotext."""
    from modules import images, processing, shared

    p.extra_generation_params.update({k: v for k, v in params.to_infotext().items() if v})
    p.extra_generation_params["Script"] = TITLE
    grid_info = infotexts[0]
    if shared.opts.grid_save:
        images.save_image(
            grid, p.outpath_grids, name, p.seed, p.prompt, shared.opts.grid_format, info=grid_info, grid=True, p=p
        )
    return processing.Processed(
        p,
        [grid, *cells],
        p.seed,
        grid_info,
        infotexts=[grid_info, *infotexts],
        index_of_first_image=1,
        comments="\n".join(notes),
    )


def sweep_grid(p: Any, params: SmoothieParams) -> Any:
    """The CFG sweep: rows plain CFG / rescale / APG, columns CFG 7, 12, 20, 25, each cell with its burn measures."""
    from modules import images

    p.seed = processing.get_fixed_seed(p.seed)
    p.subseed = processing.get_fixed_seed(p.subseed)
    p.batch_size = 1
    p.n_iter = 1
    grid_plan = sweep_cells(params)
    cells = grid_plan.cells
    shared.state.job_count = len(cells)
    captioned: list[Any] = []
    originals: list[Any] = []
    infotexts: list[str] = []
    notes: list[str] = []
    lines: list[str] = []
    for index, cell in enumerate(cells):
        if shared.state.interrupted or shared.state.stopping_generation:
            break
        shared.state.job = f"Smoothie CFG sweep {index + 1}/{len(cells)}: {cell.label}"
        pc = copy.copy(p)
        pc.extra_generation_params = dict(p.extra_generation_params)
        pc.comments = {}
        pc.override_settings_restore_afterwards = True
        assert cell.params is not None
        with SmoothieRun(pc, cell.params, extra_names=settings.extra_names()):
            proc = processing.process_images(pc)
        if not proc.images:
            break
        image = proc.images[0]
        measures = burn_measures(image)
        lines.append(f"{cell.label}: {measures.label()}")
        captioned.append(caption_image(image, measures.label()))
        originals.append(image)
        text = proc.infotexts[0] if proc.infotexts else proc.info
        infotexts.append(f"{text}, {BURN_KEY}: {measures.label()}")
        notes.extend(c for c in pc.comments if c not in notes)
    summary = "Smoothie CFG sweep (saturation · clipped channels · high-frequency energy):\n" + "\n".join(lines)
    if not captioned:
        return processing.Processed(p, [], p.seed, "", comments="\n".join(notes))
    columns = len(grid_plan.columns)
    rows = -(-len(captioned) // columns)
    width = max(im.width for im in captioned)
    height = max(im.height for im in captioned)
    grid = images.image_grid(captioned, rows=rows)
    hor = [[images.GridAnnotation(c)] for c in grid_plan.columns]
    ver = [[images.GridAnnotation(r)] for r in grid_plan.rows[:rows]]
    grid = images.draw_grid_annotations(grid, width, height, hor, ver)
    return _grid_result(p, params, grid, originals, infotexts, "smoothie_sweep", [summary, *notes])
