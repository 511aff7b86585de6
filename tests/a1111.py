"""Start a real AUTOMATIC1111 WebUI with this extension, for integration tests and screenshots.

The WebUI runs from a checkout named by ``A1111_DIR`` (the folder holding ``launch.py``), with A1111's own
Python (``A1111_PYTHON``, else ``A1111_DIR/venv/bin/python``, else ``A1111_DIR/../venv/bin/python``). Each
launch gets a fresh ``--data-dir`` in a temporary folder: the tiny test models and LoRAs are symlinked into its
``models/``, this checkout into its ``extensions/``, and its ``config.json`` is seeded. Neither the A1111
checkout nor this one is written to (beyond what the extension itself writes).

The tiny models come from ``A1111_MODELS`` (default ``<repo>/../shared/models``): a folder with
``models/Stable-diffusion/tiny-sd1.safetensors`` and the Hugging Face cache ``hf/`` their text encoders need.
The server is offline (``HF_HUB_OFFLINE=1``), bound to 127.0.0.1 on a free port, and is stopped by killing its
process group.

Run by hand: ``python -m tests.a1111`` starts one and prints its URL until Ctrl-C.
"""

from __future__ import annotations

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
DEFAULT_MODEL = "tiny-sd1"

SETUP_HELP = (
    "set A1111_DIR to an AUTOMATIC1111 v1.10.1 checkout (the folder with launch.py, its repositories/ "
    "populated) whose Python has its requirements installed (A1111_PYTHON, default A1111_DIR/venv/bin/python "
    "or A1111_DIR/../venv/bin/python); the tiny test models are read from A1111_MODELS (default "
    "../shared/models beside this checkout). See README.md, 'Running the integration tests'."
)

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

#: Command-line flags common to every launch (the data dir, port and checkpoint are added per launch).
BASE_FLAGS = (
    "--api",
    "--skip-prepare-environment",  # no git clones or pip runs at start; install.py is run separately
    "--skip-install",
    "--skip-torch-cuda-test",
    "--skip-version-check",
    "--no-download-sd-model",
    "--no-half",
    "--use-cpu",
    "all",
    # torch's scaled_dot_product_attention: ~35 % faster 20-step txt2img on CPU than the default (InvokeAI)
    "--opt-sdp-no-mem-attention",
)


class A1111Error(RuntimeError):
    """The WebUI could not be set up, did not start, or answered a request with an error."""


@dataclass(frozen=True)
class Host:
    """Where the A1111 checkout, its Python and the tiny models are."""

    webui_dir: Path
    python: Path
    models_root: Path

    @property
    def checkpoints(self) -> Path:
        return self.models_root / "models" / "Stable-diffusion"

    @property
    def loras(self) -> Path:
        return self.models_root / "models" / "Lora"

    @property
    def hf_home(self) -> Path:
        return self.models_root / "hf"


def locate(env: Mapping[str, str] | None = None) -> Host | None:
    """The host named by ``A1111_DIR`` (``None`` when unset); raises :class:`A1111Error` if it is unusable."""
    env = os.environ if env is None else env
    raw = env.get("A1111_DIR", "").strip()
    if not raw:
        return None
    webui_dir = Path(raw).expanduser().resolve()
    if not (webui_dir / "launch.py").is_file() or not (webui_dir / "modules" / "launch_utils.py").is_file():
        raise A1111Error(f"A1111_DIR={raw!r} is not an A1111 checkout: no launch.py and modules/ in {webui_dir}")
    explicit = env.get("A1111_PYTHON", "").strip()
    if explicit:
        python = Path(explicit).expanduser()
        if not python.exists():
            raise A1111Error(f"A1111_PYTHON={explicit!r} does not exist")
    else:
        candidates = [webui_dir / "venv" / "bin" / "python", webui_dir.parent / "venv" / "bin" / "python"]
        found = next((c for c in candidates if c.exists()), None)
        if found is None:
            raise A1111Error(
                f"no Python for A1111_DIR={raw!r}: none of {', '.join(map(str, candidates))} exists; set A1111_PYTHON"
            )
        python = found
    models_raw = env.get("A1111_MODELS", "").strip()
    models_root = Path(models_raw).expanduser().resolve() if models_raw else REPO.parent / "shared" / "models"
    host = Host(webui_dir=webui_dir, python=python, models_root=models_root)
    wanted = host.checkpoints / f"{DEFAULT_MODEL}.safetensors"
    if not wanted.is_file() or not host.hf_home.is_dir():
        raise A1111Error(
            f"A1111_MODELS={str(models_root)!r} lacks the tiny test models: expected {wanted} and {host.hf_home}"
        )
    return host


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_data_dir(host: Host, data_dir: Path, checkout: Path | None = REPO) -> Path:
    """Fill ``data_dir`` for ``--data-dir``: model files symlinked, ``checkout`` as an extension, config seeded."""
    models = data_dir / "models"
    # Real folders holding one symlink per file: a test may add (or delete) a checkpoint or LoRA of its own
    # there without touching the shared models.
    for name, source in (("Stable-diffusion", host.checkpoints), ("Lora", host.loras)):
        folder = models / name
        folder.mkdir(parents=True, exist_ok=True)
        for item in sorted(source.iterdir()):
            link = folder / item.name
            if item.is_file() and not link.exists():
                link.symlink_to(item)
    extensions = data_dir / "extensions"
    extensions.mkdir(exist_ok=True)
    if checkout is not None:
        checkout = checkout.resolve()
        if not (checkout / "scripts").is_dir():
            raise A1111Error(f"checkout={str(checkout)!r} is not an extension: it has no scripts/ folder")
        link = extensions / EXTENSION_NAME
        if not link.exists():
            link.symlink_to(checkout, target_is_directory=True)
    config = data_dir / "config.json"
    if not config.exists():
        config.write_text(json.dumps(SEED_CONFIG, indent=2), encoding="utf-8")
    return data_dir


