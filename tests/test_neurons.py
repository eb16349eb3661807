"""Neuron removal (Wolfe et al. 2017): in float64 on tiny nets, against autograd and naive loops; the Method."""

import copy
import inspect

import numpy as np
import pytest
import torch
from torch import nn

from pruning_lib import masks as plmasks
from pruning_lib import metrics
from pruning_lib.data import Splits
from pruning_lib.methods import neurons as N
from pruning_lib.methods.base import Method
from pruning_lib.models import LeNet5, LeNet300100


@pytest.fixture(autouse=True)
def float64():
    """Every test here runs in float64 (restored afterwards, so other test modules are unaffected)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def tiny(sizes=(3, 4, 5, 2), seed=0, n=7, out_dim=None, init_range=1.5):
    """A seeded float64 sigmoid net, inputs and targets in (0, 1)."""
    torch.manual_seed(seed)
    net = N.SigmoidMLP(sizes, init_range=init_range).double()
    X = torch.randn(n, sizes[0])
    T = torch.rand(n, sizes[-1])
    return net, X, T


def some_masks(net, off=((0, 1), (1, 3))):
    m = net.full_masks()
    for layer, k in off:
        m[layer][k] = False
    return m


def forward_from_h(net, h, layer, masks):
    """Outputs of the net when hidden layer `layer`'s (masked) output is given as h."""
    z = net.layers[layer + 1](h)
    for j in range(layer + 1, len(masks)):
        z = net.layers[j + 1](torch.sigmoid(z) * masks[j])
    return torch.sigmoid(z)


def per_sample_E(o, T):
    return 0.5 * (o - T).square().sum(1)


# 1. derivatives ------------------------------------------------------------------------------------------------


def test_g_is_autograd_gradient_and_H_exact_in_last_hidden_layer():
    net, X, T = tiny()
    masks = some_masks(net)
    bp = N.backprop2(net, X, T, masks)
    for layer in range(2):
        h = bp["h"][layer].clone().requires_grad_(True)
        E = per_sample_E(forward_from_h(net, h, layer, masks), T)
        (g,) = torch.autograd.grad(E.sum(), h, create_graph=True)
        torch.testing.assert_close(bp["g"][layer], g, atol=1e-10, rtol=0)
        if layer == 1:  # last hidden layer: H is the exact per-sample Hessian diagonal
            Hd = torch.stack(
                [
                    torch.autograd.grad(g[:, j].sum(), h, retain_graph=True)[0][:, j]
                    for j in range(h.shape[1])
                ],
                1,
            )
            torch.testing.assert_close(bp["H"][layer], Hd, atol=1e-10, rtol=0)
            eps = 1e-4
            fd = torch.zeros_like(Hd)
            for j in range(h.shape[1]):
                e = torch.zeros_like(h)
                e[:, j] = eps
                with torch.no_grad():
                    Ep = per_sample_E(forward_from_h(net, h + e, layer, masks), T)
                    Em = per_sample_E(forward_from_h(net, h - e, layer, masks), T)
                    fd[:, j] = (Ep - 2 * E.detach() + Em) / eps**2
            torch.testing.assert_close(bp["H"][layer], fd, rtol=1e-5, atol=1e-9)


