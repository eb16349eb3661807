"""Shared test settings: headless matplotlib, no progress bars, a private cache and build folder per test."""

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["PRUNING_PROGRESS"] = "0"


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    """Every test gets its own cache and build folder, so tests never touch the user's."""
    monkeypatch.setenv("PRUNING_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PRUNING_BUILD", str(tmp_path / "build"))
    return tmp_path


def mnist_or_skip():
    """Skip a test that needs the real MNIST when `make data` has not run (make test always runs it)."""
    from pruning_lib.data import mnist_present

    if not mnist_present():
        pytest.skip("MNIST is not on disk: run `make data`")
