"""Making the wrong-LoRA set (smoothie.wronglora.dataset) against a loopback fake of the WebUI's API."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from smoothie.wronglora.api import WebUIClient
from smoothie.wronglora.backend import HttpBackend
from smoothie.wronglora.dataset import (
    MANIFEST,
    DatasetRequest,
    KitError,
    RunInterruptedError,
    make_dataset,
    read_manifest,
)
from tests.unit.wronglora_fakes import FakeState, fake_webui, load_toml, webui_state


@pytest.fixture
def state(tmp_path: Path) -> FakeState:
    return webui_state(tmp_path)


def _run(url: str, out: Path, n: int = 6, **kwargs):
    request = DatasetRequest(
        out=out, n=n, **{"checkpoint": "tiny-sdxl", "width": 64, "height": 64, "steps": 2, "seed": 7, **kwargs}
    )
    return make_dataset(request, HttpBackend(WebUIClient(url)))


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


def test_a_set_in_kohyas_layout(tmp_path, state):
    out = tmp_path / "wrong-set"
    with fake_webui(state) as url:
        result = _run(url, out)
    images = sorted((out / "img" / "10_wrong").glob("*.png"))
    assert [p.name for p in images] == [f"wrong_{i:05d}.png" for i in range(6)]
    assert len({p.read_bytes() for p in images}) == 6
    for image in images:
        assert image.with_suffix(".txt").read_text() == "wrong\n"
    rows = [json.loads(line) for line in (out / "generations.jsonl").read_text().splitlines()]
    assert [r["index"] for r in rows] == list(range(6))
    assert len({r["prompt"] for r in rows}) == 6
    assert all(r["checkpoint"].startswith("tiny-sdxl.safetensors") and r["model"] == "tiny-sdxl" for r in rows)
    assert [r["seed"] for r in rows] == [7 + i for i in range(6)]
    assert all(r["negative_prompt"] and r["steps"] == 2 and r["width"] == 64 and r["infotext"] for r in rows)
    config = load_toml((out / "dataset.toml").read_text())
    subsets = config["datasets"][0]["subsets"]
    assert [Path(s["image_dir"]) for s in subsets] == [out / "img" / "10_wrong"]
    assert subsets[0]["num_repeats"] == 10
    assert subsets[0]["caption_extension"] == ".txt"
    script = (out / "train.sh").read_text()
    assert "sdxl_train_network.py" in script
    assert "--dataset_config=" + str(out / "dataset.toml") in script
    assert os.access(out / "train.sh", os.X_OK)
    assert result.made == 6
    assert result.kept == 0
    assert result.plan is not None
    assert result.plan.script == "sdxl_train_network.py"
    # the WebUI was switched to tiny-sdxl for the run and back to the user's model after it
    assert state.current.startswith("tiny-sd1")
    payloads = [body for method, path, body in state.requests if path == "/sdapi/v1/txt2img"]
    assert all(p["override_settings"] == {"sd_model_checkpoint": state.models[1]["title"]} for p in payloads)
    assert ("POST", "/sdapi/v1/options", {"sd_model_checkpoint": state.models[0]["title"]}) in state.requests


def test_the_same_command_again_writes_nothing(tmp_path, state):
    out = tmp_path / "set"
    with fake_webui(state) as url:
        _run(url, out)
        before = _snapshot(out)
        calls = state.txt2img_calls
        again = _run(url, out)
    assert state.txt2img_calls == calls
    assert again.made == 0
    assert again.kept == 6
    assert _snapshot(out) == before


def test_an_interrupted_run_resumes(tmp_path, state):
    out = tmp_path / "set"
    asked = []

    def stop_after_three() -> bool:
        asked.append(1)
        return len(asked) > 5  # checked before and after each image

    with fake_webui(state) as url:
        request = DatasetRequest(out=out, n=6, checkpoint="tiny-sdxl", width=64, height=64, steps=2, seed=3)
        with pytest.raises(RunInterruptedError, match="stopped after 2 of 6"):
            make_dataset(request, HttpBackend(WebUIClient(url)), should_stop=stop_after_three)
        made = sorted(p.name for p in (out / "img" / "10_wrong").iterdir())
        assert made == ["wrong_00000.png", "wrong_00000.txt", "wrong_00001.png", "wrong_00001.txt"]
        assert len((out / "generations.jsonl").read_text().splitlines()) == 2
        assert not (out / "dataset.toml").exists()  # written once the set is complete
        assert not list((out / ".smoothie" / "tmp").iterdir())
        result = make_dataset(request, HttpBackend(WebUIClient(url)))
    assert result.made == 4
    assert result.kept == 2
    assert len((out / "generations.jsonl").read_text().splitlines()) == 6
    assert state.txt2img_calls == 3 + 4  # the third image was generated but discarded when the stop came


def test_a_server_error_mid_run_keeps_what_was_made(tmp_path, state):
    out = tmp_path / "set"
    state.fail_on_call = 4
    with fake_webui(state) as url:
        with pytest.raises(KitError, match=r"image 4 of 6: .*HTTP 500: CUDA out of memory"):
            _run(url, out)
        assert len(list((out / "img" / "10_wrong").glob("*.png"))) == 3
        assert read_manifest(out)["images"].keys() == {"0", "1", "2"}
        result = _run(url, out)
    assert result.made == 3
    assert len(list((out / "img" / "10_wrong").glob("*.png"))) == 6


def test_a_failure_before_the_first_image_leaves_nothing(tmp_path, state):
    out = tmp_path / "new"
    state.fail_on_call = 1
    with fake_webui(state) as url, pytest.raises(KitError, match="image 1 of 6"):
        _run(url, out)
    assert not out.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, r"--n must be at least 1, got 0"),
        ({"n": -3}, r"--n must be at least 1, got -3"),
        (
            {"checkpoint": "sd15-missing"},
            r"--checkpoint 'sd15-missing': the WebUI has no such checkpoint \(it has 'tiny-sd1",
        ),
        ({"trigger": "two words"}, r"--trigger 'two words'"),
        ({"width": 65}, r"--width must be a multiple of 8"),
        ({"steps": 0}, r"--steps must be from 1 to 150"),
        ({"arch": "flux"}, r"--arch 'flux'"),
    ],
)
def test_bad_input_is_one_message_and_writes_nothing(tmp_path, state, kwargs, message):
    out = tmp_path / "out"
    n = kwargs.pop("n", 6)
    with fake_webui(state) as url, pytest.raises(KitError, match=message):
        _run(url, out, n=n, **kwargs)
    assert not out.exists()
    assert state.txt2img_calls == 0


def test_an_unreachable_api(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(KitError, match=r"the WebUI API at http://127.0.0.1:9 cannot be reached"):
        _run("http://127.0.0.1:9", out)
    assert not out.exists()


def test_a_webui_without_api(tmp_path, state):
    state.no_api = True
    with fake_webui(state) as url, pytest.raises(KitError, match=r"start the WebUI with --api"):
        _run(url, tmp_path / "out")


@pytest.mark.parametrize("where", ["models/Lora/wrong", "models", "outputs/wrong", "."])
def test_an_output_inside_the_webuis_folders_is_refused(tmp_path, state, where):
    out = tmp_path / "webui" / where
    before = _snapshot(tmp_path / "webui")
    with fake_webui(state) as url, pytest.raises(KitError, match="is inside the WebUI's own folders"):
        _run(url, out)
    assert _snapshot(tmp_path / "webui") == before
    assert state.txt2img_calls == 0


@pytest.mark.parametrize("where", ["models/Lora/wrong", "outputs/wrong", "."])
def test_without_cmd_flags_the_folders_come_from_the_listed_files(tmp_path, state, where):
    """Forge started with --port answers cmd-flags with HTTP 500: its checkpoints' and LoRAs' files still tell
    where its models and data are."""
    state.broken_cmd_flags = True
    (tmp_path / "webui" / "config.json").write_text("{}")
    lora = tmp_path / "webui" / "models" / "Lora" / "styles" / "x.safetensors"
    state.loras = [{"name": "x", "alias": "x", "path": str(lora), "metadata": {}}]
    out = tmp_path / "webui" / where
    before = _snapshot(tmp_path / "webui")
    with fake_webui(state) as url, pytest.raises(KitError, match="is inside the WebUI's own folders"):
        _run(url, out)
    assert _snapshot(tmp_path / "webui") == before
    assert state.txt2img_calls == 0


def test_folders_from_files(tmp_path):
    from smoothie.wronglora.backend import folders_from_files

    d = tmp_path / "d"
    ckpts = [str(d / "models/Stable-diffusion/a.safetensors"), str(d / "models/Stable-diffusion/sdxl/b.ckpt")]
    found = folders_from_files([*ckpts, "", "rel.ckpt"], ["/loras/x.safetensors"])
    assert found == {
        "ckpt_dir": d / "models/Stable-diffusion",
        "ckpt_dir_1": d / "models/Stable-diffusion/sdxl",
        "models_dir": d / "models",
        "lora_dir": Path("/loras"),
    }  # no data folder: d holds nothing of a WebUI's (a shared models folder given by --ckpt-dir, say)
    d.mkdir()
    (d / "config.json").write_text("{}")
    assert folders_from_files(ckpts, [])["data_dir"] == d
    assert folders_from_files([], []) == {}


def test_an_output_holding_the_webui_is_refused(tmp_path, state):
    with fake_webui(state) as url, pytest.raises(KitError, match="contains the WebUI's folder"):
        _run(url, tmp_path)


def test_a_folder_of_other_files_is_refused_unless_forced(tmp_path, state):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with fake_webui(state) as url:
        with pytest.raises(KitError, match=r"is not empty \('notes.txt'"):
            _run(url, out)
        assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
        _run(url, out, force=True)
    assert (out / "notes.txt").read_text() == "mine"


def test_a_users_file_at_an_output_path_is_never_overwritten(tmp_path, state):
    out = tmp_path / "set"
    with fake_webui(state) as url:
        _run(url, out, n=2)
        (out / "img" / "10_wrong" / "wrong_00001.png").write_bytes(b"my own picture")
        with pytest.raises(Exception, match="was not written by Smoothie"):
            _run(url, out, n=2, seed=7)  # image 1 looks missing (changed): regenerating it would overwrite it
    assert (out / "img" / "10_wrong" / "wrong_00001.png").read_bytes() == b"my own picture"


def test_other_settings_do_not_continue_a_set(tmp_path, state):
    out = tmp_path / "set"
    with fake_webui(state) as url:
        _run(url, out, n=2)
        with pytest.raises(KitError, match=r"other settings \(seed 7, not 8\)"):
            _run(url, out, n=2, seed=8)
        with pytest.raises(KitError, match=r"checkpoint 'tiny-sdxl.safetensors \[.*\]', not 'tiny-sd1"):
            _run(url, out, n=2, checkpoint="tiny-sd1")


def test_more_and_fewer_images(tmp_path, state):
    out = tmp_path / "set"
    with fake_webui(state) as url:
        _run(url, out, n=3)
        first = (out / "img" / "10_wrong" / "wrong_00000.png").read_bytes()
        more = _run(url, out, n=5)
        assert more.made == 2
        assert (out / "img" / "10_wrong" / "wrong_00000.png").read_bytes() == first  # the plan is per image
        fewer = _run(url, out, n=2)
    assert fewer.removed == 6  # 3 images and their captions
    assert sorted(p.name for p in (out / "img" / "10_wrong").glob("*.png")) == ["wrong_00000.png", "wrong_00001.png"]
    assert len((out / "generations.jsonl").read_text().splitlines()) == 2


def test_a_link_inside_the_output_is_refused(tmp_path, state):
    out = tmp_path / "set"
    elsewhere = tmp_path / "documents"
    elsewhere.mkdir()
    out.mkdir()
    (out / "img").symlink_to(elsewhere)
    (out / ".smoothie").mkdir()
    with fake_webui(state) as url, pytest.raises(KitError, match="symbolic link"):
        _run(url, out, force=True)
    assert not list(elsewhere.iterdir())


def test_a_webui_that_cannot_switch_models(tmp_path, state):
    state.stuck_model = True
    with fake_webui(state) as url, pytest.raises(KitError, match=r"generated with 'tiny-sd1', not 'tiny-sdxl"):
        _run(url, tmp_path / "set")


def test_identical_images_are_reported(tmp_path, state):
    state.same_image = True
    with fake_webui(state) as url:
        result = _run(url, tmp_path / "set", n=3)
    assert result.duplicates == [(0, 1), (0, 2)]
    assert any("identical" in note for note in result.notes)


def test_jpeg_answers_keep_their_format(tmp_path, state):
    state.image_format = "JPEG"
    with fake_webui(state) as url:
        _run(url, tmp_path / "set", n=2)
    assert sorted(p.name for p in (tmp_path / "set" / "img" / "10_wrong").iterdir()) == [
        "wrong_00000.jpg",
        "wrong_00000.txt",
        "wrong_00001.jpg",
        "wrong_00001.txt",
    ]


def test_defaults_the_loaded_checkpoint_and_native_size(tmp_path, state):
    with fake_webui(state) as url:
        result = make_dataset(DatasetRequest(out=tmp_path / "set", n=1, steps=1), HttpBackend(WebUIClient(url)))
    assert result.checkpoint.model_name == "tiny-sd1"
    assert (result.settings.width, result.settings.height) == (512, 512)
    assert result.plan is not None
    assert result.plan.script == "train_network.py"
    assert 0 <= result.settings.seed < 2**32
    assert not any(path == "/sdapi/v1/options" and method == "POST" for method, path, _ in state.requests)
    assert read_manifest(tmp_path / "set")["settings"]["seed"] == result.settings.seed  # kept for a resume


def test_a_corrupt_manifest_is_reported(tmp_path, state):
    out = tmp_path / "set"
    (out / ".smoothie").mkdir(parents=True)
    (out / MANIFEST).write_text("{nope")
    with fake_webui(state) as url, pytest.raises(KitError, match="is not valid JSON"):
        _run(url, out)


def test_credentials_in_the_url(tmp_path, state):
    state.auth = "me:secret"
    with fake_webui(state) as url:
        with pytest.raises(KitError, match="--api-auth"):
            _run(url, tmp_path / "a")
        _run(url.replace("http://", "http://me:secret@"), tmp_path / "b", n=1)
    assert (tmp_path / "b" / "img" / "10_wrong" / "wrong_00000.png").is_file()


def test_a_resume_without_the_settings_takes_the_earlier_runs(tmp_path, state):
    out = tmp_path / "set"
    with fake_webui(state) as url:
        _run(url, out, n=2, cfg_scale=5.0, sampler="Euler a")
        again = make_dataset(DatasetRequest(out=out, n=3, checkpoint="tiny-sdxl"), HttpBackend(WebUIClient(url)))
    assert (again.made, again.kept) == (1, 2)
    assert again.settings.seed == 7
    assert (again.settings.width, again.settings.steps, again.settings.cfg_scale) == (64, 2, 5.0)
    assert again.settings.sampler == "Euler a"


def test_a_folder_that_cannot_be_written(tmp_path, state, monkeypatch):
    from smoothie.dataset.safeio import OutputDir

    def refuse(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(OutputDir, "prepare", refuse)
    with fake_webui(state) as url, pytest.raises(KitError, match="cannot be written: Permission denied"):
        _run(url, tmp_path / "set")


def test_a_title_that_gains_its_hash_changes_nothing(tmp_path, state):
    """A1111 lists a checkpoint it has not loaded yet without ``[hash]`` in its title, and with it afterwards."""
    bare = state.models[1]["title"].split(" [")[0]
    state.models[1].update(title=bare, hash=None, sha256=None)
    out = tmp_path / "set"
    with fake_webui(state) as url:
        _run(url, out, n=2)
        before = _snapshot(out)
        state.models[1].update(title=bare + " [0123456789]", hash="0123456789", sha256="ab" * 32)
        again = _run(url, out, n=2)
    assert again.made == 0
    assert _snapshot(out) == before
