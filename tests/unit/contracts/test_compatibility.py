import copy
import json
import subprocess

from pipelines.contracts.compatibility import check_registry, compare_schemas, is_compatible
from pipelines.contracts.registry import get_contract
from tests import AFL

OLD = get_contract("outcome", 1).payload_schema


def _changed(edit) -> list:
    new = copy.deepcopy(dict(OLD))
    edit(new)
    return compare_schemas(OLD, new)


def test_adding_an_optional_field_is_compatible():
    changes = _changed(lambda s: s["properties"].update(region={"type": ["string", "null"]}))
    assert [(c.field, c.kind, c.compatible) for c in changes] == [
        ("payload.region", "added_optional", True)
    ]


def test_removing_a_required_field_is_rejected_by_name():
    def edit(s):
        del s["properties"]["action_id"]
        s["required"].remove("action_id")

    changes = _changed(edit)
    assert not is_compatible(changes)
    assert [(c.field, c.kind) for c in changes] == [("payload.action_id", "removed_required")]


def test_renaming_a_required_field_is_rejected_and_names_the_old_field():
    def edit(s):
        s["properties"]["action_key"] = s["properties"].pop("action_id")
        s["required"] = ["action_key" if r == "action_id" else r for r in s["required"]]

    changes = _changed(edit)
    assert {(c.field, c.kind, c.compatible) for c in changes} == {
        ("payload.action_id", "removed_required", False),
        ("payload.action_key", "added_required", False),
    }


def test_type_changes_safe_widening_ok_narrowing_rejected():
    changes = _changed(lambda s: s["properties"].update(
        total_tokens={"type": ["number", "null"]}, retry_count={"type": ["string", "null"]}
    ))  # fmt: skip
    by_field = {c.field: c for c in changes}
    assert by_field["payload.total_tokens"].compatible
    assert not by_field["payload.retry_count"].compatible
    assert "from integer to string" in by_field["payload.retry_count"].message


def test_the_registry_versions_are_compatible():
    results = check_registry()
    assert len(results) == 6
    assert all(is_compatible(changes) for _, _, _, changes in results)


def test_cli_rejects_an_incompatible_proposal_naming_the_field(tmp_path):
    new = copy.deepcopy(dict(OLD))
    new["properties"]["severity"] = {"type": "integer"}
    (tmp_path / "old.json").write_text(json.dumps(OLD))
    (tmp_path / "new.json").write_text(json.dumps(new))
    done = subprocess.run(
        [AFL, "contracts", "check", "--old", str(tmp_path / "old.json"),
         "--new", str(tmp_path / "new.json")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 1
    assert "INCOMPATIBLE payload.severity: type changed from string to integer" in done.stdout
    assert done.stderr.strip() == "afl: 1 incompatible contract change(s); see above"
    ok = subprocess.run([AFL, "contracts", "check"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.count(": compatible") == 6
