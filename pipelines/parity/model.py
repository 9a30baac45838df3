"""What a day's parity run found: the report every surface reads (HTML, Markdown, Dagster).

Its own module so that computing it (run.py) and rendering it (report.py) both depend on
it, not on each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pipelines.parity.cutover import CutoverDay
from pipelines.settings import Settings

DIFFERENCES = ("missing_in_stream", "missing_in_legacy", "value_mismatch")
VERDICT_STATUS = {"green": "pass", "yellow": "warn", "red": "fail"}


@dataclass
class ParityReport:
    day: date
    run_id: str
    computed_at: datetime
    legacy_rows: int
    stream_rows: int
    counts: dict[str, int]
    mismatches_by_column: dict[str, int]
    examples: dict[str, list[dict[str, Any]]]
    schema_differences: list[str]
    rating_legacy: dict[int, int]
    rating_stream: dict[int, int]
    thumbs_down: list[dict[str, Any]]
    freshness: dict[str, float | None]
    stream_lag_sample: list[float]
    legacy_lag_sample: list[float]
    watermark: datetime | None
    verdict: str = "red"
    explanation: str = ""
    cutover: list[CutoverDay] = field(default_factory=list)
    report_html: str = ""
    report_markdown: str = ""

    @property
    def differences(self) -> int:
        return sum(self.counts.get(s, 0) for s in DIFFERENCES)


def report_dir(settings: Settings) -> Path:
    """Where the parity reports of every day are written."""
    return Path(settings.reports_dir) / "parity"
