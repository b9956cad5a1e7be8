import numpy as np
import pytest
from radarviews_targets import point_target_cube

from radar_views import RadarConfig, compute_views, read_dca1000, write_dca1000

SMALL = RadarConfig(num_samples=8, num_loops=4, chirp_period_s=60e-6)


def int_cube(cfg, frames, seed=0):
    rng = np.random.default_rng(seed)
    shape = (frames, *cfg.frame_shape)
    re = rng.integers(-32768, 32768, shape)
    im = rng.integers(-32768, 32768, shape)
    return (re + 1j * im).astype(np.complex64)


@pytest.mark.parametrize("fmt", ["xwr18xx", "xwr14xx"])
@pytest.mark.parametrize("iq_swap", [False, True])
def test_round_trip_is_exact(tmp_path, fmt, iq_swap):
    cube = int_cube(SMALL, 3)
    path = write_dca1000(tmp_path / "adc_data.bin", cube, SMALL, fmt, iq_swap)
    assert path.stat().st_size == cube.size * 4
    cap = read_dca1000(path, SMALL, fmt, iq_swap)
    assert cap.shape == cube.shape and len(cap) == 3
    np.testing.assert_array_equal(np.asarray(cap), cube)
    np.testing.assert_array_equal(cap[1], cube[1])
    np.testing.assert_array_equal(cap[-1], cube[-1])
    np.testing.assert_array_equal(cap[1:3], cube[1:3])


def test_xwr18xx_byte_layout_is_pinned(tmp_path):
    """int16 groups I(n), I(n+1), Q(n), Q(n+1); order chirp (loop, TX slot) -> rx -> sample."""
    cfg = RadarConfig(
        num_samples=4, num_loops=2, tx_positions=[(0, 0), (4, 0)], rx_positions=[(0, 0), (1, 0)], chirp_period_s=60e-6
    )
    n = 2 * 2 * 2 * 4  # loops * tx * rx * samples
    index = np.arange(n)
    raw = np.empty(2 * n, dtype="<i2")
    raw.reshape(-1, 4)[:, 0] = index[0::2]  # I(n)
    raw.reshape(-1, 4)[:, 1] = index[1::2]  # I(n+1)
    raw.reshape(-1, 4)[:, 2] = -index[0::2]  # Q(n)
    raw.reshape(-1, 4)[:, 3] = -index[1::2]  # Q(n+1)
    raw.tofile(tmp_path / "a.bin")
    cube = np.asarray(read_dca1000(tmp_path / "a.bin", cfg))
    want = (index - 1j * index).reshape(1, 2, 2, 2, 4)
    np.testing.assert_array_equal(cube, want)


def test_xwr14xx_byte_layout_is_pinned(tmp_path):
    """Per sample: I_rx0..I_rx3, Q_rx0..Q_rx3; order chirp -> sample."""
    cfg = RadarConfig(num_samples=3, num_loops=2, tx_positions=[(0, 0)], chirp_period_s=60e-6)
    raw = []
    for chirp in range(2):
        for s in range(3):
            base = 100 * chirp + 10 * s
            raw += [base + rx for rx in range(4)] + [-(base + rx) for rx in range(4)]
    np.asarray(raw, dtype="<i2").tofile(tmp_path / "b.bin")
    cube = np.asarray(read_dca1000(tmp_path / "b.bin", cfg, fmt="xwr14xx"))
    for chirp in range(2):
        for rx in range(4):
            for s in range(3):
                v = 100 * chirp + 10 * s + rx
                assert cube[0, chirp, 0, rx, s] == v - 1j * v


def test_iq_swap_mirrors_the_range_spectrum(tmp_path):
    cfg = RadarConfig()
    cube = np.round(point_target_cube(cfg, 1, 3.0, 1.0, 0.0, amplitude=1000.0))
    write_dca1000(tmp_path / "c.bin", cube, cfg)
    right = compute_views(read_dca1000(tmp_path / "c.bin", cfg), cfg, normalize="none")
    wrong = compute_views(read_dca1000(tmp_path / "c.bin", cfg, iq_swap=True), cfg, normalize="none")
    k = int(right.range_time[:, 0].argmax())
    assert abs(k - round(3.0 / cfg.range_resolution_m)) <= 1
    assert abs(int(wrong.range_time[:, 0].argmax()) - (cfg.num_samples - k)) <= 1


def test_truncated_last_frame_is_dropped_with_a_warning(tmp_path):
    cube = int_cube(SMALL, 2)
    path = write_dca1000(tmp_path / "d.bin", cube, SMALL)
    with open(path, "ab") as f:
        f.write(b"\x01\x00" * 5)
    with pytest.warns(UserWarning, match="10 bytes left over"):
        cap = read_dca1000(path, SMALL)
    assert len(cap) == 2
    np.testing.assert_array_equal(np.asarray(cap), cube)


def test_wrong_sizes_and_values_raise_clear_errors(tmp_path):
    (tmp_path / "tiny.bin").write_bytes(b"\x00" * 10)
    with pytest.raises(ValueError, match="less than one frame"):
        read_dca1000(tmp_path / "tiny.bin", SMALL)
    with pytest.raises(FileNotFoundError, match="missing.bin"):
        read_dca1000(tmp_path / "missing.bin", SMALL)
    with pytest.raises(ValueError, match="integers"):
        write_dca1000(tmp_path / "e.bin", int_cube(SMALL, 1) + 0.5, SMALL)
    with pytest.raises(ValueError, match="int16 range"):
        write_dca1000(tmp_path / "e.bin", int_cube(SMALL, 1) * 4, SMALL)
    with pytest.raises(ValueError, match="shape"):
        write_dca1000(tmp_path / "e.bin", int_cube(SMALL, 1)[:, :2], SMALL)
    with pytest.raises(ValueError, match="4 receivers"):
        read_dca1000(tmp_path / "tiny.bin", RadarConfig(rx_positions=[(0, 0)]), fmt="xwr14xx")
    assert not list(tmp_path.glob(".e.bin*"))  # failed writes leave no temporary file
