"""evaluation.zero_shot: classes and templates as data, metrics against hand computations, calibration
on validation only; evaluation.tasks.eval_zeroshot on exactly the given classes."""

import json

import numpy as np
import pytest
import torch
from seqclip_fixtures import make_dataset

from radar_text_data.classes import ClassPrompts, bare_class
from seqclip.evaluation.scorer import ClipSet, Scorer
from seqclip.evaluation.zero_shot import (
    NAME_TEMPLATES,
    PHRASE_TEMPLATES,
    build_zero_shot_classifier,
    calibrated_stacking,
    generalized_accuracy,
    generalized_intervals,
    restricted_top1,
    zero_shot_report,
)
from seqclip.model.features import Embeddings

WORDS = ["walks", "waves", "claps", "jumps", "kicks"]


class KnownText:
    """A stand-in model whose text tower is a known function of the prompt: the one-hot of the first
    word of ``WORDS`` it contains (and a zero-ish vector otherwise)."""

    seq_similarity = None

    def __init__(self):
        self.seen: list[str] = []

    def parameters(self):
        return iter([torch.zeros(1)])

    def encode_text(self, prompts, return_sequence=False):
        self.seen += list(prompts)
        out = torch.full((len(prompts), len(WORDS) + 1), 1e-3)
        for i, p in enumerate(prompts):
            hit = [j for j, w in enumerate(WORDS) if w in p]
            out[i, hit[0] if hit else len(WORDS)] = 1.0
        return Embeddings(torch.nn.functional.normalize(out, dim=-1))


def test_candidates_are_exactly_the_given_classes_and_the_accuracy_is_known_in_advance():
    model = KnownText()
    classes = [
        ClassPrompts("wave", phrase="waves"),
        ClassPrompts("jump", prompts=("someone jumps", "jumps!")),
        ClassPrompts("clap", phrase="claps"),
    ]
    clf = build_zero_shot_classifier(Scorer(model), classes)
    assert clf.classes == ["wave", "jump", "clap"]
    assert clf.prompts[1] == ("someone jumps", "jumps!")  # own prompts, used as they are
    assert clf.prompts[0] == tuple(t.format("waves") for t in PHRASE_TEMPLATES)
    assert set(model.seen) == {p for ps in clf.prompts for p in ps}  # nothing but the candidates' prompts
    # clips pointing at their class's word; the last 3 of 10 point at "claps" whatever their class
    truth = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 0, 1])
    word = {0: 1, 1: 3, 2: 2}  # class -> index of its word in WORDS
    radar = torch.stack(
        [
            torch.nn.functional.one_hot(torch.tensor(word[int(t)] if i < 7 else 2), len(WORDS) + 1)
            for i, t in enumerate(truth)
        ]
    ).float()
    clips = ClipSet(Embeddings(radar), list(range(len(radar))), [], torch.zeros(0, dtype=torch.long))
    report = zero_shot_report(clf.scores(clips), truth, clf.classes)
    assert report["top1"] == pytest.approx(70.0)  # the 7 clips that point at their own class
    assert report["chance_top1"] == pytest.approx(100 / 3) and report["top5_k"] == 3 and report["top5"] == 100.0
    assert np.array(report["confusion"]).shape == (3, 3) and np.array(report["confusion"]).sum() == 10
    assert report["per_class"]["clap"]["accuracy"] == 100.0  # every clip pointing at "claps" is called clap
    assert report["balanced"] == pytest.approx(
        (100 * 3 / 4 + 100 * 2 / 4 + 100 * 2 / 2) / 3
    )  # per class: 3/4, 2/4, 2/2


def test_bare_class_names_take_the_name_templates_and_user_templates_replace_both():
    model = KnownText()
    clf = build_zero_shot_classifier(Scorer(model), [bare_class("sit_down"), ClassPrompts("walk", phrase="walks")])
    assert clf.prompts[0] == tuple(t.format("sit down") for t in NAME_TEMPLATES)
    clf = build_zero_shot_classifier(Scorer(model), [bare_class("sit_down")], templates=("radar: {}",))
    assert clf.prompts == [("radar: sit down",)]


