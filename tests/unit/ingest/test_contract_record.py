"""What a stream starts with: the contracts folder checked against what it published."""

import json
import logging
import shutil

import pytest

from pipelines.contracts.registry import BUILTIN_SCHEMAS_DIR
from pipelines.ingest.contract_record import (
    lake_contracts,
    published_documents,
    record_uri,
    stream_contracts,
)

QUERY = "agent_events"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    target = tmp_path / "contracts"
    shutil.copytree(BUILTIN_SCHEMAS_DIR, target)
    monkeypatch.setenv("AFL_CONTRACTS_DIR", str(target))
    return target


def write_version(folder, event_type: str, version: int, edit) -> str:
    doc = json.loads((folder / f"{event_type}.v2.json").read_text())
    doc.update({"$id": f"afl://contracts/{event_type}.v{version}.json", "x-version": version})
    edit(doc["properties"])
    name = f"{event_type}.v{version}.json"
    (folder / name).write_text(json.dumps(doc))
    return name


def test_the_first_start_records_the_set_and_a_restart_refuses_what_breaks_it(
    folder, settings, caplog
):
    caplog.set_level(logging.ERROR)
    assert published_documents(settings, QUERY) == {}
    first = stream_contracts(settings, QUERY)
    assert record_uri(settings, QUERY).endswith("/_contracts/agent_events.json")
    assert published_documents(settings, QUERY) == first.documents
    assert caplog.records == []

    # a compatible v3 and an incompatible v3, then a published file edited in place
    write_version(folder, "feedback", 3, lambda p: p.update(mood={"type": ["string", "null"]}))
    write_version(folder, "tool_call", 3, lambda p: p.update(attempt={"type": "string"}))
    edited = json.loads((folder / "outcome.v1.json").read_text())
    edited["description"] = "edited after it was published"
    (folder / "outcome.v1.json").write_text(json.dumps(edited))
    second = stream_contracts(settings, QUERY)
    assert [r.getMessage() for r in caplog.records] == [
        "contract not used (the stream runs on without it): outcome.v1.json was changed; "
        "publish a new version instead",
        "contract not used (the stream runs on without it): tool_call.v3.json is incompatible "
        "with v2: payload.attempt: type changed from integer to string (not a safe widening) "
        "[type_changed]",
    ]
    assert second.versions("feedback") == [1, 2, 3] and second.versions("tool_call") == [1, 2]
    assert second.documents["outcome.v1.json"] == first.documents["outcome.v1.json"]
    assert published_documents(settings, QUERY) == second.documents  # v3 now published
    assert lake_contracts(settings, QUERY).documents == second.documents
