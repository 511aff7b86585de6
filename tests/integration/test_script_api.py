"""The Smoothie script in a real WebUI (A1111 v1.10, Forge, reForge), driven through its HTTP API.

Uses the ``webui`` fixture of ``tests/integration/conftest.py`` (one server per host given, with this extension
and the host's test checkpoints and LoRAs; skipped, with the reason, for a host that is not set), or a server
already running at ``SMOOTHIE_WEBUI_URL`` (an A1111 with the tiny models; LoRA folder in
``SMOOTHIE_WEBUI_LORA_DIR``). Models are named by role (``sd1``, ``sdxl``): Forge and reForge only have an
SD1.5-shaped one, so the SDXL cases skip there.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from smoothie.params import FIELDS, MAX_ENSEMBLE, SmoothieParams
from tests import hosts

pytestmark = [pytest.mark.a1111, pytest.mark.slow]

SD1, SDXL = "sd1", "sdxl"


class Client:
    def __init__(self, url: str, lora_dir: str | None, kind: hosts.HostKind = hosts.A1111):
        self.url = url.rstrip("/")
        self.lora_dir = Path(lora_dir) if lora_dir else None
        self.kind = kind
        self.models = hosts.models_for(kind)

    def checkpoint(self, role: str) -> str:
        name = self.models.checkpoints.get(role)
        if name is None:
            pytest.skip(f"{self.kind.label} has no {role} test model (it does not recognise the tiny models)")
        return name

    def wrong_lora(self, role: str) -> str:
        name = self.models.wrong_lora.get(role)
        if name is None:
            pytest.skip(f"no {role} LoRA named like 'wrong' among {self.kind.label}'s test LoRAs")
        return name

    @property
    def forge_like(self) -> bool:
        return self.kind.sd15

    def request(self, method: str, path: str, body: Any = None, timeout: float = 900) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.load(r)
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path} → HTTP {exc.code}: {exc.read().decode()[:2000]}") from None

    def txt2img(self, checkpoint: str = SD1, **extra: Any) -> dict:
        body: dict[str, Any] = {
            "prompt": "a photo of Emma Watson in Paris, golden hour",
            "negative_prompt": "blurry",
            "seed": 1234,
            "steps": 4,
            "width": 64,
            "height": 64,
            "sampler_name": "Euler",
            "cfg_scale": 7,
            "override_settings": {"sd_model_checkpoint": self.checkpoint(checkpoint), "live_previews_enable": False},
            "override_settings_restore_afterwards": True,
        }
        if self.forge_like and extra.get("enable_hr"):
            body["hr_additional_modules"] = ["Use same choices"]  # Forge's API: keep the first pass's modules
        body.update(extra)
        return self.request("POST", "/sdapi/v1/txt2img", body)


def image_hash(result: dict, index: int = 0) -> str:
    """Hash of the decoded pixels (the PNG bytes also hold the infotext, which differs by design)."""
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(result["images"][index]))) as im:
        return hashlib.sha256(im.mode.encode() + repr(im.size).encode() + im.tobytes()).hexdigest()


def image_distance(a: dict, i: int, b: dict, j: int) -> float:
    """Largest per-channel difference (0–255) between image ``i`` of ``a`` and image ``j`` of ``b``."""
    import numpy as np
    from PIL import Image

    def pixels(result: dict, index: int):
        with Image.open(io.BytesIO(base64.b64decode(result["images"][index]))) as im:
            return np.asarray(im.convert("RGB"), dtype=np.int16)

    return float(np.abs(pixels(a, i) - pixels(b, j)).max())


def infotext(result: dict, index: int = 0) -> str:
    return json.loads(result["info"])["infotexts"][index]


def smoothie(*args: Any, **kw: Any) -> dict:
    return {"script_name": "smoothie", "script_args": list(args), **kw}


@pytest.fixture(scope="module")
def api(request, host_kind) -> Client:
    url = os.environ.get("SMOOTHIE_WEBUI_URL")
    if url:  # an already running A1111 (with this extension and the tiny models) was named explicitly
        if host_kind is not hosts.A1111:
            pytest.skip("SMOOTHIE_WEBUI_URL names an A1111 server")
        return Client(url, os.environ.get("SMOOTHIE_WEBUI_LORA_DIR"))
    server = request.getfixturevalue("webui")  # skips, with the reason, for a host that is not set
    return Client(server.base_url, str(server.lora_dir), server.kind)


@pytest.fixture(scope="module")
def plain_sd1(api) -> str:
    return image_hash(api.txt2img(SD1))


def test_script_is_listed_with_documented_args(api):
    scripts = api.request("GET", "/sdapi/v1/scripts")
    assert "smoothie" in scripts["txt2img"]
    assert "smoothie" in scripts["img2img"]
    info = [s for s in api.request("GET", "/sdapi/v1/script-info") if s["name"] == "smoothie"]
    assert {s["is_img2img"] for s in info} == {False, True}
    for script in info:
        labels = [a["label"] for a in script["args"]]
        assert len(labels) == len(FIELDS)
        for label, spec in zip(labels, FIELDS, strict=True):
            assert label.startswith(spec.label)


@pytest.mark.parametrize("checkpoint", [SD1, SDXL])
def test_default_args_write_infotext_and_change_the_image(api, checkpoint):
    plain = api.txt2img(checkpoint)
    result = api.txt2img(checkpoint, **smoothie())
    text = infotext(result)
    for key in ("Script: Smoothie", "Smoothie ensemble: True", "Smoothie size: 32", "Smoothie mode: average"):
        assert key in text, text
    assert "Smoothie rescale: 0.7" in text
    assert "Smoothie error" not in text, text
    assert image_hash(result) != image_hash(plain)
    after = api.txt2img(checkpoint)
    assert image_hash(after) == image_hash(plain), "the next plain generation must be bit-identical"


def test_rescale_changes_the_image_and_the_infotext_is_true(api, plain_sd1):
    """φ 0.7 gives other pixels than φ 0 at the same CFG (on Forge too, where A1111's CFG hook never runs)."""
    off = api.txt2img(SD1, **smoothie(False, 32, "average", "rules", "", 0.0, 12, "None"))
    on = api.txt2img(SD1, **smoothie(False, 32, "average", "rules", "", 0.7, 12, "None"))
    assert image_hash(on) != image_hash(off)
    assert "Smoothie rescale: 0.7" in infotext(on)
    assert "Smoothie rescale: 0," in infotext(off) or infotext(off).rstrip().endswith("Smoothie rescale: 0")
    assert "CFG scale: 12" in infotext(on)
    for result in (on, off):
        assert "Smoothie error" not in infotext(result)
        assert "Smoothie note" not in infotext(result), infotext(result)
    assert image_hash(api.txt2img(SD1)) == plain_sd1, "the next plain generation must be bit-identical"


def _guided(**changes: Any) -> dict:
    """The script's API args for a run without ensemble or LoRA at CFG 12 with the given guidance settings."""
    return smoothie(*SmoothieParams(enabled=False, negative_lora="", cfg_boost=12, **changes).to_args())


def test_apg_changes_the_image_and_png_info_restores_it(api, plain_sd1):
    """APG (the paper's SD settings) against plain CFG at the same seed and CFG; the paste reproduces it."""
    cfg = api.txt2img(SD1, **_guided(guidance="cfg"))
    apg = api.txt2img(SD1, **_guided(guidance="apg"))
    assert image_hash(apg) != image_hash(cfg)
    text = infotext(apg)
    for key in (
        "Smoothie guidance: apg",
        "Smoothie APG eta: 0",
        "Smoothie APG norm: 15",
        "Smoothie APG momentum: -0.5",
    ):
        assert key in text, text
    assert "Smoothie rescale: 0" in text and "CFG scale: 12" in text
    assert "Smoothie error" not in text and "Smoothie note" not in text, text
    assert "Smoothie APG" not in infotext(cfg) and "Smoothie guidance: cfg" in infotext(cfg)
    pasted = api.request("POST", "/sdapi/v1/png-info", {"image": "data:image/png;base64," + apg["images"][0]})
    params = SmoothieParams.from_infotext(pasted["parameters"])
    assert (params.guidance, params.apg_eta, params.apg_norm_threshold, params.apg_momentum) == ("apg", 0, 15, -0.5)
    again = api.txt2img(SD1, **smoothie(*params.to_args()))
    assert image_hash(again) == image_hash(apg), "the pasted settings reproduce the APG image"
    assert image_hash(api.txt2img(SD1)) == plain_sd1, "the next plain generation must be bit-identical"


def test_guidance_interval_changes_the_image_and_is_recorded(api, plain_sd1):
    """CFG only for σ ≤ 2 (Euler, 4 steps: the first steps run on the conditional prediction alone)."""
    full = api.txt2img(SD1, **_guided(guidance="cfg"))
    limited = api.txt2img(SD1, **_guided(guidance="cfg", sigma_max=2.0))
    assert image_hash(limited) != image_hash(full)
    text = infotext(limited)
    assert "Smoothie sigma max: 2" in text and "Smoothie sigma min" not in text, text
    assert "Smoothie error" not in text and "Smoothie note" not in text, text
    apg = api.txt2img(SD1, **_guided(guidance="apg", sigma_min=0.5, sigma_max=2.0))
    assert "Smoothie sigma min: 0.5" in infotext(apg) and "Smoothie guidance: apg" in infotext(apg)
    assert image_hash(api.txt2img(SD1)) == plain_sd1, "the next plain generation must be bit-identical"


def test_apg_on_a_noise_prediction_sampler_is_not_claimed(api, plain_sd1):
    if api.forge_like:
        pytest.skip("Forge and reForge hand every sampler's predictions to the post-CFG function as x0")
    result = api.txt2img(SD1, sampler_name="DDIM", **_guided(guidance="apg"))
    text = infotext(result)
    assert "Smoothie guidance: cfg" in text and "Smoothie APG" not in text, text
    assert "need a k-diffusion sampler" in text


def test_cfg_sweep_grid_renders_with_burn_measures(api):
    result = api.txt2img(SD1, **smoothie(*SmoothieParams(enabled=False, negative_lora="", sweep=True).to_args()))
    assert len(result["images"]) == 13  # the grid, then plain CFG / rescale / APG × CFG 7, 12, 20, 25
    texts = json.loads(result["info"])["infotexts"]
    for k, (method, cfg) in enumerate((m, c) for m in ("cfg", "rescale", "apg") for c in (7, 12, 20, 25)):
        text = texts[1 + k]
        assert re.search(rf"CFG scale: {cfg}(\.0)?,", text) and f"Smoothie guidance: {method}" in text, text
        assert re.search(r"Smoothie burn: sat \d\.\d\d · clip \d+\.\d% · HF \d\.\d{3}", text), text
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(result["images"][0]))) as grid:
        cell = Image.open(io.BytesIO(base64.b64decode(result["images"][1])))
        assert grid.width >= 4 * cell.width and grid.height > 3 * cell.height  # captions and headers
    assert len({image_hash(result, i) for i in (1, 4, 5, 8, 9, 12)}) == 6


