"""Make the "wrong" training set: N images from the user's own model, in kohya's layout, resumable.

:func:`make_dataset` checks everything it can before it writes a byte (the number of images, the trigger word,
that the WebUI answers, that it has the checkpoint, the architecture, that the output folder is not one of the
WebUI's own and is empty or an earlier run of the same set), then generates image after image. Every file goes
through :class:`smoothie.dataset.safeio.OutputDir`: written to a temporary file and renamed into place, never
through a link, never over a file it did not write. After each image the run's manifest
(``OUT/.smoothie/wrong-lora.json``) and ``generations.jsonl`` are rewritten the same way, so a run killed at
any instant resumes where it stopped, and the same command on a finished set writes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smoothie.dataset.safeio import STATE_DIRNAME, FileRec, OutputDir, PathError, PrepError, user_entries
from smoothie.wronglora.api import ApiError
from smoothie.wronglora.backend import Backend, inside
from smoothie.wronglora.checkpoint import Arch, Checkpoint, CheckpointError, find_checkpoint, resolve_architecture
from smoothie.wronglora.kohya import (
    TrainingPlan,
    check_trigger,
    dataset_toml,
    image_folder,
    lora_name,
    repeats_for,
    train_script,
)
from smoothie.wronglora.plan import Generation, Settings, plan, settings_from

logger = logging.getLogger(__name__)

MANIFEST = f"{STATE_DIRNAME}/wrong-lora.json"
LOCK = f"{STATE_DIRNAME}/wrong-lora.lock"
GENERATIONS = "generations.jsonl"
TOML = "dataset.toml"
TRAIN_SH = "train.sh"
MODEL_DIR = "model"
KIND = "smoothie-wrong-lora"
MANIFEST_VERSION = 1
MAX_IMAGES = 100_000

Progress = Callable[[int, int, str], None]


class KitError(ValueError):
    """Bad input or a state the run cannot go on from; one line naming the input and what is wrong."""


class RunInterruptedError(Exception):
    """The run was stopped (Ctrl-C, the tab's Interrupt); what was made is kept and the next run resumes."""


@dataclass(frozen=True)
class DatasetRequest:
    """What the user asked for (CLI flags or the tab's fields). ``None`` means the earlier run's value when the
    folder holds one, else the default (the model's native size, 20 steps, CFG 7, the WebUI's sampler, a random
    seed)."""

    out: Path | str
    n: int
    checkpoint: str = ""  # "" = the WebUI's loaded checkpoint
    width: int | None = None
    height: int | None = None
    steps: int | None = None  # 20
    cfg_scale: float | None = None  # 7
    sampler: str | None = None  # "" = the WebUI's default
    seed: int | None = None
    trigger: str = "wrong"
    arch: str = "auto"
    force: bool = False


@dataclass
class DatasetResult:
    """What a run made (for the CLI's summary and the tab)."""

    out: Path
    checkpoint: Checkpoint
    arch: Arch
    settings: Settings
    trigger: str
    n: int
    made: int = 0
    kept: int = 0
    removed: int = 0
    duplicates: list[tuple[int, int]] = field(default_factory=list)
    image_dir: Path | None = None
    toml: Path | None = None
    train_sh: Path | None = None
    plan: TrainingPlan | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    asked: bool = False  # a generation was requested (the WebUI may have switched checkpoints)


# -- the manifest --------------------------------------------------------------------------------------------


def read_manifest(root: Path) -> dict[str, Any] | None:
    """The manifest of an earlier run in ``root`` (None when there is none); :class:`KitError` when unreadable."""
    out = OutputDir(root)
    try:
        raw = out.read_bytes(MANIFEST, limit=256 * 1024 * 1024)
    except PathError as exc:
        raise KitError(str(exc)) from None
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        raise KitError(
            f"{str(out.path(MANIFEST))!r} is not valid JSON; move the folder away or choose another"
        ) from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise KitError(f"{str(out.path(MANIFEST))!r} is not a wrong-LoRA manifest")
    if int(data.get("version", 0)) > MANIFEST_VERSION:
        raise KitError(f"{str(root)!r} was made by a newer Smoothie (manifest version {data.get('version')})")
    return data


def ledger_from(data: Mapping[str, Any]) -> dict[str, FileRec]:
    files: dict[str, FileRec] = {}
    for rel, rec in (data.get("files") or {}).items():
        if isinstance(rec, list) and len(rec) == 4:
            files[str(rel)] = FileRec(str(rec[0]), int(rec[1]), int(rec[2]), str(rec[3]))
    return files


def _ledger_out(files: Mapping[str, FileRec]) -> dict[str, list[Any]]:
    return {rel: list(rec) for rel, rec in sorted(files.items())}


@contextlib.contextmanager
def _locked(out: OutputDir) -> Iterator[None]:
    """One run per output folder at a time (advisory lock where the OS has ``fcntl``)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; two runs at once are the user's choice
        yield
        return
    fd = os.open(out.path(LOCK), os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise KitError(f"another run is writing to {str(out.root)!r}; wait for it to finish") from None
        yield
    finally:
        os.close(fd)


# -- checks before anything is written ------------------------------------------------------------------------


def check_request(request: DatasetRequest) -> tuple[Path, str]:
    """The checks that need no WebUI: the output path, the number of images, the trigger word."""
    if not str(request.out).strip():
        raise KitError("--out: no output folder given (an empty path would mean the current folder)")
    if isinstance(request.n, bool) or not isinstance(request.n, int) or request.n < 1:
        raise KitError(f"--n must be at least 1, got {request.n!r}")
    if request.n > MAX_IMAGES:
        raise KitError(f"--n must be at most {MAX_IMAGES}, got {request.n}")
    try:
        trigger = check_trigger(request.trigger)
    except ValueError as exc:
        raise KitError(str(exc)) from None
    root = Path(os.path.realpath(Path(request.out).expanduser()))
    if root.exists() and not root.is_dir():
        raise KitError(f"--out {str(request.out)!r} exists and is not a folder")
    return root, trigger


_FOLDER_LABELS = {
    "data_dir": "data folder",
    "models_dir": "models folder",
    "ckpt_dir": "checkpoint folder",
    "lora_dir": "LoRA folder",
    "lyco_dir": "LyCORIS folder",
    "lyco_dir_backcompat": "LyCORIS folder",
    "embeddings_dir": "embeddings folder",
    "hypernetwork_dir": "hypernetwork folder",
    "vae_dir": "VAE folder",
    "webui_dir": "install folder",
}


def check_not_in_webui(root: Path, folders: Mapping[str, Path], checkpoint: Checkpoint | None = None) -> None:
    """Refuse an output folder inside (or equal to) one of the WebUI's own folders, or one that holds them."""
    named = {k: v for k, v in folders.items() if str(v).strip()}
    if checkpoint is not None and checkpoint.filename:
        named.setdefault("checkpoint folder", Path(checkpoint.filename).parent)
    holding = sorted(
        ((name, folder) for name, folder in named.items() if inside(root, folder)),
        key=lambda item: -len(os.path.realpath(item[1])),
    )
    if holding:
        name, folder = holding[0]  # the most specific one
        what = _FOLDER_LABELS.get(name, name.replace("_", " "))
        raise KitError(
            f"--out {str(root)!r} is inside the WebUI's own folders (its {what} {str(folder)!r}); choose a folder "
            "outside the WebUI (its folders hold models and settings, and the WebUI scans them)"
        )
    for name, folder in named.items():
        if name in ("data_dir", "webui_dir", "models_dir", "lora_dir", "ckpt_dir") and inside(folder, root):
            raise KitError(
                f"--out {str(root)!r} contains the WebUI's folder {str(folder)!r}; choose a folder of its own"
            )


def _resolve(request: DatasetRequest, backend: Backend) -> tuple[Path, str, Checkpoint, Arch, str | None]:
    root, trigger = check_request(request)
    try:
        checkpoints = backend.checkpoints()
        current = backend.current_checkpoint()
    except ApiError as exc:
        raise KitError(str(exc)) from None
    try:
        if request.checkpoint.strip():
            checkpoint = find_checkpoint(request.checkpoint, checkpoints)
        elif current:
            checkpoint = find_checkpoint(current, checkpoints)
        else:
            raise CheckpointError("--checkpoint: the WebUI reports no loaded checkpoint; name one")
        arch = resolve_architecture(checkpoint, request.arch)
    except CheckpointError as exc:
        raise KitError(str(exc)) from None
    check_not_in_webui(root, backend.folders(), checkpoint)
    return root, trigger, checkpoint, arch, current


def _settings(request: DatasetRequest, arch: Arch, manifest: Mapping[str, Any] | None) -> Settings:
    earlier = settings_from(manifest["settings"]) if manifest else None
    seed = request.seed
    if seed is None:
        seed = earlier.seed if earlier else random.SystemRandom().randrange(2**32)
    defaults = Settings(width=arch.native_size, height=arch.native_size)
    base = earlier or defaults

    def pick(value: Any, name: str) -> Any:
        return value if value is not None else getattr(base, name)

    try:
        settings = Settings(
            width=pick(request.width, "width"),
            height=pick(request.height, "height"),
            steps=pick(request.steps, "steps"),
            cfg_scale=float(pick(request.cfg_scale, "cfg_scale")),
            sampler=pick(request.sampler, "sampler").strip(),
            seed=seed,
        )
    except ValueError as exc:
        raise KitError(f"--{str(exc).replace('cfg_scale', 'cfg')}") from None
    return settings


def _compare(manifest: Mapping[str, Any], checkpoint: Checkpoint, settings: Settings, trigger: str, root: Path) -> None:
    """An earlier run's set is only continued with the same model and settings (its images would not match)."""
    differences = []
    old = manifest.get("checkpoint") or {}
    same_model = (
        old.get("sha256") == checkpoint.sha256
        if old.get("sha256") and checkpoint.sha256
        else old.get("title", "").split(" [")[0] == checkpoint.title.split(" [")[0]
    )
    if not same_model:
        differences.append(f"checkpoint {old.get('title')!r}, not {checkpoint.title!r}")
    earlier = settings_from(manifest["settings"])
    for name in ("width", "height", "steps", "cfg_scale", "sampler", "seed"):
        a, b = getattr(earlier, name), getattr(settings, name)
        if a != b:
            differences.append(f"{name} {a!r}, not {b!r}")
    if manifest.get("trigger") != trigger:
        differences.append(f"trigger {manifest.get('trigger')!r}, not {trigger!r}")
    if differences:
        raise KitError(
            f"--out {str(root)!r} holds a wrong-LoRA set made with other settings ({'; '.join(differences)}); use "
            "the same settings to continue it, or another folder"
        )


# -- the run ----------------------------------------------------------------------------------------------


def make_dataset(
    request: DatasetRequest,
    backend: Backend,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> DatasetResult:
    """Generate (or finish) the set. Raises :class:`KitError` for bad input before writing anything, and
    :class:`RunInterruptedError` when stopped (everything made so far is kept, complete, and resumed next time)."""
    started = time.monotonic()
    root, trigger, checkpoint, arch, current = _resolve(request, backend)
    manifest = read_manifest(root) if root.is_dir() else None
    settings = _settings(request, arch, manifest)
    if manifest is not None:
        _compare(manifest, checkpoint, settings, trigger, root)
    elif root.is_dir() and not request.force:
        try:
            names = user_entries(root)
        except PathError as exc:
            raise KitError(str(exc)) from None
        if names:
            shown = ", ".join(repr(n) for n in names)
            raise KitError(
                f"--out {str(root)!r} is not empty ({shown}…) and holds no earlier wrong-LoRA run; choose an empty or "
                "new folder, or pass --force to use it anyway (its files are never overwritten)"
            )
    repeats = int(manifest["repeats"]) if manifest else repeats_for(request.n)
    folder = image_folder(trigger, repeats)
    out = OutputDir(root)
    created = not root.exists()
    try:
        out.check(names=[MANIFEST, GENERATIONS, TOML, TRAIN_SH], trees=["img"])
    except PathError as exc:
        raise KitError(str(exc)) from None
    try:
        out.prepare()
    except (OSError, PrepError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise KitError(f"--out {str(root)!r} cannot be written: {reason}") from None
    state: dict[str, Any] = dict(manifest) if manifest else {}
    out.files = ledger_from(state)
    images: dict[str, Any] = dict(state.get("images") or {})
    state.update(
        kind=KIND,
        version=MANIFEST_VERSION,
        # An earlier run's record stands (same model, checked above): A1111 only adds the hash to a checkpoint's
        # title once it has loaded it, and a finished set must not be rewritten for that.
        checkpoint=state.get("checkpoint")
        or {
            "title": checkpoint.title,
            "model_name": checkpoint.model_name,
            "filename": checkpoint.filename,
            "hash": checkpoint.hash,
            "sha256": checkpoint.sha256,
        },
        arch=arch.value,
        trigger=trigger,
        repeats=repeats,
        n=request.n,
        images=images,
    )
    state["settings"] = {
        "width": settings.width,
        "height": settings.height,
        "steps": settings.steps,
        "cfg_scale": settings.cfg_scale,
        "sampler": settings.sampler,
        "seed": settings.seed,
    }
    result = DatasetResult(out=root, checkpoint=checkpoint, arch=arch, settings=settings, trigger=trigger, n=request.n)
    switched = current is not None and current.split(" [")[0] != checkpoint.title.split(" [")[0]
    try:
        with _locked(out):
            save_manifest(out, state)
            result.removed = _remove_extra(out, images, request.n)
            _generate_all(
                out, state, images, settings, checkpoint, folder, trigger, backend, result, progress, should_stop
            )
            _finish(out, state, result, checkpoint, arch, settings, trigger, repeats, folder)
    except PrepError as exc:  # a link, a file of the user's, a full disk: one line, what was made is kept
        if created and not images:
            _undo_empty(root)
        raise KitError(str(exc)) from None
    except BaseException:
        if created and not images:
            _undo_empty(root)
        raise
    finally:
        if switched and current and result.asked:
            try:
                backend.restore(current)
            except ApiError as exc:
                result.notes.append(f"could not load {current!r} again after the run: {exc}")
    result.seconds = time.monotonic() - started
    return result


def _undo_empty(root: Path) -> None:
    """A run that made nothing leaves nothing: its state folder and the output folder it created go."""
    with contextlib.suppress(OSError):
        for rel in (MANIFEST, LOCK):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(root / rel)
        with contextlib.suppress(OSError):
            os.rmdir(root / STATE_DIRNAME / "tmp")
        os.rmdir(root / STATE_DIRNAME)
        os.rmdir(root)


def claim(out: OutputDir, state: dict[str, Any], rels: list[str]) -> None:
    """Before (re)writing ``rels``: mark them as the run's in the saved ledger, so a run killed between the write
    and the next manifest save still knows the files are its own. A file it did not write is refused."""
    for rel in rels:
        if out.lstat(rel) is not None and not out.owns(rel):
            raise KitError(
                f"{str(out.path(rel))!r} was not written by Smoothie (or was changed since); it is never "
                "overwritten: move it away, or choose another output folder"
            )
        out.files[rel] = FileRec("", -1, 0, "")
    save_manifest(out, state)


def save_manifest(out: OutputDir, state: dict[str, Any]) -> None:
    state["files"] = _ledger_out(out.files)
    out.write_text(MANIFEST, json.dumps(state, indent=1, sort_keys=True) + "\n")


def _remove_extra(out: OutputDir, images: dict[str, Any], n: int) -> int:
    """Images of an earlier, larger run beyond the ``n`` asked for now are this run's to remove."""
    removed = 0
    for key in sorted((k for k in images if int(k) >= n), key=int):
        entry = images.pop(key)
        for rel in (entry.get("file"), entry.get("caption")):
            if rel and out.remove(rel):
                removed += 1
    return removed


def _done(out: OutputDir, entry: Mapping[str, Any] | None) -> bool:
    if not entry:
        return False
    for rel in (entry.get("file"), entry.get("caption")):
        if not rel or out.lstat(rel) is None or not out.owns(rel):
            return False
    return True


def _generate_all(
    out: OutputDir,
    state: dict[str, Any],
    images: dict[str, Any],
    settings: Settings,
    checkpoint: Checkpoint,
    folder: str,
    trigger: str,
    backend: Backend,
    result: DatasetResult,
    progress: Progress | None,
    should_stop: Callable[[], bool] | None,
) -> None:
    n = int(state["n"])
    todo = [i for i in range(n) if not _done(out, images.get(str(i)))]
    result.kept = n - len(todo)
    if progress:
        progress(
            result.kept, n, f"{result.kept} of {n} images already made" if result.kept else f"generating {n} images"
        )
    for i in todo:
        if should_stop is not None and should_stop():
            raise RunInterruptedError(f"stopped after {result.kept + result.made} of {n} images")
        generation = plan(i, settings)
        result.asked = True
        try:
            image, info = backend.generate(generation, checkpoint)
        except KeyboardInterrupt:
            backend.interrupt()
            raise
        except ApiError as exc:
            raise KitError(f"image {i + 1} of {n}: {exc}") from None
        if should_stop is not None and should_stop():  # interrupted during this image: it may be cut short
            raise RunInterruptedError(f"stopped after {result.kept + result.made} of {n} images")
        _check_model(info, checkpoint, i, n)
        stem = f"{folder}/{trigger}_{i:05d}"
        file_rel = stem + image.extension
        caption_rel = stem + ".txt"
        old = images.get(str(i)) or {}
        claim(out, state, [file_rel, caption_rel, GENERATIONS])
        out.write_bytes(file_rel, image.data, durable=False)
        out.write_text(caption_rel, trigger + "\n", durable=False)
        if old.get("file") and old["file"] != file_rel:
            out.remove(old["file"])
        images[str(i)] = {
            "file": file_rel,
            "caption": caption_rel,
            "sha256": hashlib.sha256(image.data).hexdigest(),
            "record": _record(generation, info, file_rel, trigger, checkpoint),
        }
        result.made += 1
        _write_generations(out, images)
        save_manifest(out, state)
        if progress:
            progress(result.kept + result.made, n, f"image {i + 1} of {n}: {generation.prompt}")


def _check_model(info: Mapping[str, Any], checkpoint: Checkpoint, i: int, n: int) -> None:
    used = str(info.get("sd_model_name") or "").strip()
    if used and used not in (checkpoint.model_name, checkpoint.stem, checkpoint.title.split(" [")[0]):
        base = used.replace("\\", "/").rsplit("/", 1)[-1]
        if base not in (checkpoint.stem, checkpoint.model_name.replace("\\", "/").rsplit("/", 1)[-1]):
            raise KitError(
                f"image {i + 1} of {n}: the WebUI generated with {used!r}, not {checkpoint.title!r} (it could not "
                "switch checkpoints; load it in the WebUI and run again)"
            )


def _record(
    generation: Generation, info: Mapping[str, Any], file_rel: str, trigger: str, checkpoint: Checkpoint
) -> dict[str, Any]:
    record = generation.record()
    seeds = info.get("all_seeds")
    if isinstance(info.get("seed"), int):
        record["seed"] = info["seed"]
    elif isinstance(seeds, list) and seeds and isinstance(seeds[0], int):
        record["seed"] = seeds[0]
    if info.get("sampler_name"):
        record["sampler"] = info["sampler_name"]
    infotexts = info.get("infotexts")
    record.update(
        file=file_rel,
        caption=trigger,
        checkpoint=checkpoint.title,
        model=info.get("sd_model_name") or checkpoint.model_name,
        model_hash=info.get("sd_model_hash") or checkpoint.hash or None,
        infotext=infotexts[0] if isinstance(infotexts, list) and infotexts else None,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )
    return record


#: The order of a ``generations.jsonl`` row's fields (the manifest stores them sorted).
RECORD_FIELDS = (
    "index",
    "file",
    "caption",
    "prompt",
    "negative_prompt",
    "seed",
    "width",
    "height",
    "steps",
    "cfg_scale",
    "sampler",
    "checkpoint",
    "model",
    "model_hash",
    "subject",
    "medium",
    "concepts",
    "infotext",
    "created",
    "plan_version",
)


def _ordered(record: Mapping[str, Any]) -> dict[str, Any]:
    row = {k: record[k] for k in RECORD_FIELDS if k in record}
    row.update((k, record[k]) for k in sorted(record) if k not in row)
    if isinstance(row.get("concepts"), list):
        row["concepts"] = [
            {k: c[k] for k in ("text", "category", "weight") if k in c} if isinstance(c, dict) else c
            for c in row["concepts"]
        ]
    return row


def _generation_lines(images: Mapping[str, Any]) -> list[str]:
    return [json.dumps(_ordered(images[k]["record"]), ensure_ascii=False) + "\n" for k in sorted(images, key=int)]


def _write_generations(out: OutputDir, images: Mapping[str, Any]) -> None:
    out.write_chunks(GENERATIONS, _generation_lines(images))


def _finish(
    out: OutputDir,
    state: dict[str, Any],
    result: DatasetResult,
    checkpoint: Checkpoint,
    arch: Arch,
    settings: Settings,
    trigger: str,
    repeats: int,
    folder: str,
) -> None:
    images = state["images"]
    by_hash: dict[str, int] = {}
    for key in sorted(images, key=int):
        digest = images[key].get("sha256", "")
        if digest in by_hash:
            result.duplicates.append((by_hash[digest], int(key)))
        else:
            by_hash[digest] = int(key)
    if result.duplicates:
        result.notes.append(
            f"{len(result.duplicates)} image(s) are identical to another one (the WebUI ignored the seed?)"
        )
    training = training_plan(state)
    image_dir = out.path(folder)
    script = train_script(training, checkpoint.filename or checkpoint.title, out.path(TOML), out.path(MODEL_DIR))
    texts = {
        TOML: dataset_toml(training, [image_dir]),
        TRAIN_SH: script,
        GENERATIONS: "".join(_generation_lines(images)),
    }
    changed = [rel for rel, text in texts.items() if out.read_bytes(rel) != text.encode("utf-8")]
    if changed:
        claim(out, state, changed)
        for rel in changed:
            out.write_text(rel, texts[rel])
    with contextlib.suppress(OSError):
        os.chmod(out.path(TRAIN_SH), out.mode | ((out.mode & 0o444) >> 2))  # executable where readable
    state["complete"] = True
    save_manifest(out, state)
    result.image_dir = image_dir
    result.toml = out.path(TOML)
    result.train_sh = out.path(TRAIN_SH)
    result.plan = training


def training_plan(state: Mapping[str, Any], **overrides: Any) -> TrainingPlan:
    """The kohya settings for the set a manifest describes."""
    settings = settings_from(state["settings"])
    checkpoint = state.get("checkpoint") or {}
    stem = Checkpoint.from_api(checkpoint).stem
    values: dict[str, Any] = {
        "arch": Arch(state["arch"]),
        "n_images": len(state.get("images") or {}),
        "repeats": int(state["repeats"]),
        "width": settings.width,
        "height": settings.height,
        "trigger": state["trigger"],
        "output_name": lora_name(state["trigger"], stem),
        "seed": settings.seed % 2**31,
    }
    values.update(overrides)
    return TrainingPlan(**values)
