"""Checks of the host layer against a real WebUI's ``modules``, run inside that WebUI's own interpreter.

``tests/webui/test_host.py`` starts this file with the host's Python (its venv has the host's dependencies, the
project's does not) as ``python host_checks.py HOST_DIR [CHECK ...]``; it prints one JSON line per check. The
same checks run against A1111, Forge and reForge; a check that does not apply to a host says why and is
skipped. No model is loaded: the text encoder is a deterministic stand-in; prompt parsing, processing objects,
infotexts and sampler denoisers are the host's own.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED_LORA = Path(os.environ.get("SMOOTHIE_SHARED_LORA", ROOT.parent / "shared" / "models" / "models" / "Lora"))


class Skip(Exception):  # noqa: N818 (a control-flow signal, not an error)
    """This check does not apply to the host; the message says why."""


def boot(host_dir: str) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, host_dir)
    os.chdir(host_dir)
    sys.argv = ["webui.py", "--skip-torch-cuda-test", "--lora-dir", str(SHARED_LORA)]
    if (Path(host_dir) / "modules_forge").is_dir() or (Path(host_dir) / "ldm_patched").is_dir():
        sys.argv += ["--always-cpu"]  # Forge's and reForge's backends read it at import
    else:
        sys.argv += ["--no-half", "--use-cpu", "all"]
    if (Path(host_dir) / "modules_forge" / "initialization.py").is_file():
        from modules_forge.initialization import initialize_forge  # what Forge's webui.py does first

        initialize_forge()
    from modules import initialize

    initialize.imports()  # the host's own import order (Forge's modules import each other in a cycle)


def host():
    from smoothie.webui import host as hosts

    return hosts.current()


class FakeModel:
    """Stands in for ``shared.sd_model``: a text → tensor map that is deterministic and distinct per text."""

    def __init__(self, sdxl: bool = False, channels: int = 8, flux: bool = False):
        import torch

        self.sdxl = sdxl
        self.is_sdxl = sdxl
        self.is_sd1 = not sdxl and not flux
        self.is_sd2 = False
        self.is_sd3 = False
        self.flux = flux
        self.use_distilled_cfg_scale = flux  # Forge reads it when writing the infotext
        self.sd_checkpoint_info = "fake-checkpoint"
        self.channels = channels
        self.calls: list[list[str]] = []
        self.clip_skips: list[int] = []
        self.extra_generation_params: dict = {}
        self.cond_stage_model_empty_prompt = self.encode_one("")[None]
        self.torch = torch

    def set_clip_skip(self, clip_skip):
        self.clip_skips.append(clip_skip)

    def encode_one(self, text: str):
        import torch

        gen = torch.Generator().manual_seed(sum(ord(c) * (i + 1) for i, c in enumerate(text)) % 2**31)
        return torch.randn(77, self.channels, generator=gen)

    def vector(self, text: str):
        import torch

        gen = torch.Generator().manual_seed((len(text) * 7919 + 1) % 2**31)
        return torch.randn(16, generator=gen)

    def get_learned_conditioning(self, texts):
        import torch

        self.calls.append(list(texts))
        cross = torch.stack([self.encode_one(t) for t in texts])
        if self.sdxl or self.flux:
            out = {"crossattn": cross, "vector": torch.stack([self.vector(t) for t in texts])}
            if self.flux:
                out["guidance"] = torch.full((len(texts),), 3.5)
            return out
        return cross


class use_model:  # noqa: N801 (a context manager used like a function)
    """Put ``model`` in ``shared.sd_model`` for the block without triggering the host's model loading."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        from modules import sd_models

        self.saved = sd_models.model_data.sd_model
        sd_models.model_data.sd_model = self.model
        return self.model

    def __exit__(self, *exc):
        from modules import sd_models

        sd_models.model_data.sd_model = self.saved


def make_p(prompt="a photo of Emma Watson in Paris", **kw):
    from modules import processing

    p = processing.StableDiffusionProcessingTxt2Img(prompt=prompt, negative_prompt="blurry", steps=10, **kw)
    p.iteration = 0
    return p


