"""The signal job's transform on a small batch: failing shares per tenant, tool and window;
events caused by a command never count."""

from datetime import datetime

from pipelines.signals.rules import load_rules
from pipelines.signals.windows import failing_shares

COLUMNS = "event_id string, tenant_id string, tool_name string, phase string, "
COLUMNS += "occurred_at timestamp, causation_id string"


def at(second: int) -> datetime:
    return datetime(2026, 12, 7, 12, 0, second)


def test_shares_per_tenant_tool_and_window_without_consequences_of_commands(spark):
    rule = load_rules()[0]  # 5-minute windows sliding every minute
    rows = [
        ("e1", "acme", "refund_api", "failed", at(1), None),
        ("e2", "acme", "refund_api", "failed", at(2), "trc-9"),  # caused by an event: counts
        ("e3", "acme", "refund_api", "completed", at(3), None),
        ("e4", "acme", "refund_api", "started", at(4), None),  # not finished: not counted
        ("e5", "acme", "refund_api", "failed", at(5), "ctl-1f0e"),  # caused by a command
        ("e6", "globex", "refund_api", "failed", at(6), None),
        ("e7", "acme", None, "failed", at(7), None),  # no target
    ]
    shares = failing_shares(spark.createDataFrame(rows, COLUMNS), rule)
    found = {
        (r["tenant_id"], r["target"], r["window_start"].minute): (
            r["events"], r["failures"], tuple(sorted(r["evidence"])),
        )
        for r in shares.collect()
    }  # fmt: skip
    # 12:00:0x lies in the five windows starting 11:56 .. 12:00
    assert {k[2] for k in found} == {56, 57, 58, 59, 0}
    assert {v for k, v in found.items() if k[0] == "acme"} == {(3, 2, ("e1", "e2"))}
    assert {v for k, v in found.items() if k[0] == "globex"} == {(1, 1, ("e6",))}
    assert len(found) == 10
