"""Han et al. 2015's prune-retrain as notebook 02's cached, equal-budget baseline (`magnitude.han_baseline`)."""

import copy

import pytest
import torch
from conftest import toy_net, toy_splits

from pruning_lib import masks
from pruning_lib.methods import magnitude


def test_error_pct_rounds_to_exact_percentages():
    assert magnitude.error_pct(0.982) == 1.8 and magnitude.error_pct(1.0) == 0.0


def test_han_baseline_is_cached_and_equals_han_prune_on_a_copy():
    splits, dense = toy_splits(seed=3), toy_net(3)
    before = copy.deepcopy(dense.state_dict())
    m1, h1 = magnitude.han_baseline(dense, splits, 0.3, (2, 1))
    m2, h2 = magnitude.han_baseline(dense, splits, 0.3, (2, 1))
    s1, s2 = h1.attrs["summary"], h2.attrs["summary"]
    assert not s1["cache_hit"] and s2["cache_hit"]
    assert s1["counts"]["weights_pct"] == pytest.approx(30, abs=1.5)
    assert {"q", "error_final_pct", "val_error_final_pct", "per_layer", "seconds"} <= set(s1)
    assert all(masks.is_pruned(m) for m in masks.prunable_layers(m2).values())
    assert all(
        torch.equal(v, dense.state_dict()[k]) for k, v in before.items()
    )  # the dense model is untouched
    ref, hist = magnitude.han_prune(
        copy.deepcopy(dense), splits.train, r_final=0.3, iterations=2, retrain_epochs=1.0, test=splits.test,
        fit_kwargs={"progress_bar": False},
    )  # fmt: skip
    for name, layer in masks.prunable_layers(m1).items():  # same masked weights, masks and biases
        twin = masks.prunable_layers(ref)[name]
        assert torch.equal(layer.weight, twin.weight) and torch.equal(layer.bias, twin.bias)
        assert torch.equal(layer.weight_mask, twin.weight_mask)
    assert h1.drop(columns="seconds").equals(hist.drop(columns="seconds"))
    assert all(torch.equal(a, b) for a, b in zip(m1.state_dict().values(), m2.state_dict().values()))
