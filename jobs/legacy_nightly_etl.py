"""The legacy nightly ETL: one day of the app database into legacy.feedback_export.

Locally:      afl legacy etl --date 2026-11-20
On a cluster: spark-submit --packages "$(afl spark packages)" jobs/legacy_nightly_etl.py 2026-11-20
"""

from __future__ import annotations

import argparse
from datetime import date

from pipelines.legacy.etl import EtlResult, run_nightly_etl
from pipelines.settings import Settings
from pipelines.spark.session import get_spark


def main(day: date) -> EtlResult:
    settings = Settings.from_env()
    return run_nightly_etl(get_spark(settings, app_name="afl-legacy-etl"), settings, day)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("date", type=date.fromisoformat)
    result = main(parser.parse_args().date)
    print(f"exported {result.rows} rows for {result.day} into {result.path}")
