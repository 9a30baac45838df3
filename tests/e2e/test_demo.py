"""`make demo`'s story on a test lake, and the SQL notebooks run top to bottom against it."""

import hashlib
from functools import reduce
from pathlib import Path

import nbformat
import papermill
import pytest
from pyspark.sql import functions as F

from pipelines.demo import run_demo
from pipelines.retention.erasure import ErasureOptions, erase_subject
from pipelines.spark.tables import ERASURES, all_specs, read_table, register_existing, spec_for
from pipelines.spark.views import register_views
from tests.support.kafka import private_settings
from tests.support.lake import assert_lake_exact
from tests.support.services import ROOT

pytestmark = pytest.mark.e2e

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def demo_lake(kafka_broker, base_settings, tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    settings = private_settings(
        base_settings,
        root,
        reports_dir=str(root / "reports"),
        legacy_db_url=f"sqlite:///{root / 'app.db'}",
    )
    lines: list[str] = []
    run_demo(settings, events=6000, progress=lines.append)
    return settings, lines


def test_the_demo_tells_the_whole_story(demo_lake):
    settings, lines = demo_lake
    steps = [line for line in lines if line.startswith("[")]
    assert [s.split("]")[0] + "]" for s in steps] == [f"[{i}/10]" for i in range(1, 11)]
    verdicts = [line for line in lines if ": GREEN: " in line]
    assert len(verdicts) == 3  # every compared day is green on clean data
    assert any(line.startswith("  cutover: promote") for line in lines)
    reports = sorted((Path(settings.reports_dir) / "parity").glob("*.html"))
    assert len(reports) == 3 and all("GREEN" in r.read_text() for r in reports)
    quality = [
        line for line in lines if line.startswith(("  silver.", "  gold.")) and " rows  " in line
    ]
    assert len(quality) == 7 and all(line.rstrip().endswith("passed") for line in quality)
    assert any(line.startswith("Done in") for line in lines)
    assert any("dagster dev -m dagster_project.definitions" in line for line in lines)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebooks_run_top_to_bottom(demo_lake, notebook, tmp_path, monkeypatch):
    settings, _ = demo_lake
    for name, value in (
        ("AFL_LAKE_ROOT", settings.lake_root),
        ("AFL_HOME", settings.home),
        ("AFL_TOPIC_PREFIX", settings.topic_prefix),
    ):
        monkeypatch.setenv(name, value)
    if notebook.stem.startswith(("02", "03")):  # they read raw text: the restricted role's
        monkeypatch.setenv("AFL_ROLE", "restricted")
    out = tmp_path / notebook.name
    papermill.execute_notebook(
        str(notebook), str(out), kernel_name="python3", cwd=str(ROOT), progress_bar=False
    )  # raises if a cell fails
    executed = nbformat.read(out, as_version=4)
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code)
    text = "\n".join(o.get("text", "") for c in code for o in c.get("outputs", []))
    tables = [o for c in code for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    assert len(tables) >= 3  # the SQL cells returned data frames
    if notebook.stem.startswith("02"):
        assert "trace trc-" in text
    if notebook.stem.startswith("03"):
        assert "GREEN:" in text and "following a matched key: FB-" in text


def _restricted_values(spark, settings) -> list[str]:
    """Every raw user text and PII value the restricted tables hold (8 characters or more:
    shorter ones, like "ok", also occur as ordinary words)."""
    values = set()
    for spec in all_specs():
        columns = spec.properties.get("afl.classified_columns", "")
        if spec.qualified_name == "legacy.feedback_export":
            columns = "user_id,comment"
        if not spec.restricted or not columns:
            continue
        frame = read_table(spark, settings, spec)
        if frame is None:  # no record of that type in the demo (commands, approvals)
            continue
        for column in columns.split(","):
            values |= {
                r[0]
                for r in frame.select(F.col(column).cast("string")).distinct().collect()
                if r[0] and len(r[0]) >= 8
            }
    return sorted(values)


def test_no_restricted_value_reaches_a_general_table_view_or_report(spark, demo_lake):
    settings, _ = demo_lake
    values = _restricted_values(spark, settings)
    assert len(values) > 500  # user ids, comments, corrections, the agents' conversations
    raw = spark.createDataFrame([(v,) for v in values], "cell string")
    cells = []
    for spec in all_specs():
        if spec.restricted:
            continue
        frame = read_table(spark, settings, spec)
        if frame is None:  # not written by the demo
            continue
        strings = [f.name for f in frame.schema if f.dataType.simpleString() == "string"]
        if strings:
            cells.append(
                frame.select(
                    F.lit(spec.qualified_name).alias("table"),
                    F.explode(F.array(*[F.col(c) for c in strings])).alias("cell"),
                )
            )
    general = cells[0]
    for frame in cells[1:]:
        general = general.unionByName(frame)
    leaked = general.join(raw, "cell").groupBy("table").count().collect()
    assert {r["table"]: r["count"] for r in leaked} == {}
    # the views a general session gets, and every report a person reads
    for view in register_views(spark):
        frame = spark.table(view)
        strings = [f.name for f in frame.schema if f.dataType.simpleString() == "string"]
        found = frame.select(F.explode(F.array(*strings)).alias("cell")).join(raw, "cell")
        assert found.count() == 0, view
    long_values = [v for v in values if len(v) >= 12]
    for report in Path(settings.reports_dir).rglob("*"):
        if report.is_file() and report.suffix in (".html", ".md", ".json"):
            text = report.read_text()
            assert [v for v in long_values if v in text] == [], report


def _subject_traces(spark, settings, values: list[str], ledgers: bool = True) -> dict[str, int]:
    """Rows of every table and view holding any of ``values`` in any column (raw bytes as
    text), and report files naming one; ``ledgers=False`` leaves the ops tables out."""
    found: dict[str, int] = {}

    def hits(frame) -> int:
        columns = [F.col(f"`{c}`").cast("string") for c in frame.columns if c != "headers"]
        text = F.concat_ws("|", *columns)
        return frame.where(reduce(lambda a, b: a | b, [text.contains(v) for v in values])).count()

    for spec in all_specs():
        table = read_table(spark, settings, spec)
        if table is not None and (ledgers or spec.database != "ops") and (n := hits(table)):
            found[spec.qualified_name] = n
    for view in register_views(spark):
        if n := hits(spark.table(view)):
            found[view] = n
    for report in Path(settings.reports_dir).rglob("*"):
        if report.is_file() and any(v in report.read_text(errors="replace") for v in values):
            found[str(report)] = 1
    return found


def test_an_erased_user_leaves_no_trace_in_the_demo_lake(spark, demo_lake):
    """Last in this module: it changes the lake the tests above read."""
    settings = demo_lake[0].with_overrides(role="restricted")
    register_existing(spark, settings)
    feedback = read_table(spark, settings, spec_for("silver.feedback_restricted"))
    top = feedback.groupBy("user_id").count().orderBy(F.desc("count"), "user_id").first()
    subject = top["user_id"]
    # the generator's comments are templates many users share: the subject's own records
    # are found by their event ids instead (the erasure ledger names those, by design)
    events = [r["event_id"] for r in feedback.where(F.col("user_id") == subject).collect()]
    lake_hash = hashlib.sha256((settings.hash_salt + subject).encode()).hexdigest()
    traces = _subject_traces(spark, settings, [subject, lake_hash])
    assert traces["silver.feedback_restricted"] == traces["silver.feedback"] == top["count"] >= 2
    assert "bronze.agent_events" in traces and "legacy.feedback_export" in traces, traces
    assert _subject_traces(spark, settings, events, ledgers=False)["silver.feedback"] == len(events)
    before = {
        s.qualified_name: t.count()
        for s in all_specs()
        if s.database != "ops" and (t := read_table(spark, settings, s)) is not None
    }

    report = erase_subject(spark, settings, ErasureOptions(subject))

    assert report.remaining == 0 and report.deleted >= 2 * top["count"]
    assert _subject_traces(spark, settings, [subject, lake_hash]) == {}
    assert _subject_traces(spark, settings, events, ledgers=False) == {}
    deleted = {t.table: t.deleted for t in report.tables}
    after = {
        s.qualified_name: t.count()
        for s in all_specs()
        if s.database != "ops" and (t := read_table(spark, settings, s)) is not None
    }
    # everybody else's rows are all there: each table lost exactly what the report says
    assert {n: before[n] - deleted.get(n, 0) for n in before} == after
    assert_lake_exact(spark, settings)
    ledger = read_table(spark, settings, ERASURES)
    assert ledger.where(F.col("erasure_id") == report.erasure_id).count() == len(report.tables)
