"""Magnitude baselines: global and layerwise magnitude, random, and Han et al.'s iterative prune-retrain.

Han et al. 2015 prune each layer at threshold q x std(W_layer) and retrain the survivors; here one shared
quality q per iteration is chosen so the total hits a geometric schedule r_k = r_final^(k/K), the stds are
frozen at the dense model's, and masks only ever get sparser. `han_baseline` is that pipeline on a copy of a
dense model, cached (notebook 02's equal-budget baseline).
"""

from __future__ import annotations

import copy
import time

import pandas as pd
import torch
from torch import nn

from ..cache import cached, fingerprint
from ..masks import apply_masks, clone, export_state, load_state, masked_copy, prunable_layers
from ..metrics import counts, layer_table
from ..reference import han_layer_keep
from ..train import evaluate, fit, progress

VERSION = 1  # bump when a change to this module alters cached results (`han_baseline`)


def n_keep(keep: float | int, total: int) -> int:
    """Number of weights to keep: `keep` is a fraction in (0, 1] or an integer count."""
    if isinstance(keep, int) and not isinstance(keep, bool):
        if not 0 <= keep <= total:
            raise ValueError(f"keep={keep} weights is outside [0, {total}]")
        return keep
    if not 0 < keep <= 1:
        raise ValueError(f"keep={keep} must be a fraction in (0, 1] or an integer count")
    return round(keep * total)


def _weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: m.weight.detach() for name, m in prunable_layers(model).items()}


