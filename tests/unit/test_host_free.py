"""The core imports neither A1111's ``modules`` nor ``gradio``, and importing it does no heavy work."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("modules", "gradio"):
                raise ImportError(f"the core must not import {name}")
            return None

    sys.meta_path.insert(0, Block())
    """
)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _BLOCKER + textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_core_module_imports_without_host():
    result = _run(
        """
        import importlib, pkgutil, smoothie
        bad = []
        for info in pkgutil.walk_packages(smoothie.__path__, "smoothie."):
            if info.name.startswith("smoothie.webui") or info.name == "smoothie.__main__":
                continue
            try:
                importlib.import_module(info.name)
            except ImportError as exc:
                if "must not import" in str(exc):
                    bad.append(f"{info.name}: {exc}")
        print("\\n".join(bad))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_guidance_lora_params_import_no_torch():
    result = _run(
        """
        import sys
        import smoothie.guidance, smoothie.lora, smoothie.params
        heavy = [m for m in ("torch", "safetensors", "spacy", "cv2") if m in sys.modules]
        print(heavy)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
