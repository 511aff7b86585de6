"""Start a real WebUI — AUTOMATIC1111 v1.10, Forge or reForge — with this extension, for integration tests.

Each host is named by an environment variable, like ``A1111_DIR`` (the folder holding ``launch.py``):

============  =============  ==========================  ==============================================
host          folder         Python (default)            test models
============  =============  ==========================  ==============================================
A1111 1.10    ``A1111_DIR``  ``A1111_PYTHON``            the tiny SD1/SDXL models of ``A1111_MODELS``
Forge         ``FORGE_DIR``  ``FORGE_PYTHON``            a random-weight SD1.5-shaped checkpoint
reForge       ``REFORGE_DIR``  ``REFORGE_PYTHON``        (written at test time, tests/sd15_checkpoint.py)
============  =============  ==========================  ==============================================

The Python defaults to ``<DIR>/venv/bin/python``, else ``<DIR>/../venv/bin/python``. Forge and reForge pick a
model's family by its layer sizes and do not recognise the tiny models, so they get the SD1.5-shaped checkpoint
(465 MB, cached in the user cache, seconds to write) and LoRAs of SD1.5's shapes written beside it.

Each launch gets a fresh ``--data-dir`` in a temporary folder: the models and LoRAs are symlinked into its
``models/``, this checkout into its ``extensions/``, and its ``config.json`` is seeded. Neither the host's folder
nor this checkout is written to (beyond what the extension itself writes). The server is offline
(``HF_HUB_OFFLINE=1``), bound to 127.0.0.1 on a free port, and is stopped by killing its process group.

Run by hand: ``python -m tests.hosts forge`` starts one and prints its URL until Ctrl-C.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import logging
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
EXTENSION_NAME = "sd-webui-smoothie"
SHARED_MODELS = REPO.parent / "shared" / "models"

#: Settings written into the temporary data dir's config.json before start-up.
SEED_CONFIG: dict[str, Any] = {
    # Live previews with "Approx NN" download vaeapprox-sdxl.pt for SDXL models (no network here); previews
    # also cost time on CPU. "Approx cheap" needs no file, for whoever turns previews back on.
    "live_previews_enable": False,
    "show_progress_type": "Approx cheap",
    "auto_launch_browser": "Disable",
    "samples_save": False,
    "grid_save": False,
}

#: Command-line flags common to every host (the data dir, port and checkpoint are added per launch).
COMMON_FLAGS = (
    "--api",
    "--skip-prepare-environment",  # no git clones or pip runs at start; install.py is run separately
    "--skip-install",
    "--skip-torch-cuda-test",
    "--skip-version-check",
    "--no-download-sd-model",
)


class HostError(RuntimeError):
    """The WebUI could not be set up, did not start, or answered a request with an error."""


@dataclass(frozen=True)
class HostKind:
    """One WebUI family: how to recognise its checkout, start it, and which test models it takes."""

    key: str
    label: str
    prefix: str  # environment variables: <prefix>_DIR, <prefix>_PYTHON, <prefix>_ARGS, <prefix>_THREADS
    marks: tuple[str, ...]  # paths under the checkout that identify it
    flags: tuple[str, ...]
    sd15: bool  # needs the SD1.5-shaped checkpoint instead of the tiny models
    url: str

    @property
    def env_dir(self) -> str:
        return f"{self.prefix}_DIR"

    @property
    def setup_help(self) -> str:
        models = (
            "the tiny test models are read from A1111_MODELS (default ../shared/models beside this checkout)"
            if not self.sd15
            else "a random-weight SD1.5-shaped checkpoint is written to the user cache at first use"
        )
        return (
            f"set {self.env_dir} to a checkout of {self.label} ({self.url}; the folder with launch.py) whose Python "
            f"has its requirements installed ({self.prefix}_PYTHON, default {self.env_dir}/venv/bin/python or "
            f"{self.env_dir}/../venv/bin/python); {models}. See README.md, 'Running the integration tests'."
        )

    def locate_dir(self, env: Mapping[str, str] | None = None) -> tuple[Path, Path] | None:
        """(checkout, python) named by the environment; None when unset; :class:`HostError` when unusable."""
        env = os.environ if env is None else env
        raw = env.get(self.env_dir, "").strip()
        if not raw:
            return None
        webui_dir = Path(raw).expanduser().resolve()
        missing = [m for m in ("launch.py", *self.marks) if not (webui_dir / m).exists()]
        if missing:
            raise HostError(f"{self.env_dir}={raw!r} is not a {self.label} checkout: {', '.join(missing)} missing")
        explicit = env.get(f"{self.prefix}_PYTHON", "").strip()
        if explicit:
            python = Path(explicit).expanduser()
            if not python.exists():
                raise HostError(f"{self.prefix}_PYTHON={explicit!r} does not exist")
            return webui_dir, python
        candidates = [webui_dir / "venv" / "bin" / "python", webui_dir.parent / "venv" / "bin" / "python"]
        found = next((c for c in candidates if c.exists()), None)
        if found is None:
            raise HostError(
                f"no Python for {self.env_dir}={raw!r}: none of {', '.join(map(str, candidates))} exists; "
                f"set {self.prefix}_PYTHON"
            )
        return webui_dir, found

    def locate(self, env: Mapping[str, str] | None = None) -> Host | None:
        """The host named by the environment (None when unset), with its test models."""
        env = os.environ if env is None else env
        found = self.locate_dir(env)
        if found is None:
            return None
        webui_dir, python = found
        models_raw = env.get("A1111_MODELS", "").strip()
        models_root = Path(models_raw).expanduser().resolve() if models_raw else SHARED_MODELS
        hf_home = models_root / "hf"
        if self.sd15:
            return Host(kind=self, webui_dir=webui_dir, python=python, hf_home=hf_home, models_root=models_root)
        checkpoints = models_root / "models" / "Stable-diffusion"
        wanted = checkpoints / "tiny-sd1.safetensors"
        if not wanted.is_file() or not hf_home.is_dir():
            raise HostError(
                f"A1111_MODELS={str(models_root)!r} lacks the tiny test models: expected {wanted} and {hf_home}"
            )
        return Host(kind=self, webui_dir=webui_dir, python=python, hf_home=hf_home, models_root=models_root)

    def check_env(self, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment for a process run with the host's Python (the host checks): no project venv leaking in."""
        out = dict(os.environ if env is None else env)
        for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
            out.pop(name, None)
        out.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
        out.setdefault("HF_HOME", str(SHARED_MODELS / "hf"))
        return out


