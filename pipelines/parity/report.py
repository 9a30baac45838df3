"""The daily parity report: one self-contained HTML file (charts inline) and a Markdown summary."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a display
import matplotlib.pyplot as plt
from jinja2 import Environment, FileSystemLoader, select_autoescape
from matplotlib.figure import Figure

from pipelines.parity.config import ParityConfig
from pipelines.parity.model import ParityReport, report_dir
from pipelines.settings import Settings

TEMPLATES = Path(__file__).with_name("templates")
COLORS = {"green": "#1a7f37", "yellow": "#bf8700", "red": "#cf222e"}
LEGACY_COLOR, STREAM_COLOR = "#8c959f", "#0969da"


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def mismatch_chart(report: ParityReport) -> str:
    columns = list(report.mismatches_by_column)
    values = [report.mismatches_by_column[c] for c in columns]
    fig, ax = plt.subplots(figsize=(6.5, 2.6))
    bars = ax.bar(columns, values, color=[COLORS["red"] if v else "#d0d7de" for v in values])
    ax.bar_label(bars, fontsize=8)
    ax.set_title("Value mismatches per column")
    ax.set_ylabel("rows")
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    ax.set_ylim(0, max([*values, 1]) * 1.25)
    return _png(fig)


def rating_chart(report: ParityReport) -> str:
    ratings = list(range(1, 6))
    fig, ax = plt.subplots(figsize=(6.5, 2.6))
    width = 0.38
    ax.bar([r - width / 2 for r in ratings], [report.rating_legacy[r] for r in ratings], width,
           label="legacy export", color=LEGACY_COLOR)  # fmt: skip
    ax.bar([r + width / 2 for r in ratings], [report.rating_stream[r] for r in ratings], width,
           label="stream (silver)", color=STREAM_COLOR)  # fmt: skip
    ax.set_xticks(ratings)
    ax.set_xlabel("rating")
    ax.set_ylabel("rows")
    ax.set_title("Rating histogram, both sides")
    ax.legend(fontsize=8)
    return _png(fig)


def _unit(seconds: list[float]) -> tuple[float, str]:
    """A unit that keeps the axis readable: seconds, minutes or hours."""
    top = max(seconds, default=0.0)
    if top < 120:
        return 1.0, "seconds"
    if top < 7200:
        return 60.0, "minutes"
    return 3600.0, "hours"


def lag_chart(report: ParityReport) -> str:
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 2.6))
    divisor, unit = _unit(report.stream_lag_sample)
    if report.stream_lag_sample:
        left.hist([s / divisor for s in report.stream_lag_sample], bins=30, color=STREAM_COLOR)
    left.set_title(f"stream: app change -> silver ({unit})")
    left.set_xlabel(unit)
    if report.legacy_lag_sample:
        right.hist(report.legacy_lag_sample, bins=30, color=LEGACY_COLOR)
    right.set_title("legacy: app change -> export (h)")
    right.set_xlabel("hours")
    return _png(fig)


def render_html(report: ParityReport, config: ParityConfig) -> str:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True)
    )
    charts = {
        "mismatch": mismatch_chart(report),
        "rating": rating_chart(report),
        "lag": lag_chart(report),
    }
    return env.get_template("parity.html.j2").render(
        r=report, charts=charts, config=config, color=COLORS[report.verdict], fmt=_fmt
    )


def render_markdown(report: ParityReport) -> str:
    lines = [
        f"# Feedback parity — {report.day}: **{report.verdict.upper()}**",
        "",
        report.explanation,
        "",
        f"- legacy rows: {report.legacy_rows:,}; stream rows: {report.stream_rows:,}",
        *[f"- {status}: {n:,}" for status, n in report.counts.items()],
        "- mismatches by column: "
        + (", ".join(f"{c} {n}" for c, n in report.mismatches_by_column.items() if n) or "none"),
        f"- schema differences: {'; '.join(report.schema_differences) or 'none'}",
        f"- stream freshness p95: {_fmt(report.freshness.get('stream_seconds_p95'))} s; "
        f"legacy p95: {_fmt(report.freshness.get('legacy_hours_p95'))} h",
    ]
    for status in ("missing_in_stream", "missing_in_legacy", "value_mismatch", "late"):
        keys = [e["key"] for e in report.examples.get(status, [])]
        if keys:
            lines.append(f"- {status} examples: {', '.join(keys)}")
    if report.cutover:
        now = report.cutover[-1]
        advice = f" — recommendation: **{now.recommendation}**" if now.recommendation else ""
        lines.append(f"- cutover: **{now.state}**{advice} ({now.reason})")
    return "\n".join(lines) + "\n"


def write_reports(
    report: ParityReport, config: ParityConfig, settings: Settings
) -> tuple[str, str]:
    folder = report_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    html_path = folder / f"{report.day}.html"
    md_path = folder / f"{report.day}.md"
    html_path.write_text(render_html(report, config))
    md_path.write_text(render_markdown(report))
    return str(html_path), str(md_path)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}"
