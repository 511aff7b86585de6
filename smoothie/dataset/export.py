"""Export: output names and layouts, kohya/jsonl metadata, the training-length recommendation, caption edits.

Layouts (``OUTPUT/`` is the output folder):

* ``kohya``: ``img/<repeats>_<concept>/<name>.png`` with ``<name>.txt`` beside it — point sd-scripts'
  ``--train_data_dir`` at ``OUTPUT/img`` (DreamBooth-style folders), or use ``OUTPUT/meta_lat.json``
  with ``--in_json`` and ``--train_data_dir OUTPUT/img`` (fine-tuning style: keys are paths relative
  to ``img/``, with ``caption``, ``image_size`` and ``train_resolution`` as sd-scripts reads them).
* ``jsonl``: ``images/<concept>/<name>.png`` and ``OUTPUT/metadata.jsonl``, one line per image with
  ``file_name`` and ``text`` (Hugging Face ``imagefolder``) and ``image_path``, ``caption`` and
  ``image_size`` (sd-scripts' JSONL metadata, ``image_dir`` = ``OUTPUT``).

Both record ``original_size`` and ``crop_ltrb`` (SDXL size/crop conditioning) and ``flipped``.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from smoothie.dataset.options import ExportFormat
from smoothie.dataset.safeio import OutputDir

REPORT_FILE = "report.json"
SUMMARY_FILE = "summary.json"
KOHYA_META = "meta_lat.json"
JSONL_META = "metadata.jsonl"
COOCCURRENCE_PNG = "cooccurrence.png"
# Everything a run may write at the top of the output folder, and the folders it writes into.
TOP_FILES = (REPORT_FILE, SUMMARY_FILE, KOHYA_META, JSONL_META, COOCCURRENCE_PNG)
TOP_FOLDERS = ("img", "images")

# Heuristic targets (see recommend_training): image views per epoch and optimiser steps in total.
VIEWS_PER_EPOCH = 200
TARGET_STEPS = 2000

_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
# File systems limit a name to 255 bytes (ext4, APFS, Btrfs; NTFS counts UTF-16 units), and a name of CJK
# characters or emoji takes 3-4 bytes a character: output stems are kept to NAME_BYTES of UTF-8 (room left
# for "-2" and the extension), folder names (concept, class) to FOLDER_BYTES (room for "<repeats>_").
NAME_BYTES = 150
FOLDER_BYTES = 100
_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{i}" for i in range(1, 10)] + [f"LPT{i}" for i in range(1, 10)]
)


def safe_name(text: str, fallback: str = "image", max_bytes: int = NAME_BYTES) -> str:
    """A file/folder name safe on Windows, macOS and Linux; unicode letters kept (NFC).

    A name longer than ``max_bytes`` in UTF-8 is cut at a character boundary and given ``~`` and 8 hex
    digits of a hash of the whole name, so two long names that share their beginning stay apart and the
    same name always gives the same result (stable across runs)."""
    text = unicodedata.normalize("NFC", text)
    text = _UNSAFE.sub("_", text).strip(" .")
    if text.split(".", 1)[0].upper() in _RESERVED:
        text = "_" + text
    raw = text.encode("utf-8")
    if len(raw) > max_bytes:
        digest = hashlib.sha256(raw).hexdigest()[:8]
        head = raw[: max_bytes - 9].decode("utf-8", "ignore").rstrip(" .")
        text = f"{head}~{digest}"
    return text or fallback


def output_names(sources: Sequence[str]) -> dict[str, str]:
    """A unique file stem per source (relative path, folders joined with ``_``), stable across runs.

    Collisions (``a.jpg`` and ``a.png``, or case-only differences) get ``-2``, ``-3`` … in source order;
    long names are shortened (:func:`safe_name`).
    """
    taken: set[str] = set()
    out: dict[str, str] = {}
    for rel in sorted(sources):
        stem = rel.rsplit(".", 1)[0] if "." in rel.rsplit("/", 1)[-1] else rel
        base = safe_name(stem.replace("/", "_"))
        name = base
        n = 2
        while name.lower() in taken:
            name = f"{base}-{n}"
            n += 1
        taken.add(name.lower())
        out[rel] = name
    return out


def recommend_training(counts: Mapping[str, int], repeats: int = 0, epochs: int = 0) -> dict[str, Any]:
    """Repeats per class folder, epochs and total steps (batch size 1), with the reasoning.

    Heuristic, from common LoRA practice rather than measurement here: an epoch should show about
    :data:`VIEWS_PER_EPOCH` images (so small sets get more repeats), shared equally between classes
    (repeats balance a class of 5 against one of 50), and a run should total about
    :data:`TARGET_STEPS` steps at batch size 1 (1,500–3,000 is the usual range for a character or
    style LoRA at a learning rate around 1e-4; halve the steps for batch size 2).
    """
    counts = {c: n for c, n in counts.items() if n > 0}
    if not counts:
        return {"repeats": {}, "epochs": 0, "steps_per_epoch": 0, "total_steps": 0, "explanation": "no images kept"}
    k = len(counts)
    reps = {c: repeats or max(1, min(100, round(VIEWS_PER_EPOCH / (k * n)))) for c, n in sorted(counts.items())}
    per_epoch = sum(counts[c] * reps[c] for c in counts)
    n_epochs = epochs or max(1, min(30, round(TARGET_STEPS / per_epoch)))
    explanation = (
        f"{sum(counts.values())} images in {k} folder(s). Repeats make each epoch show about {VIEWS_PER_EPOCH} "
        f"images, split equally between folders ({per_epoch} per epoch); {n_epochs} epochs give "
        f"{per_epoch * n_epochs} steps at batch size 1 (the usual 1,500-3,000 for a LoRA at learning rate ~1e-4; "
        "divide by the batch size). Save every epoch and keep the first that looks right: fewer steps for a "
        "style, more for a face."
    )
    if repeats or epochs:
        explanation += " Repeats/epochs set by hand were used as given."
    return {
        "repeats": reps,
        "epochs": n_epochs,
        "steps_per_epoch": per_epoch,
        "total_steps": per_epoch * n_epochs,
        "explanation": explanation,
    }


def folder_for(fmt: ExportFormat, concept: str, repeats: int) -> str:
    """The folder of a class's images: ``img/<repeats>_<concept>`` (kohya) or ``images/<concept>``."""
    if fmt is ExportFormat.KOHYA:
        return f"img/{repeats}_{concept}"
    return f"images/{concept}"