def test_first_layer_H_matches_a_per_sample_loop_of_the_appendix():
    net, X, T = tiny()
    masks = some_masks(net)
    bp = N.backprop2(net, X, T, masks)
    W1, W2, W3 = (layer.weight for layer in net.layers)
    sig = torch.sigmoid
    for n in range(len(X)):
        a1 = net.layers[0](X[n])
        h1 = sig(a1) * masks[0]
        a2 = net.layers[1](h1)
        h2 = sig(a2) * masks[1]
        o = sig(net.layers[2](h2))
        ds = [0.0] * 2
        ss = [0.0] * 2
        for i in range(2):
            sp = o[i] * (1 - o[i])
            ds[i] = (o[i] - T[n, i]) * sp
            ss[i] = sp**2 + (o[i] - T[n, i]) * sp * (1 - 2 * o[i])
        d2, s2 = [], []
        for j in range(5):
            g = sum(W3[i, j] * ds[i] for i in range(2))
            H = sum(W3[i, j] ** 2 * ss[i] for i in range(2))
            sj = sig(a2[j])
            sp, spp = sj * (1 - sj), sj * (1 - sj) * (1 - 2 * sj)
            d2.append(masks[1][j] * g * sp)
            s2.append(masks[1][j] * (H * sp**2 + g * spp))
        for k in range(4):
            H = sum(W2[j, k] ** 2 * s2[j] for j in range(5))
            g = sum(W2[j, k] * d2[j] for j in range(5))
            assert abs(bp["H"][0][n, k] - H) < 1e-12
            assert abs(bp["g"][0][n, k] - g) < 1e-12
    del W1


# 2. Taylor scores vs a gain ------------------------------------------------------------------------------------


def test_taylor_terms_are_gain_derivatives_in_last_hidden_layer():
    net, X, T = tiny()
    masks = some_masks(net)
    s1 = N.taylor_scores(net, X, T, masks, order=1)[1]
    s2 = N.taylor_scores(net, X, T, masks, order=2)[1]
    bp = N.backprop2(net, X, T, masks)
    for k in torch.nonzero(masks[1]).flatten().tolist():
        alpha = torch.ones((), requires_grad=True)

        def E_of(al, k=k):
            e = torch.zeros(bp["h"][1].shape[1])
            e[k] = 1.0
            h = bp["h"][1] * (1 + (al - 1) * e)
            return per_sample_E(forward_from_h(net, h, 1, masks), T).sum()

        (d1,) = torch.autograd.grad(E_of(alpha), alpha, create_graph=True)
        (d2,) = torch.autograd.grad(d1, alpha)
        assert abs(-s1[k] - d1) < 1e-10
        assert abs((s2[k] - s1[k]) * 2 - d2) < 1e-10


@pytest.mark.parametrize("legacy", [False, True])
def test_fast_taylor_scores_equal_per_sample_sums(legacy):
    net, X, T = tiny((3, 4, 5, 6, 2), seed=7, n=11)
    masks = some_masks(net, ((0, 1), (1, 3), (2, 0)))
    bp = N.backprop2(net, X, T, masks, legacy=legacy)
    for order in (1, 2):
        fast = N.taylor_scores(net, X, T, masks, order=order, legacy=legacy)
        for layer, (h, g, H) in enumerate(zip(bp["h"], bp["g"], bp["H"])):
            ref = -(h * g).sum(0) + (0.5 * (h.square() * H).sum(0) if order == 2 else 0)
            torch.testing.assert_close(fast[layer], ref, atol=1e-12, rtol=1e-10)


def test_masked_neurons_have_zero_delta_and_s_and_match_a_smaller_net():
    net, X, T = tiny()
    masks = some_masks(net)
    bp = N.backprop2(net, X, T, masks)
    for layer, m in enumerate(masks):
        assert torch.all(bp["delta"][layer][:, ~m] == 0) and torch.all(bp["s"][layer][:, ~m] == 0)
    small = N.SigmoidMLP([3, 3, 4, 2]).double()
    keep = [torch.nonzero(m).flatten() for m in masks]
    with torch.no_grad():
        small.layers[0].weight.copy_(net.layers[0].weight[keep[0]])
        small.layers[0].bias.copy_(net.layers[0].bias[keep[0]])
        small.layers[1].weight.copy_(net.layers[1].weight[keep[1]][:, keep[0]])
        small.layers[1].bias.copy_(net.layers[1].bias[keep[1]])
        small.layers[2].weight.copy_(net.layers[2].weight[:, keep[1]])
        small.layers[2].bias.copy_(net.layers[2].bias)
    for order in (1, 2):
        big = N.taylor_scores(net, X, T, masks, order=order)
        ref = N.taylor_scores(small, X, T, None, order=order)
        for layer in range(2):
            torch.testing.assert_close(big[layer][keep[layer]], ref[layer], atol=1e-12, rtol=0)
            assert torch.all(big[layer][~masks[layer]] == 0)


