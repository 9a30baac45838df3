"""A day's verdict from its counts: the thresholds, and the explanation a person reads."""

from datetime import date, datetime

from pipelines.parity.config import load_parity_config
from pipelines.parity.model import ParityReport
from pipelines.parity.run import judge

CONFIG = load_parity_config()


def _report(**counts) -> ParityReport:
    base = {
        "match": 0,
        "missing_in_stream": 0,
        "missing_in_legacy": 0,
        "value_mismatch": 0,
        "late": 0,
    }
    return ParityReport(
        day=date(2026, 11, 20),
        run_id="r",
        computed_at=datetime(2026, 11, 20, 10, 0, 0),
        legacy_rows=1000,
        stream_rows=1000,
        counts={**base, **counts},
        mismatches_by_column={"rating": counts.get("value_mismatch", 0)},
        examples={},
        schema_differences=[],
        rating_legacy={},
        rating_stream={},
        thumbs_down=[],
        freshness={},
        stream_lag_sample=[],
        legacy_lag_sample=[],
        watermark=None,
    )


def test_verdicts_follow_the_thresholds_and_say_why():
    assert judge(_report(match=1000), CONFIG)[0] == "green"
    verdict, why = judge(_report(value_mismatch=2, late=3), CONFIG)  # 0.2% <= 0.2%
    assert verdict == "yellow"
    assert "2 row(s) with different values: rating (2)" in why and "3 row(s) changed" in why
    verdict, why = judge(_report(missing_in_stream=3), CONFIG)  # 0.3% > 0.1%
    assert verdict == "red" and why.startswith("RED: 3 key(s) missing in the stream")
