"""Browser-level: the Dagster webserver runs our definitions, launches a run, shows the graph."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from pipelines.legacy.app_db import engine_for
from pipelines.legacy.seed import seed_app_db
from tests.support.kafka import create_registry_topics, private_settings
from tests.support.services import ROOT, free_port

pytestmark = pytest.mark.e2e

GROUPS = ("ingest", "legacy", "parity", "gold", "evaluators")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--virtual-time-budget=20000",
]
LAUNCH = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename
  ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
STATUS = "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"


def graphql(url: str, query: str, variables: dict) -> dict:
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["data"]


@pytest.fixture
def webserver(kafka_broker, base_settings, tmp_path):
    settings = private_settings(
        base_settings,
        tmp_path,
        legacy_db_url=f"sqlite:///{tmp_path / 'app.db'}",
    )
    create_registry_topics(settings)
    seeded = seed_app_db(
        engine_for(settings.legacy_db_url),
        seed=2,
        events=1500,
        days_back=1,
        end_time=datetime(2026, 11, 20, tzinfo=UTC),
    )
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\nnux:\n  enabled: false\n"
        "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: DefaultRunCoordinator\n"
    )
    port = free_port()
    env = dict(
        os.environ,
        DAGSTER_HOME=str(home),
        AFL_LAKE_ROOT=settings.lake_root,
        AFL_CHECKPOINT_ROOT=settings.checkpoint_root,
        AFL_TOPIC_PREFIX=settings.topic_prefix,
        AFL_LEGACY_DB_URL=settings.legacy_db_url,
    )
    with open(tmp_path / "webserver.log", "wb") as log:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("dagster-webserver")),
                "-m",
                "dagster_project.definitions",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/server_info", timeout=2)
                break
            except OSError:
                time.sleep(1)
        else:
            raise AssertionError((tmp_path / "webserver.log").read_text()[-2000:])
        yield base, settings, seeded
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_launch_a_run_over_graphql_then_see_the_asset_graph(spark, webserver, tmp_path):
    base, settings, seeded = webserver
    params = {
        "selector": {
            "repositoryLocationName": "dagster_project.definitions",
            "repositoryName": "__repository__",
            "jobName": "__ASSET_JOB",
            "assetSelection": [{"path": ["legacy", "feedback_mirror"]}],
        }
    }
    launched = graphql(f"{base}/graphql", LAUNCH, {"p": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    status, deadline = "", time.monotonic() + 240
    while time.monotonic() < deadline and status not in ("SUCCESS", "FAILURE", "CANCELED"):
        time.sleep(2)
        status = graphql(f"{base}/graphql", STATUS, {"id": run_id})["runOrError"]["status"]
    assert status == "SUCCESS"
    watermark = spark.read.format("delta").load(settings.lake_path("ops", "mirror_watermark"))
    assert watermark.where(F.col("rows_published") > 0).first()["rows_published"] == seeded.rows

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is installed by `make test`'s setup"
    shots = ROOT / ".afl" / "test" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page = f"{base}/asset-groups"
    subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'chrome-a'}",
            "--window-size=1600,1000",
            f"--screenshot={shots / 'asset-graph.png'}",
            page,
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert (shots / "asset-graph.png").stat().st_size > 20_000
    dom = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chrome-b'}", "--dump-dom", page],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    for group in GROUPS:
        assert f">{group}<" in dom, group
