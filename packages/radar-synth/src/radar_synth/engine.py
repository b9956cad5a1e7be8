"""Where the simulation runs: ``local`` (a process pool on this machine) or ``ray`` (Ray Core tasks, on a
local Ray started for the run or on a cluster). Both call the same task function on the same task
list and hand the results back in task order, so the outputs are byte-identical; the tasks write their
clips into the run's partial directory themselves (on a cluster it must be on a file system every node
mounts), so an interrupted run of either engine continues with the same command.

Ray: one task per group of clip tasks (``num_cpus=1``, retried up to ``MAX_RETRIES`` times when its
worker dies; an exception of the task itself is not retried and is raised here as it was raised
there), at most ``workers`` in flight (``--workers``: CPUs requested), BLAS threads pinned to 1. A
local Ray started here runs its workers on this process's own interpreter (Ray's ``uv run``
integration would start each in a fresh environment without Ray or this package), and a Ray whose
workers cannot start is named within ``WORKER_START_S`` seconds instead of retrying them forever."""

from __future__ import annotations

import logging
import math
import multiprocessing as mp
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .errors import SynthError

__all__ = [
    "ENGINES",
    "parallel_map",
    "ray_map",
    "MAX_RETRIES",
    "group_size",
    "EngineUnavailable",
    "WORKER_START_S",
    "check_workers_start",
    "start_local_ray",
]

ENGINES = ("local", "ray")
MAX_RETRIES = 3  # a task whose worker process dies (killed, out of memory, node lost) runs again
MAX_GROUP = 16  # clip tasks per Ray task at most: a worker holds one clip's arrays at a time
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
WORKER_START_S = 60.0  # a Ray worker that has not run a trivial task by then is not going to start


class EngineUnavailable(ImportError, SynthError):
    """The engine asked for cannot run here: Ray is not installed, or its cluster cannot be reached."""


def parallel_map(fn: Callable, tasks: list, workers: int, engine: str = "local", address: str = "auto") -> Iterator:
    """``fn(task)`` for every task, in task order: on ``workers`` spawned processes (``local``; in this
    process for ``workers <= 1``) or as Ray tasks (``ray``, ``address``: see ``ray_map``)."""
    if engine not in ENGINES:
        raise SynthError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "ray":
        yield from ray_map(fn, tasks, workers, address)
        return
    if workers <= 1:
        yield from map(fn, tasks)
        return
    with _one_thread(), mp.get_context("spawn").Pool(workers) as pool:  # one core per worker
        yield from pool.imap(fn, tasks, chunksize=1)


@contextmanager
def _one_thread():
    """``ONE_THREAD`` in this process's environment while the block runs (inherited by the processes it starts)."""
    saved = {k: os.environ.get(k) for k in ONE_THREAD}
    os.environ.update(ONE_THREAD)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def group_size(tasks: int, workers: int) -> int:
    """Clip tasks per Ray task: about four groups per worker (balance), at most ``MAX_GROUP``."""
    return max(1, min(MAX_GROUP, math.ceil(tasks / (4 * max(workers, 1)))))


def _run_group(fn: Callable, group: list) -> list:
    return [fn(task) for task in group]


