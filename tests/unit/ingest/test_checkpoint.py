"""Reading a query's checkpoint without Spark: batch offsets, the last commit, the lag."""

from __future__ import annotations

from pipelines.ingest.checkpoint import (
    batch_offsets,
    committed_offsets,
    kafka_lag,
    last_committed_batch,
)


def _offsets(folder, batch_id: int, source: str) -> None:
    (folder / "offsets").mkdir(parents=True, exist_ok=True)
    (folder / "offsets" / str(batch_id)).write_text(f'v1\n{{"batchWatermarkMs":0}}\n{source}\n')


def test_kafka_offsets_are_read_and_other_sources_are_not_kafka(tmp_path):
    _offsets(tmp_path, 0, '{"t.a":{"0":5,"1":7},"t.dlq":{"0":0}}')
    _offsets(tmp_path, 1, '{"sourceVersion":1,"reservoirId":"r","reservoirVersion":3,"index":-1}')
    assert batch_offsets(str(tmp_path), 0) == {"t.a": {0: 5, 1: 7}, "t.dlq": {0: 0}}
    assert batch_offsets(str(tmp_path), 1) == {}  # a Delta source: no Kafka offsets
    assert batch_offsets(str(tmp_path), 2) == {}  # never planned


def test_the_last_commit_names_the_committed_offsets(tmp_path):
    assert last_committed_batch(str(tmp_path)) is None and committed_offsets(str(tmp_path)) == {}
    _offsets(tmp_path, 0, '{"t.a":{"0":5}}')
    _offsets(tmp_path, 1, '{"t.a":{"0":9}}')
    _offsets(tmp_path, 2, '{"t.a":{"0":12}}')  # planned, not committed
    (tmp_path / "commits").mkdir()
    for batch in (0, 1):
        (tmp_path / "commits" / str(batch)).write_text("v1\n{}\n")
    (tmp_path / "commits" / ".1.crc").write_text("")
    assert last_committed_batch(str(tmp_path)) == 1
    assert committed_offsets(str(tmp_path)) == {"t.a": {0: 9}}


def test_lag_is_per_partition_and_counts_partitions_never_read():
    ends = {"t.a": {0: 100, 1: 40}, "t.b": {0: 7}}
    committed = {"t.a": {0: 90, 1: 40}}
    assert kafka_lag(ends, committed) == {("t.a", 0): 10, ("t.a", 1): 0, ("t.b", 0): 7}
    assert kafka_lag({"t.a": {0: 5}}, {"t.a": {0: 9}}) == {("t.a", 0): 0}  # never negative
