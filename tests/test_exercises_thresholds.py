"""Notebook 02's exercise checks accept the reference answers and reject wrong ones."""

import pytest
import torch

from pruning_lib.exercises import ExerciseError, solution, thresholds
from pruning_lib.models import LeNet300100


def stub(*args):
    raise NotImplementedError


def test_pruning_function():
    assert thresholds.check_pruning_function(solution("thresholds", "pruning_function")) is True
    assert thresholds.check_pruning_function(stub) is False

    def soft_threshold(x, t, beta):  # the plain soft threshold: the t·σ terms forgotten
        return torch.relu(x - t) - torch.relu(-x - t)

    with pytest.raises(ExerciseError, match=r"v\(x, t=1, β=3\) at x = .*t·σ terms"):
        thresholds.check_pruning_function(soft_threshold)

    def one_sign_wrong(x, t, beta):
        return (
            torch.relu(x - t)
            + t * torch.sigmoid(beta * (x - t))
            - torch.relu(-x - t)
            + t * torch.sigmoid(beta * (-x - t))
        )

    with pytest.raises(ExerciseError, match="expected"):
        thresholds.check_pruning_function(one_sign_wrong)


def test_threshold_gradient():
    assert thresholds.check_threshold_gradient(solution("thresholds", "dv_dt")) is True
    assert thresholds.check_threshold_gradient(None) is False

    def hard_only(x, t, beta):  # the hard threshold's derivative: no σ terms
        return -(x > t).double() + (-x > t).double()

    with pytest.raises(ExerciseError, match=r"∂v/∂t \(t=1, β=3\)"):
        thresholds.check_threshold_gradient(hard_only)

    def no_product_rule(x, t, beta):  # forgets the −tβ·σ(1 − σ) terms
        s1, s2 = torch.sigmoid(beta * (x - t)), torch.sigmoid(beta * (-x - t))
        return -(x > t).double() + (-x > t).double() + s1 - s2

    with pytest.raises(ExerciseError, match="tolerance"):
        thresholds.check_threshold_gradient(no_product_rule)


def test_busiest_layer():
    torch.manual_seed(0)
    model = LeNet300100()
    assert thresholds.check_busiest_layer(solution("thresholds", "busiest_layer"), model) is True
    assert thresholds.check_busiest_layer(None, model) is False
    with pytest.raises(ExerciseError, match="fc1 is pushed hardest, not fc3"):
        thresholds.check_busiest_layer("fc3", model)
    with pytest.raises(ExerciseError, match="one of"):
        thresholds.check_busiest_layer("conv1", model)


def test_no_regularizer():
    answer = solution("thresholds", "no_reg_thresholds")
    assert thresholds.check_no_regularizer(answer) is True
    assert thresholds.check_no_regularizer(None) is False
    with pytest.raises(ExerciseError, match=r"went 'fall', not 'rise'.*nothing is pruned"):
        thresholds.check_no_regularizer("rise")
    with pytest.raises(ExerciseError, match="one of"):
        thresholds.check_no_regularizer("down")


def test_the_toy_layer_prunes_only_with_a_regularizer_on_the_threshold():
    assert thresholds.toy_threshold_fit("none", 0.0)["direction"] == "fall"
    assert thresholds.toy_threshold_fit("l0", 0.5)["direction"] == "rise"
    assert thresholds.toy_threshold_fit("band_l1", 1.0)["kept_last_pct"] > 99  # it gives τ no gradient
