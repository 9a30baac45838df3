"""Event contracts: one JSON Schema file per event type and version, and what derives from them.

``schemas/envelope.v1.json`` holds the fields every event shares; ``schemas/<type>.v<N>.json``
holds a payload. Validation (compiled by fastjsonschema), Spark schemas and the docs are
derived from these files and never written a second time.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import fastjsonschema

from pipelines.contracts.exceptions import ContractFileError, ContractViolation

SCHEMAS_DIR = Path(__file__).with_name("schemas")
ENVELOPE_FILE = SCHEMAS_DIR / "envelope.v1.json"
_CONTRACT_FILE = re.compile(r"^(?P<type>[a-z_]+)\.v(?P<version>\d+)\.json$")

# A record larger than this is quarantined as oversized (Kafka itself allows ~1 MiB).
MAX_EVENT_BYTES = 128 * 1024

FIELD_CLASSES = ("user_text", "pii")


@dataclass(frozen=True)
class Contract:
    """One event type at one version."""

    event_type: str
    version: int
    payload_schema: Mapping[str, Any] = field(repr=False)
    path: Path = field(repr=False)

    @cached_property
    def event_schema(self) -> dict[str, Any]:
        """The whole event: envelope with this payload, type and version pinned."""
        schema = copy.deepcopy(envelope_schema())
        schema["$id"] = f"afl://contracts/{self.event_type}.v{self.version}.event.json"
        props = schema["properties"]
        props["event_type"] = {"const": self.event_type}
        props["schema_version"] = {"const": self.version}
        payload = {k: v for k, v in self.payload_schema.items() if k not in ("$schema", "$id")}
        props["payload"] = payload
        return schema

    @cached_property
    def _validator(self) -> Any:
        return fastjsonschema.compile(self.event_schema)

    def validate(self, event: Mapping[str, Any]) -> None:
        try:
            self._validator(event)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise _violation(exc, self.event_type) from None

    @cached_property
    def field_classes(self) -> dict[str, str]:
        """Dotted field path -> 'user_text' or 'pii', from the contract's x-classification."""
        return {
            path: cls
            for path, cls in _walk_classes(self.event_schema["properties"], prefix="")
            if cls in FIELD_CLASSES
        }

    @cached_property
    def payload_fields(self) -> tuple[str, ...]:
        return tuple(self.payload_schema.get("properties", {}))

    @property
    def description(self) -> str:
        return str(self.payload_schema.get("description", ""))


@cache
def envelope_schema() -> dict[str, Any]:
    return json.loads(ENVELOPE_FILE.read_text())


@cache
def _load() -> dict[tuple[str, int], Contract]:
    found: dict[tuple[str, int], Contract] = {}
    for path in sorted(SCHEMAS_DIR.glob("*.json")):
        if path == ENVELOPE_FILE:
            continue
        match = _CONTRACT_FILE.match(path.name)
        if match is None:
            raise ContractFileError(f"{path.name}: contract files are named <event_type>.v<N>.json")
        doc = json.loads(path.read_text())
        event_type, version = match["type"], int(match["version"])
        if doc.get("x-event-type") != event_type or doc.get("x-version") != version:
            raise ContractFileError(
                f"{path.name}: x-event-type/x-version say {doc.get('x-event-type')} "
                f"v{doc.get('x-version')}, the file name says {event_type} v{version}"
            )
        found[(event_type, version)] = Contract(event_type, version, doc, path)
    return found


def all_contracts() -> list[Contract]:
    return list(_load().values())


def event_types() -> list[str]:
    return sorted({et for et, _ in _load()})


def versions(event_type: str) -> list[int]:
    return sorted(v for et, v in _load() if et == event_type)


def get_contract(event_type: str, version: int) -> Contract:
    try:
        return _load()[(event_type, version)]
    except KeyError:
        if event_type not in event_types():
            raise ContractViolation(
                "event_type", f"unknown event type {event_type!r}", event_type=None
            ) from None
        raise ContractViolation(
            "schema_version",
            f"no contract for {event_type} v{version} (known: {versions(event_type)})",
            event_type,
        ) from None


def latest(event_type: str) -> Contract:
    return get_contract(event_type, versions(event_type)[-1])


def validate_event(event: Any) -> Contract:
    """Check one event against its contract; the contract, or ContractViolation naming the field."""
    if not isinstance(event, Mapping):
        raise ContractViolation("$", f"an event is a JSON object, got {type(event).__name__}")
    event_type = event.get("event_type")
    if not isinstance(event_type, str):
        raise ContractViolation("event_type", "missing or not a string")
    version = event.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ContractViolation("schema_version", "missing or not an integer", event_type)
    contract = get_contract(event_type, version)
    contract.validate(event)
    return contract


def serialize(event: Mapping[str, Any]) -> bytes:
    """The wire form: compact UTF-8 JSON, keys in the order given (deterministic)."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def json_type_of(value: Any) -> str:
    """The JSON Schema type name of a Python value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def _violation(exc: fastjsonschema.JsonSchemaValueException, event_type: str) -> ContractViolation:
    path = [str(p) for p in (exc.path or [])][1:]  # drop fastjsonschema's leading "data"
    message = exc.message
    if exc.rule == "required" and isinstance(exc.value, Mapping) and exc.definition:
        missing = [k for k in exc.definition.get("required", []) if k not in exc.value]
        if missing:
            return ContractViolation(
                ".".join([*path, missing[0]]), "required field is missing", event_type
            )
    dotted = ".".join(path) or "$"
    # "data.payload.rating must be ..." -> "must be ..."
    message = re.sub(r"^data(\.[\w\[\]\.]+)?\s+", "", message)
    return ContractViolation(dotted, message, event_type)


def _walk_classes(properties: Mapping[str, Any], prefix: str):
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        if "x-classification" in spec:
            yield path, spec["x-classification"]
        if isinstance(spec.get("properties"), Mapping):
            yield from _walk_classes(spec["properties"], prefix=f"{path}.")


@dataclass(frozen=True)
class RecordVerdict:
    """What one raw Kafka value is: 'valid' or the reason kind it cannot be a silver row."""

    # valid | malformed_json | oversized | unknown_event_type | unknown_schema_version |
    # missing_required | wrong_type
    kind: str
    reason: str
    event: dict[str, Any] | None = None
    field: str | None = None

    @property
    def event_type(self) -> str | None:
        return self.event.get("event_type") if isinstance(self.event, dict) else None

    @property
    def event_id(self) -> str | None:
        return self.event.get("event_id") if isinstance(self.event, dict) else None


def classify_record(value: bytes | None) -> RecordVerdict:
    """The Python reference for the stream's checks, in the same order and words."""
    if value is None:
        return RecordVerdict("malformed_json", "empty record value")
    if len(value) > MAX_EVENT_BYTES:
        return RecordVerdict(
            "oversized", f"record is {len(value)} bytes; the limit is {MAX_EVENT_BYTES}"
        )
    try:
        event = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return RecordVerdict("malformed_json", f"not valid JSON: {exc}")
    try:
        validate_event(event)
    except ContractViolation as violation:
        if violation.field == "event_type" and violation.reason.startswith("unknown event type"):
            kind = "unknown_event_type"
        elif violation.field == "schema_version" and violation.reason.startswith("no contract"):
            kind = "unknown_schema_version"
        elif violation.reason == "required field is missing":
            kind = "missing_required"
        else:
            kind = "wrong_type"
        return RecordVerdict(
            kind, str(violation), event if isinstance(event, dict) else None, violation.field
        )
    return RecordVerdict("valid", "", event)