def begun(p, **changes):
    """A SmoothieRun on ``p`` (ensemble of 4, no LoRA unless asked), entered and begun as ``process(p)`` would."""
    from smoothie.params import SmoothieParams
    from smoothie.webui.run import SmoothieRun

    changes.setdefault("negative_lora", "")
    run = SmoothieRun(p, SmoothieParams(ensemble_size=4, **changes))
    run.__enter__()
    if getattr(p, "all_prompts", None) is None:
        p.setup_prompts()
    run.begin()
    return run


def _mean(tensors):
    import torch

    return torch.stack(list(tensors)).mean(0)


def _multicond(run, model, prompts, steps=10, hires_steps=None):
    from modules import prompt_parser

    from smoothie.webui.run import ensemble_multicond

    return ensemble_multicond(
        run, model, prompt_parser.SdConditioning(prompts, width=512, height=512), steps, hires_steps
    )


# --- checks --------------------------------------------------------------------------------------------------


def check_host_is_detected_by_feature():
    import importlib.util

    name = host().name
    forge = importlib.util.find_spec("modules_forge") is not None and importlib.util.find_spec("backend") is not None
    reforge = importlib.util.find_spec("ldm_patched") is not None
    assert name == ("Forge" if forge else "reForge" if reforge else "A1111"), name
    assert host().hooks_combine_denoised is (name == "A1111")


def check_average_mode_is_mean_of_paraphrase_encodings():
    import torch

    with use_model(FakeModel()) as model:
        p = make_p()
        run = begun(p)
        mc = _multicond(run, model, [p.prompt])
    assert mc.shape == (1,)
    (parts,) = mc.batch
    assert len(parts) == 1, "average mode must give one conditioning per image (UNet cost independent of N)"
    assert parts[0].weight == 1.0
    (sched,) = parts[0].schedules
    paras = run.plan.ensemble.paraphrases(p.prompt)
    assert len(paras) == 4
    torch.testing.assert_close(sched.cond, _mean(model.encode_one(t) for t in paras))
    assert sched.end_at_step == 10
    assert len(model.calls) == 1, f"all paraphrases are encoded in one batch, got {len(model.calls)} calls"
    assert p.extra_generation_params["Smoothie generic"] == run.plan.ensemble.rewrite(p.prompt).generic


def check_sdxl_average_includes_vector():
    import torch

    with use_model(FakeModel(sdxl=True)) as model:
        p = make_p("a portrait of Greg Rutkowski")
        run = begun(p)
        mc = _multicond(run, model, [p.prompt])
    cond = mc.batch[0][0].schedules[0].cond
    assert set(cond) == {"crossattn", "vector"}
    paras = run.plan.ensemble.paraphrases(p.prompt)
    torch.testing.assert_close(cond["vector"], _mean(model.vector(t) for t in paras))
    torch.testing.assert_close(cond["crossattn"], _mean(model.encode_one(t) for t in paras))


def check_forge_encoder_sets_clip_skip_and_pads_with_the_empty_prompt():
    if host().name == "A1111":
        raise Skip("A1111 encodes with CLIP skip set by its hijack and pads with cond_stage_model_empty_prompt")
    import torch

    model = FakeModel(flux=True)
    with use_model(model):
        p = make_p("a red fox in the snow")
        run = begun(p)
        encoder = host().encoder(run, model, [p.prompt])
        assert model.clip_skips, "set_clip_skip must be called before encoding"
        torch.testing.assert_close(encoder.empty(), model.encode_one(""))
        encoder.empty()
        assert model.calls == [[""]], "the empty prompt is encoded once per model"
        mc = _multicond(run, model, [p.prompt])
    cond = mc.batch[0][0].schedules[0].cond
    assert list(cond) == ["crossattn", "vector", "guidance"]
    assert float(cond["guidance"]) == 3.5