A1111 = HostKind(
    key="a1111",
    label="AUTOMATIC1111 v1.10",
    prefix="A1111",
    marks=("modules/launch_utils.py",),
    flags=(
        "--no-half",
        "--use-cpu",
        "all",
        # torch's scaled_dot_product_attention: ~35 % faster 20-step txt2img on CPU than the default (InvokeAI)
        "--opt-sdp-no-mem-attention",
    ),
    sd15=False,
    url="https://github.com/AUTOMATIC1111/stable-diffusion-webui, v1.10.1",
)
FORGE = HostKind(
    key="forge",
    label="Forge",
    prefix="FORGE",
    marks=("modules_forge", "backend"),
    flags=("--always-cpu",),  # Forge computes in fp32 on CPU by itself; A1111's --no-half/--use-cpu do not apply
    sd15=True,
    url="https://github.com/lllyasviel/stable-diffusion-webui-forge, main",
)
REFORGE = HostKind(
    key="reforge",
    label="reForge",
    prefix="REFORGE",
    marks=("ldm_patched",),
    flags=("--always-cpu",),  # Forge computes in fp32 on CPU by itself; A1111's --no-half/--use-cpu do not apply
    sd15=True,
    url="https://github.com/Panchovix/stable-diffusion-webui-reForge, main",
)
HOSTS: tuple[HostKind, ...] = (A1111, FORGE, REFORGE)


# --- test models ------------------------------------------------------------------------------------------------

