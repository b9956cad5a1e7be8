"""Render docs/activities.png: the three views of a few simulated activities (uv run python ...)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from radar_synth import ClipPlan, Segment, render_clip  # noqa: E402
from radar_views import RadarConfig  # noqa: E402

CLIPS = [
    ("walk toward, 1.3 m/s", [Segment("walk", 0, 200, {"speed": 1.3, "direction": "toward"})], 6.5),
    ("run away, 3 m/s", [Segment("run", 0, 150, {"speed": 3.0, "direction": "away"})], 2.5),
    ("wave both arms x4", [Segment("wave", 0, 200, {"arm": "both", "reps": 4})], 3.0),
    (
        "squat x2, then fall forward",
        [Segment("squat", 0, 200, {"reps": 2}), Segment("fall", 200, 320, {"direction": "forward", "delay": 0.2})],
        3.0,
    ),
]


def main():
    cfg = RadarConfig()
    fig, axes = plt.subplots(3, len(CLIPS), figsize=(15, 8), constrained_layout=True)
    for col, (title, segs, r0) in enumerate(CLIPS):
        frames = segs[-1].end_frame
        plan = ClipPlan(segs, frames, 1.75, r0, 10.0, np.arctan2(-np.cos(0.17), -np.sin(0.17)))
        v = render_clip(plan, np.random.default_rng(col), cfg).views
        t_end = frames / cfg.frame_rate_hz
        for row, (img, lo, hi, label) in enumerate(
            [
                (v.range_time, 0, cfg.max_range_m, "range (m)"),
                (v.doppler_time, -cfg.max_velocity_mps, cfg.max_velocity_mps, "velocity (m/s)"),
                (v.azimuth_time, -1, 1, "sin θ"),
            ]
        ):
            ax = axes[row, col]
            ax.imshow(img, origin="lower", aspect="auto", extent=(0, t_end, lo, hi), cmap="viridis", vmin=0, vmax=1)
            ax.set(xlabel="time (s)" if row == 2 else None, ylabel=label if col == 0 else None)
            if row == 0:
                ax.set_title(title)
    out = Path(__file__).resolve().parent / "activities.png"
    fig.savefig(out, dpi=80)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
