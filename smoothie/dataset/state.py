"""What a run remembers in ``OUTPUT/.smoothie/`` so a re-run resumes and changes nothing.

``state.jsonl``: a header line, then one line per source (its analysis record, the file fingerprint
(size, mtime) and the digest of the options it was computed under) and one line per output file: the
digest of everything its bytes depend on, and the size, modification time and hash of what was written
(the ledger of :class:`~smoothie.dataset.safeio.OutputDir`: only files in it are ever replaced or
removed). One line per item keeps memory flat: records are held as
their compact JSON text, and the file is streamed when saved. ``edits.json``: captions edited by hand
in the tab, which later runs keep. Both are written atomically; saving an unchanged state rewrites
nothing.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

from smoothie.dataset.safeio import STATE_DIRNAME, FileRec, OutputDir

logger = logging.getLogger(__name__)

STATE_FILE = f"{STATE_DIRNAME}/state.jsonl"
EDITS_FILE = f"{STATE_DIRNAME}/edits.json"
VERSION = 3
READABLE = (2, 3)  # version 2 had no signatures: its files count as the pipeline's own


def compact(record: dict[str, Any]) -> str:
    """The canonical JSON text of an analysis record (sorted keys, no spaces; numpy scalars as numbers)."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return item()
    tolist = getattr(value, "tolist", None)  # numpy arrays
    if callable(tolist):
        return tolist()
    raise TypeError(f"not a JSON value: {type(value).__name__}")


class State:
    def __init__(self, out: OutputDir) -> None:
        self.out = out
        # source -> (fingerprint, options digest, record JSON)
        self.analysis: dict[str, tuple[tuple[int, int], str, str]] = {}
        self._saved_at = time.monotonic()

    @property
    def files(self) -> dict[str, FileRec]:
        """The output folder's ledger: output path -> what the pipeline wrote there."""
        return self.out.files

    def exists(self) -> bool:
        return self.out.lstat(STATE_FILE) is not None

    @classmethod
    def load(cls, out: OutputDir) -> State:
        """The saved state (an empty one when there is none or it cannot be read); fills ``out.files``."""
        state = cls(out)
        out.files.clear()
        handle = out.open_text(STATE_FILE)
        if handle is None:
            return state
        keys: dict[str, str] = {}
        with handle:
            try:
                header = json.loads(handle.readline() or "{}")
                version = header.get("version")
                if version not in READABLE:
                    return state
                for line in handle:
                    item = json.loads(line)
                    if "a" in item:
                        key = keys.setdefault(item["key"], item["key"])
                        fp = (int(item["fp"][0]), int(item["fp"][1]))
                        state.analysis[str(item["a"])] = (fp, key, compact(item["record"]))
                    elif "f" in item and version == 2:
                        out.files[str(item["f"])] = FileRec(str(item["d"]), -1, 0, "")
                    elif "f" in item:
                        rec = FileRec(str(item["k"]), int(item["s"]), int(item["m"]), str(item["h"]))
                        out.files[str(item["f"])] = rec
            except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:  # unreadable: start afresh
                logger.warning("ignoring unreadable %s: %s", STATE_FILE, exc)
                out.files.clear()
                return cls(out)
        return state

    def cached(self, rel: str, fingerprint: tuple[int, int], key: str) -> str | None:
        entry = self.analysis.get(rel)
        if entry and entry[0] == fingerprint and entry[1] == key:
            return entry[2]
        return None

    def put(self, rel: str, fingerprint: tuple[int, int], key: str, record: str) -> None:
        self.analysis[rel] = (fingerprint, key, record)

    def keep_only(self, sources: set[str]) -> None:
        for rel in [r for r in self.analysis if r not in sources]:
            del self.analysis[rel]

    def _lines(self) -> Iterator[str]:
        yield json.dumps({"version": VERSION}) + "\n"
        for rel in sorted(self.analysis):
            fp, key, record = self.analysis[rel]
            yield f'{{"a":{json.dumps(rel, ensure_ascii=False)},"fp":[{fp[0]},{fp[1]}],"key":{json.dumps(key)},'
            yield f'"record":{record}}}\n'
        for rel in sorted(self.files):
            rec = self.files[rel]
            item = {"f": rel, "k": rec.key, "s": rec.size, "m": rec.mtime_ns, "h": rec.sha}
            yield json.dumps(item, ensure_ascii=False) + "\n"

    def save(self, force: bool = True, every: float = 10.0) -> None:
        """Write the state (atomically); with ``force=False`` only if ``every`` seconds have passed."""
        if not force and time.monotonic() - self._saved_at < every:
            return
        self.out.write_chunks(STATE_FILE, self._lines())
        self._saved_at = time.monotonic()


def load_edits(out: OutputDir) -> dict[str, str]:
    raw = out.read_bytes(EDITS_FILE)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        logger.warning("ignoring unreadable %s: %s", EDITS_FILE, exc)
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def save_edits(out: OutputDir, edits: dict[str, str]) -> None:
    out.write_text(EDITS_FILE, json.dumps(edits, sort_keys=True, ensure_ascii=False, indent=1) + "\n")
