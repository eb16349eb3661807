"""CIFAR-10 on disk: its folder, fetching it on request through torchvision (`make data CIFAR=1`), and the message
that says where to put it when the network does not allow the download. Nothing else ever downloads it."""

from __future__ import annotations

import sys
import tarfile
from pathlib import Path

from .data import MissingDataError
from .paths import data_dir

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"


def cifar10_dir(root: Path | None = None) -> Path:
    """Where torchvision keeps CIFAR-10: `<data>/cifar-10-batches-py`."""
    return Path(root or data_dir()) / "cifar-10-batches-py"


def cifar10_message(root: Path, why: str) -> str:
    """The error text that says why CIFAR-10 is not there, where to put it and where to get it."""
    folder = cifar10_dir(root)
    return (
        f"CIFAR-10 could not be fetched into {folder}:\n  - {why}\n"
        f"Download {CIFAR10_URL} (163 MB) where the network allows, unpack it (tar xzf cifar-10-python.tar.gz) "
        f"and put the folder cifar-10-batches-py at {folder} (or point PRUNING_DATA at a folder that holds it). "
        "Then run `make data CIFAR=1` again: it checks the files offline."
    )


def fetch_cifar10(root: Path | None = None) -> Path:
    """CIFAR-10 under `root` through torchvision (download=True: a no-op once its MD5 checks pass), or raise."""
    import torchvision

    root = Path(root or data_dir())
    try:
        for train in (True, False):
            torchvision.datasets.CIFAR10(str(root), train=train, download=True)
    except (RuntimeError, OSError, tarfile.TarError) as e:
        why = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise MissingDataError(cifar10_message(root, f"torchvision download: {why}")) from e
    return cifar10_dir(root)


def main() -> None:
    """`python -m pruning_lib.cifar10`: fetch CIFAR-10 (or check the copy already there), else say where to put it."""
    try:
        folder = fetch_cifar10(data_dir())
    except MissingDataError as e:
        sys.exit(f"error: {e}")
    print(f"CIFAR-10 ready in {folder} (torchvision's MD5 checks passed)")


if __name__ == "__main__":
    main()
