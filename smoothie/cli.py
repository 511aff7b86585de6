"""``python -m smoothie …``: the extension's pipelines without a WebUI.

Each subcommand lives next to the code it drives and exposes ``register(subparsers)``; this module only
collects them, so importing it stays cheap (no spaCy, torch or OpenCV at import).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
from collections.abc import Sequence

# Modules that contribute subcommands, in the order `--help` lists them.
SUBCOMMAND_MODULES = (
    "smoothie.prompt.cli",
    "smoothie.dataset.cli",
    "smoothie.demo",
)


class UsageError(Exception):
    """Bad input from the user: printed as one clear line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m smoothie", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and decisions to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in SUBCOMMAND_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"smoothie: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("smoothie: interrupted", file=sys.stderr)
        return 130
