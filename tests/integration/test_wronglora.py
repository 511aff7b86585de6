"""The wrong-LoRA kit against a real WebUI: ``python -m smoothie wrong-lora dataset`` over its HTTP API.

With A1111 the set is made with the tiny SDXL model (the WebUI starts on the tiny SD1 one, so the run switches
checkpoints and must switch back); Forge and reForge only load the SD1.5-shaped test checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import hosts
from tests.unit.wronglora_fakes import load_toml

N = 6


def _cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smoothie", "wrong-lora", *args],
        cwd=hosts.REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _role(webui: hosts.WebUI) -> tuple[str, str]:
    checkpoints = webui.models_by_role.checkpoints
    return ("sdxl", checkpoints["sdxl"]) if "sdxl" in checkpoints else ("sd1", checkpoints["sd1"])


def _files(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


@pytest.fixture(scope="module")
def made(webui: hosts.WebUI, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("wrong") / "set"
    _, name = _role(webui)
    before = webui.current_model()
    done = _cli(
        "dataset", "--api", webui.base_url, "--checkpoint", name, "--n", str(N), "--out", str(out),
        "--width", "64", "--height", "64", "--steps", "2", "--seed", "11",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # the user's checkpoint is loaded again (Forge loads lazily: its title gains " [hash]" once loaded)
    assert webui.current_model().split(" [")[0] == before.split(" [")[0]
    return out, done


def test_the_set_in_kohyas_layout(webui: hosts.WebUI, made: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, done = made
    role, name = _role(webui)
    folders = [p for p in (out / "img").iterdir() if p.is_dir()]
    assert [p.name for p in folders] == ["10_wrong"]
    images = sorted(folders[0].glob("*.png"))
    assert len(images) == N
    assert len({hashlib.sha256(p.read_bytes()).hexdigest() for p in images}) >= N - 1
    for image in images:
        assert "wrong" in image.with_suffix(".txt").read_text()
    config = load_toml((out / "dataset.toml").read_text())
    subsets = [s for d in config["datasets"] for s in d["subsets"]]
    assert [Path(s["image_dir"]) for s in subsets] == folders
    assert config["general"]["caption_extension"] == ".txt"
    script = (out / "train.sh").read_text()
    assert ("sdxl_train_network.py" if role == "sdxl" else "train_network.py") in script
    rows = [json.loads(line) for line in (out / "generations.jsonl").read_text().splitlines()]
    assert len(rows) == N
    assert len({r["prompt"] for r in rows}) >= 4
    assert all(r["negative_prompt"] and r["model"].endswith(name) for r in rows)
    assert [r["seed"] for r in rows] == [11 + i for i in range(N)]
    assert all(r["infotext"] and "Steps: 2" in r["infotext"] for r in rows)
    assert f"{N} images ({N} new)" in done.stdout


def test_the_same_command_again_changes_nothing(
    webui: hosts.WebUI, made: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    out, _ = made
    _, name = _role(webui)
    before = _files(out)
    done = _cli(
        "dataset", "--api", webui.base_url, "--checkpoint", name, "--n", str(N), "--out", str(out),
        "--width", "64", "--height", "64", "--steps", "2", "--seed", "11",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"{N} images (0 new)" in done.stdout
    assert _files(out) == before


@pytest.mark.parametrize("case", ["unreachable", "checkpoint", "n0", "inside"])
def test_bad_input_is_one_line_and_writes_nothing(webui: hosts.WebUI, tmp_path: Path, case: str) -> None:
    _, name = _role(webui)
    out = tmp_path / "set"
    api, n = webui.base_url, "6"
    if case == "unreachable":
        api = f"http://127.0.0.1:{hosts.free_port()}"
    elif case == "checkpoint":
        name = "no-such-model-v9"
    elif case == "n0":
        n = "0"
    else:
        out = webui.data_dir / "outputs" / "wrong-set"
    before = _files(webui.data_dir / "models")
    done = _cli("dataset", "--api", api, "--checkpoint", name, "--n", n, "--out", str(out), "--width", "64",
                "--height", "64", "--steps", "1")  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("smoothie: error: ")
    expected = {
        "unreachable": "cannot be reached",
        "checkpoint": "--checkpoint 'no-such-model-v9': the WebUI has no such checkpoint",
        "n0": "--n must be at least 1",
        "inside": "is inside the WebUI's own folders",
    }[case]
    assert expected in lines[0]
    assert not out.exists()
    assert _files(webui.data_dir / "models") == before


def test_the_tab_makes_a_set_with_the_loaded_model(webui: hosts.WebUI, tmp_path: Path) -> None:
    from tests.integration.test_tab import Tab

    if webui.kind.key != "a1111":
        pytest.skip(f"drives the tab through gradio 3.41's /run/predict (A1111); {webui.kind.label} runs gradio 4")
    tab = Tab(webui)
    for elem in ("out", "n", "trigger", "make", "train", "interrupt", "status", "gallery", "sd_scripts"):
        assert f"smoothie_wrong_{elem}" in tab.by_elem, elem
    loaded = webui.current_model()
    out = tmp_path / "tab-set"
    values = {
        "smoothie_wrong_out": str(out), "smoothie_wrong_n": 3, "smoothie_wrong_width": 64,
        "smoothie_wrong_height": 64, "smoothie_wrong_steps": 1, "smoothie_wrong_seed": 5,
    }  # fmt: skip
    status, gallery = tab.call("smoothie_wrong_make", values)
    assert "**3 images** (3 new)" in status, status
    assert loaded.split(" [")[0] in status
    assert len(gallery) == 3
    assert len(list((out / "img" / "10_wrong").glob("*.png"))) == 3
    rows = [json.loads(line) for line in (out / "generations.jsonl").read_text().splitlines()]
    assert [r["seed"] for r in rows] == [5, 6, 7]
    again, _ = tab.call("smoothie_wrong_make", values)
    assert "(0 new)" in again
    bad, _ = tab.call("smoothie_wrong_make", {**values, "smoothie_wrong_out": str(webui.data_dir / "models" / "x")})
    assert bad.startswith("**Cannot run:**") and "inside the WebUI's own folders" in bad
    (status,) = tab.call("smoothie_wrong_train", {"smoothie_wrong_out": str(out), "smoothie_wrong_sd_scripts": ""})
    assert status.startswith("**Cannot train:** --sd-scripts: no folder given")