def test_boost_reaches_the_hires_pass(api):
    hires = {"enable_hr": True, "hr_scale": 1.5, "hr_upscaler": "Latent", "denoising_strength": 0.5}
    hires["hr_second_pass_steps"] = 2
    result = api.txt2img(SD1, **hires, **smoothie(False, 32, "average", "rules", "", 0.0, 15, "None"))
    text = infotext(result)
    assert "CFG scale: 15" in text
    if api.forge_like:  # Forge and reForge use their own "Hires CFG Scale" for the second pass
        assert "Hires CFG Scale: 15" in text, text


def test_per_image_infotext_reproduces_each_image(api, plain_sd1):
    """Image k records the paraphrase it used; its pasted parameters reproduce it alone (batch of one)."""
    result = api.txt2img(SD1, batch_size=3, **smoothie(True, 4, "per-image", "rules", "", 0.0))
    texts = json.loads(result["info"])["infotexts"]
    assert [t.count("Smoothie paraphrase: ") for t in texts] == [1, 1, 1]
    for k in range(3):
        assert f"Smoothie paraphrase: {k}," in texts[k] or texts[k].rstrip().endswith(f"Smoothie paraphrase: {k}")
    pasted = api.request("POST", "/sdapi/v1/png-info", {"image": "data:image/png;base64," + result["images"][2]})
    params = pasted["parameters"]
    assert params["Smoothie paraphrase"] == "2"
    assert int(params["Seed"]) == 1234 + 2
    args = [params[f.infotext] for f in FIELDS if f.infotext in params]
    # every field but keep (empty), the sweep, APG's three (guidance "cfg": rescale φ 0) and the interval's two
    assert len(args) == len(FIELDS) - 7
    again = api.txt2img(SD1, seed=int(params["Seed"]), **smoothie(*[params.get(f.infotext) for f in FIELDS]))
    assert "Smoothie paraphrase: 2" in infotext(again)
    assert image_distance(again, 0, result, 2) < min(image_distance(again, 0, result, k) for k in (0, 1))
    assert image_distance(again, 0, result, 2) <= 2, "image 2 pasted back is image 2 (up to batch rounding)"


