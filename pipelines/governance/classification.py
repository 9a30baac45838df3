"""Data classification, retention and masking: the rules every silver and gold row carries."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

CLASS_RANK = {"public": 0, "internal": 1, "confidential": 2, "restricted": 3}

# How long rows of a class are kept in the lake (retention_until = occurred_at + days).
RETENTION_DAYS = {"public": 3650, "internal": 730, "confidential": 365, "restricted": 90}

SOURCES = ("stream", "legacy_mirror", "backfill")
SOURCE_HEADER = "afl.source"

USER_TEXT = "user_text"
PII = "pii"


def retention_until(occurred_at: Column, classification: str) -> Column:
    """When a row of this class must be gone."""
    return occurred_at + F.make_interval(days=F.lit(RETENTION_DAYS[classification]))


def hashed(value: Column, salt: str) -> Column:
    """A salted SHA-256: joinable and countable, not readable. Null stays null."""
    return F.when(value.isNull(), F.lit(None)).otherwise(
        F.sha2(F.concat(F.lit(salt), value.cast("string")), 256)
    )


def source_from_headers(headers: Column) -> Column:
    """Where a record came from: the afl.source header when it names a known source."""
    found = F.filter(headers, lambda h: h["key"] == F.lit(SOURCE_HEADER))
    value = F.when(F.size(found) > 0, found[0]["value"].cast("string"))
    return F.when(value.isin(*SOURCES), value).otherwise(F.lit("stream"))


def general_classification(topic_classification: str) -> str:
    """General tables hold no raw user text: a restricted topic's general table is confidential."""
    return "confidential" if topic_classification == "restricted" else topic_classification
