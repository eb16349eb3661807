"""Keep freed memory inside the process (glibc malloc), so that each training step reuses the last step's pages.

glibc gives a freed block above its mmap threshold back to the operating system at once, and trims the top of
its heap above the trim threshold; the next step's tensors of the same size then fault every page in afresh
(a LeNet-5 Adam step on one thread faults in about 2,000 pages). `keep_freed_memory` raises both thresholds, so
freed blocks stay on the heap and are reused; a process's memory then stays at its peak instead of shrinking.
It changes speed only, never a number (tests/test_malloc.py checks that repeated allocations stop faulting).
`import pruning_lib` calls it; `PRUNING_MALLOC=0` turns it off, and it does nothing where libc is not glibc.
`python -m pruning_lib.bench` measures training steps with and without it, each in a fresh process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3  # mallopt's parameter numbers (malloc.h)
THRESHOLD = 1 << 30  # bytes: blocks below it come from the heap, and a heap keeps up to this much free on top
TOP_PAD = 64 << 20  # bytes the heap grows by beyond each request, so growth is rare too
_DONE: list[bool] = []


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True if set (False: off, or not glibc)."""
    if _DONE:
        return _DONE[0]
    ok = False
    if os.environ.get("PRUNING_MALLOC", "1") != "0" and platform.libc_ver()[0] == "glibc":
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        ok = all(libc.mallopt(p, v) == 1 for p, v in
                 ((M_MMAP_THRESHOLD, THRESHOLD), (M_TRIM_THRESHOLD, THRESHOLD), (M_TOP_PAD, TOP_PAD)))  # fmt: skip
    _DONE.append(ok)
    return ok


def page_faults() -> int:
    """Minor page faults of this process so far (0 where `resource` is missing)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
