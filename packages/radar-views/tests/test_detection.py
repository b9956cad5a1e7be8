"""detection.py: the firmware's point-cloud chain finds a simulated point target where it is."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from radarviews_targets import point_target_cube, range_at_frame_middle

from radar_views import AZIMUTH_BINS, RadarConfig, point_cloud_views, sensor_profile
from radar_views.detection import PEAK_GROUPINGS, CfarConfig, _azimuth_peaks, _local_max, detect_points
from radar_views.points import PointCloud

PROFILES = {"iwr1843": RadarConfig(), "iwr1443-radhar": sensor_profile("iwr1443-radhar")}


def _noisy(cube: np.ndarray, seed: int = 0) -> np.ndarray:
    """The cube with receiver noise 40 dB below a unit target's samples."""
    rng = np.random.default_rng(seed)
    return cube + (0.01 * (rng.standard_normal(cube.shape) + 1j * rng.standard_normal(cube.shape))).astype(np.complex64)


@settings(max_examples=25, deadline=None)
@given(
    sensor=st.sampled_from(sorted(PROFILES)),
    r0=st.floats(1.0, 8.0),
    speed=st.floats(0.25, 0.85),
    sign=st.sampled_from((-1, 1)),
    theta=st.floats(-50.0, 50.0),
    elevation=st.floats(-30.0, 30.0),
    seed=st.integers(0, 2**16),
)
def test_a_point_target_is_found_within_one_bin(sensor, r0, speed, sign, theta, elevation, seed):
    cfg = PROFILES[sensor]
    v = sign * speed * cfg.max_velocity_mps  # a mover: clutter removal leaves it
    cube = _noisy(point_target_cube(cfg, 1, r0, v, theta, elevation_deg=elevation), seed)
    (points,) = detect_points(cube, cfg)
    assert len(points) >= 1
    x, y, z, vel, _ = points[0]  # the strongest
    dist = np.sqrt(x * x + y * y + z * z)
    el = np.radians(elevation)
    assert abs(dist - range_at_frame_middle(cfg, 0, r0, v)) <= cfg.range_resolution_m * (1 + 1e-6)
    assert abs(vel - v) <= cfg.velocity_resolution_mps * (1 + 1e-6)
    assert abs(x / dist - np.cos(el) * np.sin(np.radians(theta))) <= 2 / AZIMUTH_BINS + 1e-6
    if np.ptp(cfg.virtual_positions[:, 1]) > 0:  # elevated elements: the elevation from their phase
        # TDM compensation at the Doppler bin's centre leaves up to half a bin's phase per TX slot
        # between the paired elements: pi / (loops x TX) a slot, up to TX - 1 slots apart
        tdm = (cfg.num_tx - 1) / (cfg.num_loops * cfg.num_tx)
        assert abs(z / dist - np.sin(el)) <= tdm + 0.01
    else:
        assert z == 0


def test_static_clutter_is_removed_or_kept_and_cfar_caps_points():
    cfg = PROFILES["iwr1443-radhar"]
    still = _noisy(point_target_cube(cfg, 1, 2.0, 0.0, 0.0))
    assert len(detect_points(still, cfg)[0]) == 0  # removed: a static reflector leaves nothing
    kept = detect_points(still, cfg, clutter_removal=False)[0]
    assert len(kept) >= 1 and kept[0][3] == 0.0 and abs(kept[0][1] - 2.0) <= cfg.range_resolution_m
    many = _noisy(sum(point_target_cube(cfg, 1, r, 1.5, 0.0) for r in (1.5, 2.5, 3.5, 4.5)))
    assert len(detect_points(many, cfg, cfar=CfarConfig(max_points=2))[0]) == 2
    with pytest.raises(ValueError, match="CfarConfig"):
        CfarConfig(train=0)


def test_detected_points_render_where_the_views_chain_puts_the_target():
    cfg = RadarConfig()
    cube = _noisy(point_target_cube(cfg, 3, 4.0, -2.0, -20.0))
    points = detect_points(cube, cfg)
    views = point_cloud_views(PointCloud(points, np.arange(3) * cfg.frame_period_s), cfg)
    row = (4.0 / cfg.range_resolution_m, 64 - 2.0 / cfg.velocity_resolution_mps, 64 * (1 + np.sin(np.radians(-20))))
    for view, expected in zip((views.range_time, views.doppler_time, views.azimuth_time), row, strict=True):
        assert np.all(np.abs(np.argmax(view, axis=0) - expected) <= 2)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 40),
    guard=st.integers(0, 4),
    train=st.integers(1, 8),
    mode=st.sampled_from(("ca", "caso")),
    seed=st.integers(0, 2**16),
)
def test_the_noise_estimate_equals_a_loop_over_cells(n, guard, train, mode, seed):
    from radar_views.detection import _noise_estimate

    power = np.random.default_rng(seed).exponential(size=(2, n))
    fast = _noise_estimate(power, guard, train, mode)
    for row in range(2):
        for i in range(n):
            left = [power[row, j] for j in range(i - guard - train, i - guard) if 0 <= j < n]
            right = [power[row, j] for j in range(i + guard + 1, i + guard + 1 + train) if 0 <= j < n]
            if mode == "ca":
                expected = np.mean(left + right) if left or right else 0.0
            else:
                expected = min(np.mean(left) if left else np.inf, np.mean(right) if right else np.inf)
            assert fast[row, i] == pytest.approx(expected, rel=1e-9)


