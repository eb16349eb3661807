"""The parametrization W -> v^β(W, s·τ) of every prunable weight tensor, its masks and its removal.

Manessi et al. 2018 learn one threshold per layer; here t_ℓ = s_ℓ·τ_ℓ (s_ℓ the frozen std of the dense tensor,
τ_ℓ >= 0 learned) and β_ℓ = c/s_ℓ, so one set of hyperparameters serves layers of very different scales.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from ...masks import prunable_layers
from .functions import S2_CUTOFF, regularizer, v_odd


class SoftThreshold(nn.Module):
    """Parametrization of one weight tensor: τ learnable (t = s·τ), s frozen, c set by the training loop."""

    def __init__(self, scale: float, tau0: float = 0.5, c: float = 50.0, dtype=torch.float32):
        super().__init__()
        self.register_buffer("scale", torch.tensor(float(scale), dtype=dtype))
        self.tau = nn.Parameter(torch.tensor(float(tau0), dtype=dtype))
        self.c = float(c)
        self.kept = None  # σ(β(|W|−t)) of the last forward pass, shared with R_l0

    def threshold(self) -> torch.Tensor:
        """t = s·τ."""
        return self.scale * self.tau

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        """v^β(W, t) in the odd form, with β = c/s; keeps σ(β(|W|−t)) for the regularizer."""
        v, self.kept = v_odd(w, self.threshold(), self.c / self.scale, self.c * self.tau.item() >= S2_CUTOFF)
        return v


def attach(model: nn.Module, tau0: float = 0.5, c: float = 50.0) -> dict[str, SoftThreshold]:
    """Parametrize every Linear/Conv2d weight of `model` by a SoftThreshold (s = its current std)."""
    out = {}
    for name, m in prunable_layers(model).items():
        if parametrize.is_parametrized(m, "weight"):
            raise ValueError(f"layer {name} is already parametrized")
        p = SoftThreshold(m.weight.detach().std().item(), tau0, c, m.weight.dtype).to(m.weight.device)
        parametrize.register_parametrization(m, "weight", p)
        out[name] = p
    return out


def original_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    """The trainable (un-thresholded) weight W of each prunable layer, under a SoftThreshold or not."""
    return {
        name: (m.parametrizations.weight.original if parametrize.is_parametrized(m, "weight") else m.weight)
        for name, m in prunable_layers(model).items()
    }


def set_c(params: dict[str, SoftThreshold], c: float) -> None:
    """Set the sharpness constant of every layer (β_ℓ = c/s_ℓ)."""
    for p in params.values():
        p.c = float(c)


def hard_masks(model: nn.Module, params: dict[str, SoftThreshold]) -> dict[str, torch.Tensor]:
    """Keep-masks |W_ℓ| > t_ℓ on the raw weights (strict)."""
    ws = original_weights(model)
    return {name: ws[name].detach().abs() > p.threshold().detach() for name, p in params.items()}


def detach(model: nn.Module) -> None:
    """Remove the parametrizations; each layer's weight is its raw W again."""
    for m in prunable_layers(model).values():
        if parametrize.is_parametrized(m, "weight"):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)


def step_regularizer(reg: str, model: nn.Module, params: dict[str, SoftThreshold], c: float) -> torch.Tensor:
    """R for one training step; `l0` reuses σ(β(|W|−t)) already computed in the forward pass."""
    if reg == "l0":
        n = sum(p.kept.numel() for p in params.values())
        return sum(p.kept.sum() for p in params.values()) / n
    ws = original_weights(model)
    return regularizer(
        reg, [ws[k] for k in params], [p.tau for p in params.values()], [p.scale for p in params.values()], c
    )


def hard_remaining(model: nn.Module, params: dict[str, SoftThreshold]) -> dict[str, float]:
    """τ, t and the hard % remaining (|W| > t) per layer, and `weights_pct` in total, at the current τ."""
    row, ws, kept, total = {}, original_weights(model), 0, 0
    with torch.no_grad():
        for name, p in params.items():
            nz = int((ws[name].abs() > p.threshold()).sum())
            row[f"tau_{name}"], row[f"t_{name}"] = p.tau.item(), p.threshold().item()
            row[f"{name}_pct"] = 100.0 * nz / ws[name].numel()
            kept, total = kept + nz, total + ws[name].numel()
    row["weights_pct"] = 100.0 * kept / total
    return row
