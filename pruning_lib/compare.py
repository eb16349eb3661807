"""Head-to-head harness (notebook 05): every method's operating points on the same network, data split and seed.

Each runner calls its method's own library module (no method code here) and returns `Point`s: the pruned model,
the method's knob value, and the wall-clock seconds the method spent to reach it (as recorded when the run was
computed, also when it is loaded from the cache). `measure` then computes every number the same way for all
methods: counts, compression, FLOPs, validation and test accuracy.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
from torch import nn

from . import cache
from .masks import apply_masks, clone, export_state, load_state
from .methods import gumbel, magnitude, neurons, relief, thresholds
from .metrics import summary
from .models import build_model
from .train import evaluate, fit


@dataclass
class Point:
    """One operating point: a pruned model, the method's knob value and the seconds spent to reach it."""

    method: str
    knob: str
    value: float
    model: nn.Module
    seconds: float
    cache_hit: bool = False


def measure(point: Point, network: str, seed: int, splits, input_shape=(1, 28, 28)) -> dict:
    """The numbers every method is compared on, computed the same way for all of them."""
    s = summary(point.model, input_shape)
    return {
        "method": point.method,
        "network": network,
        "seed": seed,
        "knob": point.knob,
        "value": point.value,
        "weights_pct": s["weights_pct"],
        "params_pct": s["params_pct"],
        "compression_weights": s["compression_weights"],
        "compression_params": s["compression_params"],
        "flops_dense": s["flops_dense"],
        "flops_effective": s["flops_effective"],
        "speedup_theoretical": s["speedup_theoretical"],
        "val_acc": evaluate(point.model, *splits.val)["acc"],
        "test_acc": evaluate(point.model, *splits.test)["acc"],
        "seconds": point.seconds,
        "cache_hit": point.cache_hit,
    }


def oneshot(dense: nn.Module, method: str, compressions, seed: int = 0) -> list[Point]:
    """One-shot global magnitude ('magnitude_global') or random ('random') pruning, no retraining."""
    points = []
    for c in compressions:
        t0 = time.perf_counter()
        fn = magnitude.ONESHOT[method]
        masks = fn(dense, 1.0 / c, seed=seed) if method == "random" else fn(dense, 1.0 / c)
        model = apply_masks(clone(dense), masks)
        points.append(Point(method, "compression", float(c), model, time.perf_counter() - t0))
    return points


def han(
    dense: nn.Module, splits, *, max_compression: int, epochs: float, lr: float, seed: int = 0
) -> list[Point]:
    """Han et al.'s prune-retrain, one iteration per halving down to 1/max_compression; each iteration a point."""
    iterations = round(math.log2(max_compression))
    cfg = {
        "version": 1,
        "method": "h2h-han",
        "dense": cache.fingerprint(dense),
        "data": cache.fingerprint(splits.train, splits.val),
        "iterations": iterations,
        "epochs": epochs,
        "lr": lr,
        "seed": seed,
    }

    def compute() -> dict:
        states = []
        _, hist = magnitude.han_prune(
            clone(dense),
            splits.train,
            r_final=1.0 / max_compression,
            iterations=iterations,
            retrain_epochs=epochs,
            lr=lr,
            seed=seed,
            on_iteration=lambda k, m, row: states.append(export_state(m)),
        )
        return {"states": states, "history": hist}

    payload, hit = cache.cached("h2h-han", cfg, compute)
    seconds = torch.tensor(payload["history"]["seconds"]).cumsum(0).tolist()
    return [
        Point(
            "han",
            "compression",
            float(2 ** (k + 1)),
            load_state(clone_architecture(dense), state),
            seconds[k],
            hit,
        )
        for k, state in enumerate(payload["states"])
    ]


def clone_architecture(model: nn.Module) -> nn.Module:
    """A fresh, unpruned network of the same architecture (LeNet300100 or LeNet5)."""
    name = {"LeNet300100": "lenet300", "LeNet5": "lenet5"}[type(model).__name__]
    return build_model(name)


def thresholds_sweep(dense: nn.Module, splits, lams, budget, seed: int = 0) -> list[Point]:
    """Differentiable thresholds (joint + fine-tune epochs = `budget`) at every lambda; one point per lambda."""
    points = []
    for lam in lams:
        model, hist = thresholds.prune(dense, splits, lam, budget, seed=seed, progress_bar=False)
        s = hist.attrs["summary"]
        seconds = s["joint_s"] + s["hard_s"] + s["finetune_s"]
        points.append(Point("thresholds", "lambda", float(lam), model, seconds, s.get("cache_hit", False)))
    return points


