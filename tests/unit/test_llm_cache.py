"""The LLM results cache (memory LRU and disk) and the shared deadline: no model, no server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from smoothie.prompt.llm.cache import MemoryLRU, ResultCache, cache_key
from smoothie.prompt.llm.deadline import Deadline
from smoothie.prompt.request import ParaphraseRequest

SOURCE = "a cat whose fur looks like a strawberry, [[0]], sitting on a red cushion, 12 candles"
PH = ("[[0]]",)
LINES = ["Picture a cat with strawberry fur, [[0]], on a red cushion beside 12 candles"]


def test_cache_key_separates_what_changes_the_answer() -> None:
    request = ParaphraseRequest(text=SOURCE, n=32, seed=1, placeholders=PH)
    base = cache_key(request, "openai", "m", 1)
    assert cache_key(request, "openai", "m", 1) == base
    different = [
        cache_key(ParaphraseRequest(text=SOURCE + "!", n=32, seed=1, placeholders=PH), "openai", "m", 1),
        cache_key(ParaphraseRequest(text=SOURCE, n=16, seed=1, placeholders=PH), "openai", "m", 1),
        cache_key(ParaphraseRequest(text=SOURCE, n=32, seed=2, placeholders=PH), "openai", "m", 1),
        cache_key(request, "transformers", "m", 1),
        cache_key(request, "openai", "other", 1),
        cache_key(request, "openai", "m", 2),
        cache_key(request, "openai", "m", 1, temperature=0.5),
    ]
    assert all(key != base for key in different)


def test_lru_evicts_the_least_recently_used() -> None:
    lru = MemoryLRU(max_entries=2)
    lru.put("a", ["1"])
    lru.put("b", ["2"])
    assert lru.get("a") == ["1"]
    lru.put("c", ["3"])
    assert lru.get("b") is None
    assert lru.get("a") == ["1"]
    assert len(lru) == 2
    with pytest.raises(ValueError, match="max_entries must be at least 1, got 0"):
        MemoryLRU(0)


def test_disk_cache_round_trip_and_corrupt_files(tmp_path: Path) -> None:
    key = cache_key(ParaphraseRequest(text=SOURCE, n=3, placeholders=PH), "openai", "m", 1)
    cache = ResultCache(tmp_path / "c", memory=MemoryLRU())
    assert cache.get(key) is None
    assert not (tmp_path / "c").exists()  # nothing created until the first write
    cache.put(key, LINES)
    assert ResultCache(tmp_path / "c", memory=MemoryLRU()).get(key) == LINES
    (file,) = (tmp_path / "c").glob("*.json")
    file.write_text("{not json", encoding="utf-8")
    assert ResultCache(tmp_path / "c", memory=MemoryLRU()).get(key) is None
    file.write_text(json.dumps({"key": {"other": 1}, "paraphrases": ["x"]}), encoding="utf-8")
    assert ResultCache(tmp_path / "c", memory=MemoryLRU()).get(key) is None


def test_a_cache_that_cannot_write_does_not_fail(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    key = cache_key(ParaphraseRequest(text=SOURCE, n=3), "openai", "m", 1)
    cache = ResultCache(blocker / "sub", memory=MemoryLRU())
    cache.put(key, LINES)  # logs a warning
    assert cache.get(key) == LINES  # still in memory


def test_deadline() -> None:
    d = Deadline(0.05)
    assert 0 < d.remaining() <= 0.05
    time.sleep(0.06)
    assert d.expired
    assert d.remaining() == 0.0
    for bad in (0, -1, float("nan"), float("inf"), True, "1"):
        with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
            Deadline(bad)  # type: ignore[arg-type]
