"""evaluation.calibration: every inductive rule reads no unseen label (poisoned labels change
nothing), standardisation against a slow loop, the rules through eval_zeroshot, and prompts from
names, descriptions or both (exactly the given descriptions, the sets weighted alike)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from test_zero_shot import WORDS, KnownText, zs_setup  # noqa: F401  (a fixture)

from radar_text_data.classes import ClassPrompts
from seqclip.evaluation.calibration import fit_calibration, seen_labelled
from seqclip.evaluation.scorer import Scorer
from seqclip.evaluation.zero_shot import PHRASE_TEMPLATES, build_zero_shot_classifier, prompt_sets
from seqclip.recognition import CALIBRATIONS, INDUCTIVE


@st.composite
def validation(draw):
    """Random validation scores of C classes (some unseen) and labels, some clips of unseen classes."""
    classes = draw(st.integers(3, 7))
    unseen = torch.tensor(draw(st.lists(st.booleans(), min_size=classes, max_size=classes)))
    if unseen.all() or not unseen.any():
        unseen[0], unseen[-1] = True, False
    n = draw(st.integers(2, 40))
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    scores = torch.randn(n, classes, generator=g)
    truth = torch.randint(-1, classes, (n,), generator=g)
    return scores, truth, unseen, seed


def _poisoned(truth: torch.Tensor, unseen: torch.Tensor, seed: int) -> list[torch.Tensor]:
    """The labels with every unseen-class clip relabelled: to another unseen class, and to unknown (-1)."""
    of_unseen = seen_labelled(truth, ~unseen) & (truth >= 0)  # clips whose label is an unseen class
    ids = torch.nonzero(unseen).flatten()
    g = torch.Generator().manual_seed(seed + 1)
    shuffled = truth.clone()
    shuffled[of_unseen] = ids[torch.randint(0, len(ids), (int(of_unseen.sum()),), generator=g)]
    unknown = truth.clone()
    unknown[of_unseen] = -1
    return [shuffled, unknown]


@settings(max_examples=80, deadline=None)
@given(validation())
def test_no_inductive_rule_reads_an_unseen_label(case):
    scores, truth, unseen, seed = case
    for rule in INDUCTIVE:
        clean = fit_calibration(rule, scores, truth, unseen)
        for poisoned in _poisoned(truth, unseen, seed):
            other = fit_calibration(rule, scores, poisoned, unseen)
            assert other.gamma == clean.gamma and other.note == clean.note, rule
            assert torch.equal(other.apply(scores), clean.apply(scores)), rule


def test_the_poisoning_catches_a_rule_that_reads_unseen_labels():
    """Calibrated stacking reads them (the highest harmonic mean needs unseen clips): the same poison moves it."""
    scores = torch.tensor([[2.0, 0.0, 1.0], [2.0, 1.5, 0.0], [0.0, 1.0, 3.0], [1.0, 0.2, 0.3]])
    truth, unseen = torch.tensor([1, 1, 2, 0]), torch.tensor([False, True, False])
    assert fit_calibration("stacking", scores, truth, unseen).gamma > 0
    unknown = torch.tensor([-1, -1, 2, 0])
    assert fit_calibration("stacking", scores, unknown, unseen).gamma == 0.0


@settings(max_examples=40, deadline=None)
@given(validation())
def test_standardisation_matches_a_loop_and_the_budget_keeps_seen_accuracy(case):
    scores, truth, unseen, _ = case
    fitted = fit_calibration("standardize", scores, truth, unseen)
    for c in range(scores.shape[1]):
        column = [float(scores[i, c]) for i in range(len(scores))]
        mean = sum(column) / len(column)
        sd = max((sum((x - mean) ** 2 for x in column) / len(column)) ** 0.5, 1e-6) if len(column) > 1 else 1.0
        assert float(fitted.apply(scores)[0, c]) == pytest.approx((column[0] - mean) / sd, abs=1e-4)
    budget = fit_calibration("seen-budget", scores, truth, unseen, seen_budget=5.0)
    mine = seen_labelled(truth, unseen)
    if mine.any():
        raw = (scores[mine].argmax(1) == truth[mine]).float().mean() * 100
        after = (budget.apply(scores)[mine].argmax(1) == truth[mine]).float().mean() * 100
        assert after >= raw - 5.0 - 1e-6 and budget.gamma >= 0


def test_every_rule_is_reported_with_what_it_reads(zs_setup):  # noqa: F811
    from seqclip.data import RadarTextDataset
    from seqclip.evaluation.tasks import EvalOptions, eval_zeroshot

    data, model = zs_setup
    g = eval_zeroshot(
        model, RadarTextDataset(data, "test", 48, train=False), EvalOptions(unseen=("clap",), calibration="standardize")
    )["generalized"]
    assert set(g["rules"]) == set(CALIBRATIONS) and g["calibration"] == "standardize"
    assert {r for r, v in g["rules"].items() if v["inductive"]} == set(INDUCTIVE)
    assert g["calibrated"] == {k: g["rules"]["standardize"][k] for k in ("seen", "unseen", "harmonic_mean")}
    assert g["rules"]["none"]["seen"] == g["raw"]["seen"] and g["rules"]["standardize"]["standardized"]
    with pytest.raises(ValueError, match="calibration: must be one of"):
        EvalOptions(calibration="oracle")


DESCRIBED = [
    ClassPrompts("wave", phrase="waves", descriptions=("a person kicks once.", "a person walks a bit.")),
    ClassPrompts("jump", phrase="jumps", descriptions=("a person claps.",)),
]


def test_prompts_from_descriptions_are_exactly_the_given_ones():
    clf = build_zero_shot_classifier(Scorer(KnownText()), DESCRIBED, source="descriptions")
    assert clf.prompts == [DESCRIBED[0].descriptions, DESCRIBED[1].descriptions] and clf.source == "descriptions"
    assert prompt_sets(DESCRIBED[0], "both") == (
        tuple(t.format("waves") for t in PHRASE_TEMPLATES),
        DESCRIBED[0].descriptions,
    )
    with pytest.raises(ValueError, match="class 'walk' has no descriptions"):
        build_zero_shot_classifier(Scorer(KnownText()), [ClassPrompts("walk", phrase="walks")], source="both")


def test_auto_prompts_take_the_preferred_source_only_when_every_class_is_described():
    from seqclip.recognition import PREFERRED_PROMPTS, resolve_prompts

    described = build_zero_shot_classifier(Scorer(KnownText()), DESCRIBED)  # the default: auto
    assert described.source == PREFERRED_PROMPTS == resolve_prompts("auto", True)
    mixed = build_zero_shot_classifier(Scorer(KnownText()), [*DESCRIBED, ClassPrompts("walk", phrase="walks")])
    assert mixed.source == "names" and mixed.prompts[2] == tuple(t.format("walks") for t in PHRASE_TEMPLATES)
    with pytest.raises(ValueError, match="prompts: must be one of auto"):
        resolve_prompts("captions", True)


def test_both_prompt_sets_weigh_alike_whatever_their_sizes():
    model = KnownText()
    both = build_zero_shot_classifier(Scorer(model), DESCRIBED, source="both")
    text = lambda ps: torch.nn.functional.normalize(model.encode_text(list(ps)).pooled, dim=-1).mean(0)  # noqa: E731
    for i, c in enumerate(DESCRIBED):
        names, descriptions = prompt_sets(c, "both")
        expected = torch.nn.functional.normalize(0.5 * text(names) + 0.5 * text(descriptions), dim=0)
        assert torch.allclose(both.weights[i], expected, atol=1e-6)
        assert float(both.prompt_weight[both.prompt_class == i].sum()) == pytest.approx(1.0)


def test_each_rule_says_what_it_read_and_no_more():
    scores = torch.tensor([[0.9, 0.1, 0.3], [0.6, 0.1, 0.5], [0.1, 0.8, 0.7], [0.2, 0.3, 0.9], [0.5, 0.4, 0.2]])
    truth = torch.tensor([0, 1, 2, -1, -1])  # two seen-labelled clips, one of the unseen class, two unlabelled
    unseen = torch.tensor([False, False, True])
    budget = fit_calibration("seen-budget", scores, truth, unseen)
    assert budget.fitted_on == "2 val clips labelled with a seen class"
    assert "no unseen class" not in budget.note  # validation does hold one: the rule does not read it
    assert fit_calibration("stacking", scores, truth, unseen).fitted_on == "3 labelled val clips (1 of unseen classes)"
    both = fit_calibration("standardize+seen-budget", scores, truth, unseen)
    assert both.fitted_on == "5 unlabelled val clips, 2 val clips labelled with a seen class"
    assert fit_calibration("none", scores, truth, unseen).fitted_on == "nothing"
