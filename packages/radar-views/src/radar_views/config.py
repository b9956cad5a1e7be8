"""``RadarConfig``: the chirp/frame profile and antenna layout every other module derives from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from .errors import RadarViewsError

__all__ = ["RadarConfig", "SPEED_OF_LIGHT"]

SPEED_OF_LIGHT = 299_792_458.0


def _default_tx() -> list[tuple[float, float]]:
    return [(0.0, 0.0), (4.0, 0.0)]  # TX1, TX3: 4 half-wavelengths apart, in firing order


def _default_rx() -> list[tuple[float, float]]:
    return [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (3.0, 0.0)]


@dataclass(frozen=True)
class RadarConfig:
    """An IWR1843-style 77 GHz TDM-MIMO profile by default (TI demo ``profileCfg``:
    70 MHz/us, 5.209 Msps, 256 samples; 128 loops of TX1, TX3; 20 ms frames)."""

    start_freq_hz: float = 77e9  # ramp start frequency
    slope_hz_per_s: float = 70e12  # chirp slope (70 MHz/us)
    sample_rate_hz: float = 5.209e6  # complex ADC sample rate
    num_samples: int = 256  # ADC samples per chirp (= range bins)
    num_loops: int = 128  # chirp loops per frame (= Doppler bins)
    chirp_period_s: float = 64.14e-6  # start-to-start time of consecutive chirps (idle 7 + ramp 57.14 us)
    adc_start_s: float = 7e-6  # ramp start to first ADC sample
    frame_period_s: float = 0.02  # 50 Hz frames: 496 frames ~ 10 s
    tx_positions: list[tuple[float, float]] = field(
        default_factory=_default_tx
    )  # (x, z), half-wavelengths, firing order
    rx_positions: list[tuple[float, float]] = field(default_factory=_default_rx)  # (x, z), half-wavelengths

    def __post_init__(self) -> None:
        for name in ("start_freq_hz", "slope_hz_per_s", "sample_rate_hz", "chirp_period_s", "frame_period_s"):
            if not getattr(self, name) > 0:
                raise RadarViewsError(f"RadarConfig.{name} must be > 0, got {getattr(self, name)}")
        for name in ("num_samples", "num_loops"):
            if int(getattr(self, name)) < 2:
                raise RadarViewsError(f"RadarConfig.{name} must be >= 2, got {getattr(self, name)}")
        if not self.tx_positions or not self.rx_positions:
            raise RadarViewsError("RadarConfig.tx_positions and rx_positions must not be empty")
        object.__setattr__(self, "tx_positions", [tuple(map(float, p)) for p in self.tx_positions])
        object.__setattr__(self, "rx_positions", [tuple(map(float, p)) for p in self.rx_positions])
        busy = self.num_tx * self.chirp_period_s * self.num_loops
        if busy > self.frame_period_s:
            raise RadarViewsError(
                f"RadarConfig: {self.num_loops} loops x {self.num_tx} TX x chirp_period_s "
                f"= {busy * 1e3:.2f} ms exceed frame_period_s = {self.frame_period_s * 1e3:.2f} ms"
            )

    # -- layout
    @property
    def num_tx(self) -> int:
        return len(self.tx_positions)

    @property
    def num_rx(self) -> int:
        return len(self.rx_positions)

    @property
    def virtual_positions(self) -> np.ndarray:
        """Virtual array ``[tx * rx, 2]`` (x, z) in half-wavelengths, TX-major (cube order)."""
        tx = np.asarray(self.tx_positions, dtype=np.float64)
        rx = np.asarray(self.rx_positions, dtype=np.float64)
        return (tx[:, None, :] + rx[None, :, :]).reshape(-1, 2)

    # -- derived quantities
    @property
    def first_sample_freq_hz(self) -> float:
        """``f0'``: frequency at the first ADC sample (the phase term of the IF signal)."""
        return self.start_freq_hz + self.slope_hz_per_s * self.adc_start_s

    @property
    def center_freq_hz(self) -> float:
        """Centre of the sampled band: the effective carrier seen after the range FFT."""
        return self.first_sample_freq_hz + self.slope_hz_per_s * (self.num_samples - 1) / (2 * self.sample_rate_hz)

    @property
    def wavelength_m(self) -> float:
        """Wavelength at the centre of the sampled band (Doppler scale; unit of antenna positions x 2)."""
        return SPEED_OF_LIGHT / self.center_freq_hz

    @property
    def bandwidth_hz(self) -> float:
        return self.slope_hz_per_s * self.num_samples / self.sample_rate_hz

    @property
    def range_resolution_m(self) -> float:
        """``c * fs / (2 * S * N)``: range of one range bin."""
        return SPEED_OF_LIGHT * self.sample_rate_hz / (2 * self.slope_hz_per_s * self.num_samples)

    @property
    def max_range_m(self) -> float:
        return self.range_resolution_m * self.num_samples

    @property
    def loop_period_s(self) -> float:
        """Time between chirps of the same TX: number of TX x chirp period."""
        return self.num_tx * self.chirp_period_s

    @property
    def velocity_resolution_mps(self) -> float:
        """``lambda / (2 * N_loops * T_loop)``: radial speed of one Doppler bin."""
        return self.wavelength_m / (2 * self.num_loops * self.loop_period_s)

    @property
    def max_velocity_mps(self) -> float:
        return self.wavelength_m / (4 * self.loop_period_s)

    @property
    def frame_rate_hz(self) -> float:
        return 1.0 / self.frame_period_s

    @property
    def frame_shape(self) -> tuple[int, int, int, int]:
        """``(loops, tx, rx, samples)`` of one frame of the raw cube."""
        return (self.num_loops, self.num_tx, self.num_rx, self.num_samples)

    # -- serialisation
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tx_positions"] = [list(p) for p in self.tx_positions]
        d["rx_positions"] = [list(p) for p in self.rx_positions]
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RadarConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RadarViewsError(f"unknown RadarConfig fields {unknown}; known: {sorted(known)}")
        return cls(**data)
