"""NNrelief's iterative loop (Dekhovich et al. 2024, Sec. 3): T x (prune_step, retrain; the final weights are kept).

Every iteration is cached (kind "relief-iter", keyed by the inputs, the settings and the iteration), so a rerun
loads, an interrupted or longer run resumes, and `iteration_models` returns every iteration's model from one
call. The operating point is read off the validation accuracies by a rule stated in advance (`RULES`).
"""

from __future__ import annotations

import copy
import time

import pandas as pd
import torch
from torch import nn

from ... import cache
from ...cache import fingerprint
from ...masks import export_state, install_masks, load_state, refresh
from ...train import evaluate, fit, progress
from .architecture import iteration_metrics, positions_of
from .inputs import pruning_set, rewind
from .network import variant_options
from .step import prune_step

VERSION = 2  # bump when a code change alters pruning or retraining results (invalidates cached runs)
KIND = "relief-iter"
OPTIMIZERS = ("adam", "sgd")


RULES = ("stop_at_first_miss", "sparsest_within")  # how the operating point is read off the history


def operating_point(history: pd.DataFrame, max_drop_pp: float, rule: str = RULES[0]) -> tuple[int, bool]:
    """(iteration, found) on validation: the last of the unbroken run of iterations 1, 2, ... within max_drop_pp
    of dense (rule "stop_at_first_miss"), or the last iteration within it (rule "sparsest_within"); (1, False)
    when iteration 1 already misses."""
    if rule not in RULES:
        raise ValueError(f"rule={rule!r} is not one of {RULES}")
    dense_val = float(history.loc[history["iteration"] == 0, "val_acc"].iloc[0])
    pruned = history[history["iteration"] >= 1].sort_values("iteration")
    within = (100 * pruned["val_acc"] >= 100 * dense_val - max_drop_pp - 1e-9).to_numpy()
    if rule == RULES[0]:
        within = within.cumprod().astype(bool)  # everything after the first miss is out
    if within.any():
        return int(pruned["iteration"].to_numpy()[within][-1]), True
    return (1 if len(pruned) else 0), False


def records(history: pd.DataFrame) -> list[dict]:
    """History rows as JSON-ready dicts (missing values, such as iteration 0's pre-retraining numbers, as None)."""
    return history.astype(object).where(history.notna(), None).to_dict("records")


def run_key(model, train, val, prune_X, settings: dict) -> dict:
    """The cache config of an iterative run (without the iteration count): inputs and settings."""
    return {
        "method": "relief",
        "model": type(model).__name__,
        "dense": fingerprint(*model.state_dict().values()),
        "train": fingerprint(train[0][::97], train[1]),
        "val": fingerprint(val[0][::17], val[1]),
        "prune_set": fingerprint(prune_X),
        **settings,
    }


def _check(iterations: int, alpha_fc: float, alpha_conv: float, opt: str) -> None:
    """Reject a negative iteration count, an alpha outside (0, 1] and an unknown optimizer."""
    if iterations < 0:
        raise ValueError(f"iterations must be >= 0, got {iterations}")
    for name, a in (("alpha_fc", alpha_fc), ("alpha_conv", alpha_conv)):
        if not 0 < a <= 1:
            raise ValueError(f"{name}={a} must lie in (0, 1]")
    if opt not in OPTIMIZERS:
        raise ValueError(f"opt={opt!r} is not one of {OPTIMIZERS}")


def _resume(key: dict, iterations: int, every: bool) -> tuple[list[dict], int]:
    """(payloads, start): the cached iterations to resume from; `every`: all of 1..start, else only the last."""

    def load(t):
        cfg = {**key, "iteration": t}
        return (
            cache.load(KIND, cfg, version=VERSION) if cache.cache_path(KIND, cfg, VERSION).is_file() else None
        )

    if every:
        payloads = []
        for t in range(1, iterations + 1):
            payload = load(t)
            if payload is None:
                break
            payloads.append(payload)
        return payloads, len(payloads)
    for t in range(iterations, 0, -1):
        payload = load(t)
        if payload is not None:
            return [payload], t
    return [], 0


