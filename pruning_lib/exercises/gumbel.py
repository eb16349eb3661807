"""Checks of notebook 01's exercises (Gumbel-softmax gates: the hard sample, its gradient, τ, the density D̂)."""

from __future__ import annotations

import torch

from ..methods.gumbel import GumbelGate, sampled_density, toy_model
from . import ExerciseError, exercise, expect, expect_close, expect_shape

TAU_CHOICES = ("rises", "falls", "unchanged")


def _gate_with_delta(delta: torch.Tensor) -> GumbelGate:
    """A float64 gate of delta's shape with theta_0 = delta, theta_1 = 0 (so theta_0 - theta_1 = delta)."""
    with (
        torch.random.fork_rng()
    ):  # the gate's random initial logits must not move the notebook's random stream
        gate = GumbelGate(tuple(delta.shape)).double()
    with torch.no_grad():
        gate.theta[0] = delta
        gate.theta[1] = 0.0
    return gate


def gumbel_probe(n: int = 400, seed: int = 0):
    """Fixed test tensors: logits theta (2, n) and Gumbel noises (2, n), float64; the last 8 columns are ties."""
    g = torch.Generator().manual_seed(seed)
    theta = 2 * torch.randn(2, n, generator=g, dtype=torch.float64)
    gumbels = -torch.empty(2, n, dtype=torch.float64).exponential_(generator=g).log()
    theta[:, -8:] = torch.linspace(-2, 2, 8, dtype=torch.float64)  # theta_0 = theta_1 and G_0 = G_1: a tie
    gumbels[1, -8:] = gumbels[0, -8:]
    return theta, gumbels


@exercise("Exercise 1 · the Gumbel-max hard sample by hand")
def check_gumbel_max_keep(gumbel_max_keep) -> str:
    """Compare the reader's `gumbel_max_keep(theta, gumbels)` with the library's sampler on the same noise."""
    theta, gumbels = gumbel_probe()
    got = gumbel_max_keep(theta.clone(), gumbels.clone())
    expect_shape(got, theta.shape[1:], "the mask")
    got = got.double()
    expect(
        bool(((got == 0) | (got == 1)).all()),
        "the mask should hold only 0 and 1 (a hard sample, not a soft one)",
    )
    gate = _gate_with_delta(theta[0] - theta[1])
    want = gate.sample(tau=3.0, noise=gumbels[0] - gumbels[1]).detach()
    ties = slice(-8, None)
    expect(
        bool((got[ties] == 1).all()),
        f"on the {8} ties (θ0 + G0 = θ1 + G1) your mask drops {int((got[ties] == 0).sum())}: a tie keeps (use ≥)",
    )
    wrong = int((got != want).sum())
    expect(
        wrong == 0,
        f"{wrong} of {len(want)} gates differ from the library's sample (you keep {int(got.sum())}, it keeps "
        f"{int(want.sum())}): keep where channel 0 (keep) wins, θ0 + G0 ≥ θ1 + G1",
    )
    return f"identical to GumbelGate.sample on {len(want)} gates with the same noise, ties included"


def straight_through_reference(delta, noise, tau: float, upstream) -> torch.Tensor:
    """d/dΔ of Σ upstream · m for the library's hard sample m (its straight-through gradient), by autograd."""
    gate = _gate_with_delta(delta.detach())
    (gate.sample(tau, noise) * upstream).sum().backward()
    return gate.theta.grad[0]


@exercise("Exercise 3 · the straight-through gradient by hand")
def check_straight_through_grad(straight_through_grad, taus=(0.5, 3.0)) -> str:
    """Compare the reader's `straight_through_grad(delta, noise, tau, upstream)` with autograd on the library's sampler."""
    g = torch.Generator().manual_seed(1)
    delta = torch.randn(4, 6, generator=g, dtype=torch.float64)
    noise = torch.rand(4, 6, generator=g, dtype=torch.float64).logit()
    upstream = torch.randn(4, 6, generator=g, dtype=torch.float64)
    for tau in taus:
        got = straight_through_grad(delta.clone(), noise.clone(), tau, upstream.clone())
        expect_shape(got, delta.shape, f"the gradient at τ = {tau:g}")
        want = straight_through_reference(delta, noise, tau, upstream)
        try:
            expect_close(got.detach(), want, f"the gradient at τ = {tau:g}", rtol=1e-6, atol=1e-9)
        except ExerciseError as err:
            hint = ""
            if torch.allclose(got.detach().double(), want * tau, rtol=1e-5):
                hint = " (you forgot the 1/τ of the chain rule: d/dz σ(z/τ) = σ(z/τ)(1 − σ(z/τ))/τ)"
            elif torch.allclose(
                got.detach().double(), upstream * torch.sigmoid(delta) * torch.sigmoid(-delta) / tau
            ):
                hint = " (you left out the noise: the slope is taken at z = Δ + L, not at Δ)"
            raise ExerciseError(f"{err}{hint}") from None
    return f"matches autograd on the library's sampler at τ = {', '.join(f'{t:g}' for t in taus)}"


