from pipelines.errors import AflError


class ProducerError(AflError):
    """Base for producer SDK failures."""


class DeliveryError(ProducerError):
    """Kafka did not acknowledge one or more events within the delivery timeout."""

    def __init__(self, failed: int, last_error: str, bootstrap: str) -> None:
        self.failed = failed
        self.last_error = last_error
        super().__init__(
            f"{failed} event(s) were not delivered to Kafka at {bootstrap}: {last_error}"
        )


class BackpressureTimeout(ProducerError):
    """The bounded buffer stayed full longer than allowed: Kafka is not keeping up."""


class NoSessionError(ProducerError):
    """An action was tracked outside any agent session and without a session_id."""


class AgentPaused(ProducerError):
    """A tracked action refused to start: a control command pauses its agent or tenant."""
