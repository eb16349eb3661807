"""Differentiable thresholds (Manessi et al. 2018): learn one pruning threshold per layer by backpropagation.

Every prunable weight tensor W is replaced in the forward pass by v^β(W, t), a smooth version of Han et al.'s
hard threshold x·1[|x| > t]. The threshold t = s·τ (s = std of the dense tensor, frozen; τ >= 0 learnable) and
the sharpness β = c/s (c annealed from c0 to c1) are per layer. Weights (SGD) and thresholds (Adam) are trained
jointly on cross-entropy + λ·R, then the hard mask |W| > t is applied and the survivors are fine-tuned. The knob
along the accuracy/sparsity trade-off is λ.

Parts: `functions` (v^β, its gradients, c schedule, regularizers), `parametrize` (the W -> v^β(W, t)
parametrization and masks), `prune` (the pipeline, `threshold_prune`, in place), `runs` (`threshold_run`, cached,
on a copy of a dense model), `starts` (dense starting points), `probe` (the transfer proxy), `method` (the
`Thresholds` Method of the head-to-head), `flops` (FLOPs by weights alone and activation-aware, as Han et al.
count them), `verdicts` (per-image correctness, intervals, paired verdicts, the `Scoreboard` of scored models),
`report` (notebook 02's tables: operating point, reductions, training cost, transfer, self-checks) and
`results` (its targets, headline rows and results.json parts). The Han et al. baseline of notebook 02 is the
suite's shared run, `pl.methods.han.rebuilt`.
"""

from ...train import correct  # per-image correctness (re-exported)
from ..magnitude import error_pct
from . import tasks  # the notebook's plan of training runs (pl.jobs tasks)
from .flops import activation_flops
from .functions import (
    BETA_MODES,
    REGULARIZERS,
    S2_CUTOFF,
    VERSION,
    c_schedule,
    family_table,
    regularizer,
    soft_kept,
    v_grads,
    v_hard,
    v_odd,
    v_reference,
)
from .method import Thresholds
from .parametrize import (
    SoftThreshold,
    attach,
    detach,
    hard_masks,
    hard_remaining,
    original_weights,
    set_c,
    step_regularizer,
)
from .probe import digits, fc1_features, linear_probe, transfer_probe
from .prune import DEFAULTS, JointPhase, check_options, harden, threshold_prune
from .report import (
    choose_operating_point,
    joint_epochs_to,
    method_table,
    operating_point_lines,
    reductions,
    self_checks,
    training_cost,
    transfer_deltas,
    transfer_table,
)
from .results import (
    han_result,
    json_records,
    met_if,
    net_report,
    net_targets,
    ours_result,
    reduction_result,
    transfer_report,
    transfer_result,
)
from .runs import remaining_by_layer, run_row, split_budget, threshold_run
from .starts import CAFFE_ITERATIONS, dense_on, dense_start
from .verdicts import Scoreboard, error_interval, paired, within

__all__ = [
    "BETA_MODES",
    "CAFFE_ITERATIONS",
    "DEFAULTS",
    "REGULARIZERS",
    "S2_CUTOFF",
    "VERSION",
    "JointPhase",
    "Scoreboard",
    "SoftThreshold",
    "Thresholds",
    "activation_flops",
    "attach",
    "c_schedule",
    "check_options",
    "choose_operating_point",
    "correct",
    "dense_on",
    "dense_start",
    "detach",
    "digits",
    "error_interval",
    "error_pct",
    "family_table",
    "fc1_features",
    "han_result",
    "hard_masks",
    "hard_remaining",
    "harden",
    "joint_epochs_to",
    "json_records",
    "linear_probe",
    "met_if",
    "method_table",
    "net_report",
    "net_targets",
    "operating_point_lines",
    "original_weights",
    "ours_result",
    "paired",
    "reduction_result",
    "reductions",
    "regularizer",
    "remaining_by_layer",
    "run_row",
    "self_checks",
    "set_c",
    "soft_kept",
    "split_budget",
    "step_regularizer",
    "threshold_prune",
    "threshold_run",
    "training_cost",
    "transfer_deltas",
    "transfer_probe",
    "transfer_report",
    "transfer_result",
    "transfer_table",
    "v_grads",
    "v_hard",
    "v_odd",
    "v_reference",
    "within",
    "tasks",
]
