"""The pruning-function family v^β, its gradients, the sharpness schedule and the regularizers R.

Manessi et al. 2018 (arXiv 1712.01721): the hard threshold x·1[|x| > t] of Han et al. is replaced by a smooth
v^β(x, t) so that the threshold t receives gradient. The regularizers are the project's choices (the paper's
own is not public); the `l0` default is the soft fraction of weights kept.
"""

from __future__ import annotations

import pandas as pd
import torch
import torch.nn.functional as F

VERSION = 1  # bump when a change to this package alters results (passed to every cache lookup)
REGULARIZERS = ("l0", "thr_exp", "thr_log", "band_l1", "none")
BETA_MODES = ("anneal", "fixed")
S2_CUTOFF = 40.0  # when β·t = c·τ >= 40, σ(−β(|x|+t)) <= 4e-18: below float32 resolution, so it is skipped


def v_reference(x: torch.Tensor, t, beta) -> torch.Tensor:
    """v^β(x, t) = ReLU(x−t) + t·σ(β(x−t)) − ReLU(−x−t) − t·σ(β(−x−t)), as written in Manessi et al. 2018."""
    return (
        F.relu(x - t)
        + t * torch.sigmoid(beta * (x - t))
        - F.relu(-x - t)
        - t * torch.sigmoid(beta * (-x - t))
    )


def v_odd(x: torch.Tensor, t, beta, skip_s2: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(v, s1): v = sign(x)·[ReLU(|x|−t) + t·(σ(β(|x|−t)) − σ(−β(|x|+t)))] and the shared s1 = σ(β(|x|−t)).

    `skip_s2` drops σ(−β(|x|+t)), valid when β·t >= S2_CUTOFF (it is then < 4e-18).
    """
    a = x.abs()
    d = a - t
    s1 = torch.sigmoid(beta * d)
    gate = s1 if skip_s2 else s1 - torch.sigmoid(-beta * (a + t))
    return x.detach().sign() * (F.relu(d) + t * gate), s1


def v_grads(
    x: torch.Tensor, t: float, beta: float, form: str = "reference"
) -> tuple[torch.Tensor, torch.Tensor]:
    """(∂v/∂x, ∂v/∂t) element-wise at the points x, from autograd (t broadcast to one copy per point)."""
    x = x.detach().clone().requires_grad_()
    tt = torch.full_like(x, float(t)).requires_grad_()
    v = v_reference(x, tt, beta) if form == "reference" else v_odd(x, tt, beta)[0]
    gx, gt = torch.autograd.grad(v.sum(), (x, tt))
    return gx, gt


def v_hard(x: torch.Tensor, t) -> torch.Tensor:
    """Han et al.'s hard threshold h(x, t) = x·1[|x| > t] (strict: a weight exactly at t is pruned)."""
    return x * (x.abs() > t)


def soft_kept(w: torch.Tensor, t, beta) -> torch.Tensor:
    """σ(β(|w| − t)): the soft indicator that a weight survives (the summand of R_l0)."""
    return torch.sigmoid(beta * (w.abs() - t))


def family_table(betas, t: float = 1.0, n: int = 60_001) -> pd.DataFrame:
    """Per β (float64, x in [−3, 3]): v(±t, t), its closed form, the peak of |∂v/∂t| and the band where it is > 1e-3."""
    xf = torch.linspace(-3, 3, n, dtype=torch.float64)
    rows = []
    for b in betas:
        _, gt = v_grads(xf, t, b)
        at_t = v_reference(torch.tensor([t, -t], dtype=torch.float64), t, b)
        band = gt.abs() > 1e-3
        closed = t / 2 - t * torch.sigmoid(torch.tensor(-2.0 * b * t, dtype=torch.float64)).item()
        rows.append(
            {
                "beta": b,
                "v(+t, t)": round(at_t[0].item(), 6),
                "v(-t, t)": round(at_t[1].item(), 6),
                "t/2 - t*sigmoid(-2*beta*t)": round(closed, 6),
                "peak |dv/dt|": round(gt.abs().max().item(), 3),
                "t*beta/4": t * b / 4,
                "band half-width (|dv/dt| > 1e-3)": round((xf[band].abs() - t).abs().max().item(), 3),
                "12/beta": round(12 / b, 3),
            }
        )
    return pd.DataFrame(rows)


def c_schedule(k: int, total: int, c0: float = 50.0, c1: float = 1000.0, mode: str = "anneal") -> float:
    """Sharpness constant at joint step k of `total`: geometric c0·(c1/c0)^(k/K) ('anneal') or c1 ('fixed')."""
    if mode == "fixed":
        return float(c1)
    if mode != "anneal":
        raise ValueError(f"beta_mode={mode!r} is not one of {BETA_MODES}")
    return float(c0 * (c1 / c0) ** (min(k, total) / max(total, 1)))


def regularizer(reg: str, ws, taus, scales, c: float) -> torch.Tensor:
    """R of the named regularizer over all layers (`l0`, `thr_exp`, `thr_log`, `band_l1`, `none`).

    `ws` are the raw weights, `taus` 0-d tensors, `scales` the frozen dense stds, `c` the sharpness constant.
    """
    sizes = [w.numel() for w in ws]
    n = sum(sizes)
    if reg == "l0":
        return sum(soft_kept(w, s * tau, c / s).sum() for w, tau, s in zip(ws, taus, scales)) / n
    if reg == "thr_exp":
        return sum(ni / n * torch.exp(-tau) for ni, tau in zip(sizes, taus))
    if reg == "thr_log":
        return -sum(ni / n * torch.log(tau + 1e-3) for ni, tau in zip(sizes, taus))
    if reg == "band_l1":
        return (
            sum(
                (w.abs() / s * (1 - soft_kept(w, (s * tau).detach(), c / s))).sum()
                for w, tau, s in zip(ws, taus, scales)
            )
            / n
        )
    if reg == "none":
        return torch.zeros((), dtype=ws[0].dtype, device=ws[0].device)
    raise ValueError(f"reg={reg!r} is not one of {REGULARIZERS}")
