"""The events a running stream landed recently, held in memory for deduplication.

A micro-batch must know which of its events already landed. Reading the silver tables for
that means opening every small file a streaming append leaves (a few per second); so the
writer keeps, per event type, the ``event_id``, Kafka coordinates, Kafka timestamp and a
64-bit hash of the key (what a lookup compares first) of every row it landed within the
dedup horizon, as materialized frames in executor memory, and on the driver the sorted
key hashes of each frame (8 bytes a row). A lookup first asks those hashes which of the
batch's keys may have landed; only when some may (a retry, a re-published row) are the
frames that may hold them scanned. A batch without copies scans nothing, so its cost
does not grow with the horizon; a hash collision only costs a scan, never a decision.

What the stream did not land itself (before a restart, or an older window a batch asks
for) is loaded from the tables once, so the frames always hold every landed row from
``covered_from`` on: a replayed batch after a restart sees exactly what its first attempt
saw.

Small frames (one per batch) are merged in groups as they accumulate; a merged frame is
dropped whole once everything in it is older than what any lookup asks for, so memory stays
about horizon x rate rows (15 minutes at 2,000 events/s: 1.8 M small rows) and rows are
copied once, not again every time the horizon moves. Only when a long horizon piles up
more than ``MERGED_MAX`` merged frames are the oldest half rewritten into one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import reduce

import numpy as np
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.ingest.isolation import release
from pipelines.spark.io import one_row

KEY_HASH = "key_hash"
RECENT_SCHEMA = T.StructType(
    [
        T.StructField("event_type", T.StringType()),
        T.StructField("event_id", T.StringType()),
        T.StructField("kafka_topic", T.StringType()),
        T.StructField("kafka_partition", T.IntegerType()),
        T.StructField("kafka_offset", T.LongType()),
        T.StructField("kafka_timestamp", T.TimestampType()),
        T.StructField(KEY_HASH, T.LongType()),  # dedup.key_hash of (event_type, event_id)
    ]
)
MERGE_AFTER = 12  # small frames (one per batch) before they are merged into one
MERGED_MAX = 32  # merged frames a lookup unions before the oldest half are merged again

# (event type, from, until or None) -> that type's landed rows with from <= kafka_timestamp < until
Loader = Callable[[str, datetime, datetime | None], DataFrame]


@dataclass
class _Frame:
    rows: DataFrame  # RECENT_SCHEMA: materialized, or a view of ``owner``
    newest: datetime | None  # the newest kafka_timestamp it holds (None: empty)
    hashes: np.ndarray  # sorted, unique: every key_hash ``rows`` holds (maybe more)
    owner: DataFrame | None = None  # the materialized frame ``rows`` is a view of

    def holding(self, wanted: np.ndarray) -> np.ndarray:
        """Which of ``wanted`` (sorted) this frame may hold."""
        if not len(self.hashes) or not len(wanted):
            return wanted[:0]
        at = np.searchsorted(self.hashes, wanted).clip(max=len(self.hashes) - 1)
        held: np.ndarray = wanted[self.hashes[at] == wanted]
        return held


class RecentLanded:
    """Per event type, every landed row with ``kafka_timestamp >= covered_from[type]``."""

    def __init__(self) -> None:
        self.covered_from: dict[str, datetime] = {}
        self._merged: list[_Frame] = []
        self._small: list[_Frame] = []

    def lookup(
        self,
        spark: SparkSession,
        since: Mapping[str, datetime],
        load: Loader,
        keys: np.ndarray,
    ) -> DataFrame:
        """Landed rows of each type with kafka_timestamp >= ``since[type]``, from the frames
        whose hashes hold one of ``keys`` (the batch's): a superset of the earlier copies,
        which ``dedup.candidates`` then picks by hash and key.

        Loads from the tables (through ``load``) whatever part of a window is not held yet.
        """
        for event_type, low in since.items():
            held = self.covered_from.get(event_type)
            if held is None or low < held:
                loaded = load(event_type, low, held).select(*RECENT_SCHEMA.fieldNames())
                self._small.append(self._materialize(loaded))
                self.covered_from[event_type] = low
        frames = self.frames_for(keys)
        if not frames or not since:
            return spark.createDataFrame([], RECENT_SCHEMA)
        # one task per core over the frames that may hold a key (each a few small partitions)
        cores = spark.sparkContext.defaultParallelism
        return reduce(DataFrame.unionByName, frames).coalesce(cores).where(_sent_since(since))

    def frames_for(self, keys: np.ndarray) -> list[DataFrame]:
        """The frames whose hashes hold one of ``keys``: what a lookup scans."""
        wanted = _sorted(keys)
        return [f.rows for f in (*self._merged, *self._small) if len(f.holding(wanted))]

    def add(
        self, landed: DataFrame, newest: datetime | None, owner: DataFrame, keys: np.ndarray
    ) -> None:
        """This batch's landed rows (RECENT_SCHEMA columns), once its writes committed: a
        view of ``owner``, a materialized frame this now owns (no job to copy them);
        ``newest``: a bound on their kafka_timestamp (the batch's newest record);
        ``keys``: their key hashes (a superset does no harm)."""
        rows = landed.select(*RECENT_SCHEMA.fieldNames())
        self._small.append(_Frame(rows, newest, _sorted(keys), owner))
        if len(self._small) >= MERGE_AFTER:
            merged = reduce(DataFrame.unionByName, [f.rows for f in self._small])
            newest = max((f.newest for f in self._small if f.newest), default=None)
            hashes = _sorted(np.concatenate([f.hashes for f in self._small]))
            kept = _Frame(merged.localCheckpoint(eager=True), newest, hashes)
            self._release(self._small)
            self._small = []
            self._merged.append(kept)

    def trim(self, keep_from: Mapping[str, datetime]) -> None:
        """Forget rows older than ``keep_from[type]``: whole frames once nothing in them is
        that recent, and the rest when merged frames are rewritten."""
        for event_type, floor in keep_from.items():
            held = self.covered_from.get(event_type)
            if held is not None and held < floor:
                self.covered_from[event_type] = floor
        if not self.covered_from:
            return
        oldest_needed = min(self.covered_from.values())
        stale = [f for f in self._merged if f.newest is not None and f.newest < oldest_needed]
        if stale:
            self._release(stale)
            self._merged = [f for f in self._merged if f not in stale]
        if len(self._merged) > MERGED_MAX:  # a long horizon: merge the oldest half
            half = len(self._merged) // 2
            old, young = self._merged[:half], self._merged[half:]
            merged = reduce(DataFrame.unionByName, [f.rows for f in old])
            merged = merged.where(_sent_since(self.covered_from))
            newest = max((f.newest for f in old if f.newest), default=None)
            hashes = _sorted(np.concatenate([f.hashes for f in old]))
            self._merged = [_Frame(merged.localCheckpoint(eager=True), newest, hashes), *young]
            self._release(old)

    def rows(self) -> int:
        return sum(f.rows.count() for f in (*self._merged, *self._small))

    def clear(self) -> None:
        self._release([*self._merged, *self._small])
        self._merged, self._small = [], []
        self.covered_from.clear()

    @staticmethod
    def _materialize(rows: DataFrame) -> _Frame:
        """Rows loaded from the tables, kept, with their key hashes on the driver."""
        kept = rows.localCheckpoint(eager=True)
        newest = one_row(kept.agg(F.max("kafka_timestamp")))[0]
        return _Frame(kept, newest, key_hashes(kept))

    @staticmethod
    def _release(frames: list[_Frame]) -> None:
        for frame in frames:
            release(frame.owner if frame.owner is not None else frame.rows)


def key_hashes(rows: DataFrame) -> np.ndarray:
    """The distinct ``key_hash`` values of ``rows``, sorted, on the driver (through Arrow:
    8 bytes a row)."""
    column = rows.select(KEY_HASH).toArrow().column(KEY_HASH)
    return _sorted(column.to_numpy(zero_copy_only=False))


def _sent_since(floors: Mapping[str, datetime]) -> Column:
    """Rows of each event type sent at or after its floor."""
    return reduce(
        lambda a, b: a | b,
        [
            (F.col("event_type") == t) & (F.col("kafka_timestamp") >= F.lit(low))
            for t, low in floors.items()
        ],
    )


def _sorted(keys: np.ndarray) -> np.ndarray:
    return np.unique(np.asarray(keys, dtype=np.int64))
