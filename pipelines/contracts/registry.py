"""Event contracts: one JSON Schema file per event type and version, and what derives from them.

``schemas/envelope.v1.json`` holds the fields every event shares; ``schemas/<type>.v<N>.json``
holds a payload. Validation (compiled by fastjsonschema), Spark schemas and the docs are
derived from these files and never written a second time. ``AFL_CONTRACTS_DIR`` points at
another folder of contracts, so a deployment can add a version as a file, without a code
change.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import fastjsonschema
import orjson

from pipelines.contracts.exceptions import ContractFileError, ContractViolation
from pipelines.contracts.timestamps import is_date_time

BUILTIN_SCHEMAS_DIR = Path(__file__).with_name("schemas")
ENVELOPE_NAME = "envelope.v1.json"
CONTRACTS_DIR_ENV = "AFL_CONTRACTS_DIR"
CONTRACT_FILE = re.compile(r"^(?P<type>[a-z_]+)\.v(?P<version>\d+)\.json$")

# A record larger than this is quarantined as oversized (Kafka itself allows ~1 MiB).
MAX_EVENT_BYTES = 128 * 1024

FIELD_CLASSES = ("user_text", "pii")


@dataclass(frozen=True)
class Contract:
    """One event type at one version."""

    event_type: str
    version: int
    payload_schema: Mapping[str, Any] = field(repr=False)
    envelope: Mapping[str, Any] = field(repr=False)
    path: Path = field(repr=False)

    @cached_property
    def event_schema(self) -> dict[str, Any]:
        """The whole event: envelope with this payload, type and version pinned."""
        schema = copy.deepcopy(dict(self.envelope))
        schema["$id"] = f"afl://contracts/{self.event_type}.v{self.version}.event.json"
        props = schema["properties"]
        props["event_type"] = {"const": self.event_type}
        props["schema_version"] = {"const": self.version}
        payload = {k: v for k, v in self.payload_schema.items() if k not in ("$schema", "$id")}
        props["payload"] = payload
        return schema

    @cached_property
    def _validator(self) -> Any:
        # The date-time format by the lake's own pattern (ASCII digits, RFC 3339 offsets).
        return fastjsonschema.compile(self.event_schema, formats={"date-time": is_date_time})

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

    @cached_property
    def top_level_fields(self) -> frozenset[str]:
        return frozenset(self.envelope["properties"])

    @property
    def description(self) -> str:
        return str(self.payload_schema.get("description", ""))


@dataclass(frozen=True)
class RecordVerdict:
    """What one raw Kafka value is: 'valid' or the kind of reason it cannot be a silver row."""

    kind: str  # "valid" or one of REJECTION_KINDS
    reason: str
    event: dict[str, Any] | None = None
    field: str | None = None

    @property
    def event_type(self) -> str | None:
        return self.event.get("event_type") if isinstance(self.event, dict) else None

    @property
    def event_id(self) -> str | None:
        return self.event.get("event_id") if isinstance(self.event, dict) else None


class ContractSet:
    """Every contract in one folder; what validates, classifies and describes events."""

    def __init__(self, directory: Path, documents: Mapping[str, bytes] | None = None) -> None:
        """Load ``directory``'s files, or ``documents`` (file name -> bytes) read from it
        earlier: what a running stream accepted, shipped to workers that may not see the
        folder, or see files added since that the stream refused."""
        self.directory = directory
        if documents is None:
            documents = {p.name: p.read_bytes() for p in sorted(directory.glob("*.json"))}
        self.documents: dict[str, bytes] = dict(sorted(documents.items()))
        if ENVELOPE_NAME not in self.documents:
            raise ContractFileError(f"{directory}: no {ENVELOPE_NAME}")
        # The fingerprint describes exactly the bytes loaded here, so a worker holding an
        # older load can tell it is stale.
        digest = hashlib.sha256()
        for name, content in self.documents.items():
            digest.update(name.encode())
            digest.update(content)
        self.fingerprint = digest.hexdigest()[:16]
        self.envelope: dict[str, Any] = json.loads(self.documents[ENVELOPE_NAME])
        found: dict[tuple[str, int], Contract] = {}
        for name, content in self.documents.items():
            if name == ENVELOPE_NAME:
                continue
            match = CONTRACT_FILE.match(name)
            if match is None:
                raise ContractFileError(f"{name}: contract files are named <event_type>.v<N>.json")
            try:
                doc = json.loads(content)
            except ValueError as exc:
                raise ContractFileError(f"{name}: not JSON ({exc})") from None
            event_type, version = match["type"], int(match["version"])
            if doc.get("x-event-type") != event_type or doc.get("x-version") != version:
                raise ContractFileError(
                    f"{name}: x-event-type/x-version say {doc.get('x-event-type')} "
                    f"v{doc.get('x-version')}, the file name says {event_type} v{version}"
                )
            found[(event_type, version)] = Contract(
                event_type, version, doc, self.envelope, directory / name
            )
        self.contracts = found

    def all(self) -> list[Contract]:
        return list(self.contracts.values())

    def event_types(self) -> list[str]:
        return sorted({et for et, _ in self.contracts})

    def versions(self, event_type: str) -> list[int]:
        return sorted(v for et, v in self.contracts if et == event_type)

    def get(self, event_type: str, version: int) -> Contract:
        try:
            return self.contracts[(event_type, version)]
        except KeyError:
            if event_type not in self.event_types():
                raise ContractViolation(
                    "event_type", f"unknown event type {event_type!r}", kind="unknown_event_type"
                ) from None
            raise ContractViolation(
                "schema_version",
                f"no contract for {event_type} v{version} (known: {self.versions(event_type)})",
                event_type,
                kind="unknown_schema_version",
            ) from None

    def latest(self, event_type: str) -> Contract:
        return self.get(event_type, self.versions(event_type)[-1])

    def validate(self, event: Any) -> Contract:
        """Check one event; its contract, or ContractViolation naming the field."""
        if type(event) is not dict and not isinstance(event, Mapping):  # dict: the hot path
            raise ContractViolation(
                "$", f"an event is a JSON object, got {type(event).__name__}", kind="not_an_object"
            )
        event_type = event.get("event_type")
        if not isinstance(event_type, str):
            if "event_type" not in event:
                raise ContractViolation(
                    "event_type", "required field is missing", kind="missing_required"
                )
            raise ContractViolation("event_type", "must be string", kind="wrong_type")
        version = event.get("schema_version")
        if type(version) is not int:  # bool is an int to Python, not to JSON
            if "schema_version" not in event:
                raise ContractViolation(
                    "schema_version", "required field is missing", event_type, "missing_required"
                )
            raise ContractViolation("schema_version", "must be integer", event_type, "wrong_type")
        contract = self.contracts.get((event_type, version))
        if contract is None:
            lowest = self.envelope["properties"]["schema_version"].get("minimum", 1)
            if version < lowest:  # the envelope's rule, before any contract's
                raise ContractViolation(
                    "schema_version",
                    f"must be bigger than or equal to {lowest}",
                    event_type,
                    "invalid_value",
                )
            contract = self.get(event_type, version)
        contract.validate(event)
        return contract

    def classify(self, value: bytes | None) -> RecordVerdict:
        """Why a raw Kafka value cannot be a silver row — or 'valid'. The stream uses this."""
        if value is None:
            return RecordVerdict("malformed_json", "empty record value")
        if len(value) > MAX_EVENT_BYTES:
            return RecordVerdict(
                "oversized", f"record is {len(value)} bytes; the limit is {MAX_EVENT_BYTES}"
            )
        try:
            event = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            return RecordVerdict("malformed_json", f"not valid JSON: {exc}")
        try:
            self.validate(event)
        except ContractViolation as violation:
            return RecordVerdict(
                violation.kind,
                str(violation),
                event if isinstance(event, dict) else None,
                violation.field,
            )
        return RecordVerdict("valid", "", event)

    def unknown_fields(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Fields the event's own contract does not name, at every level it describes.

        Keys are paths: ``region_hint``, ``payload.gpu_seconds``,
        ``payload.context_refs[2].page``. Typed columns cannot hold these; the lake keeps
        them in ``_rescued_data`` so nothing a producer sent is dropped.
        """
        contract = self.contracts[(event["event_type"], event["schema_version"])]
        unknown: dict[str, Any] = {}
        _collect_unknown(event, contract.event_schema, "", unknown)
        return unknown


