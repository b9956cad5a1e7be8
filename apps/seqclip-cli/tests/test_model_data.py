import json

import numpy as np
import pytest
import torch
from seqclip_fixtures import make_dataset

from radar_text_data import BadClipError, check_dataset, convert_folder, resolve_data
from seqclip import SeqClip, SeqClipConfig
from seqclip.data import RadarTextDataset, collate
from seqclip.optim import param_groups, warmup_cosine


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return SeqClip(SeqClipConfig())


def batch(n=3, frames=32):
    g = torch.Generator().manual_seed(0)
    return {"range_time": torch.randn(n, 256, frames, generator=g), "doppler_time": torch.randn(n, 128, frames, generator=g),
            "azimuth_time": torch.randn(n, 128, frames, generator=g), "mask": torch.ones(n, frames, dtype=torch.bool),
            "captions": ["a person walks", "someone waves twice", "an adult falls forward"][:n],
            "sample_ids": torch.arange(n)}


def test_every_trainable_parameter_is_in_the_optimizer_exactly_once(model):
    groups = param_groups(model, 1e-3, 0.05, 0.1)
    ids = [id(p) for g in groups for p in g["params"]]
    trainable = [id(p) for p in model.parameters() if p.requires_grad]
    assert sorted(ids) == sorted(trainable) and len(ids) == len(set(ids))
    names = {id(p): n for n, p in model.named_parameters()}
    no_decay = {names[id(p)] for g in groups if g["weight_decay"] == 0 for p in g["params"]}
    assert "logit_scale.log_scale" in no_decay and "radar_encoder.eot.eot_token" in no_decay
    assert "radar_encoder.eot.pos_embed" in no_decay and "radar_encoder.eot.norm.weight" in no_decay
    assert all(g["lr"] == pytest.approx(1e-4) for g in groups if g["name"].startswith("text"))
    f = warmup_cosine(10, 100)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0) and f(100) == pytest.approx(0.0)


def test_forward_losses_and_sequence_masks(model):
    out = model(batch())
    for k in ("loss_clip", "loss_seq", "loss_total", "logits_per_radar", "seq_logits", "sim_global", "sim_temporal"):
        assert k in out
    w = model.config.seq_weight
    torch.testing.assert_close(out["loss_total"], out["loss_clip"] + w * out["loss_seq"])
    _, seq, mask = model.encode_text(["a person walks", "someone waves twice to the radar"], return_sequence=True)
    tok = model.tokenize(["a person walks", "someone waves twice to the radar"])
    assert int(mask[0].sum()) == int(tok["attention_mask"][0].sum()) - 2  # [CLS] and [SEP] excluded
    assert seq.shape[:2] == mask.shape


def test_save_and_from_pretrained_round_trip(model, tmp_path):
    model.eval()
    b = batch(2)
    with torch.no_grad():
        r = model.encode_radar(b["range_time"], b["doppler_time"], b["azimuth_time"], b["mask"])
        t = model.encode_text(b["captions"])
    model.save_pretrained(tmp_path / "m")
    assert {p.name for p in (tmp_path / "m").iterdir()} == {"config.json", "model.safetensors", "tokenizer", "text_encoder"}
    loaded = SeqClip.from_pretrained(tmp_path / "m").eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded.encode_radar(b["range_time"], b["doppler_time"], b["azimuth_time"], b["mask"]), r)
        torch.testing.assert_close(loaded.encode_text(b["captions"]), t)
    with pytest.raises(FileNotFoundError, match="not a SeqClip checkpoint"):
        SeqClip.from_pretrained(tmp_path)


def test_freeze_and_unfreeze_text_layers(model):
    model.freeze_text()
    assert not any(p.requires_grad for p in model.text_encoder.parameters())
    model.unfreeze_text_layers(1)
    trainable = {n for n, p in model.text_encoder.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("encoder.layer.5.") for n in trainable)
    model.set_text_trainable(True)


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
    np.savez(root / "clips" / "c005.npz", range_time=np.full((256, 48), np.nan), doppler_time=np.zeros((128, 48)),
             azimuth_time=np.zeros((128, 48)))
    np.savez(root / "clips" / "c006.npz", range_time=np.zeros((200, 48)), doppler_time=np.zeros((128, 48)),
             azimuth_time=np.zeros((128, 48)))
    (root / "clips" / "c007.npz").write_bytes(b"garbage")
    text = "\n".join(json.dumps(r) for r in rows) + "\n{not json\n"
    (root / "manifest.jsonl").write_text(text)
    problems = "\n".join(check_dataset(resolve_data(root)))
    for expected in (":2: field 'captions'", ":3: duplicate id", ":4:", "missing.npz", ":6:", "NaN", ":7:",
                     "must be [256, T]", ":8:", "unreadable", "split leakage", ":11: not valid JSON"):
        assert expected in problems, expected
    assert check_dataset(resolve_data(make_dataset(tmp_path / "good"))) == []


