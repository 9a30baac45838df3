"""The parity report rendered from a small ParityReport: the Markdown summary, the HTML page."""

import base64
import re
from datetime import date, datetime

import pytest

from pipelines.parity.config import load_parity_config
from pipelines.parity.cutover import replay_cutover
from pipelines.parity.model import ParityReport
from pipelines.parity.report import render_html, render_markdown, write_reports
from pipelines.settings import Settings

CONFIG = load_parity_config()
DAY = date(2026, 11, 20)
WHY = (
    "YELLOW: 1 key(s) missing in the stream; 2 row(s) with different values: rating (2), "
    "comment (1). Rates: missing 0.08% (yellow up to 0.10%), mismatched 0.17% "
    "(yellow up to 0.20%)."
)
HASHED = "<12 chars, sha256 1a2b3c4d>"  # how run.py shows a comment: never the text itself
PNG = b"\x89PNG\r\n\x1a\n"


def _report(**changes) -> ParityReport:
    report = ParityReport(
        day=DAY,
        run_id="run-7",
        computed_at=datetime(2026, 11, 21, 2, 0, 5),
        legacy_rows=1204,
        stream_rows=1203,
        counts={
            "match": 1199,
            "missing_in_stream": 1,
            "missing_in_legacy": 0,
            "value_mismatch": 2,
            "late": 2,
        },
        mismatches_by_column={"rating": 2, "thumbs": 0, "comment": 1},
        examples={
            "missing_in_stream": [
                {"key": "FB-17", "columns": [], "legacy.rating": 4, "stream.rating": None}
            ],
            "missing_in_legacy": [],
            "value_mismatch": [
                {"key": "FB-3", "columns": ["rating"], "legacy.rating": 4, "stream.rating": 5},
                {"key": "FB-9", "columns": ["comment"], "legacy.rating": 2, "stream.rating": 2},
            ],
            "late": [{"key": "FB-40", "columns": ["comment"], "stream.comment": HASHED}],
        },
        schema_differences=[],
        rating_legacy={1: 10, 2: 20, 3: 30, 4: 40, 5: 50},
        rating_stream={1: 10, 2: 20, 3: 31, 4: 39, 5: 50},
        thumbs_down=[
            {
                "agent": "billing-bot",
                "legacy_rate": 0.25,
                "stream_rate": 0.25,
                "legacy_thumbs": 8,
                "stream_thumbs": 8,
            },
            {
                "agent": "triage",
                "legacy_rate": None,
                "stream_rate": 0.5,
                "legacy_thumbs": 0,
                "stream_thumbs": 2,
            },
        ],
        freshness={
            "stream_seconds_p50": 4.2,
            "stream_seconds_p95": 12.74,
            "legacy_hours_p50": 13.0,
            "legacy_hours_p95": 23.5,
        },
        stream_lag_sample=[1.0, 4.2, 12.74],
        legacy_lag_sample=[13.0, 23.5],
        watermark=datetime(2026, 11, 20, 23, 58),
        verdict="yellow",
        explanation=WHY,
        cutover=replay_cutover(
            [(date(2026, 11, 19), "green"), (DAY, "yellow")], promote_after=3, retire_after=3
        ),
    )
    for name, value in changes.items():
        setattr(report, name, value)
    return report


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(_report(), CONFIG)


def test_the_markdown_summary_states_verdict_counts_examples_and_cutover():
    assert render_markdown(_report()) == "\n".join(
        [
            "# Feedback parity — 2026-11-20: **YELLOW**",
            "",
            WHY,
            "",
            "- legacy rows: 1,204; stream rows: 1,203",
            "- match: 1,199",
            "- missing_in_stream: 1",
            "- missing_in_legacy: 0",
            "- value_mismatch: 2",
            "- late: 2",
            "- mismatches by column: rating 2, comment 1",
            "- schema differences: none",
            "- stream freshness p95: 12.7 s; legacy p95: 23.5 h",
            "- missing_in_stream examples: FB-17",
            "- value_mismatch examples: FB-3, FB-9",
            "- late examples: FB-40",
            "- cutover: **compare** (yellow day resets the green streak)",
            "",
        ]
    )


def test_a_clean_day_without_statistics_says_none_and_n_a_and_a_rollback_is_recommended():
    history = replay_cutover(
        [(date(2026, 11, 18), "green"), (date(2026, 11, 19), "green"), (DAY, "red")],
        promote_after=2,
        retire_after=3,
    )
    report = _report(
        verdict="red",
        explanation="RED: the legacy export's schema differs.",
        counts={"match": 1204},
        mismatches_by_column={"rating": 0},
        examples={},
        schema_differences=["rating: int, expected bigint", "comment missing"],
        freshness={},
        cutover=history,
    )
    assert render_markdown(report).splitlines()[4:] == [
        "- legacy rows: 1,204; stream rows: 1,203",
        "- match: 1,204",
        "- mismatches by column: none",
        "- schema differences: rating: int, expected bigint; comment missing",
        "- stream freshness p95: n/a s; legacy p95: n/a h",
        "- cutover: **compare** — recommendation: **rollback** (red day after promotion: "
        "roll back to the legacy export as primary)",
    ]


