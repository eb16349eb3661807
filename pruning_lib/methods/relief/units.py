"""Whole units (FC neurons, conv filters) as NNrelief removes them: incoming weights, bias and BatchNorm."""

from __future__ import annotations

import torch
from torch import nn

from ...masks import and_mask, get_mask


def remove_units(module: nn.Module, units: torch.Tensor, bn: nn.BatchNorm2d | None = None) -> None:
    """Remove output units (bool vector): their incoming weights, bias and BN gamma, beta (running stats 0 / 1)."""
    if not bool(units.any()):
        return
    keep = ~units
    and_mask(module, "weight", keep.view(-1, *[1] * (module.weight.dim() - 1)).expand_as(module.weight))
    if module.bias is not None:
        and_mask(module, "bias", keep)
    if bn is not None:
        and_mask(bn, "weight", keep)
        and_mask(bn, "bias", keep)
        bn.running_mean[units] = 0.0
        bn.running_var[units] = 1.0


def unit_alive(module: nn.Module) -> torch.Tensor:
    """Output units with at least one unmasked incoming weight (FC row / conv filter)."""
    return get_mask(module, "weight").flatten(1).any(1)


def count_removed(module: nn.Module, units: torch.Tensor) -> int:
    """How many of `units` still had an unmasked weight (i.e. are removed now)."""
    return int((units & unit_alive(module)).sum())
