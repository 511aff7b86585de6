"""CFG rescale, prediction-space conversions and conditioning averages (smoothie.guidance)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from smoothie.guidance import (
    average_conditioning,
    average_schedules,
    eps_to_x0,
    mean_conditioning,
    normalized_weights,
    pad_tokens,
    per_sample_std,
    rescale_cfg,
    rescale_cfg_x0,
    stack_conds,
    v_to_x0,
    x0_to_eps,
    x0_to_v,
)


def reference_rescale(noise_cfg: np.ndarray, noise_pred_text: np.ndarray, guidance_rescale: float) -> np.ndarray:
    """diffusers' ``rescale_noise_cfg`` written out in numpy (float64), the formula of Lin et al. 2023, Alg. 2."""
    axes = tuple(range(1, noise_cfg.ndim))
    std_text = noise_pred_text.std(axis=axes, keepdims=True, ddof=1)
    std_cfg = noise_cfg.std(axis=axes, keepdims=True, ddof=1)
    rescaled = noise_cfg * (std_text / std_cfg)
    return guidance_rescale * rescaled + (1 - guidance_rescale) * noise_cfg


@pytest.mark.parametrize("shape", [(1, 4, 8, 8), (3, 4, 16, 12), (2, 77), (5, 2, 3, 4, 5)])
@pytest.mark.parametrize("phi", [0.0, 0.3, 0.7, 1.0])
def test_rescale_matches_reference_formula(shape, phi):
    gen = torch.Generator().manual_seed(hash((shape, phi)) % 2**31)
    cond = torch.randn(shape, generator=gen)
    uncond = torch.randn(shape, generator=gen) * 0.5
    guided = uncond + 7.5 * (cond - uncond)
    got = rescale_cfg(guided, cond, phi)
    want = reference_rescale(guided.double().numpy(), cond.double().numpy(), phi)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-5)


def test_phi_zero_is_identity_and_phi_one_matches_cond_std():
    gen = torch.Generator().manual_seed(0)
    cond = torch.randn(4, 4, 32, 32, generator=gen)
    guided = cond * 9.0 + torch.randn(4, 4, 32, 32, generator=gen)
    assert torch.equal(rescale_cfg(guided, cond, 0.0), guided)
    out = rescale_cfg(guided, cond, 1.0)
    torch.testing.assert_close(per_sample_std(out), per_sample_std(cond), rtol=1e-5, atol=1e-6)
    # the per-sample std of the guided prediction was much larger, so the rescale really moved it
    assert bool((per_sample_std(guided) > 5 * per_sample_std(cond)).all())


def test_rescale_does_not_modify_inputs_and_keeps_dtype():
    cond = torch.randn(2, 4, 8, 8).half()
    guided = (cond.float() * 5).half()
    before = (cond.clone(), guided.clone())
    out = rescale_cfg(guided, cond, 0.7)
    assert out.dtype == torch.float16
    assert torch.equal(cond, before[0])
    assert torch.equal(guided, before[1])


@pytest.mark.parametrize("phi", [-0.1, 1.5, float("nan")])
def test_rescale_rejects_bad_phi(phi):
    with pytest.raises(ValueError, match="phi"):
        rescale_cfg(torch.ones(1, 2), torch.ones(1, 2), phi)


def test_rescale_rejects_shape_mismatch_and_unbatched():
    with pytest.raises(ValueError, match="same shape"):
        rescale_cfg(torch.ones(1, 2), torch.ones(1, 3), 0.5)
    with pytest.raises(ValueError, match="batched"):
        rescale_cfg(torch.ones(3), torch.ones(3), 0.5)


@settings(max_examples=40, deadline=None)
@given(
    batch=st.integers(1, 3),
    phi=st.floats(0.0, 1.0),
    scale=st.floats(1.0, 30.0),
    seed=st.integers(0, 2**16),
)
def test_rescale_properties(batch, phi, scale, seed):
    gen = torch.Generator().manual_seed(seed)
    cond = torch.randn(batch, 3, 5, 5, generator=gen, dtype=torch.float64)
    uncond = torch.randn(batch, 3, 5, 5, generator=gen, dtype=torch.float64)
    guided = uncond + scale * (cond - uncond)
    out = rescale_cfg(guided, cond, phi)
    # the result is a per-sample positive multiple of the guided prediction (the rescale never flips signs) ...
    ratio = per_sample_std(cond) / per_sample_std(guided)
    factor = phi * ratio + (1 - phi)
    torch.testing.assert_close(out, guided * factor)
    # ... and its std lies between the guided and the conditional std
    s_out, s_g, s_c = per_sample_std(out), per_sample_std(guided), per_sample_std(cond)
    lo, hi = torch.minimum(s_g, s_c), torch.maximum(s_g, s_c)
    assert bool((s_out >= lo * (1 - 1e-9)).all())
    assert bool((s_out <= hi * (1 + 1e-9)).all())


