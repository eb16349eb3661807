"""Latency protocol (pinned threads, warm-up, shuffled rounds, noise floor) and the export round trip."""

import subprocess
import sys

import pytest
import torch
from torch import nn

from pruning_lib import inference
from pruning_lib.masks import apply_masks
from pruning_lib.methods.magnitude import global_magnitude_masks
from pruning_lib.models import LeNet5, LeNet300100


def test_noise_floor_and_verdicts_by_hand():
    assert inference.noise_floor([0.97, 1.05, 1.01]) == pytest.approx(0.05)
    assert inference.speed_verdict(1.2, 0.1) == "faster"
    assert inference.speed_verdict(1.05, 0.1) == "noise"  # inside the floor
    assert inference.speed_verdict(0.5, 0.1) == "slower"


def test_timed_rounds_separates_a_cheap_model_from_an_expensive_one():
    torch.manual_seed(0)
    big = nn.Sequential(
        nn.Flatten(), nn.Linear(784, 1500), nn.ReLU(), nn.Linear(1500, 1500), nn.Linear(1500, 10)
    )
    small = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    twin = nn.Sequential(
        nn.Flatten(), nn.Linear(784, 1500), nn.ReLU(), nn.Linear(1500, 1500), nn.Linear(1500, 10)
    )
    t = inference.timed_rounds({"dense": big, "small": small, "control": twin}, 64, rounds=5, warmup=2, threads=1,
                               block_s=0.005)  # fmt: skip
    assert t["threads"] == 1 and t["rounds"] == 5 and torch.get_num_threads() >= 1
    m = t["models"]
    assert len(m["small"]["round_speedups"]) == 5 and m["dense"]["speedup"] == pytest.approx(1.0)
    floor = inference.noise_floor([m["control"]["speedup"]])
    assert m["small"]["speedup"] > 5  # ~250x fewer multiply-adds
    assert inference.speed_verdict(m["small"]["speedup"], floor) == "faster"
    with pytest.raises(ValueError, match="reference"):
        inference.timed_rounds({"small": small}, 1)


@pytest.mark.parametrize("net,keep", [(LeNet300100, 0.01), (LeNet5, 0.1)])
def test_export_round_trip_without_the_library(tmp_path, net, keep):
    torch.manual_seed(0)
    model = net()
    apply_masks(model, global_magnitude_masks(model, keep))
    path = inference.export(model.eval(), tmp_path / "model.pt2")
    loaded = inference.load_exported(path)
    for b in (1, 256):
        x = torch.rand(b, 1, 28, 28)
        with torch.no_grad():
            torch.testing.assert_close(loaded(x), model(x), atol=1e-5, rtol=1e-5)
    code = (
        "import sys, torch; m = torch.export.load(sys.argv[1]).module(); "
        "print(tuple(m(torch.rand(3, 1, 28, 28)).shape), 'pruning_lib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(3, 10) False"  # ran, and never imported pruning_lib


def test_a_network_cut_from_its_input_compacts_to_its_constant_and_exports(tmp_path):
    torch.manual_seed(0)
    model = LeNet5().eval()
    apply_masks(model, {"conv2": torch.zeros(50, 20, 5, 5, dtype=torch.bool)})
    small = inference.compact(model)
    assert isinstance(small, inference.ConstantOutput)
    x = torch.rand(5, 1, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(small(x), model(x), atol=1e-5, rtol=1e-5)
        loaded = inference.load_exported(inference.export(model, tmp_path / "m.pt2"))
        torch.testing.assert_close(loaded(x), model(x), atol=1e-5, rtol=1e-5)
