"""NNrelief's backward sweep (from the authors' code): remove units nobody reads any more, output to input."""

from __future__ import annotations

import torch
from torch import nn

from ...masks import get_mask
from ...models import ResNet20
from .network import plan, resnet_blocks
from .units import count_removed, remove_units


@torch.no_grad()
def backward_sweep(model: nn.Module) -> dict:
    """Remove units nobody reads any more, from the output back to the input; returns removals per layer."""
    if isinstance(model, ResNet20):
        return _sweep_resnet(model)
    p = plan(model)
    removed: dict[str, int] = {}
    for h in range(len(p.fcs) - 1, 0, -1):
        orphan = ~get_mask(p.fcs[h].fc).any(0)
        removed[p.fcs[h - 1].name] = count_removed(p.fcs[h - 1].fc, orphan)
        remove_units(p.fcs[h - 1].fc, orphan)
    if p.convs:
        last = p.convs[-1]
        W = get_mask(p.fcs[0].fc)
        orphan = ~W.view(W.shape[0], last.conv.out_channels, -1).any(2).any(0)  # feature = c * HW + pos
        removed[last.name] = count_removed(last.conv, orphan)
        remove_units(last.conv, orphan, last.bn)
        for h in range(len(p.convs) - 1, 0, -1):
            orphan = ~get_mask(p.convs[h].conv).transpose(0, 1).flatten(1).any(1)
            prev = p.convs[h - 1]
            removed[prev.name] = count_removed(prev.conv, orphan)
            remove_units(prev.conv, orphan, prev.bn)
    return removed


def _sweep_resnet(model: ResNet20) -> dict:
    """ResNet backward sweep: a block-input channel goes only if no conv1 kernel reads it and its shortcut is off."""
    removed: dict[str, int] = {}
    orphan = ~get_mask(model.linear).any(0)
    for name, blk in reversed(resnet_blocks(model)):
        removed[f"{name}.conv2"] = count_removed(blk.conv2, orphan)
        remove_units(blk.conv2, orphan, blk.bn2)
        blk.shortcut.mask[orphan] = 0.0
        orphan1 = ~get_mask(blk.conv2).transpose(0, 1).flatten(1).any(1)
        removed[f"{name}.conv1"] = count_removed(blk.conv1, orphan1)
        remove_units(blk.conv1, orphan1, blk.bn1)
        unread = ~get_mask(blk.conv1).transpose(0, 1).flatten(1).any(1)
        s = blk.shortcut
        window = s.mask[s.pad : s.pad + blk.conv1.in_channels]
        orphan = unread & (window == 0)
    removed["conv1"] = count_removed(model.conv1, orphan)
    remove_units(model.conv1, orphan, model.bn1)
    return removed
