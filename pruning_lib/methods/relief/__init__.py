"""NNrelief: Dekhovich, Tax, Sluiter, Bessa 2024, "Neural network relief: a pruning algorithm based on neural
activity" (Machine Learning 113(5); arXiv:2109.10795; code github.com/adekhovich/NNrelief).

A unit (FC neuron or conv filter) scores each incoming connection (a weight, or a whole r x r kernel) by the
mean absolute signal it carries on a fixed pruning set, plus its bias as one more candidate, and keeps the
smallest set of strongest candidates that holds a fraction alpha of the unit's total. A dead-unit rule, a
backward sweep of orphaned units and (ResNet) a skip-connection rule come from the authors' code. Masks live
in torch.nn.utils.prune on weights, biases and BatchNorm gamma/beta (`pruning_lib.masks`); ResNet shortcut
gates are the `shortcut.mask` buffer.

Parts: `scores` (importance scores, the alpha cut), `network` (the conv/FC plan of each network, variants),
`units` (removing whole units), `step` (one pruning call: dead rule, skip rule), `sweep` (the backward
sweep), `architecture` (alive units, structured FLOPs, per-iteration metrics), `inputs` (theta0, the pruning
set, rewinding), `loop` (the cached iterative loop, the operating point), `checks` (checks that can
fail: the alpha share each live unit keeps, constant units, a run's reload from the cache; per-image
correctness), `report` (the results.json records of notebook 03: a run's entry, optimizers, ablation),
`cifar` (CIFAR-10 data, a synthetic stand-in, augmentation, the schedules, the CIFAR runs), `method` (the
suite's `Relief` Method). Drawing lives in `pruning_lib.plots.relief`.
"""

from ...train import correct  # per-image correctness (re-exported)
from . import tasks  # the notebook's plan of training runs (pl.jobs tasks)
from .architecture import (
    alive_unit_labels,
    alive_units,
    iteration_metrics,
    layer_breakdown,
    positions_of,
    structured_flops,
)
from .checks import constant_units, iteration_margins, kept_share, reload_checks
from .cifar import (
    CIFAR_MEAN,
    CIFAR_MODES,
    CIFAR_NETS,
    CIFAR_SCHEDULES,
    CIFAR_STD,
    CifarAugment,
    cifar10_dir,
    cifar_data,
    cifar_estimate,
    cifar_mode,
    cifar_network,
    cifar_schedule,
    cifar_schedule_table,
    cifar_summary,
    load_cifar10,
    synthetic_cifar,
)
from .inputs import pruning_set, rewind, theta0
from .loop import (
    OPTIMIZERS,
    RULES,
    VERSION,
    iteration_models,
    iterative_pruning,
    operating_point,
    records,
    run_key,
)
from .method import Relief
from .network import (
    VARIANTS,
    ConvLayer,
    FCLayer,
    Plan,
    conv_forward,
    input_shape,
    plan,
    resnet_blocks,
    variant_options,
)
from .report import ablation_record, iteration_point, network_entry, optimizer_record
from .scores import (
    CHUNK_FLOATS,
    CONV_AGGS,
    CONV_ORDERS,
    CUTS,
    alpha_cut,
    candidates,
    conv_scores,
    cut_index,
    fc_scores,
    kept_count,
)
from .step import prune_step
from .sweep import backward_sweep
from .units import count_removed, remove_units, unit_alive

__all__ = [
    "CHUNK_FLOATS",
    "CIFAR_MEAN",
    "CIFAR_MODES",
    "CIFAR_NETS",
    "CIFAR_SCHEDULES",
    "CIFAR_STD",
    "CONV_AGGS",
    "CONV_ORDERS",
    "CUTS",
    "OPTIMIZERS",
    "RULES",
    "VARIANTS",
    "VERSION",
    "CifarAugment",
    "ConvLayer",
    "FCLayer",
    "Plan",
    "Relief",
    "ablation_record",
    "alive_unit_labels",
    "alive_units",
    "alpha_cut",
    "backward_sweep",
    "candidates",
    "cifar10_dir",
    "cifar_data",
    "cifar_estimate",
    "cifar_mode",
    "cifar_network",
    "cifar_schedule",
    "cifar_schedule_table",
    "cifar_summary",
    "conv_forward",
    "constant_units",
    "conv_scores",
    "correct",
    "count_removed",
    "cut_index",
    "fc_scores",
    "input_shape",
    "iteration_margins",
    "iteration_metrics",
    "iteration_models",
    "iteration_point",
    "iterative_pruning",
    "kept_count",
    "kept_share",
    "layer_breakdown",
    "load_cifar10",
    "network_entry",
    "operating_point",
    "optimizer_record",
    "plan",
    "positions_of",
    "prune_step",
    "pruning_set",
    "records",
    "reload_checks",
    "remove_units",
    "resnet_blocks",
    "tasks",
    "rewind",
    "run_key",
    "structured_flops",
    "synthetic_cifar",
    "theta0",
    "unit_alive",
    "variant_options",
]