def server_env(host: Host, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for A1111's processes: offline Hugging Face cache, one CPU thread unless told otherwise."""
    env = dict(os.environ if base is None else base)
    # The project's venv must not leak into A1111's interpreter.
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        env.pop(name, None)
    env.update(
        HF_HOME=str(host.hf_home),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONUNBUFFERED="1",
        # torch's OpenMP pool spins badly when the 2 cores are shared with other processes (a 20-step txt2img
        # went from ~2 s to ~30 s under load); A1111_THREADS overrides.
        OMP_NUM_THREADS=env.get("A1111_THREADS", "1"),
    )
    return env


def run_extension_installer(host: Host, extension_dir: Path, log: Path, timeout: float = 1800) -> int | None:
    """Run ``install.py`` as A1111's ``launch_utils.run_extension_installer`` does; ``None`` if there is none.

    A1111 only prints an installer's failure and goes on; so does this (the exit code is returned and logged).
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
            raise A1111Error(f"{method} {path} answered {exc.code}: {detail}\n--- log tail ---\n{self.tail()}") from exc
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
        """Load checkpoint ``name`` (``tiny-sdxl``, a file stem or an A1111 title); a no-op if it is loaded."""
        known = {m["model_name"]: m["title"] for m in self.models()}
        titles = set(known.values())
        if name not in known and name not in titles:
            raise A1111Error(f"set_model: name={name!r} is not a checkpoint the WebUI lists ({sorted(known)})")
        title = known.get(name, name)
        self.post("/sdapi/v1/options", {"sd_model_checkpoint": title})
        now = self.current_model()
        if now.split(" [")[0] != title.split(" [")[0]:
            raise A1111Error(f"set_model: asked for {title!r}, the WebUI reports {now!r}\n{self.tail()}")

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
        """The server's ``models/Stable-diffusion`` (writable; the tiny models are symlinks in it)."""
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


#: A1111 prints this once start-up is over: after the API routes *and* the ``on_app_started`` callbacks (which
#: add routes such as ``/sdapi/v1/loras``), so an answering ``/sdapi/v1/sd-models`` alone is too early.
READY_MARK = "Startup time:"


def _wait_ready(server: WebUI, timeout: float, log_from: int = 0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise A1111Error(
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
    raise A1111Error(f"the WebUI was not ready within {timeout:.0f} s\n--- log tail ---\n{server.tail()}")


def launch(
    host: Host,
    workdir: Path,
    checkout: Path | None = REPO,
    *,
    port: int | None = None,
    model: str = DEFAULT_MODEL,
    run_install: bool | None = None,
    extra_args: tuple[str, ...] = (),
    timeout: float = 300.0,
) -> WebUI:
    """Start the WebUI with ``checkout`` as an extension, data in ``workdir``; return once its API answers.

    ``run_install`` (default: unless env ``A1111_SKIP_INSTALL=1``) runs the extension's install.py first, as
    A1111 does at start-up. Extra flags may also come from env ``A1111_ARGS``.
    """
    data_dir = prepare_data_dir(host, workdir / "data", checkout)
    log_path = workdir / "webui.log"
    log_path.touch()
    if run_install is None:
        run_install = os.environ.get("A1111_SKIP_INSTALL", "") not in ("1", "true", "yes")
    if run_install and checkout is not None:
        run_extension_installer(host, checkout.resolve(), log_path)
    port = free_port() if port is None else port
    ckpt = data_dir / "models" / "Stable-diffusion" / f"{model}.safetensors"
    if not ckpt.is_file():
        raise A1111Error(f"model={model!r}: no {ckpt.name} in {host.checkpoints}")
    cmd = [
        str(host.python),
        "launch.py",
        *BASE_FLAGS,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--ckpt",
        str(ckpt),
        *extra_args,
        *shlex.split(os.environ.get("A1111_ARGS", "")),
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
    logger.info("A1111 answered at %s after %.1f s (log: %s)", server.base_url, server.startup_s, log_path)
    return server


@contextlib.contextmanager
def running(host: Host, checkout: Path | None = REPO, **kwargs: Any) -> Iterator[WebUI]:
    """:func:`launch` in a temporary folder, stopped (and the folder removed) on exit."""
    with tempfile.TemporaryDirectory(prefix="a1111-") as tmp:
        server = launch(host, Path(tmp), checkout, **kwargs)
        try:
            yield server
        finally:
            server.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.a1111", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", type=Path, default=REPO, help="extension folder to load (default: this one)")
    parser.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="checkpoint to start with (default: %(default)s)")
    parser.add_argument("--skip-install", action="store_true", help="do not run the extension's install.py")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    signal.signal(signal.SIGTERM, _interrupt)  # `kill PID` stops the WebUI too
    try:
        host = locate()
    except A1111Error as exc:
        parser.error(str(exc))
    if host is None:
        parser.error("A1111_DIR is not set: " + SETUP_HELP)
    with running(
        host, args.checkout, port=args.port, model=args.model, run_install=False if args.skip_install else None
    ) as server:
        print(f"WebUI at {server.base_url} (started in {server.startup_s:.1f} s; log {server.log_path})", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while server.alive():
                time.sleep(1)
        if not server.alive():
            print(f"the WebUI exited with {server.process.returncode}:\n{server.tail()}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
