"""Guidance plans and sessions (smoothie.generation.guidance): what a host's CFG hook computes."""

from __future__ import annotations

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