def test_png_info_carries_the_parameters(api):
    result = api.txt2img(SD1, **smoothie(True, 8, "composable"))
    info = api.request("POST", "/sdapi/v1/png-info", {"image": "data:image/png;base64," + result["images"][0]})
    params = info["parameters"]
    assert params.get("Smoothie size") == "8"
    assert params.get("Smoothie mode") == "composable"
    assert params.get("Script") == "Smoothie"


@pytest.mark.parametrize("mode", ["composable", "per-image"])
def test_other_modes_generate(api, plain_sd1, mode):
    result = api.txt2img(SD1, batch_size=2, **smoothie(True, 4, mode))
    assert len(result["images"]) == 2
    assert f"Smoothie mode: {mode}" in infotext(result)
    assert image_hash(result) != plain_sd1
    if mode == "per-image":
        assert image_hash(result, 0) != image_hash(result, 1)


@pytest.mark.parametrize("role", [SD1, SDXL])
def test_negative_lora_matching_model_is_applied(api, role):
    lora = api.wrong_lora(role)
    plain = api.txt2img(role, **smoothie(False, 32, "average", "rules", "", 0.0, 0, "None"))
    result = api.txt2img(role, **smoothie(False, 32, "average", "rules", "", 0.0, 0, lora, 1.0, "wrong"))
    text = infotext(result)
    assert f"<lora:{lora}:1>" in text
    assert "Negative prompt: blurry, wrong" in text
    assert "Lora hashes" in text
    assert "Smoothie error" not in text
    assert image_hash(result) != image_hash(plain)


