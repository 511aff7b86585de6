"""smoothie.guidance.apg against the paper's Algorithm 1 (Sadat et al. 2024, arXiv 2410.02416)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from smoothie.guidance import apg, project  # noqa: E402


class _PaperMomentum:
    """The paper's MomentumBuffer: running = update + momentum * running (starts at 0)."""

    def __init__(self, momentum: float):
        self.momentum = momentum
        self.running_average: torch.Tensor | float = 0.0

    def update(self, value: torch.Tensor) -> None:
        self.running_average = value + self.momentum * self.running_average


def _paper_apg(cond, uncond, scale, buffer, eta, norm_threshold):
    """Algorithm 1 of the paper, written out independently (float64)."""
    dims = [-1, -2, -3]
    diff = cond - uncond
    if buffer is not None:
        buffer.update(diff)
        diff = buffer.running_average
    if norm_threshold > 0:
        norm = diff.norm(p=2, dim=dims, keepdim=True)
        diff = diff * torch.minimum(torch.ones_like(norm), norm_threshold / norm)
    v0, v1 = diff.double(), cond.double()
    v1 = torch.nn.functional.normalize(v1, dim=dims)
    par = (v0 * v1).sum(dim=dims, keepdim=True) * v1
    orth = v0 - par
    return (cond.double() + (scale - 1) * (orth + eta * par)).to(cond.dtype)


def _steps(n=6, shape=(2, 4, 16, 16), seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(shape, generator=g) * 2, torch.randn(shape, generator=g) * 2) for _ in range(n)]


@pytest.mark.parametrize(
    ("eta", "r", "beta", "scale"),
    [(0.0, 15.0, -0.5, 12.0), (0.3, 5.0, 0.4, 20.0), (1.0, 0.0, -0.75, 7.0), (0.0, 0.0, 0.0, 25.0)],
)
def test_matches_the_papers_algorithm_over_several_steps(eta, r, beta, scale):
    buffer = _PaperMomentum(beta)
    running = None
    for cond, uncond in _steps():
        expected = _paper_apg(cond, uncond, scale, buffer, eta, r)
        guided, running = apg(cond, uncond, scale, eta=eta, norm_threshold=r, momentum=beta, running=running)
        assert guided.dtype == cond.dtype
        torch.testing.assert_close(guided, expected, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(running, buffer.running_average, atol=1e-6, rtol=1e-6)


def test_the_norm_threshold_is_active_in_the_comparison():
    cond, uncond = _steps(1)[0]
    free, _ = apg(cond, uncond, 10.0, eta=0.0, norm_threshold=0.0, momentum=0.0, running=None)
    capped, _ = apg(cond, uncond, 10.0, eta=0.0, norm_threshold=5.0, momentum=0.0, running=None)
    assert not torch.allclose(free, capped)
    update = (capped - cond) / 9.0
    assert float(update.flatten(1).norm(dim=1).max()) <= 5.0 + 1e-4


@pytest.mark.parametrize("scale", [1.0, 3.5, 7.0, 25.0])
def test_reduces_to_plain_cfg(scale):
    running = None
    for cond, uncond in _steps(3):
        guided, running = apg(cond, uncond, scale, eta=1.0, norm_threshold=0.0, momentum=0.0, running=running)
        torch.testing.assert_close(guided, uncond + scale * (cond - uncond), atol=1e-5, rtol=1e-5)


def test_eta_zero_removes_the_parallel_part():
    cond, uncond = _steps(1)[0]
    guided, _ = apg(cond, uncond, 9.0, eta=0.0, norm_threshold=0.0, momentum=0.0, running=None)
    update = (guided - cond).double()
    inner = (update * cond.double()).flatten(1).sum(dim=1)
    assert float(inner.abs().max()) < 1e-6 * float(
        update.flatten(1).norm(dim=1).max() * cond.flatten(1).norm(dim=1).max()
    )


def test_project_per_batch_item():
    v = torch.tensor([[[[3.0, 4.0]]], [[[1.0, 1.0]]]])
    onto = torch.tensor([[[[1.0, 0.0]]], [[[0.0, 2.0]]]])
    par, orth = project(v, onto)
    torch.testing.assert_close(par, torch.tensor([[[[3.0, 0.0]]], [[[0.0, 1.0]]]]))
    torch.testing.assert_close(orth, torch.tensor([[[[0.0, 4.0]]], [[[1.0, 0.0]]]]))
    par0, orth0 = project(v, torch.zeros_like(v))  # nothing to project onto: all orthogonal, no NaN
    assert torch.count_nonzero(par0) == 0 and torch.equal(orth0, v)


def test_first_step_running_is_the_difference_and_inputs_are_untouched():
    cond, uncond = _steps(1)[0]
    c0, u0 = cond.clone(), uncond.clone()
    _, running = apg(cond, uncond, 12.0, eta=0.0, norm_threshold=15.0, momentum=-0.5, running=None)
    torch.testing.assert_close(running, cond - uncond)
    assert torch.equal(cond, c0) and torch.equal(uncond, u0)


def test_half_precision_in_half_out():
    cond, uncond = (t.half() for t in _steps(1)[0])
    guided, _ = apg(cond, uncond, 12.0, eta=0.0, norm_threshold=15.0, momentum=-0.5, running=None)
    assert guided.dtype == torch.float16 and torch.isfinite(guided).all()


def test_bad_input_is_named():
    cond, uncond = _steps(1)[0]
    with pytest.raises(ValueError, match="same shape"):
        apg(cond, uncond[:1], 5.0, eta=0.0, norm_threshold=0.0, momentum=0.0, running=None)
    with pytest.raises(ValueError, match="running"):
        apg(cond, uncond, 5.0, eta=0.0, norm_threshold=0.0, momentum=-0.5, running=cond[:1])
    with pytest.raises(ValueError, match="norm_threshold"):
        apg(cond, uncond, 5.0, eta=0.0, norm_threshold=-1.0, momentum=0.0, running=None)
