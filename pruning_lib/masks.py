"""Masks on any parameter through torch.nn.utils.prune: apply, read, combine, save and remove.

A pruned tensor `<name>` of a module (a weight, a bias, a BatchNorm gamma or beta) keeps `<name>_orig` (a
parameter) and `<name>_mask` (a buffer); `<name>` is recomputed as their product before every forward, so
masked entries stay exactly zero through any retraining. The per-layer helpers (`get_masks`, `apply_masks`,
`set_masks`) address the weight of every Linear/Conv2d layer by layer name; `get_mask`, `and_mask` and
`install_masks` address any tensor of any module.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils import prune

PRUNABLE = (nn.Linear, nn.Conv2d)
MASKABLE = (nn.Linear, nn.Conv2d, nn.BatchNorm2d)  # modules whose weight and bias `install_masks` covers


def prunable_layers(model: nn.Module) -> dict[str, nn.Module]:
    """The Linear and Conv2d modules of `model` by qualified name, in forward-definition order."""
    return {name: m for name, m in model.named_modules() if isinstance(m, PRUNABLE)}


def is_pruned(module: nn.Module) -> bool:
    """True when the module's weight carries a torch.nn.utils.prune mask."""
    return prune.is_pruned(module) and hasattr(module, "weight_mask")


def raw_weight(module: nn.Module) -> torch.Tensor:
    """The trainable weight tensor: `weight_orig` when pruned, else `weight`."""
    return module.weight_orig if is_pruned(module) else module.weight


def get_mask(module: nn.Module, name: str = "weight") -> torch.Tensor:
    """Boolean keep-mask of `module.<name>` (all True when it carries no prune mask)."""
    mask = getattr(module, f"{name}_mask", None)
    if mask is not None:
        return mask.bool()
    return torch.ones_like(getattr(module, name), dtype=torch.bool)


def and_mask(module: nn.Module, name: str, keep: torch.Tensor) -> None:
    """AND `keep` into the prune mask of `module.<name>` (installing one if needed); the masked tensor updates."""
    keep = keep.to(getattr(module, name).device)
    mask = getattr(module, f"{name}_mask", None)
    if mask is None:
        prune.custom_from_mask(module, name, keep)
        return
    mask.mul_(keep.to(mask.dtype))
    with torch.no_grad():
        setattr(module, name, getattr(module, f"{name}_orig") * mask)


def maskable_tensors(model: nn.Module) -> list[tuple[nn.Module, str]]:
    """(module, tensor name) of every Linear/Conv2d weight and bias and every BatchNorm2d gamma and beta."""
    out = []
    for m in model.modules():
        if isinstance(m, MASKABLE):
            out += [(m, n) for n in ("weight", "bias") if getattr(m, n, None) is not None]
    return out


def install_masks(model: nn.Module) -> nn.Module:
    """Give every maskable tensor an (all-ones) prune mask, so pruned models share one state-dict layout."""
    for m, n in maskable_tensors(model):
        if getattr(m, f"{n}_mask", None) is None:
            prune.custom_from_mask(m, n, torch.ones_like(getattr(m, n), dtype=torch.bool))
    return model


def refresh(model: nn.Module) -> nn.Module:
    """Recompute every masked tensor from `*_orig` x `*_mask` (after load_state_dict or in-place edits)."""
    with torch.no_grad():
        for m in model.modules():
            for hook in m._forward_pre_hooks.values():
                if isinstance(hook, prune.BasePruningMethod):
                    hook(m, None)
    return model


def get_masks(model: nn.Module) -> dict[str, torch.Tensor]:
    """Boolean keep-masks of every prunable layer's weight (all True for an unpruned layer)."""
    return {name: get_mask(m) for name, m in prunable_layers(model).items()}


def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> nn.Module:
    """Apply weight keep-masks by layer name; an existing mask is combined with the new one (AND)."""
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
    """Replace the weight masks of the named layers (not combined with earlier ones); raw weights are kept."""
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


def pruned_tensors(model: nn.Module) -> dict[str, tuple[nn.Module, str]]:
    """Every masked tensor by qualified name ('fc1.weight', 'bn.bias'): (its module, its name there)."""
    out = {}
    for mod_name, module in model.named_modules():
        for name in pruned_names(module):
            out[f"{mod_name}.{name}" if mod_name else name] = (module, name)
    return out


def remove_masks(model: nn.Module) -> nn.Module:
    """Make every mask permanent (weights, biases, any pruned tensor): plain parameters holding masked values.

    Each parameter keeps the memory layout of the tensor it replaces (e.g. LeNet5's channels-last convolutions),
    which torch's prune.remove, a product with a contiguous mask, would otherwise drop.
    """
    for module in model.modules():
        for name in pruned_names(module):
            stride = getattr(module, f"{name}_orig").stride()
            prune.remove(module, name)
            param = getattr(module, name)
            if param.stride() != stride:
                param.data = torch.empty_strided(
                    param.shape, stride, dtype=param.dtype, device=param.device
                ).copy_(param.data)
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


def export_state(model: nn.Module, raw: bool = False) -> dict:
    """{"state", "masks"}: a plain state dict plus the boolean keep-mask of every pruned tensor (qualified name).

    A pruned tensor appears in "state" under its plain name with its masked value, so the state loads into an
    unpruned twin; with `raw=True` it holds the trainable `*_orig` value instead, so `load_state` restores the
    model exactly (also the values under the masks, which matter when a mask is later lifted or rewound).
    """
    pruned = pruned_tensors(model)
    own = {f"{q}_orig": q for q in pruned} | {f"{q}_mask": q for q in pruned}
    state = {}
    for k, v in model.state_dict().items():
        if k not in own:
            state[k] = v.detach().clone()
        elif k.endswith("_orig"):
            module, name = pruned[own[k]]
            # the masked value is recomputed here: `module.<name>` is refreshed only by a forward pass, so after
            # an optimiser step it would still hold the value from before the step
            value = v if raw else v * getattr(module, f"{name}_mask")
            state[own[k]] = value.detach().clone()
    masks = {q: getattr(m, f"{n}_mask").bool() for q, (m, n) in pruned.items()}
    return {"state": state, "masks": masks}


def load_state(model: nn.Module, payload: dict) -> nn.Module:
    """Load `export_state` output into a model of the same architecture, pruned or not: values, buffers, masks."""
    masks = payload["masks"]
    own = model.state_dict()
    state = {}
    for k, v in payload["state"].items():
        if k in masks and f"{k}_orig" in own:  # already masked here: load the value and the mask in place
            state[f"{k}_orig"], state[f"{k}_mask"] = v, masks[k]
        else:
            state[k] = v
    model.load_state_dict(state)
    for q, mask in masks.items():
        if f"{q}_orig" not in own:
            mod_name, _, name = q.rpartition(".")
            module = model.get_submodule(mod_name)
            target = getattr(module, name)
            prune.custom_from_mask(module, name, mask.to(target.device, target.dtype))
    return refresh(model)


def kept_weights(payload: dict) -> int:
    """Unmasked weights recorded in an `export_state` payload (the count a reloaded model must still keep)."""
    return sum(int(m.sum()) for name, m in payload["masks"].items() if name.endswith("weight"))