# 3. BF = masked forward ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [37, 10**6])
def test_bf_scores_equal_masked_forward_differences(chunk):
    net, X, T = tiny(n=23)
    masks = some_masks(net)
    E0 = N.error(net, X, T, masks)
    scores = N.bf_scores(net, X, T, masks, chunk=chunk)
    for layer, m in enumerate(masks):
        for k in range(len(m)):
            if not m[k]:
                assert scores[layer][k] == 0
                continue
            trial = [x.clone() for x in masks]
            trial[layer][k] = False
            ref = N.error(net, X, T, trial) - E0
            assert abs(scores[layer][k] - ref) <= 1e-10 * abs(ref) + 1e-13


def test_bf_scores_for_relu_cross_entropy_nets():
    torch.manual_seed(3)
    linears = [nn.Linear(5, 6), nn.Linear(6, 4), nn.Linear(4, 3)]
    net = N.SigmoidMLP.from_linears(linears, activation="relu", out_activation="identity", error="ce")
    X, y = torch.randn(31, 5), torch.randint(0, 3, (31,))
    T = N.one_hot(y, 3, torch.float64)
    masks = some_masks(net, ((0, 2), (1, 1)))
    fast = torch.cat(N.bf_scores(net, X, T, masks, chunk=50))
    slow = torch.cat(N.bf_scores_naive(net, X, T, masks))
    torch.testing.assert_close(fast, slow, atol=1e-12, rtol=1e-10)
    ref = nn.functional.cross_entropy(
        nn.Sequential(linears[0], nn.ReLU(), linears[1], nn.ReLU(), linears[2])(X), y, reduction="sum"
    )
    assert abs(N.error(net, X, T) - ref.item()) < 1e-10


# 4. vectorised = naive --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", ["rerank", "single"])
def test_vectorised_prune_equals_naive(schedule):
    net, X, T = tiny((6, 7, 8, 3), seed=1, n=200)
    fast = N.serial_prune(net, X, T, "bf", schedule, chunk=999, progress_bar=False)
    slow = N.serial_prune(net, X, T, "bf", schedule, naive=True, progress_bar=False)
    assert fast.order == slow.order
    torch.testing.assert_close(torch.tensor(fast.sse), torch.tensor(slow.sse), atol=1e-10, rtol=1e-10)
    torch.testing.assert_close(torch.tensor(fast.acc), torch.tensor(slow.acc), atol=1e-10, rtol=1e-10)


# 5. Alg II + BF invariants ----------------------------------------------------------------------------------------


def test_prune_invariants_and_schedules():
    net, X, T = tiny((4, 5, 6, 2), seed=2, n=60)
    K = 11
    ev = {"test": (torch.randn(9, 4), torch.rand(9, 2))}
    runs = {
        (c, s): N.serial_prune(net, X, T, c, s, eval_sets=ev, progress_bar=False)
        for c in N.CRITERIA
        for s in N.SCHEDULES
    }
    full = N.error(net, X, T)
    empty = N.error(net, X, T, [torch.zeros(5, dtype=torch.bool), torch.zeros(6, dtype=torch.bool)])
    for r in runs.values():
        assert sorted(r.order) == list(range(K))
        assert len(r.sse) == len(r.acc) == K + 1 and len(r.eval_curves["test"]["sse"]) == K + 1
        assert r.sse[0] == runs["bf", "rerank"].sse[0] and r.sse[-1] == runs["bf", "rerank"].sse[-1]
        assert abs(r.sse[0] - full) < 1e-10 and abs(r.sse[-1] - empty) < 1e-10
        assert r.eval_curves["test"]["sse"][-1] == runs["bf", "rerank"].eval_curves["test"]["sse"][-1]
        assert len(r.history()) == K + 1
    single_dE = torch.cat(N.bf_scores(net, X, T))
    assert runs["bf", "single"].order == torch.sort(single_dE, stable=True).indices.tolist()
    assert runs["bf", "single"].order[0] == runs["bf", "rerank"].order[0]
    # greedy BF is the best first removal of all criteria
    for r in runs.values():
        assert runs["bf", "rerank"].sse[1] <= r.sse[1] * (1 + 1e-12)
    # the Taylor single ranking sorts the signed scores ascending
    t2 = torch.cat(N.taylor_scores(net, X, T, order=2))
    assert runs["taylor2", "single"].order == torch.sort(t2, stable=True).indices.tolist()
    d = N.PruneResult.from_dict(runs["taylor1", "rerank"].to_dict())
    assert d.order == runs["taylor1", "rerank"].order