@settings(max_examples=40, deadline=None)
@given(sigma=st.floats(0.01, 80.0), seed=st.integers(0, 2**16))
def test_prediction_round_trips(sigma, seed):
    gen = torch.Generator().manual_seed(seed)
    x0 = torch.randn(2, 4, 6, 6, generator=gen, dtype=torch.float64)
    eps = torch.randn(2, 4, 6, 6, generator=gen, dtype=torch.float64)
    x_t = x0 + sigma * eps
    torch.testing.assert_close(v_to_x0(x_t, x0_to_v(x_t, x0, sigma), sigma), x0)
    torch.testing.assert_close(x0_to_eps(x_t, x0, sigma), eps)
    torch.testing.assert_close(eps_to_x0(x_t, eps, sigma), x0)


def test_v_matches_its_definition():
    """v = α ε − σ_vp x0 with α = 1/√(1+σ²), σ_vp = σ/√(1+σ²) (Salimans & Ho 2022)."""
    sigma = torch.tensor([0.5, 3.0], dtype=torch.float64)
    x0 = torch.randn(2, 4, 3, 3, dtype=torch.float64)
    eps = torch.randn(2, 4, 3, 3, dtype=torch.float64)
    s = sigma.view(-1, 1, 1, 1)
    x_t = x0 + s * eps
    alpha, sigma_vp = 1 / (1 + s**2).sqrt(), s / (1 + s**2).sqrt()
    torch.testing.assert_close(x0_to_v(x_t, x0, sigma), alpha * eps - sigma_vp * x0)


def test_rescale_x0_equals_rescale_in_v_space_like_comfyui():
    """ComfyUI's RescaleCFG: convert x0 to v, rescale there, convert back."""
    gen = torch.Generator().manual_seed(3)
    sigma = torch.tensor([14.6, 0.9], dtype=torch.float64)
    x_t = torch.randn(2, 4, 8, 8, generator=gen, dtype=torch.float64) * sigma.view(-1, 1, 1, 1)
    cond = torch.randn(2, 4, 8, 8, generator=gen, dtype=torch.float64)
    uncond = torch.randn(2, 4, 8, 8, generator=gen, dtype=torch.float64)
    guided = uncond + 12 * (cond - uncond)
    got = rescale_cfg_x0(x_t, guided, cond, sigma, 0.7)

    # ComfyUI's node, transcribed: its "cond"/"uncond" are x_t − x0 and it returns x_t − (new noise)
    s = sigma.view(-1, 1, 1, 1)
    x = x_t / (s * s + 1.0)
    v_c = ((x - cond) * (s**2 + 1.0) ** 0.5) / s
    v_u = ((x - uncond) * (s**2 + 1.0) ** 0.5) / s
    v_cfg = v_u + 12 * (v_c - v_u)
    ro_pos = v_c.std(dim=(1, 2, 3), keepdim=True)
    ro_cfg = v_cfg.std(dim=(1, 2, 3), keepdim=True)
    v_final = 0.7 * v_cfg * (ro_pos / ro_cfg) + 0.3 * v_cfg
    want = x - v_final * s / (s * s + 1.0) ** 0.5
    torch.testing.assert_close(got, want)
    assert torch.equal(rescale_cfg_x0(x_t, guided, cond, sigma, 0.0), guided)


def test_conversion_rejects_bad_sigma():
    x = torch.zeros(2, 1, 2, 2)
    with pytest.raises(ValueError, match="sigma"):
        x0_to_v(x, x, 0.0)
    with pytest.raises(ValueError, match="one value per sample"):
        x0_to_v(x, x, torch.ones(3))


def test_average_crossattn_and_weights():
    batch = torch.arange(2 * 3 * 4, dtype=torch.float32).view(2, 3, 4)
    torch.testing.assert_close(average_conditioning(batch), (batch[0] + batch[1]) / 2)
    torch.testing.assert_close(average_conditioning(batch, [3, 1]), 0.75 * batch[0] + 0.25 * batch[1])
    assert normalized_weights([2, 2, 4], 3) == [0.25, 0.25, 0.5]
    for bad in ([1], [1, -1], [0, 0], [1, float("inf")]):
        with pytest.raises(ValueError, match="weights"):
            average_conditioning(batch, bad)


