"""training/logger.py: metrics.jsonl is strict JSON."""

import json


def test_metrics_jsonl_is_strict_json_when_a_value_is_undefined(tmp_path):
    from seqclip.training.logger import MetricsLogger

    logger = MetricsLogger(tmp_path)
    logger.log(1, {"val_loss_total": float("nan"), "lr": 0.1, "x": float("inf")})
    logger.close()

    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    row = json.loads((tmp_path / "metrics.jsonl").read_text(), parse_constant=refuse)
    assert row == {"step": 1, "val_loss_total": None, "lr": 0.1, "x": None}
