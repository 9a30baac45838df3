"""A day's parity report built by hand, for the tests of its verdict, model and rendering."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pipelines.parity.model import ParityReport


def parity_report(counts: dict[str, int], **fields: Any) -> ParityReport:
    """1,000 legacy rows on 2026-11-20 with these counts; every other field empty unless
    given."""
    base: dict[str, Any] = {
        "day": date(2026, 11, 20),
        "run_id": "r",
        "computed_at": datetime(2026, 11, 20, 10, 0, 0),
        "legacy_rows": 1000,
        "stream_rows": 1000,
        "counts": counts,
        "mismatches_by_column": {},
        "examples": {},
        "schema_differences": [],
        "rating_legacy": {},
        "rating_stream": {},
        "thumbs_down": [],
        "freshness": {},
        "stream_lag_sample": [],
        "legacy_lag_sample": [],
        "watermark": None,
    }
    return ParityReport(**{**base, **fields})
