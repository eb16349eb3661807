"""Global neuron ids, keep-masks from a list of removed neurons, and what a removal leaves of an MLP.

A removed hidden neuron takes its incoming weights, its bias and its outgoing weights with it (Wolfe et al.
2017, Sec. 2), so the counts follow from the layer sizes and the masks alone.
"""

from __future__ import annotations

import torch

from ...metrics import compression_ratio
from .net import SigmoidMLP


def neuron_ids(sizes) -> list[tuple[int, int]]:
    """(hidden layer, index) of every hidden neuron in global order (layer-major; layer 0 = first hidden)."""
    return [(layer, k) for layer, n in enumerate(list(sizes)[1:-1]) for k in range(n)]


def masks_from_removed(sizes, removed, device=None) -> list[torch.Tensor]:
    """Per-layer keep-masks with the global neuron ids in `removed` switched off."""
    hidden = list(sizes)[1:-1]
    flat = torch.ones(sum(hidden), dtype=torch.bool, device=device)
    flat[torch.as_tensor(list(removed), dtype=torch.long, device=device)] = False
    return list(flat.split(hidden))


def param_counts(net_or_sizes, masks=None) -> dict:
    """Neurons, weights and all parameters (weights + biases), total and left, of an MLP with neurons removed.

    Computed from the sizes and the neuron masks (`pl.metrics.counts` counts the nonzeros of a model instead).
    """
    sizes = net_or_sizes.sizes if isinstance(net_or_sizes, SigmoidMLP) else list(net_or_sizes)
    alive = [sizes[0]] + ([int(m.sum()) for m in masks] if masks is not None else sizes[1:-1]) + [sizes[-1]]
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    weights_nz = sum(a * b for a, b in zip(alive[:-1], alive[1:]))
    params, params_nz = weights + sum(sizes[1:]), weights_nz + sum(alive[1:])
    return {
        "neurons": sum(sizes[1:-1]),
        "neurons_left": sum(alive[1:-1]),
        "weights": weights,
        "weights_nonzero": weights_nz,
        "params": params,
        "params_nonzero": params_nz,
        "compression_weights": compression_ratio(weights, weights_nz),
        "compression_params": compression_ratio(params, params_nz),
    }
