"""What the LLM paraphrase backends share: instruction set, defensive parsing, results cache, HTTP client.

- :mod:`~smoothie.prompt.llm.instructions`: the "creativity" instructions (generate, smooth) and a plain
  prompt for models without a chat template;
- :mod:`~smoothie.prompt.llm.parse`: any answer text → clean candidate lines;
- :mod:`~smoothie.prompt.llm.pipeline`: generate, parse, recursive smoothing, over any chat model;
- :mod:`~smoothie.prompt.llm.http`: an OpenAI-compatible client with a hard total deadline;
- :mod:`~smoothie.prompt.llm.cache`: results per (prompt, backend, model, N, seed, rounds), memory and disk;
- :mod:`~smoothie.prompt.llm.errors`: :class:`BackendUnavailable`, the one error the backends raise.

The backends themselves are :mod:`smoothie.prompt.backends.openai` and :mod:`smoothie.prompt.backends.transformers`.
Everything here is standard library; torch and transformers are imported only when a local model loads.
"""

from __future__ import annotations

from smoothie.prompt.llm.errors import BackendUnavailable

__all__ = ["BackendUnavailable"]