def check_composable_mode_is_and_with_weights_one_over_n():
    with use_model(FakeModel()) as model:
        p = make_p()
        run = begun(p, mode="composable")
        mc = _multicond(run, model, [p.prompt])
    parts = mc.batch[0]
    assert len(parts) == 4
    assert all(abs(c.weight - 0.25) < 1e-9 for c in parts)


def check_per_image_mode_gives_each_image_a_paraphrase_and_its_infotext_says_which():
    import torch
    from modules import processing

    with use_model(FakeModel()) as model:
        p = make_p(batch_size=3, n_iter=2)
        p.setup_prompts()
        p.all_seeds = list(range(6))
        p.all_subseeds = list(range(6))
        run = begun(p, mode="per-image")
        p.iteration = 1  # second batch of 3: paraphrases 3, 0, 1 of 4
        mc = _multicond(run, model, p.all_prompts[3:6])
        paras = run.plan.ensemble.paraphrases(p.prompt)
        for pos, want in enumerate([3, 0, 1]):
            torch.testing.assert_close(mc.batch[pos][0].schedules[0].cond, model.encode_one(paras[want]))
        texts = [processing.create_infotext(p, p.all_prompts, p.all_seeds, p.all_subseeds, index=i) for i in (3, 4, 5)]
    for text, want in zip(texts, [3, 0, 1], strict=True):
        assert f"Smoothie paraphrase: {want}" in text, text
        assert "Smoothie mode: per-image" in text


def check_and_and_scheduling_are_kept():
    with use_model(FakeModel()) as model:
        p = make_p("a red [cat:dog:5] on a sofa AND a lamp :0.5")
        run = begun(p)
        mc = _multicond(run, model, [p.prompt])
    parts = mc.batch[0]
    assert [round(c.weight, 6) for c in parts] == [1.0, 0.5], [c.weight for c in parts]
    assert [s.end_at_step for s in parts[0].schedules] == [5, 10]


def check_get_conds_wrapper_never_touches_host_cache_and_is_undone():
    from modules import processing, prompt_parser

    p = make_p()
    before = dict(vars(p))
    cached_c = list(processing.StableDiffusionProcessing.cached_c)
    try:
        with use_model(FakeModel()) as model:
            run = begun(p)
            assert "get_conds_with_caching" in vars(p)
            prompts = prompt_parser.SdConditioning([p.prompt])
            fn = prompt_parser.get_multicond_learned_conditioning
            first = p.get_conds_with_caching(fn, prompts, 10, [p.cached_c], None)
            again = p.get_conds_with_caching(fn, prompts, 10, [p.cached_c], None)
            assert not run.record.errors, run.record.errors
            assert again is first, "the ensemble's own cache answers the second call"
            assert len(first.batch[0]) == 1
            assert len(model.calls) == 1
            assert processing.StableDiffusionProcessing.cached_c == cached_c
            raise KeyboardInterrupt  # leaving by an exception still restores
    except KeyboardInterrupt:
        run.__exit__(KeyboardInterrupt, None, None)
    after = {k: v for k, v in vars(p).items() if k not in ("all_prompts", "all_negative_prompts")}
    assert "get_conds_with_caching" not in vars(p)
    assert "_smoothie_run" not in vars(p)
    assert set(after) - {"main_prompt", "main_negative_prompt"} <= set(before) | {"extra_generation_params"}


def check_negative_lora_injected_once_into_every_prompt_and_restored():
    with use_model(FakeModel(sdxl=True)):
        p = make_p("a cat <lora:wrong-tiny-sdxl:0.3>", batch_size=2, enable_hr=True)
        p.setup_prompts()
        before = {k: getattr(p, k) for k in ("all_prompts", "all_negative_prompts", "all_hr_prompts", "prompt")}
        run = begun(p, negative_lora="wrong-tiny-sdxl", lora_weight=0.8, enabled=False)
        assert all(s.count("<lora:wrong-tiny-sdxl") == 1 for s in p.all_prompts + p.all_hr_prompts)
        assert p.all_negative_prompts == ["blurry, wrong"] * 2
        assert p.all_hr_negative_prompts == ["blurry, wrong"] * 2
        assert p.extra_generation_params["Smoothie LoRA"] == "wrong-tiny-sdxl"
        run.__exit__(None, None, None)
        assert {k: getattr(p, k) for k in before} == before
        p2 = make_p("a cat")
        run = begun(p2, negative_lora="wrong-tiny-sdxl", lora_weight=0.8, enabled=False)
        assert p2.all_prompts == ["a cat <lora:wrong-tiny-sdxl:0.8>"]
        run.__exit__(None, None, None)


