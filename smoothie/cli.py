"""``python -m smoothie …``: the extension's pipelines without a WebUI.

Each subcommand lives next to the code it drives and exposes ``register(subparsers)``; this module only
collects them, so importing it stays cheap (no spaCy, torch or OpenCV at import).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

# Modules that contribute subcommands, in the order `--help` lists them.
SUBCOMMAND_MODULES = (
    "smoothie.prompt.cli",
    "smoothie.dataset.cli",
    "smoothie.wronglora.cli",
    "smoothie.demo",
)


DEBUG_ENV = "SMOOTHIE_DEBUG"


class UsageError(Exception):
    """Bad input from the user: printed as one clear line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (``smoothie: error: …``), exit status 2, like every
    other bad input, instead of the usage block followed by the message."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("python -m smoothie").strip()
        where = f"{command}: " if command else ""
        self.exit(2, f"smoothie: error: {where}{message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m smoothie", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and decisions to stderr")
    parser.add_argument(
        "--debug",
        action="store_true",
        help=f"show the Python traceback of an unexpected error (also ${DEBUG_ENV}=1)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in SUBCOMMAND_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Exit status: 0 done, 2 bad input (one line naming it), 1 an unexpected error (one
    line; ``--debug`` or ``$SMOOTHIE_DEBUG=1`` shows the traceback), 130 interrupted."""
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(args.debug) or os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"smoothie: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("smoothie: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `… | head`: the reader left; nothing to report
        _silence_stdout()
        return 0
    except Exception as exc:  # a bug or an environment failure: one line, the traceback on request
        if debug:
            traceback.print_exc()
        what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        hint = "" if debug else f" (run with --debug or {DEBUG_ENV}=1 for the traceback)"
        print(f"smoothie: internal error: {_one_line(what)}{hint}", file=sys.stderr)
        return 1


def _one_line(text: str, limit: int = 2000) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _silence_stdout() -> None:
    """Point stdout at devnull so the interpreter's final flush does not raise again on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
