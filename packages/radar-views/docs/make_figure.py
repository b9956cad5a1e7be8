"""Render docs/views.png: the three views of two simulated point targets (uv run python ...).

Uses the signal-model generator of the tests (tests/radarviews_targets.py).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from radarviews_targets import point_target_cube  # noqa: E402

from radar_views import RadarConfig, compute_views  # noqa: E402


def main():
    cfg = RadarConfig()
    frames = 100  # 2 s
    cube = (
        point_target_cube(cfg, frames, 2.0, 2.0, 30.0)  # receding at 2 m/s, 30 deg
        + point_target_cube(cfg, frames, 8.0, -1.0, -20.0, amplitude=0.7)
    )  # approaching, -20 deg
    v = compute_views(cube, cfg, normalize="db")
    t_end = frames * cfg.frame_period_s
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), constrained_layout=True)
    specs = [
        (v.range_time, (0, cfg.max_range_m), "range-time: row k = k·Δr", "range (m)"),
        (
            v.doppler_time,
            (-cfg.max_velocity_mps, cfg.max_velocity_mps),
            "Doppler-time: row 64 = 0 m/s, receding above",
            "radial velocity (m/s)",
        ),
        (v.azimuth_time, (-1, 1), "azimuth-time: row k ↔ sin θ = (k−64)/64", "sin θ"),
    ]
    for ax, (img, (lo, hi), title, ylabel) in zip(axes, specs, strict=True):
        im = ax.imshow(img, origin="lower", aspect="auto", extent=(0, t_end, lo, hi), cmap="viridis")
        ax.set(title=title, xlabel="time (s)", ylabel=ylabel)
    fig.colorbar(im, ax=axes, shrink=0.8, label="normalised dB")
    fig.suptitle("Two point targets: 2 m → receding 2 m/s at +30°; 8 m → approaching 1 m/s at −20°")
    out = HERE / "views.png"
    fig.savefig(out, dpi=90)
    print(f"wrote {out} ({np.round(out.stat().st_size / 1024)} KiB)")


if __name__ == "__main__":
    main()
