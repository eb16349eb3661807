"""CIFAR-10 on request (`make data CIFAR=1`): through torchvision, or a message that says where to put it."""

from urllib.error import URLError

import pytest
import torchvision

from pruning_lib import cifar10
from pruning_lib.data import MissingDataError


def test_a_failed_download_says_where_to_put_cifar10(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise URLError("no network here")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", refuse)
    with pytest.raises(MissingDataError) as err:
        cifar10.fetch_cifar10(tmp_path)
    message = str(err.value)
    for part in (
        str(tmp_path / "cifar-10-batches-py"),
        cifar10.CIFAR10_URL,
        "make data CIFAR=1",
        "no network here",
    ):
        assert part in message
    monkeypatch.setenv("PRUNING_DATA", str(tmp_path))  # the command line exits non-zero with the same message
    with pytest.raises(SystemExit) as stop:
        cifar10.main()
    assert str(stop.value.code) == f"error: {message}"
    assert not (tmp_path / "cifar-10-batches-py").exists()


def test_the_download_goes_through_torchvision(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(
        torchvision.datasets, "CIFAR10", lambda root, train, download: calls.append((root, train, download))
    )
    assert (
        cifar10.fetch_cifar10(tmp_path) == tmp_path / "cifar-10-batches-py" == cifar10.cifar10_dir(tmp_path)
    )
    assert calls == [(str(tmp_path), True, True), (str(tmp_path), False, True)]
    monkeypatch.setenv("PRUNING_DATA", str(tmp_path))
    cifar10.main()
    assert "CIFAR-10 ready" in capsys.readouterr().out
