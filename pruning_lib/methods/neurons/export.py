"""Neuron removal on ordinary models: keep-masks as torch.nn.utils.prune masks, and the suite's Linear stacks.

A removed hidden neuron loses its row in the layer that makes it and its column in the next (Wolfe et al. 2017,
Sec. "Brute Force Removal Approach": its incoming and outgoing weights go with it), so a neuron mask becomes
weight masks that `pl.metrics` counts and `pl.train.fit` keeps at zero. For example (LeNet-300-100):

    net = SigmoidMLP.from_linears([model.fc1, model.fc2, model.fc3])      # ReLU, logits, cross-entropy
    res = serial_prune(net, X.flatten(1), one_hot(y), "bf", "rerank")
    remove_neurons(model, ["fc1", "fc2", "fc3"], res.masks_after(n))       # the knob: n neurons removed
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ...masks import apply_masks, prunable_layers
from ...metrics import check_sparsity
from .counts import param_counts
from .net import SigmoidMLP, checked_masks

# the fully connected stack of each suite network whose hidden units are removed (LeNet-5: fc1's 500 units)
NEURON_LAYERS = {"lenet300": ["fc1", "fc2", "fc3"], "lenet5": ["fc1", "fc2"]}


def neuron_inputs(network: str, model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """What the prunable fully connected stack reads: pixels (LeNet-300-100) or conv features (LeNet-5)."""
    with torch.no_grad():
        return model.features(X) if network == "lenet5" else X.flatten(1)


def neuron_keep_masks(model: nn.Module, layer_names, masks) -> dict[str, torch.Tensor]:
    """Weight keep-masks that delete hidden neurons: row k of the layer that makes neuron k, column k of the next.

    `layer_names` are the Linear layers of a stack; masks[i] (True = keep) belongs to the output of layer i.
    """
    layers = prunable_layers(model)
    out = {}
    for i, name in enumerate(layer_names):
        W = layers[name].weight
        keep = torch.ones(W.shape, dtype=torch.bool, device=W.device)
        if i < len(masks):
            keep &= masks[i].to(W.device)[:, None]
        if i > 0:
            keep &= masks[i - 1].to(W.device)[None, :]
        out[name] = keep
    return out


@torch.no_grad()
def remove_neurons(model: nn.Module, layer_names, masks, zero_bias: bool = True) -> nn.Module:
    """Delete hidden neurons of `model` in place as torch.nn.utils.prune weight masks (ANDed with existing ones).

    The bias of a removed neuron is set to 0 (zero_bias): it then counts as removed, and it stays 0 under any
    retraining because its gradient is exactly 0 once the neuron's outgoing weights are masked.
    """
    apply_masks(model, neuron_keep_masks(model, layer_names, masks))
    if zero_bias:
        layers = prunable_layers(model)
        for name, m in zip(layer_names, masks):
            if layers[name].bias is not None:
                layers[name].bias[~m.to(layers[name].bias.device)] = 0.0
    return model


def to_pruned_module(net: SigmoidMLP, masks) -> SigmoidMLP:
    """A copy of `net` whose removed neurons are torch.nn.utils.prune masks (unmasked forward = masked net)."""
    names = [f"layers.{i}" for i in range(len(net.layers))]
    return remove_neurons(copy.deepcopy(net), names, checked_masks(net, masks))


def checked_export(net: SigmoidMLP, masks, what: str = "pruned net") -> SigmoidMLP:
    """`to_pruned_module`, then `pl.metrics.check_sparsity` against the weights the neuron masks leave."""
    model = to_pruned_module(net, masks)
    check_sparsity(model, param_counts(net, masks)["weights_nonzero"], what)
    return model


def layer_names_of(model: nn.Module) -> list[str]:
    """Names of the Linear layers of `model` in definition order (the stack `from_linears` expects)."""
    return [name for name, m in prunable_layers(model).items() if isinstance(m, nn.Linear)]