def test_converter_from_a_folder_of_clips(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    captions = {}
    rng = np.random.default_rng(0)
    for i in range(10):
        arrays = {"range_time": rng.random((256, 40)), "doppler_time": rng.random((128, 40)),
                  "azimuth_time": rng.random((128, 40))}
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


def test_every_trainable_parameter_learns_with_and_without_the_sequence_loss():
    for use_seq in (True, False):
        torch.manual_seed(0)
        m = SeqClip(SeqClipConfig(similarity="combined" if use_seq else "clip"))
        m(batch(3))["loss_total"].backward()
        silent = [n for n, p in m.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.abs().sum())]
        assert silent == [], (use_seq, silent[:5])


def test_the_text_cache_gives_the_encoders_features_and_runs_it_once_per_caption():
    from seqclip import SeqClip, SeqClipConfig

    torch.manual_seed(0)
    model = SeqClip(SeqClipConfig(similarity="temporal", freeze_text=True)).train()
    texts = ["a person waves", "someone sits down and then stands up again slowly", "a person waves"]
    fresh = model.encode_text(texts, return_sequence=True)
    calls = []
    model.text_encoder.register_forward_hook(lambda m, a, o: calls.append(a))
    model.cache_text()
    first = model.encode_text(texts[:1], return_sequence=True)  # cached alone: padded to its own length
    cached = model.encode_text(texts, return_sequence=True)
    assert len(calls) == 2  # one forward for the first caption, one for the one still missing
    torch.testing.assert_close(first[0], fresh[0][:1], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(cached[0], fresh[0], rtol=1e-5, atol=1e-6)  # pooled
    assert torch.equal(cached[2], fresh[2])  # token mask (padding is masked: its features differ and never count)
    torch.testing.assert_close(cached[1][cached[2]], fresh[1][fresh[2]], rtol=1e-5, atol=1e-6)
    cached[0].sum().backward()  # the projections still learn
    assert model.text_proj.weight.grad is not None
    trainable = SeqClip(SeqClipConfig(similarity="clip"))
    with pytest.raises(ValueError, match="fully frozen text encoder"):
        trainable.cache_text()


def test_the_encoder_defaults_follow_the_dataset_shape_contract():
    """radar-encoder and radar-views sit below radar-text-data and keep their own defaults; they
    must equal the contract seqclip trains with."""
    from radar_encoder import RadarEncoderConfig
    from radar_text_data import FRAME_MULTIPLE, MAX_FRAMES, VIEW_BINS
    from seqclip import SeqClipConfig

    enc = SeqClipConfig().encoder_config()
    assert enc.view_heights == tuple(VIEW_BINS.values()) == RadarEncoderConfig().view_heights
    assert enc.max_frames == MAX_FRAMES and enc.patch_time == FRAME_MULTIPLE


def test_compiled_parts_match_eager_and_keep_checkpoint_names():
    from seqclip import SeqClip, SeqClipConfig

    torch.manual_seed(0)
    model = SeqClip(SeqClipConfig(similarity="temporal")).eval()
    keys = list(model.state_dict())
    views = [torch.randn(2, b, 32) for b in (256, 128, 128)]
    mask = torch.tensor([[True] * 32, [True] * 16 + [False] * 16])
    with torch.no_grad():
        eager = model.encode_radar(*views, mask, return_sequence=True)
        model.compile_parts()  # torch.compile (inductor) in place
        compiled = model.encode_radar(*views, mask, return_sequence=True)
    assert list(model.state_dict()) == keys  # checkpoints load either way
    for a, b in zip(compiled, eager, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_items_are_the_same_through_the_decoded_cache(tmp_path):
    root = make_dataset(tmp_path / "d", frames=70)
    plain = RadarTextDataset(root, "train", length=64, seed=3)
    cached = RadarTextDataset(root, "train", length=64, seed=3, decoded_cache=tmp_path / "cache")
    for epoch in (0, 1):
        for i in range(len(plain)):
            a, b = plain[epoch, i], cached[epoch, i]
            assert a["caption"] == b["caption"]
            assert all(torch.equal(a[k], b[k]) for k in ("range_time", "doppler_time", "azimuth_time", "mask"))
