"""Radar from motion capture: skeletons, readers, the corpus simulator and its fidelity to the
parametric path."""

import hashlib
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from synth_helpers import count_calls

from radar_synth import ClipPlan, Segment, render_clip
from radar_synth.clip import render_trajectories
from radar_synth.mocap import (
    read_bvh_folder,
    read_humanml3d,
    read_joints_folder,
    read_source,
    write_bvh,
)
from radar_synth.mocap_fixtures import (
    fixture_motions,
    write_bvh_fixture,
    write_humanml3d_fixture,
    write_joints_fixture,
)
from radar_synth.simulate import SimulateOptions, simulate_corpus
from radar_synth.skeleton import (
    SMPL22,
    MotionError,
    Placement,
    body_joints,
    facing_angle,
    place_motion,
    skeleton_trajectories,
    to_world,
)
from radar_views import RadarConfig

CFG = RadarConfig()
FRAME_RATE = CFG.frame_rate_hz


def digest(root):
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_smpl22_has_humanml3d_joint_order_and_kinematic_chains():
    chains = [[0, 2, 5, 8, 11], [0, 1, 4, 7, 10], [0, 3, 6, 9, 12, 15], [9, 14, 17, 19, 21], [9, 13, 16, 18, 20]]
    for chain in chains:
        assert all(SMPL22.parents[c] == p for p, c in zip(chain[:-1], chain[1:], strict=True))
    assert len(SMPL22.joints) == 22 and SMPL22.joints[15] == "head" and SMPL22.joints[20] == "left_wrist"
    assert SMPL22.parents.count(-1) == 1


def _stats(views):
    power, ranges = views.doppler_time.astype(float), views.range_time.astype(float)
    rows = np.arange(power.shape[0]) - power.shape[0] / 2
    p = power / power.sum(0)
    centroid = (p * rows[:, None]).sum(0)
    spread = np.sqrt((p * (rows[:, None] - centroid) ** 2).sum(0))
    r = ranges / ranges.sum(0)
    return (r * np.arange(ranges.shape[0])[:, None]).sum(0), centroid, spread


def _log(view):
    log = np.log10(view.astype(float) + 1e-12)
    return np.clip(log - log.max(), -5, 0)


@pytest.mark.parametrize(
    "name,params,min_corr",
    [
        ("walk", {"speed": 1.2, "direction": "toward"}, 0.9),
        ("squat", {"reps": 2}, 0.95),
        ("wave", {"arm": "both", "reps": 3}, 0.8),
        ("jumping_jacks", {"reps": 4}, 0.85),
    ],
)
def test_the_skeleton_path_agrees_with_the_native_path(name, params, min_corr):
    """A parametric motion rendered natively, and exported as SMPL-22 joints at 20 fps (as HumanML3D
    holds them) then rendered through the skeleton path: noise- and clutter-free views agree on the
    per-frame range centroid (<= 3 of 256 bins), the Doppler centroid and spread (mean difference
    <= 0.6 and 0.7 of 128 rows), the Doppler-time picture (correlation of 50 dB log views) and the torso range (5
    cm)."""
    frames = 200
    plan = ClipPlan(
        [Segment(name, 0, frames, params)], frames, 1.75, 4.0, 10.0, float(np.arctan2(-np.cos(0.17), -np.sin(0.17)))
    )
    native = render_clip(plan, np.random.default_rng(0), CFG, normalize="none", noise=False, clutter=False)
    joints = body_joints(plan, FRAME_RATE, fps=20.0)
    traj = skeleton_trajectories(joints, 20.0, SMPL22, frames, FRAME_RATE)
    skel = render_trajectories(
        traj, frames, np.random.default_rng(0), CFG, normalize="none", noise=False, clutter=False
    )
    (ra, ca, sa), (rb, cb, sb) = _stats(native.views), _stats(skel.views)
    assert np.abs(ra - rb).max() <= 3.0
    assert np.abs(ca - cb).mean() <= 0.6 and np.abs(sa - sb).mean() <= 0.7
    corr = np.corrcoef(_log(native.views.doppler_time).ravel(), _log(skel.views.doppler_time).ravel())[0, 1]
    assert corr >= min_corr
    assert np.abs(native.torso_range_m - skel.torso_range_m).max() <= 0.05


