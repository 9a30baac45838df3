"""Hostile Kafka records generated from the contracts, and what the lake must do with each.

``hostile_corpus`` walks every contract's properties and, from valid base events, makes
records a careless or malicious producer could send: deep nesting, huge strings, odd
numbers, odd timestamps, invalid UTF-8, wrong types, empty and null values, unknown fields
at every level, and copies of events with different days and contents. ``expected``
says, record by record, where each must end up, from the delivered Kafka coordinates.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from pipelines.contracts.registry import MAX_EVENT_BYTES, ContractSet
from pipelines.contracts.topics import DLQ_TOPIC, TOPICS, topic_for_event_type
from pipelines.transforms.dedup import content_differences
from pipelines.transforms.silver import judge_record

Headers = list[tuple[str, bytes]]

ODD_TIMESTAMPS = {
    # valid for the contract, unreadable for Spark
    "2026-11-20t12:00:00z": "unrepresentable",
    "2026-11-20T23:59:60Z": "unrepresentable",
    "2026-11-20T12:00:00+23:59": "unrepresentable",
    "0001-01-01T00:00:00Z": "unrepresentable",
    "9999-12-31T23:59:59Z": "unrepresentable",
    # valid everywhere
    "2026-11-19T12:00:00.123456789+14:00": None,
    "2026-11-18T03:04:05-07:30": None,
    # not a date-time at all
    "2026-02-30T12:00:00Z": "invalid_value",
    "2026-11-20T12:00:00": "invalid_value",
    "yesterday": "invalid_value",
    "2026-11-20T12:00:00+0530": "invalid_value",  # RFC 3339 offsets have a colon
    "\uff12\uff10\uff12\uff16-11-20T12:00:00Z": "invalid_value",  # full-width digits
}
ODD_INTEGERS: list[Any] = [1.0, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 1e300, 0, -1, "12", True]
ODD_NUMBERS: list[Any] = [-0.0, 1e308, 5e-324, 2**70, 3, "NaN", None, [1]]
ODD_STRINGS: list[Any] = [
    "",
    " ",
    "\u0000nul",
    "zero\u200bwidth \u202eRTL\u202c emoji \U0001f600",
    "x" * 5000,
    12,
    {"nested": True},
]


@dataclass
class Hostile:
    """One record to send raw: ``label`` says what was done to it."""

    label: str
    topic: str  # logical topic name
    value: bytes | None
    key: bytes | None = None
    headers: Headers = field(default_factory=list)
    coords: tuple[str, int, int] | None = None  # filled in by the delivery report


def hostile_corpus(bases: list[dict], contracts: ContractSet, seed: int = 13) -> list[Hostile]:
    """At least one record per (base event, mutation); mutations follow each contract."""
    rng = random.Random(seed)
    records: list[Hostile] = []
    for i, base in enumerate(bases):
        contract = contracts.get(base["event_type"], base["schema_version"])
        topic = topic_for_event_type(base["event_type"]).name
        for label, event in _mutations(base, contract.event_schema, rng):
            if isinstance(event, dict) and not label.startswith("event_id="):
                event["event_id"] = f"hostile-{i}-{len(records)}-{rng.getrandbits(32):08x}"
            records.append(_record(f"{label}#{i}", topic, event, base))
    records += list(_raw_records(bases, rng))
    records += list(_copies(bases, rng))
    return records


def _record(label: str, topic: str, event: Any, base: Mapping[str, Any]) -> Hostile:
    try:
        value = orjson.dumps(event)
    except (TypeError, orjson.JSONEncodeError):  # deeper than orjson writes: by hand
        value = dumps_any(event)
    return Hostile(label, topic, value, str(base["session_id"]).encode())


def dumps_any(value: Any) -> bytes:
    """JSON for values nested deeper than orjson writes (iterative, no recursion)."""
    out: list[bytes] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, bytes):
            out.append(item)
        elif isinstance(item, dict):
            parts: list[Any] = [b"{"]
            for n, (k, v) in enumerate(item.items()):
                parts += [b"," if n else b"", orjson.dumps(k) + b":", v]
            parts.append(b"}")
            stack.extend(reversed(parts))
        elif isinstance(item, list):
            parts = [b"["]
            for n, v in enumerate(item):
                parts += [b"," if n else b"", v]
            parts.append(b"]")
            stack.extend(reversed(parts))
        elif isinstance(item, int) and not isinstance(item, bool):
            out.append(str(item).encode())  # beyond 64 bits too
        else:
            out.append(orjson.dumps(item))
    return b"".join(out)


def _nest(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = {"level": value} if level % 2 else [value]
    return value


def _mutations(
    base: dict, schema: Mapping[str, Any], rng: random.Random
) -> Iterator[tuple[str, Any]]:
    props = schema["properties"]
    required = set(schema.get("required", []))
    payload_schema = props["payload"]
    # envelope fields, from the envelope contract
    for name, spec in props.items():
        if name in ("payload", "event_type", "schema_version"):
            continue
        yield from _field_mutations(base, (name,), spec, name in required, rng)
    # payload fields, from the event's own contract
    payload_required = set(payload_schema.get("required", []))
    for name, spec in payload_schema.get("properties", {}).items():
        yield from _field_mutations(base, ("payload", name), spec, name in payload_required, rng)
    # version and type
    for label, version in (
        ("version_float", 1.0),
        ("version_unknown", 99),
        ("version_bool", True),
        ("version_null", None),
        ("version_zero", 0),
        ("version_negative", -1),
    ):
        event = copy.deepcopy(base)
        event["schema_version"] = version
        yield label, event
    event = copy.deepcopy(base)
    event["event_type"] = "agent_thought"
    yield "type_unknown", event
    # unknown fields at every level, and nesting deeper than JSON writers go
    for depth in (3, 50, 254, 256, 300, 1000):
        for where in ("top", "payload"):
            event = copy.deepcopy(base)
            target = event if where == "top" else event["payload"]
            target[f"unknown_{where}"] = _nest(depth)
            yield f"deep_{where}_{depth}", event
    event = copy.deepcopy(base)
    event["payload"] = None
    yield "payload_null", event
    event = copy.deepcopy(base)
    event["payload"] = []
    yield "payload_array", event


def _field_mutations(
    base: dict, path: tuple[str, ...], spec: Mapping[str, Any], required: bool, rng: random.Random
) -> Iterator[tuple[str, Any]]:
    dotted = ".".join(path)
    types = spec.get("type")
    names = [types] if isinstance(types, str) else list(types or [])
    kind = next((t for t in names if t != "null"), "enum" if "enum" in spec else None)
    values: list[Any] = []
    if kind == "string" and spec.get("format") == "date-time":
        values = list(ODD_TIMESTAMPS)
    elif kind == "string":
        values = list(ODD_STRINGS)
        if "maxLength" in spec:
            values += ["m" * spec["maxLength"], "m" * (spec["maxLength"] + 1)]
    elif kind == "integer":
        values = list(ODD_INTEGERS)
    elif kind == "number":
        values = list(ODD_NUMBERS)
    elif kind == "boolean":
        values = [0, "true", None]
    elif kind == "enum":
        values = [v.lower() if isinstance(v, str) else v for v in spec["enum"][:1]] + ["nope", 7]
    elif kind == "array":
        item = spec.get("items", {})
        sample: Any = (
            {"doc_id": "d", "extra": {"deep": [1, {"x": None}]}} if "properties" in item else "s"
        )
        values = [[], [None], [sample] * 300, "not-an-array"]
    # every odd timestamp (Spark and JSON Schema disagree most there), a few of the rest
    wanted = len(values) if spec.get("format") == "date-time" else min(len(values), 4)
    for value in rng.sample(values, wanted):
        event = copy.deepcopy(base)
        _set(event, path, value)
        yield f"{dotted}={_short(value)}", event
    if required:
        event = copy.deepcopy(base)
        _delete(event, path)
        yield f"{dotted}=<missing>", event
    event = copy.deepcopy(base)
    _set(event, path, None)
    yield f"{dotted}=null", event


def _raw_records(bases: list[dict], rng: random.Random) -> Iterator[Hostile]:
    base = bases[0]
    topic = topic_for_event_type(base["event_type"]).name
    good = orjson.dumps(base)
    raw: list[tuple[str, bytes | None]] = [
        ("tombstone", None),
        ("empty", b""),
        ("whitespace", b"  \n\t "),
        ("json_null", b"null"),
        ("json_array", b"[]"),
        ("json_object_empty", b"{}"),
        ("truncated", good[: len(good) // 2]),
        ("bom", b"\xef\xbb\xbf" + good),
        ("trailing_garbage", good + b"garbage"),
        ("two_objects", good + good),
        ("invalid_utf8", good.replace(b'"tenant_id":"', b'"tenant_id":"\xff\xfe', 1)),
        ("lone_surrogate", good.replace(b'"tenant_id":"', b'"tenant_id":"\\ud800', 1)),
        ("oversized", orjson.dumps({**base, "padding": "p" * (MAX_EVENT_BYTES + 10)})),
        ("nan_literal", good.replace(b'"schema_version":', b'"nan":NaN,"schema_version":', 1)),
        (
            "huge_number",
            good.replace(b'"schema_version":', b'"n":1' + b"0" * 400 + b',"schema_version":', 1),
        ),
    ]
    for label, value in raw:
        yield Hostile(f"raw_{label}", topic, value, str(base["session_id"]).encode())
    # odd keys and headers on otherwise valid events (new ids, so each lands once)
    for n, (key, headers) in enumerate(
        [
            (None, []),
            (b"\xff\xfe\x00bad-key", []),
            (b"k" * 5000, []),
            (b"s", [("afl.source", b"\xff\xfe")]),
            (b"s", [("afl.source", b"legacy_mirror"), ("afl.source", b"backfill")]),
            (b"s", [("x-unknown", b"\x00" * 100), ("", b"")]),
        ]
    ):
        event = copy.deepcopy(bases[(n + 1) % len(bases)])
        event["event_id"] = f"odd-transport-{n}-{rng.getrandbits(32):08x}"
        yield Hostile(
            f"transport_{n}",
            topic_for_event_type(event["event_type"]).name,
            orjson.dumps(event),
            key,
            headers,
        )
    # the right event on the wrong topic, and on the dead-letter topic
    other = next(b for b in bases if b["event_type"] != base["event_type"])
    yield Hostile("wrong_topic", topic, orjson.dumps(other), b"s")
    reason = b"invalid event: payload: the producer could not validate it"
    yield Hostile("dead_lettered", DLQ_TOPIC, orjson.dumps(other), b"s", [("afl.reason", reason)])


def _copies(bases: list[dict], rng: random.Random) -> Iterator[Hostile]:
    """Copies of base events: identical, re-serialized, other day, other content."""
    for i, base in enumerate(bases):
        topic = topic_for_event_type(base["event_type"]).name
        key = str(base["session_id"]).encode()
        yield Hostile(f"copy_identical#{i}", topic, orjson.dumps(base), key)
        reordered = dict(reversed(list(base.items())))
        yield Hostile(
            f"copy_reordered#{i}", topic, orjson.dumps(reordered, option=orjson.OPT_INDENT_2), key
        )
        other_day = copy.deepcopy(base)
        other_day["occurred_at"] = "2026-11-" + ("01" if i % 2 else "28") + "T08:00:00.000Z"
        yield Hostile(f"copy_other_day#{i}", topic, orjson.dumps(other_day), key)
        if i % 3 == 0:
            changed = copy.deepcopy(base)
            changed["payload"]["afl_test_marker"] = rng.random()
            yield Hostile(f"copy_other_content#{i}", topic, orjson.dumps(changed), key)


def _set(event: dict, path: tuple[str, ...], value: Any) -> None:
    target = event
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def _delete(event: dict, path: tuple[str, ...]) -> None:
    target = event
    for part in path[:-1]:
        target = target[part]
    target.pop(path[-1], None)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 48 else f"{text[:20]}..({len(text)})"


# -- what the lake must do with each record ---------------------------------------------


@dataclass(frozen=True)
class Expected:
    """Where a record must end up: 'silver', 'duplicate', or 'quarantine:<kind>'."""

    outcome: str
    event_type: str | None = None
    event_id: str | None = None


def expected(
    batches: list[list[Hostile]], contracts: ContractSet, topic_name: Any
) -> dict[tuple[str, int, int], Expected]:
    """Each record's outcome; ``batches`` in ingest order, records carrying coordinates.

    Within a batch the first copy of an event (smallest coordinates) lands; a copy in a
    later batch is a copy of what an earlier batch landed. Copies with the same content are
    duplicates, others conflicting duplicates.
    """
    allowed = {topic_name(t.name): t.event_types for t in TOPICS}
    dlq = topic_name(DLQ_TOPIC)
    landed: dict[tuple[str, str], bytes] = {}
    out: dict[tuple[str, int, int], Expected] = {}
    for batch in batches:
        valid: list[tuple[tuple[str, int, int], str, str, bytes]] = []
        for record in batch:
            assert record.coords is not None, record.label
            verdict = judge_record(contracts, record.value)
            kind, et, eid = verdict[0], verdict[3], verdict[5]
            if kind is None and record.coords[0] == dlq:
                kind = "dead_lettered"
            elif kind is None and et not in allowed.get(record.coords[0], ()):
                kind = "wrong_topic"
            if kind is not None:
                out[record.coords] = Expected(f"quarantine:{kind}", et, eid)
            else:
                valid.append((record.coords, et, eid, record.value or b""))
        fresh: dict[tuple[str, str], bytes] = {}
        for coords, et, eid, value in sorted(valid):
            original = landed.get((et, eid), fresh.get((et, eid)))
            if original is None:
                fresh[(et, eid)] = value
                out[coords] = Expected("silver", et, eid)
            elif content_differences(value, original):
                out[coords] = Expected("quarantine:conflicting_duplicate", et, eid)
            else:
                out[coords] = Expected("duplicate", et, eid)
        landed.update(fresh)
    return out
