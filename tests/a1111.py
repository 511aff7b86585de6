"""Start a real AUTOMATIC1111 WebUI with this extension (``A1111_DIR``): the A1111 face of ``tests/hosts.py``.

Kept for the callers written before Forge and reForge were supported (the dataset tab's tests, screenshots,
benchmarks); new code uses :mod:`tests.hosts` directly. Run by hand: ``python -m tests.a1111``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from tests.hosts import (
    A1111,
    EXTENSION_NAME,
    READY_MARK,
    REPO,
    SEED_CONFIG,
    Host,
    HostError,
    Txt2ImgResult,
    WebUI,
    free_port,
    launch,
    prepare_data_dir,
    run_extension_installer,
    running,
    server_env,
)
from tests.hosts import main as _main

A1111Error = HostError
DEFAULT_MODEL = "tiny-sd1"
SETUP_HELP = A1111.setup_help

__all__ = [
    "DEFAULT_MODEL",
    "EXTENSION_NAME",
    "READY_MARK",
    "REPO",
    "SEED_CONFIG",
    "SETUP_HELP",
    "A1111Error",
    "Host",
    "Txt2ImgResult",
    "WebUI",
    "free_port",
    "launch",
    "locate",
    "prepare_data_dir",
    "run_extension_installer",
    "running",
    "server_env",
]


def locate(env: Mapping[str, str] | None = None) -> Host | None:
    """The A1111 named by ``A1111_DIR`` (None when unset); raises :class:`A1111Error` if it is unusable."""
    return A1111.locate(env)


if __name__ == "__main__":
    sys.exit(_main(["a1111", *sys.argv[1:]]))
