"""Parameter types every command shares: a day, a moment, a range of days, a duration.

One parser each, so a date is read the same way by every command and a mistake gives the
same one-line message (click turns ``fail`` into "Invalid value for '--date': ...").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import click


def now_to_the_minute() -> datetime:
    """The default end of generated history: now, in UTC, to the minute (reproducible runs)."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


class DayType(click.ParamType[date]):
    """A calendar day, YYYY-MM-DD."""

    name = "YYYY-MM-DD"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"not a date (YYYY-MM-DD): {value!r}", param, ctx)


class MomentType(click.ParamType[datetime]):
    """A point in time, ISO-8601; without an offset it is UTC."""

    name = "ISO-8601"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            moment = value
        else:
            try:
                moment = datetime.fromisoformat(str(value))
            except ValueError:
                self.fail(f"not an ISO-8601 time: {value!r}", param, ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class DurationType(click.ParamType[timedelta]):
    """A length of time: a whole number with s, m, h or d (90s, 30m, 2h, 7d)."""

    name = "DURATION"
    UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        if isinstance(value, timedelta):
            return value
        text = str(value).strip()
        unit = self.UNITS.get(text[-1:])
        if unit is None or not text[:-1].isdigit() or int(text[:-1]) == 0:
            self.fail(f"not a duration like 30m, 2h or 7d: {value!r}", param, ctx)
        return timedelta(**{unit: int(text[:-1])})


DAY = DayType()
MOMENT = MomentType()
DURATION = DurationType()


@dataclass(frozen=True)
class DayRange:
    """First and last day, both included; refused before any work when they run backwards."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise click.UsageError(f"--to {self.last} is before --from {self.first}")