def report_entry(source: str, record: Any, reason: str | None, job: Any) -> str:
    """One ``report.json`` entry as compact JSON, keys in the documented order.

    ``record``: the analysis summary (``direction``, ``size``); ``job``: the write job when kept, else None.
    ``fields``: the caption schema's fields as the caption says them (after any flip), ``null`` when unknown.
    """
    entry = {
        "source": source,
        "status": "kept" if job is not None else "skipped",
        "reason": None if job is not None else reason,
        "output": job.output if job is not None else None,
        "direction": record.direction,
        "flipped": bool(job is not None and job.flipped),
        "crop": list(job.box) if job is not None else None,
        "original_size": list(record.size),
        "caption": job.caption if job is not None else None,
        "fields": {k: v or None for k, v in job.fields} if job is not None else None,
    }
    return json.dumps(entry, ensure_ascii=False)


def json_list_file(key: str, items: Iterable[str]) -> Iterator[str]:
    """``{"key": [item, …]}`` with one JSON item per line, produced piece by piece."""
    yield f'{{"{key}": ['
    first = True
    for item in items:
        yield ("\n  " if first else ",\n  ") + item
        first = False
    yield "\n]}\n"


def metadata_file(fmt: ExportFormat) -> str:
    """The name of the layout's metadata file."""
    return KOHYA_META if fmt is ExportFormat.KOHYA else JSONL_META


