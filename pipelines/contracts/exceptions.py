from pipelines.errors import AflError


class ContractViolation(AflError):
    """An event does not follow its contract; ``field`` names where (dotted path)."""

    def __init__(self, field: str, message: str, event_type: str | None = None) -> None:
        self.field = field
        self.event_type = event_type
        self.reason = message
        what = f"{event_type} event" if event_type else "event"
        super().__init__(f"invalid {what}: {field}: {message}")


class ContractFileError(AflError):
    """A contract file is malformed or disagrees with its name."""
