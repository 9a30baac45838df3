"""Evaluator backfills: one partition per (day, evaluator version); a re-run replaces it."""

import dagster as dg

from dagster_project import constants
from dagster_project.defs.ingest import SILVER_SPECS
from dagster_project.resources import LakehouseResource
from pipelines.evaluators.backfill import backfill
from pipelines.evaluators.compare import compare_versions
from pipelines.evaluators.registry import registered
from pipelines.spark.tables import EVALUATOR_COMPARISONS, EVALUATOR_SCORES

# Model-based judges need an endpoint and cost money: they run from the shell (afl evaluate).
EVALUATOR_VERSIONS = dg.StaticPartitionsDefinition(
    [e.key for e in registered() if not e.model_based]
)
EVALUATOR_PARTITIONS = dg.MultiPartitionsDefinition(
    {"date": constants.DAILY, "evaluator": EVALUATOR_VERSIONS}
)
COMPARED = [("helpfulness", 1, 2)]  # version pairs shown side by side


@dg.asset(
    key=constants.table_key(EVALUATOR_SCORES),
    group_name=constants.EVALUATORS,
    partitions_def=EVALUATOR_PARTITIONS,
    deps=list(SILVER_SPECS),
)
def evaluator_scores(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """One evaluator version's labels and scores for one day, with lineage to silver."""
    keys = context.partition_key.keys_by_dimension
    day = constants.partition_day(keys["date"])
    result = backfill(lakehouse.spark(), lakehouse.settings(), keys["evaluator"], day, day)
    [done] = result.days
    return dg.MaterializeResult(
        metadata={
            "units": dg.MetadataValue.int(done.units),
            "code_hash": dg.MetadataValue.text(result.code_hash),
            "run_id": dg.MetadataValue.text(result.run_id),
            "silver_versions": dg.MetadataValue.json(done.silver_versions),
        }
    )


@dg.asset(
    key=constants.table_key(EVALUATOR_COMPARISONS),
    group_name=constants.EVALUATORS,
    partitions_def=constants.DAILY,
    ins={
        "scores": dg.AssetIn(
            key=evaluator_scores.key,
            partition_mapping=dg.MultiToSingleDimensionPartitionMapping(
                partition_dimension_name="date"
            ),
            dagster_type=dg.Nothing,
        )
    },
)
def evaluator_comparisons(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Per day, how many units changed label between two evaluator versions, with examples."""
    day = constants.partition_day(context.partition_key)
    metadata: dict[str, dg.MetadataValue] = {}
    for name, a, b in COMPARED:
        c = compare_versions(lakehouse.spark(), lakehouse.settings(), name, a, b, day)
        metadata[f"{name}_v{a}_v{b}_changed"] = dg.MetadataValue.int(c.changed)
        metadata[f"{name}_v{a}_v{b}_compared"] = dg.MetadataValue.int(c.units_compared)
        metadata[f"{name}_v{a}_v{b}_examples"] = dg.MetadataValue.md(
            "\n".join(f"- `{e['unit_id']}`: {e['a_label']} -> {e['b_label']}" for e in c.examples)
            or "none"
        )
    return dg.MaterializeResult(metadata=metadata)
