"""Checks of notebook 00's exercises (pruning basics: masks, compression, sensitivity)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import prune

from ..models import LeNet300100
from . import exercise, expect, expect_shape


def reference_layerwise_masks(model: nn.Module, fraction: float) -> dict[str, torch.Tensor]:
    """torch.nn.utils.prune.l1_unstructured's masks on a copy of every nn.Linear of `model` (bool)."""
    out = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            probe = nn.Linear(module.in_features, module.out_features)
            probe.weight.data.copy_(module.weight.detach())
            prune.l1_unstructured(probe, "weight", amount=fraction)
            out[name] = probe.weight_mask.bool()
    return out


@exercise("Exercise 1 · layerwise magnitude masks")
def check_layerwise_masks(layerwise_masks, fractions=(0.5, 0.9)) -> str:
    """Compare the reader's `layerwise_masks(model, fraction)` with torch.nn.utils.prune.l1_unstructured."""
    torch.manual_seed(0)
    model = LeNet300100()
    for fraction in fractions:
        got, want = layerwise_masks(model, fraction), reference_layerwise_masks(model, fraction)
        expect(isinstance(got, dict), f"layerwise_masks should return a dict, got {type(got).__name__}")
        expect(set(got) == set(want), f"expected one mask per Linear layer {sorted(want)}, got {sorted(got)}")
        for name, mask in want.items():
            expect_shape(got[name], mask.shape, f"the mask of {name}")
            kept = int(got[name].bool().sum())
            expect(
                kept == int(mask.sum()),
                f"fraction {fraction}: {name} should keep {int(mask.sum()):,} of {mask.numel():,} weights, "
                f"keeps {kept:,}",
            )
            wrong = int((got[name].bool() != mask).sum())
            expect(
                wrong == 0,
                f"fraction {fraction}: {name} keeps the right count but {wrong} wrong weights "
                "(keep the largest |w|, not the largest w)",
            )
    return f"matches torch.nn.utils.prune.l1_unstructured at fractions {', '.join(map(str, fractions))}"
