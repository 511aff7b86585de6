"""What the LLM paraphrase backends share: instruction set, defensive parsing, results cache, HTTP client.

- :mod:`~smoothie.prompt.llm.instructions`: the instruction set (for a 135M model and a 70B one alike) and a
  plain prompt for models without a chat template;
- :mod:`~smoothie.prompt.llm.parse`: any answer text → clean candidate lines (copies and stories dropped);
- :mod:`~smoothie.prompt.llm.pipeline`: ask, parse, judge with the engine's validator, recursive smoothing
  with the best round's lines as examples, over any chat model;
- :mod:`~smoothie.prompt.llm.gguf`: GGUF model files, read natively or converted once for old transformers;
- :mod:`~smoothie.prompt.llm.local`: the local model of the WebUI's Settings (recommended ids, download);
- :mod:`~smoothie.prompt.llm.stats`: running tallies per backend (asked, accepted, dropped and rejected why);
- :mod:`~smoothie.prompt.llm.http`: an OpenAI-compatible client with a hard total deadline;
- :mod:`~smoothie.prompt.llm.cache`: results per (prompt, backend, model, N, seed, rounds), memory and disk;
- :mod:`~smoothie.prompt.llm.errors`: :class:`BackendUnavailable`, the one error the backends raise.

The backends themselves are :mod:`smoothie.prompt.backends.openai`, :mod:`smoothie.prompt.backends.transformers`
and :mod:`smoothie.prompt.backends.auto` (the first of them this machine has).
Everything here is standard library; torch, transformers and gguf are imported only when a local model loads.
"""

from __future__ import annotations

from smoothie.prompt.llm.errors import BackendUnavailable

__all__ = ["BackendUnavailable"]
