"""What a Kafka-reading query's checkpoint says, read without Spark: its batches' offsets.

Spark writes a batch's end offsets (``offsets/<id>``) before running it and marks it done
in ``commits/<id>``; these small files answer "how far has the query got" for
`afl stream status`, Dagster, the lag in ops.stream_progress and the metrics endpoint,
through pyarrow's filesystems (local folders or object stores), with no JVM.
"""

from __future__ import annotations

import json

from pipelines import storage

Offsets = dict[str, dict[int, int]]  # topic -> partition -> offset


def committed_offsets(checkpoint: str) -> Offsets:
    """End offsets (exclusive) of the last batch a Kafka-reading query committed.

    Read from the checkpoint's files without Spark (`afl stream status`, Dagster).
    """
    last = last_committed_batch(checkpoint)
    return {} if last is None else batch_offsets(checkpoint, last)


def last_committed_batch(checkpoint: str) -> int | None:
    """The newest batch id in the checkpoint's commit log (None: nothing committed yet)."""
    commits = [int(n) for n in storage.list_names(f"{checkpoint}/commits") if n.isdigit()]
    return max(commits) if commits else None


def batch_offsets(checkpoint: str, batch_id: int) -> Offsets:
    """End offsets (exclusive) of one planned batch: Spark writes them before running it.

    {} when there is no such batch, or its source is not Kafka (a Delta source's line is
    ``{"reservoirVersion": ...}``).
    """
    text = storage.read_text(f"{checkpoint}/offsets/{batch_id}")
    if text is None:
        return {}
    # line 0: version, line 1: batch metadata, then one line per source
    lines = text.strip().splitlines()
    ends = json.loads(lines[2]) if len(lines) > 2 else {}
    if not isinstance(ends, dict) or not all(isinstance(v, dict) for v in ends.values()):
        return {}
    return {topic: {int(p): int(o) for p, o in parts.items()} for topic, parts in ends.items()}


def kafka_lag(ends: Offsets, committed: Offsets) -> dict[tuple[str, int], int]:
    """Records each partition holds beyond what the query committed (0 when caught up)."""
    return {
        (topic, partition): max(0, end - committed.get(topic, {}).get(partition, 0))
        for topic, parts in ends.items()
        for partition, end in parts.items()
    }
