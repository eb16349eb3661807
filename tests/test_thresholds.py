"""Differentiable thresholds (Manessi et al. 2018): the v^β family, its gradients, R, masks, the pipeline, the Method."""

import copy
import math

import pytest
import torch
from conftest import toy_net, toy_splits
from torch import nn

from pruning_lib import masks, metrics, reference
from pruning_lib.data import Splits
from pruning_lib.dense import RECIPES
from pruning_lib.methods import magnitude
from pruning_lib.methods import thresholds as th
from pruning_lib.methods.base import Method
from pruning_lib.models import LeNet5, LeNet300100
from pruning_lib.train import fit, lr_factor

D = torch.float64


def grid(n=4001, lo=-3.0, hi=3.0):
    return torch.linspace(lo, hi, n, dtype=D)


def closed_dv_dx(x, t, beta):
    """∂v/∂x of v^β (Manessi et al. 2018), differentiated and written out by hand."""
    s1, s2 = torch.sigmoid(beta * (x - t)), torch.sigmoid(beta * (-x - t))
    return (x > t).to(D) + (-x > t).to(D) + t * beta * (s1 * (1 - s1) + s2 * (1 - s2))


def closed_dv_dt(x, t, beta):
    """∂v/∂t of v^β (Manessi et al. 2018), differentiated and written out by hand."""
    s1, s2 = torch.sigmoid(beta * (x - t)), torch.sigmoid(beta * (-x - t))
    h1, h2 = (x > t).to(D), (-x > t).to(D)
    return -h1 + h2 + s1 - s2 - t * beta * s1 * (1 - s1) + t * beta * s2 * (1 - s2)


def autograd_dv(x, t, beta, form="odd"):
    """(∂v/∂x, ∂v/∂t) element-wise from autograd."""
    return th.v_grads(x, t, beta, form)


# 1 -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("beta", [1.0, 10.0, 1000.0])
@pytest.mark.parametrize("t", [0.0, 0.3, 1.0])
def test_v_is_odd_zero_at_zero_and_known_at_t(t, beta):
    x = grid()
    v = th.v_reference(x, t, beta)
    assert torch.allclose(th.v_reference(-x, t, beta), -v, atol=1e-12, rtol=0)
    assert th.v_reference(torch.zeros(1, dtype=D), t, beta).item() == 0.0
    assert th.v_odd(torch.zeros(1, dtype=D), t, beta)[0].item() == 0.0
    at_t = th.v_reference(torch.tensor([t, -t], dtype=D), t, beta)
    want = t / 2 - t * torch.sigmoid(torch.tensor(-2 * beta * t, dtype=D)).item()
    assert torch.allclose(at_t, torch.tensor([want, -want], dtype=D), atol=1e-12)
    odd, kept = th.v_odd(x, t, beta)
    assert torch.allclose(odd, v, atol=1e-10, rtol=0)
    assert torch.allclose(kept, th.soft_kept(x, t, beta))


def test_fast_path_matches_exact_when_beta_t_is_large():
    x = grid()
    for t, beta in [(0.5, 80.0), (1.0, 1000.0)]:
        assert beta * t >= th.S2_CUTOFF
        exact, fast = th.v_odd(x, t, beta)[0], th.v_odd(x, t, beta, skip_s2=True)[0]
        assert torch.allclose(exact, fast, atol=1e-15, rtol=0)


# 2 -------------------------------------------------------------------------------------------------------


def test_v_converges_to_the_hard_threshold():
    x, t = grid(), 1.0
    h = th.v_hard(x, t)
    assert th.v_hard(torch.tensor([1.0, -1.0, 1.0001], dtype=D), 1.0).tolist() == [
        0.0,
        0.0,
        1.0001,
    ]  # ties pruned
    means = []
    for beta in [10, 30, 100, 300, 1000]:
        gap = (th.v_reference(x, t, beta) - h).abs()
        for delta in [0.01, 0.1, 0.5]:
            far = (x.abs() - t).abs() >= delta
            assert (gap[far] <= 2 * t * math.exp(-beta * delta) + 1e-15).all()
        means.append(gap.mean().item())
    assert all(a > b for a, b in zip(means, means[1:]))


