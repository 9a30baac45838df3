"""The parity report's model: what counts as a difference, its defaults, where reports go."""

from datetime import datetime
from pathlib import Path

from pipelines.parity.cutover import CutoverDay
from pipelines.parity.model import DIFFERENCES, VERDICT_STATUS, ParityReport, report_dir
from pipelines.settings import Settings
from tests.support.parity import parity_report


def _report(counts: dict[str, int]) -> ParityReport:
    return parity_report(
        counts, run_id="run-1", computed_at=datetime(2026, 11, 21, 2, 0), stream_rows=998
    )


def test_differences_add_missing_and_mismatched_rows_but_not_matches_or_late_ones():
    report = _report(
        {
            "match": 990,
            "missing_in_stream": 3,
            "missing_in_legacy": 1,
            "value_mismatch": 2,
            "late": 4,
        }
    )
    assert report.differences == 6
    assert _report({"match": 5, "value_mismatch": 2}).differences == 2  # absent kinds count 0
    assert _report({}).differences == 0


def test_a_report_starts_red_with_nothing_rendered_and_its_own_cutover_list():
    first, second = _report({}), _report({})
    assert (first.verdict, first.explanation, first.report_html, first.report_markdown) == (
        "red",
        "",
        "",
        "",
    )
    first.cutover.append(CutoverDay(first.day, "red", "compare", "shadow", 0, None, "first"))
    assert second.cutover == []


def test_the_kinds_of_difference_and_each_verdicts_check_status():
    assert DIFFERENCES == ("missing_in_stream", "missing_in_legacy", "value_mismatch")
    assert VERDICT_STATUS == {"green": "pass", "yellow": "warn", "red": "fail"}


def test_reports_are_written_under_the_reports_dir(tmp_path):
    settings = Settings.from_env({"AFL_REPORTS_DIR": str(tmp_path / "out")})
    assert report_dir(settings) == tmp_path / "out" / "parity"
    home = Settings.from_env({"AFL_HOME": str(tmp_path)})
    assert report_dir(home) == Path(tmp_path) / "reports" / "parity"
