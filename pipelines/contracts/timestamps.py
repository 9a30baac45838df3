"""Date-time strings: the one pattern the contracts, the SDK and the stream read them by.

Every event's ``occurred_at`` (and any contract field of ``"format": "date-time"``) is an
RFC 3339 date-time with ASCII digits only. Two questions are asked of such a string, with
the same pattern:

- ``is_date_time``: does the contract accept it (RFC 3339 section 5.6: ``T``/``Z`` in either
  case, a leap second, a numeric offset with its colon, a real calendar day)? The
  validators the SDK and the stream compile use it for the ``date-time`` format, in place
  of fastjsonschema's own pattern, whose ``\\d`` matches any Unicode digit (full-width ones)
  and which accepts an offset without its colon (``+0530``).
- ``parse_timestamp``: which UTC instant does Spark read from it, or would Spark read null?
  Spark reads a stricter shape (uppercase ``T`` and ``Z``, no leap second, offsets within
  +-18:00); a contract-valid string outside it is quarantined as ``unrepresentable``.

No pyspark here: the producer SDK validates with it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

# ASCII digits only ([0-9], never \d) and \Z, not $ (which also matches before a newline).
DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-]([0-9]{2}):([0-9]{2}))\Z"
)
# Spark's readers keep up to 9 fraction digits; the bounds keep every reader (Python
# included) safe.
MAX_FRACTION_DIGITS = 9
EARLIEST_TIMESTAMP = datetime(1, 1, 3, tzinfo=UTC)
LATEST_TIMESTAMP = datetime(9999, 12, 30, tzinfo=UTC)


def is_date_time(text: str) -> bool:
    """Whether ``text`` is an RFC 3339 date-time (the contracts' ``date-time`` format)."""
    match = DATE_TIME.match(text)
    if match is None:
        return False
    year, month, day, hour, minute, second, _, zone, zh, zm = match.groups()
    if int(hour) > 23 or int(minute) > 59 or int(second) > 60:
        return False
    if zone not in "Zz" and (int(zh) > 23 or int(zm) > 59):
        return False
    try:
        datetime(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


_last_parsed: tuple[str, datetime | None] = ("", None)


def parse_timestamp(text: str) -> datetime | None:
    """The UTC instant Spark reads from a date-time string, or None if it would read null.

    The classifier asks twice for an event's occurred_at (exactness, then its date): the
    last answer is kept.
    """
    global _last_parsed
    last = _last_parsed
    if last[0] == text:
        return last[1]
    moment = _parse_timestamp(text)
    _last_parsed = (text, moment)
    return moment


def _parse_timestamp(text: str) -> datetime | None:
    match = DATE_TIME.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone, zh, zm = match.groups()
    if "t" in text or zone == "z" or int(second) > 59:
        return None
    if fraction is not None and len(fraction) - 1 > MAX_FRACTION_DIGITS:
        return None
    if zone != "Z" and (int(zh) * 60 + int(zm) > 18 * 60 or int(zm) > 59):
        return None
    micros = int((fraction or ".0")[1:].ljust(6, "0")[:6])
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micros, UTC
        )
    except ValueError:
        return None
    if zone != "Z":
        offset = timedelta(hours=int(zh), minutes=int(zm))
        moment -= offset if zone[0] == "+" else -offset
    return moment if EARLIEST_TIMESTAMP <= moment <= LATEST_TIMESTAMP else None
