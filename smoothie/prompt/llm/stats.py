"""Running tallies of an LLM backend, for benchmarks and the log: asked, parsed, accepted, and why not."""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smoothie.prompt.llm.pipeline import Harvest


class Stats:
    """Thread-safe sums over every request a backend answered (cache hits excluded)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._seconds = 0.0

    def add(self, harvest: Harvest, seconds: float) -> None:
        with self._lock:
            self._counts["requests"] += 1
            self._counts["asked"] += harvest.asked
            self._counts["parsed"] += harvest.parsed
            self._counts["accepted"] += harvest.accepted
            for reason, count in harvest.dropped.items():
                self._counts[f"dropped:{reason}"] += count
            for reason, count in harvest.rejected.items():
                self._counts[f"rejected:{reason}"] += count
            self._seconds += seconds

    def snapshot(self) -> dict[str, Any]:
        """``{"requests", "asked", "parsed", "accepted", "seconds", "dropped": {…}, "rejected": {…}}``."""
        with self._lock:
            counts = dict(self._counts)
            seconds = self._seconds
        return {
            "requests": counts.get("requests", 0),
            "asked": counts.get("asked", 0),
            "parsed": counts.get("parsed", 0),
            "accepted": counts.get("accepted", 0),
            "seconds": round(seconds, 2),
            "dropped": {k.split(":", 1)[1]: v for k, v in sorted(counts.items()) if k.startswith("dropped:")},
            "rejected": {k.split(":", 1)[1]: v for k, v in sorted(counts.items()) if k.startswith("rejected:")},
        }

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._seconds = 0.0
