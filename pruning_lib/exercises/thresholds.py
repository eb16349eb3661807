"""Checks of notebook 02's exercises (differentiable thresholds: v^β, its threshold gradient, the regularizer)."""

from __future__ import annotations

import torch

from ..masks import prunable_layers
from ..methods.thresholds import regularizer, v_grads, v_reference
from . import exercise, expect, expect_shape

CASES = ((1.0, 3.0), (1.0, 30.0), (0.2, 100.0))  # (t, β): soft, sharp, and a small threshold
DIRECTIONS = ("rise", "stay", "fall")


def _expect_on_grid(got, want, x, what: str, hint: str, tol: float = 1e-7) -> None:
    """`got` equals `want` on the grid `x` within tol (the message names the worst x and both values)."""
    expect_shape(got, x.shape, what)
    gap = (got.detach().to(torch.float64) - want).abs()
    i = int(gap.argmax())
    expect(
        bool(gap.max() <= tol),
        f"{what} at x = {x[i].item():+.3f}: expected {want[i].item():.6g}, got {got[i].item():.6g} "
        f"(gap {gap[i].item():.2g}, tolerance {tol:g}). {hint}",
    )


@exercise("Exercise 1 · the pruning function v^β")
def check_pruning_function(pruning_function) -> str:
    """Compare the reader's `pruning_function(x, t, beta)` with the library's v^β on a grid, at three (t, β)."""
    x = torch.linspace(-3, 3, 601, dtype=torch.float64)  # holds 0 and ±t exactly
    for t, beta in CASES:
        hint = (
            "Near |x| = t the t·σ terms matter most; check their signs and that both use β."
            if ((x.abs() - t).abs() < 3 / beta).any()
            else ""
        )
        _expect_on_grid(
            pruning_function(x, t, beta), v_reference(x, t, beta), x, f"v(x, t={t:g}, β={beta:g})", hint
        )
    return "matches pl.methods.thresholds.v_reference on 601 points of [−3, 3] at (t, β) = " + ", ".join(
        f"({t:g}, {b:g})" for t, b in CASES
    )


@exercise("Exercise 2 · the threshold's gradient ∂v/∂t by hand")
def check_threshold_gradient(dv_dt) -> str:
    """Compare the reader's closed-form `dv_dt(x, t, beta)` with autograd's ∂v/∂t on a grid, at three (t, β)."""
    x = torch.linspace(-3, 3, 600, dtype=torch.float64)  # misses the kinks at ±t
    for t, beta in CASES:
        want = v_grads(x, t, beta)[1]
        hint = (
            "Far from ±t the gradient is about 0; near ±t the product rule on t·σ(β(±x − t)) gives both σ "
            "and a −tβ·σ(1 − σ) term."
        )
        _expect_on_grid(dv_dt(x, t, beta), want, x, f"∂v/∂t (t={t:g}, β={beta:g})", hint)
    return "matches autograd on 600 points of [−3, 3] at three (t, β)"


def regularizer_push(model, reg: str = "l0", tau0: float = 0.5, c: float = 50.0) -> dict[str, float]:
    """|∂R/∂τ_ℓ| per prunable layer of `model` at τ_ℓ = tau0 and sharpness c (autograd, float64)."""
    layers = prunable_layers(model)
    ws = [m.weight.detach().to(torch.float64).cpu() for m in layers.values()]
    scales = [w.std().item() for w in ws]
    taus = [torch.tensor(tau0, dtype=torch.float64, requires_grad=True) for _ in ws]
    grads = torch.autograd.grad(regularizer(reg, ws, taus, scales, c), taus)
    return {name: abs(g.item()) for name, g in zip(layers, grads)}


@exercise("Exercise 3 · which threshold does the regularizer push hardest?")
def check_busiest_layer(busiest_layer, dense_model) -> str:
    """The reader's layer name against the layer with the largest |∂R_l0/∂τ| on `dense_model` at τ0 = 0.5."""
    push = regularizer_push(dense_model)
    sizes = {n: m.weight.numel() for n, m in prunable_layers(dense_model).items()}
    share = {n: 100 * k / sum(sizes.values()) for n, k in sizes.items()}
    measured = ", ".join(f"{n}: {push[n]:.3g} ({share[n]:.1f}% of the weights)" for n in push)
    expect(busiest_layer in push, f"busiest_layer should be one of {sorted(push)}, got {busiest_layer!r}")
    top = max(push, key=push.get)
    expect(
        busiest_layer == top,
        f"|∂R/∂τ| per layer is {measured}: {top} is pushed hardest, not {busiest_layer}. R is the soft kept "
        "fraction of ALL weights, so each layer counts by its share of them.",
    )
    return f"|∂R/∂τ| per layer: {measured}"


def toy_threshold_fit(reg: str, lam: float, n: int = 500, steps: int = 200, c: float = 50.0) -> dict:
    """A toy layer: n frozen N(0, 1) weights, only τ learns (Adam, from 0.5) on ‖v^β(w, t) − w‖²/‖w‖² + λ·R."""
    g = torch.Generator().manual_seed(0)
    w = torch.randn(n, generator=g, dtype=torch.float64)
    s = w.std().item()
    tau = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([tau], lr=0.02)
    first = 100 * float((w.abs() > s * tau).double().mean())
    for _ in range(
        steps
    ):  # the squared error stands in for the cross-entropy: it is smallest when nothing is pruned
        fit = ((v_reference(w, s * tau, c / s) - w) ** 2).sum() / (w**2).sum()
        loss = fit + lam * regularizer(reg, [w], [tau], [s], c)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            tau.clamp_(min=0.0)
    last = 100 * float((w.abs() > s * tau).double().mean())
    direction = "fall" if tau.item() < 0.45 else "rise" if tau.item() > 0.55 else "stay"
    return {"tau": tau.item(), "kept_first_pct": first, "kept_last_pct": last, "direction": direction}


@exercise("Exercise 4 · thresholds without a regularizer")
def check_no_regularizer(no_reg_thresholds) -> str:
    """The reader's 'rise' | 'stay' | 'fall' against the toy layer's τ with reg='none' (λ = 0), next to l0 and band_l1."""
    expect(
        no_reg_thresholds in DIRECTIONS,
        f"no_reg_thresholds should be one of {DIRECTIONS}, got {no_reg_thresholds!r}",
    )
    runs = {"none, λ = 0": toy_threshold_fit("none", 0.0), "l0, λ = 0.5": toy_threshold_fit("l0", 0.5),
            "band_l1, λ = 1": toy_threshold_fit("band_l1", 1.0)}  # fmt: skip
    story = "; ".join(
        f"{k}: τ 0.5 → {r['tau']:.2f}, weights kept {r['kept_first_pct']:.0f}% → {r['kept_last_pct']:.0f}%"
        for k, r in runs.items()
    )
    measured = runs["none, λ = 0"]["direction"]
    expect(
        no_reg_thresholds == measured,
        f"in the toy layer ({story}) the threshold without a regularizer went '{measured}', not "
        f"'{no_reg_thresholds}'. With λ = 0 only the fit moves t, and the fit is best when nothing is pruned.",
    )
    return story
