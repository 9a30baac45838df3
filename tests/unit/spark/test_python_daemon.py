"""Python workers start without Spark's archives on their import path (see python_daemon)."""

from __future__ import annotations

import sys
import zipimport

from pipelines.spark import python_daemon


def test_archives_leave_the_path_when_pyspark_imports_without_them(monkeypatch, tmp_path):
    archive = str(tmp_path / "pyspark.zip")
    jar = str(tmp_path / "spark-core_2.13-4.0.0.jar")
    path = [archive, jar, *sys.path]
    monkeypatch.setattr(sys, "path", path[:])
    monkeypatch.setattr(sys, "path_importer_cache", {archive: object(), "/kept": None})

    python_daemon.drop_archives()

    assert sys.path == [p for p in path if not p.endswith((".zip", ".jar"))]
    assert archive not in sys.path_importer_cache
    assert "/kept" in sys.path_importer_cache


def test_archives_stay_when_pyspark_is_only_in_them(monkeypatch, tmp_path):
    archive = str(tmp_path / "pyspark.zip")
    monkeypatch.setattr(sys, "path", [archive, str(tmp_path)])
    monkeypatch.setattr(python_daemon.importlib.util, "find_spec", lambda name: None)

    python_daemon.drop_archives()

    assert sys.path == [archive, str(tmp_path)]


def test_workers_and_driver_hold_no_archive_on_their_path(spark):
    def archives(_):  # runs in a Python worker
        import sys as worker_sys
        import zipimport as worker_zipimport

        on_path = [p for p in worker_sys.path if p.endswith((".zip", ".jar"))]
        cached = [
            k
            for k, v in worker_sys.path_importer_cache.items()
            if isinstance(v, worker_zipimport.zipimporter)
        ]
        return on_path + cached

    found = spark.sparkContext.parallelize([0, 1], 2).flatMap(archives).collect()

    assert found == []
    assert [p for p in sys.path if p.endswith(".jar")] == []
    assert not any(
        isinstance(v, zipimport.zipimporter) and k.endswith(".jar")
        for k, v in sys.path_importer_cache.items()
    )
