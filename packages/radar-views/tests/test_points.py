"""points.py and profiles.py: point clouds on a profile's bins, resampled in time; the sensor registry."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from radar_views import (
    ANGLES,
    SENSOR_PROFILES,
    PointCloud,
    RadarConfig,
    point_bins,
    point_cloud_views,
    sensor_profile,
)

GRID = RadarConfig()


def _cloud(points, times=None) -> PointCloud:
    frames = [np.asarray(p, dtype=np.float64).reshape(-1, 5) for p in points]
    return PointCloud(frames, np.arange(len(frames)) / 50.0 if times is None else times)


@settings(max_examples=60, deadline=None)
@given(
    dist=st.floats(0.5, 10.0),
    azimuth=st.floats(-60, 60),
    elevation=st.floats(-20, 20),
    velocity=st.floats(-7.0, 7.0),
    db=st.floats(0, 60),
    smoothing=st.floats(0.3, 3.0),
    angle=st.sampled_from(ANGLES),
)
def test_one_point_lands_in_the_bins_its_coordinates_give(dist, azimuth, elevation, velocity, db, smoothing, angle):
    az, el = np.radians(azimuth), np.radians(elevation)
    x, y, z = dist * np.cos(el) * np.sin(az), dist * np.cos(el) * np.cos(az), dist * np.sin(el)
    views = point_cloud_views(_cloud([[x, y, z, velocity, db]]), GRID, smoothing=smoothing, angle=angle)
    expected = (
        dist / GRID.range_resolution_m,
        64 + velocity / GRID.velocity_resolution_mps,
        64 * (1 + (np.sin(el) if angle == "elevation" else np.cos(el) * np.sin(az))),
    )  # the direction cosine x / |p| is what the array measures; z / |p| is the elevation's sine
    for view, row in zip((views.range_time, views.doppler_time, views.azimuth_time), expected, strict=True):
        assert view.shape[1] == 1
        assert abs(int(np.argmax(view[:, 0])) - row) <= 0.5 + 1e-6
        inside = 3 * smoothing + 1 < row < view.shape[0] - 3 * smoothing - 2
        if inside:  # the point's power, all of it, in its column
            assert view[:, 0].sum() == pytest.approx(10 ** (db / 10), rel=1e-5)


def test_rows_follow_the_views_conventions():
    rows = point_bins(
        np.array(
            [
                [0.0, 2.0, 0.0, 0.0, 0.0],
                [1.0, 1.0, 0.0, 1.0, 0.0],
                [0.0, 3.0, 0.0, -1.0 + 2 * GRID.max_velocity_mps, 0.0],
            ]
        ),
        GRID,
    )
    assert rows[0] == pytest.approx([2.0 / GRID.range_resolution_m, 64, 64])  # ahead, at rest
    assert rows[1, 2] == pytest.approx(64 * (1 + np.sqrt(0.5)))  # to the right (+x): above row 64
    assert rows[1, 1] == pytest.approx(64 + 1.0 / GRID.velocity_resolution_mps)  # away: above row 64
    assert rows[2, 1] == pytest.approx(64 - 1.0 / GRID.velocity_resolution_mps)  # folded by 2 v_max
    up = point_bins(np.array([[1.0, 1.0, 1.0, 0.0, 0.0]]), GRID, "elevation")
    assert up[0] == pytest.approx(
        point_bins(np.array([[1.0, 1.0, 1.0, 0.0, 0.0]]), GRID)[0, :2].tolist() + [64 * (1 + 3**-0.5)]
    )


def test_the_elevation_view_spreads_as_the_azimuth_view_and_keeps_range_and_doppler():
    source = sensor_profile("iwr1443-radhar")
    ahead = _cloud([[[0.0, 2.0, 0.0, 0.5, 20.0]], [[0.0, 2.0, 0.0, 0.5, 20.0]]])
    level = point_cloud_views(ahead, GRID, source)
    raised = point_cloud_views(ahead, GRID, source, angle="elevation")
    assert raised.azimuth_time == pytest.approx(level.azimuth_time)  # z = x = 0: row 64 either way, one spread
    assert raised.range_time == pytest.approx(level.range_time) and raised.doppler_time == pytest.approx(
        level.doppler_time
    )
    above = point_cloud_views(_cloud([[[0.0, 1.6, 1.2, 0.0, 20.0]]]), GRID, angle="elevation")
    assert int(np.argmax(above.azimuth_time[:, 0])) == round(64 * 1.6)  # sin = 1.2 / 2


def test_a_coarse_source_spreads_its_points_and_count_weights_ignore_intensity():
    cloud = _cloud([[[0.0, 3.0, 0.0, 0.0, 30.0], [0.0, 3.0, 0.0, 0.0, 0.0]]])
    sharp = point_cloud_views(cloud, GRID, weight="count")
    wide = point_cloud_views(cloud, GRID, sensor_profile("iwr1443-radhar"), weight="count")
    assert sharp.doppler_time.sum() == pytest.approx(2.0, rel=1e-5)  # two points of weight 1
    assert (wide.doppler_time > 1e-3).sum() > (sharp.doppler_time > 1e-3).sum()  # 0.61 m/s cells over 0.115 m/s bins
    assert wide.range_time[:, 0] == pytest.approx(sharp.range_time[:, 0])  # same range resolution


def test_frames_are_resampled_to_the_grid_rate_by_nearest_time_and_gaps_stay_empty():
    ranges = 1.0 + 0.25 * np.arange(31)
    times = np.arange(31) / 30.0
    times[20:] += 1.0  # a one-second gap after frame 19
    cloud = _cloud([[[0.0, r, 0.0, 0.0, 20.0]] for r in ranges], times)
    views = point_cloud_views(cloud, GRID)
    grid_times = np.arange(views.num_frames) / GRID.frame_rate_hz
    assert views.num_frames == int(np.floor(times[-1] * 50 + 1e-9)) + 1
    peaks = np.argmax(views.range_time, axis=0)
    for j, t in enumerate(grid_times):
        gap = np.abs(times - t).min()
        if gap > 0.5 / 30 + 1e-9:
            assert views.range_time[:, j].sum() == 0  # no frame that close: empty
        else:
            nearest = ranges[np.argmin(np.abs(times - t))]
            assert abs(peaks[j] - nearest / GRID.range_resolution_m) <= 0.5 + 1e-6


def test_empty_frames_and_bad_input():
    views = point_cloud_views(_cloud([[], [[0.0, 2.0, 0.0, 0.0, np.nan]], []]))
    assert views.range_time[:, 0].sum() == 0 and views.range_time[:, 1].sum() == pytest.approx(1.0)  # no intensity: 1
    with pytest.raises(ValueError, match="strictly increasing"):
        PointCloud([np.zeros((1, 5)), np.zeros((1, 5))], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"frame 0: points must be \[n, 5\]"):
        PointCloud([np.zeros((2, 4))], [0.0])
    with pytest.raises(ValueError, match="weight"):
        point_cloud_views(_cloud([[]]), weight="loud")
    with pytest.raises(ValueError, match="no frame"):
        point_cloud_views(PointCloud([], []))
    with pytest.raises(ValueError, match="angle must be one of"):
        point_cloud_views(_cloud([[]]), angle="tilt")


def test_sensor_profiles():
    radhar = sensor_profile("iwr1443-radhar")
    assert radhar.num_loops == 16 and radhar.frame_rate_hz == pytest.approx(30.0)
    assert radhar.velocity_resolution_mps == pytest.approx(0.6147, abs=1e-4)  # RadHAR's recorded velocity step
    assert radhar.range_resolution_m == pytest.approx(0.04357, abs=1e-5)  # and range step
    assert sensor_profile("iwr1843") == RadarConfig()
    assert set(SENSOR_PROFILES) >= {"iwr1843", "iwr1443-radhar"}
    with pytest.raises(ValueError, match="unknown sensor 'x'; known: iwr1843"):
        sensor_profile("x")