def ray_map(
    fn: Callable,
    tasks: list,
    workers: int,
    address: str = "auto",
    group: int | None = None,
    max_retries: int = MAX_RETRIES,
) -> Iterator:
    """``fn(task)`` for every task, in task order, as Ray tasks of ``group`` clip tasks each, at most
    ``workers`` at a time. ``address``: ``auto`` (a running cluster, else a local Ray started for this
    call with ``workers`` CPUs), ``local`` (always a new local Ray), or a cluster address (``ray://...`` or
    ``HOST:PORT``). A Ray this call started is shut down when it ends."""
    ray = _import_ray()
    started = _connect(ray, address, workers)
    try:
        check_workers_start(ray)
    except EngineUnavailable:
        if started:
            ray.shutdown()
        raise
    size = group or group_size(len(tasks), workers)
    groups = [tasks[i : i + size] for i in range(0, len(tasks), size)]
    options: dict[str, object] = {"num_cpus": 1, "max_retries": max_retries, "retry_exceptions": False}
    if started != "local":  # a local Ray's workers inherit ONE_THREAD from this process; a cluster's get it here
        options["runtime_env"] = {"env_vars": ONE_THREAD}
    remote = ray.remote(_run_group).options(**options)
    refs: dict[int, object] = {}
    try:
        for i in range(len(groups)):
            while len(refs) < max(workers, 1) and i + len(refs) < len(groups):
                j = i + len(refs)
                refs[j] = remote.remote(fn, groups[j])
            yield from _result(ray, refs.pop(i))
    except BaseException:
        for ref in refs.values():
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()


def _result(ray, ref) -> list:
    """The group's results; a task's own exception raised as it was raised in the task."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as err:
        cause = getattr(err, "cause", None)
        if isinstance(cause, Exception):
            raise cause from None
        raise


def _import_ray():
    try:
        import ray
    except ImportError:
        raise EngineUnavailable("--engine ray needs Ray: pip install 'radar-synth[ray]'") from None
    return ray


def _connect(ray, address: str, workers: int) -> str:
    """Join the Ray ``address`` says (see ``ray_map``): ``""`` when this process was already connected
    (left so), ``"local"`` when this call started a local Ray, ``"cluster"`` when it joined one."""
    if ray.is_initialized():
        return ""
    quiet = {"logging_level": logging.WARNING, "log_to_driver": False, "include_dashboard": False}
    if address == "auto":
        try:
            ray.init(address="auto", **quiet)
            return "cluster"
        except ConnectionError:
            address = "local"
    if address != "local":
        try:
            ray.init(address=address, **quiet)
        except (ConnectionError, ValueError, RuntimeError) as err:
            raise EngineUnavailable(f"--ray-address {address}: cannot join that Ray cluster ({err})") from None
        return "cluster"
    start_local_ray(ray, workers, **quiet)
    return "local"


def start_local_ray(ray, workers: int, **options) -> None:
    """``ray.init`` of a local Ray with ``workers`` CPUs, as ``ray_map`` starts one: its workers run this
    interpreter with BLAS on one thread (``options``: more ``ray.init`` arguments)."""
    with _one_thread(), _own_interpreter(ray):  # inherited by the raylet and its workers
        ray.init(num_cpus=max(workers, 1), **options)


@contextmanager
def _own_interpreter(ray):
    """Ray's workers on this process's interpreter: Ray (2.4x and later) starts each worker of a driver
    run by ``uv run`` with ``uv run`` in an uploaded copy of the working directory, a fresh environment
    that lacks Ray and this package, so every worker dies at start and is restarted forever."""
    constants = getattr(getattr(ray, "_private", None), "ray_constants", None)
    flag = "RAY_ENABLE_UV_RUN_RUNTIME_ENV"
    if constants is None or not hasattr(constants, flag):
        yield
        return
    before = getattr(constants, flag)
    setattr(constants, flag, False)
    try:
        yield
    finally:
        setattr(constants, flag, before)


def _ping() -> int:
    return os.getpid()


def check_workers_start(ray, seconds: float = WORKER_START_S) -> None:
    """A trivial task must run within ``seconds`` (``EngineUnavailable`` otherwise): Ray retries a worker
    that cannot start without end, and says nothing to the driver."""
    ref = ray.remote(_ping).options(num_cpus=0, max_retries=0).remote()
    try:
        ray.get(ref, timeout=seconds)
    except ray.exceptions.GetTimeoutError:
        ray.cancel(ref, force=True)
        raise EngineUnavailable(
            f"--engine ray: no Ray worker started within {seconds:.0f} s (a worker that cannot "
            f"start is retried without end; Ray's logs under /tmp/ray/session_latest/logs "
            f"say why)"
        ) from None
