"""Masks on weight tensors through torch.nn.utils.prune: apply, read, combine, save and remove.

A pruned module keeps `weight_orig` (a parameter) and `weight_mask` (a buffer); its `weight` is recomputed as
their product before every forward, so masked weights stay exactly zero through any retraining.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils import prune

PRUNABLE = (nn.Linear, nn.Conv2d)


def prunable_layers(model: nn.Module) -> dict[str, nn.Module]:
    """The Linear and Conv2d modules of `model` by qualified name, in forward-definition order."""
    return {name: m for name, m in model.named_modules() if isinstance(m, PRUNABLE)}


def is_pruned(module: nn.Module) -> bool:
    """True when the module's weight carries a torch.nn.utils.prune mask."""
    return prune.is_pruned(module) and hasattr(module, "weight_mask")


def raw_weight(module: nn.Module) -> torch.Tensor:
    """The trainable weight tensor: `weight_orig` when pruned, else `weight`."""
    return module.weight_orig if is_pruned(module) else module.weight


def get_masks(model: nn.Module) -> dict[str, torch.Tensor]:
    """Boolean keep-masks of every prunable layer (all True for an unpruned layer)."""
    return {
        name: (m.weight_mask.bool() if is_pruned(m) else torch.ones_like(m.weight, dtype=torch.bool))
        for name, m in prunable_layers(model).items()
    }


def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> nn.Module:
    """Apply keep-masks by layer name; an existing mask is combined with the new one (AND)."""
    layers = prunable_layers(model)
    for name, mask in masks.items():
        if name not in layers:
            raise KeyError(f"{name!r} is not a prunable layer of the model; layers: {list(layers)}")
        module = layers[name]
        if mask.shape != module.weight.shape:
            raise ValueError(
                f"mask for {name} has shape {tuple(mask.shape)}, weight {tuple(module.weight.shape)}"
            )
        prune.custom_from_mask(module, "weight", mask.to(module.weight.device, module.weight.dtype))
    return model


def set_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> nn.Module:
    """Replace the masks of the named layers (not combined with earlier ones); raw weights are kept."""
    layers = prunable_layers(model)
    for name, mask in masks.items():
        module = layers[name]
        if is_pruned(module):
            module.weight_mask.copy_(mask.to(module.weight_mask.dtype))
        else:
            apply_masks(model, {name: mask})
    return model


def pruned_names(module: nn.Module) -> list[str]:
    """Names of the module's own tensors that carry a torch.nn.utils.prune mask (weight, bias, ...)."""
    return [
        h._tensor_name for h in module._forward_pre_hooks.values() if isinstance(h, prune.BasePruningMethod)
    ]


def remove_masks(model: nn.Module) -> nn.Module:
    """Make every mask permanent (weights, biases, any pruned tensor): plain parameters holding masked values."""
    for module in model.modules():
        for name in pruned_names(module):
            prune.remove(module, name)
    return model


def mask_from_threshold(w: torch.Tensor, threshold: float | torch.Tensor) -> torch.Tensor:
    """Keep-mask |w| > threshold (strict: a weight exactly at the threshold is pruned)."""
    return w.abs() > threshold


def clone(model: nn.Module) -> nn.Module:
    """A deep copy that also works for pruned models (whose computed tensors are not autograd leaves)."""
    for module in model.modules():
        for name in pruned_names(module):
            with torch.no_grad():  # a detached leaf; the forward pre-hook recomputes it anyway
                setattr(module, name, getattr(module, name + "_orig") * getattr(module, name + "_mask"))
    return copy.deepcopy(model)


def masked_copy(model: nn.Module, masks: dict[str, torch.Tensor]) -> nn.Module:
    """A copy of `model` with `masks` applied (the original is left untouched)."""
    return apply_masks(clone(model), masks)


def export_state(model: nn.Module) -> dict:
    """A plain state dict with masked weights plus the masks: loadable into an unpruned twin."""
    state = {
        k: v.detach().clone()
        for k, v in model.state_dict().items()
        if not k.endswith(("weight_orig", "weight_mask"))
    }
    layers = prunable_layers(model)
    for name, m in layers.items():
        state[f"{name}.weight" if name else "weight"] = m.weight.detach().clone()
    masks = {name: mask for name, mask in get_masks(model).items() if is_pruned(layers[name])}
    return {"state": state, "masks": masks}


def load_state(model: nn.Module, payload: dict) -> nn.Module:
    """Load `export_state` output into an unpruned model of the same architecture, masks applied."""
    model.load_state_dict(payload["state"])
    return apply_masks(model, payload["masks"])
