"""The running stream as Prometheus sees it: rates, latency, quarantine and lag per partition.

Platform teams alert from Prometheus/Grafana, not from a Delta table. A continuous
`afl stream` with ``AFL_METRICS_PORT`` set (or ``--metrics-port``) serves ``/metrics`` on
that port. Two sources feed it, both in the driver:

- each micro-batch, from what IngestBatch writes to ops.stream_progress (the same numbers,
  so the endpoint and the table never disagree): rows in, valid, quarantined, duplicates,
  rates, batch duration, end-to-end latency;
- every few seconds, from the stream's watch loop: Kafka's end offsets minus the offsets
  the query committed (its checkpoint), per topic partition. Lag keeps being reported
  while a batch hangs or Kafka is down (then ``afl_stream_kafka_up`` is 0), which is when
  an alert matters; the batch path alone would go silent.

Its own CollectorRegistry: nothing else in the process (Dagster, a test) gets these series.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from pipelines.ingest.progress import BatchProgress

log = logging.getLogger(__name__)

# seconds; a batch here takes ~1-15 s, a catch-up batch up to minutes
DURATION_BUCKETS = (0.5, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 300)
OUTCOMES = ("input", "valid", "quarantined", "duplicate")


class StreamMetrics:
    """The stream's series, labelled by query."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ["query"]
        r = self.registry
        self.batches = Counter(
            "afl_stream_batches", "Micro-batches written.", labels, registry=r
        ).labels(query)
        self.rows = Counter(
            "afl_stream_rows",
            "Records by outcome: input = valid + quarantined + duplicate.",
            [*labels, "outcome"],
            registry=r,
        )
        self.input_rate = Gauge(
            "afl_stream_input_rows_per_second",
            "Records per second arriving, between the starts of the last two batches.",
            labels,
            registry=r,
        ).labels(query)
        self.processed_rate = Gauge(
            "afl_stream_processed_rows_per_second",
            "Records per second the last batch processed.",
            labels,
            registry=r,
        ).labels(query)
        self.duration = Histogram(
            "afl_stream_batch_duration_seconds",
            "Micro-batch duration.",
            labels,
            buckets=DURATION_BUCKETS,
            registry=r,
        ).labels(query)
        self.latency = Gauge(
            "afl_stream_e2e_latency_seconds",
            "Last batch: from its oldest record's production to the batch's end.",
            labels,
            registry=r,
        ).labels(query)
        self.last_batch = Gauge(
            "afl_stream_last_batch_id", "The last batch written.", labels, registry=r
        ).labels(query)
        self.last_finished = Gauge(
            "afl_stream_last_batch_finished_timestamp_seconds",
            "When the last batch finished (unix time): alert on time() minus this.",
            labels,
            registry=r,
        ).labels(query)
        self.lag = Gauge(
            "afl_stream_kafka_lag_records",
            "Records in Kafka the query has not committed yet, per topic partition.",
            [*labels, "topic", "partition"],
            registry=r,
        )
        self.kafka_up = Gauge(
            "afl_stream_kafka_up",
            "1 when Kafka answered the last look, else 0.",
            labels,
            registry=r,
        ).labels(query)
        for outcome in OUTCOMES:  # present at 0 from the start: rate() needs a first sample
            self.rows.labels(query, outcome)
        self._lock = threading.Lock()

    def record_batch(self, batch: BatchProgress) -> None:
        """What the batch wrote to ops.stream_progress, as series."""
        counts = batch.counts
        with self._lock:
            self.batches.inc()
            for outcome, n in zip(
                OUTCOMES,
                (
                    counts.input_rows,
                    counts.valid_rows,
                    counts.quarantined_rows,
                    counts.duplicate_rows,
                ),
                strict=True,
            ):
                self.rows.labels(self.query, outcome).inc(n)
            if batch.input_rows_per_second is not None:
                self.input_rate.set(batch.input_rows_per_second)
            self.processed_rate.set(batch.processed_rows_per_second)
            self.duration.observe(batch.duration_s)
            if batch.e2e_latency_ms is not None:
                self.latency.set(batch.e2e_latency_ms / 1000)
            self.last_batch.set(batch.batch_id)
            self.last_finished.set(batch.finished)
        if batch.kafka_lag is not None:
            self.record_lag(batch.kafka_lag)

    def record_lag(self, lag: Mapping[tuple[str, int], int]) -> None:
        with self._lock:
            for (topic, partition), records in lag.items():
                self.lag.labels(self.query, topic, str(partition)).set(records)
            self.kafka_up.set(1)

    def record_kafka_down(self) -> None:
        self.kafka_up.set(0)

    def value(self, name: str, **labels: str) -> float | None:
        """One sample's current value (for tests and `afl stream status`)."""
        return self.registry.get_sample_value(name, {"query": self.query, **labels})


@contextmanager
def serving(metrics: StreamMetrics, port: int, address: str = "0.0.0.0") -> Iterator[int]:
    """Serve ``/metrics`` on ``port`` while the block runs (0: not served); the port."""
    if port <= 0:
        yield 0
        return
    server, thread = start_http_server(port, address, registry=metrics.registry)
    log.info("metrics on http://%s:%d/metrics", address, server.server_port)
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