def test_average_sdxl_dict_and_no_mutation():
    cross = torch.randn(4, 77, 8)
    vector = torch.randn(4, 16)
    cond = {"crossattn": cross, "vector": vector}
    saved = {k: v.clone() for k, v in cond.items()}
    out = average_conditioning(cond)
    assert set(out) == {"crossattn", "vector"}
    torch.testing.assert_close(out["crossattn"], cross.mean(0))
    torch.testing.assert_close(out["vector"], vector.mean(0))
    for k, v in cond.items():
        assert torch.equal(v, saved[k])
    with pytest.raises(ValueError, match="batch sizes"):
        average_conditioning({"crossattn": cross, "vector": vector[:2]})


def test_average_half_precision_sums_in_float32():
    batch = torch.full((64, 2, 2), 1000.0, dtype=torch.float16)
    out = average_conditioning(batch)
    assert out.dtype == torch.float16
    assert torch.equal(out, torch.full((2, 2), 1000.0, dtype=torch.float16))


def test_pad_tokens_with_empty_prompt_chunks():
    empty = torch.full((1, 77, 8), -1.0)
    short = torch.zeros(77, 8)
    long = torch.ones(154, 8)
    padded = pad_tokens([short, long], empty)
    assert padded[0].shape == (154, 8)
    assert torch.equal(padded[0][:77], short)
    assert torch.equal(padded[0][77:], empty[0])
    assert padded[1] is long
    assert torch.equal(short, torch.zeros(77, 8))  # input untouched
    avg = mean_conditioning([short, long], pad=empty)
    torch.testing.assert_close(avg, torch.cat([torch.full((77, 8), 0.5), torch.zeros(77, 8)]))


def test_pad_tokens_errors():
    with pytest.raises(ValueError, match="no empty-prompt pad"):
        pad_tokens([torch.zeros(77, 8), torch.zeros(154, 8)])
    with pytest.raises(ValueError, match="not a multiple"):
        pad_tokens([torch.zeros(70, 8), torch.zeros(154, 8)], torch.zeros(77, 8))
    with pytest.raises(ValueError, match="channel"):
        pad_tokens([torch.zeros(77, 8), torch.zeros(77, 4)])
    with pytest.raises(ValueError, match=r"\[T, 8\]"):
        pad_tokens([torch.zeros(77, 8), torch.zeros(154, 8)], torch.zeros(77, 3))


def test_stack_sdxl_pads_crossattn_only():
    empty = torch.zeros(77, 8)
    a = {"crossattn": torch.ones(77, 8), "vector": torch.ones(16)}
    b = {"crossattn": torch.ones(154, 8), "vector": torch.zeros(16)}
    stacked = stack_conds([a, b], empty)
    assert stacked["crossattn"].shape == (2, 154, 8)
    assert stacked["vector"].shape == (2, 16)
    out = mean_conditioning([a, b], weights=[1, 3], pad=empty)
    torch.testing.assert_close(out["vector"], torch.full((16,), 0.25))
    with pytest.raises(ValueError, match="keys"):
        stack_conds([a, {"crossattn": torch.ones(77, 8)}])
    with pytest.raises(ValueError, match="dict"):
        stack_conds([torch.ones(77, 8), a])


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_mean_of_identical_conds_is_that_cond_and_mean_is_permutation_invariant(n, seed):
    gen = torch.Generator().manual_seed(seed)
    c = torch.randn(77, 8, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(mean_conditioning([c] * n), c)
    many = [torch.randn(77, 8, generator=gen, dtype=torch.float64) for _ in range(n)]
    torch.testing.assert_close(mean_conditioning(many), mean_conditioning(many[::-1]))


def test_average_schedules_union_of_boundaries():
    a0, a1 = torch.zeros(77, 4), torch.ones(77, 4)
    b0, b1 = torch.full((77, 4), 2.0), torch.full((77, 4), 4.0)
    # paraphrase A switches at step 5, B at step 10, both end at 20
    out = average_schedules([[(5, a0), (20, a1)], [(10, b0), (20, b1)]])
    assert [s for s, _ in out] == [5, 10, 20]
    torch.testing.assert_close(out[0][1], torch.full((77, 4), 1.0))  # a0, b0
    torch.testing.assert_close(out[1][1], torch.full((77, 4), 1.5))  # a1, b0
    torch.testing.assert_close(out[2][1], torch.full((77, 4), 2.5))  # a1, b1
    single = average_schedules([[(20, a1)]] * 3)
    assert len(single) == 1
    torch.testing.assert_close(single[0][1], a1)


def test_average_schedules_errors():
    with pytest.raises(ValueError, match="at least one"):
        average_schedules([])
    with pytest.raises(ValueError, match="increasing"):
        average_schedules([[(10, torch.zeros(1, 1)), (5, torch.zeros(1, 1))]])
