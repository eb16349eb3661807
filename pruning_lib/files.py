"""Atomic file writes and the one JSON sanitiser (a leaf: imports nothing of ours).

Every file the suite writes goes through `atomic_write`: a temporary file unique to the process in the same
folder (named `.<name>.<pid>.<random>.tmp`, git-ignored), renamed over the target only when it is complete.
"""

from __future__ import annotations

import json
import math
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def temp_path(path: Path, suffix: str = ".tmp") -> Path:
    """A temporary name beside `path`, unique to this process and call (ending in `suffix`, git-ignored)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{suffix}")


@contextmanager
def atomic_write(path: Path) -> Iterator[Path]:
    """Yield a temporary path to write; it replaces `path` only if the block finishes, and is removed otherwise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> Path:
    """Write `text` to `path` atomically."""
    with atomic_write(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def jsonable(obj: Any) -> Any:
    """Recursively make `obj` JSON-safe: NaN/inf -> None, tensors/arrays/numpy scalars -> lists/numbers."""
    if hasattr(obj, "tolist") and not isinstance(obj, str):
        obj = obj.tolist()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | range):
        return [jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(path: Path, doc: Any) -> Path:
    """Write `doc` (sanitised by `jsonable`) as indented JSON, atomically."""
    return write_text(path, json.dumps(jsonable(doc), indent=2, allow_nan=False) + "\n")