def _dense_row(net, val, test, positions) -> dict:
    """Iteration 0: the dense network's counts and accuracies."""
    row = {"iteration": 0, **iteration_metrics(net, positions)}
    row["val_acc"] = evaluate(net, *val)["acc"]
    if test is not None:
        row["test_acc"] = evaluate(net, *test)["acc"]
        row["test_acc_pruned"] = row["test_acc"]
    return row


def _iteration(
    net, t, prune_X, train, val, test, positions, opts, fit_kw, theta0_state, augment, seed
) -> dict:
    """Iteration t in place: one pruning call, optional rewind, retraining (final weights; validation after it)."""
    t0 = time.perf_counter()
    stats = prune_step(net, prune_X, opts["alpha_conv"], opts["alpha_fc"], **opts["variant"])
    row = {"iteration": t, **iteration_metrics(net, positions), "prune_seconds": time.perf_counter() - t0}
    if test is not None:
        row["test_acc_pruned"] = evaluate(net, *test)["acc"]
    row["dead_units"] = sum(s["dead"] for k, s in stats.items() if k != "swept")
    row["swept_units"] = sum(stats["swept"].values())
    row.update({f"{k}_kept_fraction": s["kept_fraction"] for k, s in stats.items() if k != "swept"})
    if theta0_state is not None:
        rewind(net, theta0_state)
    torch.manual_seed(seed * 1000 + t)  # dropout draws (VGG) are then reproducible on resume
    t1 = time.perf_counter()
    hist = fit(
        net if augment is None else nn.Sequential(augment, net),
        train,
        **fit_kw,
        schedule="multistep",
        seed=seed * 1000 + t,
        progress_bar=False,
    )  # validation is measured once, below, after the retraining
    refresh(net)
    row["retrain_seconds"] = time.perf_counter() - t1
    row["epoch_seconds"] = float(hist["seconds"].iloc[0] / hist["epoch"].iloc[0])
    row["val_acc"] = evaluate(net, *val)["acc"]
    if test is not None:
        row["test_acc"] = evaluate(net, *test)["acc"]
    row["seconds"] = time.perf_counter() - t0
    return row


def _history(rows: list[dict], start: int) -> pd.DataFrame:
    """The history table with FLOPs reductions against iteration 0; attrs["resumed_from"] = cached iterations."""
    history = pd.DataFrame(rows)
    history.attrs["resumed_from"] = (
        start  # iterations loaded from the cache (== iterations: a full cache hit)
    )
    dense_flops = history["flops_structured"].iloc[0], history["flops_theoretical"].iloc[0]
    history["flops_structured_reduction"] = 1 - history["flops_structured"] / dense_flops[0]
    history["flops_theoretical_reduction"] = 1 - history["flops_theoretical"] / dense_flops[1]
    return history


