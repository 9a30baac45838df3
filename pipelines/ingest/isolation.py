"""Computing a micro-batch's frames once, and isolating the records that break a step.

``BatchFrames.keep`` materializes a frame (a local checkpoint: computed once, no lineage
back to the tables it read, so a Delta write to those tables cannot make Spark recompute
it) and releases it when the batch ends, so a long-running stream holds no old batches.

``BatchFrames.keep_isolating`` is the safety net behind "one record never stops the
stream": if computing a step over the batch fails, it bisects the batch by Kafka
coordinates until it has the records that fail on their own, returns them with the error,
and computes the step over the rest. A failure that is not caused by a few records (every
half fails, or none does) is raised as it was: that is a real outage, not bad data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.errors import root_cause

log = logging.getLogger(__name__)

RECORD_KEY = ("topic", "partition", "offset")  # a bronze record's coordinates
MAX_PROBES = 256  # Spark jobs one isolation may run before it gives up
MAX_ISOLATED = 32  # more failing records than this is not "a few bad records"


@dataclass(frozen=True)
class Isolated:
    """One record that fails a step on its own, and the error it raises."""

    key: tuple[str, int, int]  # topic, partition, offset
    message: str


class NotIsolatable(Exception):
    """The failure is not caused by a few records."""


class BatchFrames:
    """The frames one micro-batch materialized; ``release`` frees them all."""

    def __init__(self) -> None:
        self._kept: list[DataFrame] = []

    def keep(self, frame: DataFrame) -> DataFrame:
        kept = frame.localCheckpoint(eager=True)
        self._kept.append(kept)
        return kept

    def keep_isolating(
        self,
        build: Callable[[DataFrame], DataFrame],
        records: DataFrame,
        key: Sequence[str] = RECORD_KEY,
    ) -> tuple[DataFrame, list[Isolated]]:
        """``build(records)`` materialized, and the records that had to be left out of it.

        ``records`` should be materialized already: isolation reruns ``build`` on slices.
        """
        try:
            return self.keep(build(records)), []
        except Exception as exc:  # a record may have broken the step: find it
            first_error = exc
        try:
            bad = _bisect(build, records, list(key), root_cause(str(first_error)))
        except NotIsolatable as why:
            log.warning("not a record-level failure (%s); raising it", why)
            raise first_error from None
        log.warning(
            "isolated %d record(s) that fail on their own: %s",
            len(bad),
            "; ".join(f"{b.key} {b.message[:200]}" for b in bad),
        )
        rest = records.where(~_any_key(bad, key, records))
        return self.keep(build(rest)), bad

    def hand_over(self, frame: DataFrame) -> DataFrame:
        """``frame`` (kept by this batch) outlives it: whoever takes it releases it."""
        self._kept = [f for f in self._kept if f is not frame]
        return frame

    def release(self) -> None:
        for frame in self._kept:
            release(frame)
        self._kept.clear()


def release(frame: DataFrame) -> None:
    """Free a local checkpoint's blocks now (the JVM would keep them until it collects)."""
    try:
        rdd_id = frame._jdf.queryExecution().logical().rdd().id()
        frame.sparkSession.sparkContext._jsc.sc().unpersistRDD(rdd_id, False)
    except Exception as exc:  # the session may be stopping: nothing left to free
        log.debug("could not release a materialized frame: %s", exc)


def _bisect(
    build: Callable[[DataFrame], DataFrame], records: DataFrame, key: list[str], first: str
) -> list[Isolated]:
    keys = sorted(tuple(r) for r in records.select(*key).collect())
    types = [records.schema[k].dataType for k in key]
    probes = 0
    bad: list[Isolated] = []

    def fails(lo: int, hi: int) -> str | None:
        nonlocal probes
        probes += 1
        if probes > MAX_PROBES:
            raise NotIsolatable(f"more than {MAX_PROBES} probes")
        piece = records.where(_key_between(key, types, keys[lo], keys[hi - 1]))
        try:
            build(piece).write.format("noop").mode("overwrite").save()
        except Exception as exc:
            return root_cause(str(exc))
        return None

    def search(lo: int, hi: int, message: str) -> None:
        if hi - lo == 1:
            bad.append(Isolated(keys[lo], message))
            if len(bad) > MAX_ISOLATED:
                raise NotIsolatable(f"more than {MAX_ISOLATED} records fail")
            return
        mid = (lo + hi) // 2
        left, right = fails(lo, mid), fails(mid, hi)
        if left is None and right is None:
            raise NotIsolatable("no part of the batch fails on its own")
        if left is not None:
            search(lo, mid, left)
        if right is not None:
            search(mid, hi, right)

    if not keys:
        raise NotIsolatable("the step failed on an empty batch")
    if len(keys) == 1:
        return [Isolated(keys[0], first)]
    search(0, len(keys), first)
    return bad


def _key_between(
    key: list[str], types: list[T.DataType], low: tuple[object, ...], high: tuple[object, ...]
) -> Column:
    record = F.struct(*[F.col(k) for k in key])
    return record.between(_literal(key, types, low), _literal(key, types, high))


def _literal(key: Sequence[str], types: Sequence[T.DataType], values: tuple[object, ...]) -> Column:
    return F.struct(
        *[F.lit(v).cast(t).alias(k) for k, t, v in zip(key, types, values, strict=True)]
    )


def _any_key(bad: list[Isolated], key: Sequence[str], records: DataFrame) -> Column:
    record = F.struct(*[F.col(k) for k in key])
    types = [records.schema[k].dataType for k in key]
    return record.isin(*[_literal(key, types, b.key) for b in bad])
