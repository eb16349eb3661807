"""Whole-neuron removal without retraining: serial brute force vs Taylor criteria (Wolfe et al. 2017).

A hidden neuron k is removed by setting its output to 0 (mask m_k = 0). Each criterion estimates dE_k, the change
of the summed error E when k goes; the smallest signed dE goes first (ties: lowest (layer, index)).

* `net`: the paper's sigmoid / SSE MLP with neuron masks (`SigmoidMLP`, also wrapping ordinary Linear stacks),
  errors and accuracy; `counts`: neuron ids, masks, parameter counts; `fitting`: training the paper's nets.
* `brute_force`: the exact dE of every candidate at once (rank-1 updates), the naive reference, gain curves.
* `taylor`: the 1st / 2nd-order estimates from the paper's diagonal second-order backprop.
* `loop`: Algorithms I and II (`serial_prune` -> `PruneResult`); `curves`: one-number curve summaries.
* `export`: removed neurons as torch.nn.utils.prune masks on an ordinary model; the suite's FC stacks.
* `method`: the head-to-head `Method` ("neurons" and "neurons_ft").
"""

from .brute_force import DEFAULT_CHUNK, bf_scores, bf_scores_naive, gain_curve, rank1_errors
from .counts import masks_from_removed, neuron_ids, param_counts
from .curves import (
    curve_summary,
    decades_above,
    n_below_start,
    n_sse5,
    n_sse_ratio,
    n_within,
    share_from_layer,
)
from .export import (
    NEURON_LAYERS,
    checked_export,
    layer_names_of,
    neuron_inputs,
    neuron_keep_masks,
    remove_neurons,
    to_pruned_module,
)
from .fitting import balanced_accuracy, class_weights, fit_sse, fit_until, mean_sse_loss
from .loop import CRITERIA, SCHEDULES, PruneResult, serial_prune
from .method import Neurons
from .net import (
    ERRORS,
    HIDDEN_ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    SigmoidMLP,
    error,
    mlp_accuracy,
    one_hot,
    sample_errors,
    sse,
)
from .prepared import Prepared
from .taylor import backprop2, taylor_scores

__all__ = [
    "CRITERIA",
    "DEFAULT_CHUNK",
    "ERRORS",
    "HIDDEN_ACTIVATIONS",
    "NEURON_LAYERS",
    "OUTPUT_ACTIVATIONS",
    "SCHEDULES",
    "Neurons",
    "Prepared",
    "PruneResult",
    "SigmoidMLP",
    "backprop2",
    "balanced_accuracy",
    "bf_scores",
    "bf_scores_naive",
    "checked_export",
    "class_weights",
    "curve_summary",
    "decades_above",
    "error",
    "fit_sse",
    "fit_until",
    "gain_curve",
    "layer_names_of",
    "masks_from_removed",
    "mean_sse_loss",
    "mlp_accuracy",
    "n_below_start",
    "n_sse5",
    "n_sse_ratio",
    "n_within",
    "neuron_ids",
    "neuron_inputs",
    "neuron_keep_masks",
    "one_hot",
    "param_counts",
    "rank1_errors",
    "remove_neurons",
    "sample_errors",
    "serial_prune",
    "share_from_layer",
    "sse",
    "taylor_scores",
    "to_pruned_module",
]
