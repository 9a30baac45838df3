"""Date-time strings: what the contracts accept (ASCII RFC 3339) and what Spark reads."""

from datetime import UTC, datetime

import pytest

from pipelines.contracts.timestamps import is_date_time, parse_timestamp

FULL_WIDTH_2026 = "\uff12\uff10\uff12\uff16"  # Unicode digits: Python's \d takes them


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("2026-11-20T12:00:00Z", True),
        ("2026-11-20t12:00:00z", True),  # RFC 3339 allows either case
        ("2026-11-20T23:59:60Z", True),  # a leap second
        ("2026-11-20T12:00:00.123456789123+05:30", True),
        ("2024-02-29T00:00:00Z", True),
        (FULL_WIDTH_2026 + "-11-20T12:00:00Z", False),
        ("2026-11-20T12:00:00+0530", False),  # the offset needs its colon
        ("2026-11-20T12:00:00Z\n", False),  # $ would let a newline through
        ("2026-11-20T24:00:00Z", False),
        ("2026-11-20T12:60:00Z", False),
        ("2026-11-20T12:00:00+24:00", False),
        ("2026-02-30T12:00:00Z", False),
        ("2025-02-29T12:00:00Z", False),
        ("2026-11-20T12:00:00", False),
        ("2026-11-20 12:00:00Z", False),
        ("yesterday", False),
    ],
)
def test_the_contracts_accept_ascii_rfc_3339_only(text, valid):
    assert is_date_time(text) is valid


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-11-20T12:00:00Z", datetime(2026, 11, 20, 12, tzinfo=UTC)),
        ("2026-11-20T12:00:00.123456789+14:00", datetime(2026, 11, 19, 22, 0, 0, 123456, UTC)),
        ("2026-11-20T12:00:00-18:00", datetime(2026, 11, 21, 6, tzinfo=UTC)),
        ("2026-11-20t12:00:00z", None),  # lowercase: JSON Schema yes, Spark no
        ("2026-11-20T23:59:60Z", None),  # leap second
        ("2026-11-20T12:00:00+18:01", None),  # beyond what Java offsets allow
        ("2026-11-20T12:00:00.1234567891Z", None),  # beyond nanoseconds
        ("2026-02-30T12:00:00Z", None),
        ("0001-01-01T00:00:00Z", None),  # Python readers of Spark cannot hold it
        ("9999-12-31T23:59:59Z", None),
        (FULL_WIDTH_2026 + "-11-20T12:00:00Z", None),
        ("2026-11-20T12:00:00+0530", None),
    ],
)
def test_timestamps_spark_reads_exactly(text, moment):
    assert parse_timestamp(text) == moment
