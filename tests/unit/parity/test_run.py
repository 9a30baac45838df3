"""A day's verdict from its counts: the thresholds, and the explanation a person reads."""

from pipelines.parity.config import load_parity_config
from pipelines.parity.model import ParityReport
from pipelines.parity.run import judge
from tests.support.parity import parity_report

CONFIG = load_parity_config()


def _report(**counts) -> ParityReport:
    base = dict.fromkeys(
        ("match", "missing_in_stream", "missing_in_legacy", "value_mismatch", "late"), 0
    )
    return parity_report(
        {**base, **counts}, mismatches_by_column={"rating": counts.get("value_mismatch", 0)}
    )


def test_verdicts_follow_the_thresholds_and_say_why():
    assert judge(_report(match=1000), CONFIG)[0] == "green"
    verdict, why = judge(_report(value_mismatch=2, late=3), CONFIG)  # 0.2% <= 0.2%
    assert verdict == "yellow"
    assert "2 row(s) with different values: rating (2)" in why and "3 row(s) changed" in why
    verdict, why = judge(_report(missing_in_stream=3), CONFIG)  # 0.3% > 0.1%
    assert verdict == "red" and why.startswith("RED: 3 key(s) missing in the stream")