#: The LoRAs written for the SD1.5-shaped checkpoint: a plain one, and a "wrong" one that ``auto`` picks for SD1.
SD15_LORAS = ("sd15-test-lora", "wrong-sd15")


def write_sd15_lora(path: Path, seed: int = 0, rank: int = 4) -> Path:
    """A kohya-format LoRA (fp16) for the cross-attention of the first transformer block of an SD1.5 UNet.

    ``model.diffusion_model.input_blocks.1.1`` exists with SD1.5's sizes in the compact and the full checkpoint
    of ``tests/sd15_checkpoint.py``, so Forge and reForge apply it (and A1111 would). Written atomically.
    """
    import torch
    from safetensors.torch import save_file

    gen = torch.Generator().manual_seed(seed)
    prefix = "lora_unet_input_blocks_1_1_transformer_blocks_0_"
    tensors: dict[str, torch.Tensor] = {}
    for name, fan_in in (("attn2_to_k", 768), ("attn2_to_v", 768), ("attn1_to_q", 320), ("attn2_to_q", 320)):
        tensors[f"{prefix}{name}.lora_down.weight"] = (torch.randn(rank, fan_in, generator=gen) / fan_in**0.5).half()
        tensors[f"{prefix}{name}.lora_up.weight"] = torch.randn(320, rank, generator=gen).half()
        tensors[f"{prefix}{name}.alpha"] = torch.tensor(float(rank)).half()
    meta = {"ss_base_model_version": "sd_v1", "ss_network_dim": str(rank), "ss_output_name": path.stem}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    save_file(tensors, str(tmp), metadata=meta)
    os.replace(tmp, path)
    return path


@dataclass(frozen=True)
class Host:
    """A located host: its checkout, Python, and where its test models come from."""

    kind: HostKind
    webui_dir: Path
    python: Path
    hf_home: Path
    models_root: Path

    # A1111's tiny models (kept for callers of tests/a1111.py)
    @property
    def checkpoints(self) -> Path:
        return self.models_root / "models" / "Stable-diffusion"

    @property
    def loras(self) -> Path:
        return self.models_root / "models" / "Lora"

    def model_links(self) -> dict[str, list[Path]]:
        """Files to link into the data dir's ``models/<folder>``; SD1.5-shaped files are written when missing."""
        if not self.kind.sd15:
            return {
                "Stable-diffusion": sorted(p for p in self.checkpoints.iterdir() if p.is_file()),
                "Lora": sorted(p for p in self.loras.iterdir() if p.is_file()),
            }
        from tests.sd15_checkpoint import ensure_checkpoint

        ckpt = ensure_checkpoint()
        loras = []
        for seed, stem in enumerate(SD15_LORAS):
            path = ckpt.parent / f"{stem}.safetensors"
            if not path.is_file():
                write_sd15_lora(path, seed=seed)
            loras.append(path)
        # an SDXL LoRA too: Smoothie must refuse it for an SD1.5 model before the host sees it
        sdxl = self.loras / "wrong-tiny-sdxl.safetensors"
        if sdxl.is_file():
            loras.append(sdxl)
        configs = [ckpt.with_suffix(".yaml")] if ckpt.with_suffix(".yaml").is_file() else []
        return {"Stable-diffusion": [ckpt, *configs], "Lora": loras}


@dataclass(frozen=True)
class Models:
    """What a running server has: checkpoint names by role (``sd1``, ``sdxl``) and LoRA names by purpose."""

    checkpoints: Mapping[str, str]
    #: a LoRA that fits each role (``tiny-sd1-lora`` / ``sd15-test-lora``)
    plain_lora: Mapping[str, str]
    #: the LoRA ``auto`` picks for each role (named like the trigger "wrong"), None where none fits
    wrong_lora: Mapping[str, str | None]
    #: a LoRA of another architecture than the role's model
    foreign_lora: Mapping[str, str | None]


