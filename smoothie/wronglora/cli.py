"""``python -m smoothie wrong-lora {dataset,train,catalogue}``: the negative-LoRA kit from the command line.

Importing this module is cheap (argparse only); the kit is imported when a command runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

DESCRIPTION = (
    "Make the negative 'wrong' LoRA for your model: generate N images of typical flaws with the model itself "
    "through the WebUI's API, captioned with the trigger word, in kohya's layout with an sd-scripts dataset "
    "config and training command; with --sd-scripts, also train it and install it in the WebUI's LoRA folder."
)


def _add_training_options(p: argparse.ArgumentParser, required: bool) -> None:
    g = p.add_argument_group("training (kohya sd-scripts; never installed by Smoothie)")
    g.add_argument(
        "--sd-scripts",
        metavar="DIR",
        required=required,
        help="your kohya sd-scripts checkout: train the LoRA after the set is made and install it",
    )
    g.add_argument(
        "--sd-scripts-python",
        metavar="PYTHON",
        help="the Python of sd-scripts' environment (default: DIR/venv, DIR/.venv, else this Python)",
    )
    g.add_argument(
        "--lora-dir",
        metavar="DIR",
        help="where to install the LoRA (default: the WebUI's LoRA folder, from its API)",
    )
    g.add_argument(
        "--mixed-precision",
        choices=("auto", "bf16", "fp16", "no"),
        default="auto",
        help="sd-scripts' --mixed_precision (default auto: bf16 on GPUs that have it, fp16 on others, no on a CPU)",
    )
    g.add_argument("--train-steps", type=int, metavar="N", help="--max_train_steps (default: from the image count)")


def register(sub: Any) -> None:
    """Add ``wrong-lora`` with its subcommands to ``smoothie.cli``'s subparsers."""
    top = sub.add_parser(
        "wrong-lora", help="make (and train) the negative 'wrong' LoRA for a model", description=DESCRIPTION
    )
    wsub = top.add_subparsers(dest="wrong_command", metavar="SUBCOMMAND")
    wsub.required = True

    ds = wsub.add_parser(
        "dataset",
        help="generate the training set through the WebUI's API (and train it with --sd-scripts)",
        description=DESCRIPTION
        + " Running the same command again resumes an interrupted set and changes nothing in a finished one.",
    )
    ds.add_argument(
        "--api", required=True, metavar="URL", help="the WebUI started with --api, e.g. http://127.0.0.1:7860"
    )
    ds.add_argument(
        "--checkpoint", default="", metavar="NAME", help="checkpoint title, file name or hash (default: the loaded one)"
    )
    ds.add_argument("--n", type=int, required=True, metavar="N", help="number of images (100–300 make a good LoRA)")
    ds.add_argument("--out", required=True, metavar="DIR", help="output folder (empty, new, or an earlier run's)")
    ds.add_argument("--width", type=int, metavar="W", help="image width (default: the model's native size)")
    ds.add_argument("--height", type=int, metavar="H", help="image height (default: the model's native size)")
    ds.add_argument("--steps", type=int, metavar="S", help="sampling steps (default 20)")
    ds.add_argument("--cfg", type=float, metavar="C", help="CFG scale (default 7)")
    ds.add_argument("--sampler", metavar="NAME", help="sampler (default: the WebUI's)")
    ds.add_argument("--seed", type=int, metavar="S", help="seed of image 1 (image k gets S+k-1; default: random)")
    ds.add_argument(
        "--trigger", default="wrong", help="caption and trigger word (default: wrong, the Smoothie script's)"
    )
    ds.add_argument(
        "--arch",
        choices=("auto", "sd1", "sd2", "sdxl"),
        default="auto",
        help="the checkpoint's architecture (default auto: read from its file)",
    )
    ds.add_argument(
        "--force", action="store_true", help="use a non-empty output folder (its files are never overwritten)"
    )
    ds.add_argument(
        "--timeout", type=float, default=1800.0, metavar="SECONDS", help="longest wait for one image (default 1800)"
    )
    _add_training_options(ds, required=False)
    ds.set_defaults(func=run_dataset)

    tr = wsub.add_parser(
        "train",
        help="train a finished set with your kohya sd-scripts and install the LoRA",
        description="Train the LoRA of a finished wrong-LoRA set (OUT) with kohya's sd-scripts and install it.",
    )
    tr.add_argument("--out", required=True, metavar="DIR", help="the set's folder (made by 'wrong-lora dataset')")
    tr.add_argument("--api", metavar="URL", help="the WebUI, to find its LoRA folder and refresh its LoRA list")
    tr.add_argument("--retrain", action="store_true", help="train again even if OUT/model holds the LoRA")
    _add_training_options(tr, required=True)
    tr.set_defaults(func=run_train)

    cat = wsub.add_parser("catalogue", help="print the built-in catalogue of flaws (Markdown)")
    cat.set_defaults(func=run_catalogue)


