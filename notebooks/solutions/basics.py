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


# Exercise 2: the conv keeps 5 of its 8 weights and is used at 3 x 3 = 9 output positions; the Linear keeps 9 of 54
by_hand = dict(
    compression_weights=(8 + 54) / (5 + 9),  # weights only: total / nonzero
    compression_params=(8 + 54 + 2 + 3) / (5 + 9 + 2 + 3),  # the 5 biases are never pruned
    flops_dense=2 * 8 * 9 + 2 * 54 * 1,  # a multiply and an add per weight, per output position
    flops_effective=2 * 5 * 9 + 2 * 9 * 1,
)

# Exercise 3: one global threshold prunes the big, redundant fc1 hardest and spares the small output layer
global_or_layerwise = "global"

# Exercise 4: fc1 has 784 inputs per unit (many of them border pixels, blank in every digit)
most_tolerant = "fc1"
