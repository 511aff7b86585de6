"""The local model of Settings (smoothie.prompt.llm.local): what is offered, options, download, offloading."""

from __future__ import annotations

from pathlib import Path

import pytest

from smoothie.prompt.backends import get_backend, offload_backends, release_backends
from smoothie.prompt.llm import local
from smoothie.prompt.llm.errors import BackendUnavailable


def test_the_recommended_models_start_with_one_every_host_runs() -> None:
    first = local.RECOMMENDED[0]
    assert first.model_id == local.DEFAULT_RECOMMENDED == "HuggingFaceTB/SmolLM2-1.7B-Instruct"
    assert first.min_transformers <= (4, 30)  # A1111 1.10 pins transformers 4.30.2
    assert all(local.is_hub_id(r.model_id) for r in local.RECOMMENDED)


def test_hub_ids_files_and_folders(tmp_path: Path) -> None:
    assert local.is_hub_id("Qwen/Qwen2.5-1.5B-Instruct")
    assert not local.is_hub_id(str(tmp_path / "model.gguf"))
    assert not local.is_hub_id("just-a-name")
    (tmp_path / "org" / "name").mkdir(parents=True)
    assert not local.is_hub_id(str(tmp_path / "org" / "name"))


def test_backend_options_from_settings() -> None:
    assert local.backend_options("", "auto") == {}
    assert local.backend_options(" org/m ", "auto") == {"local_model": "org/m"}
    assert local.backend_options("org/m", "cuda") == {"local_model": "org/m", "device": "cuda"}


def test_a_local_file_needs_no_download(tmp_path: Path) -> None:
    file = tmp_path / "m.gguf"
    file.write_bytes(b"GGUF")
    assert local.download(str(file)) == str(file)
    assert local.cached(str(file))
    assert not local.cached(str(tmp_path / "missing.gguf"))


def test_a_download_that_cannot_happen_says_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert not local.cached("smoothie-tests/no-such-model")
    with pytest.raises(BackendUnavailable, match="cannot download smoothie-tests/no-such-model"):
        local.download("smoothie-tests/no-such-model", progress=lambda fraction, text: None)


def test_offloading_moves_only_models_that_can_move() -> None:
    release_backends()

    class OnGpu:
        name = "fake-gpu"

        def __init__(self) -> None:
            self.moved = 0

        def offload(self) -> bool:
            self.moved += 1
            return True

        def paraphrase(self, request: object) -> list[str]:
            return []

    from smoothie.prompt.backends import register_backend

    register_backend("fake-gpu", OnGpu)
    try:
        gpu = get_backend("fake-gpu")
        get_backend("rules")  # no offload(): left alone
        assert offload_backends() == 1
        assert gpu.moved == 1  # type: ignore[attr-defined]
    finally:
        release_backends()
        from smoothie.prompt.backends import _FACTORIES

        _FACTORIES.pop("fake-gpu", None)