# 3 -------------------------------------------------------------------------------------------------------


def test_gradcheck_v_and_closed_forms():
    x = torch.tensor([-2.5, -1.4, -0.7, -0.2, 0.05, 0.4, 0.9, 1.3, 2.2], dtype=D, requires_grad=True)
    t = torch.tensor(1.0, dtype=D, requires_grad=True)
    for beta in [3.0, 10.0]:
        assert torch.autograd.gradcheck(lambda x, t, beta=beta: th.v_reference(x, t, beta), (x, t))
        assert torch.autograd.gradcheck(lambda x, t, beta=beta: th.v_odd(x, t, beta)[0], (x, t))
    xs = grid(2001)
    xs = xs[((xs.abs() - 1.0).abs() > 1e-3) & (xs != 0)]
    for beta in [3.0, 30.0, 100.0]:
        for form in ("odd", "reference"):
            gx, gt = autograd_dv(xs, 1.0, beta, form)
            assert torch.allclose(gx, closed_dv_dx(xs, 1.0, beta), atol=1e-10)
            assert torch.allclose(gt, closed_dv_dt(xs, 1.0, beta), atol=1e-10)


def test_gradcheck_l0_regularizer():
    torch.manual_seed(0)
    ws = [torch.randn(4, 3, dtype=D, requires_grad=True), torch.randn(5, dtype=D, requires_grad=True)]
    taus = [torch.tensor(0.4, dtype=D, requires_grad=True), torch.tensor(0.9, dtype=D, requires_grad=True)]
    scales = [0.8, 1.1]
    for c in [2.0, 5.0]:
        assert torch.autograd.gradcheck(
            lambda w1, w2, t1, t2, c=c: th.regularizer("l0", [w1, w2], [t1, t2], scales, c), (*ws, *taus)
        )


# 4 -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("t", [0.01, 1.0])
@pytest.mark.parametrize("beta", [3.0, 100.0, 1e4])
def test_threshold_gradient_is_local(t, beta):
    x = torch.linspace(-3 * max(t, 0.1), 3 * max(t, 0.1), 20001, dtype=D)
    _, gt = autograd_dv(x, t, beta)
    for delta in [1e-2, 0.1]:
        far = (x.abs() - t).abs() >= delta
        assert (gt[far].abs() <= 2 * (1 + t * beta) * math.exp(-beta * delta) + 1e-12).all()


# 5 -------------------------------------------------------------------------------------------------------


def hand_net():
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with torch.no_grad():
        net[0].weight.copy_(
            torch.tensor([[0.1, -0.5, 0.5, 0.9], [-0.2, 0.7, -0.5, 0.05], [1.0, 0.0, 0.3, -0.6]])
        )
        net[2].weight.copy_(torch.tensor([[0.2, -0.3, 0.25], [-0.25, 0.1, 0.4]]))
    return net


def test_hard_mask_counts_ties_and_magnitude_equivalence():
    net = hand_net()
    params = th.attach(net, tau0=1.0)
    with torch.no_grad():  # t = 0.5 in layer 0 and 0.25 in layer 2: the |w| = t entries are ties
        params["0"].scale.fill_(0.5)
        params["2"].scale.fill_(0.25)
    m = th.hard_masks(net, params)
    assert {k: int(v.sum()) for k, v in m.items()} == {"0": 4, "2": 2}  # ties at 0.5 / 0.25 are pruned
    th.detach(net)
    ref = magnitude.threshold_masks(net, 1.0, {"0": 0.5, "2": 0.25})
    assert all(torch.equal(m[k], ref[k]) for k in m)
    masks.apply_masks(net, m)
    c = metrics.counts(net)
    assert (c["weights"], c["weights_nonzero"], c["params"], c["params_nonzero"]) == (18, 6, 23, 11)
    assert c["weights_pct"] == pytest.approx(100 * 6 / 18) and c["params_pct"] == pytest.approx(100 * 11 / 23)
    assert c["compression_weights"] == pytest.approx(18 / 6) and c["compression_params"] == pytest.approx(
        23 / 11
    )
    table = metrics.layer_table(net, (4,))
    assert table["nonzero"].tolist() == [4, 2, 6]


