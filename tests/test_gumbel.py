"""Gumbel-softmax gates (Zhang, Tao, Zhang 2023): binary form vs F.gumbel_softmax, extraction, counts, graphs, Method."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from pruning_lib import masks, metrics
from pruning_lib.data import Splits
from pruning_lib.methods import gumbel as G
from pruning_lib.methods.base import Method
from pruning_lib.methods.gumbel import binary as B
from pruning_lib.methods.magnitude import magnitude_at
from pruning_lib.models import LeNet5, LeNet300100


def gated_linear(n_in=7, n_out=5, seed=0, tau=3.0):
    torch.manual_seed(seed)
    lin = nn.Linear(n_in, n_out)
    (gate,) = G.gate_linears(nn.Sequential(lin), tau=tau)
    return lin, gate


def original(lin):
    return lin.parametrizations.weight.original


# 1. binary forward mask ------------------------------------------------------------------------------------


@pytest.mark.parametrize("tau", [0.5, 1.0, 3.0, 10.0])
def test_sample_mode_gives_binary_masks_and_w_or_zero(tau):
    lin, gate = gated_linear(40, 30, tau=tau)
    m = gate.sample(tau)
    assert set(m.unique().tolist()) <= {0.0, 1.0}
    w_eff, w = lin.weight, original(lin)
    assert ((w_eff == w) | (w_eff == 0)).all()
    assert 0 < int((w_eff == 0).sum()) < w.numel()  # both kept and dropped weights occur


# 2. gradients reach the logits -----------------------------------------------------------------------------


def test_gradient_reaches_logits_from_task_and_density():
    lin, gate = gated_linear()
    lin(torch.randn(16, 7)).sum().backward()
    g = gate.theta.grad
    assert torch.isfinite(g).all() and g.abs().sum() > 0
    assert torch.equal(g[0], -g[1])  # only delta = theta_0 - theta_1 matters
    gate.theta.grad = None
    G.sampled_density([gate], tau=1.0).backward()
    g = gate.theta.grad
    assert torch.isfinite(g).all() and (g[0] >= 0).all() and g[0].sum() > 0  # density pushes towards "drop"


# the binary logistic form equals F.gumbel_softmax (value and straight-through gradient) -------------------


@pytest.mark.parametrize("tau", [0.5, 1.0, 3.0])
def test_binary_form_matches_torch_gumbel_softmax_with_the_same_noise(tau):
    _, gate = gated_linear(30, 20, seed=3)
    logits = gate.logits.detach().clone().contiguous().requires_grad_()
    torch.manual_seed(11)  # F.gumbel_softmax draws G = -log(Exp(1)) with exponential_ on a tensor like logits
    gumbels = -torch.empty_like(logits).exponential_().log()
    torch.manual_seed(11)
    y = F.gumbel_softmax(logits, tau=tau, hard=True)[..., 0]
    assert torch.equal(y.detach(), ((logits + gumbels).argmax(-1) == 0).float())  # the noise is reconstructed
    m = gate.sample(tau, noise=gumbels[..., 0] - gumbels[..., 1])
    assert torch.equal(m.detach(), y.detach())
    upstream = torch.randn_like(y)
    (y * upstream).sum().backward()
    (m * upstream).sum().backward()
    torch.testing.assert_close(gate.theta.grad.movedim(0, -1), logits.grad, rtol=1e-4, atol=1e-6)


def test_binary_form_has_the_distribution_of_torch_gumbel_softmax():
    torch.manual_seed(0)
    logits = torch.randn(50, 2) * 2
    p = torch.sigmoid(logits[:, 0] - logits[:, 1])
    gate = G.GumbelGate((50,), tau=3.0)
    with torch.no_grad():
        gate.logits.copy_(logits)
    ours = torch.stack([gate.sample() for _ in range(4000)]).mean(0)
    torch_gs = torch.stack([F.gumbel_softmax(logits, tau=3.0, hard=True)[:, 0] for _ in range(4000)]).mean(0)
    assert (ours - p).abs().max() < 0.035 and (torch_gs - p).abs().max() < 0.035


def test_fused_gated_weight_and_count_match_the_unfused_sample():
    lin, gate = gated_linear(9, 6, seed=5)
    w = original(lin).detach().clone().requires_grad_()
    noise = G.logistic_noise((6, 9))
    upstream = torch.randn(6, 9)
    fused = B._GatedWeight.apply(w, gate.theta, 3.0, noise.clone())
    (fused * upstream).sum().backward()
    g_fused, gw_fused = gate.theta.grad.clone(), w.grad.clone()
    gate.theta.grad, w.grad = None, None
    plain = w * gate.sample(3.0, noise=noise)
    (plain * upstream).sum().backward()
    assert torch.equal(fused.detach(), plain.detach())
    torch.testing.assert_close(g_fused, gate.theta.grad)
    torch.testing.assert_close(gw_fused, w.grad)
    gate.theta.grad = None
    B._KeptCount.apply(gate.theta, 1.0, noise.clone()).backward()
    g_count = gate.theta.grad.clone()
    gate.theta.grad = None
    gate.sample(1.0, noise=noise).sum().backward()
    torch.testing.assert_close(g_count, gate.theta.grad)


# 3. argmax extraction and export -------------------------------------------------------------------------


def test_argmax_mask_ties_keep_and_export_matches_gated_model():
    lin, gate = gated_linear(4, 1)
    with torch.no_grad():
        gate.logits.copy_(torch.tensor([[[2.0, 1.0], [1.0, 2.0], [0.0, 0.0], [-1.0, 3.0]]]))
    assert gate.argmax_mask().tolist() == [[True, False, True, False]]
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    G.gate_linears(model)
    G.set_mode(model, "argmax")
    x = torch.randn(10, 6)
    plain = G.export_pruned(model)
    assert not any(parametrize.is_parametrized(m) for m in plain.modules())
    assert all(masks.is_pruned(m) for m in masks.prunable_layers(plain).values())
    torch.testing.assert_close(plain(x), model(x))
    kept = G.kept_counts(model)
    assert metrics.counts(plain)["weights_nonzero"] == sum(kept.values())
    assert {k: int(v.sum()) for k, v in masks.get_masks(plain).items()} == kept


# 4. densities -----------------------------------------------------------------------------------------------


def test_densities_of_known_logits():
    gate = G.GumbelGate((100,))
    with torch.no_grad():
        gate.theta.zero_()
        gate.theta[1, 37:] = 1.0  # keeps exactly the first 37
    assert G.argmax_density([gate]) == pytest.approx(0.37)
    gate = G.GumbelGate((100, 100))
    with torch.no_grad():
        gate.theta[0].fill_(math.log(0.2 / 0.8))
        gate.theta[1].zero_()
    assert gate.expected_density().item() == pytest.approx(0.2, abs=1e-6)
    torch.manual_seed(0)
    for tau in (1.0, 3.0):
        mean = torch.stack([gate.sample(tau) for _ in range(200)]).mean().item()
        assert abs(mean - 0.2) < 0.005, (tau, mean)
        d_hat = torch.stack([G.sampled_density([gate], tau) for _ in range(50)]).mean().item()
        assert abs(d_hat - 0.2) < 0.005, (tau, d_hat)


# 5. counting ------------------------------------------------------------------------------------------------


def test_counts_of_the_gated_networks():
    model = LeNet300100()
    gates = G.gate_linears(model)
    assert G.n_gated(gates) == 266_200 == sum(g.numel() for g in gates)
    assert [g.layer for g in gates] == ["fc1", "fc2", "fc3"]
    assert all(not parametrize.is_parametrized(m, "bias") for m in model.modules())
    assert 266_200 / 399 == pytest.approx(667.2, abs=0.05)
    assert 266_610 / (399 + 410) == pytest.approx(329.6, abs=0.05)
    toy, toy_gates = G.toy_model()
    assert G.n_gated(toy_gates) == 160
    assert sum(p.numel() for n, p in toy.named_parameters() if "theta" not in n) == 182


# 6. determinism ---------------------------------------------------------------------------------------------


def test_toy_runs_are_deterministic_per_seed():
    runs = [G.train_toy(50, seed=s, progress_bar=False) for s in (2050, 2050, 2051)]
    (a, ha, _), (b, hb, _), (c, hc, _) = runs
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert ha.equals(hb)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    assert not ha["train_l1"].equals(hc["train_l1"])


def test_sampled_eval_leaves_the_training_stream_alone():
    lin, _ = gated_linear()
    model, X = nn.Sequential(lin), torch.randn(4, 7)
    torch.manual_seed(3)
    G.sampled_eval(model, X, torch.zeros(4, dtype=torch.long), 3, seed=9)
    after = torch.rand(1)
    torch.manual_seed(3)
    assert torch.equal(after, torch.rand(1))


# 7. dense mode ----------------------------------------------------------------------------------------------


def test_dense_mode_equals_an_ungated_linear():
    lin, gate = gated_linear()
    ref = nn.Linear(7, 5)
    with torch.no_grad():
        ref.weight.copy_(original(lin))
        ref.bias.copy_(lin.bias)
    G.set_mode([gate], "dense")
    x = torch.randn(3, 7)
    assert torch.equal(lin(x), ref(x))
    with pytest.raises(ValueError, match="mode"):
        G.set_mode([gate], "soft")


# 8. split check ---------------------------------------------------------------------------------------------


def two_block_masks():
    """4-10-10-2: x1, x2 -> h1 units 0, 1 -> h2 unit 0 -> y1; x3, x4 -> h1 unit 5 -> h2 units 5, 6 -> y2."""
    m1, m2, m3 = (
        torch.zeros(10, 4, dtype=bool),
        torch.zeros(10, 10, dtype=bool),
        torch.zeros(2, 10, dtype=bool),
    )
    m1[0, 0] = m1[0, 1] = m1[1, 1] = True
    m1[5, 2] = m1[5, 3] = True
    m2[0, 0] = m2[0, 1] = True
    m2[5, 5] = m2[6, 5] = True
    m3[0, 0] = True
    m3[1, 5] = m3[1, 6] = True
    return [m1, m2, m3]


def test_split_check_on_hand_built_masks():
    ms = two_block_masks()
    ok = G.split_check(ms)
    assert ok["ok"] and G.split_check(ms, effective=False)["ok"]
    assert sorted(ok["edges_per_component"]) == [6, 6]
    cross = [m.clone() for m in ms]
    cross[0][5, 0] = True  # x1 feeds the y2 block
    assert not G.split_check(cross)["ok"]
    no_x2 = [m.clone() for m in ms]
    no_x2[0][:, 1] = False
    assert not G.split_check(no_x2)["ok"]
    dangling = [m.clone() for m in ms]
    dangling[0][9, 0] = dangling[0][9, 2] = True  # unit 9 reads x1 and x3 but feeds nothing
    assert G.split_check(dangling)["ok"]
    assert not G.split_check(dangling, effective=False)["ok"]


# 9. path counts and effective edges ------------------------------------------------------------------------


def test_path_counts_and_effective_edges_on_a_hand_graph():
    # 2 inputs -> 3 hidden -> 2 hidden -> 1 output
    m1 = torch.tensor([[1, 0], [1, 1], [0, 1]], dtype=bool)  # h1_0 <- x0; h1_1 <- x0, x1; h1_2 <- x1
    m2 = torch.tensor([[1, 1, 0], [0, 0, 1]], dtype=bool)  # h2_0 <- h1_0, h1_1; h2_1 <- h1_2
    m3 = torch.tensor([[1, 0]], dtype=bool)  # y <- h2_0 only: h2_1 is a dead end
    p = G.path_counts([m1, m2, m3])
    assert p.tolist() == [[2], [1]]  # x0: via h1_0 and h1_1; x1: via h1_1
    eff = G.effective_edges([m1, m2, m3])
    assert eff[0].tolist() == [[True, False], [True, True], [False, False]]
    assert eff[1].tolist() == [[True, True, False], [False, False, False]]
    assert eff[2].tolist() == [[True, False]]
    comps = G.components(eff)
    assert len(comps) == 1 and comps[0]["edges"] == 6 and comps[0]["inputs"] == [0, 1]


def test_pixel_importance_and_sign_symmetry():
    m1 = torch.zeros(3, 784, dtype=bool)
    m1[0, 5] = m1[1, 5] = m1[2, 783] = True
    img = G.pixel_importance(m1)
    assert img.shape == (28, 28) and img[0, 5] == 2 and img[27, 27] == 1 and img.sum() == 3
    w = torch.tensor([[1.0, -2.0, 0.5, 0.5], [1.0, 2.0, 0.0, 0.0], [0.0, 0.0, -1.0, 1.0]])
    s = G.sign_symmetry(w, torch.ones_like(w, dtype=bool))
    assert s == {
        "units_x1_x2": 2,
        "units_x1_x2_opposite_sign": 1,
        "units_x3_x4": 2,
        "units_x3_x4_same_sign": 1,
    }


def test_layer_orders_put_output_components_left_to_right():
    orders = G.layer_orders(two_block_masks())
    assert orders[-1] == [0, 1]
    assert orders[0][:2] == [0, 1] and orders[0][2:] == [2, 3]
    h1 = orders[1]
    assert h1.index(0) < h1.index(5) and h1.index(1) < h1.index(5)
    assert set(G.layer_orders(two_block_masks(), drop_unused=True)[1]) == {0, 1, 5}


# training entry point -----------------------------------------------------------------------------------------


def test_train_gated_history_and_export_on_tiny_data():
    torch.manual_seed(0)
    X, y = torch.rand(96, 1, 28, 28), torch.randint(0, 10, (96,))
    model, gates = G.lenet300_gated(seed=1)
    hist = G.train_gated(
        model, (X, y), lam=5.0, epochs=2, batch_size=32, test=(X, y), sample_repeats=2, progress_bar=False
    )
    assert list(hist["epoch"]) == [0, 1, 2]
    assert abs(hist["dhat_last"].iloc[0] - 0.5) < 0.1  # D_hat starts near 0.5
    assert hist["kept"].iloc[-1] < hist["kept"].iloc[0]
    assert {"acc_argmax", "acc_sampled_mean", "acc_sampled_std", "train_ce", "density_expected"} <= set(hist)
    plain = G.export_pruned(model)
    assert metrics.counts(plain)["weights_nonzero"] == hist["kept"].iloc[-1]


def tiny_splits(n=64):
    """Random 28 x 28 "images" as train, val and test splits (seeded)."""
    torch.manual_seed(0)
    X, y = torch.rand(n, 1, 28, 28), torch.randint(0, 10, (n,))
    return Splits(train=(X, y), val=(X[:8], y[:8]), test=(X, y))


def test_cached_entry_point_and_magnitude_baseline_on_tiny_data():
    splits = tiny_splits()
    X, y = splits.train
    kw = dict(epochs=1, seed=3, splits=splits, sample_repeats=1, batch_size=32, progress_bar=False)
    model, hist, hit = G.cached_lenet300(20.0, "smoke", **kw)
    assert not hit and isinstance(model, LeNet300100)
    assert metrics.counts(model)["weights_nonzero"] == hist["kept"].iloc[-1]
    again, hist2, hit2 = G.cached_lenet300(20.0, "smoke", **kw)
    assert hit2 and hist2.equals(hist)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    dense = LeNet300100()
    pruned, row = magnitude_at(dense, 123, (X, y), (X, y), epochs=1)
    assert metrics.counts(pruned)["weights_nonzero"] == 123 == row["kept"]
    assert {"acc_pruned", "acc_finetuned"} <= set(row)


def test_gated_weights_are_the_unmasked_trainable_weights():
    lin, gate = gated_linear()
    w = G.gated_weights(nn.Sequential(lin))["0"]
    assert torch.equal(w, original(lin).detach()) and not w.requires_grad


# the suite's Method ----------------------------------------------------------------------------------------


def test_gumbel_method_points_epochs_masks_and_cache():
    splits = tiny_splits()
    method = G.Gumbel(profile="smoke", recipe={"batch_size": 32, "sample_repeats": 1})
    assert isinstance(method, Method) and (method.name, method.family, method.knob) == (
        "gumbel",
        "unstructured",
        "lambda",
    )
    pts = method.points(LeNet300100(), splits, values=[1.0, 30.0], budget=1, seed=1)
    assert [p.value for p in pts] == [1.0, 30.0] and all(p.knob == "lambda" for p in pts)
    assert all(p.epochs == 1 and p.seconds > 0 and not p.cache_hit for p in pts)
    assert all(set(masks.get_masks(p.model)) == {"fc1", "fc2", "fc3"} for p in pts)
    again = method.points(LeNet300100(), splits, values=[1.0, 30.0], budget=1, seed=1)
    assert all(p.cache_hit for p in again)
    assert [p.seconds for p in again] == [p.seconds for p in pts]
    for a, b in zip(pts, again):
        assert all(
            torch.equal(u, v) for u, v in zip(a.model.state_dict().values(), b.model.state_dict().values())
        )


def test_gumbel_method_gates_the_convolutions_of_lenet5():
    model = LeNet5()
    gates = G.gate_layers(model, types=G.GATED_TYPES["lenet5"])
    assert [g.layer for g in gates] == ["conv1", "conv2", "fc1", "fc2"]
    pts = G.Gumbel(profile="smoke", recipe={"sample_repeats": 1}).points(
        LeNet5(), tiny_splits(), values=[10.0], budget=1
    )
    assert pts[0].method == "gumbel" and masks.is_pruned(pts[0].model.conv1) and pts[0].seconds > 0


# strongest paths and the pathway figures ----------------------------------------------------------------------


def brute_force_paths(ws, ms):
    """Every input -> output path of a 2-layer graph with its strength, by enumeration."""
    out = []
    for c in range(ms[1].shape[0]):
        for h in range(ms[1].shape[1]):
            for i in range(ms[0].shape[1]):
                if ms[0][h, i] and ms[1][c, h]:
                    out.append((c, float(abs(ws[0][h, i] * ws[1][c, h])), (i, h, c)))
    return out


def test_top_paths_on_a_hand_graph():
    w1 = torch.tensor([[1.0, 2.0, 0.0], [0.0, -3.0, 1.0]])  # 3 inputs -> 2 hidden
    w2 = torch.tensor([[1.0, 1.0], [0.5, 0.0]])  # 2 hidden -> 2 outputs
    paths = G.graph.top_paths([w1, w2], [w1 != 0, w2 != 0], k=3)
    into0 = [p for p in paths if p["output"] == 0]
    assert [p["units"] for p in into0[:2]] == [(1, 1, 0), (1, 0, 0)]
    assert [p["strength"] for p in into0] == [3.0, 2.0, 1.0] and into0[0]["sign"] == -1
    into1 = [p for p in paths if p["output"] == 1]
    assert [(p["units"], p["strength"]) for p in into1] == [
        ((1, 0, 1), 1.0),
        ((0, 0, 1), 0.5),
    ]  # only 2 exist
    pm = G.graph.path_masks([p for p in paths if p["rank"] == 0], [w1 != 0, w2 != 0])
    assert pm[0].tolist() == [[False, True, False], [False, True, False]]
    assert pm[1].tolist() == [[False, True], [True, False]]


def test_top_paths_match_enumeration_on_a_random_sparse_graph():
    torch.manual_seed(0)
    ws = [torch.randn(6, 9), torch.randn(4, 6)]
    ms = [torch.rand(6, 9) < 0.4, torch.rand(4, 6) < 0.5]
    every = brute_force_paths(ws, ms)
    for p in G.graph.top_paths(ws, ms, k=4):
        mine = sorted((s for c, s, _ in every if c == p["output"]), reverse=True)
        assert p["strength"] == pytest.approx(mine[p["rank"]])
        i, h, c = p["units"]
        assert ms[0][h, i] and ms[1][c, h]
        assert p["sign"] == int(torch.sign(ws[0][h, i] * ws[1][c, h]))
    counts = {c: sum(1 for o, _, _ in every if o == c) for c in range(4)}
    assert all(
        sum(p["output"] == c for p in G.graph.top_paths(ws, ms, k=4)) == min(4, counts[c]) for c in counts
    )


def test_pathway_and_gate_settling_figures_draw():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from pruning_lib.plots import gumbel as plots

    torch.manual_seed(0)
    model = LeNet300100()
    sparse = {
        n: torch.rand_like(m.weight) < d
        for (n, m), d in zip(masks.prunable_layers(model).items(), (3e-4, 0.02, 0.2))
    }
    model = masks.apply_masks(model, sparse)
    eff = G.effective_edges(sparse)
    fig = plots.digit_pathways_figure(
        model, sparse, eff, 1.0, sum(int(m.sum()) for m in sparse.values()), k=2
    )
    assert "strongest paths" in fig.axes[0].get_title()
    plt.close(fig)
    _, gates = G.toy_model(0)
    hist = pd.DataFrame({"epoch": [0, 1], "kept": [100, 10], "density_expected": [0.5, 0.1]})
    fig = plots.gate_settling_figure(gates, {2050: hist}, 266_200, 1.0)
    assert len(fig.axes) == 2
    plt.close(fig)
