"""Render docs/new_activities.png: the Doppler-time views of the 15 activities added in radar-synth 0.6
(uv run python packages/radar-synth/docs/make_new_activities_figure.py)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from radar_synth import ACTIVITIES, ClipPlan, Segment, render_clip  # noqa: E402
from radar_views import RadarConfig  # noqa: E402

NEW = (
    "walk_backward",
    "sidestep",
    "jumping_jacks",
    "arm_circles",
    "bow",
    "lunge",
    "lie_down",
    "throw",
    "push",
    "drink",
    "reach_up",
    "hop_on_one_leg",
    "march_in_place",
    "side_bend",
    "torso_twist",
)


def main():
    cfg = RadarConfig()
    fig, axes = plt.subplots(3, 5, figsize=(15, 8), constrained_layout=True, sharey=True)
    for i, (name, ax) in enumerate(zip(NEW, axes.flat, strict=True)):
        rng = np.random.default_rng(i)
        params = ACTIVITIES[name].sample_params(rng)
        if ACTIVITIES[name].moves:
            params["direction"] = "toward"
        frames = 200
        plan = ClipPlan(
            [Segment(name, 0, frames, params)], frames, 1.75, 5.0, 10.0, np.arctan2(-np.cos(0.17), -np.sin(0.17))
        )
        v = render_clip(plan, rng, cfg).views
        ax.imshow(
            v.doppler_time,
            origin="lower",
            aspect="auto",
            cmap="viridis",
            vmin=0,
            vmax=1,
            extent=(0, frames / cfg.frame_rate_hz, -cfg.max_velocity_mps, cfg.max_velocity_mps),
        )
        detail = ", ".join(f"{k} {v}" for k, v in params.items() if k != "direction")
        ax.set_title(f"{name.replace('_', ' ')}" + (f"\n{detail}" if detail else "\n"), fontsize=10)
        ax.set(xlabel="time (s)" if i >= 10 else None, ylabel="velocity (m/s)" if i % 5 == 0 else None)
    out = Path(__file__).resolve().parent / "new_activities.png"
    fig.savefig(out, dpi=70)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
