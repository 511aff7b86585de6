"""The optional spaCy pipeline (``smoothie/prompt/nlp.py``)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from smoothie.prompt.nlp import get_nlp

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or importlib.util.find_spec("spacy") is None,
    reason="needs spaCy and torch installed",
)
def test_a_command_line_start_does_not_import_torch_for_spacy() -> None:
    if get_nlp() is None:
        pytest.skip("no loadable spaCy English model in this environment")
    code = """
import sys
from smoothie.prompt.nlp import get_nlp
nlp = get_nlp()
assert nlp is not None, "spaCy model missing"
print([e.text for e in nlp("Tom Cruise visits Paris").ents], "torch" in sys.modules)
import torch  # still importable afterwards
print(float(torch.ones(2).sum()))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["['Tom Cruise', 'Paris'] False", "2.0"]