# 6 -------------------------------------------------------------------------------------------------------


def test_regularizers_are_monotone_and_bounded():
    torch.manual_seed(1)
    ws = [torch.randn(30, 20, dtype=D) * 0.1, torch.randn(10, 30, dtype=D) * 0.3]
    scales = [w.std().item() for w in ws]
    taus = torch.linspace(0.0, 3.0, 31, dtype=D)
    for layer in range(2):

        def r(reg, tau, layer=layer):
            tt = [torch.tensor(0.7, dtype=D), torch.tensor(0.7, dtype=D)]
            tt[layer] = tau
            return th.regularizer(reg, ws, tt, scales, 20.0).item()

        l0 = [r("l0", tau) for tau in taus]
        assert all(a > b for a, b in zip(l0, l0[1:])) and all(0 <= v <= 1 for v in l0)
        for reg in ("thr_exp", "thr_log"):
            vals = [r(reg, tau) for tau in taus]
            assert all(a > b for a, b in zip(vals, vals[1:])), reg
    # at beta = 1e6 (c = 1e6 * s) R_l0 is the hard kept fraction when no |w| is within 1e-4 of t
    taus_hard = [torch.tensor(1.0, dtype=D), torch.tensor(0.5, dtype=D)]
    ts = [s * tau.item() for s, tau in zip(scales, taus_hard)]
    for w, t in zip(ws, ts):  # move the few weights within 1e-4 of t out of that band
        near = (w.abs() - t).abs() <= 1e-4
        w[near] = w[near].sign() * (t + 2e-4)
    assert all(((w.abs() - t).abs() > 1e-4).all() for w, t in zip(ws, ts))
    kept = sum(int((w.abs() > t).sum()) for w, t in zip(ws, ts)) / sum(w.numel() for w in ws)
    for w, s, tau in zip(ws, scales, taus_hard):  # one beta per layer: c = beta * s
        r1 = th.regularizer("l0", [w], [tau], [s], 1e6 * s).item()
        assert r1 == pytest.approx(float((w.abs() > s * tau).double().mean()), abs=1e-6)
    r_all = sum(
        th.regularizer("l0", [w], [tau], [s], 1e6 * s) * w.numel() for w, s, tau in zip(ws, scales, taus_hard)
    )
    assert (r_all / sum(w.numel() for w in ws)).item() == pytest.approx(kept, abs=1e-6)


def test_band_l1_does_not_move_thresholds_and_none_is_zero():
    torch.manual_seed(2)
    w = torch.randn(8, 8, dtype=D, requires_grad=True)
    tau = torch.tensor(0.6, dtype=D, requires_grad=True)
    r = th.regularizer("band_l1", [w], [tau], [w.std().item()], 30.0)
    gw, gt = torch.autograd.grad(r, (w, tau), allow_unused=True)
    assert (gt is None or gt.item() == 0.0) and gw.abs().sum() > 0
    assert th.regularizer("none", [w], [tau], [1.0], 30.0).item() == 0.0
    with pytest.raises(ValueError, match="reg"):
        th.regularizer("l2", [w], [tau], [1.0], 30.0)


def test_training_regularizer_shares_the_forward_pass():
    torch.manual_seed(3)
    net = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3)).double()
    params = th.attach(net, tau0=0.8)
    th.set_c(params, 7.0)
    net(torch.randn(2, 5, dtype=D))
    shared = th.step_regularizer("l0", net, params, 7.0)
    ws = th.original_weights(net)
    pure = th.regularizer(
        "l0",
        [ws[k] for k in params],
        [p.tau for p in params.values()],
        [p.scale for p in params.values()],
        7.0,
    )
    assert torch.allclose(shared, pure)
    g1 = torch.autograd.grad(shared, [p.tau for p in params.values()], retain_graph=True)
    g2 = torch.autograd.grad(pure, [p.tau for p in params.values()])
    assert all(torch.allclose(a, b) for a, b in zip(g1, g2))


