"""Legal holds: read from a reviewed YAML file, one line when it is wrong, and the rows they
keep in tables with and without sessions."""

import pytest

from pipelines.errors import AflError
from pipelines.retention.holds import LegalHold, held_record, load_holds, under_hold

HOLDS = """\
holds:
  - tenant_id: acme
    reason: litigation 2026-114
  - tenant_id: globex
    session_id: ses-42
    reason: regulator request R-77
"""


def test_holds_are_read_with_their_reasons(tmp_path):
    path = tmp_path / "holds.yml"
    path.write_text(HOLDS)
    assert load_holds(str(path)) == (
        LegalHold("acme", "litigation 2026-114"),
        LegalHold("globex", "regulator request R-77", "ses-42"),
    )
    assert load_holds("") == ()


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("holds: {tenant_id: acme}", "expected a list under 'holds'"),
        ("holds:\n  - tenant_id: acme\n", "hold 1 needs a tenant_id and a reason"),
        ("holds:\n  - {tenant_id: a, reason: r, user: u}\n", "hold 1: unknown key(s) ['user']"),
    ],
)
def test_a_malformed_file_is_one_line_naming_the_hold(tmp_path, text, why):
    path = tmp_path / "holds.yml"
    path.write_text(text)
    with pytest.raises(AflError) as refused:
        load_holds(str(path))
    assert str(refused.value) == f"legal holds file {path}: {why}"
    with pytest.raises(AflError) as missing:
        load_holds(str(tmp_path / "nope.yml"))
    assert str(missing.value) == (
        f"legal holds file not found: {tmp_path / 'nope.yml'} (AFL_LEGAL_HOLDS)"
    )


def test_a_hold_keeps_its_tenant_or_session_and_a_table_without_sessions_keeps_the_tenant(
    spark, tmp_path
):
    path = tmp_path / "holds.yml"
    path.write_text(HOLDS)
    holds = load_holds(str(path))
    rows = spark.createDataFrame(
        [
            ("acme", "s1"),
            ("globex", "ses-42"),
            ("globex", "ses-7"),
            ("initech", "s2"),
            (None, None),
        ],
        "tenant_id string, session_id string",
    )
    kept = rows.where(under_hold(holds, {"tenant_id", "session_id"})).collect()
    assert sorted(tuple(r) for r in kept) == [("acme", "s1"), ("globex", "ses-42")]
    tenants_only = rows.select("tenant_id").where(under_hold(holds, {"tenant_id"})).collect()
    assert sorted(r[0] for r in tenants_only) == ["acme", "globex", "globex"]
    assert rows.where(under_hold((), {"tenant_id"})).count() == 0


def test_a_raw_record_is_held_by_the_tenant_and_session_in_its_json(spark):
    holds = (LegalHold("acme", "litigation"), LegalHold("globex", "regulator", "ses-42"))
    values = [
        (1, b'{"tenant_id": "acme", "session_id": "s-1"}'),
        (2, b'{"tenant_id": "globex", "session_id": "ses-42"}'),
        (3, b'{"tenant_id": "globex", "session_id": "ses-7"}'),
        (4, b'{"tenant_id": "initech"}'),
        (5, b'{"tenant_id": "acme", "payload": '),  # not JSON: nobody's to hold
        (6, None),
    ]
    frame = spark.createDataFrame(values, "n int, value binary")
    kept = frame.where(held_record(holds, frame["value"])).select("n").collect()
    assert sorted(r["n"] for r in kept) == [1, 2]
    assert frame.where(held_record((), frame["value"])).count() == 0
