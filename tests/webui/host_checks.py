"""Checks of the host layer against the real A1111 ``modules``, run inside A1111's own interpreter.

``tests/webui/test_host.py`` starts this file with A1111's Python (its venv has A1111's dependencies, the
project's does not) as ``python host_checks.py A1111_DIR [CHECK ...]``; it prints one JSON line per check.
No model is loaded: the text encoder is a deterministic stand-in, the denoiser a real A1111 class.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED_LORA = ROOT.parent / "shared" / "models" / "models" / "Lora"


def boot(a1111_dir: str) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, a1111_dir)
    os.chdir(a1111_dir)
    sys.argv = ["webui.py", "--skip-torch-cuda-test", "--no-half", "--use-cpu", "all", "--lora-dir", str(SHARED_LORA)]
    from modules import shared_init

    shared_init.initialize()


class FakeModel:
    """Stands in for ``shared.sd_model``: a text → tensor map that is deterministic and distinct per text."""

    def __init__(self, sdxl: bool = False, channels: int = 8):
        self.sdxl = sdxl
        self.is_sdxl = sdxl
        self.is_sd1 = not sdxl
        self.is_sd2 = False
        self.sd_checkpoint_info = "fake-checkpoint"
        self.channels = channels
        self.calls: list[list[str]] = []
        import torch

        self.cond_stage_model_empty_prompt = self.encode_one("")[None]
        self.torch = torch

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
        if self.sdxl:
            return {"crossattn": cross, "vector": torch.stack([self.vector(t) for t in texts])}
        return cross


class use_model:  # noqa: N801 (a context manager used like a function)
    """Put ``model`` in ``shared.sd_model`` for the block without triggering A1111's model loading."""

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


def make_run(p, **changes):
    from smoothie.params import SmoothieParams
    from smoothie.webui import hooks

    return hooks.SmoothieRun(p, SmoothieParams(ensemble_size=4, **changes))


def _mean(tensors):
    import torch

    return torch.stack(list(tensors)).mean(0)


# --- checks --------------------------------------------------------------------------------------------------


def check_average_mode_is_mean_of_paraphrase_encodings():
    import torch
    from modules import prompt_parser

    from smoothie.webui import hooks

    p = make_p()
    run = make_run(p)
    model = FakeModel()
    prompts = prompt_parser.SdConditioning([p.prompt], width=512, height=512)
    mc = hooks.ensemble_conditioning(run, model, prompts, 10, None, False)
    assert mc.shape == (1,)
    (parts,) = mc.batch
    assert len(parts) == 1, "average mode must give one conditioning per image (UNet cost independent of N)"
    assert parts[0].weight == 1.0
    (sched,) = parts[0].schedules
    paras = run.state.paraphrases[p.prompt]
    assert len(paras) == 4
    torch.testing.assert_close(sched.cond, _mean(model.encode_one(t) for t in paras))
    assert sched.end_at_step == 10
    assert len(model.calls) == 1, f"all paraphrases are encoded in one batch, got {len(model.calls)} calls"


def check_sdxl_average_includes_vector():
    import torch
    from modules import prompt_parser

    from smoothie.webui import hooks

    p = make_p("a portrait of Greg Rutkowski")
    run = make_run(p)
    model = FakeModel(sdxl=True)
    mc = hooks.ensemble_conditioning(run, model, prompt_parser.SdConditioning([p.prompt]), 10, None, False)
    cond = mc.batch[0][0].schedules[0].cond
    assert set(cond) == {"crossattn", "vector"}
    paras = run.state.paraphrases[p.prompt]
    torch.testing.assert_close(cond["vector"], _mean(model.vector(t) for t in paras))
    torch.testing.assert_close(cond["crossattn"], _mean(model.encode_one(t) for t in paras))


