"""The wrong-LoRA kit in the ``Smoothie Dataset`` tab: make the negative LoRA's set with the loaded model.

UI glue only: the fields become a :class:`~smoothie.wronglora.dataset.DatasetRequest` (or a
:class:`~smoothie.wronglora.train.TrainRequest`), :func:`~smoothie.wronglora.dataset.make_dataset` does the work
with :class:`InProcessBackend`, which generates with the WebUI it runs in — the loaded model, A1111's
``process_images`` under its GPU queue lock, one image at a time so the user's own generations take turns — and
needs no ``--api``. Progress goes to gradio's progress bar and ``shared.state`` (the WebUI's own Interrupt works
too); **Interrupt** stops at the current image, and the same button again resumes.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import traceback
from pathlib import Path
from typing import Any

import gradio as gr  # the host's gradio; this module is only imported inside the WebUI

from smoothie.wronglora.api import Image
from smoothie.wronglora.backend import webui_folders
from smoothie.wronglora.checkpoint import Checkpoint
from smoothie.wronglora.plan import Generation

logger = logging.getLogger(__name__)

ELEM = "smoothie_wrong"
#: gradio hands a handler a progress tracker in the positional parameter whose default is a ``gr.Progress``.
_PROGRESS = gr.Progress()


class InProcessBackend:
    """The WebUI this code runs in, as a :class:`~smoothie.wronglora.backend.Backend`."""

    label = "this WebUI"

    def checkpoints(self) -> list[Checkpoint]:
        from modules import sd_models

        return [
            Checkpoint(
                title=str(info.title),
                model_name=str(info.model_name),
                filename=str(info.filename),
                hash=str(getattr(info, "shorthash", "") or ""),
                sha256=str(getattr(info, "sha256", "") or ""),
            )
            for info in sd_models.checkpoints_list.values()
        ]

    def current_checkpoint(self) -> str | None:
        from modules import shared

        info = getattr(getattr(shared, "sd_model", None), "sd_checkpoint_info", None)
        title = getattr(info, "title", None) or getattr(shared.opts, "sd_model_checkpoint", None)
        return str(title) if title else None

    def folders(self) -> dict[str, Path]:
        from modules import paths, shared

        found = webui_folders(vars(shared.cmd_opts))
        found.setdefault("webui_dir", Path(paths.script_path))
        found.setdefault("data_dir", Path(paths.data_path))
        return found

    def lora_dir(self) -> Path | None:
        from modules import shared

        value = getattr(shared.cmd_opts, "lora_dir", None)
        return Path(value) if value else None

    def generate(self, generation: Generation, checkpoint: Checkpoint | None) -> tuple[Image, dict[str, Any]]:
        from modules import processing, shared
        from modules.call_queue import queue_lock
        from PIL import PngImagePlugin

        s = generation.settings
        with queue_lock:
            p = processing.StableDiffusionProcessingTxt2Img(
                sd_model=shared.sd_model,
                prompt=generation.prompt,
                negative_prompt=generation.negative_prompt,
                seed=generation.seed,
                steps=s.steps,
                cfg_scale=s.cfg_scale,
                width=s.width,
                height=s.height,
                batch_size=1,
                n_iter=1,
                do_not_save_samples=True,
                do_not_save_grid=True,
            )
            if s.sampler:
                p.sampler_name = s.sampler
            try:
                processed = processing.process_images(p)
            finally:
                p.close()
        if not processed.images:
            raise RuntimeError("the WebUI returned no image")
        info = json.loads(processed.js())
        meta = PngImagePlugin.PngInfo()
        if processed.infotexts:
            meta.add_text("parameters", processed.infotexts[0])
        buffer = io.BytesIO()
        processed.images[0].save(buffer, format="PNG", pnginfo=meta)
        return Image(buffer.getvalue(), ".png"), info

    def restore(self, title: str) -> None:  # the tab never switches checkpoints
        return None

    def interrupt(self) -> None:
        from modules import shared

        shared.state.interrupt()

    def refresh_loras(self) -> None:
        networks = sys.modules.get("networks")  # A1111's and Forge's built-in Lora extension
        if networks is not None and hasattr(networks, "list_available_networks"):
            try:
                networks.list_available_networks()
            except Exception:  # a refresh that fails only delays the LoRA's appearance in the list
                logger.warning("could not refresh the LoRA list", exc_info=True)


def build_section() -> None:
    """The section's widgets and events (called inside the tab's ``gr.Blocks``); a failure here is logged and
    leaves the rest of the tab working."""
    try:
        _build()
    except Exception:
        logger.error("Smoothie: the wrong-LoRA section could not be built: %s", traceback.format_exc())
        gr.Markdown("The wrong-LoRA section could not be built (see the WebUI's log); the command line works.")


def _build() -> None:
    with gr.Accordion("Negative 'wrong' LoRA for the loaded model", open=False, elem_id=ELEM):
        gr.Markdown(
            "Generate images of typical flaws (blur, JPEG artifacts, bad hands, extra fingers, deformed anatomy, "
            "oversaturation, overexposure, low resolution, watermarks, …) with the **loaded model**, captioned "
            "with the trigger word, in kohya's layout with an sd-scripts dataset config and `train.sh`; then, if "
            "you have kohya's sd-scripts, train the LoRA and install it where the Smoothie script's `auto` "
            "negative LoRA finds it. Compare with the script's *Comparison grid* (+ negative LoRA vs placebo)."
        )
        with gr.Row():
            out = gr.Textbox(
                label="Folder for the set", placeholder="/path/to/wrong-set (outside the WebUI)", elem_id=f"{ELEM}_out"
            )
            n = gr.Number(label="Number of images", value=100, precision=0, elem_id=f"{ELEM}_n")
            trigger = gr.Textbox(label="Caption and negative trigger", value="wrong", elem_id=f"{ELEM}_trigger")
        with gr.Row():
            width = gr.Number(label="Width (0: the model's native size)", value=0, precision=0, elem_id=f"{ELEM}_width")
            height = gr.Number(label="Height (0: native)", value=0, precision=0, elem_id=f"{ELEM}_height")
            steps = gr.Number(label="Sampling steps", value=20, precision=0, elem_id=f"{ELEM}_steps")
            cfg = gr.Number(label="CFG scale", value=7.0, elem_id=f"{ELEM}_cfg")
            seed = gr.Number(label="Seed (-1: random)", value=-1, precision=0, elem_id=f"{ELEM}_seed")
        with gr.Row():
            sd_scripts = gr.Textbox(
                label="kohya sd-scripts folder (optional, for training)", elem_id=f"{ELEM}_sd_scripts"
            )
            python = gr.Textbox(label="sd-scripts' Python (default: its venv)", elem_id=f"{ELEM}_python")
            train_steps = gr.Number(
                label="Training steps (0: from the image count)", value=0, precision=0, elem_id=f"{ELEM}_train_steps"
            )
        with gr.Row():
            make = gr.Button("Make the set", variant="primary", elem_id=f"{ELEM}_make")
            train = gr.Button("Train and install", elem_id=f"{ELEM}_train")
            stop = gr.Button("Interrupt", elem_id=f"{ELEM}_interrupt")
        status = gr.Markdown(elem_id=f"{ELEM}_status")
        gallery = gr.Gallery(label="Images made", elem_id=f"{ELEM}_gallery", columns=6)

        def on_make(
            o: str, k: Any, t: str, w: Any, h: Any, st: Any, c: Any, sd: Any, progress: Any = _PROGRESS
        ) -> tuple[str, list[Any]]:
            return make_set(o, k, t, w, h, st, c, sd, progress)

        def on_train(o: str, folder: str, py: str, ts: Any, progress: Any = _PROGRESS) -> str:
            return train_set(o, folder, py, ts, progress)

        make.click(on_make, inputs=[out, n, trigger, width, height, steps, cfg, seed], outputs=[status, gallery])
        train.click(on_train, inputs=[out, sd_scripts, python, train_steps], outputs=[status])
        stop.click(InProcessBackend().interrupt, inputs=[], outputs=[], queue=False)


def _int(value: Any, name: str) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: a number, got {value!r}") from None
    if number != int(number):
        raise ValueError(f"{name}: a whole number, got {value!r}")
    return int(number)


def make_set(
    out: str, n: Any, trigger: str, width: Any, height: Any, steps: Any, cfg: Any, seed: Any, progress: Any = None
) -> tuple[str, list[Any]]:
    """The *Make the set* button."""
    from modules import shared

    from smoothie.wronglora.dataset import DatasetRequest, KitError, RunInterruptedError, make_dataset

    try:
        w, h, s = _int(width, "Width"), _int(height, "Height"), _int(seed, "Seed")
        request = DatasetRequest(
            out=out.strip(),
            n=_int(n, "Images"),
            trigger=trigger,
            width=w or None,
            height=h or None,
            steps=_int(steps, "Sampling steps"),
            cfg_scale=float(cfg),
            seed=None if s < 0 else s,
        )
    except ValueError as exc:
        return f"**Cannot run:** {exc}", []

    def on_progress(done: int, total: int, text: str) -> None:
        shared.state.job_no, shared.state.job_count = done, total
        shared.state.textinfo = text[:200]
        if progress is not None:
            progress(done / total if total else 1.0, desc=f"{done}/{total} images")

    shared.state.begin(job="smoothie_wrong_lora")
    try:
        result = make_dataset(
            request, InProcessBackend(), progress=on_progress, should_stop=lambda: bool(shared.state.interrupted)
        )
    except KitError as exc:
        return f"**Cannot run:** {exc}", []
    except RunInterruptedError as exc:
        return f"**Interrupted:** {exc}. Press *Make the set* again to resume.", []
    except Exception as exc:  # reported once, with context; the WebUI carries on
        logger.error("Smoothie wrong-LoRA set failed: %s", traceback.format_exc())
        return f"**Failed:** {type(exc).__name__}: {exc}", []
    finally:
        shared.state.end()
    assert result.image_dir is not None
    assert result.plan is not None
    shown = sorted(p for p in result.image_dir.iterdir() if p.suffix.lower() in (".png", ".jpg", ".webp"))[-24:]
    notes = "".join(f"\n- {note}" for note in result.notes)
    text = (
        f"**{result.n} images** ({result.made} new) of **{result.checkpoint.title}** ({result.arch.label}) in "
        f"`{result.image_dir}`; prompts in `{result.out / 'generations.jsonl'}`; kohya config `{result.toml}`; "
        f"training command `sh {result.train_sh}` ({result.plan.script}, {result.plan.steps} steps).{notes}"
    )
    return text, [str(p) for p in shown]


def train_set(out: str, sd_scripts: str, python: str, steps: Any, progress: Any = None) -> str:
    """The *Train and install* button."""
    from modules import shared

    from smoothie.wronglora.dataset import KitError, RunInterruptedError
    from smoothie.wronglora.train import TrainRequest, run_training

    try:
        train_steps = _int(steps, "Training steps")
    except ValueError as exc:
        return f"**Cannot run:** {exc}"
    request = TrainRequest(
        out=out.strip(), sd_scripts=sd_scripts.strip(), python=python.strip() or None, steps=train_steps or None
    )

    def on_progress(done: int, total: int, text: str) -> None:
        shared.state.job_no, shared.state.job_count = done, total
        shared.state.textinfo = text
        if progress is not None:
            progress(done / total if total else 0.0, desc=text)

    shared.state.begin(job="smoothie_wrong_lora_train")
    try:
        result = run_training(
            request, InProcessBackend(), progress=on_progress, should_stop=lambda: bool(shared.state.interrupted)
        )
    except KitError as exc:
        return f"**Cannot train:** {exc}"
    except RunInterruptedError as exc:
        return f"**Interrupted:** {exc}."
    except Exception as exc:
        logger.error("Smoothie wrong-LoRA training failed: %s", traceback.format_exc())
        return f"**Failed:** {type(exc).__name__}: {exc}"
    finally:
        shared.state.end()
    where = f" and installed as `{result.installed}`" if result.installed else ""
    notes = "".join(f"\n- {note}" for note in result.notes)
    return (
        f"**LoRA {'trained' if result.trained else 'already trained'}**: `{result.lora}`{where} "
        f"({result.plan.script}, {result.plan.steps} steps). In the Smoothie script, *Negative LoRA* `auto` picks "
        f"it for this model; tick *Comparison grid* to compare it with the placebo.{notes}"
    )
