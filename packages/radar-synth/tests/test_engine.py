"""radar_synth.engine: the Ray engine (a local Ray on 2 CPUs) writes the local engine's bytes, survives
a worker killed mid-task (retried), raises a task's own error as it was raised, and an interrupted
run (its driver killed) continues with the same command, re-doing only the unfinished clips."""

import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest

ray = pytest.importorskip("ray")

from radar_synth import generate_dataset  # noqa: E402
from radar_synth.engine import group_size, parallel_map, ray_map, start_local_ray  # noqa: E402
from radar_synth.mocap import read_joints_folder  # noqa: E402
from radar_synth.mocap_fixtures import write_joints_fixture  # noqa: E402
from radar_synth.simulate import SimulateOptions, simulate_corpus  # noqa: E402


def digest(root):
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module (2 CPUs); ray_map uses it and leaves it running."""
    if not ray.is_initialized():
        start_local_ray(ray, 2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield
    ray.shutdown()


def test_synth_and_simulate_write_the_same_bytes_on_ray(tmp_path, local_ray):
    kw = {"seed": 5, "max_frames": 100, "progress": False, "twins": 0.25}
    generate_dataset(tmp_path / "local", 10, workers=2, **kw)
    generate_dataset(tmp_path / "ray", 10, workers=2, engine="ray", **kw)
    assert digest(tmp_path / "local") == digest(tmp_path / "ray")
    generate_dataset(tmp_path / "wds", 10, workers=2, engine="ray", format="wds", shard_size=4, **kw)
    generate_dataset(tmp_path / "wds-local", 10, workers=1, format="wds", shard_size=4, **kw)
    assert digest(tmp_path / "wds") == digest(tmp_path / "wds-local")
    root = write_joints_fixture(tmp_path / "j", 3)
    items = read_joints_folder(root, root / "captions.json")
    opts = SimulateOptions(seed=3, max_frames=48, rotations=2)
    local = simulate_corpus(items, tmp_path / "sl", opts, root=root, workers=1, progress=False)
    remote = simulate_corpus(items, tmp_path / "sr", opts, root=root, workers=2, progress=False, engine="ray")
    assert digest(local.out) == digest(remote.out) and remote.clips == 6


def _dies_once(marker_dir, task):
    """Kill this worker process the first time task 3 runs (a crash mid-task), then work."""
    marker = os.path.join(marker_dir, f"{task}.started")
    if task == 3 and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return task * task


def _fails(task):
    if task == 2:
        raise ValueError(f"motion {task}: unreadable file m{task}.npy")
    return task


def test_a_killed_worker_is_retried_and_a_task_error_is_raised_as_it_was(tmp_path, local_ray):
    import functools

    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module
    fn = functools.partial(_dies_once, str(tmp_path))
    assert list(ray_map(fn, list(range(8)), 2, group=2)) == [t * t for t in range(8)]
    assert (tmp_path / "3.started").exists()
    with pytest.raises(ValueError, match=r"motion 2: unreadable file m2\.npy"):
        list(parallel_map(_fails, list(range(6)), 2, engine="ray"))
    with pytest.raises(ValueError, match="engine must be one of"):
        list(parallel_map(_fails, [1], 1, engine="spark"))
    assert group_size(1000, 2) == 16 and group_size(10, 2) == 2 and group_size(1, 4) == 1


RUN = dict(seed=7, workers=2, max_frames=100, progress=False, engine="ray", ray_address="local")
DRIVER = f"""
import sys
from radar_synth import generate_dataset
generate_dataset(sys.argv[1], 24, **{RUN!r})
"""


def test_a_killed_driver_continues_with_the_same_command(tmp_path, local_ray):
    out = tmp_path / "ds"
    records = tmp_path / ".ds.synth-partial" / "records"
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(out)], start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline and len(list(records.glob("*.json"))) < 6:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its local Ray, mid-run
    proc.wait()
    clips = records.parent / "dataset" / "clips"
    done = {f"{p.stem}.npz": (clips / f"{p.stem}.npz").stat().st_mtime_ns for p in records.glob("*.json")}
    assert 6 <= len(done) < 24 and not out.exists()
    generate_dataset(out, 24, **RUN)  # DRIVER's call again, in this process (its local Ray is up)
    assert {name: (out / "clips" / name).stat().st_mtime_ns for name in done} == done  # not simulated again
    generate_dataset(tmp_path / "whole", 24, seed=7, workers=2, max_frames=100, progress=False)
    assert digest(out) == digest(tmp_path / "whole") and not records.parent.exists()


def test_an_unreachable_cluster_is_named(tmp_path, monkeypatch):
    from radar_synth.engine import EngineUnavailable

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: (_ for _ in ()).throw(ConnectionError("no cluster at 10.0.0.9")))
    with pytest.raises(EngineUnavailable, match=r"--ray-address 10\.0\.0\.9:6379: cannot join"):
        list(ray_map(abs, [1], 1, "10.0.0.9:6379"))
    assert isinstance(EngineUnavailable("x"), ValueError)  # the CLI's one-line errors catch it


UV_DRIVER = (
    "from radar_synth.engine import ray_map\nprint(list(ray_map(abs, [-1, -2, 3], workers=1, address='local')))\n"
)


def test_a_local_ray_under_uv_run_runs_its_workers_on_the_drivers_interpreter(tmp_path):
    """Under ``uv run``, Ray starts each worker with ``uv run`` in an uploaded copy of the working
    directory, whose fresh environment lacks Ray: every worker died at start and the run never ended.
    The driver here runs under a process whose command line is ``uv run`` (what Ray looks for)."""
    (tmp_path / "driver.py").write_text(UV_DRIVER)
    (tmp_path / "run").write_text(
        "import os, subprocess, sys\nsys.exit(subprocess.run([os.environ['DRIVER_PYTHON'], 'driver.py']).returncode)\n"
    )
    done = subprocess.run(
        ["uv", "run"],
        executable=sys.executable,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DRIVER_PYTHON": sys.executable},
    )
    assert done.returncode == 0 and done.stdout.strip() == "[1, 2, 3]", done.stderr[-2000:]


def test_a_ray_whose_workers_cannot_start_is_named_within_the_bound(tmp_path):
    script = (
        "import ray\nfrom radar_synth.engine import EngineUnavailable, check_workers_start\n"
        "ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, logging_level='WARNING',\n"
        "         runtime_env={'py_executable': 'false'})\n"
        "try:\n    check_workers_start(ray, 5)\nexcept EngineUnavailable as err:\n    print(err)\n"
    )
    start = time.monotonic()  # (Ray's uv-run integration, under `uv run pytest`, would replace the broken executable)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0"},
    )
    assert "no Ray worker started within 5 s" in done.stdout, done.stderr[-2000:]
    assert time.monotonic() - start < 60