def check_composable_mode_is_and_with_weights_one_over_n():
    from modules import prompt_parser

    from smoothie.webui import hooks

    p = make_p()
    run = make_run(p, mode="composable")
    mc = hooks.ensemble_conditioning(run, FakeModel(), prompt_parser.SdConditioning([p.prompt]), 10, None, False)
    parts = mc.batch[0]
    assert len(parts) == 4
    assert all(abs(c.weight - 0.25) < 1e-9 for c in parts)


def check_per_image_mode_gives_each_image_a_paraphrase():
    import torch
    from modules import prompt_parser

    from smoothie.webui import hooks

    p = make_p()
    run = make_run(p, mode="per-image")
    model = FakeModel()
    prompts = prompt_parser.SdConditioning([p.prompt] * 3)
    p.iteration = 1  # second batch of 3: paraphrases 3, 0, 1 of 4
    mc = hooks.ensemble_conditioning(run, model, prompts, 10, None, False)
    paras = run.state.paraphrases[p.prompt]
    for pos, want in enumerate([3, 0, 1]):
        torch.testing.assert_close(mc.batch[pos][0].schedules[0].cond, model.encode_one(paras[want]))


def check_and_and_scheduling_are_kept():
    from modules import prompt_parser

    from smoothie.webui import hooks

    p = make_p("a red [cat:dog:5] on a sofa AND a lamp :0.5")
    run = make_run(p)
    mc = hooks.ensemble_conditioning(run, FakeModel(), prompt_parser.SdConditioning([p.prompt]), 10, None, False)
    parts = mc.batch[0]
    assert [round(c.weight, 6) for c in parts] == [1.0, 0.5], [c.weight for c in parts]
    assert [s.end_at_step for s in parts[0].schedules] == [5, 10]


def check_get_conds_wrapper_never_touches_a1111_cache_and_is_undone():
    from modules import processing, prompt_parser

    p = make_p()
    before = dict(vars(p))
    cached_c = list(processing.StableDiffusionProcessing.cached_c)
    try:
        with use_model(FakeModel()) as model, make_run(p) as run:
            assert "get_conds_with_caching" in vars(p)
            prompts = prompt_parser.SdConditioning([p.prompt])
            fn = prompt_parser.get_multicond_learned_conditioning
            first = p.get_conds_with_caching(fn, prompts, 10, [p.cached_c], None)
            again = p.get_conds_with_caching(fn, prompts, 10, [p.cached_c], None)
            assert not run.state.messages, run.state.messages
            assert again is first, "the ensemble's own cache answers the second call"
            assert len(first.batch[0]) == 1
            assert len(model.calls) == 1
            assert processing.StableDiffusionProcessing.cached_c == cached_c
            raise KeyboardInterrupt  # leaving by an exception still restores
    except KeyboardInterrupt:
        pass
    assert dict(vars(p)) == before, sorted(set(vars(p)) ^ set(before))


def check_negative_lora_injected_once_and_restored():

    p = make_p("a cat <lora:wrong-tiny-sdxl:0.3>")
    with use_model(FakeModel(sdxl=True)):
        before = dict(vars(p))
        with make_run(p, negative_lora="wrong-tiny-sdxl", lora_weight=0.8):
            assert p.prompt.count("<lora:wrong-tiny-sdxl") == 1
            assert p.negative_prompt == "blurry, wrong"
            assert p.extra_generation_params["Smoothie LoRA"] == "wrong-tiny-sdxl"
        assert p.prompt == before["prompt"]
        assert p.negative_prompt == "blurry"
        p2 = make_p("a cat")
        with make_run(p2, negative_lora="wrong-tiny-sdxl", lora_weight=0.8):
            assert p2.prompt == "a cat <lora:wrong-tiny-sdxl:0.8>"


def check_wrong_architecture_and_unknown_lora_are_refused_with_a_message():

    with use_model(FakeModel(sdxl=False)):
        p = make_p("a cat")
        with make_run(p, negative_lora="wrong-tiny-sdxl"):
            assert "<lora:" not in p.prompt
            assert p.negative_prompt == "blurry"
            err = p.extra_generation_params["Smoothie error"]
            assert "SDXL LoRA" in err, err
            assert "SD1.x" in err, err
            assert any("Smoothie" in c for c in p.comments)
        p = make_p("a cat")
        with make_run(p, negative_lora="no-such-lora"):
            assert "not found" in p.extra_generation_params["Smoothie error"]


