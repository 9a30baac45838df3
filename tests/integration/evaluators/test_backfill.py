"""Evaluator backfills over real silver tables: replace, versions, time travel, judges, publish."""

import json
from datetime import UTC, date, datetime

import pytest
from pyspark.sql import functions as F

from pipelines.evaluators.backfill import backfill, scores
from pipelines.evaluators.compare import compare_versions
from pipelines.evaluators.judge import JudgeClient, JudgeError
from pipelines.evaluators.publish import publish_scores
from pipelines.evaluators.registry import get_evaluator
from pipelines.ingest.stream import CATCH_UP, run_ingest
from pipelines.producer.events import AgentIdentity, new_event
from pipelines.producer.sdk import AgentEventProducer
from pipelines.producer.traffic import TrafficGenerator
from tests.support.judge_server import JudgeServer
from tests.support.kafka import consume, private_settings
from tests.support.lake import assert_lake_exact

pytestmark = pytest.mark.integration

FIRST, LAST = date(2026, 11, 13), date(2026, 11, 19)
WHO = AgentIdentity("acme", "support-bot", "2.4.0", "support-p42", "gpt-4.1-mini")


@pytest.fixture(scope="module")
def lake(ingested_lake, base_settings, tmp_path_factory):
    traffic = TrafficGenerator(
        seed=23, events=5000, days_back=7, end_time=datetime(2026, 11, 20, tzinfo=UTC)
    )
    return ingested_lake(
        private_settings(base_settings, tmp_path_factory.mktemp("evaluators")), traffic
    )


def rows_of(spark, settings, key, start=FIRST, end=LAST):
    e = get_evaluator(key)
    return sorted(
        (r["event_date"], r["unit_id"], r["label"], r["score"])
        for r in scores(spark, settings)
        .where((F.col("evaluator") == e.name) & (F.col("evaluator_version") == e.version))
        .where(F.col("event_date").between(start, end))
        .collect()
    )


def test_backfilling_seven_days_twice_gives_identical_counts_and_scores(spark, lake):
    first = backfill(spark, lake, "helpfulness@1", FIRST, LAST)
    assert len(first.days) == 7 and all(d.units > 0 for d in first.days)
    before = rows_of(spark, lake, "helpfulness@1")
    assert len(before) == first.units == first.written
    second = backfill(spark, lake, "helpfulness@1", FIRST, LAST)
    assert [d.units for d in second.days] == [d.units for d in first.days]
    assert rows_of(spark, lake, "helpfulness@1") == before  # replaced, never doubled
    stored = scores(spark, lake).where(F.col("run_id") == second.run_id).first()
    assert stored["code_hash"] == get_evaluator("helpfulness@1").code_hash()
    assert stored["silver_versions"] == {
        "silver.feedback": second.days[0].silver_versions["silver.feedback"]
    }
    assert (stored["source"], stored["contains_pii"]) == ("backfill", False)


def test_v1_and_v2_differ_exactly_where_the_logic_changed(spark, lake):
    day = date(2026, 11, 19)
    at = datetime(2026, 11, 19, 15, 0, tzinfo=UTC)
    turns = {
        "turn-corrected-but-rated": [("rating", 5), ("correction", None)],
        "turn-corrected-only": [("correction", None)],
        "turn-rated-only": [("rating", 4)],
    }
    with AgentEventProducer(lake) as producer:
        for turn, signals in turns.items():
            for kind, rating in signals:
                payload = {
                    "feedback_kind": kind,
                    "user_id": "u-1",
                    "turn_id": turn,
                    "rating": rating,
                    "correction": "it is in settings" if kind == "correction" else None,
                }
                producer.emit(
                    new_event(
                        "feedback",
                        payload,
                        identity=WHO,
                        session_id=f"s-{turn}",
                        trace_id=f"t-{turn}",
                        occurred_at=at,
                    )
                )
    run_ingest(spark, lake, CATCH_UP)
    assert_lake_exact(spark, lake)
    backfill(spark, lake, "helpfulness@1", day, day)
    backfill(spark, lake, "helpfulness@2", day, day)
    c = compare_versions(spark, lake, "helpfulness", 1, 2, day, examples=1000)
    v1 = {u: label for _, u, label, _ in rows_of(spark, lake, "helpfulness@1", day, day)}
    v2 = {u: label for _, u, label, _ in rows_of(spark, lake, "helpfulness@2", day, day)}
    # where the new logic must apply, and where it must not
    assert (v1["turn-corrected-but-rated"], v2["turn-corrected-but-rated"]) == (
        "mixed",
        "unhelpful",
    )
    assert (v1["turn-corrected-only"], v2["turn-corrected-only"]) == ("unhelpful", "unhelpful")
    assert (v1["turn-rated-only"], v2["turn-rated-only"]) == ("helpful", "helpful")
    # across the whole day: a unit changed exactly when silver shows a correction next to
    # another signal good enough that v1 did not already call the turn unhelpful
    changed = {e["unit_id"] for e in c.examples}
    assert changed == {u for u in v1 if v1[u] != v2[u]}
    assert c.changed == len(changed) and "turn-corrected-but-rated" in changed
    feedback = spark.read.format("delta").load(lake.lake_path("silver", "feedback"))
    turns = (
        feedback.where((F.col("event_date") == day) & F.col("turn_id").isNotNull())
        .groupBy("turn_id")
        .agg(
            F.max(F.col("feedback_kind") == "correction").alias("corrected"),
            F.max((F.col("rating") == 5) | (F.col("thumbs") == "up")).alias("strong_positive"),
        )
        .collect()
    )
    assert changed == {t["turn_id"] for t in turns if t["corrected"] and t["strong_positive"]}
    assert set(c.transitions) == {"mixed -> unhelpful"}


