"""Cutover as a state machine people can see: shadow -> compare -> promote -> retire_legacy.

The state is replayed from the daily verdicts in date order, so recomputing any past day
gives one consistent history:

- shadow: the stream runs beside legacy; no parity verdict yet
- compare: verdicts arrive; a streak of green days is counted
- promote: after N consecutive green days the stream may become primary
- retire_legacy: after M further consecutive green days the nightly ETL may be retired
A red day after promotion recommends rollback (legacy primary again) and returns to compare.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

STATES = ("shadow", "compare", "promote", "retire_legacy")


@dataclass(frozen=True)
class CutoverDay:
    as_of_date: date
    verdict: str
    state: str
    previous_state: str
    green_streak: int
    recommendation: str | None
    reason: str

    def as_row(self) -> tuple[object, ...]:
        return (
            self.as_of_date,
            self.verdict,
            self.state,
            self.previous_state,
            self.green_streak,
            self.recommendation,
            self.reason,
        )


def replay_cutover(
    verdicts: Sequence[tuple[date, str]], promote_after: int, retire_after: int
) -> list[CutoverDay]:
    """One CutoverDay per verdict, in date order."""
    state, streak, history = "shadow", 0, []
    for day, verdict in sorted(verdicts):
        previous = state
        recommendation = None
        streak = streak + 1 if verdict == "green" else 0
        if state == "shadow":
            state = "compare"
            reason = "first parity verdict: comparing legacy and stream"
        if state == "compare":
            if streak >= promote_after:
                state, streak = "promote", 0
                reason = f"{promote_after} consecutive green days: the stream may become primary"
            else:
                reason = (
                    f"green streak {streak} of {promote_after} needed to promote"
                    if verdict == "green"
                    else f"{verdict} day resets the green streak"
                )
        elif state == "promote":
            if verdict == "red":
                state, streak = "compare", 0
                recommendation = "rollback"
                reason = "red day after promotion: roll back to the legacy export as primary"
            elif streak >= retire_after:
                state = "retire_legacy"
                reason = f"{retire_after} more green days since promotion: retire the nightly ETL"
            else:
                reason = f"promoted; green streak {streak} of {retire_after} to retire legacy"
        elif state == "retire_legacy":
            if verdict == "red":
                recommendation = "investigate"
                reason = "red day after legacy retirement: investigate the stream"
            else:
                reason = "legacy retired; the stream is the source of truth"
        history.append(CutoverDay(day, verdict, state, previous, streak, recommendation, reason))
    return history
