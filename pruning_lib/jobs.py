"""A plan of cacheable experiments, run in parallel through submitit (local processes or a SLURM cluster).

A `Task` names a library function ("module:function") and its keyword arguments; running it fills the shared
cache and returns nothing the notebook needs. `run_tasks(tasks, jobs)` runs a plan: inline when jobs <= 1,
otherwise as `jobs` submitit workers that share one claim folder, each taking the next unclaimed task (largest
estimated cost first), with cpu_count // jobs torch threads each. Entries two workers both need are computed
once (the cache locks a key while it is computed). A task that needs another's result (a dense model)
simply asks the cache for it, computing it or waiting for the worker that is. After the plan, the notebook's
own loop reads every result from the cache.
"""

from __future__ import annotations

import importlib
import os
import secrets
import shutil
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .checks import check_range
from .paths import cache_dir

EXECUTORS = ("local", "slurm", "auto")
HEARTBEAT, HEARTBEAT_S = (
    "driver.alive",
    180.0,
)  # the driver touches it every poll; workers stop once it is stale
WATCH_S = 30.0  # how often a worker's watchdog reads the heartbeat while a task runs
EPOCH_SECONDS = {
    "lenet300": 1.5,
    "lenet5": 8.0,
}  # the units of a task's cost: a training epoch on the 2-core CPU the suite was written on; pl.calibrate measures the machine's own


@dataclass(frozen=True)
class Task:
    """One cacheable experiment: `fn` ("module:function") called with `kwargs`; `cost` its estimated seconds.

    `needs` names the tasks whose results it reads (its dense model): a worker starts it only once they are done.
    `net` names the network it trains ("lenet300", "lenet5"), whose measured epoch time scales its cost.
    """

    name: str
    fn: str
    kwargs: dict = field(default_factory=dict)
    cost: float = 1.0
    needs: tuple = ()
    net: str = ""


def resolve(fn: str):
    """The function named "package.module:function"."""
    module, _, name = fn.partition(":")
    if not name:
        raise ValueError(f"a task's fn must read 'module:function', got {fn!r}")
    return getattr(importlib.import_module(module), name)


def run_task(task: Task) -> float:
    """Run one task in this process; returns its seconds."""
    t0 = time.perf_counter()
    resolve(task.fn)(**task.kwargs)
    return time.perf_counter() - t0


def ordered(tasks: list[Task]) -> list[Task]:
    """The order workers take tasks in: tasks others need first, then larger estimated cost first."""
    needed = {n for t in tasks for n in t.needs}
    return sorted(tasks, key=lambda t: (t.name not in needed, -t.cost))