def check_auto_lora_picks_the_fitting_one_for_the_loaded_model():
    with use_model(FakeModel(sdxl=True)):
        p = make_p("a cat")
        begun(p, negative_lora="auto", enabled=False)
        assert p.all_prompts == ["a cat <lora:wrong-tiny-sdxl:1>"]
        assert p.extra_generation_params["Smoothie LoRA"] == "wrong-tiny-sdxl"
    with use_model(FakeModel(sdxl=False)):
        p = make_p("a cat")
        begun(p, negative_lora="auto", enabled=False)
        assert p.all_prompts == ["a cat"]
        assert p.extra_generation_params["Smoothie LoRA"] == "None"
        assert "Smoothie note" in p.extra_generation_params


def check_wrong_architecture_and_unknown_lora_are_refused_with_a_message():
    with use_model(FakeModel(sdxl=False)):
        p = make_p("a cat")
        begun(p, negative_lora="wrong-tiny-sdxl")
        assert "<lora:" not in p.all_prompts[0]
        assert p.all_negative_prompts == ["blurry"]
        err = p.extra_generation_params["Smoothie error"]
        assert "SDXL LoRA" in err, err
        assert "SD1.x" in err, err
        assert any("Smoothie" in c for c in p.comments)
        assert p.extra_generation_params["Smoothie LoRA"] == "None"
        p = make_p("a cat")
        begun(p, negative_lora="no-such-lora")
        assert "not found" in p.extra_generation_params["Smoothie error"]


def check_lora_that_makes_the_reader_raise_does_not_fail_the_run():
    from smoothie.generation import lora as lora_choice

    real = lora_choice.inspect_lora

    def explode(path, *a, **kw):
        raise RecursionError("maximum recursion depth exceeded")

    lora_choice.inspect_lora = explode
    try:
        with use_model(FakeModel(sdxl=True)):
            p = make_p("a cat")
            begun(p, negative_lora="wrong-tiny-sdxl")
            assert "<lora:" not in p.all_prompts[0]
            assert "cannot be read (maximum recursion depth exceeded)" in p.extra_generation_params["Smoothie error"]
    finally:
        lora_choice.inspect_lora = real


def check_an_unexpected_error_while_applying_is_reported_and_undone():
    from smoothie.params import SmoothieParams
    from smoothie.webui.run import SmoothieRun

    class BrokenHost(type(host())):
        def lora_dirs(self):
            raise PermissionError("LoRA folder unreadable")

    with use_model(FakeModel()):
        p = make_p("a cat", batch_size=2)
        p.setup_prompts()
        prompts = list(p.all_prompts)
        run = SmoothieRun(p, SmoothieParams(ensemble_size=4, cfg_boost=20), host=BrokenHost())
        run.__enter__()
        run.begin()
        run.before_sampling()
        assert (
            "could not be applied (PermissionError: LoRA folder unreadable)"
            in p.extra_generation_params["Smoothie error"]
        )
        assert not any(k.startswith("Smoothie ") and k != "Smoothie error" for k in p.extra_generation_params)
        assert "get_conds_with_caching" not in vars(p)
        assert "_smoothie_run" not in vars(p)
        assert p.all_prompts == prompts
        assert p.cfg_scale != 20
        assert any("could not be applied" in c for c in p.comments)
        run.__exit__(None, None, None)


