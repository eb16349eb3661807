"""Cache of trained models and finished runs, keyed by a hash of their configuration (OpenLTH-style).

A payload is a dict of tensors, numbers, strings, lists and dicts, so it loads with `weights_only=True`.
Writes go through a temporary file and a rename; a file that fails to load is reported, deleted and recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .config import cache_dir

CACHE_VERSION = 1  # bump when a change to the code makes old cached results wrong


def config_key(config: dict) -> str:
    """A stable 16-hex-digit key of a JSON-able config (independent of dict order)."""
    text = json.dumps({"cache_version": CACHE_VERSION, **config}, sort_keys=True, default=str)
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


def cache_path(kind: str, config: dict) -> Path:
    """Where the payload of (kind, config) lives: `<cache>/<kind>/<key>.pt`."""
    return cache_dir() / kind / f"{config_key(config)}.pt"


def load(kind: str, config: dict) -> dict | None:
    """The cached payload, or None when absent or corrupt (a corrupt file is deleted with a warning)."""
    path = cache_path(kind, config)
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or payload.get("config") != json.loads(
            json.dumps(config, default=str)
        ):
            raise ValueError("payload does not belong to this config")
        return payload
    except Exception as e:  # any unreadable file is recomputed, never trusted
        warnings.warn(
            f"cache file {path} is unreadable ({type(e).__name__}: {e}); recomputing it", stacklevel=2
        )
        path.unlink(missing_ok=True)
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


def save(kind: str, config: dict, payload: dict) -> Path:
    """Store `payload` (plus its config) atomically and return the path."""
    path = cache_path(kind, config)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save({**plain(payload), "config": json.loads(json.dumps(config, default=str))}, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def cached(kind: str, config: dict, compute: Callable[[], dict[str, Any]]) -> tuple[dict, bool]:
    """(payload, hit): the cached payload for config, or compute() stored on a miss."""
    payload = load(kind, config)
    if payload is not None:
        return payload, True
    payload = plain(compute())
    save(kind, config, payload)
    return payload, False
