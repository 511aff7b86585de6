"""Train the negative LoRA with the user's own kohya sd-scripts, and put it where the WebUI finds it.

Smoothie never installs sd-scripts or its requirements: it runs the user's checkout (``--sd-scripts DIR``) with
that checkout's Python (``DIR/venv`` as sd-scripts' own set-up makes it, or ``--sd-scripts-python``), after
checking that this Python can import what sd-scripts needs. Training writes into a temporary folder inside the
output folder; only a finished LoRA, checked by its header, is moved to ``OUT/model/`` and then copied
(atomically, never over another file) into the WebUI's LoRA folder as ``<trigger>-<checkpoint>.safetensors``, so
the Smoothie script's ``auto`` negative LoRA picks it up. Progress comes from sd-scripts' own progress bar.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smoothie.dataset.safeio import OutputDir, PathError
from smoothie.lora import LoraFileError, inspect_lora
from smoothie.wronglora.backend import Backend
from smoothie.wronglora.checkpoint import Arch
from smoothie.wronglora.dataset import (
    MODEL_DIR,
    TOML,
    TRAIN_SH,
    KitError,
    Progress,
    RunInterruptedError,
    ledger_from,
    read_manifest,
    save_manifest,
    training_plan,
)
from smoothie.wronglora.kohya import TrainingPlan, dataset_toml, train_script, training_args

logger = logging.getLogger(__name__)

TRAIN_LOG = "train.log"
#: What sd-scripts' Python must be able to import (its requirements.txt, the parts the LoRA scripts use).
REQUIRED_MODULES = ("torch", "accelerate", "diffusers", "transformers", "safetensors", "toml", "voluptuous")
_STEP = re.compile(r"steps:\s*\d+%.*?(\d+)/(\d+)")
PROBE = (
    "import importlib, json, sys\n"
    "missing = []\n"
    "for name in sys.argv[1:]:\n"
    "    try:\n"
    "        importlib.import_module(name)\n"
    "    except Exception as exc:\n"
    "        missing.append(f'{name} ({type(exc).__name__}: {exc})')\n"
    "info = {'missing': missing, 'cuda': False, 'bf16': False}\n"
    "if not any(m.startswith('torch ') for m in missing):\n"
    "    import torch\n"
    "    info['cuda'] = bool(torch.cuda.is_available())\n"
    "    info['bf16'] = bool(info['cuda'] and torch.cuda.is_bf16_supported())\n"
    "print('SMOOTHIE-PROBE ' + json.dumps(info))\n"
)


class TrainError(KitError):
    """sd-scripts cannot be run, or the training failed; one line saying why (the full log is in train.log)."""


@dataclass(frozen=True)
class TrainRequest:
    out: Path | str
    sd_scripts: Path | str
    python: Path | str | None = None
    lora_dir: Path | str | None = None  # None: the WebUI's (from the backend), if any
    mixed_precision: str = "auto"  # auto | bf16 | fp16 | no
    steps: int | None = None
    retrain: bool = False


@dataclass
class TrainResult:
    lora: Path
    plan: TrainingPlan
    trained: bool
    installed: Path | None = None
    seconds: float = 0.0
    steps_done: int = 0
    notes: list[str] = field(default_factory=list)


def find_python(sd_scripts: Path, given: Path | str | None = None) -> Path:
    """The Python to run sd-scripts with: ``given``, else its own venv (``venv``/``.venv``), else this one."""
    if given:
        python = Path(given).expanduser()
        if not python.exists():
            raise TrainError(f"--sd-scripts-python {str(given)!r} does not exist")
        return python
    for venv in ("venv", ".venv"):
        for rel in ("bin/python", "Scripts/python.exe"):
            candidate = sd_scripts / venv / rel
            if candidate.exists():
                return candidate
    return Path(sys.executable)


def check_sd_scripts(folder: Path | str, arch: Arch) -> tuple[Path, str]:
    """The sd-scripts checkout and the training script for ``arch``; :class:`TrainError` when it is not one."""
    if not str(folder).strip():
        raise TrainError("--sd-scripts: no folder given")
    root = Path(folder).expanduser().resolve()
    if not root.is_dir():
        raise TrainError(f"--sd-scripts {str(folder)!r} is not a folder")
    script = "sdxl_train_network.py" if arch is Arch.SDXL else "train_network.py"
    missing = [name for name in (script, "library/train_util.py", "networks/lora.py") if not (root / name).is_file()]
    if missing:
        raise TrainError(
            f"--sd-scripts {str(root)!r} is not kohya's sd-scripts ({', '.join(missing)} missing); clone "
            "https://github.com/kohya-ss/sd-scripts and install its requirements (Smoothie never does)"
        )
    return root, script


def probe(python: Path, sd_scripts: Path, timeout: float = 600) -> dict[str, Any]:
    """What sd-scripts' Python can do: the modules it lacks, CUDA, bf16."""
    try:
        done = subprocess.run(
            [str(python), "-c", PROBE, *REQUIRED_MODULES],
            cwd=sd_scripts,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise TrainError(f"cannot run sd-scripts' Python {str(python)!r}: {exc}") from None
    for line in done.stdout.splitlines():
        if line.startswith("SMOOTHIE-PROBE "):
            info: dict[str, Any] = json.loads(line.split(" ", 1)[1])
            if info.get("missing"):
                raise TrainError(
                    f"sd-scripts' Python {str(python)!r} cannot import {', '.join(info['missing'])}: install "
                    "sd-scripts' requirements in its own environment (pip install -r requirements.txt there; "
                    "Smoothie never installs them), or name that environment's Python with --sd-scripts-python"
                )
            return info
    tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
    raise TrainError(f"sd-scripts' Python {str(python)!r} failed to start: {tail[0][:300]}")


def _precision(asked: str, info: dict[str, Any]) -> str:
    if asked != "auto":
        if asked not in ("bf16", "fp16", "no"):
            raise TrainError(f"--mixed-precision {asked!r}: choose auto, bf16, fp16 or no")
        return asked
    if info.get("bf16"):
        return "bf16"
    return "fp16" if info.get("cuda") else "no"


def run_training(
    request: TrainRequest,
    backend: Backend | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Train (unless ``OUT/model`` already holds the finished LoRA), then install it in the WebUI's LoRA folder."""
    started = time.monotonic()
    if not str(request.out).strip():
        raise TrainError("--out: no output folder given")
    root = Path(request.out).expanduser().resolve()
    manifest = read_manifest(root) if root.is_dir() else None
    if not manifest or not manifest.get("complete"):
        raise TrainError(
            f"--out {str(root)!r} holds no finished wrong-LoRA set; make it first: python -m smoothie wrong-lora "
            "dataset --out … (an interrupted one is finished by running that command again)"
        )
    arch = Arch(manifest["arch"])
    sd_scripts, script = check_sd_scripts(request.sd_scripts, arch)
    checkpoint = str((manifest.get("checkpoint") or {}).get("filename") or "")
    if not checkpoint or not Path(checkpoint).is_file():
        raise TrainError(
            f"the checkpoint file {checkpoint!r} is not readable here: sd-scripts trains from the checkpoint file, "
            "so run this on the WebUI's machine"
        )
    if request.steps is not None and not 1 <= request.steps <= 1_000_000:
        raise TrainError(f"--train-steps must be from 1 to 1000000, got {request.steps}")
    lora_dir = Path(request.lora_dir).expanduser() if request.lora_dir else (backend.lora_dir() if backend else None)
    if request.lora_dir and not Path(request.lora_dir).expanduser().is_dir():
        raise TrainError(f"--lora-dir {str(request.lora_dir)!r} is not a folder")
    python = find_python(sd_scripts, request.python)
    out = OutputDir(root)
    out.files = ledger_from(manifest)
    plan = training_plan(manifest, max_train_steps=request.steps or 0)
    final_rel = f"{MODEL_DIR}/{plan.output_name}.safetensors"
    result = TrainResult(lora=out.path(final_rel), plan=plan, trained=False)
    existing = out.lstat(final_rel)
    if existing is not None and not request.retrain and out.owns(final_rel):
        result.notes.append(f"{final_rel} is already trained (pass --retrain to train again)")
    else:
        if existing is not None and not out.owns(final_rel):
            raise TrainError(f"{str(out.path(final_rel))!r} was not written by Smoothie; move it away first")
        info = probe(python, sd_scripts)
        plan = training_plan(
            manifest, max_train_steps=request.steps or 0, mixed_precision=_precision(request.mixed_precision, info)
        )
        result.plan = plan
        if not info.get("cuda"):
            result.notes.append("no CUDA GPU in sd-scripts' environment: training runs on the CPU (slow)")
        result.steps_done = _train(
            out, manifest, plan, python, sd_scripts, script, checkpoint, final_rel, progress, should_stop
        )
        result.trained = True
        save_manifest(out, {**manifest, "trained": final_rel})  # the ledger now knows the LoRA
    lora = out.path(final_rel)
    try:
        found = inspect_lora(lora).architecture
    except LoraFileError as exc:
        raise TrainError(f"sd-scripts wrote {str(lora)!r}, but it is not a readable LoRA: {exc}") from None
    if found.value != arch.value:
        result.notes.append(f"the LoRA's header says {found.label}, the checkpoint is {arch.label}")
    if lora_dir is not None:
        result.installed = install_lora(lora, lora_dir)
        if backend is not None:
            backend.refresh_loras()
    else:
        result.notes.append("no LoRA folder known (pass --lora-dir or --api): the LoRA stays in " + str(lora.parent))
    result.seconds = time.monotonic() - started
    return result


def _train(
    out: OutputDir,
    manifest: dict[str, Any],
    plan: TrainingPlan,
    python: Path,
    sd_scripts: Path,
    script: str,
    checkpoint: str,
    final_rel: str,
    progress: Progress | None,
    should_stop: Callable[[], bool] | None,
) -> int:
    """Run sd-scripts into a temporary folder; move the finished LoRA into place. Returns the steps done."""
    image_dir = out.path(f"img/{plan.repeats}_{plan.trigger}")
    out.prepare()
    out.write_text(TOML, dataset_toml(plan, [image_dir]))
    work = Path(tempfile.mkdtemp(prefix=".tmp-train-", dir=out.tmp_dir))
    try:
        args = training_args(plan, checkpoint, out.path(TOML), work)
        out.write_text(TRAIN_SH, train_script(plan, checkpoint, out.path(TOML), out.path(MODEL_DIR), sd_scripts))
        command = [str(python), str(sd_scripts / script), *args[1:]]
        logger.info("running %s", " ".join(command))
        log: deque[str] = deque(maxlen=4000)
        steps = _run(command, sd_scripts, plan.steps, log, progress, should_stop)
        out.write_text(TRAIN_LOG, "\n".join(log) + "\n")
        produced = work / f"{plan.output_name}.safetensors"
        if not produced.is_file():
            raise TrainError(f"sd-scripts finished but wrote no {produced.name} (see {out.path(TRAIN_LOG)})")
        try:
            out.check(names=[final_rel])
        except PathError as exc:
            raise TrainError(str(exc)) from None
        out.claim([final_rel])
        target = out.path(final_rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(produced, out.mode)
        os.replace(produced, target)
        out.adopt(final_rel)
        return steps
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(
    command: Sequence[str],
    cwd: Path,
    total: int,
    log: deque[str],
    progress: Progress | None,
    should_stop: Callable[[], bool] | None,
) -> int:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
    try:
        proc = subprocess.Popen(
            list(command),
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    except OSError as exc:
        raise TrainError(f"cannot start sd-scripts: {exc}") from None
    assert proc.stdout is not None
    done = 0
    reported = 0
    if progress:
        progress(0, total, "starting sd-scripts (loading the model, caching latents)")
    buffer = b""
    try:
        while True:
            chunk = proc.stdout.read1(65536) if hasattr(proc.stdout, "read1") else proc.stdout.read(4096)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = re.split(rb"[\r\n]", buffer)
            for raw in lines:
                line = raw.decode("utf-8", "replace").rstrip()
                if not line:
                    continue
                match = _STEP.search(line)
                if match:
                    step, total = int(match.group(1)), int(match.group(2)) or total
                    if progress and step != reported:  # a bar redrawn at the same step: said once
                        progress(step, total, f"training: step {step} of {total}")
                        reported = step
                    done = step
                    if log and _STEP.search(log[-1]):
                        log[-1] = line  # one line per progress bar, not one per redraw
                        continue
                log.append(line)
            if should_stop is not None and should_stop():
                _stop(proc)
                raise RunInterruptedError(f"training stopped at step {done} of {total}")
        code = proc.wait()
    except BaseException:
        _stop(proc)
        raise
    if code != 0:
        raise TrainError(f"sd-scripts failed (exit {code}): {_last_error(log)}")
    return done


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _last_error(log: deque[str]) -> str:
    lines = [line for line in log if line.strip()]
    for line in reversed(lines):
        if re.search(r"(Error|Exception|error:)", line) and not line.startswith(" "):
            return line.strip()[:400]
    return lines[-1].strip()[:400] if lines else "no output"


def install_lora(lora: Path, lora_dir: Path | str) -> Path:
    """Copy ``lora`` into ``lora_dir`` atomically under its own name, or ``NAME-2``, ``NAME-3``… when another
    file has that name; a byte-identical copy already there is reused. Returns where it is."""
    folder = Path(lora_dir).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TrainError(f"cannot create the LoRA folder {str(folder)!r}: {exc.strerror or exc}") from None
    data_size = lora.stat().st_size
    for n in range(1, 1000):
        target = folder / (f"{lora.stem}.safetensors" if n == 1 else f"{lora.stem}-{n}.safetensors")
        if target.is_symlink():
            continue
        if target.exists():
            if target.is_file() and target.stat().st_size == data_size and _same(target, lora):
                return target
            continue
        fd, tmp = tempfile.mkstemp(prefix=".tmp-smoothie-", suffix=".safetensors", dir=folder)
        try:
            with os.fdopen(fd, "wb") as dst, lora.open("rb") as src:
                shutil.copyfileobj(src, dst, 1 << 20)
                dst.flush()
                os.fsync(dst.fileno())
            os.chmod(tmp, 0o666 & ~_umask())
            try:
                os.link(tmp, target)  # fails if the name was taken meanwhile: never replaces a file
            except FileExistsError:
                continue
            except OSError:
                if target.exists():
                    continue
                os.replace(tmp, target)
                tmp = ""
            return target
        except OSError as exc:
            raise TrainError(f"cannot write {str(target)!r}: {exc.strerror or exc}") from None
        finally:
            if tmp:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
    raise TrainError(f"{str(folder)!r} already holds {lora.stem}-2 … -999")


def _same(a: Path, b: Path) -> bool:
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