def metadata_chunks(fmt: ExportFormat, jobs: Sequence[Any]) -> Iterator[str]:
    """The text of the layout's metadata file (:func:`metadata_file`), piece by piece, for the kept images."""
    if fmt is ExportFormat.KOHYA:

        def entries() -> Iterator[str]:
            for job in jobs:
                meta = {
                    "caption": job.caption,
                    "image_size": list(job.target),
                    "train_resolution": list(job.target),
                    "original_size": list(job.size),
                    "crop_ltrb": list(job.box),
                    "flipped": job.flipped,
                }
                key = json.dumps(job.output[len("img/") :], ensure_ascii=False)
                yield key + ": " + json.dumps(meta, ensure_ascii=False)

        return _object_file(entries())

    def jsonl() -> Iterator[str]:
        for job in jobs:
            row = {
                "file_name": job.output,
                "text": job.caption,
                "image_path": job.output,
                "caption": job.caption,
                "image_size": list(job.target),
                "original_size": list(job.size),
                "crop_ltrb": list(job.box),
                "flipped": job.flipped,
            }
            yield json.dumps(row, ensure_ascii=False) + "\n"

    return jsonl()


def _object_file(items: Iterable[str]) -> Iterator[str]:
    yield "{"
    for n, item in enumerate(items):
        yield ("\n  " if n == 0 else ",\n  ") + item
    yield "\n}\n"


def caption_file(output: str) -> str:
    return output.rsplit(".", 1)[0] + ".txt"


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def edit_caption(out: OutputDir, source: str, caption: str) -> dict[str, Any]:
    """Replace one kept image's caption by hand: its ``.txt``, the metadata file, report.json, and
    ``.smoothie/edits.json`` so later runs keep the edit. Returns the updated report entry.

    The files are rewritten through the output folder's ledger (loaded from and saved to its state), so
    the next run knows them as its own; a file the pipeline did not write is not touched."""
    from smoothie.dataset.state import State

    state = State.load(out)
    if not state.exists():
        raise ValueError(f"{str(out.root)!r} holds no Smoothie run: run the pipeline first")
    try:
        return _edit_caption(out, source, caption)
    finally:
        state.save()


def _edit_caption(out: OutputDir, source: str, caption: str) -> dict[str, Any]:
    from smoothie.dataset.state import load_edits, save_edits

    caption = " ".join(str(caption).split())
    raw = out.read_bytes(REPORT_FILE)
    if raw is None:
        raise ValueError(f"no {REPORT_FILE} in {str(out.root)!r}: run the pipeline first")
    report = json.loads(raw)
    entry = next((e for e in report["images"] if e["source"] == source), None)
    if entry is None:
        raise ValueError(f"source {source!r} is not in {REPORT_FILE}")
    if entry["status"] != "kept" or not entry["output"]:
        raise ValueError(f"source {source!r} was skipped ({entry['reason']}); it has no caption to edit")
    entry["caption"] = caption
    edits = load_edits(out)
    edits[source] = caption
    save_edits(out, edits)
    output = entry["output"]
    if output.startswith("img/"):
        out.write_text(caption_file(output), caption + "\n")
        meta_raw = out.read_bytes(KOHYA_META)
        if meta_raw:
            meta = json.loads(meta_raw)
            key = output[len("img/") :]
            if key in meta:
                meta[key]["caption"] = caption
                items = (
                    f"{json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False)}" for k, v in meta.items()
                )
                out.write_chunks(KOHYA_META, _object_file(items))
    else:
        meta_raw = out.read_bytes(JSONL_META)
        if meta_raw:
            lines = []
            for line in meta_raw.decode("utf-8").splitlines():
                row = json.loads(line)
                if row.get("file_name") == output:
                    row["text"] = row["caption"] = caption
                lines.append(json.dumps(row, ensure_ascii=False))
            out.write_text(JSONL_META, "\n".join(lines) + "\n")
    entries = (json.dumps(e, ensure_ascii=False) for e in report["images"])
    out.write_chunks(REPORT_FILE, json_list_file("images", entries))
    return dict(entry)
