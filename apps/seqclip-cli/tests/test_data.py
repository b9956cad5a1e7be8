"""data.py: the map-style dataset, bad clips, twin batching, the converter and the checker as the app uses them."""

import json

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from seqclip_fixtures import make_dataset, one_line, run, tiny_text_model, toml

from radar_text_data import BadClipError, check_dataset, convert_folder, resolve_data, write_clip
from seqclip.data import EpochSampler, RadarTextDataset, collate


def test_dataset_crops_pads_and_samples_captions_deterministically(tmp_path):
    root = make_dataset(tmp_path, frames=70)
    ds = RadarTextDataset(root, "train", length=64, seed=3)
    a, b = ds[0, 0], ds[0, 0]
    assert torch.equal(a["range_time"], b["range_time"]) and a["caption"] == b["caption"]
    assert a["range_time"].shape == (256, 64) and a["mask"].sum() == 64
    captions = {ds[1, i]["caption"] for i in range(len(ds))}
    assert len(captions) > 1
    long = RadarTextDataset(root, "val", length=96, train=False)
    item = long[0]
    assert item["mask"].sum() == 64 and not item["mask"][64:].any()  # 70 frames -> cropped to 64, padded to 96
    b = collate([ds[0], None, ds[1]])
    assert b["skipped"] == 1 and b["range_time"].shape[0] == 2 and b["sample_ids"].tolist() == [0, 1]


def test_bad_clip_stops_or_is_skipped(tmp_path):
    root = make_dataset(tmp_path)
    (root / "clips" / "c000.npz").write_bytes(b"not a zip")
    with pytest.raises(BadClipError, match="c000.npz: unreadable"):
        RadarTextDataset(root, "train")[0]
    assert RadarTextDataset(root, "train", skip_bad=True)[0] is None
    with pytest.raises(FileNotFoundError, match="nope"):
        RadarTextDataset(tmp_path / "nope", "train")


def test_data_check_lists_every_problem_with_file_and_line(tmp_path):
    root = make_dataset(tmp_path, n=10, splits=["train"] * 6 + ["val"] * 2 + ["test"] * 2)
    lines = (root / "manifest.jsonl").read_text().splitlines()
    rows = [json.loads(x) for x in lines]
    rows[1]["captions"] = [""]  # empty caption
    rows[2]["id"] = rows[0]["id"]  # duplicate id
    rows[3]["file"] = "clips/missing.npz"  # missing file
    rows[9]["file"] = rows[4]["file"]  # the same clip in train and test: leakage
    np.savez(
        root / "clips" / "c005.npz",
        range_time=np.full((256, 48), np.nan),
        doppler_time=np.zeros((128, 48)),
        azimuth_time=np.zeros((128, 48)),
    )
    np.savez(
        root / "clips" / "c006.npz",
        range_time=np.zeros((200, 48)),
        doppler_time=np.zeros((128, 48)),
        azimuth_time=np.zeros((128, 48)),
    )
    (root / "clips" / "c007.npz").write_bytes(b"garbage")
    text = "\n".join(json.dumps(r) for r in rows) + "\n{not json\n"
    (root / "manifest.jsonl").write_text(text)
    problems = "\n".join(check_dataset(resolve_data(root)))
    for expected in (
        ":2: field 'captions'",
        ":3: duplicate id",
        ":4:",
        "missing.npz",
        ":6:",
        "NaN",
        ":7:",
        "must be [256, T]",
        ":8:",
        "unreadable",
        "split leakage",
        ":11: not valid JSON",
    ):
        assert expected in problems, expected
    assert check_dataset(resolve_data(make_dataset(tmp_path / "good"))) == []