@pytest.mark.parametrize("role", [SD1, SDXL])
def test_auto_negative_lora_uses_the_installed_wrong_lora_that_fits(api, role):
    # Default arguments: the negative LoRA is "auto": an installed LoRA named like the trigger, of the model's kind.
    api.checkpoint(role)
    lora = api.models.wrong_lora.get(role)
    result = api.txt2img(role, **smoothie(False, 32, "average", "rules", "", 0.0))
    text = infotext(result)
    assert "Smoothie error" not in text
    if lora is not None:
        assert f"<lora:{lora}:1>" in text
        assert f"Smoothie LoRA: {lora}" in text  # the infotext names the LoRA, so a paste reproduces it
        assert "Negative prompt: blurry, wrong" in text
        assert "Lora hashes" in text
    else:  # none installed for this model (A1111's tiny SD1): none is used, and the note says why
        assert "<lora:" not in text
        assert "Smoothie LoRA: None" in text
        assert "Smoothie note:" in text


def test_comparison_grid(api):
    role = SDXL if api.models.wrong_lora.get(SDXL) else SD1
    lora = api.wrong_lora(role)
    args = (True, 4, "average", "rules", "", 0.7, 12, lora, 1.0, "wrong", True)
    result = api.txt2img(role, **smoothie(*args))
    assert len(result["images"]) == 6  # grid + baseline, ensemble, +rescale, +LoRA, placebo
    cells = [image_hash(result, i) for i in range(1, 6)]
    assert len(set(cells)) == 5
    texts = json.loads(result["info"])["infotexts"]
    assert "CFG scale: 12" in texts[3]
    assert "Smoothie rescale: 0.7" in texts[3]
    assert f"<lora:{lora}" in texts[4]
    assert "<lora:" not in texts[5]
    assert "blurry, wrong" in texts[5]


