"""What a run remembers in ``OUTPUT/.smoothie/`` so a re-run resumes and changes nothing.

``state.json``: per source, the analysis record with the file fingerprint (size, mtime) and the
options digest it was computed under; per output file, the digest of everything its bytes depend
on. ``edits.json``: captions edited by hand in the tab, which later runs keep. Both are written
atomically and with sorted keys, so saving an unchanged state rewrites nothing.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from smoothie.dataset.safeio import STATE_DIRNAME, OutputDir

logger = logging.getLogger(__name__)

STATE_FILE = f"{STATE_DIRNAME}/state.json"
EDITS_FILE = f"{STATE_DIRNAME}/edits.json"
VERSION = 1


class State:
    def __init__(self, out: OutputDir) -> None:
        self.out = out
        self.analysis: dict[str, dict[str, Any]] = {}
        self.files: dict[str, str] = {}  # output path -> digest of what produced it
        self._saved_at = time.monotonic()

    @classmethod
    def load(cls, out: OutputDir) -> State:
        state = cls(out)
        raw = out.read_bytes(STATE_FILE)
        if raw:
            try:
                data = json.loads(raw)
                if data.get("version") == VERSION:
                    state.analysis = dict(data.get("analysis", {}))
                    state.files = {str(k): str(v) for k, v in data.get("files", {}).items()}
            except (ValueError, AttributeError) as exc:  # unreadable: start afresh (outputs are re-checked)
                logger.warning("ignoring unreadable %s: %s", STATE_FILE, exc)
        return state

    def cached(self, rel: str, fingerprint: tuple[int, int], key: str) -> dict[str, Any] | None:
        entry = self.analysis.get(rel)
        if entry and entry.get("fp") == list(fingerprint) and entry.get("key") == key:
            record: dict[str, Any] = entry["record"]
            return record
        return None

    def put(self, rel: str, fingerprint: tuple[int, int], key: str, record: dict[str, Any]) -> None:
        self.analysis[rel] = {"fp": list(fingerprint), "key": key, "record": record}

    def keep_only(self, sources: set[str]) -> None:
        for rel in [r for r in self.analysis if r not in sources]:
            del self.analysis[rel]

    def save(self, force: bool = True, every: float = 10.0) -> None:
        """Write the state (atomically); with ``force=False`` only if ``every`` seconds have passed."""
        if not force and time.monotonic() - self._saved_at < every:
            return
        data = {"version": VERSION, "analysis": self.analysis, "files": self.files}
        self.out.write_text(STATE_FILE, json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
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