def threads_per_job(jobs: int) -> int:
    """torch threads for each of `jobs` workers on this machine (at least 1)."""
    return max(1, (os.cpu_count() or 1) // max(1, jobs))


def auto_jobs(jobs: int, device) -> int:
    """`jobs` checked; 0 means one per CPU core (at most 8) on the CPU, and 1 on an accelerator.

    Each worker gets cores // jobs torch threads, and a model's float rounding depends on its thread count, so a
    plan's results are bit-for-bit repeatable for a given `jobs` on a given machine. Measured on 2 cores (one
    `make reproduce`): notebook 05's plan ran faster with 2 workers, while 01 and 02 (few tasks, LeNet-5's
    convolutions 1.6x faster on two threads, memory-bound Gumbel gates) ran slower; in all, 56.7 min.
    """
    if check_range("jobs", jobs, 0, integer=True):
        return jobs
    return min(8, os.cpu_count() or 1) if torch.device(device).type == "cpu" else 1


def _claim(folder: Path, i: int) -> bool:
    """Atomically claim task `i` of a plan (True for exactly one worker)."""
    try:
        os.close(os.open(folder / f"{i}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


def _ready(task: Task, index: dict, folder: Path) -> bool:
    """True when every task `task` needs (and that is in the plan) has finished or failed."""
    return all(
        (folder / f"{index[n]}.done").exists() or (folder / f"{index[n]}.failed").exists()
        for n in task.needs
        if n in index
    )


def heartbeat(folder: Path) -> None:
    """The driver's sign of life for its workers: touch `folder`/driver.alive."""
    (Path(folder) / HEARTBEAT).touch()


def driver_alive(folder: Path) -> bool:
    """False once the driver's heartbeat is older than HEARTBEAT_S (the notebook was killed); True without one."""
    try:
        return time.time() - (Path(folder) / HEARTBEAT).stat().st_mtime < HEARTBEAT_S
    except FileNotFoundError:
        return True


def watchdog(folder: Path, every: float = WATCH_S, stop=os._exit) -> threading.Thread:
    """A daemon thread that ends this process (`stop(3)`) once the driver's heartbeat is stale, even mid-task."""

    def watch() -> None:
        while True:
            time.sleep(every)
            if not driver_alive(folder):
                print(
                    f"the driver is gone ({HEARTBEAT} older than {HEARTBEAT_S:.0f} s): this worker stops",
                    flush=True,
                )
                stop(3)
                return

    thread = threading.Thread(target=watch, name="driver-watchdog", daemon=True)
    thread.start()
    return thread


def worker(tasks: list[Task], folder: str, threads: int, watch: bool = False) -> list[tuple[str, float]]:
    """One submitit job: claim and run ready tasks, in plan order, until none is left; returns (name, seconds).

    It stops before its next task once the driver is gone (`driver_alive`), so a killed notebook leaves no
    worker computing the rest of its plan; what finished stays in the cache. With `watch` (as submitted by
    `run_tasks`) a `watchdog` also ends the process inside a long task: the cache's atomic writes and `fit`'s
    checkpoints mean nothing half-written is left, and a rerun resumes.
    """
    torch.set_num_threads(threads)
    folder, done = Path(folder), []
    if watch:
        watchdog(folder)
    index = {t.name: i for i, t in enumerate(tasks)}
    left = list(range(len(tasks)))
    while left and driver_alive(folder):
        left = [i for i in left if not (folder / f"{i}.claim").exists()]
        ready = [i for i in left if _ready(tasks[i], index, folder)]
        if not ready:
            if left:
                time.sleep(0.5)  # what is left waits for tasks another worker is running
            continue
        i = ready[0]
        if not _claim(folder, i):
            continue
        try:
            done.append((tasks[i].name, run_task(tasks[i])))
        except Exception as e:
            (folder / f"{i}.failed").touch()
            raise RuntimeError(f"task {tasks[i].name!r} failed:\n{traceback.format_exc()}") from e
        (folder / f"{i}.done").touch()
    return done


def estimate(tasks: list[Task], jobs: int = 1, factors: dict | None = None) -> dict:
    """The plan's size and its estimated seconds: in all, and on the wall with `jobs` workers.

    `factors` (per network, `pl.calibrate.factors`) scale each task's cost to the machine; a task whose network has
    none gets their mean.
    """
    factors = factors or {}
    mean = sum(factors.values()) / len(factors) if factors else 1.0
    costs = {t.name: t.cost * factors.get(t.net, mean) for t in tasks}
    lanes = [0.0] * max(1, jobs)
    for t in ordered(tasks):  # greedy: the next task goes to the lane that frees first
        lanes[lanes.index(min(lanes))] += costs[t.name]
    return {
        "tasks": len(tasks),
        "cpu_seconds": sum(costs.values()),
        "wall_seconds": max(lanes),
        "jobs": max(1, jobs),
    }


def describe(tasks: list[Task], jobs: int = 1, device=None) -> str:
    """How many tasks, and their estimated cost: from the table, or measured on `device` (and on a GPU if present).

    With a device, each worker's epoch times are measured first (`pl.calibrate`, cached per machine); on the CPU a
    GPU estimate follows when this machine has one, and otherwise the line says there is none to measure.
    """
    if device is None:
        e = estimate(tasks, jobs)
        return (
            f"{e['tasks']} tasks, about {e['cpu_seconds'] / 60:.0f} min of work if none is cached; "
            f"about {e['wall_seconds'] / 60:.0f} min with {e['jobs']} job(s)"
        )
    from . import calibrate
    from .timings import duration

    def on(dev, n_jobs: int) -> str:
        dev = torch.device(dev)
        threads = threads_per_job(n_jobs) if dev.type == "cpu" else None
        measured = calibrate.mnist_epochs(dev, threads)
        e = estimate(tasks, n_jobs, calibrate.factors(measured, EPOCH_SECONDS))
        epochs = ", ".join(f"{net} {s:.1f} s" for net, s in measured.items())
        where = f"{n_jobs} job(s) x {threads} thread(s)" if threads else f"{n_jobs} job(s)"
        return (f"on {calibrate.device_name(dev)} ({where}; one epoch measured here: {epochs}): "
                f"about {duration(e['wall_seconds'])} (about {duration(e['cpu_seconds'])} of work)")  # fmt: skip

    lines = [f"{len(tasks)} tasks if none is cached; " + on(device, jobs)]
    if torch.device(device).type == "cpu":
        if torch.cuda.is_available():
            lines.append("  " + on("cuda", auto_jobs(0, "cuda")))
        else:
            lines.append(
                "  on a GPU: no estimate (no GPU on this machine to measure one on; run with device='cuda')"
            )
    return "\n".join(lines)


def executor(folder: Path, kind: str = "local", timeout_min: int = 24 * 60, **parameters):
    """A submitit executor: "local" (processes on this machine), "slurm", or "auto" (SLURM where present)."""
    import submitit

    if kind not in EXECUTORS:
        raise ValueError(f"executor={kind!r} is not one of {EXECUTORS}")
    ex = submitit.AutoExecutor(folder=folder, cluster=None if kind == "auto" else kind)
    ex.update_parameters(**{"timeout_min": timeout_min, **parameters})
    return ex


def executor_settings(environ=None) -> tuple[str, dict]:
    """(kind, parameters) from PRUNING_EXECUTOR (local | slurm | auto) and PRUNING_EXECUTOR_PARAMS.

    PRUNING_EXECUTOR_PARAMS is "key=value,key=value" in submitit's AutoExecutor names, for example
    "slurm_partition=gpu,gpus_per_node=1,cpus_per_task=8,timeout_min=120"; numbers are read as numbers.
    """
    environ = os.environ if environ is None else environ
    kind = environ.get("PRUNING_EXECUTOR", "local")
    if kind not in EXECUTORS:
        raise ValueError(f"PRUNING_EXECUTOR={kind!r} is not one of {EXECUTORS}")
    params = {}
    for item in filter(None, environ.get("PRUNING_EXECUTOR_PARAMS", "").split(",")):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"PRUNING_EXECUTOR_PARAMS: {item!r} is not key=value")
        value = value.strip()
        params[key.strip()] = int(value) if value.isdigit() else value
    return kind, params


def run_tasks(
    tasks: list[Task], jobs: int = 1, kind: str | None = None, poll_s: float = 5.0, **parameters
) -> dict[str, float]:
    """Run a plan (inline for jobs <= 1, else `jobs` submitit workers); returns seconds per task it ran.

    `kind` and `parameters` default to `executor_settings()` (the environment; "local" when unset).
    """
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    if kind is None:
        kind, env_params = executor_settings()
        parameters = {**env_params, **parameters}
    tasks = ordered(tasks)
    if jobs == 1 or len(tasks) <= 1:
        return {t.name: run_task(t) for t in tasks}
    from .train import progress

    folder = cache_dir() / "jobs" / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    (folder / "claims").mkdir(parents=True)
    heartbeat(folder / "claims")
    ex = executor(folder / "logs", kind, **parameters)
    threads = threads_per_job(jobs) if kind == "local" else parameters.get("cpus_per_task", 1)
    handles = [
        ex.submit(worker, tasks, str(folder / "claims"), threads, True) for _ in range(min(jobs, len(tasks)))
    ]
    bar = progress(total=len(tasks), desc=f"plan ({len(handles)} jobs)")
    try:
        wait = 0.1
        while not all(h.done() for h in handles):
            time.sleep(wait)
            wait = min(poll_s, 1.5 * wait)  # short plans return quickly, long ones are polled every poll_s
            heartbeat(folder / "claims")
            bar.n = len(list((folder / "claims").glob("*.done")))
            bar.refresh()
    except BaseException:  # an interrupted notebook stops its workers; finished tasks stay in the cache
        for h in handles:
            h.cancel(check=False)
        raise
    finally:
        bar.close()
    seconds, errors = {}, []
    for h in handles:
        try:
            seconds.update(dict(h.result()))
        except Exception as e:  # submitit re-raises the worker's error with its traceback
            errors.append(str(e))
    if errors:
        raise RuntimeError(
            f"{len(errors)} job(s) of the plan failed (logs in {folder / 'logs'}):\n" + errors[0]
        )
    shutil.rmtree(folder, ignore_errors=True)  # the logs are kept only when a job failed
    return seconds
