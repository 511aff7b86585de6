"""The ``Smoothie Dataset`` tab (gradio 3.41, as in A1111 1.10): the dataset pipeline with a UI.

Only UI glue lives here: values from the widgets become one :class:`~smoothie.dataset.options.PrepOptions`,
:func:`~smoothie.dataset.pipeline.prepare` does the work, :mod:`smoothie.dataset.preview` draws the
before/after tiles. Progress goes to gradio's progress bar and A1111's ``shared.state`` (so the
WebUI's own Interrupt works too); the tab's Interrupt button calls ``shared.state.interrupt()``.
A1111's interrogators (BLIP caption, DeepBooru tags) can be used as analysers: they are loaded once
for the run and sent back to the CPU afterwards, under A1111's GPU queue lock.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any

import gradio as gr  # the host's gradio (3.41 in A1111 1.10); this module is only imported inside the WebUI

logger = logging.getLogger(__name__)

TAB_TITLE = "Smoothie Dataset"
ELEM = "smoothie_dataset"
INTERROGATORS = ("BLIP caption (A1111)", "DeepBooru tags (A1111)")
_REGISTERED: list[Any] = []


def register() -> None:
    """Add the tab once (A1111 clears callbacks on a UI reload, so look at its callback list)."""
    from modules import script_callbacks

    if not any(c.callback is on_ui_tabs for c in script_callbacks.callback_map.get("callbacks_ui_tabs", [])):
        script_callbacks.on_ui_tabs(on_ui_tabs, name="smoothie dataset tab")


def on_ui_tabs() -> list[tuple[Any, str, str]]:
    return [(build(), TAB_TITLE, ELEM)]


def build() -> Any:
    """The tab's ``gr.Blocks``; every option widget starts at the default of
    :class:`~smoothie.dataset.options.PrepOptions` (the CLI's defaults too)."""
    from smoothie.dataset.options import CropMode, ExportFormat, FaceDirection, ImageFormat, defaults

    d = defaults()

    with gr.Blocks(analytics_enabled=False) as blocks:
        gr.Markdown(
            "Turn a folder of images into a LoRA training set: validate, drop blurry and duplicate shots, caption "
            "with one vocabulary, flip every subject to face one way, crop, sort and export. The input folder is "
            "only read; everything is written inside the output folder, and running again resumes."
        )
        with gr.Row():
            input_dir = gr.Textbox(label="Input folder", placeholder="/path/to/photos", elem_id=f"{ELEM}_input")
            output_dir = gr.Textbox(
                label="Output folder",
                placeholder="/path/to/training-set (not inside the input)",
                elem_id=f"{ELEM}_output",
            )
        with gr.Row():
            folder_info = gr.Markdown("Choose an input and an output folder.", elem_id=f"{ELEM}_folders")
            force = gr.Checkbox(
                value=d["force"],
                label="Use an output folder that holds other files (they are never overwritten)",
                elem_id=f"{ELEM}_force",
            )
        with gr.Row():
            with gr.Column(scale=5):
                with gr.Accordion("1 · Quality", open=True), gr.Row():
                    min_sharpness = gr.Textbox(
                        value=str(d["min_sharpness"]),
                        label="Minimum sharpness",
                        info="auto, off, or a number",
                        elem_id=f"{ELEM}_sharp",
                    )
                    dedup = gr.Checkbox(value=d["dedup"], label="Drop near-duplicates", elem_id=f"{ELEM}_dedup")
                    dedup_similarity = gr.Slider(
                        0, 1, value=d["dedup_similarity"], step=0.01, label="Image-feature similarity (0: off)"
                    )
                    dedup_distance = gr.Slider(
                        0, 16, value=d["dedup_distance"], step=1, label="Duplicate hash distance"
                    )
                with gr.Accordion("2 · Analysis", open=False):
                    vision = gr.Checkbox(
                        value=d["vision"],
                        label="Offline vision models: MediaPipe face mesh and pose, EfficientNet-Lite0 "
                        "(shot, camera angle, gaze, eyes, mouth, pose, subject nouns; Haar cascades when off)",
                        elem_id=f"{ELEM}_vision",
                    )
                    gr.Markdown(_vision_status())
                    interrogators = gr.CheckboxGroup(
                        list(INTERROGATORS),
                        label="A1111 interrogators (slow)",
                        info=_interrogator_sizes(),
                        elem_id=f"{ELEM}_interrogators",
                    )
                    pick_model = gr.Dropdown(
                        ["—", *(c.title() for c in _catalogue())],
                        value="—",
                        label="Tagger or captioner (downloaded from the Hugging Face Hub on first use)",
                        elem_id=f"{ELEM}_pick_model",
                    )
                    with gr.Row():
                        wd14 = gr.Textbox(
                            label="WD14 tagger",
                            placeholder="folder or HF id, e.g. SmilingWolf/wd-v1-4-convnext-tagger-v2",
                        )
                        wd14_threshold = gr.Slider(
                            0.05, 0.95, value=d["wd14_threshold"], step=0.05, label="WD14 threshold"
                        )
                    captioner = gr.Textbox(label="Captioner", placeholder="folder or HF id of an image-to-text model")
                with gr.Accordion("3 · Captions", open=True):
                    with gr.Row():
                        trigger = gr.Textbox(label="Trigger word", elem_id=f"{ELEM}_trigger")
                        subject = gr.Textbox(label="Subject (when a caption has none)", placeholder="a woman")
                    template = gr.Textbox(value=d["template"], label="Template", lines=2)
                    with gr.Row():
                        scrub_names = gr.Checkbox(value=d["scrub_names"], label="Replace names with descriptions")
                        keep_names = gr.Textbox(label="Names to keep", placeholder="comma-separated")
                    with gr.Row():
                        vocabulary = gr.Textbox(
                            label="Vocabulary JSON", placeholder="optional file merged over the default"
                        )
                        compounds = gr.Textbox(label="Compounds file", placeholder="'phrase -> compound' lines")
                with gr.Accordion("4 · Direction and crops", open=True):
                    with gr.Row():
                        face_direction = gr.Radio(
                            [d.value for d in FaceDirection],
                            value=d["face_direction"].value,
                            label="Every subject faces",
                            elem_id=f"{ELEM}_dir",
                        )
                        crop = gr.Radio(
                            [c.value for c in CropMode], value=d["crop"].value, label="Crop", elem_id=f"{ELEM}_crop"
                        )
                        size = gr.Slider(256, 2048, value=d["size"], step=64, label="Size", elem_id=f"{ELEM}_size")
                    direction_examples = gr.Textbox(
                        label="Direction examples (where no face is found: cartoons, animals, back views)",
                        placeholder="DIR with left/ and right/ sub-folders of a few pictures each (optional)",
                        elem_id=f"{ELEM}_direction_examples",
                    )
                    gr.Markdown("Or mark a few images: select one in the gallery, then *Faces left* or *Faces right*.")
                    with gr.Row():
                        mark_left = gr.Button("Faces left", scale=1, elem_id=f"{ELEM}_mark_left")
                        mark_right = gr.Button("Faces right", scale=1, elem_id=f"{ELEM}_mark_right")
                        clear_marks = gr.Button("Clear", scale=1)
                    direction_view = gr.JSON(label="Direction labels", value={})
                with gr.Accordion("5 · Sorting into classes", open=False):
                    classes_dir = gr.Textbox(label="Folder of examples", placeholder="DIR/<class>/*.jpg (optional)")
                    gr.Markdown("Or label a few images: select one in the gallery, type its class, press Label.")
                    with gr.Row():
                        label_name = gr.Textbox(label="Class of the selected image", scale=3)
                        label_btn = gr.Button("Label", scale=1)
                        clear_labels = gr.Button("Clear labels", scale=1)
                    labels_view = gr.JSON(label="Labels", value={})
                with gr.Accordion("6 · Export", open=False):
                    with gr.Row():
                        export_format = gr.Radio(
                            [f.value for f in ExportFormat], value=d["export_format"].value, label="Layout"
                        )
                        image_format = gr.Radio(
                            [f.value for f in ImageFormat], value=d["image_format"].value, label="Images"
                        )
                    with gr.Row():
                        concept = gr.Textbox(
                            label="Concept folder name", placeholder="default: the input folder's name"
                        )
                        repeats = gr.Number(value=d["repeats"], precision=0, label="Repeats (0: recommended)")
                        epochs = gr.Number(value=d["epochs"], precision=0, label="Epochs (0: recommended)")
                        workers = gr.Slider(1, 16, value=d["workers"], step=1, label="Workers")
                with gr.Row():
                    run = gr.Button("Prepare dataset", variant="primary", elem_id=f"{ELEM}_run")
                    stop = gr.Button("Interrupt", elem_id=f"{ELEM}_interrupt")
            with gr.Column(scale=7):
                status = gr.Markdown(elem_id=f"{ELEM}_status")
                with gr.Row():
                    show = gr.Radio(["all", "kept", "skipped", "flipped"], value="all", label="Show", scale=3)
                    reload = gr.Button("Load report from the output folder", scale=2)
                gallery = gr.Gallery(
                    label="Before (crop box in green) → after",
                    columns=3,
                    height=600,
                    object_fit="contain",
                    elem_id=f"{ELEM}_gallery",
                )
                with gr.Row():
                    selected = gr.Textbox(label="Selected image", interactive=False, scale=2)
                    caption = gr.Textbox(label="Caption", lines=3, scale=5, elem_id=f"{ELEM}_caption")
                save_caption = gr.Button("Save caption", elem_id=f"{ELEM}_save_caption")
                with gr.Accordion("Tag co-occurrence (red: concepts that always come together)", open=True):
                    cooccurrence = gr.Image(
                        show_label=False, type="filepath", height=420, interactive=False, elem_id=f"{ELEM}_cooc"
                    )
                with gr.Accordion("summary.json", open=False):
                    summary_json = gr.JSON(show_label=False)
        shown = gr.State([])  # report entries in gallery order
        labels = gr.State({})
        direction_labels = gr.State({})

        # Each option widget by the PrepOptions field it sets: the handler gets {component: value} (gradio's
        # dict inputs) and builds the options by name, so no argument order is shared between two places.
        options = {
            "input_dir": input_dir, "output_dir": output_dir, "min_sharpness": min_sharpness, "dedup": dedup,
            "dedup_distance": dedup_distance, "wd14": wd14, "wd14_threshold": wd14_threshold,
            "captioner": captioner, "trigger": trigger, "subject": subject, "template": template,
            "scrub_names": scrub_names, "keep_names": keep_names, "vocabulary": vocabulary, "compounds": compounds,
            "face_direction": face_direction, "crop": crop, "size": size, "classes_dir": classes_dir,
            "export_format": export_format, "image_format": image_format, "concept": concept, "repeats": repeats,
            "epochs": epochs, "workers": workers, "labels": labels, "force": force, "vision": vision,
            "dedup_similarity": dedup_similarity, "direction_examples": direction_examples,
            "direction_labels": direction_labels,
        }  # fmt: skip
        extras = {"interrogators": interrogators, "show": show}
        for box in (input_dir, output_dir):
            box.blur(check_folders, inputs=[input_dir, output_dir], outputs=[folder_info], queue=False)

        def on_run(values: dict[Any, Any], progress: Any = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
            by_name = {name: values[c] for name, c in {**options, **extras}.items()}
            return run_pipeline(by_name, progress)

        run.click(
            on_run,
            inputs={*options.values(), *extras.values()},
            outputs=[status, gallery, cooccurrence, summary_json, shown],
            show_progress=True,
        )
        stop.click(interrupt, inputs=[], outputs=[], queue=False)
        show.change(
            load_report,
            inputs=[output_dir, input_dir, show],
            outputs=[status, gallery, cooccurrence, summary_json, shown],
        )
        reload.click(
            load_report,
            inputs=[output_dir, input_dir, show],
            outputs=[status, gallery, cooccurrence, summary_json, shown],
        )
        gallery.select(on_select, inputs=[shown], outputs=[selected, caption])
        save_caption.click(on_save_caption, inputs=[output_dir, selected, caption], outputs=[status])
        label_btn.click(on_label, inputs=[labels, selected, label_name], outputs=[labels, labels_view])
        clear_labels.click(lambda: ({}, {}), inputs=[], outputs=[labels, labels_view])
        for button, side in ((mark_left, "left"), (mark_right, "right")):
            button.click(
                lambda marks, source, side=side: on_label(marks, source, side),
                inputs=[direction_labels, selected],
                outputs=[direction_labels, direction_view],
            )
        clear_marks.click(lambda: ({}, {}), inputs=[], outputs=[direction_labels, direction_view])
        pick_model.change(on_pick_model, inputs=[pick_model, wd14, captioner], outputs=[wd14, captioner])
        from smoothie.webui.wrong_tab import build_section

        build_section()  # the wrong-LoRA kit (issue 13)
    return blocks


# ------------------------------------------------------------------------------------------- handlers


def check_folders(input_dir: str, output_dir: str) -> str:
    from smoothie.dataset.preview import folder_status

    return folder_status(input_dir, output_dir)[1]


def interrupt() -> None:
    from modules import shared

    shared.state.interrupt()


def run_pipeline(values: dict[str, Any], progress: Any = None) -> tuple[Any, ...]:
    """The Run button: the options from the widgets' values (by PrepOptions field name, plus ``interrogators``
    and ``show``), the pipeline run with progress and interrupt, the result shown."""
    from modules import shared

    from smoothie.dataset.options import PrepOptions
    from smoothie.dataset.pipeline import Interrupted, Progress, prepare
    from smoothie.dataset.safeio import PrepError

    values = dict(values)
    interrogators = values.pop("interrogators", None) or []
    show = values.pop("show", None) or "all"
    try:
        opts = PrepOptions.from_values(values)
    except ValueError as exc:
        return _error(str(exc))
    stages = {"analyse": (0.0, 0.6), "write": (0.6, 0.95)}

    def on_progress(p: Progress) -> None:
        shared.state.textinfo = f"{p.stage}: {p.done}/{p.total} {p.message}"
        lo, hi = stages.get(p.stage, (0.95, 1.0))
        fraction = lo + (hi - lo) * (p.done / p.total if p.total else 1.0)
        shared.state.job_no = p.done
        shared.state.job_count = p.total
        if progress is not None:
            progress(fraction, desc=f"{p.stage} {p.done}/{p.total}")

    shared.state.begin(job="smoothie_dataset")
    try:
        analyzers = _interrogators(interrogators)
        with _gpu_lock(bool(analyzers or opts.captioner or opts.wd14)):
            result = prepare(
                opts, progress=on_progress, should_stop=lambda: bool(shared.state.interrupted), analyzers=analyzers
            )
    except PrepError as exc:
        return _error(str(exc))
    except Interrupted as exc:
        return _error(f"{exc}. Press Prepare again to resume.", heading="Interrupted")
    except Exception as exc:  # reported once, with context; the WebUI carries on
        logger.error("Smoothie Dataset failed: %s", traceback.format_exc())
        return _error(f"{type(exc).__name__}: {exc}", heading="Failed")
    finally:
        shared.state.end()
    return _show(result.report, result.summary, Path(opts.input_dir), result.output_dir, show)


def load_report(output_dir: str, input_dir: str, show: str) -> tuple[Any, ...]:
    """Show the report already in the output folder (a previous run); a missing or broken file is said so."""
    from smoothie.dataset.preview import ReportError, read_run

    try:
        report, summary, out = read_run(output_dir)
    except ReportError as exc:
        return _error(str(exc), heading="Nothing to show")
    src = Path(input_dir.strip() or summary.input_dir)
    return _show(report, summary, src, out, show)


def _show(report: dict[str, Any], summary: Any, src: Path, out: Path, show: str) -> tuple[Any, ...]:
    from smoothie.dataset.preview import gallery, select, summary_markdown

    max_pixels = summary.options.get("max_pixels")
    items = gallery(report, src, out, only=show, max_pixels=max_pixels if isinstance(max_pixels, int) else None)
    shown = [dict(e) for e in select(report["images"], show)[: len(items)]]
    picture = out / "cooccurrence.png"
    cooc = str(picture) if summary.cooccurrence.picture and picture.is_file() else None
    return summary_markdown(summary), items, cooc, summary.to_json(), shown


def _error(message: str, heading: str = "Cannot run") -> tuple[Any, ...]:
    return f"**{heading}:** {message}", [], None, {}, []


def on_select(shown: list[dict[str, Any]], evt: gr.SelectData) -> tuple[Any, Any]:
    index = getattr(evt, "index", None)
    if isinstance(index, (list, tuple)):
        index = index[0]
    if not isinstance(index, int) or not 0 <= index < len(shown):
        return "", ""
    entry = shown[index]
    return entry["source"], entry["caption"] or gr.update(value=f"(skipped: {entry['reason']})")


def on_save_caption(output_dir: str, source: str, caption: str) -> str:
    from smoothie.dataset.export import edit_caption
    from smoothie.dataset.safeio import OutputDir

    if not source:
        return "Select an image in the gallery first."
    try:
        entry = edit_caption(OutputDir(Path(output_dir.strip())), source, caption)
    except (ValueError, OSError) as exc:
        return f"**Caption not saved:** {exc}"
    return f"Caption of `{source}` saved to `{entry['output']}` (kept by later runs)."


def on_label(labels: dict[str, str], source: str, name: str) -> tuple[dict[str, str], dict[str, str]]:
    labels = dict(labels or {})
    if source and name.strip():
        labels[source] = name.strip()
    return labels, labels


def _catalogue() -> tuple[Any, ...]:
    from smoothie.dataset.analyzers import CATALOGUE

    return CATALOGUE


def on_pick_model(title: str, wd14: str, captioner: str) -> tuple[str, str]:
    """A catalogue entry fills the WD14 or the captioner field with its Hugging Face id."""
    from smoothie.dataset.analyzers import choice

    picked = choice(title or "")
    if picked is None:
        return wd14, captioner
    return (picked.source, captioner) if picked.kind == "wd14" else (wd14, picked.source)


def _vision_status() -> str:
    """One line on which offline models run here, and why not."""
    from smoothie.dataset import vision

    try:
        state = vision.status()
    except Exception as exc:  # never break the tab over a status line
        return f"Vision models: could not check ({type(exc).__name__}: {exc})."
    return "Vision models: " + "; ".join(
        f"{name} {'ready' if reason is None else 'not available (' + reason + ')'}" for name, reason in state.items()
    )


# A1111's interrogators and the files they download into the models folder on first use.
_INTERROGATOR_FILES = {
    INTERROGATORS[0]: ("BLIP", "model_base_caption_capfilt_large.pth"),
    INTERROGATORS[1]: ("torch_deepdanbooru", "model-resnet_custom_v3.pt"),
}


def _interrogator_sizes() -> str:
    """The interrogators' models: their size on disk when A1111 has downloaded them already."""
    out = []
    for title in INTERROGATORS:
        folder, name = _INTERROGATOR_FILES[title]
        try:
            from modules import paths

            path = Path(paths.models_path) / folder / name
            note = (
                f"{path.stat().st_size / 1e6:,.0f} MB, downloaded"
                if path.is_file()
                else "downloaded by A1111 on first use"
            )
        except Exception:  # outside A1111, or no models folder
            note = "downloaded by A1111 on first use"
        out.append(f"{title.split(' (')[0]}: {note}")
    return "; ".join(out)


def _interrogators(selected: list[str]) -> list[Any]:
    """A1111's BLIP captioner and DeepBooru as analysers, loaded once per run and released after."""
    from smoothie.dataset.analyzers import CallableAnalyzer

    out: list[Any] = []
    if INTERROGATORS[0] in selected:
        from modules import shared

        interrogator = shared.interrogator
        out.append(
            CallableAnalyzer(
                "a1111-blip",
                lambda im: interrogator.generate_caption(im.convert("RGB")),
                load=interrogator.load,
                unload=interrogator.unload,
            )
        )
    if INTERROGATORS[1] in selected:
        from modules import deepbooru

        model = deepbooru.model
        out.append(
            CallableAnalyzer(
                "a1111-deepbooru", lambda im: model.tag_multi(im.convert("RGB")), load=model.start, unload=model.stop
            )
        )
    return out


class _gpu_lock:  # noqa: N801 - used like a function
    """A1111's GPU queue lock while models run (so generation and our models take turns); no-op otherwise."""

    def __init__(self, needed: bool) -> None:
        self.lock: Any = None
        if needed:
            from modules.call_queue import queue_lock

            self.lock = queue_lock

    def __enter__(self) -> None:
        if self.lock is not None:
            self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        if self.lock is not None:
            self.lock.release()
