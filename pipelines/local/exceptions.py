from pipelines.errors import AflError


class BrokerError(AflError):
    """The local broker could not be resolved, started, or stopped."""


class PostgresError(AflError):
    """The local PostgreSQL server could not be set up or started."""
