"""What the generated traffic is made of: tenants, agents, models and their prices, policies,
tool errors and the words users leave behind.

Plain data, no randomness: the turn builder draws from these with the generator's rng.
Sessions pick agents and models by sorted name, so adding one changes every seed's output.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelPrice:
    """A model's list price in USD per million tokens."""

    input_per_million: float
    output_per_million: float

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float:
        """A call's cost, rounded to millionths of a dollar as the outcome reports it."""
        spent = input_tokens * self.input_per_million + output_tokens * self.output_per_million
        return round(spent / 1e6, 6)


@dataclass(frozen=True)
class AgentProfile:
    """One agent deployment: its older and newer version and prompt, what it can call, the
    action a turn performs and the questions users ask it (``{n}`` is a random number)."""

    name: str
    versions: tuple[str, str]
    prompts: tuple[str, str]
    tools: tuple[str, ...]
    action: str
    topics: tuple[str, ...]


TENANTS = ("acme", "globex", "initech", "umbrella")
DEFAULT_MODEL = "gpt-4.1-mini"
MODELS = {
    "gpt-4.1-mini": ModelPrice(0.40, 1.60),
    "claude-haiku-4": ModelPrice(0.80, 4.00),
    "llama-3.3-70b": ModelPrice(0.20, 0.60),
}
AGENTS = {
    agent.name: agent
    for agent in (
        AgentProfile(
            name="support-bot",
            versions=("2.3.0", "2.4.0"),
            prompts=("support-p41", "support-p42"),
            tools=("search_kb", "lookup_order", "create_ticket", "refund_payment"),
            action="resolve_support_request",
            topics=(
                "my order {n} has not arrived",
                "how do I reset my password",
                "I was charged twice for order {n}",
                "can I return item {n}",
            ),
        ),
        AgentProfile(
            name="sales-assistant",
            versions=("1.8.1", "1.9.0"),
            prompts=("sales-p12", "sales-p13"),
            tools=("crm_lookup", "price_quote", "schedule_demo"),
            action="answer_sales_question",
            topics=(
                "what does the enterprise plan cost for {n} seats",
                "do you integrate with our CRM",
                "book a demo for next week",
            ),
        ),
        AgentProfile(
            name="code-helper",
            versions=("0.9.4", "1.0.0"),
            prompts=("code-p7", "code-p8"),
            tools=("repo_search", "run_tests", "open_pull_request"),
            action="assist_code_change",
            topics=(
                "why does test_{n} fail",
                "refactor the payment module",
                "add retries to the http client",
            ),
        ),
        AgentProfile(
            name="billing-agent",
            versions=("3.1.0", "3.2.0"),
            prompts=("billing-p3", "billing-p4"),
            tools=("get_invoice", "apply_credit", "update_card"),
            action="handle_billing_request",
            topics=(
                "send me invoice {n}",
                "apply my credit to invoice {n}",
                "update my card on file",
            ),
        ),
    )
}
POLICIES = (
    ("pii-001", "pii_detector"),
    ("tox-002", "toxicity"),
    ("inj-003", "prompt_injection"),
    ("top-004", "off_topic"),
)
TOOL_ERRORS = (
    ("TimeoutError", "tool did not answer within 10s"),
    ("HTTPError", "upstream returned 502 Bad Gateway"),
    ("RateLimited", "429 Too Many Requests"),
)
ESCALATION_REASONS = ("tool_failure", "user_request", "policy_flag", "low_confidence")
COMMENTS = (
    "that fixed it, thanks",
    "not what I asked",
    "too slow",
    "wrong order number",
    "great answer",
    "it ignored my question",
)
