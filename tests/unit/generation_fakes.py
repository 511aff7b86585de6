"""Fakes of what a host hands the run plan: a text encoder, its prompt syntax, and a paraphraser.

The encoder is deterministic and distinct per text; a text of more than ``CHUNK_WORDS`` words encodes to two
75-token chunks (as A1111 does past 75 tokens), so padding is exercised. The syntax reads ``AND`` parts with a
trailing ``:w`` weight and one level of ``[a:b:n]`` prompt editing — enough of A1111's grammar for these
tests (the real ``prompt_parser`` is used by the host suites).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import torch

from smoothie.prompt import Rewrite

TOKENS = 77
CHUNK_WORDS = 12


def _seed(text: str, salt: str = "") -> int:
    return int.from_bytes(hashlib.sha256((salt + text).encode()).digest()[:4], "little")


class FakeEncoder:
    """A text → conditioning map: SD1 ``[N, T, C]`` tensors, SDXL dicts, or Flux dicts with ``guidance``."""

    def __init__(self, kind: str = "sd1", channels: int = 8, vector: int = 6, guidance: float = 3.5):
        self.kind = kind
        self.channels = channels
        self.vector_size = vector
        self.guidance = guidance
        self.calls: list[list[str]] = []
        self.empty_calls = 0

    def chunks(self, text: str) -> int:
        return 2 if len(text.split()) > CHUNK_WORDS else 1

    def cross(self, text: str) -> torch.Tensor:
        gen = torch.Generator().manual_seed(_seed(text))
        first = torch.randn(TOKENS, self.channels, generator=gen)
        if self.chunks(text) == 1:
            return first
        return torch.cat([first, torch.randn(TOKENS, self.channels, generator=gen)])

    def vector(self, text: str) -> torch.Tensor:
        gen = torch.Generator().manual_seed(_seed(text, "vector"))
        return torch.randn(self.vector_size, generator=gen)

    def encode(self, texts: Sequence[str]):
        texts = list(texts)
        self.calls.append(texts)
        lengths = {self.chunks(t) for t in texts}
        crosses = [self.cross(t) for t in texts]
        if len(lengths) > 1:  # a host pads a batch to one chunk count with the empty chunk, as A1111 does
            longest = max(c.shape[0] for c in crosses)
            pad = self.cross("")
            crosses = [torch.cat([c, pad.repeat((longest - c.shape[0]) // TOKENS, 1)]) for c in crosses]
        cross = torch.stack(crosses)
        if self.kind == "sd1":
            return cross
        out = {"crossattn": cross, "vector": torch.stack([self.vector(t) for t in texts])}
        if self.kind == "flux":
            out["guidance"] = torch.full((len(texts),), self.guidance)
        return out

    def empty(self) -> torch.Tensor:
        self.empty_calls += 1
        return self.cross("")[None]

    def padded(self, text: str, chunks: int) -> torch.Tensor:
        """``text``'s cross-attention padded to ``chunks`` chunks with the empty prompt's encoding."""
        c = self.cross(text)
        missing = chunks - c.shape[0] // TOKENS
        return torch.cat([c, self.cross("").repeat(missing, 1)]) if missing else c


_AND = re.compile(r"\bAND\b")
_WEIGHT = re.compile(r"^(.*?)(?:\s*:\s*([-+]?(?:\d+\.?|\d*\.\d+)))?\s*$", re.S)
_EDIT = re.compile(r"\[([^\[\]:]*):([^\[\]:]*):(\d+)\]")


class FakeSyntax:
    """``AND`` parts with ``:w`` weights, and one level of ``[a:b:n]`` editing at step n."""

    def __init__(self) -> None:
        self.hires_steps_seen: list[int | None] = []

    def split_and(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        out = []
        for text in texts:
            parts = []
            for part in _AND.split(text):
                m = _WEIGHT.match(part)
                assert m is not None
                parts.append((m.group(1).strip(), float(m.group(2)) if m.group(2) else 1.0))
            out.append(parts)
        return out

    def schedules(self, texts: Sequence[str], steps: int, hires_steps: int | None) -> list[list[tuple[int, str]]]:
        self.hires_steps_seen.append(hires_steps)
        total = hires_steps or steps
        out = []
        for text in texts:
            m = _EDIT.search(text)
            if m is None:
                out.append([(total, text)])
                continue
            at = int(m.group(3))
            before = text[: m.start()] + m.group(1) + text[m.end() :]
            after = text[: m.start()] + m.group(2) + text[m.end() :]
            out.append([(at, before), (total, after)])
        return out


class FakeParaphraser:
    """``n`` paraphrases that keep the prompt's AND/weight/editing structure: each part gets a ``vK`` prefix.

    Paraphrases from number ``long_from`` on are long enough for a second token chunk.
    """

    def __init__(self, n: int, long_from: int | None = None):
        self.n = n
        self.long_from = long_from
        self.calls: list[str] = []

    def paraphrase(self, prompt: str, k: int) -> str:
        long = self.long_from is not None and k >= self.long_from
        extra = " with very many more words to fill a chunk" if long else ""
        parts = []
        for part in _AND.split(prompt):
            m = _WEIGHT.match(part)
            assert m is not None
            weight = f" :{m.group(2)}" if m.group(2) else ""
            parts.append(f"v{k} {m.group(1).strip()}{extra}{weight}")
        return " AND ".join(parts)

    def __call__(self, prompt: str) -> Rewrite:
        self.calls.append(prompt)
        if not prompt.strip():
            raise ValueError("prompt is empty")
        paras = tuple(self.paraphrase(prompt, k) for k in range(self.n))
        return Rewrite(prompt, f"generic {prompt}", (), paras, "fake", ())
