"""Notebook 05's exercise checks accept the reference answers and reject wrong ones."""

import copy
import math

import pandas as pd
import pytest
from torch import nn
from torch.nn.utils import prune

from pruning_lib.exercises import ExerciseError, head_to_head, solution
from pruning_lib.methods.base import Point


def test_added_method():
    LayerwiseMagnitude = solution("head_to_head", "LayerwiseMagnitude")
    assert head_to_head.check_added_method(LayerwiseMagnitude()) is True

    class Stub(LayerwiseMagnitude):
        def points(self, dense, splits, *, values, budget=0, seed=0):
            raise NotImplementedError

    assert head_to_head.check_added_method(Stub()) is False

    class Global(LayerwiseMagnitude):  # one threshold over all layers: not layerwise
        def points(self, dense, splits, *, values, budget=0, seed=0):
            out = []
            for c in values:
                model = copy.deepcopy(dense)
                layers = [(m, "weight") for m in model.modules() if isinstance(m, nn.Linear)]
                prune.global_unstructured(layers, prune.L1Unstructured, amount=1 - 1 / c)
                out.append(Point(self.name, self.knob, float(c), model, 0.0, 0.0))
            return out

    with pytest.raises(ExerciseError, match="want 1/2"):
        head_to_head.check_added_method(Global())

    class InPlace(LayerwiseMagnitude):  # prunes the dense model itself
        def points(self, dense, splits, *, values, budget=0, seed=0):
            for m in dense.modules():
                if isinstance(m, nn.Linear):
                    prune.l1_unstructured(m, "weight", amount=1 - 1 / values[0])
            return [Point(self.name, self.knob, float(c), dense, 0.0, 0.0) for c in values]

    with pytest.raises(ExerciseError, match="dense model was changed"):
        head_to_head.check_added_method(InPlace())

    class Retrained(LayerwiseMagnitude):
        def points(self, dense, splits, *, values, budget=0, seed=0):
            return [
                Point(p.method, p.knob, p.value, p.model, 1.0, p.seconds)
                for p in super().points(dense, splits, values=values)
            ]

    with pytest.raises(ExerciseError, match="0 epochs"):
        head_to_head.check_added_method(Retrained())
    with pytest.raises(ExerciseError, match="instance"):
        head_to_head.check_added_method(LayerwiseMagnitude)
    taken = LayerwiseMagnitude()
    taken.name = "magnitude_global"
    with pytest.raises(ExerciseError, match="already registered"):
        head_to_head.check_added_method(taken)


def run_points():
    """A tiny table of points as the notebook builds it: two methods, two seeds, one network and regime."""
    rows = []
    for method, accs in (("han", [0.98, 0.97, 0.95, 0.90]), ("relief", [0.981, 0.978, 0.97, 0.5])):
        for seed in (0, 1):
            for c, a in zip((2, 8, 32, 128), accs):
                rows.append(dict(network="lenet300", regime="own", method=method, seed=seed, value=c,
                                 compression_weights=float(c), weights_pct=100 / c, val_acc=a - seed / 100,
                                 test_acc=a, epochs=1.0))  # fmt: skip
    return pd.DataFrame(rows)


def test_frontier_reading():
    read = solution("head_to_head", "read_frontier")
    assert head_to_head.check_frontier_reading(read) is True
    assert head_to_head.check_frontier_reading(read, run_points(), [10, 5, 2, 1, 0.5]) is True
    assert (
        head_to_head.check_frontier_reading(lambda c, a, b: (_ for _ in ()).throw(NotImplementedError))
        is False
    )

    def linear(c, a, band):  # interpolates in the compression, not its log
        t = 100 / band
        if t > c[-1]:
            return None
        if t <= c[0]:
            return a[0]
        i = next(i for i in range(1, len(c)) if c[i] >= t)
        return a[i - 1] + (t - c[i - 1]) / (c[i] - c[i - 1]) * (a[i] - a[i - 1])

    with pytest.raises(ExerciseError, match="log2"):
        head_to_head.check_frontier_reading(linear)
    with pytest.raises(ExerciseError, match="return None"):
        head_to_head.check_frontier_reading(lambda c, a, band: read(c, a, band) or a[-1])
    with pytest.raises(ExerciseError, match="returned None"):
        head_to_head.check_frontier_reading(lambda c, a, band: None)


def test_wilson_interval():
    assert head_to_head.check_wilson_interval(solution("head_to_head", "wilson_interval")) is True
    assert head_to_head.check_wilson_interval(
        lambda k, n: solution("head_to_head", "wilson_interval")(k, n, 1.96)
    )

    def wald(k, n):
        p = k / n
        h = 1.96 * math.sqrt(p * (1 - p) / n)
        return max(0.0, p - h), min(1.0, p + h)

    with pytest.raises(ExerciseError, match="normal approximation"):
        head_to_head.check_wilson_interval(wald)
    with pytest.raises(ExerciseError, match="fractions, not percent"):
        head_to_head.check_wilson_interval(
            lambda k, n: tuple(100 * x for x in solution("head_to_head", "wilson_interval")(k, n))
        )
    with pytest.raises(ExerciseError, match="90%|expected"):  # a 90% interval, z = 1.645
        head_to_head.check_wilson_interval(
            lambda k, n: solution("head_to_head", "wilson_interval")(k, n, 1.645)
        )


def test_win_or_tie():
    assert head_to_head.check_win_or_tie(solution("head_to_head", "prediction")) is True
    assert head_to_head.check_win_or_tie(None) is False
    with pytest.raises(ExerciseError, match="it is a tie"):
        head_to_head.check_win_or_tie("win")
    with pytest.raises(ExerciseError, match="'win' or 'tie'"):
        head_to_head.check_win_or_tie("better")
    assert 0.4 < head_to_head.smallest_separating_gap(0.98, 10_000) < 0.8