# 7 -------------------------------------------------------------------------------------------------------


def test_layer_tables_and_published_counts():
    for net, weights, params in [(LeNet300100(), 266_200, 266_610), (LeNet5(), 430_500, 431_080)]:
        table = metrics.layer_table(net)
        assert table["weights"].iloc[:-1].sum() == table["weights"].iloc[-1] == weights
        assert table["nonzero"].iloc[:-1].sum() == table["nonzero"].iloc[-1]
        assert metrics.counts(net)["params"] == params
    sizes300 = {n: m.weight.numel() for n, m in masks.prunable_layers(LeNet300100()).items()}
    sizes5 = {n: m.weight.numel() for n, m in masks.prunable_layers(LeNet5()).items()}
    assert reference.han_rebuilt_count("lenet300", sizes300) == 21_776
    assert reference.han_rebuilt_count("lenet5", sizes5) == 36_280
    assert 100 * 21_776 / 266_200 == pytest.approx(8.18, abs=0.01)
    assert 100 * 36_280 / 430_500 == pytest.approx(8.43, abs=0.01)


# 8 -------------------------------------------------------------------------------------------------------


def test_c_schedule_is_monotone_from_c0_to_c1():
    cs = [th.c_schedule(k, 100, 50, 1000) for k in range(101)]
    assert cs[0] == pytest.approx(50) and cs[-1] == pytest.approx(1000)
    assert all(a < b for a, b in zip(cs, cs[1:]))
    assert th.c_schedule(3, 100, 50, 1000, "fixed") == 1000
    with pytest.raises(ValueError, match="beta_mode"):
        th.c_schedule(0, 1, mode="cosine")


def test_pipeline_keeps_masks_and_thresholds_nonnegative():
    splits = toy_splits()
    net = toy_net()
    fit(net, splits.train, epochs=3, lr=0.1, progress_bar=False)
    model, hist = th.threshold_prune(
        copy.deepcopy(net), splits.train, joint_epochs=2, finetune_epochs=2, lam=3.0, lr=0.05,
        lr_tau=0.05, batch_size=16, test=splits.test, val=splits.val, log_every=1, progress_bar=False,
    )  # fmt: skip
    s = hist.attrs["summary"]
    joint = hist[hist["phase"] == "joint"]
    assert len(joint) == 2 * 8 + 1 and (hist["phase"] == "finetune").sum() == 2
    assert (joint[[c for c in joint if c.startswith("tau_")]] >= 0).all().all()
    cs = joint["c"].tolist()
    assert cs[0] == pytest.approx(50) and all(a <= b for a, b in zip(cs, cs[1:]))
    for name, m in masks.prunable_layers(model).items():
        assert masks.is_pruned(m)
        assert (m.weight[~m.weight_mask.bool()] == 0).all() and (
            m.weight_orig[~m.weight_mask.bool()] == 0
        ).all()
        assert s["t"][name] == pytest.approx(s["scale"][name] * s["tau"][name])
    assert s["counts"]["weights_pct"] == pytest.approx(joint["weights_pct"].iloc[-1])
    assert {"error_soft_pct", "error_hard_pct", "error_final_pct", "val_error_final_pct"} <= set(s)
    # the mask is what |W| > t said at the end of the joint phase, and fine-tuning kept pruned weights at 0
    assert metrics.counts(model)["weights_nonzero"] <= sum(
        int(m.sum()) for m in masks.get_masks(model).values()
    )


def test_thresholds_clamp_at_zero_without_regularizer():
    splits = toy_splits(seed=1)
    model, hist = th.threshold_prune(
        toy_net(1), splits.train, joint_epochs=3, finetune_epochs=0, reg="none", lr_tau=0.2, tau0=0.3,
        batch_size=16, log_every=1, progress_bar=False,
    )  # fmt: skip
    taus = hist[[c for c in hist if c.startswith("tau_")]].to_numpy()
    assert (taus >= 0).all() and (taus == 0).any()


