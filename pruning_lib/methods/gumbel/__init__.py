"""Gumbel-softmax gates: Zhang, Tao, Zhang 2023, "Neural Network Pruning by Gradient Descent" (arXiv:2311.12526).

Every gated weight W gets two logits per connection, theta_0 ("keep") and theta_1 ("drop"). Each forward pass
draws one hard 0/1 mask per layer by the Gumbel-max trick, with the straight-through gradient of the
Gumbel-softmax at temperature tau; the loss adds lambda x D_hat, the density of an independent hard sample at
tau = 1. After training the mask is the argmax M* = 1[theta_0 >= theta_1] (a tie keeps), with no retraining,
and `export_pruned` turns the network into an ordinary model with torch.nn.utils.prune masks. The knob is `lam`.

Parts: `binary` (the one-random-number-per-weight form of the two-logit Gumbel-softmax), `gates` (the
`GumbelGate` parametrization, modes, densities, masks, export), `train` (the gated training loop),
`runs` (cached MNIST runs, epoch cost), `sweep` (the refinement lambda and the validation-chosen headline),
`controls` (magnitude at a matched budget and the pixel controls at the headline size), `toy` (the authors' toy
task), `graph` (paths, components, the split check), `method` (the suite's `Gumbel` Method). Drawing lives in `pruning_lib.plots.gumbel`.

Entry points for other notebooks: `prune_lenet300(lam, train, epochs=..., test=...)` trains a gated
LeNet-300-100 from scratch and returns (an ordinary LeNet300100 with prune masks M*, per-epoch history);
`cached_lenet300(lam, profile, epochs=..., seed=2050)` does the same on the suite's MNIST split of `profile`,
cached under cache/gumbel-mnist/ (notebook 01's quick runs use epochs=10, seed=2050 and the defaults);
`Gumbel` is the same as a suite `Method`. The magnitude baseline at the same size and budget is
`magnitude_run(dense, kept, train, epochs=...)`; the pixel controls are `pixel_run(dense, pixels, kept, train, ...)`.
"""

from . import tasks  # the notebook's plan of training runs (pl.jobs tasks)
from .binary import logistic_noise
from .controls import (
    CONTROLS_VERSION,
    magnitude_run,
    pixel_capacity,
    pixel_mask,
    pixel_run,
    random_pixels,
    top_variance_pixels,
)
from .gates import (
    INITS,
    MODES,
    GumbelGate,
    argmax_density,
    argmax_masks,
    expected_density,
    export_pruned,
    gate_layers,
    gate_linears,
    gate_mode,
    gated_weights,
    gates_of,
    kept_counts,
    n_gated,
    sampled_density,
    set_mode,
)
from .graph import (
    components,
    effective_edges,
    layer_orders,
    mask_list,
    path_counts,
    pixel_importance,
    sign_symmetry,
    split_check,
)
from .method import Gumbel
from .runs import RECIPE, VERSION, cached_lenet300, cached_model, epoch_seconds, mnist_config
from .sweep import headline_lambda, refine_lambda, round_sig
from .toy import TOY_INPUTS, TOY_OUTPUTS, toy_model, train_toy
from .train import (
    GATED_TYPES,
    adam,
    density_row,
    gated_eval,
    lenet300_gated,
    prune_lenet300,
    prune_model,
    sampled_eval,
    train_gated,
)

__all__ = [
    "CONTROLS_VERSION",
    "GATED_TYPES",
    "INITS",
    "MODES",
    "RECIPE",
    "TOY_INPUTS",
    "TOY_OUTPUTS",
    "VERSION",
    "Gumbel",
    "GumbelGate",
    "adam",
    "argmax_density",
    "argmax_masks",
    "cached_lenet300",
    "cached_model",
    "components",
    "density_row",
    "effective_edges",
    "epoch_seconds",
    "expected_density",
    "export_pruned",
    "gate_layers",
    "gate_linears",
    "gate_mode",
    "gated_eval",
    "gated_weights",
    "gates_of",
    "headline_lambda",
    "kept_counts",
    "layer_orders",
    "lenet300_gated",
    "logistic_noise",
    "magnitude_run",
    "mask_list",
    "mnist_config",
    "n_gated",
    "path_counts",
    "pixel_importance",
    "pixel_capacity",
    "pixel_mask",
    "pixel_run",
    "prune_lenet300",
    "prune_model",
    "random_pixels",
    "refine_lambda",
    "round_sig",
    "sampled_density",
    "sampled_eval",
    "set_mode",
    "sign_symmetry",
    "split_check",
    "top_variance_pixels",
    "toy_model",
    "train_gated",
    "train_toy",
    "tasks",
]
