"""Reference answers to the exercises of notebook 01 (Gumbel-softmax gates). Try them yourself first."""

import torch


def gumbel_max_keep(theta, gumbels):
    """1 where channel 0 (keep) wins the Gumbel-max race, θ0 + G0 ≥ θ1 + G1 (a tie keeps), else 0."""
    return (theta[0] + gumbels[0] >= theta[1] + gumbels[1]).float()


tau_prediction = "unchanged"  # P(keep) = σ(Δ) at every τ: the hard sample 1[Δ + L ≥ 0] never reads τ


def straight_through_grad(delta, noise, tau, upstream):
    """d/dΔ of Σ upstream · m: the hard sample's backward pass uses the slope of s = σ((Δ + L)/τ)."""
    s = torch.sigmoid((delta + noise) / tau)
    return upstream * s * (1 - s) / tau


def density_penalty(gates, noises):
    """D̂: the kept fraction of one hard sample per gate at τ = 1, over all N gates, with its gradient."""
    kept = sum(gate.sample(tau=1.0, noise=noise).sum() for gate, noise in zip(gates, noises))
    return kept / sum(gate.numel() for gate in gates)