def _assert_message_and_plain(api, plain_hash: str, result: dict, fragment: str, same_image: bool) -> None:
    text = infotext(result)
    assert "Smoothie error" in text, text
    assert fragment in text, text
    assert (image_hash(result) == plain_hash) is same_image


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((True, 0), "ensemble_size must be within 1–256, got 0"),
        ((True, 10000), f"ensemble_size must be within 1–{MAX_ENSEMBLE}, got 10000"),
        ((True, 32, "mean"), "mode must be one of"),
    ],
)
def test_bad_arguments_give_a_message_and_a_plain_image(api, plain_sd1, args, fragment):
    _assert_message_and_plain(api, plain_sd1, api.txt2img(SD1, **smoothie(*args)), fragment, same_image=True)
    assert image_hash(api.txt2img(SD1)) == plain_sd1


def test_unknown_lora(api, plain_sd1):
    result = api.txt2img(SD1, **smoothie(False, 32, "average", "rules", "", 0.0, 0, "no-such-lora"))
    _assert_message_and_plain(api, plain_sd1, result, "negative LoRA 'no-such-lora' not found", same_image=True)


def test_wrong_architecture_lora(api, plain_sd1):
    foreign = api.models.foreign_lora[SD1]
    result = api.txt2img(SD1, **smoothie(False, 32, "average", "rules", "", 0.0, 0, foreign))
    _assert_message_and_plain(api, plain_sd1, result, "is an SDXL LoRA but the loaded model is SD1.x", same_image=True)
    assert "<lora:" not in infotext(result)


def test_corrupt_lora(api, plain_sd1):
    if api.lora_dir is None or not os.access(api.lora_dir, os.W_OK):
        pytest.skip("the server's LoRA folder is unknown or read-only (set SMOOTHIE_WEBUI_LORA_DIR)")
    bad = api.lora_dir / "smoothie-corrupt-test.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    try:
        result = api.txt2img(SD1, **smoothie(False, 32, "average", "rules", "", 0.0, 0, bad.stem))
    finally:
        bad.unlink()
    _assert_message_and_plain(api, plain_sd1, result, "cannot be read", same_image=True)


def test_empty_prompt(api):
    plain = api.txt2img(SD1, prompt="")
    result = api.txt2img(SD1, prompt="", **smoothie(True, 32, "average", "rules", "", 0.0, 0, "None"))
    _assert_message_and_plain(api, image_hash(plain), result, "prompt ensemble failed", same_image=True)