def schemas_dir() -> Path:
    """AFL_CONTRACTS_DIR, else the contracts shipped with the code."""
    return Path(os.environ.get(CONTRACTS_DIR_ENV) or BUILTIN_SCHEMAS_DIR)


@cache
def _set_for(configured_dir: str) -> ContractSet:
    return ContractSet(Path(configured_dir or BUILTIN_SCHEMAS_DIR))


def contract_set(directory: str | Path | None = None) -> ContractSet:
    """The contracts of a folder (default: the active one), loaded once per process."""
    if directory is None:
        # Keyed by the raw variable: this runs for every emitted event.
        return _set_for(os.environ.get(CONTRACTS_DIR_ENV, ""))
    return _set_for(str(directory))


_SHIPPED: dict[str, ContractSet] = {}


def shipped_contract_set(directory: str, documents: Mapping[str, bytes]) -> ContractSet:
    """A contract set rebuilt from shipped documents, once per process and fingerprint."""
    cs = ContractSet(Path(directory), documents)
    return _SHIPPED.setdefault(cs.fingerprint, cs)


def reload_contracts() -> None:
    """Forget loaded contracts so files added since are seen."""
    _set_for.cache_clear()


# The active set's verbs, for callers that do not care which folder is active.


def all_contracts() -> list[Contract]:
    return contract_set().all()


