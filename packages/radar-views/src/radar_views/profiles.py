"""Registered sensor profiles: the ``RadarConfig`` of each sensor whose recordings this project reads,
and for a sensor that publishes point clouds, its firmware's chain (``SENSOR_CHAINS``).

``sensor_profile(name)`` returns a profile; ``SENSOR_PROFILES`` lists them. Each entry says where
its numbers come from.
"""

from __future__ import annotations

from .config import RadarConfig
from .detection import PointCloudChain
from .errors import RadarViewsError

__all__ = ["SENSOR_PROFILES", "SENSOR_CHAINS", "sensor_profile", "sensor_chain", "DEFAULT_SENSOR"]

DEFAULT_SENSOR = "iwr1843"

SENSOR_PROFILES: dict[str, RadarConfig] = {
    # TI's IWR1843 demo profile (profileCfg 70 MHz/us, 5.209 Msps, 256 samples; 128 loops of TX1, TX3;
    # 20 ms frames): the simulator's and the built-in dataset's profile.
    "iwr1843": RadarConfig(),
    # RadHAR (nesl/RadHAR): TI's IWR1443 demo profile, three TX fired TX1, TX3, TX2 (TX2 raised by
    # lambda/2 for elevation), 16 loops, 30 frames/s. The recordings fix it: ranges are multiples of
    # 4.36 cm (70 MHz/us, 5.209 Msps, 256 samples), velocities of 0.615 m/s over Doppler bins 0-15 with
    # bin 8 at rest (3 x 64.14 us loops), and frames arrive every 33.3 ms on average.
    "iwr1443-radhar": RadarConfig(
        num_loops=16, frame_period_s=1 / 30, tx_positions=[(0.0, 0.0), (4.0, 0.0), (2.0, 1.0)]
    ),
}

# Sensors whose recordings are point clouds, and how their firmware makes them.
SENSOR_CHAINS: dict[str, PointCloudChain] = {
    # RadHAR left static clutter in: 98 % of its points have velocity 0.
    "iwr1443-radhar": PointCloudChain(clutter_removal=False),
}


def sensor_chain(name: str) -> PointCloudChain | None:
    """The point-cloud chain of sensor ``name``, or None for a sensor recorded as raw cubes."""
    sensor_profile(name)  # an unknown name raises
    return SENSOR_CHAINS.get(name)


def sensor_profile(name: str) -> RadarConfig:
    """The registered profile ``name`` (``SENSOR_PROFILES``); ``ValueError`` naming the known ones."""
    try:
        return SENSOR_PROFILES[name]
    except KeyError:
        raise RadarViewsError(f"unknown sensor {name!r}; known: {', '.join(SENSOR_PROFILES)}") from None
