"""NNrelief's iterative loop (cache, resume, every iteration's model), CIFAR helpers and the `Relief` Method."""

import copy

import pandas as pd
import pytest
import torch

from pruning_lib import masks
from pruning_lib.data import MissingDataError, Splits
from pruning_lib.methods import relief as R
from pruning_lib.methods.base import Method
from pruning_lib.models import MLP, kaiming_init
from pruning_lib.train import fit

# the iterative loop: cache, resume, determinism ------------------------------------------------------------------


def test_iterative_pruning_resumes_from_cache_identically():
    torch.manual_seed(0)
    X, y = torch.rand(300, 1, 6, 6), torch.randint(0, 3, (300,))
    X[:, :, 0] = 0  # a blank row of pixels: always pruned
    dense = MLP([36, 12, 8, 3])
    train, val, test = (X[:200], y[:200]), (X[200:250], y[200:250]), (X[250:], y[250:])
    kw = dict(alpha_fc=0.9, n_prune=50, epochs=0.5, test=test, progress_bar=False, seed=1)
    net3, h3 = R.iterative_pruning(dense, train, val, iterations=3, use_cache=False, **kw)
    _, h2 = R.iterative_pruning(dense, train, val, iterations=2, **kw)
    net3b, h3b = R.iterative_pruning(dense, train, val, iterations=3, **kw)  # resumes from iteration 2
    cols = ["iteration", "params_pct", "val_acc", "test_acc", "test_acc_pruned", "flops_structured"]
    pd.testing.assert_frame_equal(h3[cols], h3b[cols])
    pd.testing.assert_frame_equal(h2[cols], h3[cols].iloc[:3])
    assert h3["params_pct"].is_monotonic_decreasing and h3["params_pct"].iloc[-1] < 100
    fc1 = net3b[1]
    assert not masks.get_mask(fc1).view(12, 6, 6)[:, 0].any()
    for a, b in zip(net3.state_dict().values(), net3b.state_dict().values()):
        assert torch.equal(a, b)
    assert dense[1].weight.shape == (12, 36) and not hasattr(
        dense[1], "weight_mask"
    )  # the input is untouched
    t, found = R.operating_point(h3, max_drop_pp=100)
    assert (t, found) == (3, True)


# CIFAR helpers (the whole CIFAR path is tested in test_cifar.py) --------------------------------------------------


def test_cifar_augment_crops_and_flips_only_in_training():
    torch.manual_seed(0)
    aug = R.CifarAugment()
    x = torch.randn(6, 3, 32, 32)
    assert torch.equal(aug.eval()(x), x)
    out = aug.train()(x)
    assert out.shape == x.shape
    xp = aug.fill.view(1, 3, 1, 1).repeat(6, 1, 40, 40)  # black (normalised) padding
    xp[:, :, 4:36, 4:36] = x
    for n in range(6):
        found = any(
            torch.equal(out[n], cand)
            for dy in range(9)
            for dx in range(9)
            for cand in (xp[n, :, dy : dy + 32, dx : dx + 32], xp[n, :, dy : dy + 32, dx : dx + 32].flip(-1))
        )
        assert found, n


def test_load_cifar10_missing_names_the_folder(tmp_path):
    with pytest.raises(MissingDataError, match="cifar-10-batches-py"):
        R.load_cifar10(tmp_path)


def test_iterative_pruning_with_rewind_runs_and_keeps_masks():
    torch.manual_seed(0)
    X, y = torch.rand(200, 16), torch.randint(0, 3, (200,))
    dense = kaiming_init(MLP([16, 10, 3]), 0)
    theta0 = copy.deepcopy(dense.state_dict())
    fit(dense, (X, y), epochs=1, batch_size=20, opt="adam", lr=1e-2, schedule="constant", progress_bar=False)
    net, hist = R.iterative_pruning(
        dense,
        (X, y),
        (X[:50], y[:50]),
        iterations=2,
        alpha_fc=0.9,
        n_prune=40,
        epochs=0.1,
        theta0_state=theta0,
        use_cache=False,
        progress_bar=False,
    )
    assert len(hist) == 3 and hist["params_pct"].iloc[-1] < 100
    for m, n in masks.maskable_tensors(net):
        assert (getattr(m, n)[~masks.get_mask(m, n)] == 0).all()


# every iteration's model from one call, and the suite's Method ----------------------------------------------------


def tiny_splits(seed=0):
    g = torch.Generator().manual_seed(seed)
    X, y = torch.rand(260, 16, generator=g), torch.randint(0, 3, (260,), generator=g)
    X[:, :3] = 0  # three dead inputs: always pruned
    return Splits(train=(X[:160], y[:160]), val=(X[160:210], y[160:210]), test=(X[210:], y[210:]))


def test_iteration_models_are_the_models_of_each_iteration_count():
    torch.manual_seed(0)
    dense, s = MLP([16, 10, 3]), tiny_splits()
    kw = dict(alpha_fc=0.9, n_prune=40, epochs=0.25, test=s.test, progress_bar=False)
    models, hist = R.iteration_models(dense, s.train, s.val, iterations=3, use_cache=False, **kw)
    assert len(models) == 3 and list(hist["iteration"]) == [0, 1, 2, 3]
    for t, model in enumerate(models, 1):
        net, h = R.iterative_pruning(dense, s.train, s.val, iterations=t, use_cache=False, **kw)
        assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), model.state_dict().values()))
        assert float(h["params_pct"].iloc[-1]) == float(hist["params_pct"].iloc[t])
    more, hist5 = R.iteration_models(dense, s.train, s.val, iterations=2, **kw)  # cached, then extended
    again, hist5 = R.iteration_models(dense, s.train, s.val, iterations=3, **kw)
    assert hist5.attrs["resumed_from"] == 2 and len(again) == 3
    for a, b in zip(again, models):
        assert all(torch.equal(u, v) for u, v in zip(a.state_dict().values(), b.state_dict().values()))


def test_relief_method_points_masks_epochs_and_cache():
    torch.manual_seed(0)
    dense, s = MLP([16, 10, 3]), tiny_splits(1)
    method = R.Relief(n_prune=40, milestone_fractions=())
    assert isinstance(method, Method) and (method.name, method.knob, method.family) == (
        "relief",
        "iteration",
        "unstructured",
    )
    pts = method.points(dense, s, values=[1, 2], budget=0.5, seed=0)
    assert [p.value for p in pts] == [1.0, 2.0] and [p.epochs for p in pts] == [0.5, 1.0]
    assert not any(p.cache_hit for p in pts) and 0 < pts[0].seconds <= pts[1].seconds
    for p in pts:
        assert masks.is_pruned(p.model[1]) and not masks.get_mask(p.model[1])[:, :3].any()
    kept = [int(masks.get_mask(p.model[1]).sum()) for p in pts]
    assert kept[0] > kept[1]
    again = method.points(dense, s, values=[2], budget=0.5, seed=0)
    assert len(again) == 1 and again[0].cache_hit and again[0].seconds == pts[1].seconds
    assert all(
        torch.equal(a, b)
        for a, b in zip(again[0].model.state_dict().values(), pts[1].model.state_dict().values())
    )
    with pytest.raises(ValueError, match="iteration"):
        method.points(dense, s, values=[0.5], budget=0.5)