@exercise("Exercise 2 · what τ does to the keep-probability (predict, then measure)")
def check_tau_prediction(prediction, p_keep: float = 0.8, taus=(0.3, 3.0, 10.0), draws: int = 20_000) -> str:
    """Measure how often a gate with σ(Δ) = p_keep is kept at several τ, and compare with the reader's prediction."""
    expect(prediction in TAU_CHOICES, f"the prediction should be one of {TAU_CHOICES}, got {prediction!r}")
    delta = torch.full(
        (draws,), torch.logit(torch.tensor(p_keep, dtype=torch.float64)).item(), dtype=torch.float64
    )
    gate = _gate_with_delta(delta)
    g = torch.Generator().manual_seed(2)
    noise = torch.rand(draws, generator=g, dtype=torch.float64).logit()
    kept = {tau: float(gate.sample(tau, noise).detach().mean()) for tau in taus}
    fresh = {
        t: float(gate.sample(t, torch.rand(draws, generator=g, dtype=torch.float64).logit()).detach().mean())
        for t in taus
    }
    measured = ", ".join(f"τ = {t:g}: {fresh[t]:.3f}" for t in taus)
    expect(
        prediction == "unchanged",
        f"you predicted that the kept fraction {prediction} with τ; measured over {draws:,} draws ({measured}; "
        f"σ(Δ) = {p_keep}) it stays put. "
        "The hard sample 1[Δ + L ≥ 0] never reads τ: with the same noise the masks are identical at every τ "
        f"({len(set(kept.values()))} distinct kept fraction), so P(keep) = σ(Δ) whatever τ is; τ only scales the "
        "straight-through gradient",
    )
    return f"measured {measured} for σ(Δ) = {p_keep}; τ changes only the gradient"


@exercise("Exercise 4 · the density penalty D̂ by hand")
def check_density_penalty(density_penalty, seed: int = 3) -> str:
    """Compare the reader's `density_penalty(gates, noises)` (value and gradient) with the library's D̂ on the toy net."""
    with (
        torch.random.fork_rng()
    ):  # the library's D̂ draws its noise from the global stream: replay the same draws
        _, gates = toy_model(seed)
        torch.manual_seed(seed)
        noises = [g.noise() for g in gates]
        torch.manual_seed(seed)
        want = sampled_density(gates, 1.0)
    want.backward()
    want_grads = [g.theta.grad.clone() for g in gates]
    for g in gates:
        g.theta.grad = None
    got = density_penalty(gates, [n.clone() for n in noises])
    expect(isinstance(got, torch.Tensor), f"D̂ should be a torch.Tensor, got {type(got).__name__}")
    expect_shape(got, (), "D̂ (a single number)")
    sizes = [g.numel() for g in gates]
    layer_mean = sum(
        float((g.delta().detach() + n >= 0).double().mean()) for g, n in zip(gates, noises)
    ) / len(gates)
    if abs(float(got.detach()) - layer_mean) < 1e-6 and abs(layer_mean - float(want.detach())) > 1e-6:
        raise ExerciseError(
            f"D̂: expected {float(want.detach()):.6g}, got {float(got.detach()):.6g}: the mean of the {len(gates)} layers' densities. "
            f"D̂ averages over all N = {sum(sizes)} gates, so a layer counts by its size {sizes}"
        )
    expect_close(got.detach(), want.detach(), "D̂")
    expect(
        got.requires_grad,
        "D̂ has no gradient: build it from gate.sample(tau=1, noise=...) so that it reaches θ",
    )
    got.backward()
    for g, w in zip(gates, want_grads):
        expect(g.theta.grad is not None, f"D̂ sends no gradient to the gates of {g.layer}")
        expect_close(g.theta.grad, w, f"the gradient of D̂ w.r.t. θ of {g.layer}", rtol=1e-5, atol=1e-8)
    return f"value {float(want.detach()):.4f} and gradient match the library's sampled_density on the {sum(sizes)} toy gates"
