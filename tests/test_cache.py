"""Cache: stable keys, hits, corrupt files recomputed, atomic writes, weights_only-safe payloads."""

import numpy as np
import pytest
import torch

from pruning_lib import cache

PINNED = "5e89b6412790fff1"


def test_keys_are_stable_and_order_independent():
    a = cache.config_key("dense", {"model": "lenet300", "epochs": 20, "lr": 0.05})
    b = cache.config_key("dense", {"lr": 0.05, "epochs": 20, "model": "lenet300"})
    assert a == b == PINNED  # pinned: a changed key silently orphans every cache
    assert cache.config_key("dense", {"model": "lenet300", "epochs": 21, "lr": 0.05}) != a
    assert cache.config_key("dense", {"model": "lenet300", "epochs": 20, "lr": 0.05}, version=2) != a
    assert cache.config_key("other", {"model": "lenet300", "epochs": 20, "lr": 0.05}) != a


def test_cached_computes_once():
    calls = []

    def compute():
        calls.append(1)
        return {"state": {"w": torch.ones(3)}, "acc": np.float64(0.5), "hist": (1, 2)}

    p1, hit1 = cache.cached("t", {"x": 1}, compute)
    p2, hit2 = cache.cached("t", {"x": 1}, compute)
    assert (hit1, hit2) == (False, True) and len(calls) == 1
    assert p2["acc"] == 0.5 and type(p2["acc"]) is float and p2["hist"] == [1, 2]
    assert torch.equal(p2["state"]["w"], torch.ones(3))
    assert not list(cache.cache_path("t", {"x": 1}).parent.glob("*.tmp"))


def test_entries_counts_the_payloads_of_a_kind():
    assert cache.entries("counted") == 0
    for x in (1, 2, 2):
        cache.cached("counted", {"x": x}, lambda: {"v": 1})
    assert cache.entries("counted") == 2 and cache.entries("other-kind") == 0


def test_corrupt_file_is_recomputed_with_a_warning():
    cfg = {"x": 2}
    cache.save("t", cfg, {"v": 1})
    cache.cache_path("t", cfg).write_bytes(b"not a checkpoint")
    with pytest.warns(UserWarning, match="unreadable"):
        payload, hit = cache.cached("t", cfg, lambda: {"v": 2})
    assert not hit and payload["v"] == 2
    assert cache.load("t", cfg)["v"] == 2


def test_a_file_of_another_config_is_not_trusted():
    cache.save("t", {"x": 3}, {"v": 1})
    cache.cache_path("t", {"x": 3}).rename(cache.cache_path("t", {"x": 4}))
    with pytest.warns(UserWarning, match="does not belong"):
        assert cache.load("t", {"x": 4}) is None


def test_unsupported_objects_are_refused():
    with pytest.raises(TypeError, match="cannot cache"):
        cache.plain({"f": object()})


def test_fingerprint_ties_keys_to_inputs():
    a, b = torch.arange(6.0).view(2, 3), torch.arange(6.0).view(3, 2)
    assert cache.fingerprint(a) == cache.fingerprint(a.clone())
    assert cache.fingerprint(a) != cache.fingerprint(b)  # same bytes, other shape
    assert cache.fingerprint(a, None) != cache.fingerprint(a)
    net = torch.nn.Linear(2, 2)
    key = cache.fingerprint(net, (a, b))
    with torch.no_grad():
        net.weight[0, 0] += 1
    assert cache.fingerprint(net, (a, b)) != key
    with pytest.raises(TypeError, match="fingerprint"):
        cache.fingerprint("text")


def test_corrupt_file_is_moved_aside_not_deleted():
    cfg = {"x": 5}
    cache.save("t", cfg, {"v": 1})
    path = cache.cache_path("t", cfg)
    path.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="moved aside"):
        assert cache.load("t", cfg) is None
    assert not path.exists() and len(list(path.parent.glob("*.corrupt"))) == 1


def test_load_never_removes_a_file_another_process_just_replaced(monkeypatch):
    cfg = {"x": 6}
    cache.save("t", cfg, {"v": 1})
    path = cache.cache_path("t", cfg)
    path.write_bytes(b"half-written by a crashed run")
    real_read, calls = cache._read, []

    def read_while_another_process_writes(p, expected):
        calls.append(p)
        if len(calls) == 1:  # another job finishes its atomic write between our stat and our read
            cache.save("t", cfg, {"v": 7})
            raise EOFError("truncated")
        return real_read(p, expected)

    monkeypatch.setattr(cache, "_read", read_while_another_process_writes)
    assert cache.load("t", cfg)["v"] == 7
    assert path.is_file() and not list(path.parent.glob("*.corrupt"))
