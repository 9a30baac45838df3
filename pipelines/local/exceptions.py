from pipelines.errors import AflError


class BrokerError(AflError):
    """The local broker could not be resolved, started, or stopped."""
