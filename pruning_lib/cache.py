"""Cache of trained models and finished runs, keyed by a hash of their configuration (OpenLTH-style).

One versioning scheme: the key hashes (CACHE_VERSION, kind, the kind's `version`, config). A module bumps the
`version` it passes when a change to its code makes old results wrong. A payload is a dict of tensors,
numbers, strings, lists and dicts, so it loads with `weights_only=True`. Writes are atomic; a file that fails
to load is moved aside and recomputed, never trusted. A miss is computed under an exclusive lock on the key
(`fcntl.flock` where the OS has it), so parallel jobs that share the cache compute each entry once.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .files import atomic_write
from .paths import cache_dir

CACHE_VERSION = (
    3  # bump when a change of format (here or in masks.export_state) makes cached files unreadable
)


def _header(kind: str, config: dict, version: int) -> dict:
    return {"cache_version": CACHE_VERSION, "kind": kind, "version": int(version)}


def config_key(kind: str, config: dict, version: int = 1) -> str:
    """A stable 16-hex-digit key of (kind, version, a JSON-able config), independent of dict order."""
    text = json.dumps({**_header(kind, config, version), "config": config}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fingerprint(*objs: Any) -> str:
    """A short hash of models (their state dict) and tensors (shape, dtype, bytes), to tie cached runs to inputs."""
    h = hashlib.sha256()
    for obj in objs:
        if isinstance(obj, torch.nn.Module):
            for key, value in sorted(obj.state_dict().items()):
                h.update(key.encode())
                h.update(fingerprint(value).encode())
        elif isinstance(obj, torch.Tensor):
            t = obj.detach().cpu().contiguous()
            h.update(f"{tuple(t.shape)}{t.dtype}".encode())
            h.update(t.numpy().tobytes())
        elif isinstance(obj, tuple | list):
            h.update(fingerprint(*obj).encode())
        elif obj is None:
            h.update(b"none")
        else:
            raise TypeError(f"cannot fingerprint a {type(obj).__name__}")
    return h.hexdigest()[:16]


def cache_path(kind: str, config: dict, version: int = 1) -> Path:
    """Where the payload of (kind, version, config) lives: `<cache>/<kind>/<key>.pt`."""
    return cache_dir() / kind / f"{config_key(kind, config, version)}.pt"


def entries(kind: str) -> int:
    """How many payloads of `kind` the cache holds (0 when it has none)."""
    return sum(1 for _ in (cache_dir() / kind).glob("*.pt"))


def _identity(path: Path):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _read(path: Path, expected: dict) -> dict:
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("config") != expected:
        raise ValueError("payload does not belong to this config")
    return payload


def load(kind: str, config: dict, version: int = 1) -> dict | None:
    """The cached payload, or None when absent or corrupt (a corrupt file is moved aside with a warning).

    A file that another process replaced while this one read it is read again, never removed.
    """
    path = cache_path(kind, config, version)
    expected = json.loads(json.dumps(config, default=str))
    for _ in range(3):
        before = _identity(path)
        if before is None:
            return None
        try:
            return _read(path, expected)
        except Exception as e:  # any unreadable file is recomputed, never trusted
            if _identity(path) != before:
                continue  # replaced under us by a writer: read the new file
            bad = path.with_name(f"{path.name}.{os.getpid()}.corrupt")
            warnings.warn(
                f"cache file {path} is unreadable ({type(e).__name__}: {e}); moved aside to {bad.name}, "
                "recomputing it",
                stacklevel=2,
            )
            try:
                os.replace(path, bad)
            except FileNotFoundError:
                pass
            return None
    return None


def plain(obj: Any) -> Any:
    """Recursively turn numpy scalars/arrays, tuples and DataFrames into types `weights_only` loads accept."""
    if isinstance(obj, np.generic):  # before the float check: np.float64 subclasses float
        return obj.item()
    if isinstance(obj, torch.Tensor | str | int | float | bool | type(None)):
        return obj
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    if hasattr(obj, "to_dict") and hasattr(obj, "columns"):  # pandas DataFrame
        return plain(obj.to_dict("list"))
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(obj.copy())
    raise TypeError(f"cannot cache a {type(obj).__name__}")


def save(kind: str, config: dict, payload: dict, version: int = 1) -> Path:
    """Store `payload` (plus its config) atomically and return the path."""
    path = cache_path(kind, config, version)
    with atomic_write(path) as tmp:
        torch.save({**plain(payload), "config": json.loads(json.dumps(config, default=str))}, tmp)
    return path


def cached(
    kind: str, config: dict, compute: Callable[[], dict[str, Any]], version: int = 1
) -> tuple[dict, bool]:
    """(payload, hit): the cached payload for (kind, version, config), or compute() stored on a miss."""
    payload = load(kind, config, version)
    if payload is not None:
        return payload, True
    with key_lock(cache_path(kind, config, version)):
        payload = load(kind, config, version)  # another job may have computed it while this one waited
        if payload is not None:
            return payload, True
        payload = plain(compute())
        save(kind, config, payload, version)
    return payload, False


@contextmanager
def key_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the cache entry at `path` (other processes wait); a no-op without fcntl."""
    try:
        import fcntl
    except ImportError:  # Windows: no cross-process lock; parallel jobs may then compute an entry twice
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.stem}.lock"), "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
