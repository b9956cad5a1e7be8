"""No caption cut without a word: the default text length holds every caption radar-synth can write,
it is a model option saved with the model, old checkpoints keep 32, and a dataset with longer
captions gets one warning with a count in training and evaluation."""

import json

import torch
from seqclip_fixtures import make_dataset, run, toml

from radar_synth.captions import activity_phrases, longest_caption
from seqclip import SeqClip, SeqClipConfig
from seqclip.config import DEFAULT_MAX_TEXT_LENGTH, LEGACY_MAX_TEXT_LENGTH
from seqclip.model.text import load_text_encoder


def _tokens():
    _, tokenizer = load_text_encoder("default")
    return lambda text: len(tokenizer(text)["input_ids"])


def test_the_default_text_length_is_the_longest_caption_the_grammar_can_write():
    count = _tokens()
    longest = longest_caption(count)
    assert count(longest) == DEFAULT_MAX_TEXT_LENGTH, longest
    assert longest.count("the same person") == 2  # three activities: the story family's long form


def test_longest_caption_holds_every_sampled_caption_and_every_phrase():
    """The bound against the captions the generator writes (every family, 200 clips) and the
    enumeration against each phrase it can pick."""
    import numpy as np

    from radar_synth.captions import caption_pairs
    from radar_synth.motion import plan_clip

    count = _tokens()
    bound = count(longest_caption(count))
    rng = np.random.default_rng(0)
    for _ in range(200):
        plan = plan_clip(rng, 50.0, segments=3)
        for caption, reverse in caption_pairs(plan.segments, rng):
            assert count(caption) <= bound and (reverse is None or count(reverse) <= bound)
    phrases = set(activity_phrases("walk", "plain"))
    assert ("walks slowly toward the radar", "walking slowly toward the radar") in phrases
    assert ("walks briskly round in a loop", "walking briskly round in a loop") in phrases
    assert len(phrases) == 15  # 3 speeds x 5 paths (4 straight directions and a loop)


def test_a_long_caption_is_no_longer_cut_at_32_tokens_and_old_configs_read_32():
    torch.manual_seed(0)
    model = SeqClip(SeqClipConfig(similarity="pooled")).eval()
    words = "A person walks toward the radar, then waves with the left hand three times, and finally sits down."
    long = f"{words} {words}"
    head = model.tokenizer.decode(model.tokenizer(long)["input_ids"][1 : LEGACY_MAX_TEXT_LENGTH - 1])
    with torch.no_grad():
        full, cut = model.encode_text([long, head]).pooled
    assert float(full @ cut) < 0.999  # with 32 tokens the two were the same (cosine 1.0000001)
    old = SeqClipConfig.from_dict({k: v for k, v in SeqClipConfig().to_dict().items() if k != "max_text_length"})
    assert old.max_text_length == LEGACY_MAX_TEXT_LENGTH


def test_max_text_length_is_saved_with_the_model_and_long_captions_are_counted_in_train_and_eval(tmp_path):
    data = make_dataset(tmp_path / "d")
    rows = [json.loads(x) for x in (data / "manifest.jsonl").read_text().splitlines()]
    for r in rows[:3]:
        r["captions"] = [
            c + " Then the same person turns around and walks away from the radar slowly." for c in r["captions"]
        ]
    (data / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    trained = run("train", *toml(tmp_path), "--data", data, "--out", tmp_path / "run", "--max-text-length", "16")
    assert trained.exit_code == 0, trained.output
    text, count = " ".join(trained.output.split()), _tokens()
    longest = max(count(c) for r in rows for c in r["captions"])
    assert text.count("distinct captions") == 1 and "6 of 22 distinct captions" in text
    assert f"(the longest: {longest})" in text
    assert json.loads((tmp_path / "run" / "best" / "config.json").read_text())["max_text_length"] == 16
    evaluated = run("eval", "--checkpoint", tmp_path / "run", "--data", data, "--split", "train")
    assert evaluated.exit_code == 0 and "are longer than the model's 16 text tokens" in " ".join(
        evaluated.output.split()
    )
    bad = run("train", *toml(tmp_path), "--data", data, "--out", tmp_path / "r2", "--max-text-length", "1")
    assert bad.exit_code == 2 and "--max-text-length: must be >= 3" in bad.output