def event_types() -> list[str]:
    return contract_set().event_types()


def versions(event_type: str) -> list[int]:
    return contract_set().versions(event_type)


def get_contract(event_type: str, version: int) -> Contract:
    return contract_set().get(event_type, version)


def latest(event_type: str) -> Contract:
    return contract_set().latest(event_type)


def validate_event(event: Any) -> Contract:
    return contract_set().validate(event)


def classify_record(value: bytes | None) -> RecordVerdict:
    return contract_set().classify(value)


def envelope_schema() -> dict[str, Any]:
    return contract_set().envelope


def serialize(event: Mapping[str, Any]) -> bytes:
    """The wire form: compact UTF-8 JSON, keys in the order given (deterministic).

    orjson is ~7x faster than the standard library here, and emit() pays it per event.
    """
    return orjson.dumps(event)


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
                ".".join([*path, missing[0]]),
                "required field is missing",
                event_type,
                "missing_required",
            )
    dotted = ".".join(path) or "$"
    # "data.payload.rating must be ..." -> "must be ..."
    message = re.sub(r"^data(\.[\w\[\]\.]+)?\s+", "", message)
    kind = "wrong_type" if exc.rule == "type" else "invalid_value"
    return ContractViolation(dotted, message, event_type, kind)


def _collect_unknown(value: Any, spec: Mapping[str, Any], path: str, out: dict[str, Any]) -> None:
    """Add to ``out`` every key of ``value`` (and of its nested objects) ``spec`` does not name."""
    if isinstance(value, dict) and isinstance(spec.get("properties"), Mapping):
        known = spec["properties"]
        for key, item in value.items():  # this level's unknown fields first, then deeper
            if key not in known:
                out[f"{path}.{key}" if path else key] = item
        for key, item in value.items():
            # only objects and arrays can hold unknown fields (most values are scalars)
            if key in known and isinstance(item, dict | list):
                _collect_unknown(item, known[key], f"{path}.{key}" if path else key, out)
    elif isinstance(value, list) and isinstance(spec.get("items"), Mapping):
        for i, item in enumerate(value):
            if isinstance(item, dict | list):
                _collect_unknown(item, spec["items"], f"{path}[{i}]", out)


def _walk_classes(properties: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, str]]:
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        if "x-classification" in spec:
            yield path, spec["x-classification"]
        if isinstance(spec.get("properties"), Mapping):
            yield from _walk_classes(spec["properties"], prefix=f"{path}.")