def check_rescale_through_combine_denoised_is_gated_on_p_and_undone():
    if not host().hooks_combine_denoised:
        raise Skip(f"{host().name} guides through a UNet patch, not combine_denoised")
    import torch
    from modules import script_callbacks, sd_samplers_kdiffusion, sd_samplers_timesteps

    from smoothie.guidance import rescale_cfg, rescale_cfg_x0
    from smoothie.webui import run as runs

    gen = torch.Generator().manual_seed(0)
    x_out = torch.randn(3, 4, 8, 8, generator=gen)  # [cond 0, cond 1, uncond]
    conds_list = [[(0, 1.0)], [(1, 1.0)]]
    uncond = torch.zeros(2, 77, 8)
    x = torch.randn(2, 4, 8, 8, generator=gen) * 5
    sigma = torch.tensor([5.0, 5.0])
    x_in, sigma_in = torch.cat([x, x]), torch.cat([sigma, sigma])

    plain = sd_samplers_kdiffusion.CFGDenoiserKDiffusion(sampler=None)
    plain.p = make_p()
    want_plain = plain.combine_denoised(x_out, conds_list, uncond, 7.0)
    runs.on_cfg_denoiser(script_callbacks.CFGDenoiserParams(x_in, None, sigma_in, 0, 10, None, None, plain))
    assert "combine_denoised" not in vars(plain), "a generation without Smoothie must not be touched"

    den = sd_samplers_kdiffusion.CFGDenoiserKDiffusion(sampler=None)
    with use_model(FakeModel()):
        den.p = make_p()
        run = begun(den.p, enabled=False, rescale=0.7)
        runs.on_cfg_denoiser(script_callbacks.CFGDenoiserParams(x_in, None, sigma_in, 0, 10, None, None, den))
        got = den.combine_denoised(x_out, conds_list, uncond, 7.0)
        guided = plain.combine_denoised(x_out, conds_list, uncond, 7.0)
        cond = plain.combine_denoised(x_out, conds_list, uncond, 1.0)
        torch.testing.assert_close(got, rescale_cfg_x0(x, guided, cond, sigma, 0.7))
        assert not torch.equal(got, guided)
        assert den.p.extra_generation_params["Smoothie rescale"] == "0.7"
        run.__exit__(None, None, None)
    assert "combine_denoised" not in vars(den)
    assert torch.equal(den.combine_denoised(x_out, conds_list, uncond, 7.0), want_plain)

    class Sampler:
        pass

    with use_model(type("M", (), {"alphas_cumprod": torch.linspace(0.99, 0.01, 1000), "is_sd1": True})()):
        ts = sd_samplers_timesteps.CFGDenoiserTimesteps(Sampler())
        ts.p = make_p()
        run = begun(ts.p, enabled=False, rescale=0.5)
    runs.on_cfg_denoiser(script_callbacks.CFGDenoiserParams(x_in, None, sigma_in, 0, 10, None, None, ts))
    got = ts.combine_denoised(x_out, conds_list, uncond, 7.0)
    torch.testing.assert_close(got, rescale_cfg(guided, cond, 0.5))
    run.__exit__(None, None, None)
    assert "combine_denoised" not in vars(ts)


def check_unknown_sampler_is_a_note_and_the_infotext_says_no_rescale():
    if not host().hooks_combine_denoised:
        raise Skip(f"{host().name} guides through a UNet patch, not combine_denoised")
    from modules import script_callbacks

    from smoothie.webui import run as runs

    class OddDenoiser:
        pass

    den = OddDenoiser()
    with use_model(FakeModel()):
        den.p = make_p()
        begun(den.p, enabled=False, rescale=0.7)
    runs.on_cfg_denoiser(script_callbacks.CFGDenoiserParams(None, None, None, 0, 10, None, None, den))
    assert den.p.extra_generation_params["Smoothie rescale"] == "0"
    assert "unsupported sampler (OddDenoiser)" in den.p.extra_generation_params["Smoothie note"]


