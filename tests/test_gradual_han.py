"""Gradual magnitude pruning (Zhu & Gupta) and the shared rebuilt Han run."""

import pytest
import torch
from conftest import toy_net, toy_splits

from pruning_lib import masks
from pruning_lib.methods import gradual, han
from pruning_lib.methods.registry import METHODS


def test_cubic_schedule_by_hand():
    # Zhu & Gupta Eq. 1 with s_i = 0, s_f = 0.9, n = 4 updates every 10 steps from t0 = 0
    s = [gradual.cubic_sparsity(t, 0, 4, 10, 0.9) for t in (0, 10, 20, 30, 40, 50)]
    assert s == pytest.approx([0.0, 0.9 * (1 - 0.75**3), 0.9 * (1 - 0.5**3), 0.9 * (1 - 0.25**3), 0.9, 0.9])
    assert gradual.event_steps(100, 4, 0.75) == [19, 38, 56, 75]


def test_gradual_reaches_the_compression_with_nested_masks():
    splits, model = toy_splits(), toy_net()
    history = []
    orig = masks.apply_masks

    def spy(m, ms):
        history.append({k: v.clone() for k, v in ms.items()})
        return orig(m, ms)

    gradual.apply_masks = spy
    try:
        gradual.gradual_prune(model, splits.train, compression=4, epochs=2, events=5, batch_size=32)
    finally:
        gradual.apply_masks = orig
    total = sum(m.weight.numel() for m in masks.prunable_layers(model).values())
    kept = sum(int(masks.get_mask(m).sum()) for m in masks.prunable_layers(model).values())
    assert kept == round(total / 4) and len(history) == 5
    counts = [sum(int(v.sum()) for v in h.values()) for h in history]
    assert counts == sorted(counts, reverse=True)  # sparsity only grows
    for m in masks.prunable_layers(model).values():  # pruned weights are exactly zero
        assert torch.all(m.weight[~masks.get_mask(m)] == 0)


def test_gradual_method_points_are_cached_and_keep_their_masks():
    from pruning_lib.data import Splits
    from pruning_lib.models import LeNet300100

    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(96, 1, 28, 28, generator=g), torch.randint(0, 10, (96,), generator=g)
    splits = Splits(train=(X[:64], y[:64]), val=(X[64:], y[64:]), test=(X[64:], y[64:]))
    torch.manual_seed(0)
    dense, method = LeNet300100(), METHODS["gradual"]
    assert method.family == "unstructured" and method.knob == "compression"
    first = method.points(dense, splits, values=[4, 16], budget=1)
    again = method.points(dense, splits, values=[4, 16], budget=1)
    assert [p.cache_hit for p in first + again] == [False, False, True, True]
    for p, c in zip(again, (4, 16)):
        kept = sum(int(masks.get_mask(m).sum()) for m in masks.prunable_layers(p.model).values())
        assert kept == round(266_200 / c) and p.epochs == 1.0
        assert torch.equal(p.model.fc1.weight, first[(4, 16).index(c)].model.fc1.weight)
    with pytest.raises(ValueError, match="scope"):
        gradual.gradual_prune(LeNet300100(), splits.train, compression=2, epochs=1, scope="per-channel")


def test_han_schedule_and_published_numbers():
    assert han.published("lenet300") == {"weights_pct": 8, "error_pct": 1.59}
    assert han.published("lenet5") == {"weights_pct": 8, "error_pct": 0.77}
    assert (
        han.schedule("lenet5", "quick")["epochs"]
        == han.SCHEDULE["lenet5"]["quick"][0] * han.SCHEDULE["lenet5"]["quick"][1]
    )
    with pytest.raises(ValueError, match="profile"):
        han.schedule("lenet300", "fast")
    with pytest.raises(ValueError, match="no Han schedule"):
        han.schedule("vgg", "quick")