def test_finetuning_with_momentum_and_decay_keeps_pruned_weights_zero():
    splits = toy_splits(seed=2)
    net = toy_net(2)
    keep = magnitude.global_magnitude_masks(net, 0.3)
    with torch.no_grad():
        for name, m in masks.prunable_layers(net).items():
            m.weight.mul_(keep[name])
    masks.apply_masks(net, keep)
    fit(net, splits.train, epochs=3, lr=0.1, momentum=0.9, weight_decay=5e-2, progress_bar=False)
    for name, m in masks.prunable_layers(net).items():
        assert (m.weight[~keep[name]] == 0).all()


def test_prune_entry_point_is_cached_and_returns_a_masked_module(tmp_path):
    splits = toy_splits(seed=3)
    dense = toy_net(3)
    kw = {"batch_size": 32, "progress_bar": False}
    before = copy.deepcopy(dense.state_dict())
    m1, h1 = th.threshold_run(dense, splits, 2.0, (1, 1), **kw)
    m2, h2 = th.threshold_run(dense, splits, 2.0, (1, 1), **kw)
    assert not h1.attrs["summary"]["cache_hit"] and h2.attrs["summary"]["cache_hit"]
    assert all(torch.equal(a, b) for a, b in zip(masks.get_masks(m1).values(), masks.get_masks(m2).values()))
    assert isinstance(m2, nn.Sequential) and all(
        masks.is_pruned(m) for m in masks.prunable_layers(m2).values()
    )
    assert h1.drop(columns="seconds").equals(h2.drop(columns="seconds"))
    assert all(
        torch.equal(v, dense.state_dict()[k]) for k, v in before.items()
    )  # the dense model is untouched
    with pytest.raises(ValueError, match="unknown options"):
        th.threshold_run(dense, splits, 1.0, 2, gamma=3)


def test_linear_probe_reaches_the_optimum():
    g = torch.Generator().manual_seed(0)
    centers = torch.randn(3, 6, generator=g) * 3
    y = torch.randint(0, 3, (300,), generator=g) + 5
    f = centers[y - 5] + torch.randn(300, 6, generator=g)
    out = th.linear_probe(f[:200], y[:200], f[200:], y[200:], l2=1e-4, max_iter=200)
    assert out["acc"] > 0.95 and out["train_acc"] > 0.95 and out["grad_norm"] < 1e-6
    Xs, ys = th.digits(f.view(300, 1, 2, 3), y, [5, 7], relabel=True)
    assert set(ys.tolist()) <= {0, 1} and len(ys) == int(((y == 5) | (y == 7)).sum())


def test_caffe_inv_schedule_and_recipes():
    assert lr_factor("inv", 0, 10, 5, gamma=1e-4) == 1.0
    assert lr_factor("inv", 10_000, 10, 5, gamma=1e-4) == pytest.approx(2.0**-0.75)
    assert RECIPES["cosine"]["schedule"] == "cosine" and RECIPES["caffe_inv"]["lr"] == 0.01


def test_transfer_probe_uses_fc1_features_and_is_cached():
    torch.manual_seed(0)
    net = LeNet5(num_classes=5)
    g = torch.Generator().manual_seed(1)
    X = torch.rand(60, 1, 28, 28, generator=g)
    y = torch.arange(60) % 3 + 5
    feats = th.fc1_features(net, X)
    assert feats.shape == (60, 500) and (feats >= 0).all()
    a = th.transfer_probe(net, (X[:40], y[:40]), (X[40:], y[40:]), max_iter=20)
    b = th.transfer_probe(net, (X[:40], y[:40]), (X[40:], y[40:]), max_iter=20)
    assert not a["cache_hit"] and b["cache_hit"] and a["acc"] == b["acc"]


def test_split_budget_pairs_and_totals():
    assert th.split_budget((6, 2)) == (6.0, 2.0) and th.split_budget(8) == (6.0, 2.0)
    with pytest.raises(ValueError, match="budget"):
        th.split_budget((0, 1))