def models_for(kind: HostKind) -> Models:
    if kind.sd15:
        return Models(
            checkpoints={"sd1": "sd15-random-compact-s0"},
            plain_lora={"sd1": "sd15-test-lora"},
            wrong_lora={"sd1": "wrong-sd15"},
            foreign_lora={"sd1": "wrong-tiny-sdxl"},
        )
    return Models(
        checkpoints={"sd1": "tiny-sd1", "sdxl": "tiny-sdxl"},
        plain_lora={"sd1": "tiny-sd1-lora", "sdxl": "tiny-sdxl-lora"},
        wrong_lora={"sd1": None, "sdxl": "wrong-tiny-sdxl"},
        foreign_lora={"sd1": "wrong-tiny-sdxl", "sdxl": "tiny-sd1-lora"},
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _link_into(folder: Path, files: list[Path]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for item in files:
        link = folder / item.name
        if item.is_file() and not link.exists():
            link.symlink_to(item)


def prepare_data_dir(host: Host, data_dir: Path, checkout: Path | None = REPO) -> Path:
    """Fill ``data_dir`` for ``--data-dir``: model files symlinked, ``checkout`` as an extension, config seeded."""
    models = data_dir / "models"
    # Real folders holding one symlink per file: a test may add (or delete) a checkpoint or LoRA of its own
    # there without touching the shared models.
    for folder, files in host.model_links().items():
        _link_into(models / folder, files)
    extensions = data_dir / "extensions"
    extensions.mkdir(exist_ok=True)
    if checkout is not None:
        checkout = checkout.resolve()
        if not (checkout / "scripts").is_dir():
            raise HostError(f"checkout={str(checkout)!r} is not an extension: it has no scripts/ folder")
        link = extensions / EXTENSION_NAME
        if not link.exists():
            link.symlink_to(checkout, target_is_directory=True)
    config = data_dir / "config.json"
    if not config.exists():
        config.write_text(json.dumps(SEED_CONFIG, indent=2), encoding="utf-8")
    return data_dir


def server_env(host: Host, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for the host's processes: offline Hugging Face cache, one CPU thread unless told otherwise."""
    env = dict(os.environ if base is None else base)
    # The project's venv must not leak into the host's interpreter.
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        env.pop(name, None)
    threads = env.get(f"{host.kind.prefix}_THREADS") or env.get("A1111_THREADS", "1")
    env.update(
        HF_HOME=str(host.hf_home),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONUNBUFFERED="1",
        # torch's OpenMP pool spins badly when the 2 cores are shared with other processes (a 20-step txt2img
        # went from ~2 s to ~30 s under load); <PREFIX>_THREADS overrides.
        OMP_NUM_THREADS=threads,
    )
    return env


def run_extension_installer(host: Host, extension_dir: Path, log: Path, timeout: float = 1800) -> int | None:
    """Run ``install.py`` as the host's ``launch_utils.run_extension_installer`` does; ``None`` if there is none.

    The hosts only print an installer's failure and go on; so does this (the exit code is returned and logged).
    """
    installer = extension_dir / "install.py"
    if not installer.is_file():
        return None
    env = server_env(host)
    env["PYTHONPATH"] = str(host.webui_dir)
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {host.python} {installer}\n")
        out.flush()
        proc = subprocess.run(
            [str(host.python), str(installer)],
            cwd=host.webui_dir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
        out.write(f"[install.py exited with {proc.returncode}]\n")
    if proc.returncode:
        logger.warning("install.py of %s exited with %d; see %s", extension_dir, proc.returncode, log)
    return proc.returncode


@dataclass
class Txt2ImgResult:
    """A ``/sdapi/v1/txt2img`` answer: PNG bytes per image, and the decoded ``info``."""

    images: list[bytes]
    info: dict[str, Any]
    parameters: dict[str, Any]
    raw: dict[str, Any] = field(repr=False)


@dataclass
class WebUI:
    """A running WebUI: its URL, log, and a few API helpers."""

    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    data_dir: Path
    host: Host
    startup_s: float = 0.0

    @property
    def kind(self) -> HostKind:
        return self.host.kind

    @property
    def models_by_role(self) -> Models:
        return models_for(self.host.kind)

    # -- HTTP -------------------------------------------------------------------------------------------------
    def request(self, method: str, path: str, payload: Any = None, timeout: float = 600) -> Any:
        """``method`` ``path`` (``/sdapi/v1/…``) with a JSON body; the decoded JSON answer."""
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:2000]
            raise HostError(f"{method} {path} answered {exc.code}: {detail}\n--- log tail ---\n{self.tail()}") from exc
        return json.loads(body) if body else None

    def get(self, path: str, timeout: float = 600) -> Any:
        return self.request("GET", path, timeout=timeout)

    def post(self, path: str, payload: Any, timeout: float = 600) -> Any:
        return self.request("POST", path, payload, timeout=timeout)

    def txt2img(self, payload: Mapping[str, Any], timeout: float = 600) -> Txt2ImgResult:
        raw = self.post("/sdapi/v1/txt2img", dict(payload), timeout=timeout)
        return Txt2ImgResult(
            images=[base64.b64decode(img.split(",", 1)[-1]) for img in raw.get("images") or []],
            info=json.loads(raw["info"]) if raw.get("info") else {},
            parameters=raw.get("parameters") or {},
            raw=raw,
        )

    def models(self) -> list[dict[str, Any]]:
        return list(self.get("/sdapi/v1/sd-models"))

    def current_model(self) -> str:
        return str(self.get("/sdapi/v1/options")["sd_model_checkpoint"])

    def set_model(self, name: str) -> None:
        """Load checkpoint ``name`` (a file stem or a title); a no-op if it is loaded."""
        known = {m["model_name"]: m["title"] for m in self.models()}
        titles = set(known.values())
        if name not in known and name not in titles:
            raise HostError(f"set_model: name={name!r} is not a checkpoint the WebUI lists ({sorted(known)})")
        title = known.get(name, name)
        self.post("/sdapi/v1/options", {"sd_model_checkpoint": title})
        now = self.current_model()
        if now.split(" [")[0] != title.split(" [")[0]:
            raise HostError(f"set_model: asked for {title!r}, the WebUI reports {now!r}\n{self.tail()}")

    # -- log and life -----------------------------------------------------------------------------------------
    def log(self, since: int = 0) -> str:
        """The server's output (stdout and stderr), from byte offset ``since`` (see :meth:`log_size`)."""
        with self.log_path.open("rb") as fh:
            fh.seek(since)
            return fh.read().decode("utf-8", "replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def tail(self, chars: int = 4000) -> str:
        return self.log()[-chars:]

    @property
    def checkpoint_dir(self) -> Path:
        """The server's ``models/Stable-diffusion`` (writable; the models are symlinks in it)."""
        return self.data_dir / "models" / "Stable-diffusion"

    @property
    def lora_dir(self) -> Path:
        """The server's ``models/Lora`` (writable; call ``/sdapi/v1/refresh-loras`` after adding a file)."""
        return self.data_dir / "models" / "Lora"

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace: float = 20.0) -> None:
        """Stop the server's whole process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=grace)


#: Every host prints this once start-up is over: after the API routes *and* the ``on_app_started`` callbacks
#: (which add routes such as ``/sdapi/v1/loras``), so an answering ``/sdapi/v1/sd-models`` alone is too early.
READY_MARK = "Startup time:"


def _wait_ready(server: WebUI, timeout: float, log_from: int = 0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise HostError(
                f"the WebUI exited with {server.process.returncode} before answering\n--- log tail ---\n{server.tail()}"
            )
        if READY_MARK in server.log(log_from):
            try:
                with urllib.request.urlopen(server.base_url + "/sdapi/v1/sd-models", timeout=5) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
        time.sleep(1.0)
    raise HostError(f"the WebUI was not ready within {timeout:.0f} s\n--- log tail ---\n{server.tail()}")


def launch(
    host: Host,
    workdir: Path,
    checkout: Path | None = REPO,
    *,
    port: int | None = None,
    model: str | None = None,
    run_install: bool | None = None,
    extra_args: tuple[str, ...] = (),
    timeout: float = 300.0,
) -> WebUI:
    """Start the WebUI with ``checkout`` as an extension, data in ``workdir``; return once its API answers.

    ``model`` is the checkpoint to start with (a file stem in the data dir; default: the host's SD1 model).
    ``run_install`` (default: unless env ``A1111_SKIP_INSTALL=1``) runs the extension's install.py first, as
    the hosts do at start-up. Extra flags may also come from env ``<PREFIX>_ARGS`` (``A1111_ARGS``, …).
    """
    data_dir = prepare_data_dir(host, workdir / "data", checkout)
    log_path = workdir / "webui.log"
    log_path.touch()
    if run_install is None:
        run_install = os.environ.get("A1111_SKIP_INSTALL", "") not in ("1", "true", "yes")
    if run_install and checkout is not None:
        run_extension_installer(host, checkout.resolve(), log_path)
    port = free_port() if port is None else port
    model = model or models_for(host.kind).checkpoints["sd1"]
    ckpt = data_dir / "models" / "Stable-diffusion" / f"{model}.safetensors"
    if not ckpt.is_file():
        raise HostError(f"model={model!r}: no {ckpt.name} in {ckpt.parent}")
    cmd = [
        str(host.python),
        "launch.py",
        *COMMON_FLAGS,
        *host.kind.flags,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--ckpt",
        str(ckpt),
        *extra_args,
        *shlex.split(os.environ.get(f"{host.kind.prefix}_ARGS", "")),
    ]
    with log_path.open("ab") as out:
        log_from = out.tell()
        out.write(("$ " + shlex.join(cmd) + "\n").encode())
        out.flush()
        process = subprocess.Popen(
            cmd,
            cwd=host.webui_dir,
            env=server_env(host),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed whole by stop()
        )
    server = WebUI(
        base_url=f"http://127.0.0.1:{port}", process=process, log_path=log_path, data_dir=data_dir, host=host
    )
    started = time.monotonic()
    try:
        _wait_ready(server, timeout, log_from)
    except BaseException:
        server.stop()
        raise
    server.startup_s = time.monotonic() - started
    logger.info(
        "%s answered at %s after %.1f s (log: %s)", host.kind.label, server.base_url, server.startup_s, log_path
    )
    return server


@contextlib.contextmanager
def running(host: Host, checkout: Path | None = REPO, **kwargs: Any) -> Iterator[WebUI]:
    """:func:`launch` in a temporary folder, stopped (and the folder removed) on exit."""
    with tempfile.TemporaryDirectory(prefix=f"{host.kind.key}-") as tmp:
        server = launch(host, Path(tmp), checkout, **kwargs)
        try:
            yield server
        finally:
            server.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def host_from_args(parser: argparse.ArgumentParser, key: str) -> tuple[HostKind, Host]:
    """The host a command line names (its ``<HOST>_DIR``), or the parser's usage error saying what is missing."""
    kind = next(k for k in HOSTS if k.key == key)
    try:
        host = kind.locate()
    except HostError as exc:
        parser.error(str(exc))
    if host is None:
        parser.error(f"{kind.env_dir} is not set: {kind.setup_help}")
    return kind, host


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.hosts", description=__doc__.split("\n\n")[0])
    parser.add_argument("host", choices=[k.key for k in HOSTS], help="which WebUI (named by <HOST>_DIR)")
    parser.add_argument("--checkout", type=Path, default=REPO, help="extension folder to load (default: this one)")
    parser.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--model", default=None, help="checkpoint to start with (default: the host's SD1 model)")
    parser.add_argument("--skip-install", action="store_true", help="do not run the extension's install.py")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    signal.signal(signal.SIGTERM, _interrupt)  # `kill PID` stops the WebUI too
    kind, host = host_from_args(parser, args.host)
    with running(
        host, args.checkout, port=args.port, model=args.model, run_install=False if args.skip_install else None
    ) as server:
        print(
            f"{kind.label} at {server.base_url} (started in {server.startup_s:.1f} s; log {server.log_path})",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            while server.alive():
                time.sleep(1)
        if not server.alive():
            print(f"the WebUI exited with {server.process.returncode}:\n{server.tail()}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
