"""Reference answers to the exercises of notebook 00 (pruning basics). Try them yourself first."""

import torch
from torch import nn


def layerwise_masks(model, fraction):
    """{layer name: bool mask}: in every nn.Linear, drop the `fraction` of weights with the smallest |w|."""
    masks = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            w = module.weight.detach().abs()
            k = round(fraction * w.numel())  # how many to drop (torch's prune rounds the same way)
            mask = torch.ones_like(w, dtype=torch.bool)
            if k:
                mask.view(-1)[w.view(-1).topk(k, largest=False).indices] = False
            masks[name] = mask
    return masks
