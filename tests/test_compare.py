"""The head-to-head harness: every registered method yields measured points through one loop, cached on rerun."""

import pytest
import torch

from pruning_lib import compare, masks
from pruning_lib.data import Splits
from pruning_lib.methods import gumbel
from pruning_lib.models import LeNet5, LeNet300100


@pytest.fixture
def splits():
    g = torch.Generator().manual_seed(0)

    def part(n):
        return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)

    return Splits(train=part(256), val=part(64), test=part(64))


def points(dense, splits, plan, seed=0):
    return compare.operating_points(dense, splits, plan, seed=seed)


def test_oneshot_and_han_points(splits):
    torch.manual_seed(0)
    dense = LeNet300100()
    pts = points(dense, splits, {"magnitude_global": {"values": [2, 8]}, "random": {"values": [4]}})
    rows = [compare.measure(p, "lenet300", 0, splits) for p in pts]
    assert [round(r["compression_weights"]) for r in rows] == [2, 8, 4]
    assert rows[0]["speedup_theoretical"] == pytest.approx(2, rel=0.01) and rows[0]["epochs"] == 0
    han = points(dense, splits, {"han": {"values": [2, 4, 8], "budget": 0.25}})
    assert [p.value for p in han] == [2.0, 4.0, 8.0] and not han[0].cache_hit
    assert [p.epochs for p in han] == [0.25, 0.5, 0.75]
    assert [round(compare.measure(p, "lenet300", 0, splits)["compression_weights"]) for p in han] == [2, 4, 8]
    assert han[2].seconds >= han[0].seconds > 0
    assert all(p.cache_hit for p in points(dense, splits, {"han": {"values": [2, 4, 8], "budget": 0.25}}))


def test_unknown_method_names_the_registered_ones(splits):
    with pytest.raises(ValueError, match="registered"):
        points(LeNet300100(), splits, {"magnitude": {"values": [2]}})


def test_neuron_points_remove_whole_units(splits):
    torch.manual_seed(0)
    dense = LeNet300100()
    plan = {
        "neurons": {"values": [0.5], "n_score": 64},
        "neurons_ft": {"values": [0.5], "budget": 0.25, "n_score": 64},
    }
    pts = points(dense, splits, plan)
    assert [p.method for p in pts] == ["neurons", "neurons_ft"] and [p.epochs for p in pts] == [0, 0.25]
    for p in pts:
        rows_alive = (p.model.fc1.weight != 0).any(1).sum() + (p.model.fc2.weight != 0).any(1).sum()
        assert rows_alive == 200  # half of the 400 hidden units are gone, also after fine-tuning
    cols_fc2 = (pts[0].model.fc2.weight != 0).any(0)
    assert torch.equal(cols_fc2, (pts[0].model.fc1.weight != 0).any(1))  # removed fc1 units are not read


def test_relief_and_thresholds_points(splits):
    torch.manual_seed(0)
    dense = LeNet300100()
    relief = {"budget": 0.25, "milestone_fractions": (), "n_prune": 64}
    rel = points(dense, splits, {"relief": {"values": [1, 2], **relief}})
    pct = [compare.measure(p, "lenet300", 0, splits)["weights_pct"] for p in rel]
    assert [p.value for p in rel] == [1.0, 2.0] and pct[0] > pct[1] and [p.epochs for p in rel] == [0.25, 0.5]
    assert not any(p.cache_hit for p in rel)
    longer = points(dense, splits, {"relief": {"values": [1, 2, 3], **relief}})
    assert [p.cache_hit for p in longer] == [True, True, False]  # resumed from the cached two iterations
    thr = points(dense, splits, {"thresholds": {"values": [2.0], "budget": (0.25, 0.25)}})
    assert thr[0].method == "thresholds" and thr[0].epochs == 0.5
    assert any(masks.is_pruned(m) for m in masks.prunable_layers(thr[0].model).values())


def test_gumbel_gates_convolutions_of_lenet5(splits):
    model = LeNet5()
    gates = gumbel.gate_layers(model, types=gumbel.GATED_TYPES["lenet5"])
    assert [g.layer for g in gates] == ["conv1", "conv2", "fc1", "fc2"]
    pts = points(LeNet5(), splits, {"gumbel": {"values": [10.0], "budget": 1, "profile": "smoke"}})
    assert pts[0].method == "gumbel" and masks.is_pruned(pts[0].model.conv1)
    assert pts[0].seconds > 0 and pts[0].epochs == 1
