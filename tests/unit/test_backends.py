"""The backend registry: built once per options, closed when the options change and where a run ends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from smoothie.prompt import backends
from smoothie.prompt.backends import ParaphraseRequest, get_backend, register_backend, release_backends


class _Model:
    """A backend that records whether it was closed (a stand-in for a loaded language model)."""

    name = "recording"
    built: list[_Model] = []  # noqa: RUF012

    def __init__(self, model: str = "a", fail_close: bool = False) -> None:
        self.model, self.fail_close, self.closed = model, fail_close, False
        _Model.built.append(self)

    def paraphrase(self, request: ParaphraseRequest) -> list[str]:
        return [f"{request.text} ({self.model})"]

    def close(self) -> None:
        self.closed = True
        if self.fail_close:
            raise RuntimeError("the device went away")


@pytest.fixture
def recording() -> Iterator[type[_Model]]:
    register_backend("recording", _Model)
    _Model.built.clear()
    yield _Model
    release_backends()
    backends._FACTORIES.pop("recording", None)


def test_a_backend_is_built_once_per_options(recording: Any) -> None:
    first = get_backend("recording", model="a")
    assert get_backend("recording", model="a") is first
    assert len(recording.built) == 1


def test_other_options_close_the_old_model(recording: Any) -> None:
    first = get_backend("recording", model="a")
    second = get_backend("recording", model="b")
    assert first.closed and not second.closed  # switching models never keeps two in memory
    assert get_backend("rules") is not None  # other backends are untouched


def test_release_closes_everything_and_survives_a_failing_close(recording: Any) -> None:
    broken = get_backend("recording", fail_close=True)
    release_backends()
    assert broken.closed
    again = get_backend("recording", fail_close=True)
    assert again is not broken  # built anew after a release


def test_the_rewrite_cli_releases_its_backends_when_it_ends(recording: Any, capsys: Any) -> None:
    from smoothie.cli import main

    assert main(["rewrite", "--n", "2", "--backend", "recording", "a cat on a roof"]) == 0
    assert recording.built and all(m.closed for m in recording.built)
    assert "a cat on a roof" in capsys.readouterr().out