def test_prompt_of_only_syntax(api):
    prompt = "(:1.2) BREAK"
    plain = api.txt2img(SD1, prompt=prompt)
    result = api.txt2img(SD1, prompt=prompt, **smoothie(True, 8, "average", "rules", "", 0.0, 0, "None"))
    text = infotext(result)
    assert "Smoothie note" in text, text
    assert image_hash(result) == image_hash(plain)  # every paraphrase repeats the prompt: the mean is the prompt


def test_interrupt_mid_run_leaves_the_webui_working(api, plain_sd1):
    outcome: dict[str, Any] = {}

    def long_run() -> None:
        try:
            outcome["result"] = api.txt2img(SD1, steps=150, **smoothie(True, 32, "average", "rules", "", 0.7, 15))
        except AssertionError as exc:
            outcome["error"] = str(exc)

    thread = threading.Thread(target=long_run)
    thread.start()
    deadline = time.time() + 120
    while time.time() < deadline:
        progress = api.request("GET", "/sdapi/v1/progress?skip_current_image=true")
        if progress["state"].get("sampling_step", 0) >= 2:
            break
        time.sleep(0.5)
    api.request("POST", "/sdapi/v1/interrupt")
    thread.join(timeout=300)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    assert image_hash(api.txt2img(SD1)) == plain_sd1


def test_img2img(api):
    init = api.txt2img(SD1)["images"][0]
    body = {
        "init_images": [init],
        "prompt": "a photo of Emma Watson in Paris",
        "denoising_strength": 0.6,
        "seed": 7,
        "steps": 4,
        "width": 64,
        "height": 64,
        "override_settings": {"sd_model_checkpoint": SD1, "live_previews_enable": False},
    }
    plain = api.request("POST", "/sdapi/v1/img2img", body)
    result = api.request("POST", "/sdapi/v1/img2img", {**body, **smoothie()})
    assert "Smoothie size: 32" in infotext(result)
    assert image_hash(result) != image_hash(plain)


def test_hires_fix_uses_the_ensemble_and_is_undone(api):
    hires = {"enable_hr": True, "hr_scale": 2, "hr_upscaler": "Latent", "denoising_strength": 0.5}
    hires["hr_second_pass_steps"] = 2
    plain = api.txt2img(SD1, **hires)
    lora = api.models.plain_lora[SD1]
    result = api.txt2img(SD1, **hires, **smoothie(True, 8, "average", "rules", "", 0.7, 0, lora, 0.5))
    text = infotext(result)
    assert "Hires upscale: 2" in text
    assert "Smoothie size: 8" in text
    assert text.count(f"<lora:{lora}") == 1, text
    assert "Smoothie error" not in text, text
    assert image_hash(result) != image_hash(plain)
    assert image_hash(api.txt2img(SD1, **hires)) == image_hash(plain)


def test_xyz_plot_axis_turns_smoothie_on_per_cell(api, plain_sd1):
    info = [s for s in api.request("GET", "/sdapi/v1/script-info") if s["name"] == "x/y/z plot" and not s["is_img2img"]]
    assert info, "X/Y/Z plot is missing from script-info"
    choices = info[0]["args"][0].get("choices") or []
    assert "Smoothie ensemble size" in choices, choices
    for label in ("Smoothie mode", "Smoothie rescale φ", "Smoothie LoRA weight", "Smoothie guidance", "Smoothie APG η"):
        assert label in choices
    x_type = choices.index("Smoothie ensemble size")
    nothing = choices.index("Nothing")
    args = [x_type, "1, 4", None, nothing, "", None, nothing, "", None, True, True, False, False]
    args += [False, False, False, 0, False]
    result = api.txt2img(SD1, script_name="x/y/z plot", script_args=args)
    texts = json.loads(result["info"])["infotexts"]
    assert len(result["images"]) == 3  # the grid, then one image per cell
    assert "Smoothie size: 1" in texts[1]
    assert "Smoothie size: 4" in texts[2]
    assert image_hash(result, 1) != image_hash(result, 2)
    assert image_hash(api.txt2img(SD1)) == plain_sd1
