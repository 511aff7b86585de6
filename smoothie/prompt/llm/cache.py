"""Results cache for LLM backends: in memory (LRU, shared by every backend in the process) and, optionally, on disk.

Preview then Generate asks for the same ensemble twice; the second answer comes from here, so the model is
called once and both show the same paraphrases. The key is everything that changes the answer: the
protected prompt (and its placeholders, separators, style, original), the backend, the model and where it is
served, N, the seed, the number of smoothing rounds and the sampling temperature.

On disk each entry is one JSON file ``<sha256 of the key>.json`` in the directory given (created on the
first write, never at import), written atomically; an unreadable or mismatching file is a miss.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from smoothie.prompt.request import ParaphraseRequest

log = logging.getLogger(__name__)

CACHE_VERSION = 1


def cache_key(request: ParaphraseRequest, backend: str, model: str, rounds: int, **extra: Any) -> dict[str, Any]:
    """The fields that decide an answer, as a JSON-able dict (``extra``: temperature, base_url, …)."""
    return {
        "version": CACHE_VERSION,
        "backend": backend,
        "model": model,
        "text": request.text,
        "n": request.n,
        "seed": request.seed,
        "rounds": rounds,
        "style": request.style,
        "placeholders": list(request.placeholders),
        "separators": list(request.separators),
        "original": request.original,
        **{k: extra[k] for k in sorted(extra)},
    }


def key_digest(key: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


class MemoryLRU:
    """A thread-safe least-recently-used map from digest to paraphrase list."""

    def __init__(self, max_entries: int = 256) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries!r}")
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str) -> list[str] | None:
        with self._lock:
            value = self._data.get(digest)
            if value is None:
                return None
            self._data.move_to_end(digest)
            return list(value)

    def put(self, digest: str, value: list[str]) -> None:
        with self._lock:
            self._data[digest] = tuple(value)
            self._data.move_to_end(digest)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)


SHARED_MEMORY = MemoryLRU()


class ResultCache:
    """Memory first, then ``directory`` (when given). ``get``/``put`` take the key dict of :func:`cache_key`."""

    def __init__(self, directory: str | os.PathLike[str] | None = None, memory: MemoryLRU | None = None) -> None:
        self.directory = Path(directory).expanduser() if directory else None
        self.memory = SHARED_MEMORY if memory is None else memory

    def _path(self, digest: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{digest}.json"

    def get(self, key: Mapping[str, Any]) -> list[str] | None:
        digest = key_digest(key)
        hit = self.memory.get(digest)
        if hit is not None:
            return hit
        path = self._path(digest)
        if path is None or not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            value = data["paraphrases"]
            if data.get("key") != json.loads(json.dumps(dict(key))) or not (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            ):
                log.debug("ignoring cache file %s: key or content does not match", path)
                return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.debug("ignoring unreadable cache file %s: %s", path, exc)
            return None
        self.memory.put(digest, value)
        return list(value)

    def cached(self, key: Mapping[str, Any], compute: Callable[[], list[str]], label: str) -> list[str]:
        """The cached paraphrases for ``key``, else ``compute()``'s, stored (a failure raises, uncached)."""
        hit = self.get(key)
        if hit is not None:
            log.info("%s: %d paraphrases from the cache", label, len(hit))
            return hit
        lines = compute()
        self.put(key, lines)
        return lines

    def put(self, key: Mapping[str, Any], paraphrases: list[str]) -> None:
        digest = key_digest(key)
        self.memory.put(digest, paraphrases)
        path = self._path(digest)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            payload = json.dumps({"key": dict(key), "paraphrases": list(paraphrases)}, ensure_ascii=False, indent=1)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(payload)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:  # a full or read-only disk must not fail the rewrite
            log.warning("could not write the LLM cache file %s: %s", path, exc)
