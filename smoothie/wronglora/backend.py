"""Where the images come from: the WebUI over HTTP (the CLI), or the WebUI this code runs in (the tab).

The dataset run only needs a few things of a WebUI, named here as :class:`Backend`; :class:`HttpBackend`
provides them through the ``/sdapi/v1`` API (A1111, Forge, reForge). The tab's in-process backend lives in
``smoothie/webui`` (it touches the host's ``modules``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from smoothie.wronglora.api import ApiError, Image, WebUIClient
from smoothie.wronglora.checkpoint import Checkpoint
from smoothie.wronglora.plan import Generation

logger = logging.getLogger(__name__)

#: ``cmd-flags`` entries that are folders of the WebUI (its data, models and networks); the output may not be
#: inside any of them.
FOLDER_FLAGS = (
    "data_dir",
    "models_dir",
    "ckpt_dir",
    "lora_dir",
    "lyco_dir",
    "lyco_dir_backcompat",
    "embeddings_dir",
    "hypernetwork_dir",
    "vae_dir",
    "codeformer_models_path",
    "gfpgan_models_path",
    "esrgan_models_path",
    "realesrgan_models_path",
    "textual_inversion_templates_dir",
    "localizations_dir",
)


class Backend(Protocol):
    """What a dataset run asks of a WebUI."""

    @property
    def label(self) -> str: ...

    def checkpoints(self) -> list[Checkpoint]: ...

    def current_checkpoint(self) -> str | None:
        """The title of the checkpoint loaded now (None when unknown)."""
        ...

    def folders(self) -> dict[str, Path]:
        """The WebUI's own folders (name → path) that must not hold the output."""
        ...

    def lora_dir(self) -> Path | None: ...

    def generate(self, generation: Generation, checkpoint: Checkpoint | None) -> tuple[Image, dict[str, Any]]:
        """One image for ``generation`` with ``checkpoint`` (None: the loaded one), and the WebUI's ``info``."""
        ...

    def restore(self, title: str) -> None:
        """Load the checkpoint ``title`` again (the user's, after the run switched it)."""
        ...

    def interrupt(self) -> None: ...

    def refresh_loras(self) -> None: ...


def webui_folders(flags: Mapping[str, Any]) -> dict[str, Path]:
    """The folders named by a WebUI's ``cmd-flags``, plus its install folder (the parent of its
    ``localizations``/``textual_inversion_templates`` folders, which default to it)."""
    found: dict[str, Path] = {}
    for key in FOLDER_FLAGS:
        value = flags.get(key)
        if isinstance(value, str) and value.strip():
            found[key] = Path(value)
    for key in ("localizations_dir", "textual_inversion_templates_dir"):
        path = found.get(key)
        if path is not None and path.name in ("localizations", "textual_inversion_templates"):
            found.setdefault("webui_dir", path.parent)
    return found


def folders_from_files(checkpoint_files: list[str], lora_files: list[str]) -> dict[str, Path]:
    """The WebUI's folders as far as the files it lists tell them (when ``cmd-flags`` cannot: Forge answers it
    with HTTP 500 when started with ``--port``): the folders of its checkpoints and LoRAs, and, in the standard
    ``models/Stable-diffusion`` / ``models/Lora`` layout, its models folder, and its data folder when that holds
    what a WebUI's data folder holds (a ``config.json``, ``launch.py``, ``extensions/`` …)."""
    found: dict[str, Path] = {}
    for key, files in (("ckpt_dir", checkpoint_files), ("lora_dir", lora_files)):
        parents = sorted({Path(f).parent for f in files if f and Path(f).is_absolute()}, key=lambda p: len(p.parts))
        if not parents:
            continue
        found[key] = parents[0]  # the top one (LoRAs may sit in sub-folders)
        for index, parent in enumerate(parents[1:], start=1):
            found[f"{key}_{index}"] = parent
        top = parents[0]
        if top.parent.name == "models" and top.name.lower() in ("stable-diffusion", "lora"):
            found.setdefault("models_dir", top.parent)
            if _looks_like_webui_data(top.parent.parent):  # not a shared /home/me/models given by --ckpt-dir
                found.setdefault("data_dir", top.parent.parent)
    return found


#: Files and folders of a WebUI's install or data folder (``--data-dir``), one of which it always has.
_WEBUI_MARKERS = ("config.json", "ui-config.json", "launch.py", "webui.py", "extensions")


def _looks_like_webui_data(folder: Path) -> bool:
    try:
        return any((folder / marker).exists() for marker in _WEBUI_MARKERS)
    except OSError:
        return False


class HttpBackend:
    """A WebUI over its HTTP API."""

    def __init__(self, client: WebUIClient) -> None:
        self.client = client
        self._flags: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return self.client.url

    def checkpoints(self) -> list[Checkpoint]:
        return [Checkpoint.from_api(m) for m in self.client.sd_models()]

    def current_checkpoint(self) -> str | None:
        value = self.client.options().get("sd_model_checkpoint")
        return str(value) if value else None

    def _cmd_flags(self) -> dict[str, Any]:
        if self._flags is None:
            try:
                self._flags = self.client.cmd_flags()
            except ApiError as exc:  # an old or trimmed API: the folder check then has less to go on
                logger.info("cmd-flags not available at %s: %s", self.client.url, exc)
                self._flags = {}
        return self._flags

    def folders(self) -> dict[str, Path]:
        found = webui_folders(self._cmd_flags())
        if found:
            return found
        return self._folders_from_files()

    def _folders_from_files(self) -> dict[str, Path]:
        listed: dict[str, list[str]] = {}
        for what, call, key in (("sd-models", self.client.sd_models, "filename"), ("loras", self.client.loras, "path")):
            try:
                listed[what] = [str(m.get(key) or "") for m in call()]
            except ApiError as exc:  # no Lora extension, an old API: less to check, no failure
                logger.info("%s not available at %s: %s", what, self.client.url, exc)
                listed[what] = []
        return folders_from_files(listed["sd-models"], listed["loras"])

    def lora_dir(self) -> Path | None:
        value = self._cmd_flags().get("lora_dir")
        if isinstance(value, str) and value.strip():
            return Path(value)
        found = self._folders_from_files()
        if "lora_dir" in found:
            return found["lora_dir"]
        models = found.get("models_dir")
        return models / "Lora" if models is not None and (models / "Lora").is_dir() else None

    def generate(self, generation: Generation, checkpoint: Checkpoint | None) -> tuple[Image, dict[str, Any]]:
        images, info = self.client.txt2img(generation.payload(checkpoint.title if checkpoint else None))
        if not images:
            raise ApiError(f"{self.client.url}/sdapi/v1/txt2img returned no image")
        return images[0], info

    def restore(self, title: str) -> None:
        self.client.set_options({"sd_model_checkpoint": title})

    def interrupt(self) -> None:
        self.client.interrupt()

    def refresh_loras(self) -> None:
        self.client.refresh_loras()


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or below it (both resolved; a folder that does not exist is compared as
    written)."""
    try:
        p = Path(os.path.realpath(path))
        f = Path(os.path.realpath(folder))
    except (OSError, ValueError):
        return False
    return p == f or f in p.parents
