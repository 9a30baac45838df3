"""The one settings object: environment variables with local defaults.

Every job, CLI command, Dagster resource and test reads its configuration from here.
Local defaults keep all state under one ignored folder in the checkout (``.afl/``);
on a cluster, point ``AFL_LAKE_ROOT`` and ``AFL_CHECKPOINT_ROOT`` at an object store
(``s3a://bucket/lake``) and ``AFL_KAFKA_BOOTSTRAP_SERVERS`` at the Kafka cluster.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from pipelines.errors import SettingsError

ENV_PREFIX = "AFL_"
# Public, so only for lakes on this machine: a lake elsewhere must bring its own salt.
DEFAULT_HASH_SALT = "afl-local-salt"
# Shown as "<redacted>" by repr; each can be read from a file too (AFL_<NAME>_FILE).
SECRET_SETTINGS = ("hash_salt", "judge_api_key")
REDACTED = "<redacted>"
# Who a session acts as: general sessions see general tables only.
ROLES = ("general", "restricted")


def checkout_root() -> Path | None:
    """The source checkout this package runs from, or None when installed elsewhere."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


def _default_state_dir() -> Path:
    root = checkout_root()
    return (root / ".afl") if root else (Path.home() / ".afl")


def join_uri(root: str, *parts: str) -> str:
    """Join a local path or an object-store URI (s3a://, abfss://) with sub-paths."""
    return "/".join([root.rstrip("/"), *(p.strip("/") for p in parts if p)])