def check_rescale_is_a_post_cfg_function_on_a_clone_of_the_unet():
    if host().hooks_combine_denoised:
        raise Skip("A1111 guides through combine_denoised")
    import torch

    from smoothie.guidance import rescale_cfg_x0

    class Patcher:
        def __init__(self):
            self.model_options = {}
            self.model = type("KModel", (), {"predictor": type("Prediction", (), {"prediction_type": "epsilon"})()})()

        def clone(self):
            n = Patcher()
            n.model_options = {k: list(v) if isinstance(v, list) else v for k, v in self.model_options.items()}
            return n

        def set_model_sampler_post_cfg_function(self, fn, disable_cfg1_optimization=False):
            self.model_options.setdefault("sampler_post_cfg_function", []).append(fn)

    original = Patcher()
    with use_model(FakeModel()) as model:
        model.forge_objects = type("ForgeObjects", (), {"unet": original})()
        p = make_p()
        p.sd_model = model
        run = begun(p, enabled=False, rescale=0.7)
        run.before_sampling()
    unet = model.forge_objects.unet
    assert unet is not original, "the host's UNet patcher is cloned, never modified"
    assert original.model_options == {}
    (fn,) = unet.model_options["sampler_post_cfg_function"]
    gen = torch.Generator().manual_seed(1)
    x, cond, uncond = (torch.randn(2, 4, 8, 8, generator=gen) for _ in range(3))
    guided = uncond + 7 * (cond - uncond)
    sigma = torch.tensor([3.0, 3.0])
    got = fn({"denoised": guided, "cond_denoised": cond, "uncond_denoised": uncond, "sigma": sigma, "input": x})
    torch.testing.assert_close(got, rescale_cfg_x0(x, guided, cond, sigma, 0.7))
    assert p.extra_generation_params["Smoothie rescale"] == "0.7"

    flow = Patcher()
    flow.model.predictor.prediction_type = "const"
    with use_model(FakeModel()) as model:
        model.forge_objects = type("ForgeObjects", (), {"unet": flow})()
        p = make_p()
        p.sd_model = model
        run = begun(p, enabled=False, rescale=0.7)
        run.before_sampling()
    assert model.forge_objects.unet is flow
    assert p.extra_generation_params["Smoothie rescale"] == "0"
    assert "flow matching" in p.extra_generation_params["Smoothie note"]


def check_cfg_boost_applied_and_restored():
    with use_model(FakeModel()):
        p = make_p()
        p.cfg_scale = 7.0
        had_hr_cfg = hasattr(p, "hr_cfg")
        if had_hr_cfg:
            p.hr_cfg = 1.0
        run = begun(p, cfg_boost=20, enabled=False, rescale=0.0)
        assert p.cfg_scale == 20
        if had_hr_cfg:
            assert p.hr_cfg == 20, "Forge/reForge: the hires pass gets the boost too"
        run.__exit__(None, None, None)
    assert p.cfg_scale == 7.0
    if had_hr_cfg:
        assert p.hr_cfg == 1.0


def check_ensemble_failure_falls_back_with_message():
    from modules import prompt_parser

    calls = []

    def original(function, required_prompts, *args):
        calls.append(list(required_prompts))
        return "plain"

    with use_model(FakeModel()):
        p = make_p("")
        run = begun(p)
        from smoothie.webui.run import _conds_wrapper

        wrapper = _conds_wrapper(run, original)
        p.cached_params = lambda *a: ("key",)
        got = wrapper(
            prompt_parser.get_multicond_learned_conditioning, prompt_parser.SdConditioning([""]), 10, [], None
        )
        assert got == "plain"
        assert calls == [[""]]
        assert "prompt ensemble failed" in p.extra_generation_params["Smoothie error"]
        assert p.extra_generation_params["Smoothie ensemble"] == "False", "the infotext must not claim an ensemble"
        run.__exit__(None, None, None)


