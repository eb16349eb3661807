"""NNrelief (Dekhovich et al. 2024): scores, alpha cut, dead rule, sweeps, masks on any parameter, CIFAR code paths."""

import copy

import pytest
import torch
import torch.nn.functional as F
from conftest import ConvBNNet
from torch import nn

from pruning_lib import masks, metrics
from pruning_lib.methods import relief as R
from pruning_lib.models import MLP, MODELS, LeNet5, LeNet300100, ResNet20, VGGLike, build_model, kaiming_init
from pruning_lib.train import fit


def conv_bias_counts(model):
    """Conv + FC weights and biases (what the paper counts; BN excluded)."""
    return sum(p.numel() for m in masks.prunable_layers(model).values() for p in m.parameters())


# FC score against a hand computation -------------------------------------------------------------------


def test_fc_scores_by_hand():
    A = torch.tensor([[1.0, 0, 2], [3, 0, -2]])
    W = torch.tensor([[0.5, -1, 0.25], [-2, 3, 1]])
    b = torch.tensor([-1.0, 0.5])
    C, cb = R.fc_scores(W, b, A)
    direct = (W[None] * A[:, None, :]).abs().mean(0)  # (1/N) sum_n |W_ji a_ni|
    torch.testing.assert_close(C, direct)
    cand = R.candidates(C, cb)
    torch.testing.assert_close(cand, torch.tensor([[1.0, 0, 0.5, 1], [4, 0, 2, 0.5]]))
    s = cand / cand.sum(1, keepdim=True)
    torch.testing.assert_close(s[0], torch.tensor([0.4, 0, 0.2, 0.4]))
    assert cand[1].sum() == 6.5
    want = torch.tensor([[True, False, False, True], [True, False, True, False]])
    assert torch.equal(R.alpha_cut(cand, 0.7, "paper"), want)
    assert torch.equal(R.alpha_cut(cand, 0.7, "code"), want)


# alpha cut = minimal prefix ----------------------------------------------------------------------------


def test_alpha_cut_is_the_minimal_prefix():
    g = torch.Generator().manual_seed(0)
    c = torch.rand(50, 30, generator=g) ** 3
    for alpha in (0.5, 0.9, 0.95, 0.99):
        keep = R.alpha_cut(c, alpha)
        for row, k in zip(c, keep):
            srt = row.sort(descending=True).values.double()
            p0 = int(k.sum())
            assert torch.equal(k, row >= srt[p0 - 1])  # the kept set is the top p0 items
            assert srt[:p0].sum() >= alpha * srt.sum()
            assert srt[: p0 - 1].sum() < alpha * srt.sum()  # dropping its weakest member falls below alpha
        assert torch.equal(R.kept_count(c, alpha), keep.sum(1))


@pytest.mark.parametrize(
    "row, alpha, paper, code",
    [
        ([5, 3, 1, 1], 0.75, [1, 1, 0, 0], [1, 1, 0, 0]),
        ([5, 3, 1, 1], 0.85, [1, 1, 1, 1], [1, 1, 0, 0]),  # ties at the threshold: paper keeps, code prunes
        ([6, 3, 1], 0.99, [1, 1, 1], [1, 1, 0]),  # all needed: the code still drops the weakest
        ([0, 0, 0], 0.9, [0, 0, 0], [0, 0, 0]),  # an all-zero row keeps nothing
    ],
)
def test_alpha_cut_documented_cases(row, alpha, paper, code):
    c = torch.tensor([row], dtype=torch.float32)
    assert R.alpha_cut(c, alpha, "paper")[0].tolist() == [bool(v) for v in paper]
    assert R.alpha_cut(c, alpha, "code")[0].tolist() == [bool(v) for v in code]


def test_alpha_cut_rejects_unknown_cut():
    with pytest.raises(ValueError, match="paper"):
        R.alpha_cut(torch.ones(1, 2), 0.9, "exact")


# conv score via grouped conv equals a naive loop --------------------------------------------------------


