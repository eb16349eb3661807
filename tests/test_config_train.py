"""Parameter validation, profiles, training loop and the cached dense references."""

import json

import pandas as pd
import pytest
import torch
from conftest import mnist_or_skip
from torch import nn

from pruning_lib import checks, dense, paths, train
from pruning_lib import run as runlayer

TABLE = {"smoke": {"epochs": 1}, "quick": {"epochs": 4}, "paper": {"epochs": 30}}


def test_unknown_profile_names_the_choices():
    with pytest.raises(ValueError, match="'smoke', 'quick', 'paper'"):
        checks.resolve_profile("fast", TABLE)
    with pytest.raises(ValueError, match="inconsistent"):
        checks.resolve_profile("quick", {**TABLE, "paper": {"epochs": 1, "lr": 2}})
    assert checks.resolve_profile("quick", TABLE) == {"epochs": 4}


@pytest.mark.parametrize(
    "kwargs, match",
    [({"seed": -1}, "seed"), ({"seed": "0"}, "seed"), ({"seed": 1.5}, "seed"), ({"device": "tpu"}, "device")],
)
def test_setup_run_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        runlayer.setup_run("t", "smoke", TABLE, **kwargs)


def test_unavailable_device_is_refused():
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            train.pick_device("cuda")
    assert train.pick_device("cpu") == torch.device("cpu")


def test_check_helpers():
    assert checks.check_range("lam", 0.5, 0, 1) == 0.5
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        checks.check_range("lam", 2, 0, 1)
    with pytest.raises(ValueError, match="integer"):
        checks.check_range("n", 2.0, integer=True)
    with pytest.raises(ValueError, match="'a', 'b'"):
        checks.check_choice("reg", "c", ("a", "b"))


def test_smoke_run_writes_under_build_atomically(tmp_path):
    run = runlayer.setup_run("unit", "smoke", TABLE, seed=3)
    assert run.final_dir == tmp_path / "build" / "smoke" / "unit" and run["epochs"] == 1
    assert not run.final_dir.exists()  # outputs are staged until the run has finished
    with run.timed("step"):
        pass
    path = run.write_results(
        {"headline": [], "x": torch.tensor([1.0, 2.0]), "c": float("inf"), "n": [float("nan")]}
    )
    doc = json.loads(path.read_text())
    assert doc["profile"] == "smoke" and doc["seed"] == 3 and doc["x"] == [1.0, 2.0]
    assert doc["c"] is None and doc["n"] == [None]  # JSON has no infinities
    assert set(doc["timings_s"]) == {"step", "total"} and "torch" in doc["versions"]
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]
    assert paths.output_dir("unit", "quick") == paths.ROOT / "figures" / "unit"


def test_lr_schedules():
    assert train.lr_factor("cosine", 0, 10, 5) == 1.0 and train.lr_factor("cosine", 10, 10, 5) == 0.0
    assert train.lr_factor("multistep", 7, 20, 5, milestones=(1, 3), gamma=0.1) == pytest.approx(0.1)
    assert train.lr_factor("constant", 7, 20, 5) == 1.0
    with pytest.raises(ValueError, match="schedule"):
        train.lr_factor("step", 0, 1, 1)
    with pytest.raises(ValueError, match="opt"):
        train.make_optimizer(nn.Linear(1, 1).parameters(), "rmsprop")


def _blobs(n=200, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    X = torch.randn(n, 5, generator=g) + 3 * nn.functional.one_hot(y, 5).float()
    return X, y


def test_fit_learns_is_deterministic_and_handles_fractional_epochs():
    X, y = _blobs()

    def run(seed):
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3))
        hist = train.fit(net, (X, y), epochs=2.5, batch_size=20, seed=seed, val=(X, y), progress_bar=False)
        return net, hist

    net, hist = run(0)
    assert isinstance(hist, pd.DataFrame) and hist["step"].tolist() == [10, 20, 25]
    assert train.evaluate(net, X, y)["acc"] > 0.95
    net2, _ = run(0)
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), net2.state_dict().values()))
    net3, _ = run(1)
    assert not torch.equal(net[0].weight, net3[0].weight)


def test_reference_model_is_trained_once_then_cached():
    mnist_or_skip()
    m1, info1 = dense.reference_model("lenet300", "smoke", seed=0)
    m2, info2 = dense.reference_model("lenet300", "smoke", seed=0)
    assert (info1["cache_hit"], info2["cache_hit"]) == (False, True)
    assert info1["test_acc"] == info2["test_acc"] > 0.5
    assert torch.equal(m1.fc1.weight, m2.fc1.weight)
    assert (
        dense.reference_config("lenet5", "quick")["epochs"]
        != dense.reference_config("lenet5", "paper")["epochs"]
    )
    with pytest.raises(ValueError, match="lenet300"):
        dense.reference_config("vgg", "quick")


def test_fit_takes_another_loss():
    torch.manual_seed(0)
    X = torch.rand(256, 1)
    T = torch.cos(X)
    net = nn.Sequential(nn.Linear(1, 8), nn.Sigmoid(), nn.Linear(8, 1))
    mse = nn.functional.mse_loss
    before = mse(net(X), T).item()
    train.fit(
        net,
        (X, T),
        epochs=30,
        batch_size=32,
        opt="adam",
        lr=1e-2,
        weight_decay=0.0,
        loss_fn=mse,
        progress_bar=False,
    )
    assert mse(net(X), T).item() < before / 10


def test_training_flushes_subnormal_floats_to_zero():
    assert train.fit  # importing the training loop sets the mode
    out = torch.tensor([1e-39, 2e-38], dtype=torch.float32) * 1.0
    assert out[0].item() == 0.0 and out[1].item() > 0.0
