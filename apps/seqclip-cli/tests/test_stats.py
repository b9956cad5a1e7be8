"""evaluation/stats.py: bootstrap intervals and the Wilson interval."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqclip.evaluation.stats import bootstrap_interval, wilson_interval


def test_bootstrap_intervals_cover_the_true_rate_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    hits = 0
    trials = 200
    for t in range(trials):
        per_clip = [list((rng.random(3) < 0.7).astype(float)) for _ in range(80)]  # 80 clips x 3 comparisons
        low, high = bootstrap_interval(per_clip, samples=1000, seed=t)
        hits += low <= 0.7 <= high
    assert 0.89 <= hits / trials <= 0.99, hits / trials
    with pytest.raises(ValueError):
        bootstrap_interval([])


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 60), data=st.data())
def test_the_wilson_interval_holds_the_estimate_and_stays_in_0_100(n, data):
    k = data.draw(st.integers(0, n))
    low, high = wilson_interval(k, n)
    assert 0.0 <= low <= 100 * k / n <= high <= 100.0
