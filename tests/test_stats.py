"""Intervals and verdicts against hand computations and simulation."""

import math

import numpy as np
import pytest

from pruning_lib import stats


def test_wilson_matches_the_formula_and_known_values():
    # Wilson (1927) for 8/10 at 95%: [0.4902, 0.9433] (the textbook example)
    low, high = stats.wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert stats.wilson(0, 10)[0] == 0.0 and stats.wilson(10, 10)[1] == pytest.approx(1.0)
    low, high = stats.wilson(9849, 10000)  # an MNIST test accuracy of 98.49%: about ±0.24 pp
    assert 0.9822 < low < 0.9825 and 0.9870 < high < 0.9873
    with pytest.raises(ValueError):
        stats.wilson(11, 10)


def test_wilson_covers_the_true_rate_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    p, n = 0.97, 2000
    hits = [stats.wilson(int(k), n) for k in rng.binomial(n, p, size=2000)]
    coverage = np.mean([lo <= p <= hi for lo, hi in hits])
    assert 0.93 < coverage < 0.97


def test_t_interval_by_hand():
    x = [1.0, 2.0, 3.0]  # mean 2, sd 1, t(0.975, 2) = 4.3027
    low, high = stats.t_interval(x)
    assert low == pytest.approx(2 - 4.302653 / math.sqrt(3)) and high == pytest.approx(
        2 + 4.302653 / math.sqrt(3)
    )
    with pytest.raises(ValueError, match="at least 2"):
        stats.t_interval([1.0])


def test_accuracy_interval_one_two_and_three_seeds():
    assert stats.accuracy_interval([0.98], 10000) == pytest.approx(
        tuple(100 * v for v in stats.wilson(9800, 10000))
    )
    two = stats.accuracy_interval([0.98, 0.99], 1000)
    assert two == pytest.approx(tuple(100 * v for v in stats.wilson(1970, 2000)))
    three = stats.accuracy_interval([0.97, 0.98, 0.99], 10000)
    assert three == pytest.approx(tuple(100 * v for v in stats.t_interval([0.97, 0.98, 0.99])))


def test_compare_says_tie_unless_intervals_separate():
    assert stats.compare((1, 2), (3, 4)) == "worse" and stats.compare((3, 4), (1, 2)) == "better"
    assert stats.compare((1, 3), (2, 4)) == "tie" and stats.compare((1, 2), (2, 3)) == "tie"
    assert stats.compare((1, 2), (3, 4), higher_is_better=False) == "better"
    assert stats.against_value((1.5, 1.7), 1.59, higher_is_better=False) == "tie"
    assert stats.against_value((1.61, 1.7), 1.59, higher_is_better=False) == "worse"


def test_paired_difference_against_a_naive_loop():
    rng = np.random.default_rng(1)
    a, b = rng.random(500) < 0.9, rng.random(500) < 0.85
    d = [float(x) - float(y) for x, y in zip(a, b)]
    mean = sum(d) / len(d)
    sd = math.sqrt(sum((v - mean) ** 2 for v in d) / (len(d) - 1))
    low, high = stats.paired_difference(a, b)
    assert low == pytest.approx(100 * (mean - 1.959964 * sd / math.sqrt(500)), rel=1e-5)
    assert high == pytest.approx(100 * (mean + 1.959964 * sd / math.sqrt(500)), rel=1e-5)


def test_check_sparsity_fails_when_a_mask_is_lost():
    import torch

    from pruning_lib import masks, metrics
    from pruning_lib.models import LeNet300100

    model = LeNet300100()
    keep = {n: torch.rand_like(m.weight) < 0.1 for n, m in masks.prunable_layers(model).items()}
    masks.apply_masks(model, keep)
    kept = sum(int(k.sum()) for k in keep.values())
    before = metrics.check_sparsity(model, kept)
    assert before["weights_unmasked"] == kept and before["masked"]
    reloaded = masks.load_state(LeNet300100(), masks.export_state(model))
    metrics.check_sparsity(reloaded, before, "reloaded")
    stripped = LeNet300100()
    stripped.load_state_dict(masks.export_state(model)["state"])  # values only: the masks are lost
    with pytest.raises(AssertionError, match="no prune mask"):
        metrics.check_sparsity(stripped, kept, "stripped")
    masks.remove_masks(model)
    with pytest.raises(AssertionError):
        metrics.check_sparsity(model, kept + 1)