def test_a_skeleton_walking_toward_the_radar_has_negative_doppler_and_the_right_range_bins():
    """Documented convention: approaching the radar is negative velocity (Doppler rows below the
    centre); the range ridge follows the torso's range bins."""
    plan = ClipPlan(
        [Segment("walk", 0, 250, {"speed": 1.3, "direction": "toward"})], 250, 1.75, 7.0, 0.0, float(-np.pi / 2)
    )
    world = body_joints(plan, FRAME_RATE, fps=20.0)
    placed = place_motion(world, SMPL22, Placement(7.0, 0.0, float(-np.pi / 2)))  # facing the radar, 7 m away
    traj = skeleton_trajectories(placed, 20.0, SMPL22, 250, FRAME_RATE)
    out = render_trajectories(traj, 250, np.random.default_rng(1), CFG)
    v, moving = out.views, slice(25, None)
    assert out.torso_range_m[-1] < out.torso_range_m[0] - 3.0  # 1.3 m/s for 5 s
    power = 10 ** (v.doppler_time[:, moving] * 5)  # normalised dB (50 dB range) back to linear
    assert power[:64].sum() > 2 * power[65:].sum()
    ridge = v.range_time[:, moving].argmax(axis=0)
    assert np.mean(np.abs(ridge - np.rint(out.torso_range_m[moving] / CFG.range_resolution_m)) <= 3) > 0.9


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    heading=st.floats(-np.pi, np.pi),
    r0=st.floats(1.5, 8.0),
    az=st.floats(-60, 60),
    frames=st.integers(2, 40),
)
def test_placement_keeps_the_body_rigid_faces_the_heading_and_stands_on_the_floor(seed, heading, r0, az, frames):
    rng = np.random.default_rng(seed)
    world = to_world(fixture_motions(1, seed % 5)[0][1][:frames].astype(np.float64))
    world = world + rng.normal(0, 0.01, world.shape)
    placed = place_motion(world, SMPL22, Placement(r0, az, heading))
    assert placed.shape == world.shape
    bones = [(p, c) for c, p in enumerate(SMPL22.parents) if p >= 0]
    length = lambda j: np.stack([np.linalg.norm(j[:, c] - j[:, p], axis=-1) for p, c in bones])  # noqa: E731
    np.testing.assert_allclose(length(placed), length(world), atol=1e-9)
    assert np.cos(facing_angle(placed, SMPL22) - heading) > 1 - 1e-9
    np.testing.assert_allclose(
        placed[0, 0, :2], r0 * np.array([np.sin(np.radians(az)), np.cos(np.radians(az))]), atol=1e-9
    )
    assert placed[..., 2].min() == pytest.approx(0.0, abs=1e-12)


@given(joints=st.integers(0, 2**31).map(lambda s: np.random.default_rng(s).normal(size=(5, 4, 3))))
def test_the_y_up_source_frame_turns_into_z_up_and_back(joints):
    from radar_synth.mocap_fixtures import from_world

    world = to_world(joints, "y")
    np.testing.assert_allclose(from_world(world), joints)
    np.testing.assert_allclose(world[..., 2], joints[..., 1])  # source up becomes z


def test_skeleton_trajectories_have_one_ellipsoid_per_bone_and_the_two_volumes():
    joints = to_world(fixture_motions(1)[0][1].astype(np.float64))
    traj = skeleton_trajectories(joints, 20.0, SMPL22, 100, FRAME_RATE)
    assert traj.centres.shape[1:] == (len(SMPL22.bones) + 2, 3) == traj.axes.shape[1:]
    assert traj.sizes.shape == (len(SMPL22.bones) + 2, 2) and (traj.sizes > 0).all()
    np.testing.assert_allclose(np.linalg.norm(traj.axes, axis=-1), 1.0, atol=1e-9)
    assert SMPL22.segments[-2:] == ("trunk", "head")


def test_humanml3d_reader_splits_spans_and_mirrored_copies(tmp_path):
    root = write_humanml3d_fixture(tmp_path / "hml", 4)
    items = read_humanml3d(root)
    by_id = {i.id: i for i in items}
    assert {i.split for i in items} == {"train", "val", "test"} and by_id["M000000"].mirrored
    spans = [i for i in items if "_span" in i.id]
    assert all(i.end_s > i.start_s and len(i.captions) == 1 for i in spans)
    whole = [i for i in items if "_span" not in i.id]
    assert all(len(i.captions) == 3 and i.start_s == 0.0 and i.end_s is None for i in whole)
    assert not [i for i in read_humanml3d(root, mirrored=False) if i.id.startswith("M")]


