"""Checks of notebook 05's exercises (head to head: a new method, frontiers, intervals, win or tie)."""

from __future__ import annotations

import math

import pandas as pd
import torch
from torch import nn

from .. import frontier, stats
from ..masks import is_pruned, prunable_layers
from ..methods.base import FAMILIES, Method, Point
from ..methods.registry import METHODS
from ..models import LeNet300100
from . import ExerciseError, exercise, expect, expect_close

ADDED_VALUES = (2, 8, 32)  # the compressions the check asks a new method for


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of every tensor of `model`'s state (to see whether a method changed its input)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _check_point(p, method, c, dense: nn.Module) -> None:
    """One Point of a one-shot layerwise magnitude method at compression `c`: fields, masks, kept weights."""
    expect(
        isinstance(p, Point), f"points() should return pl.methods.base.Point objects, got {type(p).__name__}"
    )
    expect(p.method == method.name and p.knob == method.knob,
           f"a Point should carry the method's name and knob ({method.name!r}, {method.knob!r}), "
           f"got ({p.method!r}, {p.knob!r})")  # fmt: skip
    expect(
        p.value == float(c), f"the Point for compression {c} has value {p.value!r}: the value is the knob's"
    )
    expect(
        p.epochs == 0, f"compression {c}: epochs={p.epochs!r}, but a method without retraining costs 0 epochs"
    )
    expect(
        p.model is not dense,
        "each Point needs its own copy of the dense model (copy.deepcopy), not the model",
    )
    originals = prunable_layers(dense)
    for name, layer in prunable_layers(p.model).items():
        expect(
            is_pruned(layer), f"compression {c}: {name} carries no torch.nn.utils.prune mask (weight_mask)"
        )
        mask, w = layer.weight_mask.bool(), originals[name].weight.detach().abs()
        kept, want = int(mask.sum()), mask.numel() / c
        expect(abs(kept - want) <= 1,
               f"compression {c}: {name} keeps {kept:,} of {mask.numel():,} weights ({kept / mask.numel():.2%}), "
               f"want 1/{c} = {1 / c:.2%} of every layer (prune each layer on its own, amount = 1 - 1/c)")  # fmt: skip
        if 0 < kept < mask.numel():
            expect(w[mask].min() >= w[~mask].max(),
                   f"compression {c}: {name} drops a weight larger in |w| than one it keeps "
                   "(keep the largest |w| of the layer: torch.nn.utils.prune.l1_unstructured)")  # fmt: skip


@exercise("Exercise 1 · a new method: layerwise magnitude")
def check_added_method(method, values=ADDED_VALUES) -> str:
    """Run the reader's method on a fresh LeNet-300-100 and check its Points: one per value, masks, kept fraction."""
    expect(not isinstance(method, type),
           f"pass an instance of your method, {getattr(method, '__name__', 'Method')}(), not the class itself")  # fmt: skip
    expect(isinstance(method, Method),
           f"the method should have name, family, knob and points(...), got a {type(method).__name__} without "
           "them")  # fmt: skip
    expect(method.family in FAMILIES, f"family should be one of {FAMILIES}, got {method.family!r}")
    expect(method.name not in METHODS,
           f"a method named {method.name!r} is already registered: choose a new name")  # fmt: skip
    torch.manual_seed(0)
    dense = LeNet300100()
    before = _snapshot(dense)
    points = method.points(dense, None, values=list(values), budget=0, seed=0)
    expect(isinstance(points, list), f"points() should return a list of Points, got {type(points).__name__}")
    expect(
        len(points) == len(values),
        f"asked for {len(values)} compressions {list(values)}, got {len(points)} Points",
    )
    after = _snapshot(dense)
    expect(after.keys() == before.keys() and all(torch.equal(before[k], after[k]) for k in before),
           "the dense model was changed: prune a copy (copy.deepcopy(dense)), never the model you are given")  # fmt: skip
    for p, c in zip(points, values):
        _check_point(p, method, c, dense)
    return f"{len(points)} Points at {', '.join(f'{c}x' for c in values)}, each layer keeping its largest 1/c"


def frontier_table(compressions, accuracies) -> pd.DataFrame:
    """A frontier as pl.frontier.read_at expects it (test accuracy = validation accuracy, 0 epochs)."""
    c = [float(x) for x in compressions]
    return pd.DataFrame({"compression_weights": c, "weights_pct": [100 / x for x in c],
                         "val_acc": list(accuracies), "test_acc": list(accuracies), "epochs": 0.0})  # fmt: skip


def _compare_reading(read_frontier, compressions, accuracies, band: float, where: str) -> None:
    """The reader's reading of one frontier at one band against pl.frontier.read_at."""
    want = frontier.read_at(frontier_table(compressions, accuracies), band)
    got = read_frontier(list(compressions), list(accuracies), band)
    if not want["reached"]:
        expect(got is None, f"{where}: the band {band:g}% needs {100 / band:g}x, beyond the sparsest point "
                            f"({max(compressions):g}x): return None (not reached), got {got!r}")  # fmt: skip
        return
    expect(
        got is not None, f"{where}: the band {band:g}% ({100 / band:g}x) is reached, but you returned None"
    )
    expect_close(got, want["val_acc"], f"{where}, band {band:g}% ({100 / band:g}x, "
                                       "interpolate linearly in log2 of the compression)", atol=1e-9)  # fmt: skip


