"""The one error an LLM backend raises when it cannot answer (the engine then falls back to ``rules``)."""

from __future__ import annotations


class BackendUnavailable(RuntimeError):  # noqa: N818 (the name the engine's contract uses)
    """An LLM backend could not produce paraphrases: timeout, connection refused, HTTP error, garbage, refusal.

    The message says which server or model, what happened and, where it helps, what to check. The prompt
    engine catches it (and any other exception from a backend), warns once and answers with ``rules``.
    """
