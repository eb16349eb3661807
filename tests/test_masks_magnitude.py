"""Masks and magnitude baselines, checked against torch.nn.utils.prune and hand counts."""

import copy

import pytest
import torch
from conftest import ConvBNNet
from torch import nn
from torch.nn.utils import prune

from pruning_lib import masks
from pruning_lib.methods import magnitude
from pruning_lib.models import LeNet300100
from pruning_lib.train import fit


def small_net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 5), nn.ReLU(), nn.Linear(5, 3))


@pytest.mark.parametrize("keep", [0.9, 0.5, 0.1, 37])
def test_global_magnitude_equals_prune_global_unstructured(keep):
    net = small_net()
    ours = magnitude.global_magnitude_masks(net, keep)
    ref = copy.deepcopy(net)
    layers = [(m, "weight") for m in masks.prunable_layers(ref).values()]
    total = sum(m.weight.numel() for m, _ in layers)
    amount = total - magnitude.n_keep(keep, total)
    prune.global_unstructured(layers, pruning_method=prune.L1Unstructured, amount=amount)
    for name, m in masks.prunable_layers(ref).items():
        assert torch.equal(ours[name], m.weight_mask.bool()), name


@pytest.mark.parametrize("keep", [0.75, 0.3, 0.08])
def test_layerwise_magnitude_equals_prune_l1_unstructured(keep):
    net = small_net(1)
    ours = magnitude.layerwise_magnitude_masks(net, keep)
    for name, m in masks.prunable_layers(copy.deepcopy(net)).items():
        prune.l1_unstructured(m, "weight", amount=1 - keep)
        assert torch.equal(ours[name], m.weight_mask.bool()), name


def test_random_masks_are_exact_and_seeded():
    net = LeNet300100()
    a = magnitude.random_masks(net, 0.1, seed=4)
    assert {n: int(m.sum()) for n, m in a.items()} == {"fc1": 23520, "fc2": 3000, "fc3": 100}
    assert all(torch.equal(a[n], m) for n, m in magnitude.random_masks(net, 0.1, seed=4).items())
    assert not torch.equal(a["fc1"], magnitude.random_masks(net, 0.1, seed=5)["fc1"])


def test_masks_combine_roundtrip_and_remove():
    net = small_net()
    m1 = magnitude.global_magnitude_masks(net, 0.5)
    masks.apply_masks(net, m1)
    m2 = magnitude.global_magnitude_masks(net, 0.25)
    masks.apply_masks(net, m2)
    got = masks.get_masks(net)
    assert all(torch.equal(got[n], m1[n] & m2[n]) for n in got)
    twin = small_net(9)
    masks.load_state(twin, masks.export_state(net))
    x = torch.randn(4, 6)
    assert torch.equal(twin(x), net(x))
    twin2 = masks.clone(net)  # a pruned model deep-copies, and the copy keeps its masks
    assert torch.equal(twin2(x), net(x)) and masks.is_pruned(twin2[0])
    masks.remove_masks(net)
    assert not any(masks.is_pruned(m) for m in masks.prunable_layers(net).values())
    assert torch.equal(net(x), twin(x))
    with pytest.raises(KeyError, match="not a prunable layer"):
        masks.apply_masks(net, {"nope": torch.ones(1)})


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_masks_stay_applied_through_retraining(opt):
    net = small_net()
    keep = {n: torch.rand_like(m.weight) > 0.5 for n, m in masks.prunable_layers(net).items()}
    masks.apply_masks(net, keep)
    before = {n: m.weight.detach().clone() for n, m in masks.prunable_layers(net).items()}
    X, y = torch.randn(64, 6), torch.randint(0, 3, (64,))
    fit(net, (X, y), epochs=20, batch_size=16, opt=opt, lr=0.05, weight_decay=5e-4, progress_bar=False)
    for n, m in masks.prunable_layers(net).items():
        assert torch.all(m.weight[~keep[n]] == 0)
        assert not torch.equal(m.weight[keep[n]], before[n][keep[n]])


