"""NNrelief's knobs, measured: an alpha sweep and an ablation of the dead-unit rule and the backward sweep.

Each arm starts from the same dense network and runs a few short iterations (one pruning call, then an optional
short retraining); one arm is cached as one payload (kind "relief-ablation"). The rules come from the authors'
code (the paper's formulas hold only the scores and the alpha cut), so the ablation measures what they add.
"""

from __future__ import annotations

import copy
import time

import pandas as pd
import torch
from torch import nn

from ... import cache
from ...cache import fingerprint
from ...masks import install_masks, refresh
from ...metrics import mask_counts
from ...train import evaluate, fit
from .step import prune_step

ABLATION_VERSION = 1  # bump when a code change alters these arms' results
RULE_SETS = {  # arm name -> (dead_rule, sweep)
    "both rules (the method)": (True, True),
    "no dead-unit rule": (False, True),
    "no backward sweep": (True, False),
    "neither rule": (False, False),
}


def _counts(net) -> dict:
    """Remaining parameters and weights (counts, % and compression) of a masked network."""
    return {k: v for k, v in mask_counts(net).items() if k != "layer_weights_pct"}


def short_arm(
    dense: nn.Module,
    prune_X: torch.Tensor,
    train,
    test,
    *,
    alpha_fc: float,
    alpha_conv: float = 0.9,
    dead_rule: bool = True,
    sweep: bool = True,
    iterations: int = 2,
    epochs: float = 0.5,
    cut: str = "paper",
    seed: int = 0,
    fit_kw: dict | None = None,
) -> pd.DataFrame:
    """Iterations 0..T of one short NNrelief arm (prune, then retrain `epochs`; 0: no retraining) as a table."""
    net = install_masks(copy.deepcopy(dense))
    rows = [{"iteration": 0, **_counts(net), "test_acc": evaluate(net, *test)["acc"]}]
    for t in range(1, iterations + 1):
        t0 = time.perf_counter()
        stats = prune_step(net, prune_X, alpha_conv, alpha_fc, cut=cut, dead_rule=dead_rule, sweep=sweep)
        row = {"iteration": t, **_counts(net)}
        row["dead_units"] = sum(s["dead"] for k, s in stats.items() if k != "swept")
        row["swept_units"] = sum(stats["swept"].values())
        row["test_acc_pruned"] = evaluate(net, *test)["acc"]
        if epochs:
            kw = dict(batch_size=120, opt="adam", lr=1e-3, weight_decay=5e-4, milestones=[epochs / 2])
            fit(net, train, epochs=epochs, schedule="multistep", seed=seed * 1000 + t, progress_bar=False,
                **{**kw, **(fit_kw or {})})  # fmt: skip
            refresh(net)
        row["test_acc"] = evaluate(net, *test)["acc"] if epochs else row["test_acc_pruned"]
        row["seconds"] = time.perf_counter() - t0
        rows.append(row)
    return pd.DataFrame(rows)


def cached_arm(dense, prune_X, train, test, **kw) -> tuple[pd.DataFrame, bool]:
    """`short_arm`, cached by its inputs and settings: (table, cache hit)."""
    config = {
        "dense": fingerprint(*dense.state_dict().values()),
        "prune_set": fingerprint(prune_X),
        "train": fingerprint(train[0][::97], train[1]),
        "test": fingerprint(test[1]),
        **{k: v for k, v in sorted(kw.items())},
    }
    payload, hit = cache.cached(
        "relief-ablation",
        config,
        lambda: {"table": short_arm(dense, prune_X, train, test, **kw)},
        version=ABLATION_VERSION,
    )
    return pd.DataFrame(payload["table"]), hit


def alpha_and_rules(
    dense,
    prune_X,
    train,
    test,
    *,
    alphas,
    alpha_fc: float,
    iterations: int,
    epochs: float,
    seed: int = 0,
    **kw,
) -> tuple[pd.DataFrame, float]:
    """Long table (arm, alpha, iteration, ...) of the alpha sweep (both rules) and the rule ablation at alpha_fc.

    Returns (table, seconds computed now); an arm shared by both parts (both rules at alpha_fc) runs once.
    """
    arms = {("alpha", float(a)): (float(a), True, True) for a in alphas}
    arms.update({(name, float(alpha_fc)): (float(alpha_fc), *rules) for name, rules in RULE_SETS.items()})
    done, parts, spent = {}, [], 0.0
    for (group, a), (alpha, dead_rule, sweep) in arms.items():
        settings = (alpha, dead_rule, sweep)
        if settings not in done:
            t0 = time.perf_counter()
            done[settings], hit = cached_arm(dense, prune_X, train, test, alpha_fc=alpha, dead_rule=dead_rule,
                                             sweep=sweep, iterations=iterations, epochs=epochs, seed=seed, **kw)  # fmt: skip
            spent += 0.0 if hit else time.perf_counter() - t0
        parts.append(done[settings].assign(arm=group, alpha=a, dead_rule=dead_rule, sweep=sweep))
    return pd.concat(parts, ignore_index=True), spent


def rule_contributions(table: pd.DataFrame, iteration: int) -> pd.DataFrame:
    """Per rule set at one iteration: remaining %, compression, test accuracy, and units removed by each rule."""
    rules = table[table["arm"].isin(list(RULE_SETS))]
    rows = []
    for name in RULE_SETS:
        arm = rules[rules["arm"] == name]
        at = arm[arm["iteration"] == iteration].iloc[0]
        upto = arm[(arm["iteration"] >= 1) & (arm["iteration"] <= iteration)]
        rows.append({
            "rules": name,
            "remaining %": float(at["params_pct"]),
            "compression": float(at["cr_params"]),
            "test acc": float(at["test_acc"]),
            "dead units removed": int(upto["dead_units"].sum()),
            "units swept": int(upto["swept_units"].sum()),
        })  # fmt: skip
    out = pd.DataFrame(rows).set_index("rules")
    out["extra remaining vs the method (pp)"] = out["remaining %"] - out["remaining %"].iloc[0]
    return out
