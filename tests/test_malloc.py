"""pl.malloc: with freed memory kept, LeNet-5's training steps stop page-faulting (and without, they do)."""

import platform

import pytest

from pruning_lib import bench
from pruning_lib.malloc import keep_freed_memory

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")


def test_kept_memory_stops_page_faults():
    r = bench.malloc_compare(steps=10, rounds=2, networks=("lenet5",))
    on, off = r["on"]["lenet5"], r["off"]["lenet5"]
    assert r["on"]["kept"] and not r["off"]["kept"]
    assert on["faults_per_step"] <= 50  # the same pages are reused step after step
    assert off["faults_per_step"] > 10 * max(on["faults_per_step"], 1)  # glibc's default hands them back


def test_keep_freed_memory_is_idempotent():
    assert keep_freed_memory() == keep_freed_memory()