def _run(
    model: nn.Module,
    train,
    val,
    *,
    iterations: int,
    every: bool,
    alpha_fc: float = 0.95,
    alpha_conv: float = 0.9,
    n_prune: int = 1000,
    prune_X: torch.Tensor | None = None,
    epochs: float = 2,
    milestones=None,
    opt: str = "adam",
    lr: float = 1e-3,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    batch_size: int = 120,
    theta0_state: dict | None = None,
    variant: str = "paper",
    cut: str | None = None,
    test=None,
    seed: int = 0,
    augment: nn.Module | None = None,
    use_cache: bool = True,
    progress_bar: bool = True,
    desc: str = "NNrelief",
):
    """(net, history, states): the loop behind `iterative_pruning` and `iteration_models` (every: keep all states)."""
    _check(iterations, alpha_fc, alpha_conv, opt)
    device = next(model.parameters()).device
    net = install_masks(copy.deepcopy(model))
    opts = variant_options(variant, net)
    if cut is not None:
        opts["cut"] = cut
    if prune_X is None:
        prune_X, _ = pruning_set(train, n_prune, seed)
    prune_X = prune_X.to(device)
    milestones = [epochs / 2] if milestones is None else list(milestones)
    fit_kw = dict(epochs=epochs, batch_size=batch_size, opt=opt, lr=lr, momentum=momentum)
    fit_kw.update(weight_decay=weight_decay, milestones=milestones)
    settings = {
        "alpha_fc": alpha_fc,
        "alpha_conv": alpha_conv,
        **opts,
        "epochs": epochs,
        "milestones": milestones,
        "opt": opt,
        "lr": lr,
        "momentum": momentum if opt == "sgd" else None,
        "weight_decay": weight_decay,
        "batch_size": batch_size,
        "rewind": theta0_state is not None,
        "theta0": fingerprint(*theta0_state.values()) if theta0_state is not None else None,
        "seed": seed,
        "test": fingerprint(test[1]) if test is not None else None,
        "augment": repr(augment) if augment is not None else None,
    }
    key = run_key(model, train, val, prune_X, settings)
    positions = positions_of(net)
    payloads, start = _resume(key, iterations, every) if use_cache else ([], 0)
    if start:
        load_state(net, payloads[-1]["model"])
        rows = pd.DataFrame(payloads[-1]["history"]).to_dict("records")
    else:
        rows = [_dense_row(net, val, test, positions)]
    states = [p["model"] for p in payloads] if every else []
    step_opts = {"alpha_conv": alpha_conv, "alpha_fc": alpha_fc, "variant": opts}
    todo = range(start + 1, iterations + 1)
    bar = progress(todo, desc=desc, leave=True, disable=not progress_bar or not len(todo))
    for t in bar:
        row = _iteration(
            net, t, prune_X, train, val, test, positions, step_opts, fit_kw, theta0_state, augment, seed
        )
        rows.append(row)
        bar.set_postfix(remaining=f"{row['params_pct']:.2f}%", val=f"{row['val_acc']:.4f}", refresh=False)
        state = export_state(net, raw=True)
        if every:
            states.append(state)
        if use_cache:
            cache.save(KIND, {**key, "iteration": t}, {"model": state, "history": rows}, version=VERSION)
    bar.close()
    return net, _history(rows, start), states


def iterative_pruning(model: nn.Module, train, val, *, iterations: int, **kwargs):
    """Iterative NNrelief from a dense `model` (left untouched): (pruned copy with prune masks, history).

    History row 0 is the dense network. Keywords (defaults: the authors' LeNet settings): alpha_fc=0.95 and
    alpha_conv=0.9 (the knob), n_prune=1000 or prune_X (the fixed pruning set), epochs=2 of retraining per
    iteration with milestones (default [epochs / 2]), opt="adam" or "sgd", lr=1e-3, momentum=0.9,
    weight_decay=5e-4, batch_size=120, variant="paper" or "code" (and cut to override it), theta0_state
    (rewind to theta0 x masks before each retraining, the authors' LeNet protocol), test (only reported),
    seed, augment (e.g. CifarAugment, before the network during retraining only), use_cache, progress_bar,
    desc. No checkpoint is chosen: each retraining keeps its final weights, and `val` is measured after it.
    """
    net, history, _ = _run(model, train, val, iterations=iterations, every=False, **kwargs)
    return net, history


def iteration_models(model: nn.Module, train, val, *, iterations: int, **kwargs):
    """(models, history): the pruned model after each iteration 1..T (models[t - 1]) from one call.

    The keywords are those of `iterative_pruning` and the run shares its cache: cached iterations are loaded,
    the rest computed (and cached). Each model is a fresh copy of `model` with the iteration's masks and weights.
    """
    _, history, states = _run(model, train, val, iterations=iterations, every=True, **kwargs)
    models = [load_state(install_masks(copy.deepcopy(model)), state) for state in states]
    return models, history
