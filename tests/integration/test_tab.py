"""The ``Smoothie Dataset`` tab in a real A1111: it loads, and its buttons run the pipeline over HTTP.

The tab's events are called the way the browser calls them (gradio 3.41's ``/run/predict`` with the
event's ``fn_index`` from ``/config``), so this exercises the same handlers as a click.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests import a1111
from tests.unit.test_dataset_folder import build_folder, tree_digest


class Tab:
    """The tab's components and events, read from the WebUI's gradio config."""

    def __init__(self, webui: a1111.WebUI) -> None:
        self.webui = webui
        self.config = webui.get("/config")
        self.components = {c["id"]: c for c in self.config["components"]}
        self.by_elem = {c.get("props", {}).get("elem_id"): c["id"] for c in self.config["components"]}

    def event(self, elem_id: str, trigger: str = "click") -> tuple[int, dict[str, Any]]:
        target = self.by_elem[elem_id]
        for index, dep in enumerate(self.config["dependencies"]):
            targets = [t if isinstance(t, int) else t[0] for t in dep["targets"]]
            if target in targets and dep.get("trigger") == trigger:
                return index, dep
        raise AssertionError(f"no {trigger} event on #{elem_id}")

    def call(self, elem_id: str, values: dict[str, Any], trigger: str = "click") -> list[Any]:
        """Fire the event with every input at its default value except ``values`` (by elem_id)."""
        index, dep = self.event(elem_id, trigger)
        data = []
        for cid in dep["inputs"]:
            props = self.components[cid].get("props", {})
            data.append(values.get(props.get("elem_id"), props.get("value")))
        body = {"fn_index": index, "data": data, "session_hash": "smoothie-test"}
        answer = self.webui.post("/run/predict", body, timeout=900)
        return list(answer["data"])


@pytest.fixture(scope="module")
def tab(webui: a1111.WebUI) -> Tab:
    tab = Tab(webui)
    version = str(tab.config.get("version", ""))
    if not version.startswith("3."):
        pytest.skip(f"drives the tab through gradio 3's /run/predict; {webui.kind.label} runs gradio {version}")
    return tab


def test_the_tab_is_there_with_its_stages(tab: Tab) -> None:
    tabs = [c for c in tab.config["components"] if c["type"] == "tabitem"]
    assert any(c["props"].get("label") == "Smoothie Dataset" for c in tabs)
    for elem in ("input", "output", "run", "interrupt", "gallery", "caption", "cooc", "dir", "crop", "size"):
        assert f"smoothie_dataset_{elem}" in tab.by_elem, elem
    labels = {c["props"].get("label") for c in tab.config["components"] if c["type"] == "accordion"}
    assert {"1 · Quality", "2 · Analysis", "3 · Captions", "4 · Direction and crops"} <= labels
    log = tab.webui.log()
    assert "smoothie_tab.py" not in "".join(re.findall(r"Error loading script: (\S+)", log))


def test_running_the_tab_prepares_the_folder(tab: Tab, tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "out"
    build_folder(src)
    before = tree_digest(src)
    status, gallery, cooc, summary, _state = tab.call(
        "smoothie_dataset_run",
        {"smoothie_dataset_input": str(src), "smoothie_dataset_output": str(dst), "smoothie_dataset_dir": "left"},
    )
    assert "images kept" in status, status
    assert tree_digest(src) == before
    report = json.loads((dst / "report.json").read_text(encoding="utf-8"))
    assert len(report["images"]) == len(before) - 5  # five caption sidecars are not images
    assert summary["counts"]["kept"] == sum(e["status"] == "kept" for e in report["images"])
    assert len(gallery) == len(report["images"])  # before/after tiles (the State output stays server-side)
    assert cooc  # the co-occurrence picture (a file reference or a data URL, as gradio sends it)
    by = {e["source"]: e for e in report["images"]}
    # A clear profile (the photographer at his camera) and its mirror face opposite ways; the astronaut looks
    # straight at the camera (MediaPipe's face mesh: within 1 degree of frontal; Haar, where MediaPipe cannot run,
    # calls her left or right): either way her mirror image is read as the mirror of her direction.
    assert {by["camera.png"]["direction"], by["camera_mirror.png"]["direction"]} == {"left", "right"}
    mirrored = {"left": "right", "right": "left", "frontal": "frontal", "unknown": "unknown"}
    astronaut = by["astronaut.png"]["direction"]
    assert by["astronaut_mirror.png"]["direction"] == mirrored.get(astronaut, "?"), astronaut
    assert by["bomb.png"]["reason"].startswith("decompression bomb refused")

    # Edit one caption from the tab: the .txt, the metadata and the report follow, and a re-run keeps it.
    source = next(e["source"] for e in report["images"] if e["status"] == "kept")
    (message,) = tab.call(
        "smoothie_dataset_save_caption",
        {"smoothie_dataset_output": str(dst), "smoothie_dataset_caption": "a hand-written caption"},
    )
    assert "Select an image" in message  # nothing selected: the selected-image box is empty
    index, dep = tab.event("smoothie_dataset_save_caption")
    body = {"fn_index": index, "data": [str(dst), source, "a hand-written caption"], "session_hash": "x"}
    assert len(dep["inputs"]) == 3
    (message,) = tab.webui.post("/run/predict", body)["data"]
    assert "saved" in message, message
    output = next(e["output"] for e in report["images"] if e["source"] == source)
    assert (dst / output).with_suffix(".txt").read_text(encoding="utf-8") == "a hand-written caption\n"
    tab.call("smoothie_dataset_run", {"smoothie_dataset_input": str(src), "smoothie_dataset_output": str(dst)})
    again = {e["source"]: e for e in json.loads((dst / "report.json").read_text(encoding="utf-8"))["images"]}
    assert again[source]["caption"] == "a hand-written caption"


def test_bad_folders_are_refused_in_the_tab(tab: Tab, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("x")
    status, gallery, *_ = tab.call(
        "smoothie_dataset_run", {"smoothie_dataset_input": str(src), "smoothie_dataset_output": str(src / "out")}
    )
    assert "inside the input folder" in status
    assert gallery == []
    assert not (src / "out").exists()


@pytest.mark.parametrize("interrogator", ["BLIP caption (A1111)", "DeepBooru tags (A1111)"])
def test_an_a1111_interrogator_that_cannot_load_is_reported_once(tab: Tab, tmp_path: Path, interrogator: str) -> None:
    # Offline, A1111 cannot download BLIP or DeepBooru: the tab says so by name and the WebUI carries on.
    src = tmp_path / "in"
    build_folder(src)
    status, gallery, *_ = tab.call(
        "smoothie_dataset_run",
        {
            "smoothie_dataset_input": str(src),
            "smoothie_dataset_output": str(tmp_path / "out"),
            "smoothie_dataset_interrogators": [interrogator],
        },
    )
    assert status.startswith("**Cannot run:**") and "could not be loaded" in status, status
    assert gallery == []
    assert tab.webui.alive()
    assert tab.webui.get("/sdapi/v1/progress")["state"]["job_count"] == 0  # shared.state was ended