def naive_conv_scores(K, b, x, stride, padding, order, agg):
    n, c_in = x.shape[:2]
    c_out = K.shape[0]
    xs = x.abs() if order == "mean_of_norm" else x.abs().mean(0, keepdim=True)
    C = torch.zeros(c_out, c_in, dtype=torch.float64)
    for s in range(xs.shape[0]):
        for j in range(c_out):
            for i in range(c_in):
                m = F.conv2d(xs[s, i][None, None], K[j, i].abs()[None, None], stride=stride, padding=padding)
                C[j, i] += (m.norm() if agg == "fro" else m.sum()).double()
    C /= xs.shape[0]
    hw = m.shape[-1] * m.shape[-2]
    return C.float(), b.abs() * (hw**0.5 if agg == "fro" else hw)


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", [0, 1])
@pytest.mark.parametrize("order", R.CONV_ORDERS)
@pytest.mark.parametrize("agg", R.CONV_AGGS)
def test_conv_scores_equal_naive_loop(stride, padding, order, agg):
    g = torch.Generator().manual_seed(stride * 10 + padding)
    K, b = torch.randn(3, 2, 3, 3, generator=g), torch.randn(3, generator=g)
    x = torch.randn(4, 2, 7, 7, generator=g)
    want, want_b = naive_conv_scores(K, b, x, stride, padding, order, agg)
    for chunk in (R.CHUNK_FLOATS, 1, 40):  # one pass; one sample per chunk; uneven chunks
        C, cb = R.conv_scores(K, b, x, stride, padding, order, agg, chunk=chunk)
        torch.testing.assert_close(C, want, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(cb, want_b, rtol=1e-5, atol=1e-6)
    if order == "mean_of_norm" and agg == "fro":  # Jensen: the code's order never exceeds the paper's
        C2, _ = R.conv_scores(K, b, x, stride, padding, "norm_of_mean", "fro")
        assert bool((C2 <= C + 1e-5).all())


def test_conv_scores_bias_free():
    C, cb = R.conv_scores(torch.randn(4, 3, 3, 3), None, torch.randn(2, 3, 6, 6), 1, 1)
    assert cb is None and C.shape == (4, 3) and R.candidates(C, cb).shape == (4, 3)


# dead rule and backward sweep ---------------------------------------------------------------------------


def tiny_mlp():
    torch.manual_seed(0)
    net = MLP([4, 3, 3, 2])
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                m.weight.copy_(torch.rand_like(m.weight) + 0.1)
                m.bias.fill_(0.1)
    return net


def test_dead_unit_loses_row_and_bias_but_a_unit_firing_once_is_kept():
    net = tiny_mlp()
    X = torch.rand(6, 4) + 0.1
    with torch.no_grad():
        net[1].bias[2] = -100.0  # h1[2] never fires
        net[1].weight[1] = torch.tensor([1.0, 0, 0, 0])  # h1[1] fires on the largest x0 only
        net[1].bias[1] = -float(X[:, 0].sort().values[-2]) - 1e-3
    h1 = F.relu(net[1](X))
    assert (h1[:, 1] > 0).sum() == 1 and (h1[:, 2] == 0).all()
    R.prune_step(net, X, alpha_fc=1.0, sweep=False)
    fc1 = net[1]
    assert not masks.get_mask(fc1)[2].any() and not masks.get_mask(fc1, "bias")[2]
    assert masks.get_mask(fc1)[1, 0] and masks.get_mask(fc1, "bias")[1]
    assert masks.get_mask(fc1)[0].all() and masks.get_mask(fc1, "bias")[0]
    assert masks.get_mask(net[5]).all()  # output units are never removed by the dead rule


def test_backward_sweep_removes_exactly_the_orphans():
    net = masks.install_masks(tiny_mlp())
    fc1, fc2, fc3 = net[1], net[3], net[5]
    masks.and_mask(
        fc2, "weight", torch.tensor([[0, 1, 1], [1, 1, 1], [0, 1, 1]], dtype=torch.bool)
    )  # h1[0] feeds h2[1] only
    masks.and_mask(fc3, "weight", torch.tensor([[1, 0, 1], [1, 0, 1]], dtype=torch.bool))  # W3[:, 1] masked
    want = {
        (i, n): masks.get_mask(m, n).clone()
        for i, m in enumerate((fc1, fc2, fc3))
        for n in ("weight", "bias")
    }
    want[(1, "weight")][1] = False  # h2[1]: nobody reads it
    want[(1, "bias")][1] = False
    want[(0, "weight")][0] = False  # h1[0] fed only h2[1]: it goes in the same sweep
    want[(0, "bias")][0] = False
    R.backward_sweep(net)
    for (i, n), mask in want.items():  # and no other mask entry changes
        assert torch.equal(masks.get_mask((fc1, fc2, fc3)[i], n), mask), (i, n)


def test_lenet5_sweep_across_conv_fc_boundary_and_between_convs():
    net = masks.install_masks(LeNet5())
    c, d = 7, 3
    keep = torch.ones(500, 800, dtype=torch.bool)
    keep[:, 16 * c : 16 * c + 16] = False
    masks.and_mask(net.fc1, "weight", keep)
    keep2 = torch.ones(50, 20, 5, 5, dtype=torch.bool)
    keep2[:, d] = False
    masks.and_mask(net.conv2, "weight", keep2)
    removed = R.backward_sweep(net)
    assert R.unit_alive(net.conv2).tolist() == [i != c for i in range(50)]
    assert not masks.get_mask(net.conv2, "bias")[c] and masks.get_mask(net.conv2, "bias").sum() == 49
    assert R.unit_alive(net.conv1).tolist() == [i != d for i in range(20)]
    assert not masks.get_mask(net.conv1, "bias")[d]
    assert removed == {"fc1": 0, "conv2": 1, "conv1": 1}


# masks stay applied through retraining -------------------------------------------------------------------


def random_half_masks(net, seed=0):
    g = torch.Generator().manual_seed(seed)
    masks.install_masks(net)
    for m, n in masks.maskable_tensors(net):
        masks.and_mask(m, n, torch.rand(getattr(m, n).shape, generator=g) < 0.5)


def effective(net):
    return {n: t.detach().clone() for n, t in metrics_named(net)}


def metrics_named(net):
    for name, t, _ in metrics.effective_parameters(net):
        yield name, t


@pytest.mark.parametrize("opt", ["adam", "sgd"])
@pytest.mark.parametrize("make", [lambda: MLP([6, 8, 3]), ConvBNNet])
def test_masks_survive_training_checkpoint_and_rewind(opt, make):
    torch.manual_seed(0)
    net = make()
    theta0 = copy.deepcopy(net.state_dict())
    random_half_masks(net)
    shape = (6,) if isinstance(net, MLP) else (1, 6, 6)
    X, y = torch.randn(200, *shape), torch.randint(0, 3, (200,))
    before = effective(net)
    kept = {(id(m), n): masks.get_mask(m, n).clone() for m, n in masks.maskable_tensors(net)}
    fit(
        net,
        (X, y),
        epochs=20 * 10 / 200,
        batch_size=10,
        opt=opt,
        lr=0.05 if opt == "sgd" else 0.01,
        weight_decay=5e-4,
        schedule="constant",
        val=(X[:50], y[:50]),
        progress_bar=False,
    )
    masks.refresh(net)
    after = effective(net)
    for m, n in masks.maskable_tensors(net):
        keep = kept[(id(m), n)]
        assert torch.equal(masks.get_mask(m, n), keep)  # the checkpoint reload kept the masks
        assert (getattr(m, n)[~keep] == 0).all()
    changed = [bool((after[k] != before[k]).any()) for k in after]
    assert all(changed), "every parameter tensor has unpruned entries that trained"
    R.rewind(net, theta0)
    for qual, m in net.named_modules():
        for n in ("weight", "bias"):
            if (id(m), n) in kept:
                keep = kept[(id(m), n)]
                assert (getattr(m, n)[~keep] == 0).all()
                torch.testing.assert_close(getattr(m, n)[keep], theta0[f"{qual}.{n}"][keep])


# parameter counts and dense structured FLOPs ---------------------------------------------------------------


def test_parameter_counts_and_dense_flops():
    for name, want in (
        ("lenet300", 266_610),
        ("lenet5", 431_080),
        ("vgg_like", 14_982_474),
        ("resnet20", 268_346),
    ):
        assert conv_bias_counts(build_model(name)) == want, name
    r = metrics.mask_counts(LeNet300100())
    assert (r["params"], r["weights"], r["params_pct"]) == (266_610, 266_200, 100.0)
    r = metrics.mask_counts(LeNet5())
    assert (r["params"], r["weights"]) == (431_080, 430_500)
    assert (
        metrics.mask_counts(ResNet20())["params"] == 268_346
        and metrics.mask_counts(ResNet20())["weights"] == 268_336
    )
    assert R.structured_flops(LeNet300100()) == 531_990
    assert R.structured_flops(LeNet5()) == 4_614_930
    assert metrics.masked_flops(LeNet5()) == metrics.flops(LeNet5())["dense"]
    assert {"vgg_like", "resnet20"} <= set(MODELS)


def test_remaining_matches_nonzero_counts_after_a_step():
    torch.manual_seed(0)
    net = R.theta0("lenet5", 0)
    R.prune_step(net, torch.rand(32, 1, 28, 28))
    r, c = metrics.mask_counts(net), metrics.counts(net)
    assert r["params_unmasked"] == c["params_nonzero"] and r["weights_unmasked"] == c["weights_nonzero"]
    assert r["params_pct"] < 100


# CIFAR code paths on random tensors -------------------------------------------------------------------------


def test_removed_filter_bn_output_is_zero_in_train_and_eval():
    torch.manual_seed(0)
    net = VGGLike(width=1 / 8)
    masks.install_masks(net)
    conv, bn = net.features[0], net.features[1]
    units = torch.zeros(conv.out_channels, dtype=torch.bool)
    units[2] = True
    R.remove_units(conv, units, bn)
    x = torch.randn(8, 3, 32, 32)
    for train in (True, False):
        net.train(train)
        assert (bn(conv(x))[:, 2] == 0).all()


def test_skip_rule_removes_a_silent_branch_and_a_silent_shortcut():
    torch.manual_seed(0)
    net = masks.install_masks(ResNet20()).eval()
    blk = net.layer1[1]
    k = 5
    with torch.no_grad():
        blk.bn2.weight_orig[k] = 0.0  # a_k = 0: BN2 gamma = beta = 0
        blk.bn2.bias_orig[k] = 0.0
    masks.refresh(net)
    X = torch.rand(8, 3, 32, 32)
    R.prune_step(net, X, 0.95, 0.99, sweep=False)
    assert not R.unit_alive(blk.conv2)[k]
    # a block-input channel that is zero on every sample gives r_k = 0 and turns shortcut k off
    net = masks.install_masks(ResNet20()).eval()
    units = torch.zeros(16, dtype=torch.bool)
    units[3] = True
    R.remove_units(net.conv1, units, net.bn1)  # stem channel 3 is 0 everywhere -> block1 input channel 3
    net.layer1[0].shortcut.mask.fill_(1.0)
    R.prune_step(net, X, 0.95, 0.99, sweep=False)
    assert net.layer1[0].shortcut.mask[3] == 0


def test_resnet_sweep_uses_the_downsampling_window():
    net = masks.install_masks(ResNet20())
    blk = net.layer2[0]  # 16 -> 32 channels; block-input channel c <-> shortcut channel 8 + c
    c = 4
    keep = torch.ones_like(blk.conv1.weight, dtype=torch.bool)
    keep[:, c] = False
    masks.and_mask(blk.conv1, "weight", keep)
    blk.shortcut.mask[8 + c] = 0.0
    blk.shortcut.mask[c] = 0.0  # outside the window: must not matter
    keep = torch.ones_like(blk.conv1.weight, dtype=torch.bool)
    R.backward_sweep(net)
    prev = net.layer1[2]
    assert R.unit_alive(prev.conv2).tolist() == [i != c for i in range(16)]
    assert prev.shortcut.mask.tolist() == [float(i != c) for i in range(16)]
    assert not masks.get_mask(prev.bn2)[c] and not masks.get_mask(prev.bn2, "bias")[c]
    # a channel whose shortcut is on stays, even without conv1 kernels
    net = masks.install_masks(ResNet20())
    keep = torch.ones_like(net.layer2[0].conv1.weight, dtype=torch.bool)
    keep[:, c] = False
    masks.and_mask(net.layer2[0].conv1, "weight", keep)
    R.backward_sweep(net)
    assert R.unit_alive(net.layer1[2].conv2).all()


@pytest.mark.parametrize("make", [lambda: VGGLike(width=1 / 8), ResNet20])
def test_full_prune_step_on_cifar_models(make):
    torch.manual_seed(0)
    net = kaiming_init(make(), 0)
    X = torch.rand(16, 3, 32, 32)
    stats = R.prune_step(net, X, 0.95, 0.95 if isinstance(net, VGGLike) else 0.99)
    r = metrics.mask_counts(net)
    assert 0 < r["params_pct"] < 100 and "swept" in stats
    assert R.structured_flops(net) < R.structured_flops(make())
    net.train()
    net(X).sum().backward()  # still trainable
    opts = R.variant_options("code", net)
    assert opts == {"cut": "code", "conv_order": "norm_of_mean", "conv_agg": "fro"}
    R.prune_step(net, X, 0.95, 0.95, **opts)


def test_plan_forward_matches_model_forward():
    torch.manual_seed(0)
    for net, x in (
        (LeNet5(), torch.rand(3, 1, 28, 28)),
        (VGGLike(width=1 / 8).eval(), torch.rand(3, 3, 32, 32)),
    ):
        p = R.plan(net)
        out = p.fcs[-1].fc(F.relu(p.fcs[0].fc(R.conv_forward(p, x)))) if len(p.fcs) == 2 else None
        if isinstance(net, VGGLike):
            out = net.classifier(R.conv_forward(p, x))
        torch.testing.assert_close(out, net(x))
