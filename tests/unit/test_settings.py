from pathlib import Path

import pytest

from pipelines.errors import SettingsError
from pipelines.settings import Settings, join_uri

ROOT = Path(__file__).resolve().parents[2]


def test_local_defaults_keep_all_state_under_one_ignored_folder():
    s = Settings.from_env({})
    state = ROOT / ".afl"
    assert s.home == str(state)
    assert s.lake_root == str(state / "lake")
    assert s.checkpoint_root == str(state / "checkpoints")
    assert s.legacy_db_url == f"sqlite:///{state / 'legacy_app.db'}"
    assert s.cache_dir == str(state / "cache")
    assert s.kafka_bootstrap_servers == "localhost:9092"
    assert s.spark_master == "local[2]"
    assert "/.afl/" in (ROOT / ".gitignore").read_text().splitlines()


def test_environment_overrides_every_default():
    s = Settings.from_env(
        {
            "AFL_HOME": "/srv/afl",
            "AFL_LAKE_ROOT": "s3a://bucket/lake/",
            "AFL_CHECKPOINT_ROOT": "abfss://c@acct.dfs.core.windows.net/ckpt",
            "AFL_KAFKA_BOOTSTRAP_SERVERS": "b1:9092,b2:9092",
            "AFL_SPARK_MASTER": "spark://master:7077",
            "AFL_SPARK_SHUFFLE_PARTITIONS": "200",
            "AFL_TOPIC_PREFIX": "staging.",
        }
    )
    assert s.lake_path("bronze", "agent_events") == "s3a://bucket/lake/bronze/agent_events"
    assert s.checkpoint_path("q") == "abfss://c@acct.dfs.core.windows.net/ckpt/q"
    assert s.legacy_db_url == "sqlite:////srv/afl/legacy_app.db"
    assert s.spark_master == "spark://master:7077"
    assert s.spark_shuffle_partitions == 200
    assert s.topic_name("agent.feedback.v1") == "staging.agent.feedback.v1"


def test_a_bad_number_names_the_variable():
    with pytest.raises(
        SettingsError, match=r"AFL_KAFKA_CONTROLLER_PORT must be a whole number, got 'x'"
    ):
        Settings.from_env({"AFL_KAFKA_CONTROLLER_PORT": "x"})


def test_overrides_reject_unknown_fields():
    with pytest.raises(SettingsError, match="unknown setting"):
        Settings.from_env({}).with_overrides(lake_rot="/tmp")


def test_join_uri_keeps_the_scheme_and_drops_doubled_slashes():
    assert join_uri("/data/lake/", "/silver/", "feedback") == "/data/lake/silver/feedback"
    assert join_uri("s3a://b/lake", "gold") == "s3a://b/lake/gold"
