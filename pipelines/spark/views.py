"""Observability-shaped views over the lake: traces, observations and scores.

Agent teams know this shape from LLM observability tools: one *trace* per session turn,
*observations* inside it (retrievals, tool calls, model responses, policy checks) and
*scores* about it (user feedback, evaluator labels). The views read only general tables,
so they carry hashes, never raw user text.
"""

from __future__ import annotations

from pyspark.sql import SparkSession

# Outcome statuses and severities from the best to the worst (the outcome contract's enums).
STATUS_ORDER = ("SUCCESS", "PENDING", "PARTIAL", "CANCELLED", "TIMEOUT", "FAILURE")
SEVERITY_ORDER = ("INFO", "WARNING", "ERROR", "CRITICAL")


def _worst(column: str, order: tuple[str, ...]) -> str:
    """SQL for the worst value of ``column`` in a group, by ``order`` (not alphabetically)."""
    ranks = "array(" + ", ".join(f"'{v}'" for v in order) + ")"
    rank = f"max(array_position({ranks}, {column}))"
    return f"CASE WHEN {rank} > 0 THEN element_at({ranks}, CAST({rank} AS INT)) END"


VIEWS: dict[str, tuple[tuple[str, ...], str]] = {
    "observability.traces": (
        ("silver.interactions", "silver.outcomes"),
        # A turn can have several outcomes (one per tracked action): its status and
        # severity are the worst of them, its duration, tokens and cost their sums; the
        # outcomes are reduced per trace before the join so no interaction multiplies them.
        f"""
        WITH o AS (
            SELECT trace_id, count(*) AS actions,
                   {_worst("status", STATUS_ORDER)} AS status,
                   {_worst("severity", SEVERITY_ORDER)} AS severity,
                   sum(duration_ms) AS duration_ms, sum(total_tokens) AS total_tokens,
                   sum(cost_usd) AS cost_usd
            FROM silver.outcomes GROUP BY trace_id
        )
        SELECT i.trace_id, i.session_id, i.tenant_id, i.agent_name, i.agent_version,
               i.prompt_version, i.model, i.turn_id,
               min(i.occurred_at) AS started_at, max(i.occurred_at) AS last_event_at,
               max(CASE WHEN i.kind = 'user_message' THEN i.text_hash END) AS input_hash,
               max(CASE WHEN i.kind = 'model_response' THEN i.text_hash END) AS output_hash,
               coalesce(max(o.actions), 0) AS actions,
               max(o.status) AS status, max(o.severity) AS severity,
               max(o.duration_ms) AS duration_ms, max(o.total_tokens) AS total_tokens,
               max(o.cost_usd) AS cost_usd, max(i.event_date) AS event_date
        FROM silver.interactions i
        LEFT JOIN o ON o.trace_id = i.trace_id
        GROUP BY i.trace_id, i.session_id, i.tenant_id, i.agent_name, i.agent_version,
                 i.prompt_version, i.model, i.turn_id
        """,
    ),
    "observability.observations": (
        ("silver.interactions", "silver.tool_calls", "silver.policy_decisions"),
        """
        SELECT event_id AS observation_id, trace_id, session_id, tenant_id, occurred_at,
               CASE kind WHEN 'model_response' THEN 'generation' WHEN 'retrieval' THEN 'retrieval'
                         ELSE 'message' END AS type,
               kind AS name, model, latency_ms, input_tokens, output_tokens,
               NULL AS status, text_hash AS content_hash, event_date
        FROM silver.interactions
        UNION ALL
        SELECT event_id, trace_id, session_id, tenant_id, occurred_at, 'tool' AS type,
               tool_name AS name, model, latency_ms, NULL, NULL,
               concat(phase, coalesce(concat(': ', error_type), '')) AS status, NULL, event_date
        FROM silver.tool_calls
        UNION ALL
        SELECT event_id, trace_id, session_id, tenant_id, occurred_at, 'guardrail' AS type,
               policy_name AS name, model, NULL, NULL, NULL, decision AS status, NULL, event_date
        FROM silver.policy_decisions
        """,
    ),
    "observability.scores": (
        ("silver.feedback", "gold.evaluator_scores"),
        """
        SELECT trace_id, session_id, tenant_id, occurred_at AS scored_at,
               concat('user_', feedback_kind) AS name, 'user' AS source,
               CASE WHEN rating IS NOT NULL THEN (rating - 1) / 4.0
                    WHEN thumbs = 'up' THEN 1.0 WHEN thumbs = 'down' THEN 0.0 END AS value,
               coalesce(thumbs, CAST(rating AS STRING), feedback_kind) AS label,
               comment_hash AS comment_hash, event_date
        FROM silver.feedback WHERE trace_id IS NOT NULL AND source <> 'legacy_mirror'
        UNION ALL
        SELECT trace_id, session_id, tenant_id, evaluated_at,
               concat(evaluator, '@', evaluator_version), 'evaluator', score, label, NULL,
               event_date
        FROM gold.evaluator_scores
        """,
    ),
}


def register_views(spark: SparkSession) -> list[str]:
    """Create the views whose tables are registered in this session; their names."""
    made = []
    for name, (needs, body) in VIEWS.items():
        if all(spark.catalog.tableExists(t) for t in needs):
            spark.sql(f"CREATE DATABASE IF NOT EXISTS {name.split('.')[0]}")
            spark.sql(f"CREATE OR REPLACE VIEW {name} AS {body}")
            made.append(name)
    return made