def test_han_threshold_is_strict_and_quality_hits_the_count():
    lin = nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.5, -1.0, 2.0, -0.25]]))
    net = nn.Sequential(lin)
    m = magnitude.threshold_masks(net, 1.0, {"0": 1.0})
    assert m["0"].tolist() == [[False, False, True, False]]  # |w| == t is pruned
    assert torch.equal(m["0"], masks.mask_from_threshold(lin.weight, 1.0))
    net = LeNet300100()
    stds = magnitude.layer_stds(net)
    for keep in (100_000, 21_296, 5):
        q = magnitude.quality_for_keep(net, stds, keep)
        assert sum(int(v.sum()) for v in magnitude.threshold_masks(net, q, stds).values()) == keep


def test_han_prune_schedule_and_monotone_masks():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 4))
    X, y = torch.randn(200, 20), torch.randint(0, 4, (200,))
    net, hist = magnitude.han_prune(
        net,
        (X, y),
        r_final=0.1,
        iterations=3,
        retrain_epochs=1,
        test=(X, y),
        fit_kwargs={"progress_bar": False},
    )
    seen = hist["weights_pct"].tolist()
    assert seen == sorted(seen, reverse=True)
    assert hist["weights_pct"].iloc[-1] == pytest.approx(10.0, abs=0.5)
    assert list(hist["iteration"]) == [1, 2, 3] and "test_acc_retrained" in hist
    with pytest.raises(ValueError, match="published_ratios"):
        magnitude.han_prune(net, (X, y), mode="published_ratios")
    with pytest.raises(ValueError, match="mode"):
        magnitude.han_prune(net, (X, y), mode="nope")


def test_published_ratios_follow_hans_table():
    net = LeNet300100()
    X, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    net, hist = magnitude.han_prune(
        net,
        (X, y),
        iterations=1,
        retrain_epochs=1,
        mode="published_ratios",
        network="lenet300",
        fit_kwargs={"progress_bar": False},
    )
    row = hist.iloc[-1]
    assert (round(row["fc1_pct"]), round(row["fc2_pct"]), round(row["fc3_pct"])) == (8, 9, 26)


def test_keep_validation():
    assert magnitude.n_keep(0.5, 10) == 5 and magnitude.n_keep(3, 10) == 3
    with pytest.raises(ValueError):
        magnitude.n_keep(1.5, 10)
    with pytest.raises(ValueError):
        magnitude.n_keep(11, 10)


def test_clone_and_remove_handle_pruned_biases():
    net = small_net()
    prune.custom_from_mask(net[0], "bias", torch.tensor([1, 0, 1, 0, 1, 0, 1, 0]))
    masks.apply_masks(net, {"0": torch.rand(8, 6) > 0.5})
    x = torch.randn(3, 6)
    twin = masks.clone(net)
    assert torch.equal(twin(x), net(x)) and masks.pruned_names(twin[0]) == ["bias", "weight"]
    masks.remove_masks(twin)
    assert masks.pruned_names(twin[0]) == [] and torch.equal(twin(x), net(x))
    assert twin[0].bias[1] == 0 and isinstance(twin[0].bias, torch.nn.Parameter)