def relief_sweep(
    dense: nn.Module,
    splits,
    *,
    iterations: int,
    epochs: float,
    milestones,
    n_prune: int = 1000,
    alpha_fc: float = 0.95,
    alpha_conv: float = 0.9,
    seed: int = 0,
) -> list[Point]:
    """Iterative NNrelief (Adam 1e-3, batch 120, as the authors); every iteration an operating point."""
    prune_X, _ = relief.pruning_set(splits.train, n_prune, seed)
    kw = dict(
        alpha_fc=alpha_fc,
        alpha_conv=alpha_conv,
        prune_X=prune_X,
        epochs=epochs,
        milestones=milestones,
        momentum=0.9,
        weight_decay=5e-4,
        batch_size=120,
        test=splits.test,
        seed=seed,
        opt="adam",
        lr=1e-3,
        progress_bar=False,
    )
    _, hist = relief.iterative_pruning(dense, splits.train, splits.val, iterations=iterations, **kw)
    seconds = hist.set_index("iteration")["seconds"].fillna(0).cumsum()
    loaded = hist.attrs.get("resumed_from", 0)  # iterations that came from the cache
    points = []
    for t in range(1, iterations + 1):
        model, _ = relief.iterative_pruning(dense, splits.train, splits.val, iterations=t, **kw)  # cached
        points.append(Point("relief", "iteration", float(t), model, float(seconds.loc[t]), t <= loaded))
    return points


NEURON_LAYERS = {"lenet300": ["fc1", "fc2", "fc3"], "lenet5": ["fc1", "fc2"]}


def neuron_inputs(network: str, model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """What the prunable fully connected stack reads: pixels (LeNet-300-100) or conv features (LeNet-5)."""
    with torch.no_grad():
        return model.features(X) if network == "lenet5" else X.flatten(1)


def neuron_sweep(
    network: str, dense: nn.Module, splits, *, fractions, n_score: int, finetune_epochs: float, seed: int = 0
) -> list[Point]:
    """Brute-force serial neuron removal (Alg. II, re-ranking, cross-entropy on n_score training images).

    Points without retraining ('neurons') and after a short fine-tune with the neurons kept removed
    ('neurons_ft'). LeNet-300-100: its 400 hidden units; LeNet-5: the 500 units of fc1 (convs untouched).
    """
    layers = NEURON_LAYERS[network]
    X, y = splits.train[0][:n_score], splits.train[1][:n_score]
    mods = [getattr(dense, n) for n in layers]
    n_hidden = sum(m.out_features for m in mods[:-1])
    steps = max(round(f * n_hidden) for f in fractions)
    cfg = {
        "version": 1,
        "method": "h2h-neurons",
        "dense": cache.fingerprint(dense),
        "data": cache.fingerprint(X, y),
        "steps": steps,
    }

    def compute() -> dict:
        net = neurons.SigmoidMLP.from_linears(mods)
        res = neurons.prune(
            net,
            neuron_inputs(network, dense, X),
            neurons.one_hot(y),
            "bf",
            "rerank",
            steps=steps,
            progress_bar=False,
        )
        return res.to_dict()

    payload, hit = cache.cached("h2h-neurons", cfg, compute)
    res = neurons.PruneResult.from_dict(payload)
    points = []
    for f in fractions:
        n = round(f * n_hidden)
        model = neurons.remove_neurons(clone(dense), layers, res.masks_after(n))
        points.append(Point("neurons", "removed_fraction", float(f), model, res.seconds, hit))
        ft_cfg = {
            **cfg,
            "method": "h2h-neurons-ft",
            "removed": n,
            "epochs": finetune_epochs,
            "seed": seed,
            "train": cache.fingerprint(splits.train),
        }

        def finetune(model=model) -> dict:
            tuned, t0 = clone(model), time.perf_counter()
            fit(tuned, splits.train, epochs=finetune_epochs, lr=0.01, seed=seed, progress_bar=False)
            return {"model": export_state(tuned), "seconds": time.perf_counter() - t0}

        tuned, ft_hit = cache.cached("h2h-neurons-ft", ft_cfg, finetune)
        ft_model = load_state(clone_architecture(dense), tuned["model"])
        points.append(
            Point(
                "neurons_ft",
                "removed_fraction",
                float(f),
                ft_model,
                res.seconds + tuned["seconds"],
                hit and ft_hit,
            )
        )
    return points


def gumbel_sweep(
    network: str, profile: str, lams, epochs: int, seed: int = 0, splits=None, **recipe
) -> list[Point]:
    """Gumbel-softmax gates trained from scratch (the method learns weights and topology together), per lambda."""
    points = []
    for lam in lams:
        model, hist, hit = gumbel.cached_model(
            network,
            lam,
            profile,
            epochs=epochs,
            seed=2050 + seed,
            splits=splits,
            progress_bar=False,
            **recipe,
        )
        points.append(Point("gumbel", "lambda", float(lam), model, float(hist["seconds"].sum()), hit))
    return points