def check_preview_and_infotext_say_where_the_paraphrases_came_from():
    """The default backend is auto: with no language model on this machine the rules backend answers, and the
    Preview and the infotext say so rather than claim a model."""
    from smoothie.webui import script

    generic, rows, text, status = script.preview("a photo of Emma Watson in Paris", 4, "auto", "")
    assert len(text.splitlines()) == 4, text
    assert rows and "Emma Watson" not in generic
    if "from the model" in status:  # a local server (Ollama, LM Studio, llama.cpp) runs here
        assert "backend `auto`" in status, status
    else:
        assert "4 from the rules backend" in status and "no local server answered" in status, status
    with use_model(FakeModel()) as model:
        p = make_p()
        run = begun(p, backend="auto")
        _multicond(run, model, [p.prompt])
        written = p.extra_generation_params.get("Smoothie model", "")
        assert written == "none (rules)" or written.endswith(" of 4)"), written
        assert p.extra_generation_params["Smoothie backend"] == "auto"
        run.__exit__(None, None, None)


def check_xyz_axes_use_a_new_dict_per_cell():
    import copy

    from smoothie.webui import xyz

    p = make_p()
    xyz._apply("ensemble_size", int)(p, "8", None)
    q = copy.copy(p)
    xyz._apply("mode", xyz._mode)(q, "Per image", None)
    assert p.smoothie_overrides == {"ensemble_size": 8}
    assert q.smoothie_overrides == {"ensemble_size": 8, "mode": "per-image"}


def check_script_ui_order_matches_params():
    """The components ``ui()`` returns are the parameters in FIELDS order (API script_args order)."""
    import gradio as gr

    from smoothie.params import FIELDS
    from smoothie.webui.script import SmoothieScript

    script = SmoothieScript()
    with gr.Blocks():
        comps = script.ui(is_img2img=False)
    assert len(comps) == len(FIELDS)
    labels = [c.label for c in comps]
    for comp, spec in zip(comps, FIELDS, strict=True):
        assert comp.label.startswith(spec.label), (comp.label, spec.label, labels)
    pasted = [f for f in FIELDS if f.name not in ("comparison", "sweep")]
    keys = [k for _, k in script.infotext_fields]
    assert len(keys) == len(pasted)
    for key, spec in zip(keys, pasted, strict=True):
        if callable(key):  # fields an infotext may leave out (guidance, the interval): decided from the whole text
            assert key({spec.infotext: "7"}) == "7"
            assert key({"Smoothie rescale": "0.7"}) in ("rescale", 0.0)
            assert key({"Steps": "20"}) is None
        else:
            assert key == spec.infotext


def check_settings_register_and_the_tag_database_setting_is_used_or_ignored():
    """Every Smoothie setting registers in the host's Settings; the tag database set there reaches the run when
    it can be read, and a bad one is ignored (the default is used), never a failed generation."""
    import tempfile

    from modules import shared

    from smoothie.webui import settings

    settings.on_ui_settings()
    for key in [*settings.DEFAULT_OPTIONS, settings.NAMES_FILE_OPTION, settings.TAG_DATABASE_OPTION]:
        assert key in shared.opts.data_labels, key
    saved = shared.opts.data.get(settings.TAG_DATABASE_OPTION)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            good = Path(tmp) / "tags.csv"
            good.write_text('1girl,0,100,""\nzenthari_mollowick,1,10,""\n', encoding="utf-8")
            shared.opts.data[settings.TAG_DATABASE_OPTION] = f" {good} "
            assert settings.tag_database() == str(good)
            shared.opts.data[settings.TAG_DATABASE_OPTION] = str(Path(tmp) / "missing.csv")
            assert settings.tag_database() is None
            shared.opts.data[settings.TAG_DATABASE_OPTION] = ""
            assert settings.tag_database() is None
    finally:
        shared.opts.data[settings.TAG_DATABASE_OPTION] = saved


def main() -> int:
    host_dir, *names = sys.argv[1:]
    boot(host_dir)
    checks = {k: v for k, v in globals().items() if k.startswith("check_")}
    for name in names or list(checks):
        try:
            checks[name]()
            result = {"check": name, "ok": True}
        except Skip as skip:
            result = {"check": name, "ok": True, "skipped": str(skip)}
        except BaseException:
            result = {"check": name, "ok": False, "error": traceback.format_exc()}
        print("SMOOTHIE-CHECK " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