@dataclass(frozen=True)
class Settings:
    """Where state lives and how to reach the services; see ``from_env`` for variables."""

    home: str
    cache_dir: str
    lake_root: str
    checkpoint_root: str
    kafka_bootstrap_servers: str
    kafka_controller_port: int
    legacy_db_url: str
    spark_master: str
    spark_shuffle_partitions: int
    spark_driver_memory: str
    spark_ivy_settings: str
    topic_prefix: str
    hash_salt: str
    reports_dir: str
    parity_config: str
    expectations_dir: str
    judge_url: str
    judge_model: str
    judge_api_key: str
    freshness_max_minutes: int
    dedup_horizon_minutes: int
    dedup_clock_skew_minutes: int
    stream_lease_seconds: int
    metrics_port: int
    restricted_root: str = ""  # empty: "<lake_root>_restricted"
    role: str = "general"
    legal_holds: str = ""
    signal_rules: str = ""  # empty: the rules shipped in pipelines/signals/rules.yml

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise SettingsError(f"AFL_ROLE must be one of {', '.join(ROLES)}, got {self.role!r}")
        if self.hash_salt == DEFAULT_HASH_SALT and not is_local(self.lake_root):
            raise SettingsError(
                f"AFL_HASH_SALT is the public default, refused for the lake at {self.lake_root}: "
                "set AFL_HASH_SALT or AFL_HASH_SALT_FILE to a secret of the lake's own"
            )

    def __repr__(self) -> str:
        """Every field, with secrets and the password of a database URL redacted."""
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_SETTINGS and value:
                value = REDACTED
            elif isinstance(value, str):
                value = redact_url(value)
            shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``AFL_*`` variables; anything unset takes its local default.

        AFL_HOME                      local state: broker data, lake, checkpoints (.afl/)
        AFL_CACHE_DIR                 downloads shared by every home: Ivy, Maven, pip
        AFL_LAKE_ROOT                 Delta tables root, a path or s3a:// / abfss:// URI
        AFL_RESTRICTED_ROOT           root of the tables holding raw user text and PII
                                      (restricted companions, quarantine, the legacy
                                      export), guarded by its own storage permissions;
                                      default: <AFL_LAKE_ROOT>_restricted
        AFL_ROLE                      general (default): sessions see general tables only;
                                      restricted: the restricted tables are registered too
        AFL_CHECKPOINT_ROOT           streaming checkpoints root, same forms
        AFL_KAFKA_BOOTSTRAP_SERVERS   host:port[,host:port]
        AFL_KAFKA_CONTROLLER_PORT     KRaft controller port of the local broker
        AFL_LEGACY_DB_URL             sqlite:///path or postgresql://user@host:port/db
        AFL_SPARK_MASTER              local[2] by default; ignored under spark-submit
        AFL_SPARK_SHUFFLE_PARTITIONS  few on one machine, more on a cluster
        AFL_SPARK_DRIVER_MEMORY       local driver heap
        AFL_SPARK_IVY_SETTINGS        an Ivy settings file (e.g. an in-house mirror)
        AFL_TOPIC_PREFIX              prepended to every topic name (environments, tests)
        AFL_CONTRACTS_DIR             event contracts folder (default: the ones shipped);
                                      read by pipelines.contracts.registry on every event
        AFL_HASH_SALT                 salt for hashing PII and user text in general tables
                                      (the default is public: refused for a lake that is
                                      not on this machine)
        AFL_REPORTS_DIR               where parity reports are written (local folder)
        AFL_PARITY_CONFIG             parity rules and thresholds (YAML; default: shipped)
        AFL_EXPECTATIONS_DIR          Great Expectations suites (default: <checkout>/expectations)
        AFL_JUDGE_URL                 OpenAI-compatible endpoint for model-based evaluators
        AFL_JUDGE_MODEL               the judge's model name; AFL_JUDGE_API_KEY its bearer token
        AFL_HASH_SALT_FILE, AFL_JUDGE_API_KEY_FILE
                                      the same secrets read from a file (mounted secrets);
                                      a variable and its file together are refused
        AFL_FRESHNESS_MAX_MINUTES     silver older than this fails its freshness check
        AFL_DEDUP_HORIZON_MINUTES     a copy of an event arriving within this long of the
                                      first is caught whatever it carries (see
                                      docs/architecture.md, "Exactly-once")
        AFL_DEDUP_CLOCK_SKEW_MINUTES  how far a producer's clock may run ahead of ours
        AFL_STREAM_LEASE_SECONDS      a stream's checkpoint lease expires this long after
                                      its holder's last heartbeat (then another may take it)
        AFL_METRICS_PORT              the stream's Prometheus endpoint (0: off)
        AFL_LEGAL_HOLDS               a YAML file of legal holds retention must honour
                                      (see pipelines/retention/holds.py); default: none
        AFL_SIGNAL_RULES              the signal job's rules (YAML; default: shipped)
        """
        env = os.environ if env is None else env
        state = Path(env.get("AFL_HOME") or _default_state_dir())
        cache = Path(env.get("AFL_CACHE_DIR") or (_default_state_dir() / "cache"))
        return cls(
            home=str(state),
            cache_dir=str(cache),
            lake_root=env.get("AFL_LAKE_ROOT") or str(state / "lake"),
            checkpoint_root=env.get("AFL_CHECKPOINT_ROOT") or str(state / "checkpoints"),
            kafka_bootstrap_servers=env.get("AFL_KAFKA_BOOTSTRAP_SERVERS") or "localhost:9092",
            kafka_controller_port=_int(env, "AFL_KAFKA_CONTROLLER_PORT", 9093),
            legacy_db_url=env.get("AFL_LEGACY_DB_URL") or f"sqlite:///{state / 'legacy_app.db'}",
            spark_master=env.get("AFL_SPARK_MASTER") or "local[2]",
            spark_shuffle_partitions=_int(env, "AFL_SPARK_SHUFFLE_PARTITIONS", 4),
            spark_driver_memory=env.get("AFL_SPARK_DRIVER_MEMORY") or "2g",
            spark_ivy_settings=env.get("AFL_SPARK_IVY_SETTINGS") or "",
            topic_prefix=env.get("AFL_TOPIC_PREFIX") or "",
            hash_salt=_secret(env, "AFL_HASH_SALT") or DEFAULT_HASH_SALT,
            reports_dir=env.get("AFL_REPORTS_DIR") or str(state / "reports"),
            parity_config=env.get("AFL_PARITY_CONFIG") or "",
            expectations_dir=env.get("AFL_EXPECTATIONS_DIR") or "",
            judge_url=env.get("AFL_JUDGE_URL") or "",
            judge_model=env.get("AFL_JUDGE_MODEL") or "judge-small",
            judge_api_key=_secret(env, "AFL_JUDGE_API_KEY"),
            freshness_max_minutes=_int(env, "AFL_FRESHNESS_MAX_MINUTES", 120),
            dedup_horizon_minutes=_int(env, "AFL_DEDUP_HORIZON_MINUTES", 15),
            dedup_clock_skew_minutes=_int(env, "AFL_DEDUP_CLOCK_SKEW_MINUTES", 5),
            stream_lease_seconds=_int(env, "AFL_STREAM_LEASE_SECONDS", 30),
            metrics_port=_int(env, "AFL_METRICS_PORT", 0),
            restricted_root=env.get("AFL_RESTRICTED_ROOT") or "",
            role=env.get("AFL_ROLE") or "general",
            legal_holds=env.get("AFL_LEGAL_HOLDS") or "",
            signal_rules=env.get("AFL_SIGNAL_RULES") or "",
        )

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests, per-run lake roots)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(unknown)}")
        return replace(self, **changes)  # type: ignore[arg-type]  # names checked above; values are the caller's

    def lake_path(self, *parts: str) -> str:
        return join_uri(self.lake_root, *parts)

    def restricted_path(self, *parts: str) -> str:
        """Where restricted tables live: their own root, so storage permissions guard them."""
        return join_uri(self.restricted_root or f"{self.lake_root.rstrip('/')}_restricted", *parts)

    def checkpoint_path(self, *parts: str) -> str:
        return join_uri(self.checkpoint_root, *parts)

    def state_path(self, *parts: str) -> Path:
        return Path(self.home).joinpath(*parts)

    def cache_path(self, *parts: str) -> Path:
        return Path(self.cache_dir).joinpath(*parts)

    def topic_name(self, logical_name: str) -> str:
        """The physical Kafka topic for a registry name."""
        return f"{self.topic_prefix}{logical_name}"


def is_local(root: str) -> bool:
    """A path or file:// URI on this machine, not an object store or a cluster filesystem."""
    return root.startswith("file:") or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", root) is None


def redact_url(text: str) -> str:
    """``scheme://user:password@host`` with the password replaced; other text unchanged."""
    return re.sub(r"(://[^/:@\s]+):[^@/\s]+@", rf"\1:{REDACTED}@", text)


def _secret(env: Mapping[str, str], name: str) -> str:
    """A secret from its variable or from the file ``<name>_FILE`` names (trailing newline
    dropped); never both."""
    value, file = env.get(name) or "", env.get(f"{name}_FILE") or ""
    if value and file:
        raise SettingsError(f"set {name} or {name}_FILE, not both")
    if not file:
        return value
    try:
        return Path(file).read_text().rstrip("\r\n")
    except OSError as exc:
        raise SettingsError(f"{name}_FILE: cannot read {file}: {exc.strerror}") from None


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