def _progress(done: int, total: int, text: str) -> None:
    width = len(str(total))
    print(f"[{done:>{width}}/{total}] {text}", file=sys.stderr, flush=True)


def run_dataset(args: argparse.Namespace) -> int:
    from smoothie.cli import UsageError
    from smoothie.wronglora.api import ApiError, WebUIClient
    from smoothie.wronglora.backend import HttpBackend
    from smoothie.wronglora.dataset import DatasetRequest, KitError, RunInterruptedError, make_dataset

    if args.timeout <= 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout}")
    try:
        backend = HttpBackend(WebUIClient(args.api, generate_timeout=args.timeout))
        request = DatasetRequest(
            out=args.out,
            n=args.n,
            checkpoint=args.checkpoint,
            width=args.width,
            height=args.height,
            steps=args.steps,
            cfg_scale=args.cfg,
            sampler=args.sampler,
            seed=args.seed,
            trigger=args.trigger,
            arch=args.arch,
            force=args.force,
        )
        if args.sd_scripts is not None:
            _check_training_args(args)
        result = make_dataset(request, backend, progress=_progress)
    except (KitError, ApiError) as exc:
        raise UsageError(str(exc)) from None
    except RunInterruptedError as exc:
        print(f"smoothie: {exc}; run the same command again to resume", file=sys.stderr)
        return 130
    plan = result.plan
    assert plan is not None
    print(f"wrong-LoRA set: {result.n} images ({result.made} new) in {result.image_dir}")
    print(f"  checkpoint:  {result.checkpoint.title} ({result.arch.label})")
    print(f"  prompts:     {result.out / 'generations.jsonl'}")
    print(f"  kohya:       {result.toml}")
    print(f"  train with:  sh {result.train_sh}   ({plan.script}, {plan.steps} steps)")
    for note in result.notes:
        print(f"  note: {note}")
    if args.sd_scripts is not None:
        return _train(args, backend)
    return 0


def _check_training_args(args: argparse.Namespace) -> None:
    from smoothie.cli import UsageError

    if args.train_steps is not None and args.train_steps < 1:
        raise UsageError(f"--train-steps must be at least 1, got {args.train_steps}")


def run_train(args: argparse.Namespace) -> int:
    from smoothie.cli import UsageError
    from smoothie.wronglora.api import ApiError, WebUIClient
    from smoothie.wronglora.backend import HttpBackend

    _check_training_args(args)
    try:
        backend = HttpBackend(WebUIClient(args.api)) if args.api else None
    except ApiError as exc:
        raise UsageError(str(exc)) from None
    return _train(args, backend)


def _train(args: argparse.Namespace, backend: Any) -> int:
    from smoothie.cli import UsageError
    from smoothie.wronglora.api import ApiError
    from smoothie.wronglora.dataset import KitError, RunInterruptedError
    from smoothie.wronglora.train import TrainRequest, run_training

    request = TrainRequest(
        out=args.out,
        sd_scripts=args.sd_scripts,
        python=args.sd_scripts_python,
        lora_dir=args.lora_dir,
        mixed_precision=args.mixed_precision,
        steps=args.train_steps,
        retrain=bool(getattr(args, "retrain", False)),
    )
    try:
        result = run_training(request, backend, progress=_progress)
    except (KitError, ApiError) as exc:
        raise UsageError(str(exc)) from None
    except RunInterruptedError as exc:
        print(f"smoothie: {exc}; run the command again to train from the start", file=sys.stderr)
        return 130
    verb = "trained" if result.trained else "already trained"
    print(f"LoRA {verb}: {result.lora}  ({result.plan.script}, {result.plan.steps} steps, {result.seconds:.0f} s)")
    if result.installed is not None:
        print(f"  installed:   {result.installed}")
        name, trigger = result.installed.stem, result.plan.trigger
        print(f"  use it:      Smoothie script, Negative LoRA 'auto' (or '{name}'), trigger '{trigger}'")
    for note in result.notes:
        print(f"  note: {note}")
    return 0


def run_catalogue(args: argparse.Namespace) -> int:
    from smoothie.wronglora.catalogue import describe

    print(describe())
    return 0