def test_family_table_matches_the_closed_forms():
    table = th.family_table([10, 100], 1.0, n=6001)
    assert table["v(+t, t)"].tolist() == table["t/2 - t*sigmoid(-2*beta*t)"].tolist()
    assert (table["v(-t, t)"] == -table["v(+t, t)"]).all()
    assert (table["band half-width (|dv/dt| > 1e-3)"] <= table["12/beta"]).all()


def test_dense_on_without_validation_split_trains_and_caches():
    splits = toy_splits(n=128, seed=4)
    X = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    y = torch.arange(64) % 5
    src = Splits(train=(X[:48], y[:48]), val=None, test=(X[48:], y[48:]))
    a, info_a = th.dense_on("lenet5", src, 1, num_classes=5, recipe="caffe_inv")
    b, info_b = th.dense_on("lenet5", src, 1, num_classes=5, recipe="caffe_inv")
    assert a.fc2.out_features == 5 and not info_a["cache_hit"] and info_b["cache_hit"]
    assert all(torch.equal(u, v) for u, v in zip(a.state_dict().values(), b.state_dict().values()))
    assert splits.val is not None  # the toy splits used elsewhere keep their validation split


def test_thresholds_method_points_epochs_masks_and_cache():
    splits = toy_splits(seed=5)
    net = toy_net(5)
    method = th.Thresholds(batch_size=32)
    assert isinstance(method, Method) and (method.name, method.family, method.knob) == (
        "thresholds",
        "unstructured",
        "lambda",
    )
    pts = method.points(net, splits, values=[1.0, 4.0], budget=(1, 0.5), seed=0)
    assert [p.value for p in pts] == [1.0, 4.0] and len(pts) == 2
    assert all(p.method == "thresholds" and p.knob == "lambda" and p.epochs == 1.5 for p in pts)
    assert all(not p.cache_hit and p.seconds > 0 for p in pts)
    for p in pts:
        assert all(masks.is_pruned(m) for m in masks.prunable_layers(p.model).values())
    assert th.Thresholds().points(net, splits, values=[2.0], budget=4)[0].epochs == 4.0
    again = method.points(net, splits, values=[1.0, 4.0], budget=(1, 0.5), seed=0)
    assert all(p.cache_hit for p in again)
    assert [p.seconds for p in again] == [p.seconds for p in pts]
    for p, q in zip(pts, again):
        assert all(
            torch.equal(u, v) for u, v in zip(p.model.state_dict().values(), q.model.state_dict().values())
        )
    # the same run as threshold_run with the default options
    model, hist = th.threshold_run(net, splits, 4.0, (1, 0.5), batch_size=32, progress_bar=False)
    assert hist.attrs["summary"]["cache_hit"]
    assert all(
        torch.equal(u, v) for u, v in zip(model.state_dict().values(), pts[1].model.state_dict().values())
    )


# issue 12: FLOPs both ways, verdicts, masks that must survive fine-tuning and reload ---------------------


def test_activation_flops_match_a_hand_count():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3, bias=False), nn.ReLU(), nn.Linear(3, 2, bias=False))
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 1, 1, 0], [-1, -1, -1, -1]]))
        net[3].weight.copy_(torch.tensor([[1.0, 0, 2], [0, 0, 3]]))
    X = torch.tensor([[1.0, 0, 2, 0], [1, 1, 1, 1]])  # hidden after ReLU: [1, 2, 0] and [1, 2, 0]
    t = th.activation_flops(net, X).set_index("layer")
    # layer 1: the image counts as dense (Han's convention): 7 of 12 MACs kept by the weights
    assert t.loc["1", "flops_weights_pct"] == pytest.approx(700 / 12) and t.loc[
        "1", "flops_act_pct"
    ] == pytest.approx(700 / 12)
    # layer 2: 3 kept weights; the third hidden unit is 0 for both images, so only w[0,0] is used: 1 of 6 MACs
    assert t.loc["3", "flops_weights_pct"] == pytest.approx(50.0)
    assert t.loc["3", "flops_act_pct"] == pytest.approx(100 / 6) and t.loc[
        "3", "input_nonzero_pct"
    ] == pytest.approx(200 / 3)
    assert t.loc["total", "flops_dense"] == 2 * (12 + 6) and t.loc["total", "flops_act_pct"] == pytest.approx(
        800 / 18
    )
    t_raw = th.activation_flops(net, X, dense_input=False).set_index("layer")
    assert t_raw.loc["1", "flops_act_pct"] == pytest.approx(100 * 11 / 24)  # zeros in the image count too