# 6. legacy ----------------------------------------------------------------------------------------------------------


def legacy_reference(net, X, T):
    """Per-sample loop of the authors' Java Taylor scores, for a 2-H-1 net: (g1, g2) per hidden neuron."""
    W1, b1 = net.layers[0].weight, net.layers[0].bias
    W2, b2 = net.layers[1].weight, net.layers[1].bias
    nh = W1.shape[0]
    g1, g2 = [0.0] * nh, [0.0] * nh
    for n in range(len(X)):
        a1 = W1 @ X[n] + b1
        Oj = torch.sigmoid(a1)
        aL = W2 @ Oj + b2
        o = torch.sigmoid(aL)[0]
        spL = o * (1 - o)
        dL = (o - T[n, 0]) * spL
        sL = spL * (1 - 2 * o)  # item 3: sigma'' only
        for j in range(nh):
            sp = Oj[j] * (1 - Oj[j])
            delta = sp * Oj[j] * dL  # item 1: weights omitted, edge gradients summed
            H = W2[0, j] ** 2 * sL
            g1[j] += -Oj[j] * delta  # item 2
            g2[j] += 0.5 * Oj[j] ** 2 * H - Oj[j] * delta  # item 4
    return torch.stack(g1), torch.stack(g2)


@pytest.mark.parametrize("criterion", ["bf", "taylor2"])
def test_until_drop_stops_at_the_first_removal_below_and_keeps_the_count(criterion):
    torch.manual_seed(0)  # a trained 2-8-2 net on a linear boundary: its accuracy falls after a few removals
    X = torch.randn(200, 2)
    T = torch.nn.functional.one_hot((X[:, 0] + X[:, 1] > 0).long(), 2).double()
    net = N.SigmoidMLP((2, 8, 2), init_range=1.0).double()
    N.fit_sse(net, X, T, epochs=30, lr=0.05, batch_size=20, progress_bar=False)
    full = N.serial_prune(net, X, T, criterion, "rerank", progress_bar=False)
    short = N.serial_prune(net, X, T, criterion, "rerank", until_drop=0.01, progress_bar=False)
    n = N.n_within(full.acc, 0.01)
    assert 0 < n < len(full.order) - 1  # the accuracy does fall, and not at once
    assert short.order == full.order[: n + 1] and short.sse == full.sse[: n + 2]
    assert short.acc[-1] < short.acc[0] - 0.01 and N.n_within(short.acc, 0.01) == n


def test_legacy_taylor_matches_reference_loop_and_selection_rules():
    assert inspect.signature(N.serial_prune).parameters["legacy_taylor"].default is False
    assert inspect.signature(N.taylor_scores).parameters["legacy"].default is False
    net, X, T = tiny((2, 3, 1), seed=4, n=15, init_range=2.0)
    ref1, ref2 = legacy_reference(net, X, T)
    torch.testing.assert_close(N.taylor_scores(net, X, T, order=1, legacy=True)[0], ref1, atol=1e-12, rtol=0)
    torch.testing.assert_close(N.taylor_scores(net, X, T, order=2, legacy=True)[0], ref2, atol=1e-12, rtol=0)
    # Alg I: descending order of the legacy score
    r = N.serial_prune(net, X, T, "taylor2", "single", legacy_taylor=True, progress_bar=False)
    assert r.order == torch.sort(ref2, descending=True, stable=True).indices.tolist()
    # Alg II: the max score among the neurons with |score| <= median(|score|)
    r = N.serial_prune(net, X, T, "taylor2", "rerank", legacy_taylor=True, progress_bar=False)
    med = ref2.abs().median()
    eligible = torch.where(ref2.abs() <= med, ref2, torch.tensor(-float("inf")))
    assert r.order[0] == int(eligible.argmax())
    assert sorted(r.order) == [0, 1, 2]


