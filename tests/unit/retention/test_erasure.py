"""Subject erasure's pure parts: who the subject is in a raw record, how the ledger names
them, and what a general session or a blank id gets."""

import hashlib
import json

import pytest

from pipelines.errors import AflError
from pipelines.retention.erasure import (
    ErasureOptions,
    at_records,
    erase_subject,
    names_subject,
    pii_fields,
    subject_digest,
    subject_records,
)

SUBJECT = "user-4711"


def event(user_id=None, reviewer=None, tenant="acme", session="s-1", comment=None) -> bytes:
    payload = {"user_id": user_id, "reviewer": reviewer, "comment": comment}
    return json.dumps(
        {"event_id": "e", "tenant_id": tenant, "session_id": session,
         "payload": {k: v for k, v in payload.items() if v is not None}}
    ).encode()  # fmt: skip


def test_the_subject_is_named_in_any_field_the_contracts_call_pii():
    assert {"payload.user_id", "payload.reviewer"} <= set(pii_fields())
    assert all(not p.endswith("comment") for p in pii_fields())  # user text, not a subject


def test_a_raw_record_names_the_subject_by_pii_field_or_as_an_exact_json_string(spark):
    values = [
        (1, event(user_id=SUBJECT)),
        (2, event(reviewer=SUBJECT)),
        (3, event(user_id="user-47110")),  # another user whose id starts the same
        (4, event(user_id="u-2", comment=f'he said "{SUBJECT}" twice')),  # quoted in text
        (5, b'{"payload": {"user_id": "user-4711", "rating": '),  # not JSON: still named
        (6, event(user_id="u-3", session="s-9")),
        (7, event(user_id=SUBJECT, tenant="globex")),
        (8, b'{"payload": {"user_id": "user\\u002d4711"}}'),  # an escaped hyphen
    ]
    frame = spark.createDataFrame(values, "n int, value binary")

    def named(options):
        rows = frame.where(names_subject(frame["value"], options)).collect()
        return sorted(r["n"] for r in rows)

    assert named(ErasureOptions(SUBJECT)) == [1, 2, 5, 7, 8]
    # a tenant narrows it; a record whose tenant cannot be read is erased all the same
    assert named(ErasureOptions(SUBJECT, tenant_id="acme")) == [1, 2, 5, 8]


def test_the_subjects_records_include_every_event_of_their_sessions(spark):
    values = [
        ("t", 0, 0, event(user_id=SUBJECT, session="s-1")),
        ("t", 0, 1, event(session="s-1")),  # an interaction of their session
        ("t", 1, 0, event(session="s-1", tenant="globex")),  # same session id, other tenant
        ("t", 1, 1, event(user_id="u-2", session="s-2")),
    ]
    bronze = spark.createDataFrame(values, "topic string, partition int, offset long, value binary")
    found = subject_records(bronze, ErasureOptions(SUBJECT)).collect()
    assert sorted((r["topic"], r["partition"], r["offset"]) for r in found) == [
        ("t", 0, 0),
        ("t", 0, 1),
    ]


def test_rows_are_selected_by_their_kafka_records(spark):
    rows = spark.createDataFrame(
        [("a", 0, 5), ("a", 0, 6), ("a", 1, 5), ("b", 0, 5)], "t string, p int, o long"
    )
    chosen = rows.where(at_records([("a", 0, 6), ("b", 0, 5)], ("t", "p", "o"))).collect()
    assert sorted(tuple(r) for r in chosen) == [("a", 0, 6), ("b", 0, 5)]
    assert rows.where(at_records([], ("t", "p", "o"))).count() == 0


def test_the_ledger_names_the_subject_by_a_keyed_digest_not_the_lakes_hash(settings):
    digest = subject_digest(settings, ErasureOptions(SUBJECT))

    lake_hash = hashlib.sha256((settings.hash_salt + SUBJECT).encode()).hexdigest()
    assert len(digest) == 64 and digest != lake_hash
    assert SUBJECT not in digest
    assert digest != subject_digest(settings, ErasureOptions(SUBJECT, tenant_id="acme"))
    other_salt = settings.with_overrides(hash_salt="another-salt")
    assert digest != subject_digest(other_salt, ErasureOptions(SUBJECT))


def test_the_options_never_show_the_subject():
    options = ErasureOptions(SUBJECT, tenant_id="acme", dry_run=True)
    assert SUBJECT not in repr(options) and "acme" in repr(options)


def test_a_blank_subject_and_a_general_session_are_refused(settings):
    with pytest.raises(AflError, match=r"^erasure needs a non-blank --user-id$"):
        ErasureOptions("  ")
    with pytest.raises(AflError, match=r"^erasure searches and deletes in restricted tables"):
        general = settings.with_overrides(role="general")
        erase_subject(None, general, ErasureOptions(SUBJECT))
