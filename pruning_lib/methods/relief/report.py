"""The results.json records of notebook 03: a run's entry (its operating point with 95% intervals), the
optimizer comparison and the α sweep with the rule ablation.

`network_entry` reads the operating point off the validation accuracies (`operating_point`, a rule stated in
advance) and reports its test accuracy with a Wilson interval and its drop against dense with a paired one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd
from torch import nn

from ... import stats
from ...train import correct
from .loop import operating_point, records

POINT_KEYS = ("params_pct", "weights_pct", "cr_params", "cr_weights", "test_acc", "test_acc_pruned", "val_acc",
              "flops_structured", "flops_structured_reduction", "flops_theoretical",
              "flops_theoretical_reduction")  # fmt: skip


def iteration_point(history: pd.DataFrame, t: int) -> dict:
    """The numbers of iteration t of a run's history, with its test-accuracy drop against iteration 0 in pp."""
    rows = history.set_index("iteration")
    d = {k: float(rows.loc[t, k]) for k in POINT_KEYS}
    d["iteration"] = int(t)
    d["drop_pp"] = 100 * (float(rows.loc[0, "test_acc"]) - d["test_acc"])
    return d


def network_entry(history: pd.DataFrame, dense: nn.Module, model_at: Callable[[int], nn.Module], test,
                  dense_info: Mapping, *, max_drop_pp: float, rule: str, target=(None, None),
                  judged: bool = True) -> dict:  # fmt: skip
    """results.json entry of one run: dense, iterations, operating point (with 95% intervals), final, target.

    `model_at(t)`: the model after iteration t; `target`: (max remaining %, max drop pp); `judged`: whether
    the target is judged on this data (else met is None).
    """
    t_op, found = operating_point(history, max_drop_pp, rule)  # validation only
    op = iteration_point(history, t_op)
    hits_dense, hits_op = correct(dense, *test), correct(model_at(t_op), *test)
    op["test_acc_interval_pct"] = list(stats.accuracy_interval([op["test_acc"]], len(test[1])))
    op["drop_interval_pp"] = list(stats.paired_difference(hits_dense.numpy(), hits_op.numpy()))
    op["reloaded_test_acc"] = int(hits_op.sum()) / len(hits_op)  # must reproduce test_acc (a check)
    op["rule"] = rule
    max_rem, max_drop = target
    met = (found and op["params_pct"] <= max_rem and op["drop_pp"] <= max_drop) if judged else None
    return {"dense": {**iteration_point(history, 0),
                      **{k: v for k, v in dense_info.items() if k in ("epoch_seconds", "cache_hit")}},
            "compute_seconds": float(history["seconds"].sum()),  # as measured when the iterations ran (cached since)
            "iterations": records(history), "operating_point": {**op, "found": found},
            "final": iteration_point(history, int(history["iteration"].max())),
            "target": {"max_remaining_pct": max_rem, "max_drop_pp": max_drop, "met": met}}  # fmt: skip


def optimizer_record(adam: Mapping | None, sgd: Mapping | None) -> dict | None:
    """results.json's Adam-versus-SGD record: the Adam entry's dense, operating point, final and target, the SGD entry.

    None when either arm did not run (notebook 03 with `networks="lenet5"`).
    """
    if adam is None or sgd is None:
        return None
    return {"adam": {k: adam[k] for k in ("dense", "operating_point", "final", "target")}, "sgd": sgd,
            "sgd_meets_lenet300_targets": sgd["target"]["met"]}  # fmt: skip


def ablation_record(settings: Mapping, alpha_effect: Mapping, rules: pd.DataFrame, table: pd.DataFrame,
                    seconds: float) -> dict:  # fmt: skip
    """results.json's α sweep and rule ablation (`settings`: the ablation_alphas, _iterations, _epochs used)."""
    return {"alphas": settings["ablation_alphas"], "iterations": settings["ablation_iterations"],
            "epochs": settings["ablation_epochs"], "remaining_pct_by_alpha": alpha_effect,
            "rules": rules.reset_index().to_dict("records"), "table": records(table), "seconds": seconds}  # fmt: skip
