"""Benchmark radar-synth: clips per second per core and peak memory for default clips.

    uv run python bench/radar_synth.py            # BENCH_CLIPS=8 by default
    BENCH_ENGINES=1 uv run python bench/radar_synth.py   # generate_dataset: the local pool against Ray

With ``BENCH_ENGINES=1`` (``BENCH_ENGINE_CLIPS``, default 96 clips of <= 496 frames): end-to-end clips/s
of ``generate_dataset`` with the local pool and with ``engine="ray"`` at 2 workers and at every core
(Ray's start counted, and with a Ray started beforehand: the steady state of a cluster that is up),
then a worked estimate for HumanML3D with 8 rotations on N machines of 16 cores.

One process, BLAS/FFT threads pinned to 1. Each clip is planned as in ``generate_dataset``
(100-496 frames) and rendered to normalised views. Timing runs untraced; peak memory is numpy's
traced peak (tracemalloc) in a second pass over the same clips.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

# this script shares its name with the package: import the package, not the script
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

from radar_synth import plan_clip, render_clip  # noqa: E402
from radar_views import RadarConfig  # noqa: E402


def _skeleton_row(cfg: RadarConfig, clips: int) -> tuple:
    """10-second motions as SMPL-22 joints at 20 fps (HumanML3D's rate): placement, resampling to the
    pose rate, ellipsoids and the fast path, per clip; the joints are made beforehand (not timed)."""
    from radar_synth.clip import render_trajectories
    from radar_synth.simulate import _placed
    from radar_synth.skeleton import SMPL22, body_joints, skeleton_trajectories

    motions = []
    for i in range(clips):
        rng = np.random.default_rng([0, i])
        motions.append(body_joints(plan_clip(rng, cfg.frame_rate_hz, min_frames=496), cfg.frame_rate_hz, 20.0))
    frames = 496
    secs, peak = 0.0, 0.0
    for traced in (False, True):
        for i, world in enumerate(motions):
            rng = np.random.default_rng([1, i])
            if traced:
                tracemalloc.start()
            t0 = time.perf_counter()
            placed, _ = _placed(world, SMPL22, rng, None, frames, 20.0, cfg.frame_rate_hz)
            traj = skeleton_trajectories(placed, 20.0, SMPL22, frames, cfg.frame_rate_hz)
            render_trajectories(traj, frames, rng, cfg)
            if traced:
                peak = max(peak, tracemalloc.get_traced_memory()[1] / 2**20)
                tracemalloc.stop()
            else:
                secs += time.perf_counter() - t0
    return (
        "fast, skeleton (SMPL-22 at 20 fps, 10 s motions)",
        clips,
        frames,
        clips / secs,
        clips * frames / secs,
        peak,
    )


def main():
    cfg = RadarConfig()
    clips = int(os.environ.get("BENCH_CLIPS", "8"))
    rows = []
    # default clips (100-496 frames, as generate_dataset plans them) and the longest ones
    for label, min_frames in (("fast", 100), ("fast, 496-frame clips", 496)):
        frames = secs = 0.0
        peak = 0.0
        for i in range(clips):
            rng = np.random.default_rng([0, i])
            plan = plan_clip(rng, cfg.frame_rate_hz, min_frames=min_frames)
            t0 = time.perf_counter()
            render_clip(plan, rng, cfg)
            secs += time.perf_counter() - t0
            frames += plan.num_frames
        for i in range(clips):  # tracemalloc slows numpy allocations down: a separate pass
            rng = np.random.default_rng([0, i])
            plan = plan_clip(rng, cfg.frame_rate_hz, min_frames=min_frames)
            tracemalloc.start()
            render_clip(plan, rng, cfg)
            peak = max(peak, tracemalloc.get_traced_memory()[1] / 2**20)
            tracemalloc.stop()
        rows.append((label, clips, frames / clips, clips / secs, frames / secs, peak))
    rows.append(_skeleton_row(cfg, clips))
    # the exact path on a short clip, for scale
    rng = np.random.default_rng(1)
    plan = plan_clip(rng, cfg.frame_rate_hz)
    plan.num_frames = 8
    plan.segments = plan.segments[:1]
    plan.segments[0].end_frame = 8
    t0 = time.perf_counter()
    render_clip(plan, rng, cfg, path="exact")
    exact_fps = 8 / (time.perf_counter() - t0)
    print("\n| path | clips | mean frames | clips/s (one core) | frames/s | peak MiB |")
    print("|---|---|---|---|---|---|")
    for label, n, mf, cps, fps, pk in rows:
        print(f"| {label} | {n} | {mf:.0f} | {cps:.2f} | {fps:.0f} | {pk:.0f} |")
    print(f"| exact (8-frame clip) | 1 | 8 | {exact_fps / 300:.4f} (at 300 frames) | {exact_fps:.1f} | - |")


def engines() -> None:
    import logging
    import shutil
    import tempfile
    from pathlib import Path

    import ray

    from radar_synth import generate_dataset
    from radar_synth.engine import start_local_ray

    clips = int(os.environ.get("BENCH_ENGINE_CLIPS", "96"))
    rows, local_rate = [], {}
    for workers in sorted({2, os.cpu_count() or 2}):
        for engine, warm in (("local", False), ("ray", False), ("ray", True)):
            if warm:
                start_local_ray(
                    ray, workers, logging_level=logging.WARNING, log_to_driver=False, include_dashboard=False
                )
                generate_dataset(
                    tempfile.mkdtemp() + "/w", 2 * workers, seed=1, workers=workers, progress=False, engine="ray"
                )  # the workers' imports, as on a cluster that has run before
            out = Path(tempfile.mkdtemp()) / "d"
            t0 = time.perf_counter()
            generate_dataset(out, clips, seed=0, workers=workers, progress=False, engine=engine)
            rate = clips / (time.perf_counter() - t0)
            if warm:
                ray.shutdown()
            shutil.rmtree(out.parent)
            local_rate.setdefault(workers, rate)
            name = {
                ("local", False): "local pool",
                ("ray", False): "ray (a local Ray started by the call)",
                ("ray", True): "ray (Ray already up)",
            }[engine, warm]
            rows.append((workers, name, rate, 100 * (local_rate[workers] / rate - 1)))
    print(f"\n{clips} clips (generate_dataset defaults, <= 496 frames), {os.cpu_count()} CPUs\n")
    print("| workers | engine | clips/s | overhead vs local |")
    print("|---|---|---|---|")
    for workers, name, rate, over in rows:
        print(f"| {workers} | {name} | {rate:.2f} | {over:+.0f} % |")
    per_core = _skeleton_row(RadarConfig(), 4)[3]  # 10-second SMPL-22 motions, one core: HumanML3D's longest
    hml = 29_232 * 8
    print(
        f"\nHumanML3D, 29,232 whole motions x 8 rotations = {hml:,} clips, at most 10 s each, at "
        f"{per_core:.2f} clips/s per core (10-second skeleton motions on this machine), Ray's overhead "
        f"taken as measured with Ray up:"
    )
    for machines in (1, 4, 16, 64):
        minutes = hml / (per_core * 16 * machines) / 60
        print(f"- {machines} machine(s) of 16 cores: {minutes:.0f} min")


if __name__ == "__main__":
    engines() if os.environ.get("BENCH_ENGINES") == "1" else main()
