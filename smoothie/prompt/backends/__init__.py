"""Paraphrase backends and their registry.

A backend turns one *protected* prompt into candidate paraphrases. Protected means every piece of WebUI
syntax (weights, ``<lora:…>``, ``[a:b:n]``, wildcards, ``BREAK``, ``AND`` and its ``:weight``) has been
replaced by a placeholder ``[[k]]`` (see :mod:`smoothie.prompt.protect`). A backend must keep every
placeholder; the engine re-checks, re-inserts what an unreliable backend dropped, genericises any name a
backend introduced, drops duplicates and tops the ensemble up with the ``rules`` backend, so a backend
may return fewer, more, or imperfect candidates.

Backends register a factory under a name; :func:`get_backend` builds one from keyword options (for
example ``base_url``, ``model``, ``timeout`` for an LLM backend). Built backends are cached by options, so
a model is loaded once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from smoothie.prompt.request import Backend, ParaphraseRequest, Style

__all__ = [
    "Backend",
    "BackendFactory",
    "ParaphraseRequest",
    "Style",
    "available_backends",
    "backend_parameters",
    "get_backend",
    "offload_backends",
    "register_backend",
    "release_backends",
    "seed_examples",
]

BackendFactory = Callable[..., Backend]

_FACTORIES: dict[str, BackendFactory] = {}
_BUILT: dict[tuple[str, tuple[tuple[str, Any], ...]], Backend] = {}
_LOCK = threading.Lock()


def register_backend(name: str, factory: BackendFactory) -> None:
    """Make ``factory(**options)`` available as backend ``name`` (idempotent for the same factory)."""
    _FACTORIES[name] = factory


def available_backends() -> list[str]:
    _ensure_builtin()
    return sorted(_FACTORIES)


def backend_parameters(name: str) -> frozenset[str] | None:
    """The option names backend ``name`` accepts, or None when its factory takes any (``**options``)."""
    import inspect

    _ensure_builtin()
    if name not in _FACTORIES:
        raise ValueError(f"unknown paraphrase backend {name!r}; known backends: {', '.join(sorted(_FACTORIES))}")
    params = inspect.signature(_FACTORIES[name]).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return frozenset(p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))


def get_backend(name: str, **options: Any) -> Backend:
    """Build (once per distinct options) and return backend ``name``.

    Raises ``ValueError`` naming the backend and the known ones when ``name`` is unknown.
    """
    _ensure_builtin()
    if name not in _FACTORIES:
        raise ValueError(f"unknown paraphrase backend {name!r}; known backends: {', '.join(sorted(_FACTORIES))}")
    key = (name, tuple(sorted((k, repr(v)) for k, v in options.items())))
    with _LOCK:
        if key not in _BUILT:
            # the same backend with other options (the user picked another model): the old one is closed, so
            # switching models in the Settings never keeps two of them in memory
            for stale in [k for k in _BUILT if k[0] == name]:
                _close(_BUILT.pop(stale))
            _BUILT[key] = _FACTORIES[name](**options)
        return _BUILT[key]


def release_backends() -> None:
    """Close and forget every built backend: an LLM backend frees its model (and its GPU memory); the next
    request builds it again. Called where a run ends: the ``rewrite`` CLI, and the WebUI after each job."""
    with _LOCK:
        for backend in _BUILT.values():
            _close(backend)
        _BUILT.clear()


def _close(backend: Backend) -> None:
    close = getattr(backend, "close", None)
    if callable(close):
        try:
            close()
        except Exception as exc:  # freeing memory must never fail a run
            import logging

            logging.getLogger(__name__).warning("closing backend %r failed: %s", getattr(backend, "name", backend), exc)


def offload_backends() -> int:
    """Move every built model off the GPU (``offload()``), so the host's sampling has the memory; the next
    request moves it back. Returns how many moved."""
    with _LOCK:
        built = list(_BUILT.values())
    moved = 0
    for backend in built:
        offload = getattr(backend, "offload", None)
        if callable(offload):
            try:
                moved += bool(offload())
            except Exception as exc:  # never fatal: the host samples anyway
                import logging

                logging.getLogger(__name__).warning("could not move %s off the GPU: %s", backend.name, exc)
    return moved


def seed_examples(request: ParaphraseRequest, count: int = 8) -> list[str]:
    """Up to ``count`` paraphrases of the rules backend that pass ``request.check``: the examples an LLM
    backend shows in its first round (never fatal: any failure gives none)."""
    import dataclasses
    import logging

    try:
        lines = get_backend("rules").paraphrase(dataclasses.replace(request, n=max(count * 2, count)))
    except Exception as exc:
        logging.getLogger(__name__).debug("no rules examples for the LLM: %s", exc)
        return []
    return [line for line in lines if not request.reasons(line)][:count]


_BUILTIN_MODULES = ("smoothie.prompt.backends.rules",)
_OPTIONAL_MODULES = (
    "smoothie.prompt.backends.openai",
    "smoothie.prompt.backends.transformers",
    "smoothie.prompt.backends.auto",
)


def _ensure_builtin() -> None:
    import importlib
    import importlib.util

    for module in _BUILTIN_MODULES:
        importlib.import_module(module)
    for module in _OPTIONAL_MODULES:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
