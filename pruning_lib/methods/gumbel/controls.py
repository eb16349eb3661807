"""Baselines and controls at the Gumbel headline size (notebook 01), each cached and checked for lost masks.

`magnitude_run`: global one-shot magnitude pruning of the dense reference to exactly `kept` weights, then Adam
fine-tuning with the mask fixed for a given number of epochs (the budget of the Gumbel run it is compared with).
`pixel_run`: the feature-importance control. The dense reference's first layer is cut to the columns of a pixel
set, then gradual magnitude pruning (Zhu & Gupta, as `METHODS["gradual"]`) trains it down to `kept` weights;
the same procedure for the Gumbel run's pixels, the top-variance pixels and random pixels.
"""

from __future__ import annotations

import time

import torch
from torch import nn

from ... import cache
from ...masks import apply_masks, clone, export_state, get_masks, kept_weights, load_state
from ...metrics import check_sparsity
from ...models import build_model
from ..base import network_of
from ..gradual import Gradual, gradual_prune
from ..magnitude import adam_finetune, global_magnitude_masks

CONTROLS_VERSION = 1  # bump when a change here alters cached baselines or controls


def _reload(dense: nn.Module, payload: dict, kept: int, what: str) -> nn.Module:
    """The cached model, checked to keep exactly `kept` weights after the reload."""
    model = load_state(build_model(network_of(dense)), payload["state"])
    if kept_weights(payload["state"]) != kept:
        raise AssertionError(
            f"{what}: the cache holds {kept_weights(payload['state'])} weights, expected {kept}"
        )
    check_sparsity(model, kept, f"{what} after reload")
    return model


def magnitude_run(dense: nn.Module, kept: int, train, *, epochs: float, seed: int = 0, lr: float = 1e-3):
    """Global magnitude to `kept` weights + `epochs` of Adam fine-tuning (mask fixed), cached -> (model, seconds, hit)."""
    kept = int(kept)
    cfg = {"method": "magnitude_finetune", "dense": cache.fingerprint(dense), "data": cache.fingerprint(*train),
           "kept": kept, "epochs": float(epochs), "lr": lr, "batch_size": 128, "seed": seed}  # fmt: skip

    def compute() -> dict:
        t0 = time.perf_counter()
        model = apply_masks(clone(dense), global_magnitude_masks(dense, kept))
        adam_finetune(model, train, epochs=epochs, lr=lr, seed=seed, desc=f"magnitude {kept}")
        check_sparsity(model, kept, f"magnitude {kept} after fine-tuning")
        return {"state": export_state(model), "seconds": time.perf_counter() - t0}

    payload, hit = cache.cached("gumbel-magnitude", cfg, compute, version=CONTROLS_VERSION)
    return _reload(dense, payload, kept, f"magnitude {kept}"), payload["seconds"], hit


def top_variance_pixels(X: torch.Tensor, n: int) -> torch.Tensor:
    """The `n` pixels (flat indices, ascending) with the largest variance over the images X (N, 784)."""
    return torch.sort(torch.topk(X.flatten(1).var(0), n).indices).values


def random_pixels(X: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """`n` pixels drawn uniformly (seeded) among those that are not constant over the images X (N, 784)."""
    live = torch.nonzero(X.flatten(1).var(0) > 0).flatten()
    g = torch.Generator().manual_seed(seed)
    return torch.sort(live[torch.randperm(len(live), generator=g)[:n]]).values


def pixel_mask(layer: nn.Module, pixels: torch.Tensor) -> torch.Tensor:
    """A keep-mask of a first Linear layer (out, in) that keeps only the columns of `pixels`."""
    mask = torch.zeros(layer.weight.shape, dtype=torch.bool)
    mask[:, pixels] = True
    return mask


def pixel_capacity(dense: nn.Module, n_pixels: int, first: str = "fc1") -> int:
    """The most weights a network can keep when its first layer reads only `n_pixels` inputs."""
    layers = get_masks(dense)
    return sum(m.numel() for name, m in layers.items() if name != first) + n_pixels * layers[first].shape[0]


def pixel_run(
    dense: nn.Module,
    pixels: torch.Tensor,
    kept: int,
    train,
    *,
    epochs: float,
    seed: int = 0,
    first: str = "fc1",
):
    """Dense reference cut to `pixels` in its first layer, then gradual magnitude to `kept` weights -> (model, s, hit)."""
    kept, pixels = int(kept), torch.as_tensor(pixels, dtype=torch.long)
    allowed = pixel_capacity(dense, len(pixels), first)
    if kept > allowed:
        raise ValueError(
            f"pixel control: {kept} weights asked, but {len(pixels)} pixels leave only {allowed}"
        )
    settings = Gradual()
    cfg = {"method": "pixel_control", "dense": cache.fingerprint(dense), "data": cache.fingerprint(*train),
           "pixels": pixels.tolist(), "kept": kept, "epochs": float(epochs), "seed": seed,
           "events": settings.events, "ramp": settings.ramp, "scope": settings.scope, "lr": settings.lr}  # fmt: skip

    def compute() -> dict:
        t0 = time.perf_counter()
        model = clone(dense)
        apply_masks(model, {first: pixel_mask(dict(model.named_modules())[first], pixels)})
        total = sum(m.numel() for m in get_masks(model).values())
        gradual_prune(model, train, compression=total / kept, epochs=epochs, events=settings.events,
                      ramp=settings.ramp, scope=settings.scope, lr=settings.lr, seed=seed)  # fmt: skip
        check_sparsity(model, kept, f"pixel control ({len(pixels)} pixels) after training")
        return {"state": export_state(model), "seconds": time.perf_counter() - t0}

    payload, hit = cache.cached("gumbel-pixel-control", cfg, compute, version=CONTROLS_VERSION)
    model = _reload(dense, payload, kept, f"pixel control ({len(pixels)} pixels)")
    outside = ~pixel_mask(dict(model.named_modules())[first], pixels)
    if bool((get_masks(model)[first] & outside).any()):
        raise AssertionError("pixel control: a first-layer edge outside the pixel set survived")
    return model, payload["seconds"], hit
