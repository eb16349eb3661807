"""The plan runner: submitit's local executor fills the shared cache; concurrent jobs compute a key once."""

import os
import subprocess
import sys
import textwrap

import pytest
from conftest import mnist_or_skip

from pruning_lib import cache, compare, jobs
from pruning_lib.dense import reference_model


def test_bad_plans_fail_before_any_work():
    with pytest.raises(ValueError, match="positive integer"):
        jobs.run_tasks([], jobs=0)
    with pytest.raises(ValueError, match="module:function"):
        jobs.resolve("pruning_lib.dense.fill_reference")
    with pytest.raises(ValueError, match="executor"):
        jobs.executor("unused", kind="kubernetes")


def test_executor_settings_from_the_environment():
    assert jobs.executor_settings({}) == ("local", {})
    env = {
        "PRUNING_EXECUTOR": "slurm",
        "PRUNING_EXECUTOR_PARAMS": "slurm_partition=gpu, gpus_per_node=1,timeout_min=90",
    }
    assert jobs.executor_settings(env) == (
        "slurm",
        {"slurm_partition": "gpu", "gpus_per_node": 1, "timeout_min": 90},
    )
    with pytest.raises(ValueError, match="PRUNING_EXECUTOR"):
        jobs.executor_settings({"PRUNING_EXECUTOR": "lsf"})
    with pytest.raises(ValueError, match="key=value"):
        jobs.executor_settings({"PRUNING_EXECUTOR_PARAMS": "gpu"})


def test_estimate_balances_lanes():
    tasks = [jobs.Task(str(i), "m:f", {}, c) for i, c in enumerate([5, 4, 3, 3, 1])]
    e = jobs.estimate(tasks, jobs=2)
    assert e["cpu_seconds"] == 16 and e["wall_seconds"] == 8  # 5+3 and 4+3+1
    assert [t.cost for t in jobs.ordered(tasks)] == [5, 4, 3, 3, 1]


def test_local_executor_fills_the_cache_then_the_notebook_only_hits():
    mnist_or_skip()
    tasks = [
        jobs.Task(
            f"dense {s}",
            "pruning_lib.dense:fill_reference",
            dict(name="lenet300", profile="smoke", seed=s, device="cpu"),
        )
        for s in (0, 1)
    ]
    seconds = jobs.run_tasks(tasks, jobs=2, poll_s=0.5)
    assert set(seconds) == {"dense 0", "dense 1"}  # each ran exactly once, in one of the two jobs
    for s in (0, 1):
        _, info = reference_model("lenet300", "smoke", s)
        assert info["cache_hit"], f"seed {s} was not filled by the plan"


def test_a_failing_task_fails_the_plan_with_its_name():
    bad = [jobs.Task(f"bad {i}", "pruning_lib.jobs:resolve", {"fn": "no-colon"}) for i in range(2)]
    with pytest.raises(RuntimeError, match="bad"):
        jobs.run_tasks(bad, jobs=2, poll_s=0.5)


def test_concurrent_jobs_compute_one_key_once(tmp_path):
    log = tmp_path / "computed.log"
    code = textwrap.dedent(f"""
        import os, time
        from pruning_lib import cache
        def compute():
            with open({str(log)!r}, "a") as f:
                f.write(str(os.getpid()) + "\\n")
            time.sleep(1.0)
            return {{"value": 42}}
        payload, hit = cache.cached("jobs-test", {{"k": 1}}, compute)
        print(payload["value"], hit)
    """)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
        )
        for _ in range(2)
    ]
    outs = sorted(p.communicate(timeout=120)[0].split() for p in procs)
    assert all(p.returncode == 0 for p in procs)
    assert outs == [["42", "False"], ["42", "True"]]  # one computed, the other waited and read it
    assert len(log.read_text().split()) == 1
    assert cache.load("jobs-test", {"k": 1}) == {"value": 42, "config": {"k": 1}}


def test_head_to_head_plan_covers_every_method_once():
    plans = {"lenet300": {"short": {"random": dict(values=[2, 4]), "gumbel": dict(values=[1.0], budget=1)},
                          "own": {"random": dict(values=[2, 4]), "gumbel": dict(values=[1.0], budget=2)}}}  # fmt: skip
    tasks = compare.plan_points(
        plans, {"lenet300": [0, 1]}, "smoke", "cpu", run_once={"lenet300": ["random"]}
    )
    names = sorted(t.name for t in tasks)
    assert len(names) == len(set(names)) == 2 * (2 + 3)  # dense, Han rebuilt, random once, gumbel twice
    assert "random lenet300 seed 1 own" not in names
    gumbel = {t.name: t.cost for t in tasks if t.name.startswith("gumbel")}
    assert gumbel["gumbel lenet300 seed 0 own"] > gumbel["gumbel lenet300 seed 0 short"]


