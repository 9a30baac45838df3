from pathlib import Path

import pytest

from pipelines.errors import SettingsError
from pipelines.settings import DEFAULT_HASH_SALT, Settings, join_uri

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
            "AFL_HASH_SALT": "staging-salt",
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


SECRETS = {
    "AFL_HASH_SALT": "pepper-7f3a",
    "AFL_JUDGE_API_KEY": "sk-live-123",
    "AFL_LEGACY_DB_URL": "postgresql://app:pg-pass-9@db:5432/agents",
}


def test_secrets_never_appear_in_the_repr():
    s = Settings.from_env(SECRETS)
    shown = repr(s)
    assert [name for name, secret in SECRETS.items() if secret in shown] == []
    assert "pg-pass-9" not in shown
    assert "hash_salt='<redacted>'" in shown and "judge_api_key='<redacted>'" in shown
    assert "legacy_db_url='postgresql://app:<redacted>@db:5432/agents'" in shown
    assert s.hash_salt == "pepper-7f3a" and s.legacy_db_url == SECRETS["AFL_LEGACY_DB_URL"]
    assert "judge_api_key=''" in repr(Settings.from_env({}))  # unset stays visibly unset


def test_secrets_can_come_from_files_but_not_from_both(tmp_path):
    salt, key = tmp_path / "salt", tmp_path / "key"
    salt.write_text("pepper-from-file\n")
    key.write_text("sk-file")
    s = Settings.from_env({"AFL_HASH_SALT_FILE": str(salt), "AFL_JUDGE_API_KEY_FILE": str(key)})
    assert (s.hash_salt, s.judge_api_key) == ("pepper-from-file", "sk-file")
    with pytest.raises(SettingsError, match=r"^set AFL_HASH_SALT or AFL_HASH_SALT_FILE, not both$"):
        Settings.from_env({"AFL_HASH_SALT": "a", "AFL_HASH_SALT_FILE": str(salt)})
    with pytest.raises(SettingsError) as missing:
        Settings.from_env({"AFL_HASH_SALT_FILE": str(tmp_path / "nope")})
    assert str(missing.value) == (
        f"AFL_HASH_SALT_FILE: cannot read {tmp_path / 'nope'}: No such file or directory"
    )


def test_the_public_default_salt_is_refused_for_a_lake_not_on_this_machine():
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"AFL_LAKE_ROOT": "s3a://bucket/lake"})
    assert str(refused.value) == (
        "AFL_HASH_SALT is the public default, refused for the lake at s3a://bucket/lake: "
        "set AFL_HASH_SALT or AFL_HASH_SALT_FILE to a secret of the lake's own"
    )
    local = Settings.from_env({"AFL_LAKE_ROOT": "file:///data/lake"})
    with pytest.raises(SettingsError, match="public default"):
        local.with_overrides(lake_root="abfss://c@acct.dfs.core.windows.net/lake")
    assert Settings.from_env({"AFL_LAKE_ROOT": "/data/lake"}).hash_salt == DEFAULT_HASH_SALT
    salted = Settings.from_env({"AFL_LAKE_ROOT": "s3a://bucket/lake", "AFL_HASH_SALT": "own"})
    assert salted.lake_root == "s3a://bucket/lake"


def test_restricted_tables_have_their_own_root_following_the_lake_unless_set():
    s = Settings.from_env({"AFL_LAKE_ROOT": "/data/lake/"})
    assert s.restricted_path("silver", "feedback_restricted") == (
        "/data/lake_restricted/silver/feedback_restricted"
    )
    moved = s.with_overrides(lake_root="/tmp/t1/lake")
    assert moved.restricted_path("bronze") == "/tmp/t1/lake_restricted/bronze"
    own = Settings.from_env(
        {"AFL_LAKE_ROOT": "/data/lake", "AFL_RESTRICTED_ROOT": "s3a://vault/afl"}
    )
    assert own.restricted_path("silver", "quarantine") == "s3a://vault/afl/silver/quarantine"


def test_a_role_is_general_or_restricted():
    assert Settings.from_env({}).role == "general"
    assert Settings.from_env({"AFL_ROLE": "restricted"}).role == "restricted"
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"AFL_ROLE": "admin"})
    assert str(refused.value) == "AFL_ROLE must be one of general, restricted, got 'admin'"