def test_the_html_page_opens_with_the_verdict_in_its_colour(html):
    assert "<title>Parity 2026-11-20 — YELLOW</title>" in html
    assert "background:#bf8700" in html  # yellow
    assert f'<div class="verdict"><strong>YELLOW</strong> — {WHY}</div>' in html
    assert "Legacy export: <strong>1,204</strong> rows" in html
    assert "stream: <strong>1,203</strong> rows" in html
    assert "stream watermark: 2026-11-20 23:58:00 · run run-7 at 2026-11-21 02:00:05 UTC" in html


def test_the_html_page_has_a_row_per_root_cause_and_examples_only_where_there_are_some(html):
    rows = re.findall(r"<tr><td>(\w+)</td><td>(\d+)</td></tr>", html)
    assert rows == [
        ("match", "1199"),
        ("missing_in_stream", "1"),
        ("missing_in_legacy", "0"),
        ("value_mismatch", "2"),
        ("late", "2"),
    ]
    assert re.findall(r"<h3>(\w+) — examples</h3>", html) == [
        "missing_in_stream",
        "value_mismatch",
        "late",
    ]
    assert "<td>FB-17</td><td>[]</td><td>4</td><td>∅</td>" in html  # null shown as ∅
    assert "<td>FB-3</td><td>[&#39;rating&#39;]</td><td>4</td><td>5</td>" in html


def test_the_html_page_escapes_what_it_shows(html):
    assert "<td>&lt;12 chars, sha256 1a2b3c4d&gt;</td>" in html
    assert HASHED not in html


def test_the_html_page_embeds_its_three_charts_as_png(html):
    charts = dict(re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)">', html))
    assert sorted(charts) == ["lag distribution", "mismatches per column", "rating histogram"]
    images = [base64.b64decode(data, validate=True) for data in charts.values()]
    assert [image[:8] for image in images] == [PNG, PNG, PNG]
    assert len(set(images)) == 3


def test_the_html_page_shows_aggregates_freshness_cutover_and_the_rules(html):
    assert "No schema differences on the compared columns." in html
    assert "<tr><td>billing-bot</td>\n<td>25.0%</td>\n<td>25.0%</td>\n<td>8 / 8</td></tr>" in html
    assert "<tr><td>triage</td>\n<td>∅</td>\n<td>50.0%</td>\n<td>0 / 2</td></tr>" in html
    assert "after p50 4.2 s,\n p95 12.7 s." in html
    assert "p95 23.5 h after the change." in html
    assert "State: <strong>compare</strong>. yellow day resets the green streak.</p>" in html
    assert "<tr><td>2026-11-19</td><td>green</td><td>compare</td>\n<td>1</td><td></td></tr>" in html
    assert (
        "<tr><td>2026-11-20</td><td>yellow</td><td>compare</td>\n<td>0</td><td></td></tr>" in html
    )
    assert (
        "Rules: lag window 15.0 min;\ntenant_id=exact, user_id=exact, session_id=exact, "
        "agent_name=exact, rating=numeric, thumbs=text, comment=text, created_at=timestamp, "
        "updated_at=timestamp.</small>"
    ) in html


def test_a_red_day_is_red_and_a_schema_difference_is_listed():
    page = render_html(
        _report(verdict="red", schema_differences=["rating: int, expected bigint"], cutover=[]),
        CONFIG,
    )
    assert "background:#cf222e" in page
    assert "<ul><li>rating: int, expected bigint</li></ul>" in page
    assert "No schema differences" not in page
    assert "State:" not in page  # no cutover history yet


def test_reports_are_written_as_one_file_each_named_after_the_day(tmp_path):
    settings = Settings.from_env({"AFL_REPORTS_DIR": str(tmp_path)})
    report = _report()
    html_path, md_path = write_reports(report, CONFIG, settings)
    assert (html_path, md_path) == (
        str(tmp_path / "parity" / "2026-11-20.html"),
        str(tmp_path / "parity" / "2026-11-20.md"),
    )
    assert sorted(p.name for p in (tmp_path / "parity").iterdir()) == [
        "2026-11-20.html",
        "2026-11-20.md",
    ]
    assert (tmp_path / "parity" / "2026-11-20.md").read_text() == render_markdown(report)
    page = (tmp_path / "parity" / "2026-11-20.html").read_text()
    assert page.startswith("<!doctype html>") and page.endswith("</body></html>")