def test_a_worker_waits_for_the_tasks_a_task_needs(tmp_path):
    import threading
    import time

    out = tmp_path / "b.txt"
    a = jobs.Task("a", "pruning_lib.files:write_text", {"path": str(tmp_path / "a.txt"), "text": "a"})
    b = jobs.Task("b", "pruning_lib.files:write_text", {"path": str(out), "text": "b"}, needs=("a",))
    assert [t.name for t in jobs.ordered([b, a])] == ["a", "b"]  # what others need goes first
    claims = tmp_path / "claims"
    claims.mkdir()
    (claims / "0.claim").touch()  # another worker is running "a"
    ran = []
    t = threading.Thread(target=lambda: ran.extend(jobs.worker([a, b], str(claims), 1)))
    t.start()
    time.sleep(1.0)
    assert not out.exists()  # b waits for a
    (claims / "0.done").touch()
    t.join(timeout=30)
    assert out.read_text() == "b" and [name for name, _ in ran] == ["b"]


def test_a_worker_stops_once_its_driver_is_gone(tmp_path):
    import os

    a = jobs.Task("a", "pruning_lib.files:write_text", {"path": str(tmp_path / "a.txt"), "text": "a"})
    claims = tmp_path / "claims"
    claims.mkdir()
    jobs.heartbeat(claims)
    assert jobs.driver_alive(claims)
    old = os.stat(claims / jobs.HEARTBEAT).st_mtime - jobs.HEARTBEAT_S - 1
    os.utime(claims / jobs.HEARTBEAT, (old, old))  # the notebook was killed long ago
    assert not jobs.driver_alive(claims)
    assert jobs.worker([a], str(claims), 1) == [] and not (tmp_path / "a.txt").exists()
    jobs.heartbeat(claims)  # a live driver: the same worker runs the task
    assert [name for name, _ in jobs.worker([a], str(claims), 1)] == ["a"]


def test_the_watchdog_stops_a_worker_inside_a_long_task(tmp_path):
    """Mid-task: with a live heartbeat the watchdog waits; once it is stale it calls stop(3)."""
    import os
    import threading

    claims = tmp_path / "claims"
    claims.mkdir()
    jobs.heartbeat(claims)
    stopped = threading.Event()
    codes = []

    def stop(code):
        codes.append(code)
        stopped.set()

    jobs.watchdog(claims, every=0.05, stop=stop)
    assert not stopped.wait(0.3) and codes == []  # a live driver: nothing happens
    old = os.stat(claims / jobs.HEARTBEAT).st_mtime - jobs.HEARTBEAT_S - 1
    os.utime(claims / jobs.HEARTBEAT, (old, old))  # the driver died while the task runs
    assert stopped.wait(5) and codes == [3]


def test_a_watched_worker_process_exits_mid_task_once_its_driver_is_gone(tmp_path):
    """A real process running a 60 s task ends within seconds of its driver's heartbeat going stale."""
    import os
    import subprocess
    import sys
    import time

    claims = tmp_path / "claims"
    claims.mkdir()
    jobs.heartbeat(claims)
    code = (f"import pruning_lib.jobs as j; t = j.Task('slow', 'subprocess:run', {{'args': ['sleep', '60']}}); "
            f"j.watchdog.__defaults__ = (0.1, j.os._exit); j.worker([t], {str(claims)!r}, 1, watch=True)")  # fmt: skip
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not (claims / "0.claim").exists() and time.time() < deadline:  # the task has started
        time.sleep(0.1)
    time.sleep(0.5)
    assert p.poll() is None  # still running the task: the driver is alive
    old = os.stat(claims / jobs.HEARTBEAT).st_mtime - jobs.HEARTBEAT_S - 1
    os.utime(claims / jobs.HEARTBEAT, (old, old))
    assert p.wait(timeout=20) == 3 and "this worker stops" in p.stdout.read()
    assert not (claims / "0.done").exists()