def test_activation_flops_of_a_conv_equal_a_loop():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(1, 2, 3, bias=False), nn.ReLU(), nn.Conv2d(2, 1, 2, bias=False))
    with torch.no_grad():
        net[2].weight.mul_((torch.rand_like(net[2].weight) > 0.5).float())
    X = torch.randn(3, 1, 5, 5)
    h = torch.relu(net[0](X))
    w = net[2].weight[0]
    macs = sum(int((w[c, i, j] != 0) and (h[b, c, y + i, x + j] != 0)) for b in range(3) for c in range(2)
               for i in range(2) for j in range(2) for y in range(2) for x in range(2))  # fmt: skip
    t = th.activation_flops(net, X).set_index("layer")
    assert t.loc["2", "flops_act_pct"] == pytest.approx(100 * macs / (3 * 8 * 4))
    assert t.loc["2", "flops_dense"] == 2 * 8 * 4


def test_verdicts_tie_inside_noise_and_separate_outside():
    a = torch.ones(2000, dtype=torch.bool).numpy()
    b = a.copy()
    b[:3] = False  # 3 of 2,000 images apart: inside the noise
    assert th.paired(a, b)["verdict"] == "tie" and th.paired(a, b)["diff_pp"] == pytest.approx(0.15)
    b[:200] = False  # 10 pp apart
    p = th.paired(a, b)
    assert p["verdict"] == "better" and p["interval"][0] > 0 and th.paired(b, a)["verdict"] == "worse"
    lo, hi = th.error_interval(b)
    assert lo < 10.0 < hi and hi - lo < 3
    assert th.within([-0.5, 0.9], -1, 1) and not th.within([-1.2, 0.1], -1, 1)


def test_correct_counts_per_image_hits():
    net = toy_net(2)
    splits = toy_splits(seed=2)
    from pruning_lib.train import correct, evaluate

    hits = correct(net, *splits.test, batch_size=7).numpy()
    assert hits.dtype == bool and len(hits) == len(splits.test[1])
    assert hits.mean() == pytest.approx(evaluate(net, *splits.test)["acc"])


def test_probe_returns_per_image_hits():
    g = torch.Generator().manual_seed(0)
    centers = torch.randn(3, 6, generator=g) * 3
    y = torch.randint(0, 3, (300,), generator=g)
    f = centers[y] + torch.randn(300, 6, generator=g)
    out = th.linear_probe(f[:200], y[:200], f[200:], y[200:])
    assert out["correct"].shape == (100,) and out["correct"].double().mean().item() == pytest.approx(
        out["acc"]
    )


def test_a_lost_mask_is_caught_after_reload(tmp_path, monkeypatch):
    splits, dense = toy_splits(seed=4), toy_net(4)
    kw = {"batch_size": 32, "progress_bar": False}
    model, hist = th.threshold_run(dense, splits, 2.0, (1, 1), **kw)
    s = hist.attrs["summary"]
    assert (
        s["weights_kept"] == metrics.mask_counts(model)["weights_unmasked"] >= s["counts"]["weights_nonzero"]
    )
    from pruning_lib.methods.thresholds import runs

    def lossy(*args, **kwargs):  # a cache that hands the model back without its masks
        m, h = magnitude.cached_pruning_run(*args, **kwargs)
        return masks.remove_masks(m), h

    monkeypatch.setattr(runs, "cached_pruning_run", lossy)
    with pytest.raises(AssertionError, match="mask"):
        th.threshold_run(dense, splits, 2.0, (1, 1), **kw)