def _split(flat: torch.Tensor, like: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out, i = {}, 0
    for name, w in like.items():
        out[name] = flat[i : i + w.numel()].view_as(w)
        i += w.numel()
    return out


def global_magnitude_masks(model: nn.Module, keep: float | int) -> dict[str, torch.Tensor]:
    """Keep the `keep` largest |w| over all prunable layers together (already-pruned weights count as 0)."""
    ws = _weights(model)
    flat = torch.cat([w.abs().flatten() for w in ws.values()])
    k = n_keep(keep, flat.numel())
    mask = torch.zeros_like(flat, dtype=torch.bool)
    mask[torch.topk(flat, k, sorted=False).indices] = True
    return _split(mask, ws)


def layerwise_magnitude_masks(model: nn.Module, keep: float | dict[str, float]) -> dict[str, torch.Tensor]:
    """Keep the largest |w| of each layer: the same fraction everywhere, or a fraction per layer name."""
    masks = {}
    for name, w in _weights(model).items():
        frac = keep[name] if isinstance(keep, dict) else keep
        k = w.numel() - round((1 - frac) * w.numel())  # the rounding torch.nn.utils.prune uses
        mask = torch.zeros(w.numel(), dtype=torch.bool)
        mask[torch.topk(w.abs().flatten(), k, sorted=False).indices] = True
        masks[name] = mask.view_as(w)
    return masks


def random_masks(model: nn.Module, keep: float, seed: int = 0) -> dict[str, torch.Tensor]:
    """Keep a seeded uniformly random `keep` fraction of each layer's weights."""
    g = torch.Generator().manual_seed(seed)
    masks = {}
    for name, w in _weights(model).items():
        k = w.numel() - round((1 - keep) * w.numel())
        mask = torch.zeros(w.numel(), dtype=torch.bool)
        mask[torch.randperm(w.numel(), generator=g)[:k]] = True
        masks[name] = mask.view_as(w)
    return masks


ONESHOT = {
    "magnitude_global": global_magnitude_masks,
    "magnitude_layerwise": layerwise_magnitude_masks,
    "random": random_masks,
}


def oneshot_sweep(model: nn.Module, compressions, test, methods=tuple(ONESHOT), val=None) -> pd.DataFrame:
    """Accuracy of one-shot pruning without retraining at each compression (total/kept weights) per method.

    With `val`, each row also has `val_acc` (what a choice among the rows must read; test is only reported).
    """
    rows = []
    for method in methods:
        for c in compressions:
            pruned = masked_copy(model, ONESHOT[method](model, 1.0 / c))
            cnt = counts(pruned)
            rows.append(
                {
                    "method": method,
                    "target_compression": c,
                    "weights_pct": cnt["weights_pct"],
                    "compression_weights": cnt["compression_weights"],
                    "compression_params": cnt["compression_params"],
                    **({"val_acc": evaluate(pruned, *val)["acc"]} if val is not None else {}),
                    "test_acc": evaluate(pruned, *test)["acc"],
                }
            )
    return pd.DataFrame(rows)


# --- Han et al. 2015: threshold = quality x std of the layer's weights ---------------------------------


def layer_stds(model: nn.Module) -> dict[str, float]:
    """Standard deviation of each prunable layer's weights (frozen at the dense model for Han's schedule)."""
    return {name: w.std().item() for name, w in _weights(model).items()}


def threshold_masks(model: nn.Module, q: float, stds: dict[str, float]) -> dict[str, torch.Tensor]:
    """Han's per-layer masks |w| > q * std_layer (strict; pruned weights are 0 and stay pruned)."""
    return {name: w.abs() > q * stds[name] for name, w in _weights(model).items()}


def quality_for_keep(model: nn.Module, stds: dict[str, float], keep: int) -> float:
    """The quality q at which exactly `keep` weights satisfy |w| > q * std (up to ties), as an order statistic."""
    ratios = torch.cat([(w.abs() / stds[name]).flatten() for name, w in _weights(model).items()])
    if keep >= int((ratios > 0).sum()):
        return 0.0
    return torch.topk(ratios, keep + 1).values[-1].item()


def han_prune(
    model: nn.Module,
    train,
    *,
    r_final: float = 0.08,
    iterations: int = 4,
    retrain_epochs: float = 2,
    lr: float = 0.005,
    test=None,
    val=None,
    mode: str = "quality",
    network: str | None = None,
    seed: int = 0,
    fit_kwargs: dict | None = None,
    on_iteration=None,
):
    """Iterative prune-retrain (Han et al. 2015) in place; returns (model, per-iteration history DataFrame).

    mode="quality": one shared q per iteration hits the total r_final^(k/K); mode="published_ratios": each
    layer keeps Han's published fraction^(k/K) (needs `network`='lenet300' or 'lenet5').
    `on_iteration(k, model, row)` is called after every retraining (e.g. to snapshot each operating point).
    """
    if mode not in ("quality", "published_ratios"):
        raise ValueError(f"mode={mode!r} is not one of 'quality', 'published_ratios'")
    if mode == "published_ratios" and network is None:
        raise ValueError("mode='published_ratios' needs network='lenet300' or 'lenet5'")
    if not 0 < r_final < 1 or iterations < 1:
        raise ValueError(f"need 0 < r_final < 1 and iterations >= 1, got {r_final}, {iterations}")
    stds = layer_stds(model)
    total = counts(model)["weights"]
    history = []
    for k in progress(range(1, iterations + 1), desc="Han prune-retrain", leave=True):
        t0 = time.perf_counter()
        target = r_final ** (k / iterations)
        if mode == "quality":
            q = quality_for_keep(model, stds, round(target * total))
            masks = threshold_masks(model, q, stds)
        else:
            q = float("nan")
            masks = layerwise_magnitude_masks(
                model, {n: p ** (k / iterations) for n, p in han_layer_keep(network).items()}
            )
        apply_masks(model, masks)
        row = {"iteration": k, "target_pct": 100 * target, "q": q, **_layer_pcts(model)}
        if val is not None:
            row["val_acc_pruned"] = evaluate(model, *val)["acc"]
        if test is not None:
            row["test_acc_pruned"] = evaluate(model, *test)["acc"]  # reports test: never chosen on
        fit(
            model,
            train,
            epochs=retrain_epochs,
            lr=lr,
            seed=seed + k,
            val=val,
            desc=f"retrain {k}/{iterations}",
            **(fit_kwargs or {}),
        )
        if val is not None:
            row["val_acc_retrained"] = evaluate(model, *val)["acc"]
        if test is not None:
            row["test_acc_retrained"] = evaluate(model, *test)["acc"]  # reports test: never chosen on
        row["seconds"] = time.perf_counter() - t0
        history.append(row)
        if on_iteration is not None:
            on_iteration(k, model, row)
    return model, pd.DataFrame(history)


def _layer_pcts(model: nn.Module) -> dict[str, float]:
    """% of weights remaining per layer and in total (keys `<layer>_pct`, `weights_pct`)."""
    out = {
        f"{name}_pct": 100 * torch.count_nonzero(w).item() / w.numel() for name, w in _weights(model).items()
    }
    out["weights_pct"] = counts(model)["weights_pct"]
    return out


# --- the magnitude baseline at the same kept count ----------------------------------------------------


def adam_finetune(
    model: nn.Module, train, *, epochs: float, lr: float = 1e-3, seed: int = 0, desc: str = "fine-tune"
):
    """Fine-tune a masked model in place with the magnitude baseline's recipe: Adam, batch 128, constant lr, no decay."""
    fit(model, train, epochs=epochs, batch_size=128, opt="adam", lr=lr, weight_decay=0.0, schedule="constant",
        seed=seed, progress_bar=False, desc=desc)  # fmt: skip
    return model


def magnitude_at(
    dense: nn.Module, kept: int, train, test, *, epochs: float = 1, lr: float = 1e-3, seed: int = 0
):
    """Global magnitude pruning of a copy of `dense` to exactly `kept` weights, then Adam fine-tuning, mask fixed.

    Returns (model, {kept, acc_pruned, acc_finetuned}).
    """
    model = apply_masks(clone(dense), global_magnitude_masks(dense, int(kept)))
    row = {"kept": int(kept), "acc_pruned": evaluate(model, *test)["acc"]}
    adam_finetune(model, train, epochs=epochs, lr=lr, seed=seed)
    row["acc_finetuned"] = evaluate(model, *test)["acc"]
    return model, row


# --- Han's pipeline on a copy of a dense model, cached (notebook 02) ------------------------------------


def error_pct(acc: float) -> float:
    """Test error in % from an accuracy, rounded to 1e-6 (so 98.2% accuracy is exactly 1.8% error)."""
    return round(100.0 * (1.0 - acc), 6)


def cached_pruning_run(kind: str, config: dict, dense: nn.Module, compute, *, version: int, use_cache=True):
    """(model, history): `compute()` -> (pruned model, history with attrs["summary"]) through the cache.

    The model comes back as a masked copy of `dense`; the summary gains `cache_hit` and `config`.
    """

    def payload():
        model, hist = compute()
        return {"model": export_state(model), "history": hist, "summary": hist.attrs["summary"]}

    if use_cache:
        data, hit = cached(kind, config, payload, version=version)
    else:
        data, hit = payload(), False
    model = load_state(copy.deepcopy(dense), data["model"])
    hist = pd.DataFrame(data["history"])
    hist.attrs["summary"] = {**data["summary"], "cache_hit": hit, "config": config}
    return model, hist


def han_baseline(
    dense: nn.Module,
    splits,
    r_final: float = 0.08,
    budget=(4, 2),
    *,
    lr: float = 0.005,
    mode: str = "quality",
    network: str | None = None,
    seed: int = 0,
    cache=True,
):
    """Han et al. 2015's iterative prune-retrain (`han_prune`) on a copy of `dense`, cached.

    `budget` = (iterations, retrain epochs per iteration); returns (model, history) with history.attrs["summary"]
    holding the final q, test (and validation) error, counts, the per-layer table and the wall time.
    """
    iterations, retrain = budget
    cfg = {
        "method": "han",
        "dense": fingerprint(dense),
        "data": fingerprint(splits.train, splits.val, splits.test),
        "r_final": r_final,
        "iterations": int(iterations),
        "retrain_epochs": float(retrain),
        "lr": lr,
        "mode": mode,
        "network": network,
        "seed": seed,
    }

    def compute():
        model = copy.deepcopy(dense)
        t0 = time.perf_counter()
        model, hist = han_prune(
            model,
            splits.train,
            r_final=r_final,
            iterations=int(iterations),
            retrain_epochs=retrain,
            lr=lr,
            test=splits.test,
            mode=mode,
            network=network,
            seed=seed,
            fit_kwargs={"progress_bar": False},
        )
        summary = {"seconds": time.perf_counter() - t0, "q": float(hist["q"].iloc[-1])}
        summary["error_final_pct"] = error_pct(evaluate(model, *splits.test)["acc"])
        if splits.val is not None:
            summary["val_error_final_pct"] = error_pct(evaluate(model, *splits.val)["acc"])
        summary["counts"] = counts(model)
        summary["per_layer"] = layer_table(model, tuple(splits.train[0].shape[1:])).to_dict("records")
        hist.attrs["summary"] = summary
        return model, hist

    return cached_pruning_run("han-baseline", cfg, dense, compute, version=VERSION, use_cache=cache)
