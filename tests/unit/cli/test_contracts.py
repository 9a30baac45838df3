"""`afl contracts` and `afl produce --dry-run`: the registry as a person reads it, no broker."""

import json
from datetime import UTC, datetime

from pipelines.contracts.registry import all_contracts
from pipelines.producer.traffic import TrafficGenerator


def test_list_prints_each_version_with_its_topic_and_classified_fields(afl):
    ran = afl("contracts", "list")
    lines = ran.out.splitlines()
    assert ran.code == 0 and len(lines) == len(all_contracts())
    assert lines[4] == (
        "feedback         v1  agent.feedback.v1      payload.user_id=pii, "
        "payload.comment=user_text, payload.correction=user_text, payload.reviewer=pii"
    )
    assert lines[1] == "control          v1  agent.control.v1       -"


def test_check_needs_old_and_new_together(afl, tmp_path):
    old = tmp_path / "old.json"
    old.write_text("{}")
    ran = afl("contracts", "check", "--old", str(old))
    assert ran.code == 2
    assert ran.err_lines == ["afl: --old and --new go together (see 'afl contracts check --help')"]


def test_a_dry_run_counts_what_it_would_send_and_writes_the_manifest(afl, tmp_path):
    manifest = tmp_path / "m.json"
    ran = afl(
        "produce", "--dry-run", "--events", "300", "--seed", "7", "--bad-fraction", "0.05",
        "--end-time", "2026-11-20T12:00Z", "--manifest", str(manifest),
    )  # fmt: skip
    expected = TrafficGenerator(
        seed=7, events=300, end_time=datetime(2026, 11, 20, 12, tzinfo=UTC), bad_fraction=0.05
    )
    for _ in expected:
        pass
    assert ran.code == 0 and json.loads(manifest.read_text()) == expected.manifest.to_dict()
    assert "  feedback                25" in ran.out.splitlines()
    assert ran.out.splitlines()[-2:] == ["records sent: 300 (dry run)", f"manifest: {manifest}"]


def test_a_bad_fraction_above_one_is_a_usage_error(afl):
    ran = afl("produce", "--dry-run", "--bad-fraction", "1.5")
    assert ran.code == 2
    assert ran.err_lines == ["afl: bad_fraction must be within 0..1 (see 'afl produce --help')"]
