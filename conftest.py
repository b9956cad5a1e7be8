"""Root conftest: the project's Hypothesis profile (no deadline, small sides, few examples)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "seqclip",
    deadline=None,
    max_examples=int(os.environ.get("SEQCLIP_HYPOTHESIS_EXAMPLES", "20")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
settings.load_profile("seqclip")