def test_converter_from_a_folder_of_clips(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    captions = {}
    rng = np.random.default_rng(0)
    for i in range(10):
        arrays = {
            "range_time": rng.random((256, 40)),
            "doppler_time": rng.random((128, 40)),
            "azimuth_time": rng.random((128, 40)),
        }
        if i % 2:
            np.savez(src / f"clip{i}.npz", **arrays)
        else:
            (src / f"clip{i}").mkdir()
            for k, v in arrays.items():
                np.save(src / f"clip{i}" / f"{k}.npy", v)
        captions[f"clip{i}"] = [f"caption {i}"]
    (tmp_path / "caps.json").write_text(json.dumps(captions))
    out = convert_folder(src, tmp_path / "caps.json", tmp_path / "out")
    assert check_dataset(resolve_data(out)) == []
    assert len(RadarTextDataset(out, "train")) == 8
    del captions["clip3"], captions["clip4"]
    (tmp_path / "caps.json").write_text(json.dumps(captions))
    refused = run("data", "convert", src, "--captions", tmp_path / "caps.json", "--out", tmp_path / "o2")
    assert refused.exit_code == 2 and "2 clip(s)" in one_line(refused) and not (tmp_path / "o2").exists()
    kept = run(
        "data", "convert", src, "--captions", tmp_path / "caps.json", "--out", tmp_path / "o2", "--skip-unlabelled"
    )
    assert (
        kept.exit_code == 0
        and "wrote 8 clips" in kept.output
        and "2 clip(s) without captions left out: clip3, clip4" in " ".join(kept.output.split())
    )


def test_items_are_the_same_through_the_decoded_cache(tmp_path):
    root = make_dataset(tmp_path / "d", frames=70)
    plain = RadarTextDataset(root, "train", length=64, seed=3)
    cached = RadarTextDataset(root, "train", length=64, seed=3, decoded_cache=tmp_path / "cache")
    for epoch in (0, 1):
        for i in range(len(plain)):
            a, b = plain[epoch, i], cached[epoch, i]
            assert a["caption"] == b["caption"]
            assert all(torch.equal(a[k], b[k]) for k in ("range_time", "doppler_time", "azimuth_time", "mask"))


@given(
    size=st.integers(2, 60),
    pairs=st.integers(0, 20),
    batch=st.integers(1, 9),
    seed=st.integers(0, 99),
    epoch=st.integers(0, 3),
)
def test_twin_batching_keeps_the_sample_set_is_deterministic_and_keeps_pairs_together(size, pairs, batch, seed, epoch):
    perm = np.random.default_rng(seed).permutation(size)
    twins = [(int(perm[2 * k]), int(perm[2 * k + 1])) for k in range(min(pairs, size // 2))]
    sampler = EpochSampler(size, seed, twins=twins, batch=batch)
    sampler.set_epoch(epoch)
    order = sampler.order()
    assert sorted(order) == list(range(size))
    again = EpochSampler(size, seed, twins=twins, batch=batch)
    again.set_epoch(epoch)
    assert again.order() == order
    where = {i: p for p, i in enumerate(order)}
    paired = {i for p in twins for i in p}
    for a, b in twins:
        first, second = sorted((where[a], where[b]))
        assert second == first + 1  # next to each other
        if first // batch != second // batch:  # straddles: only when no single clip was left to fill the gap
            assert all(i in paired for i in order[second:])
    sampler.set_epoch(epoch, start=batch)
    assert list(sampler) == [(epoch, i) for i in order[batch:]]  # resumes part-way, epoch attached


@pytest.mark.parametrize("held", ["--no-data-on-device", "--data-on-device"])
def test_a_nan_clip_stops_training_with_one_line_naming_the_file(tmp_path, held):
    """In a loader worker, or as the split is decoded into memory."""
    data = make_dataset(tmp_path / "d")
    bad = {
        k: np.ones((b, 48), np.float16) for k, b in (("range_time", 256), ("doppler_time", 128), ("azimuth_time", 128))
    }
    bad["doppler_time"][5, 5] = np.nan
    write_clip(data / "clips" / "c003.npz", bad)
    out = tmp_path / "run"
    result = run("train", *toml(tmp_path), "--data", data, "--out", out, "--workers", 1, held)
    line = one_line(result)
    assert result.exit_code == 2 and "c003.npz" in line and "NaN" in line and "--skip-bad" in line
    assert "[" not in line or "self.dataset" not in line  # no worker traceback text
    # 5. a start that died before its first checkpoint leaves nothing, and the same command runs again
    assert not out.exists()
    write_clip(data / "clips" / "c003.npz", {k: np.ones_like(v) for k, v in bad.items()})
    retry = run("train", *toml(tmp_path), "--data", data, "--out", out, "--workers", 1, held)
    assert retry.exit_code == 0, retry.output


def test_a_simulated_motion_capture_corpus_trains_and_evaluates(tmp_path):
    """seqclip data simulate on a HumanML3D-shaped fixture (radar-synth's own motions), then train and eval."""
    from radar_synth.mocap_fixtures import write_humanml3d_fixture

    corpus = write_humanml3d_fixture(tmp_path / "HumanML3D", 4)
    data = tmp_path / "radar"
    made = run("data", "simulate", corpus, "--out", data, "--rotations", "2", "--max-frames", "64")
    assert made.exit_code == 0, made.output
    assert "wrote 14 clips" in " ".join(made.output.split())
    trained = run("train", *toml(tmp_path), "--data", data, "--out", tmp_path / "run")
    assert trained.exit_code == 0, trained.output
    evaluated = run(
        "eval",
        "--checkpoint",
        tmp_path / "run",
        "--data",
        data,
        "--task",
        "retrieval",
        "--out",
        tmp_path / "metrics.json",
    )
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["protocol"]["clips"] == 2 and "R@1" in metrics["text_to_radar"]  # the test motion, 2 rotations


def test_data_simulate_names_the_bad_file_in_one_line_and_exits_2(tmp_path):
    from radar_synth.mocap_fixtures import write_humanml3d_fixture

    corpus = write_humanml3d_fixture(tmp_path / "HumanML3D", 3)
    np.save(corpus / "new_joints" / "000001.npy", np.zeros((30, 22, 2), np.float32))
    result = run("data", "simulate", corpus, "--out", tmp_path / "out")
    line = one_line(result)
    assert result.exit_code == 2 and "000001.npy" in line and "[T, 22, 3]" in line
    assert not (tmp_path / "out").exists()
    skipped = run("data", "simulate", corpus, "--out", tmp_path / "out", "--skip-bad", "--max-frames", "32")
    assert skipped.exit_code == 0 and "1 motion file(s) left out" in " ".join(skipped.output.split())
    bad = run("data", "simulate", corpus, "--out", tmp_path / "o2", "--source", "mocap")
    assert bad.exit_code == 2 and "--source 'mocap'" in one_line(bad)


def test_data_synth_held_out_wording_is_checked_before_anything_is_simulated(tmp_path):
    every = run(
        "data",
        "synth",
        "--out",
        tmp_path / "a",
        "--clips",
        "4",
        "--held-out-wording",
        "plain,progressive,report,story,descriptive",
    )
    assert every.exit_code == 2 and "at least one wording family for train" in one_line(every)
    unknown = run("data", "synth", "--out", tmp_path / "b", "--clips", "4", "--held-out-wording", "legalese")
    assert unknown.exit_code == 2 and "wording families must be" in one_line(unknown)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_ctrl_c_during_data_simulate_says_how_to_continue(tmp_path, monkeypatch):
    import radar_synth.simulate as simulate_module
    from radar_synth.mocap_fixtures import write_joints_fixture

    corpus = write_joints_fixture(tmp_path / "takes", 1)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(simulate_module, "simulate_corpus", interrupted)
    result = run(
        "data",
        "simulate",
        corpus,
        "--source",
        "joints",
        "--captions",
        corpus / "captions.json",
        "--out",
        tmp_path / "out",
    )
    text = " ".join(result.output.split())
    assert (
        result.exit_code == 130 and "run the same command again to continue" in text and ".out.simulate-partial" in text
    )


def test_data_synth_names_its_flags_as_typed(tmp_path):
    unknown = run("data", "synth", "--out", tmp_path / "new" / "a", "--clips", "4", "--unseen", "moonwalk")
    assert unknown.exit_code == 2 and one_line(unknown).startswith("error: --unseen: unknown activities ['moonwalk']")
    every = run(
        "data",
        "synth",
        "--out",
        tmp_path / "a",
        "--clips",
        "4",
        "--held-out-wording",
        "plain,progressive,report,story,descriptive",
    )
    assert "error: --held-out-wording: leave at least one" in one_line(every)
    assert not (tmp_path / "a").exists() and not (tmp_path / "new").exists()  # nor the directories of its lock


def test_a_ragged_bvh_file_is_named_in_its_own_terms(tmp_path):
    from radar_synth.mocap_fixtures import write_bvh_fixture

    corpus = write_bvh_fixture(tmp_path / "bvh", 1)
    bvh = next(corpus.glob("*.bvh"))
    lines = bvh.read_text().splitlines()
    lines[-1] = " ".join(lines[-1].split()[:-1])  # the last frame lacks a value
    bvh.write_text("\n".join(lines) + "\n")
    result = run(
        "data",
        "simulate",
        corpus,
        "--source",
        "bvh",
        "--captions",
        corpus / "captions.json",
        "--units-m",
        "0.01",
        "--out",
        tmp_path / "out",
    )
    line = one_line(result)
    assert result.exit_code == 2 and bvh.name in line and "usecols" not in line and "values, but the hierarchy" in line


def test_data_simulate_takes_split_fractions_and_refuses_a_corpus_too_small_for_them(tmp_path):
    from radar_synth.mocap_fixtures import write_joints_fixture

    corpus = write_joints_fixture(tmp_path / "takes", 2)
    base = [
        "data",
        "simulate",
        corpus,
        "--source",
        "joints",
        "--captions",
        corpus / "captions.json",
        "--max-frames",
        "32",
        "--workers",
        "1",
    ]
    small = run(*base, "--out", tmp_path / "a")
    assert (
        small.exit_code == 2
        and "2 motion files without a split of their own cannot fill train plus 1 val and 1 test" in one_line(small)
    )
    assert not (tmp_path / "a").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["takes"]
    made = run(*base, "--out", tmp_path / "b", "--val-fraction", "0.5", "--test-fraction", "0")
    assert made.exit_code == 0, made.output
    assert sorted(json.loads(x)["split"] for x in (tmp_path / "b" / "manifest.jsonl").read_text().splitlines()) == [
        "train",
        "val",
    ]
    windows = run(*base, "--out", tmp_path / "c", "--stride", "8")
    assert windows.exit_code == 2 and "--stride needs --window" in one_line(windows)


def test_ctrl_c_during_data_synth_keeps_the_clips_and_says_how_to_continue(tmp_path, monkeypatch):
    import radar_synth

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(radar_synth, "generate_dataset", interrupted)
    result = run("data", "synth", "--out", tmp_path / "out", "--clips", "4")
    text = " ".join(result.output.split())
    assert result.exit_code == 130 and "run the same command again to continue" in text and ".out.synth-partial" in text


def test_an_evaluation_only_dataset_converts_checks_and_evaluates(tmp_path):
    from seqclip import SeqClip, SeqClipConfig

    src = tmp_path / "rec"
    src.mkdir()
    rng = np.random.default_rng(0)
    lines = ["id,label"]
    for i in range(6):
        np.savez(
            src / f"r{i}.npz",
            range_time=rng.random((256, 40)),
            doppler_time=rng.random((128, 40)),
            azimuth_time=rng.random((128, 40)),
        )
        lines.append(f"r{i},{('walk', 'wave')[i % 2]}")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    args = ["data", "convert", src, "--labels", tmp_path / "labels.csv"]
    short = run(*args, "--out", tmp_path / "w", "--window", "8")
    assert short.exit_code == 2 and "--window" in short.output and not (tmp_path / "w").exists()
    done = run(*args, "--out", tmp_path / "d", "--val-fraction", "0", "--test-fraction", "1")
    assert done.exit_code == 0, done.output
    checked = run("data", "check", tmp_path / "d")
    assert checked.exit_code == 0 and "train and val splits are empty" in checked.output
    torch.manual_seed(0)
    SeqClip(
        SeqClipConfig(
            text_model=tiny_text_model(tmp_path / "text"),
            clip_length=32,
            encoder_overrides={"vit_depth": 1, "eot_depth": 1},
        )
    ).save_pretrained(tmp_path / "m")
    result = run(
        "eval",
        "--checkpoint",
        tmp_path / "m",
        "--data",
        tmp_path / "d",
        "--task",
        "zeroshot",
        "--unseen",
        "wave",
        "--calibration",
        "none",
    )
    assert result.exit_code == 0, result.output
    assert (
        "no validation clip: not calibrated"
        in run(
            "eval", "--checkpoint", tmp_path / "m", "--data", tmp_path / "d", "--task", "zeroshot", "--unseen", "wave"
        ).output
    )


def test_convert_from_radhar_reads_its_layout_and_refuses_what_it_does_not_take(tmp_path):
    from radar_text_data.testing import radhar_folder

    radhar_folder(tmp_path / "src", {"Train/walk": ["w1", "w2"], "Test/walk": ["w3"]}, frames=40)
    done = run("data", "convert", tmp_path / "src", "--from", "radhar", "--out", tmp_path / "d", "--window", "32")
    assert done.exit_code == 0, done.output
    assert "wrote 6 clips from 3 recordings" in done.output and "(2 train, 2 val, 2 test)" in done.output
    assert run("data", "check", tmp_path / "d").exit_code == 0
    for extra, flag in (
        (["--labels", tmp_path / "l.csv"], "--labels"),
        (["--test-fraction", "0.5"], "--test-fraction"),
    ):
        refused = run("data", "convert", tmp_path / "src", "--from", "radhar", "--out", tmp_path / "r", *extra)
        assert refused.exit_code == 2 and one_line(refused).startswith(f"error: {flag}: --from radhar reads")
    wrong = run("data", "convert", tmp_path, "--from", "radhar", "--out", tmp_path / "r")
    assert wrong.exit_code == 2 and "expected RadHAR's Data folder" in one_line(wrong)
    assert not (tmp_path / "r").exists()


def test_convert_from_mmfi_takes_its_protocol_split_and_axes(tmp_path):
    from radar_text_data import read_manifest
    from radar_text_data.testing import mmfi_folder

    mmfi_folder(tmp_path / "src", [f"E0{1 + (s - 1) // 10}/S{s:02d}/A12" for s in (1, 2, 3, 31)], frames=30)
    done = run(
        "data",
        "convert",
        tmp_path / "src",
        "--from",
        "mmfi",
        "--out",
        tmp_path / "d",
        "--window",
        "64",
        "--official-split",
        "cross_scene",
        "--protocol",
        "protocol2",
        "--axes",
        "-y,x,z",
    )
    assert done.exit_code == 0, done.output
    assert {r.extras["split_protocol"] for r in read_manifest(tmp_path / "d")} == {"cross_scene"}
    assert "(4 train, 2 val, 2 test)" in done.output
    bad = run("data", "convert", tmp_path / "src", "--from", "mmfi", "--out", tmp_path / "e", "--axes", "x,y")
    assert bad.exit_code == 2 and "axes: expected" in one_line(bad) and not (tmp_path / "e").exists()
    other = run(
        "data", "convert", tmp_path / "src", "--from", "radhar", "--out", tmp_path / "e", "--protocol", "protocol1"
    )
    assert other.exit_code == 2 and "MM-Fi's" in one_line(other)


def test_convert_from_ti_csv_needs_a_frame_rate_and_takes_labels_from_folders(tmp_path):
    from radar_text_data.testing import write_ti_csv

    rng = np.random.default_rng(0)
    for label in ("wave", "walk"):
        for i in range(5):
            write_ti_csv(tmp_path / "src" / label / f"r{i}.csv", {n: rng.uniform(0.5, 3, (2, 5)) for n in range(40)})
    args = ["data", "convert", tmp_path / "src", "--from", "ti-csv"]
    no_rate = run(*args, "--out", tmp_path / "x")
    assert no_rate.exit_code == 2 and "--frame-rate: --from ti-csv needs it" in one_line(no_rate)
    done = run(*args, "--out", tmp_path / "d", "--frame-rate", "10", "--window", "64", "--test-fraction", "0.2")
    assert done.exit_code == 0, done.output
    assert "from 10 recordings" in done.output and run("data", "check", tmp_path / "d").exit_code == 0
    wrong = run("data", "convert", tmp_path / "src", "--from", "radhar", "--out", tmp_path / "x", "--frame-rate", "10")
    assert wrong.exit_code == 2 and not (tmp_path / "x").exists()


def test_data_simulate_and_synth_in_a_sensors_domain(tmp_path):
    from radar_synth import SENSOR_ROOMS
    from radar_synth.mocap_fixtures import write_humanml3d_fixture
    from radar_text_data import read_manifest

    corpus = write_humanml3d_fixture(tmp_path / "HumanML3D", 3)
    made = run(
        "data", "simulate", corpus, "--out", tmp_path / "sim", "--max-frames", "64", "--sensor", "iwr1443-radhar"
    )
    assert made.exit_code == 0, made.output
    records = read_manifest(tmp_path / "sim")
    assert {r.extras["sensor"] for r in records} == {"iwr1443-radhar"}
    lo, hi = SENSOR_ROOMS["iwr1443-radhar"].start_range_m  # placed in the sensor's room
    assert all(lo <= r.extras["subject"]["start_range_m"] <= hi for r in records)
    assert run("data", "check", tmp_path / "sim").exit_code == 0
    for command in (["simulate", corpus], ["synth", "--clips", "4"]):
        bad = run("data", *command, "--out", tmp_path / "bad", "--sensor", "iwr1843")
        assert bad.exit_code == 2 and one_line(bad).startswith("error: --sensor: 'iwr1843' is not a point-cloud sensor")
        assert not (tmp_path / "bad").exists()


def test_angle_elevation_for_point_clouds_and_refused_elsewhere(tmp_path):
    from radar_synth.mocap_fixtures import write_humanml3d_fixture
    from radar_text_data import read_manifest
    from radar_text_data.testing import radhar_folder

    radhar_folder(tmp_path / "src", {"Train/walk": ["w1", "w2"], "Test/walk": ["w3"]}, frames=40)
    done = run(
        "data",
        "convert",
        tmp_path / "src",
        "--from",
        "radhar",
        "--out",
        tmp_path / "d",
        "--window",
        "32",
        "--angle",
        "elevation",
    )
    assert done.exit_code == 0, done.output
    assert {r.extras["angle"] for r in read_manifest(tmp_path / "d")} == {"elevation"}
    made = run(
        "data", "synth", "--clips", "2", "--out", tmp_path / "s", "--sensor", "iwr1443-radhar", "--angle", "elevation"
    )
    assert made.exit_code == 0, made.output
    assert {(r.extras["sensor"], r.extras["angle"]) for r in read_manifest(tmp_path / "s")} == {
        ("iwr1443-radhar", "elevation")
    }
    corpus = write_humanml3d_fixture(tmp_path / "HumanML3D", 1)
    made = run(
        "data",
        "simulate",
        corpus,
        "--out",
        tmp_path / "m",
        "--max-frames",
        "48",
        "--sensor",
        "iwr1443-radhar",
        "--angle",
        "elevation",
    )
    assert made.exit_code == 0, made.output
    assert {r.extras["angle"] for r in read_manifest(tmp_path / "m")} == {"elevation"}
    for command, needs in (
        (["convert", tmp_path / "src", "--labels", tmp_path / "l.csv"], "--from"),
        (["synth", "--clips", "2"], "--sensor"),
        (["simulate", corpus], "--sensor"),
    ):
        bad = run("data", *command, "--out", tmp_path / "bad", "--angle", "elevation")
        assert bad.exit_code == 2 and one_line(bad).startswith(
            f"error: --angle elevation: only point clouds are rendered with it; give {needs}"
        )
        tilted = run("data", *command, "--out", tmp_path / "bad", "--angle", "tilt")
        assert tilted.exit_code == 2 and one_line(tilted) == "error: --angle: 'tilt' is not one of azimuth | elevation"
        assert not (tmp_path / "bad").exists()
