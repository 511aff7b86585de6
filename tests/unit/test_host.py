"""Forge/reForge guidance adapter (smoothie.webui.host.ForgeHost.before_sampling) on a fake UNet patcher.

The real hosts are exercised by tests/webui and tests/integration (with FORGE_DIR / REFORGE_DIR); this checks in
CI what the adapter installs: a post-CFG function and a conditioning modifier on a clone, the modifier's CFG 1
outside the guidance interval (the host then skips the unconditional pass), and APG with the recorded scale.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from smoothie.generation import GuidanceMode, GuidancePlan  # noqa: E402
from smoothie.guidance import apg  # noqa: E402
from smoothie.webui.host import ForgeHost  # noqa: E402


class FakeUnet:
    def __init__(self) -> None:
        self.model = SimpleNamespace()
        self.model_options: dict[str, Any] = {}
        self.post_cfg: list[Any] = []
        self.modifiers: list[Any] = []

    def clone(self) -> FakeUnet:
        twin = FakeUnet()
        twin.post_cfg, twin.modifiers = list(self.post_cfg), list(self.modifiers)
        return twin

    def set_model_sampler_post_cfg_function(self, fn: Any) -> None:
        self.post_cfg.append(fn)

    def add_conditioning_modifier(self, fn: Any) -> None:
        self.modifiers.append(fn)


class FakeRun:
    def __init__(self, plan: GuidancePlan, unet: FakeUnet, cfg: float = 7.0):
        self.plan = SimpleNamespace(guidance=plan)
        self.record = SimpleNamespace(guidance_active=True)
        self.p = SimpleNamespace(sd_model=SimpleNamespace(forge_objects=SimpleNamespace(unet=unet)), cfg_scale=cfg)
        self.skipped: list[str] = []
        self.notes: list[str] = []

    def skip_guidance(self, reason: str) -> None:
        self.skipped.append(reason)
        self.record.guidance_active = False

    def note(self, message: str) -> None:
        self.notes.append(message)


def _tensors(seed=0):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(1, 4, 8, 8, generator=g) for _ in range(3))


def test_apg_with_an_interval_on_a_clone():
    plan = GuidancePlan(GuidanceMode.APG, sigma_min=0.5, sigma_max=5.0)
    original = FakeUnet()
    run = FakeRun(plan, original)
    ForgeHost().before_sampling(run)  # type: ignore[arg-type]
    clone = run.p.sd_model.forge_objects.unet
    assert clone is not original and original.post_cfg == [] and original.modifiers == []
    (post_cfg,), (modifier,) = clone.post_cfg, clone.modifiers
    x, cond, uncond = _tensors()
    # outside the interval: CFG 1 for the host (no uncond pass), the conditional prediction alone
    out = modifier("model", x, torch.tensor([9.0]), "uncond", "cond", 7.0, {}, 0)
    assert out == ("model", x, out[2], "uncond", "cond", 1.0, {}, 0)
    args = {"denoised": cond, "cond_denoised": cond, "uncond_denoised": torch.zeros_like(cond), "sigma": out[2]}
    assert post_cfg({**args, "input": x}) is cond
    # inside: the host's scale, recorded for APG (Forge's post-CFG arguments carry none)
    sigma = torch.tensor([2.0])
    assert modifier("model", x, sigma, "uncond", "cond", 7.0, {}, 0)[5] == 7.0
    guided = uncond + 7.0 * (cond - uncond)
    got = post_cfg({"denoised": guided, "cond_denoised": cond, "uncond_denoised": uncond, "sigma": sigma, "input": x})
    want, _ = apg(
        cond, uncond, 7.0, eta=plan.eta, norm_threshold=plan.norm_threshold, momentum=plan.momentum, running=None
    )
    torch.testing.assert_close(got, want)
    assert run.skipped == [] and run.notes == []


def test_a_failure_turns_guidance_off_and_returns_the_hosts_result():
    run = FakeRun(GuidancePlan(GuidanceMode.APG), FakeUnet())
    ForgeHost().before_sampling(run)  # type: ignore[arg-type]
    post_cfg = run.p.sd_model.forge_objects.unet.post_cfg[0]
    x, cond, uncond = _tensors(1)
    guided = uncond + 5 * (cond - uncond)
    bad = {"denoised": guided, "cond_denoised": cond, "uncond_denoised": uncond[:, :2], "sigma": 1.0, "input": x}
    assert post_cfg(bad) is guided
    assert run.skipped and run.skipped[0].startswith("APG failed")


def test_no_post_cfg_hook_is_said():
    run = FakeRun(GuidancePlan(GuidanceMode.RESCALE, rescale=0.7), SimpleNamespace())  # type: ignore[arg-type]
    ForgeHost().before_sampling(run)  # type: ignore[arg-type]
    assert run.skipped == ["CFG rescale not applied: this Forge has no post-CFG hook on its UNet"]
