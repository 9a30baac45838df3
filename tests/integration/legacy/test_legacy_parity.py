"""The legacy path against the stream: seed, nightly ETL, mirror, stream, parity."""

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F
from sqlalchemy import select, update

from pipelines.cli import main
from pipelines.legacy.app_db import FEEDBACK, engine_for
from pipelines.legacy.etl import run_nightly_etl
from pipelines.parity.config import load_parity_config
from pipelines.parity.run import run_parity
from tests.support.legacy import DAYS, END, legacy_and_stream

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("lake_fixture", ["sqlite_lake", "postgres_lake"])
def test_every_day_is_green_with_zero_differences(spark, request, lake_fixture):
    settings = request.getfixturevalue(lake_fixture)
    exported = legacy_and_stream(spark, settings)
    assert sum(exported.values()) > 250
    for day in DAYS:
        report = run_parity(spark, settings, day)
        assert report.verdict == "green", report.explanation
        assert report.counts == {
            "match": exported[day],
            "missing_in_stream": 0,
            "missing_in_legacy": 0,
            "value_mismatch": 0,
            "late": 0,
        }
        assert report.legacy_rows == report.stream_rows == exported[day]
        assert report.rating_legacy == report.rating_stream
    html = Path(report.report_html).read_text()
    assert "GREEN" in html and html.count("data:image/png;base64,") == 3
    assert (
        Path(report.report_markdown)
        .read_text()
        .startswith(f"# Feedback parity — {DAYS[-1]}: **GREEN**")
    )
    results = spark.read.format("delta").load(settings.lake_path("ops", "parity_results"))
    assert results.where(F.col("check") == "verdict").count() == len(DAYS)
    assert {r["check"] for r in results.collect()} >= {
        "row_counts",
        "missing_in_stream",
        "missing_in_legacy",
        "value_mismatch",
        "late",
        "schema",
        "rating_histogram",
        "thumbs_down_rate",
        "freshness",
        "verdict",
    }


def test_injected_differences_are_named_classified_and_judged(
    spark, sqlite_lake, monkeypatch, capsys
):
    settings = sqlite_lake
    legacy_and_stream(spark, settings)
    config = load_parity_config()
    config = config.with_rule("rating", abs_tolerance=1)
    config = config.__class__(**{**config.__dict__, "promote_after_green_days": 2})
    day = DAYS[-1]
    for d in DAYS[:2]:
        assert run_parity(spark, settings, d, config).verdict == "green"

    engine = engine_for(settings.legacy_db_url)
    start = datetime(day.year, day.month, day.day)
    with engine.connect() as conn:
        live = conn.execute(
            select(FEEDBACK.c.id, FEEDBACK.c.rating)
            .where(FEEDBACK.c.created_at >= start, FEEDBACK.c.deleted_at.is_(None))
            .order_by(FEEDBACK.c.id)
        ).all()
    rated = [(i, r) for i, r in live if r is not None]
    low = [i for i, r in rated if r <= 2]
    four = [i for i, r in rated if r == 4]
    unrated = [i for i, r in live if r is None]
    deleted_in_stream = unrated[:3]
    changed = low[:2]  # 1 or 2 -> 5: off by 3 or more
    nudged = four[0]  # 4 -> 5: within the tolerance of 1
    late_row = next(i for i, _ in rated if i not in changed and i != nudged)
    with engine.begin() as conn:
        # a manual fix straight in the database: the app's updated_at does not move
        conn.execute(update(FEEDBACK).where(FEEDBACK.c.id.in_([*changed, nudged])).values(rating=5))
        # the app edits a row now: inside the lag window of the stream's watermark
        conn.execute(
            update(FEEDBACK)
            .where(FEEDBACK.c.id == late_row)
            .values(rating=1, updated_at=END.replace(tzinfo=None) + timedelta(minutes=5))
        )
    run_nightly_etl(spark, settings, day)
    feedback = DeltaTable.forPath(spark, settings.lake_path("silver", "feedback"))
    feedback.delete(F.col("legacy_feedback_id").isin([str(i) for i in deleted_in_stream]))

    report = run_parity(spark, settings, day, config)
    key = lambda i: f"FB-{i:08d}"  # noqa: E731
    assert report.counts["missing_in_stream"] == 3
    assert [e["key"] for e in report.examples["missing_in_stream"]] == [
        key(i) for i in deleted_in_stream
    ]
    assert report.counts["value_mismatch"] == 2
    assert [e["key"] for e in report.examples["value_mismatch"]] == [key(i) for i in changed]
    assert all(
        e["columns"] == ["rating"] and e["legacy.rating"] == 5
        for e in report.examples["value_mismatch"]
    )
    assert report.mismatches_by_column["rating"] == 2
    assert [e["key"] for e in report.examples["late"]] == [key(late_row)]
    assert report.counts["missing_in_legacy"] == 0
    assert report.verdict == "red"
    assert report.explanation.startswith(
        "RED: 3 key(s) missing in the stream; 2 row(s) with different values: rating (2)"
    )
    states = [(d.as_of_date, d.state, d.recommendation) for d in report.cutover]
    assert states == [
        (DAYS[0], "compare", None),
        (DAYS[1], "promote", None),
        (DAYS[2], "compare", "rollback"),
    ]
    markdown = Path(report.report_markdown).read_text()
    assert f"missing_in_stream examples: {', '.join(key(i) for i in deleted_in_stream)}" in markdown
    assert "cutover: **compare** — recommendation: **rollback**" in markdown

    # the shell says it as well: a red day exits 1, for a scheduler to act on
    for name, value in (
        ("AFL_LAKE_ROOT", settings.lake_root),
        ("AFL_CHECKPOINT_ROOT", settings.checkpoint_root),
        ("AFL_TOPIC_PREFIX", settings.topic_prefix),
        ("AFL_LEGACY_DB_URL", settings.legacy_db_url),
        ("AFL_REPORTS_DIR", settings.reports_dir),
    ):
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        main(["parity", "--date", str(day)])
    assert exited.value.code == 1
    assert capsys.readouterr().out.startswith("RED: 3 key(s) missing in the stream")