# 7. gain curve ----------------------------------------------------------------------------------------------------


def test_gain_curve_endpoints():
    net, X, T = tiny(n=19)
    masks = some_masks(net)
    E0 = N.error(net, X, T, masks)
    bf = N.bf_scores(net, X, T, masks)
    for neuron in [(0, 0), (1, 4), 2]:
        layer, k = neuron if isinstance(neuron, tuple) else N.neuron_ids(net.sizes)[neuron]
        curve = N.gain_curve(net, X, T, masks, neuron, [1.0, 0.0, 2.5], chunk=17)
        assert abs(curve[0] - E0) < 1e-10
        assert abs(curve[1] - (E0 + bf[layer][k])) < 1e-10
        # alpha = 2.5 by a direct forward pass with the neuron's output scaled
        h = N.backprop2(net, X, T, masks)["h"][layer].clone()
        h[:, k] *= 2.5
        ref = per_sample_E(forward_from_h(net, h, layer, masks), T).sum()
        assert abs(curve[2] - ref) < 1e-10


# 8. counting and the export to torch.nn.utils.prune masks ----------------------------------------------------------


def test_param_counts():
    c = N.param_counts([784, 100, 10])
    assert (c["weights"], c["params"]) == (79_400, 79_510)
    m = N.masks_from_removed([784, 100, 10], range(50))
    c = N.param_counts([784, 100, 10], m)
    assert (c["weights_nonzero"], c["params_nonzero"]) == (39_700, 39_760)
    assert c["compression_weights"] == pytest.approx(2.0)
    c = N.param_counts([784, 50, 50, 10])
    assert (c["weights"], c["params"]) == (42_200, 42_310)


def test_export_to_prune_masks_matches_masked_net_and_counts():
    torch.manual_seed(5)
    net, X, T = tiny((6, 7, 8, 3), seed=5, n=20)
    masks = some_masks(net, ((0, 0), (0, 4), (1, 2), (1, 7)))
    module = N.to_pruned_module(net, masks)
    assert all(plmasks.is_pruned(m) for m in plmasks.prunable_layers(module).values())
    torch.testing.assert_close(module(X), net(X, masks), atol=1e-12, rtol=0)
    c = metrics.counts(module)
    ours = N.param_counts(net, masks)
    assert (c["weights_nonzero"], c["params_nonzero"]) == (ours["weights_nonzero"], ours["params_nonzero"])
    # an ordinary ReLU model: removing through masks equals the wrapped net's masked forward
    model = nn.Sequential(nn.Linear(6, 7), nn.ReLU(), nn.Linear(7, 8), nn.ReLU(), nn.Linear(8, 3))
    names = N.layer_names_of(model)
    wrapped = N.SigmoidMLP.from_linears([model[0], model[2], model[4]])
    ref = wrapped(X, masks)
    N.remove_neurons(model, names, masks)
    torch.testing.assert_close(model(X), ref, atol=1e-12, rtol=0)
    assert torch.equal(plmasks.get_masks(model)["2"], masks[1][:, None] & masks[0][None, :])
    # zeroed biases stay zero through retraining (their gradient is exactly 0)
    before = copy.deepcopy(model[2].bias.detach())
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    for _ in range(3):
        opt.zero_grad()
        model(X).square().sum().backward()
        opt.step()
    assert torch.all(model[2].bias[~masks[1]] == 0) and torch.all(before[~masks[1]] == 0)


