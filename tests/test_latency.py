"""Choosing the points to time, timing a network's points together, and verdicts against the noise floor."""

import pandas as pd
import pytest
import torch

from pruning_lib import latency
from pruning_lib.masks import apply_masks
from pruning_lib.methods.magnitude import global_magnitude_masks
from pruning_lib.models import LeNet300100


def test_chosen_points_are_the_sparsest_and_the_nearest_to_each_target():
    pts = pd.DataFrame({"method": ["a"] * 5 + ["b"] * 2, "value": range(7),
                        "compression_weights": [2, 7, 9, 60, 500, 3, 4]})  # fmt: skip
    got = latency.chosen_points(pts, targets=(8, 64))
    assert got[got["method"] == "a"]["value"].tolist() == [2, 3, 4]  # 9 (nearer 8 than 7 in log2), 60, 500
    assert got[got["method"] == "b"]["value"].tolist() == [6]  # 4x is the sparsest and the nearest to both
    assert got.loc[got["method"] == "a", "sparsest"].tolist() == [False, False, True]


def test_time_network_and_verdicts():
    torch.manual_seed(0)
    dense = LeNet300100().eval()
    pruned = LeNet300100()
    pruned.load_state_dict(dense.state_dict())
    apply_masks(pruned, global_magnitude_masks(pruned, 0.002))
    t = latency.time_network(
        dense, {("m", 1.0): pruned.eval()}, batches=(64,), rounds=3, warmup=1, block_s=0.003
    )
    assert sorted(t["representation"]) == sorted(latency.REPRESENTATIONS)
    assert (t["dense_median_s"] > 0).all() and (t["rounds"] == 3).all()
    v = latency.with_verdicts(t.assign(network="lenet300"))
    control = v[v["representation"] == "dense with zeros"].iloc[0]
    assert control["noise_floor"] == pytest.approx(abs(control["speedup"] - 1))
    assert control["verdict"] == "noise"  # a control never clears its own floor
    compact = v[v["representation"] == "compact"].iloc[0]
    assert compact["macs"] < 0.01 * (784 * 300 + 300 * 100 + 1000)
