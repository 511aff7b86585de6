"""The real WebUI starts with this extension, lists it, and generates with its test models over HTTP."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from tests import hosts

PAYLOAD = {
    "prompt": "a photo of a red cube on a wooden table",
    "negative_prompt": "blurry",
    "steps": 20,
    "width": 256,
    "height": 256,
    "cfg_scale": 7.0,
    "sampler_name": "Euler a",
    "seed": 1234,
}


def test_webui_lists_the_test_models_and_loras(webui: hosts.WebUI) -> None:
    models = webui.models_by_role
    names = {m["model_name"] for m in webui.models()}
    assert set(models.checkpoints.values()) <= names
    assert webui.current_model().startswith(models.checkpoints["sd1"] + ".safetensors")
    loras = {item["name"] for item in webui.get("/sdapi/v1/loras")}
    wanted = {*models.plain_lora.values(), *(n for n in models.wrong_lora.values() if n)}
    assert wanted <= loras


def test_extension_scripts_load_without_errors(webui: hosts.WebUI) -> None:
    # (/sdapi/v1/extensions lists only extensions with a git remote, so it cannot show a local checkout.)
    assert (webui.data_dir / "extensions" / hosts.EXTENSION_NAME).resolve() == hosts.REPO
    log = webui.log()
    # The hosts report a script that fails to import as "Error loading script: <file>" and go on without it.
    failed = re.findall(r"Error loading script: (\S+)", log)
    ours = {p.name for p in (hosts.REPO / "scripts").glob("*.py")}
    assert not ours & set(failed), log[-6000:]
    scripts = webui.get("/sdapi/v1/scripts")
    # The dropdown script's API name is its title in lower case.
    assert "smoothie" in scripts["txt2img"], scripts["txt2img"]
    assert "smoothie" in scripts["img2img"], scripts["img2img"]


@pytest.mark.parametrize("role", ["sd1", "sdxl"])
def test_txt2img_returns_an_image(webui: hosts.WebUI, role: str) -> None:
    model = webui.models_by_role.checkpoints.get(role)
    if model is None:
        pytest.skip(f"{webui.kind.label} has no {role} test model (it does not recognise the tiny models)")
    webui.set_model(model)
    result = webui.txt2img(PAYLOAD)
    assert len(result.images) == 1
    image = Image.open(io.BytesIO(result.images[0]))
    assert image.format == "PNG"
    assert image.size == (256, 256)
    pixels = np.asarray(image.convert("RGB"), dtype=np.float32)
    assert np.isfinite(pixels).all()
    assert pixels.std() > 0  # random weights give noise, but not a blank (NaN-decoded) picture
    assert result.info["sd_model_name"] == model
    assert result.info["seed"] == PAYLOAD["seed"]
    assert result.info["steps"] == PAYLOAD["steps"]
    assert result.info["prompt"] == PAYLOAD["prompt"]


def test_same_seed_same_image_on_cpu(webui: hosts.WebUI) -> None:
    webui.set_model(webui.models_by_role.checkpoints["sd1"])
    small = {**PAYLOAD, "steps": 4, "width": 128, "height": 128}
    first = webui.txt2img(small).images[0]
    again = webui.txt2img(small).images[0]
    other = webui.txt2img({**small, "seed": small["seed"] + 1}).images[0]
    a, b, c = (np.asarray(Image.open(io.BytesIO(x)).convert("RGB")) for x in (first, again, other))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
