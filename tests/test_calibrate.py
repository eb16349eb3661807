"""Plan estimates from epoch times measured on the machine (pl.calibrate, pl.jobs.estimate / describe)."""

import torch

from pruning_lib import calibrate, jobs


def test_estimate_scales_each_task_by_its_networks_factor():
    """Hand count: costs 10 (LeNet-5), 4 (LeNet-300-100), 2 (no network: the mean factor)."""
    tasks = [jobs.Task("a", "m:f", {}, 10, net="lenet5"), jobs.Task("b", "m:f", {}, 4, net="lenet300"),
             jobs.Task("c", "m:f", {}, 2)]  # fmt: skip
    e = jobs.estimate(tasks, jobs=2, factors={"lenet5": 2.0, "lenet300": 0.5})
    assert e["cpu_seconds"] == 10 * 2.0 + 4 * 0.5 + 2 * 1.25
    assert e["wall_seconds"] == 20.0  # lane 1: a (20); lane 2: b (2) then c (2.5)
    assert jobs.estimate(tasks, jobs=2)["cpu_seconds"] == 16  # no factors: the table's seconds


def test_factors_divide_by_the_table():
    measured = {net: 3 * s for net, s in jobs.EPOCH_SECONDS.items()}
    assert calibrate.factors(measured, jobs.EPOCH_SECONDS) == {net: 3.0 for net in jobs.EPOCH_SECONDS}


def test_mnist_epochs_are_measured_once_and_leaves_threads_and_rng_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNING_CACHE", str(tmp_path))
    calls = []

    def fake(model, device, steps=20, batch=64, warmup=3, shape=(1, 28, 28)):
        calls.append((type(model).__name__, torch.get_num_threads()))
        torch.rand(3)  # consumes random numbers, as a real measurement does
        return 0.01

    monkeypatch.setattr(calibrate, "step_seconds", fake)
    threads, state = torch.get_num_threads(), torch.get_rng_state()
    first = calibrate.mnist_epochs("cpu", threads=1)
    assert torch.get_num_threads() == threads and torch.equal(torch.get_rng_state(), state)
    assert calls == [("LeNet300100", 1), ("LeNet5", 1)]
    assert first == {net: 0.01 * 860 for net in calibrate.NETWORKS}  # 55,000 images in batches of 64
    assert calibrate.mnist_epochs("cpu", threads=1) == first and len(calls) == 2  # the second read is cached
    calibrate.mnist_epochs("cpu", threads=2)
    assert len(calls) == 4  # another thread count is another measurement


def test_step_seconds_times_real_steps():
    torch.manual_seed(0)
    model = calibrate.build_model("lenet300")
    before = model.fc1.weight.detach().clone()
    s = calibrate.step_seconds(model, "cpu", steps=2, batch=8, warmup=1)
    assert 0 < s < 5 and not torch.equal(model.fc1.weight, before)  # it trained


def test_describe_prints_the_measured_estimate_and_says_when_no_gpu_is_there(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNING_CACHE", str(tmp_path))
    monkeypatch.setattr(
        calibrate, "mnist_epochs", lambda device, threads=None: {"lenet300": 3.0, "lenet5": 16.0}
    )
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    tasks = [
        jobs.Task("a", "m:f", {}, 8.0 * 30, net="lenet5"),
        jobs.Task("b", "m:f", {}, 1.5 * 40, net="lenet300"),
    ]
    line = jobs.describe(tasks, 1, "cpu")
    assert "2 tasks" in line and "lenet5 16.0 s" in line
    assert "about 10.0 min" in line  # twice the table's epoch times: 2 x (240 + 60) s
    assert "on a GPU: no estimate" in line
    assert "about 5 min" in jobs.describe(tasks, 1)  # the table alone: 300 s