def check_rescale_hook_is_gated_on_p_and_undone():
    import torch
    from modules import script_callbacks, sd_samplers_kdiffusion, sd_samplers_timesteps

    from smoothie.guidance import rescale_cfg, rescale_cfg_x0
    from smoothie.webui import hooks

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
    hooks.on_cfg_denoiser(script_callbacks.CFGDenoiserParams(x_in, None, sigma_in, 0, 10, None, None, plain))
    assert "combine_denoised" not in vars(plain), "a generation without Smoothie must not be touched"

    den = sd_samplers_kdiffusion.CFGDenoiserKDiffusion(sampler=None)
    den.p = make_p()
    with make_run(den.p, enabled=False, rescale=0.7):
        hooks.on_cfg_denoiser(script_callbacks.CFGDenoiserParams(x_in, None, sigma_in, 0, 10, None, None, den))
        got = den.combine_denoised(x_out, conds_list, uncond, 7.0)
        guided = plain.combine_denoised(x_out, conds_list, uncond, 7.0)
        cond = plain.combine_denoised(x_out, conds_list, uncond, 1.0)
        torch.testing.assert_close(got, rescale_cfg_x0(x, guided, cond, sigma, 0.7))
        assert not torch.equal(got, guided)
    assert "combine_denoised" not in vars(den)
    assert torch.equal(den.combine_denoised(x_out, conds_list, uncond, 7.0), want_plain)

    class Sampler:
        pass

    with use_model(type("M", (), {"alphas_cumprod": torch.linspace(0.99, 0.01, 1000)})()):
        ts = sd_samplers_timesteps.CFGDenoiserTimesteps(Sampler())
    ts.p = make_p()
    with make_run(ts.p, enabled=False, rescale=0.5):
        hooks.on_cfg_denoiser(script_callbacks.CFGDenoiserParams(x_in, None, sigma_in, 0, 10, None, None, ts))
        got = ts.combine_denoised(x_out, conds_list, uncond, 7.0)
        torch.testing.assert_close(got, rescale_cfg(guided, cond, 0.5))
    assert "combine_denoised" not in vars(ts)


def check_cfg_boost_applied_and_restored():
    p = make_p()
    p.cfg_scale = 7.0
    with make_run(p, cfg_boost=20, enabled=False):
        assert p.cfg_scale == 20
    assert p.cfg_scale == 7.0


def check_ensemble_failure_falls_back_with_message():
    from modules import prompt_parser

    p = make_p("")
    calls = []

    def original(function, required_prompts, *args):
        calls.append(list(required_prompts))
        return "plain"

    with use_model(FakeModel()):
        run = make_run(p)
        run.__enter__()
        from smoothie.webui.hooks import _conds_wrapper

        wrapper = _conds_wrapper(run, original)
        p.cached_params = lambda *a: ("key",)
        got = wrapper(
            prompt_parser.get_multicond_learned_conditioning, prompt_parser.SdConditioning([""]), 10, [], None
        )
        assert got == "plain"
        assert calls == [[""]]
        assert "prompt ensemble failed" in p.extra_generation_params["Smoothie error"]
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
    keys = [k for _, k in script.infotext_fields]
    assert keys == [f.infotext for f in FIELDS if f.name != "comparison"]


def main() -> int:
    a1111_dir, *names = sys.argv[1:]
    boot(a1111_dir)
    checks = {k: v for k, v in globals().items() if k.startswith("check_")}
    for name in names or list(checks):
        try:
            checks[name]()
            result = {"check": name, "ok": True}
        except BaseException:
            result = {"check": name, "ok": False, "error": traceback.format_exc()}
        print("SMOOTHIE-CHECK " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
