"""Legal holds: rows a retention run must keep whatever their retention says.

A YAML file (``AFL_LEGAL_HOLDS``) lists them, reviewed like code::

    holds:
      - tenant_id: acme
        reason: "litigation 2026-114"
      - tenant_id: globex
        session_id: ses-0042        # only this session
        reason: "regulator request R-77"

A hold names a tenant, and optionally one of its sessions. A table without ``session_id``
(quarantine, gold aggregates) keeps every row of a tenant any hold names: a hold is
never narrowed by what a table lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from pathlib import Path

from pyspark.sql import Column
from pyspark.sql import functions as F

from pipelines.errors import AflError, read_yaml


@dataclass(frozen=True)
class LegalHold:
    tenant_id: str
    reason: str
    session_id: str | None = None

    def describe(self) -> str:
        where = f"{self.tenant_id}/{self.session_id}" if self.session_id else self.tenant_id
        return f"{where}: {self.reason}"


def load_holds(path: str) -> tuple[LegalHold, ...]:
    """The holds in ``path``; none when no file is configured. A bad file is one line."""
    if not path:
        return ()
    source = Path(path)
    doc = read_yaml(source, "legal holds file", "AFL_LEGAL_HOLDS") or {}
    entries = doc.get("holds") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise AflError(f"legal holds file {source}: expected a list under 'holds'")
    holds = []
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not entry.get("tenant_id") or not entry.get("reason"):
            raise AflError(f"legal holds file {source}: hold {n} needs a tenant_id and a reason")
        unknown = sorted(set(entry) - {"tenant_id", "session_id", "reason"})
        if unknown:
            raise AflError(f"legal holds file {source}: hold {n}: unknown key(s) {unknown}")
        session = entry.get("session_id")
        holds.append(
            LegalHold(
                str(entry["tenant_id"]), str(entry["reason"]), str(session) if session else None
            )
        )
    return tuple(holds)


def under_hold(holds: tuple[LegalHold, ...], columns: set[str]) -> Column:
    """True for a row some hold keeps, given the columns its table has."""
    if not holds or "tenant_id" not in columns:
        return F.lit(False)
    conditions = []
    for hold in holds:
        condition = F.col("tenant_id") == F.lit(hold.tenant_id)
        if hold.session_id and "session_id" in columns:
            condition = condition & (F.col("session_id") == F.lit(hold.session_id))
        conditions.append(condition)
    return F.coalesce(reduce(lambda a, b: a | b, conditions), F.lit(False))


def held_record(holds: tuple[LegalHold, ...], value: Column) -> Column:
    """True for a raw Kafka record (bronze's ``value``) some hold keeps: its JSON's tenant
    and session, read as the contracts name them (a record that is not JSON is not held)."""
    if not holds:
        return F.lit(False)
    text = value.cast("string")
    tenant = F.get_json_object(text, "$.tenant_id")
    session = F.get_json_object(text, "$.session_id")
    conditions = []
    for hold in holds:
        condition = tenant == F.lit(hold.tenant_id)
        if hold.session_id:
            condition = condition & (session == F.lit(hold.session_id))
        conditions.append(condition)
    return F.coalesce(reduce(lambda a, b: a | b, conditions), F.lit(False))
