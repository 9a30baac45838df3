"""The cutover state machine over daily verdicts: promote, roll back, retire legacy."""

from datetime import date

from pipelines.parity.cutover import replay_cutover


def test_cutover_promotes_after_n_green_days_and_a_red_day_recommends_rollback():
    days = [date(2026, 11, d) for d in range(1, 9)]
    verdicts = ["green", "yellow", "green", "green", "green", "green", "red", "green"]
    history = replay_cutover(
        list(zip(days, verdicts, strict=True)), promote_after=3, retire_after=3
    )
    assert [d.state for d in history] == [
        "compare",
        "compare",
        "compare",
        "compare",
        "promote",
        "promote",
        "compare",
        "compare",
    ]
    assert history[4].reason == "3 consecutive green days: the stream may become primary"
    assert history[6].recommendation == "rollback"
    assert [d.recommendation for d in history if d.recommendation] == ["rollback"]


def test_cutover_retires_legacy_after_more_green_days():
    days = [date(2026, 11, d) for d in range(1, 7)]
    history = replay_cutover([(d, "green") for d in days], promote_after=2, retire_after=3)
    assert [d.state for d in history] == [
        "compare",
        "promote",
        "promote",
        "promote",
        "retire_legacy",
        "retire_legacy",
    ]