def test_the_generalised_figures_match_a_hand_computation():
    # classes 0, 1 seen; 2 unseen. Scores chosen so the raw predictions are [0, 0, 1, 2, 0, 2]
    scores = torch.tensor(
        [[0.9, 0.1, 0.3], [0.8, 0.5, 0.6], [0.2, 0.7, 0.1], [0.1, 0.2, 0.9], [0.6, 0.1, 0.5], [0.3, 0.2, 0.4]]
    )
    truth = torch.tensor([0, 1, 1, 2, 2, 2])
    unseen = torch.tensor([False, False, True])
    raw = generalized_accuracy(scores, truth, unseen)
    assert raw["seen"] == pytest.approx(100 * 2 / 3)  # clips 0, 2 right; clip 1 said 0
    assert raw["unseen"] == pytest.approx(100 * 2 / 3)  # clips 3, 5 right; clip 4 said 0
    assert raw["harmonic_mean"] == pytest.approx(100 * 2 / 3)
    shifted = generalized_accuracy(scores, truth, unseen, gamma=0.15)  # clip 4: 0.45 < 0.5 -> unseen; clip 1 too
    assert shifted["unseen"] == pytest.approx(100.0) and shifted["seen"] == pytest.approx(100 * 2 / 3)
    s, u = shifted["seen"], shifted["unseen"]
    assert shifted["harmonic_mean"] == pytest.approx(2 * s * u / (s + u))


def test_restricted_top1_and_the_generalised_intervals_match_a_hand_computation():
    scores = torch.tensor(
        [[0.9, 0.1, 0.3], [0.8, 0.5, 0.6], [0.2, 0.7, 0.1], [0.1, 0.2, 0.9], [0.6, 0.1, 0.5], [0.3, 0.2, 0.4]]
    )
    truth = torch.tensor([0, 1, 1, 2, 2, 2])
    unseen = torch.tensor([False, False, True])
    only_unseen = restricted_top1(scores, truth, unseen)  # one candidate: every unseen clip is right
    assert only_unseen["top1"] == 100.0 and only_unseen["clips"] == 3 and only_unseen["chance"] == 100.0
    only_seen = restricted_top1(scores, truth, ~unseen)  # argmax over classes 0, 1: clips 0, 2 right, clip 1 not
    assert only_seen["top1"] == pytest.approx(100 * 2 / 3) and only_seen["chance"] == 50.0
    assert only_seen["interval"][0] <= only_seen["top1"] <= only_seen["interval"][1]
    assert restricted_top1(scores[:1], truth[:1], unseen)["top1"] is None  # no unseen clip among them
    intervals = generalized_intervals(scores, truth, unseen, samples=400)
    point = generalized_accuracy(scores, truth, unseen)
    for name, (low, high) in intervals.items():
        assert 0.0 <= low <= point[name] <= high <= 100.0, name
    assert generalized_intervals(scores[:3], truth[:3], unseen, samples=50)["unseen"] is None


def test_calibration_maximises_the_validation_harmonic_mean_or_keeps_seen_accuracy_without_unseen_clips():
    scores = torch.tensor([[0.9, 0.1, 0.3], [0.6, 0.1, 0.5], [0.1, 0.8, 0.7]])
    unseen = torch.tensor([False, False, True])
    chosen = calibrated_stacking(scores, torch.tensor([0, 2, 1]), unseen)
    assert chosen["rule"] == "highest validation harmonic mean"
    assert 0.1 < chosen["gamma"] < 0.6  # clip 1 flips to unseen (margin 0.1), clip 0 must not (0.6)
    seen_only = calibrated_stacking(scores, torch.tensor([0, 0, 1]), unseen, seen_budget=0.0)
    assert "clips of seen classes only" in seen_only["rule"]
    after = generalized_accuracy(scores, torch.tensor([0, 0, 1]), unseen, seen_only["gamma"])
    assert after["seen"] == pytest.approx(generalized_accuracy(scores, torch.tensor([0, 0, 1]), unseen)["seen"])


def test_figures_without_clips_to_measure_them_are_none_not_nan():
    scores = torch.tensor([[0.9, 0.1, 0.3], [0.2, 0.7, 0.1]])
    unseen = torch.tensor([False, False, True])
    only_seen = generalized_accuracy(scores, torch.tensor([0, 1]), unseen)
    assert only_seen == {"seen": 100.0, "unseen": None, "harmonic_mean": None}
    chosen = calibrated_stacking(scores, torch.tensor([2, 2]), unseen)  # validation of unseen clips only
    assert chosen["gamma"] == 0.0 and "no clip of a seen class" in chosen["rule"]


