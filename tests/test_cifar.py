"""NNrelief on CIFAR end to end: the `cifar` switch, its schedules, the synthetic data and both networks' path."""

import json

import matplotlib.pyplot as plt
import pytest
import torch

from pruning_lib import files, paths
from pruning_lib.methods import relief as R
from pruning_lib.methods.relief import cifar
from pruning_lib.plots import relief as plots


def test_the_switch_resolves_auto_and_refuses_unknown_values():
    assert R.cifar_mode("auto", "synthetic") == "synthetic" and R.cifar_mode("short", "off") == "short"
    for bad in ("full", True, None):
        with pytest.raises(ValueError, match="'auto', 'off', 'synthetic', 'short', 'paper'"):
            R.cifar_mode(bad, "off")
    with pytest.raises(ValueError, match="default"):
        R.cifar_mode("auto", "auto")


def test_schedules_are_the_authors_in_paper_and_complete_everywhere():
    assert set(R.CIFAR_SCHEDULES) == set(R.CIFAR_MODES) - {"auto", "off"}
    vgg, res = R.cifar_schedule("paper", "vgg_like"), R.cifar_schedule("paper", "resnet20")
    for s in (vgg, res):
        assert (s["dense_epochs"], s["dense_milestones"], s["epochs"], s["milestones"]) == (
            150,
            [80, 120],
            60,
            [20, 40],
        )
        assert s["model_kwargs"] == {} and s["n_prune"] == 1000
    assert (vgg["opt"], vgg["lr"], vgg["alpha_conv"], vgg["alpha_fc"], vgg["iterations"]) == (
        "adam",
        1e-3,
        0.95,
        0.95,
        6,
    )
    assert (res["opt"], res["lr"], res["alpha_conv"], res["alpha_fc"], res["iterations"]) == (
        "sgd",
        0.1,
        0.95,
        0.99,
        10,
    )
    assert R.cifar_schedule("synthetic", "vgg_like")["model_kwargs"] == {"width": 1 / 8}
    assert R.cifar_schedule("synthetic", "resnet20")["model_kwargs"] == {}
    table = R.cifar_schedule_table()
    assert len(table) == 6 and table.loc[("short", "resnet20"), "dense_epochs"] == 30
    with pytest.raises(ValueError, match="no CIFAR schedule"):
        R.cifar_schedule("off", "vgg_like")


def test_synthetic_cifar_is_seeded_cifar_shaped_and_learnable():
    s = R.synthetic_cifar(300, 100, 100, seed=0)
    assert s.sizes() == {"train": 300, "val": 100, "test": 100} and s.train[0].shape[1:] == (3, 32, 32)
    assert set(s.train[1].tolist()) == set(range(10))
    assert torch.equal(R.synthetic_cifar(300, 100, 100, seed=0).test[0], s.test[0])
    assert not torch.equal(R.synthetic_cifar(300, 100, 100, seed=1).test[0], s.test[0])
    colour = s.train[0].mean((2, 3))  # a nearest class-mean colour classifier is far above chance (10%)
    means = torch.stack([colour[s.train[1] == c].mean(0) for c in range(10)])
    pred = torch.cdist(s.test[0].mean((2, 3)), means).argmin(1)
    assert (pred == s.test[1]).float().mean() > 0.3


def test_missing_or_off_data_gives_a_skip_message(tmp_path):
    splits, skip = R.cifar_data("off")
    assert splits is None and skip.startswith("SKIP D") and "cifar=short" in skip
    splits, skip = R.cifar_data("short", root=tmp_path)
    assert splits is None and "cifar-10-batches-py" in skip and "make data CIFAR=1" in skip
    splits, skip = R.cifar_data("synthetic")
    assert skip is None and splits.sizes() == {"train": 200, "val": 80, "test": 80}


@pytest.mark.parametrize("name", ["vgg_like", "resnet20"])
def test_the_whole_path_on_synthetic_data(monkeypatch, tmp_path, name):
    tiny = {**R.CIFAR_SCHEDULES["synthetic"], "n_prune": 24, "dense_epochs": 1, "iterations": {name: 2},
            "epochs": 0.5}  # fmt: skip
    monkeypatch.setitem(cifar.CIFAR_SCHEDULES, "tiny", tiny)
    splits = R.synthetic_cifar(72, 24, 24)
    kw = dict(rule="stop_at_first_miss", max_drop_pp=0.5, progress_bar=False)
    entry, hist = R.cifar_network(name, splits, "tiny", **kw)
    assert list(hist["iteration"]) == [0, 1, 2] and hist["params_pct"].is_monotonic_decreasing
    assert hist["params_pct"].iloc[-1] < 100 and not entry["dense"]["cache_hit"]
    op = entry["operating_point"]
    assert op["iteration"] in (1, 2) and op["rule"] == "stop_at_first_miss"
    lo, hi = op["test_acc_interval_pct"]
    assert lo <= 100 * op["test_acc"] <= hi and op["reloaded_test_acc"] == op["test_acc"]
    assert entry["target"]["met"] is None and entry["schedule"]["iterations"] == 2
    assert entry["per_layer"]["iteration"] == op["iteration"] and set(entry["alive_channels"])
    assert len(entry["iterations"]) == 3 and entry["final"]["iteration"] == 2
    json.dumps(files.jsonable(entry), allow_nan=False)  # results.json takes it as it is
    assert not list(
        (paths.cache_dir() / "checkpoints").glob("*.pt")
    )  # the dense checkpoint went with caching
    again, hist2 = R.cifar_network(name, splits, "tiny", **kw)  # everything from the cache
    assert again["dense"]["cache_hit"] and hist2.attrs["resumed_from"] == 2
    assert again["operating_point"] == op
    for fig in (plots.plot_iterations(hist, entry, "t", "smoke", 0.5),
                plots.plot_per_layer({name: entry["per_layer"]}, {name: name}, figsize=(8, 6))):  # fmt: skip
        fig.savefig(tmp_path / "f.png")
        plt.close(fig)
    assert R.cifar_summary({name: entry}).loc["operating iteration", name] == op["iteration"]


def test_cifar_estimate_counts_the_schedules_epochs_and_says_when_no_gpu_is_there(monkeypatch):
    """Short schedule: 30 pretraining epochs + 3 iterations x 10 retraining epochs = 60 per network."""
    from pruning_lib import calibrate

    seen = []

    def fake(name, images, batch, device="cpu", threads=None, steps=20, warmup=3, shape=(1, 28, 28), **kw):
        seen.append((name, images, batch, tuple(shape), kw))
        return 60.0  # one minute per epoch

    monkeypatch.setattr(calibrate, "measured_epoch", fake)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    t = R.cifar_estimate("short", "cpu")
    assert seen == [("vgg_like", 45_000, 120, (3, 32, 32), {}), ("resnet20", 45_000, 120, (3, 32, 32), {})]
    cpu = t[t["device"] != "GPU"]
    assert list(cpu["training epochs"]) == [60, 60] and list(cpu["estimate"]) == ["about 60.0 min"] * 2
    assert (t[t["device"] == "GPU"]["estimate"].str.startswith("none")).all()
    seen.clear()
    R.cifar_estimate("synthetic", "cpu")
    assert (
        seen[0][0] == "vgg_like" and seen[0][4] == {"width": 1 / 8} and seen[0][1] == 200
    )  # its own width and data
