"""Models and metrics: parameter counts, compression of a hand-built mask, FLOPs against closed forms."""

import pytest
import torch
from torch import nn

from pruning_lib import masks, metrics
from pruning_lib.models import MLP, LeNet5, LeNet300100, build_model


def test_parameter_counts():
    c = metrics.counts(LeNet300100())
    assert (c["params"], c["weights"]) == (266_610, 266_200)
    c = metrics.counts(LeNet5())
    assert (c["params"], c["weights"]) == (431_080, 430_500)
    c = metrics.counts(MLP([4, 10, 10, 2], "silu"))
    assert (c["params"], c["weights"]) == (182, 160)


def test_lenet5_fast_forward_is_conv_relu_pool():
    """The channels-last, pool-before-ReLU forward equals the textbook one, in values and in gradients."""
    torch.manual_seed(0)
    x, y = torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))
    ref = LeNet5().to(memory_format=torch.contiguous_format)
    F = torch.nn.functional

    def textbook(m, x):
        h = F.max_pool2d(F.relu(m.conv1(x)), 2)
        h = F.max_pool2d(F.relu(m.conv2(h)), 2).flatten(1)
        return m.fc2(F.relu(m.fc1(h)))

    net = LeNet5()
    net.load_state_dict(ref.state_dict())
    out, expected = net(x), textbook(ref, x)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
    F.cross_entropy(out, y).backward()
    F.cross_entropy(expected, y).backward()
    for (name, p), q in zip(net.named_parameters(), ref.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-6, msg=name)
    assert net.conv2.weight.is_contiguous(memory_format=torch.channels_last)
    torch.nn.utils.prune.l1_unstructured(
        ref.conv2, "weight", 0.5
    )  # the contiguous copy works with torch's prune
    assert int(ref.conv2.weight_mask.sum()) == ref.conv2.weight.numel() // 2


def test_model_shapes_and_errors():
    x = torch.zeros(3, 1, 28, 28)
    assert LeNet300100()(x).shape == (3, 10)
    assert LeNet5()(x).shape == (3, 10) and LeNet5().features(x).shape == (3, 800)
    assert build_model("lenet5").fc2.out_features == 10
    with pytest.raises(ValueError, match="lenet300"):
        build_model("alexnet")
    with pytest.raises(ValueError, match="activation"):
        MLP([2, 3], "gelu")


def test_compression_of_a_hand_built_mask():
    layer = nn.Linear(4, 3)
    with torch.no_grad():
        layer.weight.fill_(1.0)
        layer.bias.fill_(1.0)
    keep = torch.zeros(3, 4, dtype=torch.bool)
    keep[0, 0] = keep[1, 2] = keep[2, 3] = True
    model = nn.Sequential(layer)
    masks.apply_masks(model, {"0": keep})
    c = metrics.counts(model)
    assert (c["weights"], c["weights_nonzero"], c["params"], c["params_nonzero"]) == (12, 3, 15, 6)
    assert c["compression_weights"] == 4.0 and c["compression_params"] == 2.5
    assert c["weights_pct"] == 25.0


def test_flops_linear_and_conv_closed_forms():
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
    model = nn.Sequential(conv, nn.Flatten(), nn.Linear(8 * 9 * 9, 5))
    t = metrics.layer_table(model, (3, 17, 17))
    h = (17 + 2 * 1 - 3) // 2 + 1
    assert t.loc[0, "flops_dense"] == 2 * (3 * 3 * 3) * 8 * h * h
    assert t.loc[1, "flops_dense"] == 2 * 8 * h * h * 5
    keep = torch.rand(8, 3, 3, 3) > 0.5
    masks.apply_masks(model, {"0": keep})
    t = metrics.layer_table(model, (3, 17, 17))
    assert t.loc[0, "flops_effective"] == 2 * int(keep.sum()) * h * h
    assert t.loc[2, "flops_dense"] == t.loc[:1, "flops_dense"].sum()
    assert t.loc[2, "nonzero"] == t.loc[:1, "nonzero"].sum()


def test_lenet_flops_match_han_tables():
    t = metrics.layer_table(LeNet5()).set_index("layer")
    assert t["flops_dense"].to_dict() == {
        "conv1": 576_000,
        "conv2": 3_200_000,
        "fc1": 800_000,
        "fc2": 10_000,
        "total": 4_586_000,
    }
    assert metrics.flops(LeNet300100())["dense"] == 532_400


def test_grouped_conv_and_sequence_linear():
    conv = nn.Conv2d(4, 8, 3, groups=2)
    t = metrics.layer_table(nn.Sequential(conv), (4, 5, 5))
    assert t.loc[0, "flops_dense"] == 2 * (2 * 9 * 8) * 9
    lin = nn.Sequential(nn.Linear(6, 2))
    assert metrics.layer_table(lin, (7, 6)).loc[0, "flops_dense"] == 2 * 12 * 7


