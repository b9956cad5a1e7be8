import io
import zipfile
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import radar_text_data.clips as clips_module
from radar_text_data import (
    BadClipError,
    ClipRecord,
    check_headers,
    clip_arrays,
    clip_header_problem,
    decode_clip,
    encode_clip,
    load_clip,
    read_manifest,
    write_clip,
)
from radar_text_data.testing import tiny_dataset


def test_encoding_depends_only_on_the_arrays():
    rng = np.random.default_rng(0)
    views = {k: rng.random((b, 20)) for k, b in (("range_time", 256), ("doppler_time", 128), ("azimuth_time", 128))}
    a = encode_clip(clip_arrays(views, extra=np.arange(3)))
    b = encode_clip(dict(reversed(list(clip_arrays(views, extra=np.arange(3)).items()))))
    assert a == b
    out = decode_clip(a, "mem")
    assert all(v.dtype == np.float32 for v in out.values())
    np.testing.assert_array_equal(out["range_time"], views["range_time"].astype(np.float16))
    with pytest.raises(BadClipError, match="^mem: unreadable"):
        decode_clip(b"junk", "mem")


def _write_views(path, shapes, dtype=np.float16):
    write_clip(path, {k: np.zeros(s, dtype) for k, s in shapes.items()})


@given(
    frames=st.lists(st.integers(1, 40), min_size=3, max_size=3),
    bins=st.sampled_from([(256, 128, 128), (256, 128, 64), (128, 128, 128)]),
    dtype=st.sampled_from([np.float16, np.float32, np.int16]),
    drop=st.sampled_from([None, "doppler_time"]),
)
def test_the_header_check_agrees_with_loading_the_clip(tmp_path_factory, frames, bins, dtype, drop):
    root = tmp_path_factory.mktemp("h")
    shapes = {k: (b, t) for k, b, t in zip(("range_time", "doppler_time", "azimuth_time"), bins, frames, strict=True)}
    shapes.pop(drop, None)
    _write_views(root / "clips" / "x.npz", shapes, dtype)
    row = ClipRecord("x", "train", "clips/x.npz", ("a person walks.",))
    problem = clip_header_problem(root, row)
    try:
        load_clip(root, row)
        loads = dtype != np.int16  # load_clip casts to float32; the header check also wants a float dtype
    except BadClipError:
        loads = False
    assert (problem is None) == loads, problem


@given(
    shape=st.lists(st.integers(0, 300), min_size=0, max_size=3),
    dtype=st.sampled_from(["<f2", "<f4", ">f8", "<i2", "|u1", "<c8"]),
    fortran=st.booleans(),
    version=st.sampled_from([(1, 0), (2, 0), (3, 0)]),
)
def test_npy_header_parsing_equals_numpys_reader(shape, dtype, fortran, version):
    """The header check parses numpy's header layout itself (numpy's reader uses ast, not thread-safe on 3.11 <
    3.11.8)."""
    raw = io.BytesIO()
    array = np.zeros(shape, dtype=dtype, order="F" if fortran else "C")
    np.lib.format.write_array(raw, array, version=version)
    with zipfile.ZipFile(io.BytesIO(), "w") as zf:
        zf.writestr("a.npy", raw.getvalue())
        with mock.patch("ast.literal_eval", side_effect=AssertionError("ast used for a numpy-written header")):
            shape_read, dtype_read = clips_module._npy_header(zf, "a.npy")
    loaded = np.load(io.BytesIO(raw.getvalue()))
    assert shape_read == loaded.shape and dtype_read == loaded.dtype


def test_npy_headers_in_another_layout_still_parse(tmp_path):
    header = "{'shape': (256, 32), 'fortran_order': False, 'descr': '<f2'}"
    header += " " * (63 - len(header)) + "\n"
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as zf:
        zf.writestr("a.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
        zf.writestr("b.npy", b"\x93NUMPY\x01\x00" + (10).to_bytes(2, "little") + b"{'shape': ")
    with zipfile.ZipFile(tmp_path / "x.zip") as zf:
        assert clips_module._npy_header(zf, "a.npy") == ((256, 32), np.dtype("<f2"))
        with pytest.raises(ValueError, match="b.npy: not an .npy header"):
            clips_module._npy_header(zf, "b.npy")


def test_the_header_check_names_each_kind_of_problem(tmp_path):
    root = tiny_dataset(tmp_path / "d", n=4)
    rows = read_manifest(root)
    (root / "clips" / "c000.npz").unlink()
    (root / "clips" / "c001.npz").write_bytes(b"PK\x03\x04 truncated")
    with zipfile.ZipFile(root / "clips" / "c002.npz", "w") as zf:
        zf.writestr("range_time.npy", b"\x93NUMPY garbage")
    np.savez(
        root / "clips" / "c003.npz",
        range_time=np.zeros((256, 8)),
        doppler_time=np.zeros((128, 8)),
        azimuth_time=np.zeros((128, 8)),
    )
    found = dict((r.id, p) for r, p in check_headers(root, rows))
    assert "clip file missing" in found["c000"] and "unreadable" in found["c001"]
    assert "c002.npz" in found["c002"] and "fewer than 16 frames" in found["c003"]


def test_load_clip_names_the_file(tmp_path):
    root = tiny_dataset(tmp_path, n=4)
    record = read_manifest(root)[0]
    assert load_clip(root, record)["range_time"].shape == (256, 32)
    (root / record.file).unlink()
    with pytest.raises(BadClipError, match=r"c000.npz: clip file missing \(manifest id 'c000'\)"):
        load_clip(root, record)
