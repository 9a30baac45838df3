"""`make demo`'s story on a test lake, and the SQL notebooks run top to bottom against it."""

from pathlib import Path

import nbformat
import papermill
import pytest

from pipelines.demo import run_demo
from tests.support.kafka import private_settings
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