def test_bvh_written_from_joints_reads_back_through_pybvh(tmp_path):
    _, joints, _ = fixture_motions(1)[0]
    write_bvh(tmp_path / "m.bvh", joints * 100.0, SMPL22.joints, SMPL22.parents, 20.0)
    from radar_synth.mocap import _read_bvh

    positions, skeleton, fps = _read_bvh(str(tmp_path / "m.bvh"))
    index = {n: i for i, n in enumerate(skeleton.joints)}
    back = np.stack([positions[:, index[n]] for n in SMPL22.joints], axis=1) / 100.0
    assert fps == pytest.approx(20.0) and np.abs(back - joints).max() < 1e-4
    assert skeleton.left is not None and skeleton.right is not None


def _simulate(items, out, **kw):
    """Clips capped at 48 frames (~1 s): the writer, not the simulator, is under test here."""
    opts = {"seed": 3, "max_frames": 48, **kw.pop("opts", {})}
    return simulate_corpus(items, out, SimulateOptions(**opts), progress=False, **kw)


def test_a_humanml3d_corpus_simulates_deterministically_with_1_and_2_workers(tmp_path):
    root = write_humanml3d_fixture(tmp_path / "hml", 3)
    items = read_humanml3d(root)
    one = _simulate(items, tmp_path / "a", root=root, workers=1, opts={"rotations": 2})
    two = _simulate(items, tmp_path / "b", root=root, workers=2, opts={"rotations": 2})
    assert digest(one.out) == digest(two.out) and one.clips == 2 * len(items)
    from radar_text_data import check_dataset, read_manifest, resolve_data

    assert check_dataset(resolve_data(one.out)) == []
    records = read_manifest(one.out)
    assert {r.split for r in records} == {"train", "val", "test"}
    first = records[0].to_dict()
    assert first["frame_rate_hz"] == FRAME_RATE and first["radar"] == CFG.to_dict()
    assert {r.extras["source"]["rotation_deg"] for r in records} == {0.0, 180.0}
    assert any(r.extras["text_spans"] for r in records)  # a multi-activity motion keeps its captioned spans


def test_an_interrupted_simulation_resumes_to_the_same_bytes(tmp_path, monkeypatch):
    import radar_synth.simulate as simulate_module

    root = write_joints_fixture(tmp_path / "j", 3)
    items = read_joints_folder(root, root / "captions.json")
    whole = _simulate(items, tmp_path / "whole", root=root)
    count_calls(monkeypatch, simulate_module, "render_trajectories", interrupt_at=3)
    with pytest.raises(KeyboardInterrupt):
        _simulate(items, tmp_path / "resumed", root=root)
    assert not (tmp_path / "resumed").exists() and (tmp_path / ".resumed.simulate-partial").is_dir()
    with pytest.raises(ValueError, match="other options or motions"):
        simulate_corpus(items, tmp_path / "resumed", SimulateOptions(seed=4, max_frames=48), progress=False, root=root)
    monkeypatch.undo()
    summary = _simulate(items, tmp_path / "resumed", root=root)
    assert summary.resumed == 2 and digest(tmp_path / "resumed") == digest(whole.out)
    assert not (tmp_path / ".resumed.simulate-partial").exists()


def test_bvh_and_joints_corpora_simulate_with_a_seeded_split_and_as_shards(tmp_path):
    from radar_text_data import read_manifest

    bvh = write_bvh_fixture(tmp_path / "bvh", 3)  # three files: one per split (two were all train before)
    out = _simulate(read_bvh_folder(bvh, bvh / "captions.json"), tmp_path / "b", root=bvh, opts={"units_m": 0.01})
    assert out.clips == 3 and sorted(r.split for r in read_manifest(out.out)) == ["test", "train", "val"]
    with pytest.raises(ValueError, match="2 motion files without a split of their own cannot fill train plus 1 val"):
        _simulate(read_bvh_folder(bvh, bvh / "captions.json")[:2], tmp_path / "two", root=bvh, opts={"units_m": 0.01})
    assert not (tmp_path / "two").exists() and not list(tmp_path.glob(".two*"))
    joints = write_joints_fixture(tmp_path / "j", 3)
    shards = _simulate(
        read_source(joints, "joints", joints / "captions.json"), tmp_path / "s", root=joints, format="wds", shard_size=1
    )
    assert (shards.out / "index.json").is_file() and not (shards.out / "clips").exists()
    with pytest.raises(MotionError, match="wrong up axis or units"):  # centimetres read as metres
        _simulate(read_bvh_folder(bvh, bvh / "captions.json"), tmp_path / "c", root=bvh)