def test_curve_summaries():
    acc = [0.95, 0.951, 0.945, 0.939, 0.89, 0.5]
    assert N.n_within(acc, 0.01) == 2 and N.n_within(acc, 0.05) == 3 and N.n_within([0.9] * 4, 0.01) == 3
    sse = [10.0, 9.0, 9.5, 10.5, 20.0, 110.0]  # threshold 15
    assert N.n_sse5(sse) == 3 and N.n_below_start(sse) == 2
    assert N.n_sse_ratio(sse, 2.0) == 4 and N.n_sse_ratio(sse, 1.04) == 2 and N.n_sse_ratio([1.0] * 5) == 4
    assert N.curve_summary(sse, acc)["n_sse2x"] == 4
    with pytest.raises(ValueError, match="factor"):
        N.n_sse_ratio(sse, 1.0)


def test_log_ratio_count_sees_what_the_share_of_the_rise_misses():
    """Cosine-like curves spanning 5 decades: B lies 2 decades above A but the 5%-of-the-rise count prefers B."""
    a = [0.01, 0.01, 0.012, 0.015, 0.02, 0.05, 0.1, 1.0, 10.0, 60.0, 1000.0]
    b = [0.01, 1.0, 1.0, 1.2, 1.5, 2.0, 5.0, 10.0, 30.0, 40.0, 1000.0]
    assert N.n_sse5(b) > N.n_sse5(a)  # 5% of the rise is SSE 50: both stay below it for most of the run
    assert N.n_sse_ratio(b) == 0 < N.n_sse_ratio(a) == 4
    assert N.decades_above(b, a) == pytest.approx(np.median(np.log10(np.array(b[1:]) / np.array(a[1:]))))
    assert N.decades_above(b, a) > 1 and N.decades_above(a, a) == 0
    with pytest.raises(ValueError, match="lengths"):
        N.decades_above(a, b[:-1])


def test_class_weights_and_balanced_accuracy():
    T = torch.tensor([[1.0, 0.0]] + [[0.0, 1.0]] * 3)
    torch.testing.assert_close(N.class_weights(T), torch.tensor([2.0, 2 / 3, 2 / 3, 2 / 3]))
    w = N.class_weights(T)
    assert float((w * T[:, 0]).sum()) == pytest.approx(float((w * T[:, 1]).sum()))
    net = N.SigmoidMLP([2, 3, 2])
    with torch.no_grad():  # a constant "class 1" answer: accuracy 3/4, balanced accuracy 1/2
        for layer in net.layers:
            layer.weight.zero_()
        net.layers[-1].bias.copy_(torch.tensor([-5.0, 5.0]))
    X = torch.randn(4, 2)
    assert N.mlp_accuracy(net, X, T) == pytest.approx(0.75)
    assert N.balanced_accuracy(net, X, T) == pytest.approx(0.5)


@pytest.mark.parametrize("balanced", [False, True])
def test_fit_until_step_is_the_weighted_sse_gradient_step(balanced):
    net, X, T = tiny((3, 4, 2), seed=3, n=10)
    T = torch.nn.functional.one_hot(torch.tensor([0, 1, 1, 1, 1, 1, 1, 0, 1, 1]), 2).double()
    ref = copy.deepcopy(net)
    N.fit_until(net, X, T, lr=0.5, batch_size=10, check_every=100, max_epochs=1, balanced=balanced)
    w = N.class_weights(T) if balanced else torch.ones(10)
    loss = (0.5 * (ref(X) - T).square().sum(1) * w).mean()
    grads = torch.autograd.grad(loss, list(ref.parameters()))
    for p, q, g in zip(net.parameters(), ref.parameters(), grads):
        torch.testing.assert_close(p, q - 0.5 * g, atol=1e-12, rtol=0)
    assert balanced == (not torch.allclose(w, torch.ones(10)))


