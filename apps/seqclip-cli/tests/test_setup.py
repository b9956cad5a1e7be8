"""training/setup.py: what setup checks before the first step and what it records."""


from seqclip_fixtures import FAST_ARGS, make_dataset, toml_base, train_cli


def _corrupt(root, n_bad):
    for i in range(n_bad):
        (root / "clips" / f"c{i:03d}.npz").write_bytes(b"not a zip")


def test_bad_clips_are_found_before_the_first_step(tmp_path):
    data = make_dataset(tmp_path / "d", n=40, splits=["train"] * 32 + ["val"] * 4 + ["test"] * 4)
    _corrupt(data, 23)
    result = train_cli(*toml_base(tmp_path), "--data", str(data), *FAST_ARGS, "--out", str(tmp_path / "run"))
    assert result.exit_code == 2 and "23 of 40 clips" in result.output and "--skip-bad" in result.output
    assert "c000.npz" in result.output and "c019.npz" in result.output and "c020.npz" not in result.output
    assert "and 3 more" in result.output and not (tmp_path / "run").exists()
    skipped = train_cli(*toml_base(tmp_path), "--data", str(data), *FAST_ARGS, "--out", str(tmp_path / "run"), "--skip-bad")
    assert skipped.exit_code == 0, skipped.output
    assert "left out 23 bad clip(s)" in skipped.output


def test_the_batch_size_defaults_to_the_device_and_is_recorded(tmp_path, data):
    import tomllib

    run = tmp_path / "run"
    result = train_cli(*toml_base(tmp_path), "--data", str(data), "--epochs", "1", "--similarity", "pooled", "--out", str(run),
                    "--max-steps", "1", "--device", "cpu")
    assert result.exit_code == 2 and "no optimizer step of 1 x 32 clips" in result.output  # 12 train clips < 32
    from seqclip.config import DEFAULT_BATCH, TrainConfig

    assert TrainConfig().batch_size is None and DEFAULT_BATCH == {"cpu": 32, "cuda": 128}
    ok = train_cli(*toml_base(tmp_path), "--data", str(data), *FAST_ARGS, "--out", str(run))
    assert ok.exit_code == 0 and tomllib.loads((run / "config.toml").read_text())["train"]["batch_size"] == 4