@pytest.fixture(scope="module")
def zs_setup(tmp_path_factory):
    """16 one-activity clips (walk / wave / clap), 4 of them in val, and a saved model."""
    from seqclip import SeqClip, SeqClipConfig

    tmp = tmp_path_factory.mktemp("zs")
    data = make_dataset(tmp / "d", n=16, splits=["train"] * 4 + ["val"] * 4 + ["test"] * 8)
    rows = [json.loads(x) for x in (data / "manifest.jsonl").read_text().splitlines()]
    for i, r in enumerate(rows):
        r["segments"] = [{"activity": ["walk", "wave", "clap"][i % 3], "start_frame": 0, "end_frame": 48, "params": {}}]
    (data / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    torch.manual_seed(0)
    model = SeqClip(SeqClipConfig(clip_length=48)).eval()
    return data, model


def test_eval_zeroshot_scores_only_the_given_classes_and_counts_the_others(zs_setup):
    from seqclip.data import RadarTextDataset
    from seqclip.evaluation.tasks import EvalOptions, eval_zeroshot

    data, model = zs_setup
    test = RadarTextDataset(data, "test", 48, train=False)
    labels = [r.activities[0] for r in test.records]
    options = EvalOptions(classes=(ClassPrompts("wave", phrase="waves"), ClassPrompts("walk", phrase="walks")))
    result = eval_zeroshot(model, test, options)
    assert result["classes"] == ["wave", "walk"] and np.array(result["confusion"]).shape == (2, 2)
    assert result["clips"] == labels.count("wave") + labels.count("walk")
    assert result["unlisted_clips"] == {"clap": labels.count("clap")}
    assert result["chance_top1"] == 50.0
    for similarity in ("temporal", "total"):  # the sequence similarities score it too
        seq = eval_zeroshot(model, test, EvalOptions(classes=options.classes, similarity=similarity))
        confusion = np.array(seq["confusion"])
        assert seq["clips"] == result["clips"] == confusion.sum() and seq["top1"] <= seq["top5"]
        assert seq["top1"] == pytest.approx(100 * np.trace(confusion) / confusion.sum())  # report agrees with itself
        assert seq["similarity"] == similarity


def test_calibrated_stacking_never_uses_test_labels(zs_setup, tmp_path):
    import shutil

    from seqclip.data import RadarTextDataset
    from seqclip.evaluation.tasks import EvalOptions, eval_zeroshot

    data, model = zs_setup
    options = EvalOptions(unseen=("clap",))
    first = eval_zeroshot(model, RadarTextDataset(data, "test", 48, train=False), options)["generalized"]
    other = tmp_path / "d"
    shutil.copytree(data, other)
    rows = [json.loads(x) for x in (other / "manifest.jsonl").read_text().splitlines()]
    for r in rows:  # every test label changed; train and val untouched
        if r["split"] == "test":
            r["segments"][0]["activity"] = {"walk": "clap", "wave": "walk", "clap": "wave"}[
                r["segments"][0]["activity"]
            ]
    (other / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    second = eval_zeroshot(model, RadarTextDataset(other, "test", 48, train=False), options)["generalized"]
    assert second["gamma"] == first["gamma"] and second["gamma_rule"] == first["gamma_rule"]
    assert first["calibrated_on"] == "val" and first["validation_clips"] == 4


def test_class_accuracy_equals_eval_zeroshots_top1_on_the_same_clips(zs_setup):
    """Validation's class accuracy (clips embedded once, shared with retrieval) against the task."""
    from seqclip.data import RadarTextDataset
    from seqclip.evaluation.tasks import EvalOptions, eval_zeroshot
    from seqclip.evaluation.zero_shot import class_accuracy

    data, model = zs_setup
    test = RadarTextDataset(data, "test", 48, train=False)
    classes = (ClassPrompts("wave", phrase="waves"), ClassPrompts("walk", phrase="walks"))  # clap clips left out
    scorer = Scorer(model, "pooled")
    fast = class_accuracy(scorer, scorer.embed_clips(test), test, classes)
    assert fast == pytest.approx(eval_zeroshot(model, test, EvalOptions(classes=classes, unseen=("none",)))["top1"])
