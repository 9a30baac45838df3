from pipelines.errors import AflError

# Why a record cannot become a silver row. The producer SDK, the Python reference
# classifier and the Spark stream all use these words.
REJECTION_KINDS = (
    "oversized",
    "malformed_json",
    "not_an_object",
    "unknown_event_type",
    "wrong_topic",
    "unknown_schema_version",
    "missing_required",
    "wrong_type",
    "invalid_value",
    "schema_conflict",
)


class ContractViolation(AflError):
    """An event does not follow its contract; ``field`` names where (dotted path)."""

    def __init__(
        self,
        field: str,
        message: str,
        event_type: str | None = None,
        kind: str = "invalid_value",
    ) -> None:
        self.field = field
        self.event_type = event_type
        self.reason = message
        self.kind = kind
        what = f"{event_type} event" if event_type else "event"
        super().__init__(f"invalid {what}: {field}: {message}")


class ContractFileError(AflError):
    """A contract file is malformed or disagrees with its name."""