def test_checked_export_keeps_its_masks_through_a_reload():
    net, X, T = tiny((6, 7, 8, 3), seed=2, n=20)
    masks = some_masks(net, ((0, 1), (0, 5), (1, 0)))
    model = N.checked_export(net, masks, "toy")
    kept = N.param_counts(net, masks)["weights_nonzero"]
    assert metrics.sparsity(model)["weights_unmasked"] == kept
    again = plmasks.load_state(N.SigmoidMLP(net.sizes).double(), plmasks.export_state(model))
    metrics.check_sparsity(again, kept, "reloaded")
    torch.testing.assert_close(again(X), net(X, masks), atol=1e-12, rtol=0)
    lost = N.SigmoidMLP(net.sizes).double()
    lost.load_state_dict(plmasks.export_state(model)["state"])  # the values, but not the masks
    with pytest.raises(AssertionError, match="mask"):
        metrics.check_sparsity(lost, kept, "lost")


# 9. the head-to-head Method: "neurons" and "neurons_ft" -------------------------------------------------------------


@pytest.fixture
def float32():
    """The Method runs on the suite's float32 networks (overrides the module's float64 default)."""
    torch.set_default_dtype(torch.float32)
    yield


@pytest.fixture
def splits():
    g = torch.Generator().manual_seed(0)

    def part(n):
        return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)

    return Splits(train=part(64), val=part(32), test=part(32))


def alive_units(model, layers):
    """Hidden units of the FC stack that still have incoming weights."""
    return sum(int((getattr(model, n).weight != 0).any(1).sum()) for n in layers[:-1])


def test_method_points_remove_neurons_and_cache(float32, splits):
    torch.manual_seed(0)
    dense = LeNet300100()
    plain, tuned = N.Neurons(n_score=32), N.Neurons(finetune=True, n_score=32)
    assert isinstance(plain, Method) and (plain.name, tuned.name) == ("neurons", "neurons_ft")
    assert (plain.family, plain.knob) == ("structured", "removed_fraction")
    pts = plain.points(dense, splits, values=[0.25, 0.5], budget=0.25)
    ft = tuned.points(dense, splits, values=[0.25, 0.5], budget=0.25)
    assert [p.method for p in pts + ft] == ["neurons"] * 2 + ["neurons_ft"] * 2
    assert [p.value for p in ft] == [0.25, 0.5] and [p.epochs for p in pts + ft] == [0.0, 0.0, 0.25, 0.25]
    for p, alive in zip(pts + ft, [300, 200, 300, 200]):
        assert all(plmasks.is_pruned(getattr(p.model, n)) for n in ("fc1", "fc2", "fc3"))
        assert alive_units(p.model, ["fc1", "fc2", "fc3"]) == alive  # also after fine-tuning
    assert not any(p.cache_hit for p in pts + ft)  # one shared ranking lookup: a miss for both kinds
    assert ft[0].seconds > pts[0].seconds == pts[1].seconds > 0
    again = plain.points(dense, splits, values=[0.25, 0.5], budget=0.25)
    ft_again = tuned.points(dense, splits, values=[0.25, 0.5], budget=0.25)
    assert all(p.cache_hit for p in again + ft_again)
    assert [p.seconds for p in again + ft_again] == [p.seconds for p in pts + ft]
    for a, b in zip(pts + ft, again + ft_again):
        assert all(
            torch.equal(x, y) for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values())
        )


def test_method_on_lenet5_fine_tune_first(float32, splits):
    torch.manual_seed(1)
    dense = LeNet5()
    ft = N.Neurons(finetune=True, n_score=16).points(dense, splits, values=[0.1], budget=0.25)
    pts = N.Neurons(n_score=16).points(dense, splits, values=[0.1], budget=0.25)
    assert not ft[0].cache_hit and pts[0].cache_hit  # the ranking neurons_ft computed is read from the cache
    assert alive_units(pts[0].model, ["fc1", "fc2"]) == alive_units(ft[0].model, ["fc1", "fc2"]) == 450
    assert not plmasks.is_pruned(pts[0].model.conv1)
