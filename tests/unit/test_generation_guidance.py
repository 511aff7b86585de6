"""Guidance plans and sessions (smoothie.generation.guidance): what a host's CFG hook computes."""

from __future__ import annotations

import pytest
import torch

from smoothie.generation import GuidanceMode, GuidancePlan
from smoothie.guidance import rescale_cfg, rescale_cfg_x0


def _tensors(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 4, 8, 8, generator=gen) * 5
    cond = torch.randn(2, 4, 8, 8, generator=gen)
    uncond = torch.randn(2, 4, 8, 8, generator=gen)
    return x, cond, uncond, uncond + 7.0 * (cond - uncond)


def test_plain_cfg_is_inactive_and_returns_the_hosts_result():
    plan = GuidancePlan()
    assert not plan.active
    x, cond, uncond, guided = _tensors()
    session = plan.session()
    assert (
        session.combine_x0(x=x, sigma=torch.tensor([3.0, 3.0]), cond=cond, uncond=uncond, guided=guided, scale=7.0)
        is guided
    )
    assert session.combine_eps(cond=cond, uncond=uncond, guided=guided, scale=7.0) is guided


def test_rescale_in_x0_space_matches_the_v_space_formula():
    plan = GuidancePlan(GuidanceMode.RESCALE, rescale=0.7)
    assert plan.active
    x, cond, uncond, guided = _tensors()
    sigma = torch.tensor([3.0, 1.5])
    got = plan.session().combine_x0(x=x, sigma=sigma, cond=cond, uncond=uncond, guided=guided, scale=None)
    torch.testing.assert_close(got, rescale_cfg_x0(x, guided, cond, sigma, 0.7))
    assert not torch.equal(got, guided)


def test_rescale_in_eps_space():
    plan = GuidancePlan(GuidanceMode.RESCALE, rescale=0.5)
    _, cond, uncond, guided = _tensors(1)
    got = plan.session().combine_eps(cond=cond, uncond=uncond, guided=guided, scale=7.0)
    torch.testing.assert_close(got, rescale_cfg(guided, cond, 0.5))


def test_cfg_scale_one_is_left_alone():
    plan = GuidancePlan(GuidanceMode.RESCALE, rescale=1.0)
    x, cond, _, _ = _tensors(2)
    session = plan.session()
    assert session.combine_x0(x=x, sigma=torch.tensor(2.0), cond=cond, uncond=None, guided=cond, scale=1.0) is cond


def test_apg_session_carries_the_momentum_and_resets_when_sigma_goes_up():
    from smoothie.guidance import apg

    plan = GuidancePlan(GuidanceMode.APG, eta=0.0, norm_threshold=15.0, momentum=-0.5)
    assert plan.active and plan.needs_x0
    session = plan.session()
    running = None
    for step, sigma in enumerate([10.0, 5.0, 2.0]):
        x, cond, uncond, guided = _tensors(step)
        got = session.combine_x0(x=x, sigma=torch.tensor([sigma] * 2), cond=cond, uncond=uncond, guided=guided, scale=9)
        want, running = apg(cond, uncond, 9, eta=0.0, norm_threshold=15.0, momentum=-0.5, running=running)
        torch.testing.assert_close(got, want)
    # a new pass (σ up again) starts without momentum
    x, cond, uncond, guided = _tensors(7)
    got = session.combine_x0(x=x, sigma=torch.tensor([12.0, 12.0]), cond=cond, uncond=uncond, guided=guided, scale=9)
    torch.testing.assert_close(got, apg(cond, uncond, 9, eta=0.0, norm_threshold=15.0, momentum=-0.5, running=None)[0])


def test_apg_takes_the_scale_recorded_by_step_scale_when_the_host_does_not_give_it():
    plan = GuidancePlan(GuidanceMode.APG, eta=1.0, norm_threshold=0.0, momentum=0.0)  # = plain CFG
    session = plan.session()
    x, cond, uncond, guided = _tensors(3)
    assert session.step_scale(torch.tensor([3.0, 3.0]), 7.0) == 7.0
    got = session.combine_x0(x=x, sigma=torch.tensor([3.0, 3.0]), cond=cond, uncond=uncond, guided=guided, scale=None)
    torch.testing.assert_close(got, guided)
    fresh = plan.session()
    with pytest.raises(ValueError, match="CFG scale"):
        fresh.combine_x0(x=x, sigma=torch.tensor([3.0, 3.0]), cond=cond, uncond=uncond, guided=guided, scale=None)


@pytest.mark.parametrize("mode", [GuidanceMode.CFG, GuidanceMode.RESCALE, GuidanceMode.APG])
def test_outside_the_interval_the_conditional_prediction_alone(mode):
    plan = GuidancePlan(mode, rescale=0.7, sigma_min=0.28, sigma_max=5.42)
    assert plan.active and plan.has_interval
    assert [plan.in_interval(s) for s in (10.0, 5.42, 1.0, 0.28, 0.1)] == [False, True, True, True, False]
    assert plan.in_interval(None)
    session = plan.session()
    x, cond, uncond, guided = _tensors(4)
    assert session.step_scale(torch.tensor([8.0, 8.0]), 7.0) == 1.0
    assert session.step_scale(torch.tensor([2.0, 2.0]), 7.0) == 7.0
    out = session.combine_x0(x=x, sigma=torch.tensor([8.0, 8.0]), cond=cond, uncond=uncond, guided=guided, scale=7.0)
    assert out is cond
    inside = session.combine_x0(x=x, sigma=torch.tensor([2.0, 2.0]), cond=cond, uncond=uncond, guided=guided, scale=7)
    if mode is GuidanceMode.CFG:
        assert inside is guided
    else:
        assert not torch.equal(inside, guided)
    assert (session.steps, session.unguided) == (2, 1)


def test_eps_space_refuses_what_needs_x0():
    _, cond, uncond, guided = _tensors(5)
    for plan in (GuidancePlan(GuidanceMode.APG), GuidancePlan(GuidanceMode.RESCALE, rescale=0.5, sigma_max=3.0)):
        with pytest.raises(ValueError, match="x0"):
            plan.session().combine_eps(cond=cond, uncond=uncond, guided=guided, scale=7.0)
    assert GuidancePlan(GuidanceMode.RESCALE, rescale=0.5).label == "CFG rescale"
    assert GuidancePlan(sigma_min=1.0).label == "CFG with a guidance interval"
