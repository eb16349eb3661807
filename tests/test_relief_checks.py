"""NNrelief's checks that can fail (alpha share of live units, constant units), the operating-point rules and
per-image correctness."""

import copy

import pandas as pd
import pytest
import torch

from pruning_lib import masks
from pruning_lib.methods import relief as R
from pruning_lib.models import MLP, LeNet5
from pruning_lib.train import evaluate


def test_kept_share_holds_alpha_and_fails_when_a_strong_weight_goes():
    torch.manual_seed(0)
    net, X = MLP([12, 8, 6, 3]), torch.rand(40, 12)
    before = masks.install_masks(copy.deepcopy(net))
    after = masks.install_masks(copy.deepcopy(net))
    R.prune_step(after, X, alpha_fc=0.8)
    shares = R.kept_share(before, after, X)
    assert set(shares) == {"1", "3", "5"} and all(len(s) for s in shares.values())
    assert min(float(s.min()) for s in shares.values()) >= 0.8 - 1e-12
    assert max(float(s.max()) for s in shares.values()) <= 1 + 1e-12
    fc = after[
        1
    ]  # cut the strongest kept candidate of a live unit: the share of a minimal set falls below alpha
    cand = R.candidates(*R.fc_scores(before[1].weight, before[1].bias, X))
    kept = torch.cat([masks.get_mask(fc), masks.get_mask(fc, "bias")[:, None]], 1)
    j = int(kept.any(1).nonzero()[0])
    k = int((cand[j] * kept[j]).argmax())
    name, keep = (
        ("bias", torch.ones(8, dtype=torch.bool))
        if k == 12
        else ("weight", torch.ones(8, 12, dtype=torch.bool))
    )
    keep[(j,) if k == 12 else (j, k)] = False
    masks.and_mask(fc, name, keep)
    live = kept.any(1)
    assert float(R.kept_share(before, after, X)["1"][int(live[:j].sum())]) < 0.8


def test_kept_share_on_lenet5_after_a_pruning_call():
    torch.manual_seed(0)
    net, X = LeNet5(), torch.rand(16, 1, 28, 28)
    before = masks.install_masks(copy.deepcopy(net))
    after = masks.install_masks(copy.deepcopy(net))
    R.prune_step(after, X, 0.9, 0.95)
    shares = R.kept_share(before, after, X)
    assert list(shares) == ["conv1", "conv2", "fc1"]
    assert float(shares["conv2"].min()) >= 0.9 - 1e-9 and float(shares["fc1"].min()) >= 0.95 - 1e-9
    with torch.no_grad():  # retraining moves the kept weights; the shares are of the network the call saw
        for m in (after.conv1, after.conv2, after.fc1):
            m.weight_orig.mul_(torch.rand_like(m.weight_orig) * 4)
        masks.refresh(after)
    retrained = R.kept_share(before, after, X)
    assert all(torch.allclose(retrained[k], shares[k]) for k in shares)


def test_constant_units_on_a_hand_built_net():
    net = masks.install_masks(MLP([4, 3, 2]))
    fc1, fc2 = net[1], net[3]
    assert R.constant_units(net) == {"1": 0}
    w = torch.ones(3, 4, dtype=torch.bool)
    w[0] = False  # unit 0: every incoming weight pruned, bias alive, read by fc2: a constant output
    masks.and_mask(fc1, "weight", w)
    assert R.constant_units(net) == {"1": 1}
    cols = torch.ones(2, 3, dtype=torch.bool)
    cols[:, 0] = False  # nobody reads it any more
    masks.and_mask(fc2, "weight", cols)
    assert R.constant_units(net) == {"1": 0}
    net2 = masks.install_masks(MLP([4, 3, 2]))
    masks.and_mask(net2[1], "weight", w)
    masks.and_mask(net2[1], "bias", torch.tensor([False, True, True]))  # no bias: it outputs 0, not constant
    assert R.constant_units(net2) == {"1": 0}


def test_constant_units_conv_to_fc():
    net = masks.install_masks(LeNet5())
    keep = torch.ones_like(net.conv2.weight, dtype=torch.bool)
    keep[7] = False  # filter 7 of conv2 loses every kernel; its 16 features stay read by fc1
    masks.and_mask(net.conv2, "weight", keep)
    assert R.constant_units(net) == {"conv1": 0, "conv2": 1, "fc1": 0}


def history(vals):
    return pd.DataFrame({"iteration": range(len(vals)), "val_acc": vals})


def test_operating_point_rules():
    h = history([0.980, 0.979, 0.970, 0.978, 0.960])  # iteration 2 misses a 0.5 pp tolerance, 3 is back in
    assert R.operating_point(h, 0.5) == (1, True)
    assert R.operating_point(h, 0.5, "stop_at_first_miss") == (1, True)
    assert R.operating_point(h, 0.5, "sparsest_within") == (3, True)
    assert R.operating_point(history([0.98, 0.97, 0.978]), 0.5) == (1, False)
    assert R.operating_point(history([0.98, 0.97, 0.978]), 0.5, "sparsest_within") == (2, True)
    with pytest.raises(ValueError, match="stop_at_first_miss"):
        R.operating_point(h, 0.5, "best")


def test_correct_matches_evaluate():
    torch.manual_seed(0)
    net, X, y = MLP([5, 4, 3]), torch.rand(37, 5), torch.randint(0, 3, (37,))
    net.train()
    hits = R.correct(net, X, y, batch_size=10)
    assert hits.dtype == torch.bool and hits.shape == (37,) and net.training
    assert float(hits.float().mean()) == pytest.approx(evaluate(net, X, y)["acc"])
