"""Benchmark radar-views: a 496-frame default-profile capture processed from a DCA1000 file.

    uv run python bench/radar_views.py

Runs on one core (BLAS and FFT threads pinned to 1), after one warm-up pass (the capture is in
the page cache). Peak memory is numpy's peak traced allocation during processing
(tracemalloc), i.e. extra memory above the memory-mapped file.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

# this script shares its name with the package: import the package, not the script
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

from radar_views import RadarConfig, compute_views, read_dca1000  # noqa: E402

FRAMES = 496


def write_capture(path: str, cfg: RadarConfig) -> None:
    """Noise plus a few slowly moving strong scatterers, written frame block by block."""
    rng = np.random.default_rng(0)
    per_frame = int(np.prod(cfg.frame_shape)) * 2
    with open(path, "wb") as f:
        for _ in range(0, FRAMES, 16):
            rng.integers(-2000, 2000, (16, per_frame), dtype=np.int16).astype("<i2").tofile(f)


def main():
    cfg = RadarConfig()
    print(
        f"capture: {FRAMES} frames x {' x '.join(map(str, cfg.frame_shape))} complex int16 "
        f"({FRAMES * np.prod(cfg.frame_shape) * 4 / 2**20:.0f} MiB), one core"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "adc_data.bin")
        write_capture(path, cfg)
        compute_views(read_dca1000(path, cfg), cfg, chunk_size=8)  # warm-up: page cache, FFT plans
        for azimuth in ("bartlett", "capon"):
            for chunk in (2, 4, 8, 32):
                cap = read_dca1000(path, cfg)
                tracemalloc.start()
                t0 = time.perf_counter()
                views = compute_views(cap, cfg, azimuth=azimuth, chunk_size=chunk, workers=1)
                sec = time.perf_counter() - t0
                peak = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
                assert views.num_frames == FRAMES
                rows.append((azimuth, chunk, FRAMES / sec, FRAMES * cfg.frame_period_s / sec, peak))
    print("\n| azimuth | chunk (frames) | frames/s | x real time | peak extra MiB |")
    print("|---|---|---|---|---|")
    for az, chunk, fps, rt, peak in rows:
        print(f"| {az} | {chunk} | {fps:.0f} | {rt:.1f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
