"""A micro-batch's progress: its durations, rates and latency, and its ops.stream_progress row."""

from datetime import UTC, date, datetime

from pipelines.ingest.progress import BatchCounts, BatchProgress
from pipelines.transforms.schemas import STREAM_PROGRESS_SCHEMA

T0 = datetime(2026, 11, 20, 23, 59, 58, tzinfo=UTC).timestamp()


def _counts() -> BatchCounts:
    return BatchCounts(
        input_rows=120,
        valid_rows=100,
        quarantined_rows=8,
        duplicate_rows=12,
        rows_by_table={"silver.outcomes": 60, "silver.feedback": 40},
    )


def _row(progress: BatchProgress) -> dict[str, object]:
    return dict(zip(STREAM_PROGRESS_SCHEMA.fieldNames(), progress.row(), strict=True))


def test_the_row_is_the_tables_columns_in_order_with_every_value():
    progress = BatchProgress(
        query_name="agent_events",
        batch_id=41,
        started=T0,
        finished=T0 + 4.0,  # past midnight: the row's date is the day it finished
        counts=_counts(),
        oldest=datetime(2026, 11, 20, 23, 59, 50),
        since_previous=12.0,
        query_id="q-7",
        kafka_lag={("agent.outcome.v1", 1): 7, ("agent.dlq", 0): 0, ("agent.outcome.v1", 0): 3},
    )
    assert _row(progress) == {
        "query_name": "agent_events",
        "batch_id": 41,
        "started_at": datetime(2026, 11, 20, 23, 59, 58),
        "finished_at": datetime(2026, 11, 21, 0, 0, 2),
        "duration_ms": 4000,
        "input_rows": 120,
        "valid_rows": 100,
        "quarantined_rows": 8,
        "duplicate_rows": 12,
        "input_rows_per_second": 10.0,
        "processed_rows_per_second": 30.0,
        "oldest_produced_at": datetime(2026, 11, 20, 23, 59, 50),
        "e2e_latency_ms": 12000,
        "rows_by_table": {"silver.outcomes": 60, "silver.feedback": 40},
        "progress_date": date(2026, 11, 21),
        "query_id": "q-7",
        "kafka_lag": {"agent.dlq-0": 0, "agent.outcome.v1-0": 3, "agent.outcome.v1-1": 7},
        "kafka_lag_total": 10,
    }


def test_the_row_keeps_a_copy_of_the_per_table_counts():
    counts = _counts()
    progress = BatchProgress("agent_events", 0, T0, T0 + 1, counts, None, None, None)
    row = _row(progress)
    counts.rows_by_table["silver.outcomes"] = 0
    assert row["rows_by_table"] == {"silver.outcomes": 60, "silver.feedback": 40}


def test_a_first_batch_has_no_input_rate_and_an_empty_one_no_latency():
    first = BatchProgress("agent_events", 0, T0, T0 + 2.0, _counts(), None, None, None)
    assert first.input_rows_per_second is None  # no previous batch in this process
    assert first.e2e_latency_ms is None  # no record, no production time
    assert first.processed_rows_per_second == 60.0
    assert first.finished_at == datetime(2026, 11, 21, 0, 0, 0)  # naive UTC
    again = BatchProgress("agent_events", 1, T0, T0 + 2.0, _counts(), None, 0.0, None)
    assert again.input_rows_per_second is None  # started in the same instant: no rate


def test_an_instant_batch_counts_one_millisecond_not_zero():
    progress = BatchProgress("agent_events", 3, T0, T0, BatchCounts(input_rows=5), None, 1.0, "q")
    assert progress.duration_s == 0.001
    assert progress.processed_rows_per_second == 5000.0
    assert _row(progress)["duration_ms"] == 1


def test_without_kafkas_answer_the_lag_columns_are_null():
    progress = BatchProgress("agent_events", 3, T0, T0 + 1, BatchCounts(), None, None, "q")
    assert progress.kafka_lag is None
    assert (_row(progress)["kafka_lag"], _row(progress)["kafka_lag_total"]) == (None, None)
    caught_up = BatchProgress("agent_events", 4, T0, T0 + 1, BatchCounts(), None, None, "q", {})
    assert (_row(caught_up)["kafka_lag"], _row(caught_up)["kafka_lag_total"]) == ({}, 0)


def test_counts_start_at_zero_with_a_table_map_of_their_own():
    first, second = BatchCounts(), BatchCounts()
    first.rows_by_table["silver.outcomes"] = 1
    assert second == BatchCounts(0, 0, 0, 0, {})
