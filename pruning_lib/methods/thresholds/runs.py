"""Cached threshold runs on a copy of a dense model (notebooks 02 and 05), and their summaries as table rows."""

from __future__ import annotations

import copy

import pandas as pd
from torch import nn

from ...cache import fingerprint
from ...metrics import check_sparsity
from ..magnitude import cached_pruning_run
from .functions import VERSION
from .prune import DEFAULTS, threshold_prune


def split_budget(budget) -> tuple[float, float]:
    """(joint, fine-tune) epochs from a pair, or from a total split 3:1."""
    if isinstance(budget, tuple | list):
        joint, ft = budget
    else:
        joint, ft = 0.75 * budget, 0.25 * budget
    if joint <= 0 or ft < 0:
        raise ValueError(f"budget={budget!r}: need joint epochs > 0 and fine-tune epochs >= 0")
    return float(joint), float(ft)


def threshold_run(
    dense: nn.Module, splits, lam: float = 2.0, budget=(6, 2), *, seed: int = 0, cache=True, **options
):
    """Differentiable-threshold pruning of a copy of `dense` (cached): returns (pruned model, history).

    `splits` has .train/.val/.test; `budget` is (joint, fine-tune) epochs or a total (split 3:1);
    `options` are `threshold_prune` keywords (reg, beta_mode, lr, lr_tau, tau0, c0, c1, ...).
    """
    joint, ft = split_budget(budget)
    opts = {**DEFAULTS, **options, "lam": float(lam)}
    unknown = set(opts) - set(DEFAULTS) - {"progress_bar", "log_every"}
    if unknown:
        raise ValueError(f"unknown options {sorted(unknown)}; choose from {sorted(DEFAULTS)}")
    progress_bar = opts.pop("progress_bar", True)
    cfg = {
        "method": "thresholds",
        "dense": fingerprint(dense),
        "data": fingerprint(splits.train, splits.val, splits.test),
        "joint_epochs": joint,
        "finetune_epochs": ft,
        "seed": seed,
        **opts,
    }

    def compute():
        model = copy.deepcopy(dense)
        return threshold_prune(
            model,
            splits.train,
            joint_epochs=joint,
            finetune_epochs=ft,
            seed=seed,
            test=splits.test,
            val=splits.val,
            progress_bar=progress_bar,
            **opts,
        )

    model, hist = cached_pruning_run("thresholds", cfg, dense, compute, version=VERSION, use_cache=cache)
    s = hist.attrs["summary"]  # runs cached before `weights_kept` was recorded: their nonzero count
    check_sparsity(
        model, s.get("weights_kept", s["counts"]["weights_nonzero"]), f"thresholds λ={lam:g} after reload"
    )
    return model, hist


def run_row(hist: pd.DataFrame) -> dict:
    """A run's summary as one flat row: errors, counts (weights and all parameters), τ, t and % per layer."""
    s = hist.attrs["summary"]
    keys = ("error_soft_pct", "error_hard_pct", "error_final_pct", "val_error_final_pct", "joint_weights_pct")
    row = {k: s[k] for k in (*keys, "q", "joint_s", "hard_s", "finetune_s", "seconds") if k in s}
    c = s["counts"]
    for k in ("weights_nonzero", "weights_pct", "params_nonzero", "params_pct"):
        row[k] = c[k]
    row["compression_weights"], row["compression_params"] = c["compression_weights"], c["compression_params"]
    row.update({f"{r['layer']}_pct": r["remaining_pct"] for r in s["per_layer"] if r["layer"] != "total"})
    row.update({f"tau_{k}": v for k, v in s.get("tau", {}).items()})
    row.update({f"t_{k}": v for k, v in s.get("t", {}).items()})
    row["cache_hit"] = s.get("cache_hit")
    return row


def remaining_by_layer(hist: pd.DataFrame) -> dict[str, float]:
    """% of weights left per layer and in total ('total'), from a run's summary (threshold or Han run)."""
    return {r["layer"]: r["remaining_pct"] for r in hist.attrs["summary"]["per_layer"]}