def _bad_corpora(tmp_path):
    """(label, corpus root, source, problem words) for each kind of bad input."""
    cases = []
    for label, edit, words in (
        (
            "shape",
            lambda r: np.save(r / "new_joints" / "000000.npy", np.zeros((40, 21, 3), np.float32)),
            "must be [T, 22, 3]",
        ),
        ("nan", lambda r: np.save(r / "new_joints" / "000000.npy", np.full((40, 22, 3), np.nan, np.float32)), "NaN"),
        ("missing text", lambda r: (r / "texts" / "000000.txt").unlink(), "text file missing"),
        ("empty text", lambda r: (r / "texts" / "000000.txt").write_text("\n"), "text file is empty"),
        (
            "span",
            lambda r: (r / "texts" / "000000.txt").write_text("a person waves#a/b#1.0#99.0\n"),
            "outside the motion",
        ),
        (
            "short",
            lambda r: np.save(r / "new_joints" / "000000.npy", np.load(r / "new_joints" / "000000.npy")[:4]),
            "shorter than the shortest clip",
        ),
    ):
        root = write_humanml3d_fixture(tmp_path / label.replace(" ", "_"), 3)
        edit(root)
        cases.append((label, root, words))
    return cases


def test_bad_input_names_the_file_and_writes_nothing_unless_skipped(tmp_path):
    for label, root, words in _bad_corpora(tmp_path):
        out = tmp_path / f"out-{label.replace(' ', '_')}"
        with pytest.raises(MotionError) as err:
            _simulate(read_humanml3d(root), out, root=root)
        assert words in str(err.value) and "000000" in str(err.value), (label, str(err.value))
        assert not out.exists() and not (tmp_path / f".{out.name}.simulate-partial").exists()
        unreadable: list = []
        summary = _simulate(
            read_humanml3d(root, problems=unreadable), out, root=root, skip_bad=True, read_problems=unreadable
        )
        assert len(summary.skipped) == 1 and "000000" in summary.skipped[0][0] and summary.clips >= 1, label
    with pytest.raises(MotionError, match="unknown skeleton"):
        read_joints_folder(tmp_path, None, skeleton="mixamo")


def test_captions_are_required_for_bvh_and_joints_sources(tmp_path):
    root = write_joints_fixture(tmp_path / "j", 1)
    with pytest.raises(MotionError, match="--captions FILE is needed"):
        read_joints_folder(root, None)
    (root / "captions.json").write_text(json.dumps({"other": ["x"]}))
    with pytest.raises(MotionError, match="no captions for take000.npy"):
        read_joints_folder(root, root / "captions.json")


def test_long_motions_become_windows_of_exactly_the_window_and_keep_their_split(tmp_path):
    """Motions of 2-6 s at 50 Hz in windows of 32 frames every 48: each window exactly 32 frames, the
    count from the motion's length (a 0.1 s margin of poses at the end), all windows of a motion in
    one split, with the motion's captions."""
    from radar_text_data import read_manifest

    root = write_joints_fixture(tmp_path / "j", 3)
    items = read_source(root, "joints", root / "captions.json")
    out = _simulate(items, tmp_path / "w", root=root, opts={"max_frames": 64, "window_frames": 32, "stride_frames": 48})
    records = read_manifest(out.out)
    by_motion: dict[str, list] = {}
    for r in records:
        by_motion.setdefault(r.extras["source"]["motion"].rsplit("_w", 1)[0], []).append(r)
    for item in items:
        duration = (len(np.load(item.file)) - 1) / item.fps
        windows = sorted(by_motion[item.id], key=lambda r: r.id)
        expected = int(np.floor((duration - 32 / 50 - 0.1) * 50 + 1e-9)) // 48 + 1
        assert len(windows) == expected and [r.extras["source"]["window"] for r in windows] == list(range(expected))
        assert all(r.num_frames == 32 and not r.extras["source"]["cropped"] for r in windows)
        assert len({r.split for r in windows}) == 1 and windows[0].captions == item.captions
    assert out.clips == len(records) > 3


def test_the_angle_is_a_sensors_and_one_of_the_views_angles():
    from radar_synth import SynthError

    assert SimulateOptions(sensor="iwr1443-radhar", angle="elevation").sensor_spec.angle == "elevation"
    assert SimulateOptions().sensor_spec is None
    with pytest.raises(SynthError, match="angle 'elevation' needs a sensor"):
        SimulateOptions(angle="elevation")
    with pytest.raises(SynthError, match="angle must be one of"):
        SimulateOptions(sensor="iwr1443-radhar", angle="tilt")
