"""A running stream picks up compatible contract versions and refuses the rest."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipelines.contracts.registry import BUILTIN_SCHEMAS_DIR, ContractSet
from pipelines.contracts.watch import ContractWatch, accepted_set


@pytest.fixture
def folder(tmp_path) -> Path:
    target = tmp_path / "contracts"
    shutil.copytree(BUILTIN_SCHEMAS_DIR, target)
    return target


def next_version(folder: Path, event_type: str, change: Callable[[dict[str, Any]], None]) -> Path:
    """Write <type>.v<latest+1>.json: the latest version with ``change`` applied."""
    latest = max(int(p.name.split(".v")[1].split(".")[0]) for p in folder.glob(f"{event_type}.v*"))
    doc = json.loads((folder / f"{event_type}.v{latest}.json").read_text())
    doc["x-version"] = latest + 1
    change(doc)
    path = folder / f"{event_type}.v{latest + 1}.json"
    path.write_text(json.dumps(doc))
    return path


def add_sentiment(doc: dict) -> None:
    doc["properties"]["sentiment"] = {"type": ["string", "null"], "maxLength": 32}


def drop_phase(doc: dict) -> None:
    del doc["properties"]["phase"]
    doc["required"].remove("phase")


def test_a_compatible_version_is_picked_up_once(folder):
    watch = ContractWatch(ContractSet(folder))
    assert watch.poll() is None  # nothing changed
    next_version(folder, "feedback", add_sentiment)
    accepted = watch.poll()
    assert accepted is not None and accepted.versions("feedback") == [1, 2, 3]
    assert "sentiment" in accepted.get("feedback", 3).payload_schema["properties"]
    assert watch.current is accepted and watch.refused is None
    assert watch.poll() is None  # the same state again: nothing new


def test_an_incompatible_version_is_refused_and_the_old_set_kept(folder, caplog):
    start = ContractSet(folder)
    watch = ContractWatch(start)
    next_version(folder, "tool_call", drop_phase)
    assert watch.poll() is None
    assert watch.current is start
    assert watch.refused == (
        "tool_call.v3.json is incompatible with v2: payload.phase: required field removed "
        "(a rename is a removal plus an addition) [removed_required]"
    )
    assert "contracts folder changed, not used" in caplog.text
    # fixing the file (a compatible v3 instead) is picked up at the next poll
    (folder / "tool_call.v3.json").unlink()
    next_version(folder, "tool_call", add_sentiment)
    fixed = watch.poll()
    assert fixed is not None and fixed.versions("tool_call") == [1, 2, 3]


def test_published_versions_are_immutable_and_the_published_one_is_kept(folder):
    published = ContractSet(folder).documents
    path = folder / "feedback.v2.json"
    doc = json.loads(path.read_text())
    add_sentiment(doc)
    path.write_text(json.dumps(doc))
    accepted, refused = accepted_set(folder, published)
    assert [str(r) for r in refused] == [
        "feedback.v2.json was changed; publish a new version instead"
    ]
    assert accepted.documents == published
    path.unlink()
    accepted, refused = accepted_set(folder, published)
    assert [str(r) for r in refused] == ["feedback.v2.json was removed; published contracts stay"]
    assert accepted.versions("feedback") == [1, 2] and accepted.documents == published


def test_at_start_each_new_version_is_checked_and_only_the_bad_one_left_out(folder):
    """No record of what was published (a new checkpoint): version against version."""
    next_version(folder, "tool_call", drop_phase)
    next_version(folder, "feedback", add_sentiment)
    (folder / "outcome.v3.json").write_text("{ not json")
    accepted, refused = accepted_set(folder)
    assert [str(r) for r in refused] == [
        "outcome.v3.json: not JSON (Expecting property name enclosed in double quotes: "
        "line 1 column 3 (char 2))",
        "tool_call.v3.json is incompatible with v2: payload.phase: required field removed "
        "(a rename is a removal plus an addition) [removed_required]",
    ]
    assert accepted.versions("feedback") == [1, 2, 3]
    assert accepted.versions("tool_call") == [1, 2]
    assert accepted.versions("outcome") == [1, 2]


def test_a_version_whose_types_cannot_share_the_table_is_refused(folder):
    """Each step compatible with the one before it (attempt removed, then back as a
    string), but v1's rows hold attempt as a bigint: v4 cannot join them in one table."""

    def drop_attempt(doc: dict) -> None:
        del doc["properties"]["attempt"]

    def attempt_as_text(doc: dict) -> None:
        doc["properties"]["attempt"] = {"type": ["string", "null"]}

    next_version(folder, "tool_call", drop_attempt)
    next_version(folder, "tool_call", attempt_as_text)
    accepted, refused = accepted_set(folder)
    assert [str(r) for r in refused] == [
        "tool_call.v4.json cannot share silver's columns with the other tool_call versions: "
        "payload.attempt: bigint and string cannot be merged [type_conflict]"
    ]
    assert accepted.versions("tool_call") == [1, 2, 3]


def test_a_file_that_does_not_parse_is_refused(folder):
    watch = ContractWatch(ContractSet(folder))
    (folder / "feedback.v3.json").write_text("{ not json")
    assert watch.poll() is None
    assert watch.refused.startswith("feedback.v3.json: not JSON")


def test_shipped_documents_rebuild_the_same_set(folder):
    cs = ContractSet(folder)
    next_version(folder, "feedback", add_sentiment)  # on disk, not in the shipped documents
    rebuilt = ContractSet(folder, cs.documents)
    assert rebuilt.fingerprint == cs.fingerprint
    assert rebuilt.versions("feedback") == [1, 2]
