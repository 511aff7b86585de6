"""``python -m smoothie dataset prep INPUT_DIR OUTPUT_DIR [options]``.

Importing this module is cheap (argparse and the options module only); the pipeline, Pillow, OpenCV
and numpy are imported when the command runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from smoothie.dataset.options import CropMode, ExportFormat, FaceDirection, ImageFormat, defaults

logger = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add the ``dataset`` command (with its ``prep`` subcommand) to ``smoothie.cli``'s subparsers."""
    dataset = sub.add_parser(
        "dataset",
        help="prepare LoRA training data from a folder of images",
        description="Prepare LoRA training data: validate, filter, caption, flip, crop, sort and export.",
    )
    dsub = dataset.add_subparsers(dest="dataset_command", metavar="SUBCOMMAND")
    dsub.required = True
    prep = dsub.add_parser(
        "prep",
        help="turn INPUT_DIR into a training set in OUTPUT_DIR (originals are never modified)",
        description=(
            "Turn a folder of images into a training set. INPUT_DIR is only read; everything is written "
            "atomically inside OUTPUT_DIR, which may not be inside INPUT_DIR. Re-running into the same "
            "OUTPUT_DIR resumes and changes nothing that is already right. OUTPUT_DIR/report.json lists "
            "every input image with its status and the reason for every skip."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    d = defaults()
    prep.add_argument("input_dir", metavar="INPUT_DIR", help="folder of images (searched recursively)")
    prep.add_argument("output_dir", metavar="OUTPUT_DIR", help="where the training set is written")
    g = prep.add_argument_group("quality")
    g.add_argument(
        "--min-sharpness",
        default=d["min_sharpness"],
        metavar="auto|X",
        help="skip blurry images: 'auto' (outliers of this folder), a Laplacian-variance threshold, or 'off'",
    )
    g.add_argument(
        "--dedup",
        action=argparse.BooleanOptionalAction,
        default=d["dedup"],
        help="skip near-duplicates, keeping the sharper/larger copy",
    )
    g.add_argument(
        "--dedup-distance", type=int, default=d["dedup_distance"], metavar="BITS", help="perceptual-hash bits"
    )
    g.add_argument(
        "--dedup-similarity",
        type=float,
        default=d["dedup_similarity"],
        metavar="COSINE",
        help="also near-duplicates: image features at least this similar (EfficientNet-Lite0; 0: off)",
    )
    g.add_argument("--max-pixels", type=int, default=d["max_pixels"], help="refuse images larger than this")
    g = prep.add_argument_group("direction and crops")
    g.add_argument(
        "--face-direction",
        choices=[x.value for x in FaceDirection],
        default=d["face_direction"].value,
        help="flip images so every subject faces this way (captions of flipped images get left/right swapped); "
        "'keep' flips nothing",
    )
    g.add_argument(
        "--direction-examples",
        default=None,
        metavar="DIR",
        help="DIR/left/* and DIR/right/*: a few pictures facing each way; a classifier trained on them gives a "
        "direction to every image without a confident face (cartoons, animals, back views)",
    )
    g.add_argument(
        "--crop", choices=[c.value for c in CropMode], default=d["crop"].value, help="how images are cropped"
    )
    g.add_argument("--size", type=int, default=d["size"], help="output side (bucket: the area is at most SIZE²)")
    g = prep.add_argument_group("captions")
    g.add_argument(
        "--scrub-names",
        action=argparse.BooleanOptionalAction,
        default=d["scrub_names"],
        help="replace proper nouns in captions with generic descriptions",
    )
    g.add_argument("--keep-name", action="append", default=[], metavar="NAME", help="a name --scrub-names keeps")
    g.add_argument("--trigger", default=d["trigger"], help="trigger word put first in every caption")
    g.add_argument("--subject", default=d["subject"], help="subject when a caption has none (e.g. 'a woman')")
    g.add_argument("--template", default=d["template"], help="caption template; see the README for the fields")
    g.add_argument("--vocabulary", default=None, metavar="JSON", help="controlled vocabulary merged over the default")
    g.add_argument("--compounds", default=None, metavar="FILE", help="phrases to bind: 'phrase -> compound' lines")
    g.add_argument(
        "--wd14", default=d["wd14"], metavar="PATH|HF_ID", help="tag images with a WD14 tagger (onnxruntime)"
    )
    g.add_argument("--wd14-threshold", type=float, default=d["wd14_threshold"], help="WD14 general-tag threshold")
    g.add_argument(
        "--captioner", default=d["captioner"], metavar="PATH|HF_ID", help="caption images with a transformers model"
    )
    g = prep.add_argument_group("sorting and export")
    g.add_argument("--classes", default=None, metavar="DIR", help="DIR/<class>/*: examples to sort images into classes")
    g.add_argument("--concept", default=d["concept"], help="folder name of the concept; empty: INPUT_DIR's name")
    g.add_argument(
        "--format", choices=[f.value for f in ExportFormat], default=d["export_format"].value, help="output layout"
    )
    g.add_argument(
        "--image-format", choices=[f.value for f in ImageFormat], default=d["image_format"].value, help="output images"
    )
    g.add_argument("--repeats", type=int, default=d["repeats"], help="kohya repeats per folder (0: recommended)")
    g.add_argument("--epochs", type=int, default=d["epochs"], help="epochs for the recommendation (0: recommended)")
    g.add_argument("--workers", type=int, default=d["workers"], help="images processed in parallel (threads)")
    g.add_argument(
        "--force",
        action="store_true",
        default=d["force"],
        help="use an OUTPUT_DIR that already holds other files (they are never overwritten)",
    )
    g.add_argument(
        "--vision",
        action=argparse.BooleanOptionalAction,
        default=d["vision"],
        help="use the offline vision models where installed (MediaPipe face mesh and pose, EfficientNet-Lite0); "
        "--no-vision: OpenCV's Haar cascades and colour statistics only",
    )
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    prep.set_defaults(func=run_prep)


# command-line destination -> PrepOptions field, where the names differ
_FIELD_OF = {"keep_name": "keep_names", "format": "export_format", "classes": "classes_dir"}


def options_from_args(args: argparse.Namespace) -> Any:
    """The :class:`~smoothie.dataset.options.PrepOptions` of a parsed command line (other flags ignored)."""
    from smoothie.dataset.options import PrepOptions

    names = defaults().keys() | {"input_dir", "output_dir"}
    values = {_FIELD_OF.get(k, k): v for k, v in vars(args).items()}
    return PrepOptions.from_values({k: v for k, v in values.items() if k in names})


def run_prep(args: argparse.Namespace) -> int:
    from smoothie.cli import UsageError
    from smoothie.dataset.pipeline import Interrupted, prepare
    from smoothie.dataset.safeio import PrepError

    try:
        opts = options_from_args(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    bar = _ProgressBar(enabled=not args.no_progress)
    try:
        result = prepare(opts, progress=bar)
    except PrepError as exc:
        bar.close()
        raise UsageError(str(exc)) from None
    except Interrupted as exc:
        bar.close()
        print(f"smoothie: {exc}; run the same command again to resume", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        bar.close()
        raise
    bar.close()
    from smoothie.dataset.scan import as_text

    summary = result.summary
    counts, training = summary.counts, summary.training
    where = Path(as_text(str(result.output_dir)))
    print(
        f"{counts.kept} of {counts.images} images kept, {counts.skipped} skipped, "
        f"{counts.flipped} flipped; {result.written} files written to {where}"
    )
    for kind, n in counts.skipped_by_reason.items():
        print(f"  skipped ({kind}): {n}")
    if training.total_steps:
        reps = ", ".join(f"{c}: {r}" for c, r in training.repeats.items())
        print(f"recommended: repeats {reps}; {training.epochs} epochs, {training.total_steps} steps at batch 1")
    for w in summary.cooccurrence.warnings[:5]:
        print(f"warning: {w.message}")
    for note in summary.lint[:5]:
        print(f"warning: {note.source}: {note.warning}")
    print(f"report: {where / 'report.json'}  summary: {where / 'summary.json'}")
    logger.info("timings: %s", {k: round(v, 2) for k, v in result.timings.items()})
    return 0


class _ProgressBar:
    """tqdm bar per stage on stderr."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.stage = ""

    def __call__(self, p: Any) -> None:
        if not self.enabled or p.stage in ("scan", "export", "done"):
            return
        if p.stage != self.stage:
            self.close()
            from tqdm import tqdm

            self.stage = p.stage
            self.bar = tqdm(total=p.total, desc=p.stage, unit="img", file=sys.stderr, dynamic_ncols=True)
        if self.bar is not None and p.done > self.bar.n:
            self.bar.update(p.done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        self.stage = ""
