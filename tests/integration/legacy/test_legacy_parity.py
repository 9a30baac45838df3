"""The legacy path against the stream: seed, nightly ETL, mirror, stream, parity."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F
from sqlalchemy import select, update

from pipelines.ingest.stream import CATCH_UP, run_ingest
from pipelines.legacy.app_db import FEEDBACK, engine_for
from pipelines.legacy.etl import run_nightly_etl
from pipelines.legacy.mirror import run_mirror
from pipelines.legacy.seed import seed_app_db
from pipelines.parity.config import load_parity_config
from pipelines.parity.run import run_parity
from tests.support.kafka import create_registry_topics
from tests.support.lake import assert_lake_exact

pytestmark = pytest.mark.integration

END = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)
DAYS = [date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)]


def prepare(spark, settings) -> dict[date, int]:
    """The whole legacy and stream path for three days; export rows per day."""
    create_registry_topics(settings)
    engine = engine_for(settings.legacy_db_url)
    seed_app_db(engine, seed=3, events=6000, end_time=END, days_back=3)
    exported = {day: run_nightly_etl(spark, settings, day).rows for day in DAYS}
    run_mirror(spark, settings)
    run_ingest(spark, settings, CATCH_UP)
    assert_lake_exact(spark, settings)
    return exported


@pytest.fixture
def sqlite_lake(kafka_broker, settings, tmp_path):
    return settings.with_overrides(
        legacy_db_url=f"sqlite:///{tmp_path / 'app.db'}", reports_dir=str(tmp_path / "reports")
    )


@pytest.fixture
def postgres_lake(kafka_broker, settings, tmp_path, postgres_url):
    from sqlalchemy import text

    engine = engine_for(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS feedback"))
    return settings.with_overrides(
        legacy_db_url=postgres_url, reports_dir=str(tmp_path / "reports")
    )


@pytest.mark.parametrize("lake_fixture", ["sqlite_lake", "postgres_lake"])
def test_every_day_is_green_with_zero_differences(spark, request, lake_fixture):
    settings = request.getfixturevalue(lake_fixture)
    exported = prepare(spark, settings)
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


def test_injected_differences_are_named_classified_and_judged(spark, sqlite_lake):
    settings = sqlite_lake
    prepare(spark, settings)
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


def test_rerunning_the_mirror_for_the_same_window_adds_nothing(spark, sqlite_lake):
    settings = sqlite_lake
    prepare(spark, settings)
    feedback = settings.lake_path("silver", "feedback")
    before = spark.read.format("delta").load(feedback).count()
    again = run_mirror(spark, settings, replay_from=datetime(2026, 1, 1))
    assert again.published > 250
    run_ingest(spark, settings, CATCH_UP)
    assert_lake_exact(spark, settings)
    assert spark.read.format("delta").load(feedback).count() == before
    mirrored = spark.read.format("delta").load(feedback).where(F.col("source") == "legacy_mirror")
    assert mirrored.count() == before
    assert mirrored.where(F.col("deleted")).count() == 6  # tombstones for the soft deletes