def test_flops_of_a_batchnorm_model_in_train_mode():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 26 * 26, 2)
    )
    model.train()
    t = metrics.layer_table(model)
    assert t.loc[0, "flops_dense"] == 2 * 9 * 4 * 26 * 26 and model.training


def test_mask_counts_and_masked_flops_count_by_mask():
    model = LeNet5()
    c = metrics.mask_counts(model)
    assert (c["params"], c["weights"], c["params_pct"], c["cr_params"]) == (431_080, 430_500, 100.0, 1.0)
    assert metrics.masked_flops(model) == metrics.flops(model)["dense"]
    keep = torch.zeros(10, 500, dtype=torch.bool)
    keep[:, :50] = True
    masks.apply_masks(model, {"fc2": keep})
    masks.and_mask(model.fc2, "bias", torch.arange(10) < 5)
    with torch.no_grad():
        model.fc2.weight_orig[0, 0] = 0.0  # an exact zero that is kept: counted by mask, not by value
    c = metrics.mask_counts(model)
    assert c["weights_unmasked"] == 430_500 - 4500 and c["params_unmasked"] == 431_080 - 4500 - 5
    assert c["layer_weights_pct"]["fc2"] == 10.0 and c["cr_weights"] == 430_500 / (430_500 - 4500)
    assert metrics.masked_flops(model) == metrics.flops(LeNet5())["dense"] - 2 * 4500
    positions = metrics.output_positions(model, (1, 28, 28))
    assert metrics.masked_flops(model, positions=positions) == metrics.masked_flops(model)
    empty = nn.Sequential(nn.Linear(3, 2))
    masks.apply_masks(empty, {"0": torch.zeros(2, 3, dtype=torch.bool)})
    masks.and_mask(empty[0], "bias", torch.zeros(2, dtype=torch.bool))
    assert metrics.mask_counts(empty)["cr_params"] == 8.0  # total / max(unmasked, 1)


def test_textbook_lenet5_is_the_same_function_and_the_benchmark_reports_both():
    from pruning_lib import bench

    torch.manual_seed(0)
    fast = LeNet5()
    slow = bench.TextbookLeNet5()
    slow.load_state_dict(fast.state_dict())
    x = torch.randn(4, 1, 28, 28)
    torch.testing.assert_close(slow(x), fast(x), rtol=1e-5, atol=1e-5)
    assert slow.conv2.weight.is_contiguous() and not slow.conv2.weight.is_contiguous(
        memory_format=torch.channels_last
    )
    X, y = torch.randn(96, 1, 28, 28), torch.randint(0, 10, (96,))
    b = bench.lenet5_layouts((X, y), steps=2, batch=32, rounds=1)
    assert b["textbook_epoch_s"] > 0 and b["channels_last_pool_first_epoch_s"] > 0
    assert b["speedup"] == b["textbook_epoch_s"] / b["channels_last_pool_first_epoch_s"]


def test_masked_lenet5_stays_channels_last_after_conv1():
    """A masked conv1 weight (contiguous strides) must not send pooling and conv2 onto the NCHW layout."""
    torch.manual_seed(0)
    net = LeNet5()
    torch.nn.utils.prune.custom_from_mask(net.conv1, "weight", torch.rand(20, 1, 5, 5) > 0.5)
    seen = []
    net.conv2.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    plain = LeNet5()
    plain.load_state_dict({k.replace("_orig", ""): v for k, v in net.state_dict().items() if "mask" not in k}
                          | {"conv1.weight": net.conv1.weight.detach()})  # fmt: skip
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(net(x), plain(x), rtol=1e-5, atol=1e-6)
    assert seen[0].is_contiguous(memory_format=torch.channels_last) and not seen[0].is_contiguous()


def test_masked_conv1_runs_channels_last_and_matches_the_plain_weight():
    """Conv2dCL restrides a masked one-channel weight, so conv1 itself answers channels-last (no NCHW kernel)."""
    torch.manual_seed(0)
    net = LeNet5()
    torch.nn.utils.prune.custom_from_mask(net.conv1, "weight", torch.rand(20, 1, 5, 5) > 0.5)
    assert net.conv1.weight.stride(1) != 1  # W * mask: NCHW strides, the case the class exists for
    out = []
    net.conv1.register_forward_hook(lambda m, args, o: out.append(o))
    plain = LeNet5()
    plain.load_state_dict({k.replace("_orig", ""): v for k, v in net.state_dict().items() if "mask" not in k}
                          | {"conv1.weight": net.conv1.weight.detach()})  # fmt: skip
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(net(x), plain(x))  # the same kernel as the plain channels-last weight: bit-equal
    assert out[0].stride(1) == 1 and not out[0].is_contiguous()
    net.conv1.weight_orig.grad = None
    net(x).sum().backward()  # the clone is differentiable: the gradient reaches the unmasked weight
    assert net.conv1.weight_orig.grad is not None and net.conv1.weight_orig.grad.abs().sum() > 0