def test_masks_on_any_parameter_and_their_and():
    torch.manual_seed(0)
    net = ConvBNNet()
    assert [(type(m).__name__, n) for m, n in masks.maskable_tensors(net)] == [
        ("Conv2d", "weight"), ("Conv2d", "bias"), ("BatchNorm2d", "weight"), ("BatchNorm2d", "bias"),
        ("Linear", "weight"), ("Linear", "bias"),
    ]  # fmt: skip
    assert masks.get_mask(net.bn, "bias").all()  # no mask yet: all kept
    keep = torch.tensor([True, False, True, True])
    masks.and_mask(net.bn, "bias", keep)
    masks.and_mask(net.bn, "bias", torch.tensor([True, True, False, True]))
    assert masks.get_mask(net.bn, "bias").tolist() == [True, False, False, True]
    assert net.bn.bias.tolist()[1:3] == [0.0, 0.0] and masks.pruned_names(net.bn) == ["bias"]
    masks.install_masks(net)
    assert set(masks.pruned_tensors(net)) == {
        f"{m}.{n}" for m in ("conv", "bn", "fc") for n in ("weight", "bias")
    }
    assert masks.get_mask(net.bn, "bias").tolist() == [
        True,
        False,
        False,
        True,
    ]  # install keeps existing masks
    with torch.no_grad():
        net.fc.weight_orig.mul_(2)
    masks.refresh(net)
    assert torch.equal(net.fc.weight, net.fc.weight_orig * net.fc.weight_mask)


@pytest.mark.parametrize("raw", [False, True])
def test_export_load_roundtrip_of_every_pruned_tensor(raw):
    torch.manual_seed(0)
    net = ConvBNNet()
    masks.install_masks(net)
    g = torch.Generator().manual_seed(1)
    for m, n in masks.maskable_tensors(net):
        masks.and_mask(m, n, torch.rand(getattr(m, n).shape, generator=g) < 0.6)
    X, y = torch.randn(40, 1, 6, 6), torch.randint(0, 3, (40,))
    fit(net, (X, y), epochs=2, batch_size=10, opt="adam", lr=0.01, progress_bar=False)
    masks.refresh(net)
    net.eval()
    payload = masks.export_state(net, raw=raw)
    assert all(k in payload["state"] and not k.endswith(("_orig", "_mask")) for k in payload["masks"])
    for target in (ConvBNNet(), masks.install_masks(ConvBNNet())):  # unpruned twin, or one already masked
        twin = masks.load_state(target, payload).eval()
        assert torch.equal(twin(X), net(X))
        for q, (m, n) in masks.pruned_tensors(net).items():
            tm, _ = masks.pruned_tensors(twin)[q]
            assert torch.equal(masks.get_mask(tm, n), masks.get_mask(m, n))
            want = getattr(m, f"{n}_orig") if raw else getattr(m, n)
            assert torch.equal(getattr(tm, f"{n}_orig"), want)
    if not raw:  # the plain state loads into an unpruned twin as it is
        plain = ConvBNNet().eval()
        plain.load_state_dict(payload["state"])
        assert torch.equal(plain(X), net(X))


def test_export_after_an_optimiser_step_holds_the_trained_weights():
    torch.manual_seed(0)
    model = masks.apply_masks(nn.Sequential(nn.Linear(4, 3)), {"0": torch.rand(3, 4) > 0.5})
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    model(torch.randn(8, 4)).square().sum().backward()
    opt.step()  # no forward pass after the step: module.weight still holds the value from before it
    exported = masks.export_state(model)["state"]["0.weight"]
    assert torch.equal(exported, model[0].weight_orig.detach() * model[0].weight_mask)
    x = torch.randn(5, 4)
    assert torch.equal(
        masks.load_state(nn.Sequential(nn.Linear(4, 3)), masks.export_state(model))(x), model(x)
    )


def test_remove_masks_keeps_each_tensors_memory_layout():
    """prune.remove's product with a contiguous mask drops LeNet5's channels-last layout; remove_masks keeps it."""
    from pruning_lib.models import LeNet5

    model = LeNet5()
    for m in (model.conv2, model.fc1):
        torch.nn.utils.prune.custom_from_mask(m, "weight", torch.rand_like(m.weight) > 0.5)
    expected = {n: model.get_submodule(n).weight_orig.stride() for n in ("conv2", "fc1")}
    masks.remove_masks(model)
    assert {n: model.get_submodule(n).weight.stride() for n in expected} == expected
    assert model.conv2.weight.is_contiguous(memory_format=torch.channels_last)
