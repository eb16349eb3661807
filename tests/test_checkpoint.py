"""fit's checkpoints: a run interrupted after an epoch resumes bit-identically; train_dense checkpoints outside its key."""

import pytest
import torch
from conftest import toy_splits
from torch import nn

from pruning_lib import dense, paths
from pruning_lib.data import Batches
from pruning_lib.train import fit


class Interrupt(Exception):
    """Raised by a hook to stop training mid-run, as a crash or a killed job would."""


def net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Dropout(0.3), nn.Linear(12, 3))


def stop_at(step_to_stop):
    def hook(step):
        if step == step_to_stop:
            raise Interrupt

    return hook


def same_state(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


@pytest.mark.parametrize("opt, epochs", [("adam", 3), ("sgd", 3), ("adam", 2.5)])
def test_interrupted_fit_resumes_bit_identically(tmp_path, opt, epochs):
    s = toy_splits()
    steps = len(Batches(*s.train, 16))
    kw = dict(epochs=epochs, batch_size=16, opt=opt, lr=1e-2, schedule="multistep", milestones=[1.5], val=s.val,
              seed=3, progress_bar=False)  # fmt: skip
    straight = net()
    torch.manual_seed(5)  # dropout draws come from torch's global generator
    h_straight = fit(straight, s.train, **kw)
    ckpt = tmp_path / "run.pt"
    interrupted = net()
    torch.manual_seed(5)
    with pytest.raises(Interrupt):
        fit(interrupted, s.train, checkpoint=ckpt, after_step=stop_at(2 * steps + 1), **kw)
    assert torch.load(ckpt, weights_only=True)["step"] == 2 * steps  # the last whole epoch before the stop
    torch.manual_seed(123)  # another global RNG state and other weights: the checkpoint restores both
    resumed = net(seed=7)
    h_resumed = fit(resumed, s.train, checkpoint=ckpt, **kw)
    assert same_state(straight, resumed) and not same_state(straight, interrupted)
    cols = [c for c in h_straight.columns if c != "seconds"]
    assert h_resumed[cols].equals(h_straight[cols]) and len(h_straight) == 3


def test_checkpoints_only_at_whole_epochs_and_never_trusts_a_foreign_one(tmp_path):
    s = toy_splits()
    kw = dict(batch_size=16, opt="adam", lr=1e-2, seed=1, progress_bar=False)
    ckpt = tmp_path / "run.pt"
    fit(net(), s.train, epochs=0.5, checkpoint=ckpt, **kw)
    assert not ckpt.exists()  # no whole epoch in half an epoch
    fit(net(), s.train, epochs=1, checkpoint=ckpt, **kw)  # leaves the checkpoint of a 1-epoch run
    a, b = net(), net()
    torch.manual_seed(0)
    fit(a, s.train, epochs=2, **kw)
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match="ignoring checkpoint"):
        fit(b, s.train, epochs=2, checkpoint=ckpt, **kw)  # another run's length: trained from the start
    assert same_state(a, b)
    ckpt.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="ignoring checkpoint"):
        fit(net(), s.train, epochs=1, checkpoint=ckpt, **kw)


def test_train_dense_resumes_from_its_checkpoint_and_removes_it(monkeypatch, tmp_path):
    g = torch.Generator().manual_seed(0)

    def part(n):
        return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)

    from pruning_lib.data import Splits

    splits = Splits(train=part(96), val=part(32), test=part(32))
    kw = dict(epochs=3, recipe={**dense.DENSE_RECIPE, "batch_size": 32}, data_key={"dataset": "toy"}, seed=0,
              progress_bar=False)  # fmt: skip
    monkeypatch.setenv("PRUNING_CACHE", str(tmp_path / "other"))
    straight, info_straight = dense.train_dense("lenet300", splits, **kw)
    monkeypatch.setenv("PRUNING_CACHE", str(tmp_path / "cache"))
    fit_ = dense.fit
    monkeypatch.setattr(dense, "fit", lambda *a, **k: fit_(*a, **k, after_step=stop_at(7)))  # in epoch 3 of 3
    with pytest.raises(Interrupt):
        dense.train_dense("lenet300", splits, **kw)
    (ckpt,) = (paths.cache_dir() / "checkpoints").glob("*.pt")
    monkeypatch.setattr(dense, "fit", fit_)
    resumed, info = dense.train_dense("lenet300", splits, **kw)
    assert (
        ckpt == dense.checkpoint_path(info["config"]) and not ckpt.exists()
    )  # gone once the model is cached
    assert info["config"] == info_straight["config"] and "checkpoint" not in str(info["config"])
    assert same_state(straight, resumed) and info["test_acc"] == info_straight["test_acc"]
    assert dense.train_dense("lenet300", splits, **kw)[1]["cache_hit"]