def _peaks_one_by_one(power: np.ndarray, grouping: str) -> np.ndarray:
    """``_local_max`` cell by cell: each cell against its neighbours along ``grouping``."""
    f, d_bins, r_bins = power.shape
    steps = {
        "range-doppler": [(dd, dr) for dd in (-1, 0, 1) for dr in (-1, 0, 1) if (dd, dr) != (0, 0)],
        "doppler": [(-1, 0), (1, 0)],
        "range": [(0, -1), (0, 1)],
        "none": [],
    }[grouping]
    out = np.ones(power.shape, dtype=bool)
    for i in range(f):
        for d in range(d_bins):
            for r in range(r_bins):
                for dd, dr in steps:
                    if 0 <= r + dr < r_bins and power[i, (d + dd) % d_bins, r + dr] > power[i, d, r]:
                        out[i, d, r] = False
    return out


@settings(max_examples=40, deadline=None)
@given(
    grouping=st.sampled_from(PEAK_GROUPINGS),
    shape=st.tuples(st.integers(1, 2), st.integers(1, 6), st.integers(1, 7)),
    seed=st.integers(0, 2**16),
    ties=st.booleans(),
)
def test_peak_grouping_keeps_the_cells_no_neighbour_exceeds(grouping, shape, seed, ties):
    rng = np.random.default_rng(seed)
    power = rng.integers(0, 3, shape).astype(float) if ties else rng.random(shape)
    peaks = _local_max(power, grouping)
    np.testing.assert_array_equal(peaks, _peaks_one_by_one(power, grouping))
    if grouping == "range-doppler":  # the whole neighbourhood keeps no cell that Doppler alone drops
        assert np.all(peaks <= _local_max(power, "doppler"))
    assert power.max() in power[peaks]  # the strongest cell always stays


def test_doppler_grouping_keeps_a_weaker_mover_in_the_next_range_bin():
    cfg = PROFILES["iwr1443-radhar"]
    still = point_target_cube(cfg, 1, 2.0, 0.0, 0.0)  # the torso: at rest, strong
    mover = 0.3 * point_target_cube(cfg, 1, 2.0 + cfg.range_resolution_m, cfg.velocity_resolution_mps, 0.0)
    cube = _noisy(still + mover)
    speeds = {
        grouping: sorted(abs(p[3]) for p in detect_points(cube, cfg, False, CfarConfig(peak_grouping=grouping))[0])
        for grouping in ("range-doppler", "doppler")
    }
    assert speeds["range-doppler"].count(0.0) >= 1 and max(speeds["range-doppler"]) == 0.0
    assert any(v > 0 for v in speeds["doppler"])  # the limb one bin away in range and Doppler is a point
    with pytest.raises(ValueError, match="peak_grouping"):
        CfarConfig(peak_grouping="both")


def _azimuth_peaks_one_by_one(spectrum: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """``(bin, detection)`` pairs: each column's maximum, then its best other strict-left local maximum."""
    found = []
    for j in range(spectrum.shape[1]):
        col = list(spectrum[:, j])
        first = col.index(max(col))
        found.append((first, j))
        if threshold <= 0:
            continue
        peaks = [
            (col[k], k)
            for k in range(len(col))
            if k != first and (k == 0 or col[k] > col[k - 1]) and (k == len(col) - 1 or col[k] >= col[k + 1])
        ]
        if peaks:
            value, k = max(peaks, key=lambda p: (p[0], -p[1]))
            if value >= threshold * col[first]:
                found.append((k, j))
    return found


@settings(max_examples=40, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 9), st.integers(0, 4)),
    threshold=st.sampled_from([0.0, 0.3, 0.5, 1.0]),
    seed=st.integers(0, 2**16),
    ties=st.booleans(),
)
def test_azimuth_peaks_match_a_column_by_column_search(shape, threshold, seed, ties):
    rng = np.random.default_rng(seed)
    spectrum = rng.integers(1, 4, shape).astype(float) if ties else rng.random(shape)
    bins, owner = _azimuth_peaks(spectrum, threshold)
    assert list(zip(bins.tolist(), owner.tolist(), strict=True)) == _azimuth_peaks_one_by_one(spectrum, threshold)


def test_multi_object_beamforming_finds_two_reflectors_in_one_cell():
    cfg = PROFILES["iwr1443-radhar"]
    v = 2 * cfg.velocity_resolution_mps
    thetas = (-30.0, 25.0)  # further apart than the 8-element row resolves
    cube = _noisy(point_target_cube(cfg, 1, 2.0, v, thetas[0]) + 0.8 * point_target_cube(cfg, 1, 2.0, v, thetas[1]))
    one = detect_points(cube, cfg)[0]
    two = detect_points(cube, cfg, cfar=CfarConfig(multi_object_beamforming=0.5))[0]
    assert len(two) == len(one) + 1
    first, second = two[0], two[1]  # the strongest detection, then its second peak in the same cell
    assert np.array_equal(first[[3, 4]], second[[3, 4]])  # same Doppler and power
    sines = sorted(p[0] / np.linalg.norm(p[:3]) for p in (first, second))
    for got, theta in zip(sines, thetas, strict=True):  # each peak sits on the other's sidelobes: a fifth of
        assert abs(got - np.sin(np.radians(theta))) <= 0.05  # the 8-element row's resolution, 2 / 8 in sin(theta)
    with pytest.raises(ValueError, match="multi_object_beamforming"):
        CfarConfig(multi_object_beamforming=1.5)
