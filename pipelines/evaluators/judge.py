"""Model-based evaluators: a judge behind an OpenAI-compatible chat-completions endpoint.

Optional at runtime: set AFL_JUDGE_URL (e.g. http://localhost:8000/v1) and AFL_JUDGE_MODEL;
AFL_JUDGE_API_KEY is sent as a bearer token when set. The judge must answer with a JSON
object ``{"score": <number>, "label": <string>, "explanation": <string>}``.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipelines.errors import AflError
from pipelines.evaluators.base import Evaluator
from pipelines.settings import REDACTED, redact_url

SYSTEM_PROMPT = (
    "You evaluate AI agent answers. Reply with one JSON object: "
    '{"score": <0..1>, "label": <short label>, "explanation": <one sentence>}.'
)


class JudgeError(AflError):
    """The judge endpoint failed after its retries, or answered something unusable."""


@dataclass(frozen=True)
class JudgeVerdict:
    score: float
    label: str
    explanation: str
    tokens: int


class JudgeClient:
    """A small OpenAI-compatible client: retries with exponential backoff, clear failures."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str = "",
        timeout_s: float = 30.0,
        max_retries: int = 3,
        backoff_s: float = 0.5,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s

    def __repr__(self) -> str:
        key = REDACTED if self.api_key else ""
        return f"JudgeClient(url={redact_url(self.url)!r}, model={self.model!r}, api_key={key!r})"

    def judge(self, prompt: str) -> JudgeVerdict:
        body = json.dumps(
            {
                "model": self.model,
                "temperature": 0,
                "response_format": {"type": "json_object"},
                "messages": [
                    {"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": prompt},
                ],
            }
        ).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last = ""
        for attempt in range(self.max_retries + 1):
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    answer = response.read()
                return _verdict(answer)
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code} from {redact_url(self.url)}"
                if exc.code < 500 and exc.code != 429:
                    raise JudgeError(last) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last = f"{redact_url(self.url)} unreachable: {getattr(exc, 'reason', exc)}"
            if attempt < self.max_retries:
                time.sleep(self.backoff_s * 2**attempt)
        raise JudgeError(f"the judge failed after {self.max_retries + 1} attempts: {last}")


def _verdict(body: bytes) -> JudgeVerdict:
    """The verdict in an answer's body; anything else (a proxy's HTML page, a reply that is
    not the JSON asked for) is a JudgeError saying what."""
    try:
        response: Mapping[str, Any] = json.loads(body)
        content = json.loads(response["choices"][0]["message"]["content"])
        return JudgeVerdict(
            score=float(content["score"]),
            label=str(content["label"]),
            explanation=str(content.get("explanation", "")),
            tokens=int((response.get("usage") or {}).get("total_tokens", 0)),
        )
    except (KeyError, IndexError, TypeError, ValueError, json.JSONDecodeError) as exc:
        raise JudgeError(f"the judge's answer is not the expected JSON: {exc}") from None


class JudgeEvaluator(Evaluator):
    """An evaluator whose verdicts come from a model. Units carry a ``prompt`` column."""

    prompt_template: ClassVar[str]
    reads_restricted: ClassVar[tuple[str, ...]] = ()
    expected_output_tokens: ClassVar[int] = 60

    @property
    def model_based(self) -> bool:
        return True

    def _hash_extras(self) -> list[str]:
        return [self.prompt_template, str(self.config.get("model", ""))]

    def evaluate(self, frames: Mapping[str, DataFrame]) -> DataFrame:
        raise AflError(f"{self.key} is model-based: run it through the backfill, not evaluate()")

    def units(self, frames: Mapping[str, DataFrame]) -> DataFrame:
        """Unit rows (UNIT_COLUMNS without score/label/explanation) plus ``prompt``."""
        raise NotImplementedError


class AnswerRelevance(JudgeEvaluator):
    """Does the model's answer address the user's question? Judged by a model, per turn."""

    name, version, unit_type = "answer_relevance", 1, "turn"
    reads = ("interaction",)
    reads_restricted = ("interaction",)
    prompt_template = (
        "Question from the user:\n{question}\n\nAnswer given by the agent:\n{answer}\n\n"
        "How relevant is the answer to the question?"
    )

    def units(self, frames: Mapping[str, DataFrame]) -> DataFrame:
        general = frames["interaction"]
        text = frames["interaction_restricted"].select("event_id", "text")
        rows = general.join(text, "event_id")
        by_turn = rows.groupBy(
            "turn_id", "event_date", "tenant_id", "agent_name", "agent_version", "session_id"
        ).agg(
            F.first("trace_id").alias("trace_id"),
            F.first(F.when(F.col("kind") == "user_message", F.col("text")), True).alias("question"),
            F.first(F.when(F.col("kind") == "model_response", F.col("text")), True).alias("answer"),
        )
        prompt = F.format_string(
            self.prompt_template.replace("{question}", "%s").replace("{answer}", "%s"),
            F.col("question"),
            F.col("answer"),
        )
        return by_turn.where(F.col("question").isNotNull() & F.col("answer").isNotNull()).select(
            F.col("turn_id").alias("unit_id"),
            "event_date",
            "tenant_id",
            "agent_name",
            "agent_version",
            "session_id",
            "trace_id",
            prompt.alias("prompt"),
        )