def test_as_of_reproduces_earlier_scores_after_more_data_arrived(spark, lake):
    day = date(2026, 11, 17)
    first = backfill(spark, lake, "helpfulness@2", day, day)
    earlier = rows_of(spark, lake, "helpfulness@2", day, day)
    version = first.days[0].silver_versions["silver.feedback"]
    at = datetime(2026, 11, 17, 12, 0, tzinfo=UTC)
    with AgentEventProducer(lake) as producer:
        for i in range(5):
            producer.emit(
                new_event(
                    "feedback",
                    {
                        "feedback_kind": "rating",
                        "user_id": "u-2",
                        "turn_id": f"late-turn-{i}",
                        "rating": 2,
                    },
                    identity=WHO,
                    session_id="s-late",
                    trace_id=f"t-late-{i}",
                    occurred_at=at,
                )
            )
    run_ingest(spark, lake, CATCH_UP)
    assert_lake_exact(spark, lake)
    now = backfill(spark, lake, "helpfulness@2", day, day)
    assert now.units == first.units + 5
    again = backfill(spark, lake, "helpfulness@2", day, day, as_of=str(version))
    assert again.days[0].silver_versions == {"silver.feedback": version}
    assert rows_of(spark, lake, "helpfulness@2", day, day) == earlier


def test_judge_dry_run_then_an_interrupted_run_resumes_with_only_the_remaining_calls(spark, lake):
    day = date(2026, 11, 18)
    with JudgeServer() as server:
        judge = JudgeClient(server.url, "judge-test", max_retries=1, backoff_s=0.01)
        dry = backfill(
            spark, lake, "answer_relevance@1", day, day, judge=judge, cap_per_day=20, dry_run=True
        )
        assert (dry.units, dry.written, server.successes + server.failures) == (20, 0, 0)
        assert dry.days[0].estimated_tokens > 20 * 60
        server.fail_after = 10  # the provider goes down after 10 answers
        with pytest.raises(JudgeError, match="failed after 2 attempts: HTTP 500"):
            backfill(spark, lake, "answer_relevance@1", day, day, judge=judge, cap_per_day=20)
        assert (server.successes, server.failures) == (10, 2)
        stored = scores(spark, lake).where(
            (F.col("evaluator") == "answer_relevance") & (F.col("event_date") == day)
        )
        assert stored.count() == 10  # two chunks of 5 were persisted
        server.fail_after = None
        resumed = backfill(spark, lake, "answer_relevance@1", day, day, judge=judge, cap_per_day=20)
        assert server.successes == 20  # exactly the 10 remaining units were judged
        assert (resumed.days[0].skipped_existing, resumed.judge_calls, resumed.written) == (
            10,
            10,
            10,
        )
        assert stored.count() == 20
        assert stored.select("unit_id").distinct().count() == 20
        assert {r["judge_model"] for r in stored.collect()} == {"judge-test"}
        assert "Question from the user:" in server.prompts[0]


def test_scores_are_published_as_evaluation_events(spark, lake):
    day = date(2026, 11, 16)
    result = backfill(spark, lake, "unescalated_tool_failure@1", day, day)
    evaluator = get_evaluator("unescalated_tool_failure@1")
    sent = publish_scores(spark, lake, evaluator, result.code_hash, day, day)
    assert sent == result.units > 0
    topic = lake.topic_name("agent.evaluations.v1")
    events = [json.loads(m.value()) for m in consume(lake, [topic], expected=10**9, timeout_s=15)]
    published = [e for e in events if e["payload"]["evaluator"] == "unescalated_tool_failure"]
    assert len(published) == sent
    by_unit = {e["payload"]["unit_id"]: e["payload"] for e in published}
    for _, unit, label, score in rows_of(spark, lake, "unescalated_tool_failure@1", day, day):
        assert (by_unit[unit]["label"], by_unit[unit]["score"]) == (label, score)
    assert all(e["payload"]["evaluator_version"] == "1" for e in published)