@exercise("Exercise 2 · reading a frontier at a band")
def check_frontier_reading(read_frontier, points=None, bands=(10, 5, 2, 1)) -> str:
    """Compare the reader's `read_frontier(compressions, accuracies, band_pct)` with pl.frontier.read_at."""
    c, acc = [2.0, 4.0, 16.0, 64.0], [0.98, 0.975, 0.96, 0.90]
    for band in (50, 10, 5, 1.5625, 1, 75):  # a point, between points, the sparsest point, beyond, before
        _compare_reading(read_frontier, c, acc, band, f"the frontier {dict(zip(c, acc))}")
    n = 0
    if points is not None:  # the run's own frontiers (validation accuracy), first seed
        df = points[(points["method"] != "dense") & (points["seed"] == points["seed"].min())]
        for (net, regime, method), g in df.groupby(["network", "regime", "method"]):
            f = frontier.pareto(g)
            for band in bands:
                _compare_reading(read_frontier, f["compression_weights"].tolist(), f["val_acc"].tolist(), band,
                                 f"{method} on {net} ({regime} budget)")  # fmt: skip
            n += 1
    return "matches pl.frontier.read_at" + (f" on a test frontier and this run's {n} frontiers" if n else "")


def wald(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The normal-approximation (Wald) interval p ± z·sqrt(p(1-p)/n), clipped to [0, 1]: a common wrong answer."""
    p = correct / n
    half = z * math.sqrt(p * (1 - p) / n)
    return max(0.0, p - half), min(1.0, p + half)


WILSON_CASES = ((9820, 10000), (48, 50), (0, 20), (20, 20), (1, 3), (4_990, 5_000))


@exercise("Exercise 3 · the Wilson interval by hand")
def check_wilson_interval(wilson_interval) -> str:
    """Compare the reader's `wilson_interval(correct, n)` with pl.stats.wilson on a few (correct, n)."""
    for correct, n in WILSON_CASES:
        got = wilson_interval(correct, n)
        expect(isinstance(got, tuple | list) and len(got) == 2,
               f"wilson_interval({correct}, {n}) should return (low, high), got {got!r}")  # fmt: skip
        lo, hi = (float(x) for x in got)
        want = stats.wilson(correct, n)
        expect(0 <= lo <= correct / n <= hi <= 1,
               f"wilson_interval({correct}, {n}) = ({lo:.4f}, {hi:.4f}) should contain p = {correct / n:.4f} and "
               "lie in [0, 1] (fractions, not percent)")  # fmt: skip
        if max(abs(lo - want[0]), abs(hi - want[1])) > 2e-4 and all(
            abs(a - b) < 2e-4 for a, b in zip((lo, hi), wald(correct, n))
        ):
            raise ExerciseError(
                f"wilson_interval({correct}, {n}) = ({lo:.4f}, {hi:.4f}) is the normal approximation p ± z·√(p(1−p)/n);"
                f" Wilson's interval is ({want[0]:.4f}, {want[1]:.4f}), centred at (p + z²/2n) / (1 + z²/n)"
            )
        expect_close((lo, hi), want, f"wilson_interval({correct}, {n}) (low, high)", rtol=0, atol=2e-4)
    return "matches pl.stats.wilson, also at 0 and n correct, where the normal approximation collapses"


WIN_OR_TIE = dict(a=0.982, b=0.980, n=10_000)  # two accuracies 0.2 points apart, on 10,000 test images


def smallest_separating_gap(acc: float, n: int) -> float:
    """The smallest accuracy gap (in points) above `acc` at which the two Wilson intervals over n images separate."""
    base, k = stats.wilson(round(acc * n), n), round(acc * n)
    while k < n and stats.wilson(k, n)[0] <= base[1]:
        k += 1
    return 100 * (k / n - acc)


@exercise("Exercise 4 · is 0.2 points at 10,000 images a win?")
def check_win_or_tie(prediction) -> str:
    """Compare the reader's prediction ('win' or 'tie') with pl.stats.compare of the two Wilson intervals."""
    expect(prediction in ("win", "tie"), f"prediction should be 'win' or 'tie', got {prediction!r}")
    a, b, n = WIN_OR_TIE["a"], WIN_OR_TIE["b"], WIN_OR_TIE["n"]
    ia, ib = stats.wilson(round(a * n), n), stats.wilson(round(b * n), n)
    verdict = stats.compare(ia, ib)
    measured = "win" if verdict == "better" else "tie"
    need = smallest_separating_gap(b, n)
    why = (f"{100 * a:.1f}% over {n:,} images has the 95% interval [{100 * ia[0]:.2f}, {100 * ia[1]:.2f}], "
           f"{100 * b:.1f}% has [{100 * ib[0]:.2f}, {100 * ib[1]:.2f}]; near {100 * b:.0f}% the intervals separate "
           f"only from a gap of about {need:.2f} points (two models scored on the same images allow a sharper, paired "
           "comparison: pl.stats.paired_difference)")  # fmt: skip
    expect(prediction == measured, f"it is a {measured}: {why}")
    return f"a {measured}: {why}"
