"""Parity configuration from YAML: the shipped rules, and the one-line error a bad file gives."""

from pathlib import Path

import pytest

from pipelines.errors import AflError
from pipelines.parity.config import DEFAULT_CONFIG, ColumnRule, ParityConfig, load_parity_config

SHIPPED = ParityConfig(
    key="feedback_id",
    lag_window_minutes=15.0,
    columns=(
        ColumnRule("tenant_id", "exact", "string"),
        ColumnRule("user_id", "exact", "string"),
        ColumnRule("session_id", "exact", "string"),
        ColumnRule("agent_name", "exact", "string"),
        ColumnRule("rating", "numeric", "int", abs_tolerance=0.0),
        ColumnRule("thumbs", "text", "string", case_insensitive=True),
        ColumnRule("comment", "text", "string", whitespace_insensitive=True),
        ColumnRule("created_at", "timestamp", "timestamp", tolerance_seconds=1.0),
        ColumnRule("updated_at", "timestamp", "timestamp", tolerance_seconds=1.0),
    ),
    yellow_max_missing_rate=0.001,
    yellow_max_mismatch_rate=0.002,
    promote_after_green_days=3,
    retire_after_green_days=3,
    examples=10,
)

VALID = """\
key: feedback_id
lag_window_minutes: 30
columns:
  rating: {rule: numeric, type: int, abs_tolerance: 1}
  comment: {rule: text, type: string, whitespace_insensitive: true}
thresholds: {yellow_max_missing_rate: 0.01, yellow_max_mismatch_rate: 0.02}
cutover: {promote_after_green_days: 5, retire_after_green_days: 7}
"""


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "parity.yml"
    path.write_text(text)
    return path


def test_the_shipped_config_is_read_whole():
    assert load_parity_config() == SHIPPED
    assert load_parity_config(DEFAULT_CONFIG) == SHIPPED
    assert load_parity_config("") == SHIPPED  # AFL_PARITY_CONFIG unset


def test_a_config_of_ones_own_keeps_its_column_order_and_defaults_examples(tmp_path):
    assert load_parity_config(_config(tmp_path, VALID)) == ParityConfig(
        key="feedback_id",
        lag_window_minutes=30.0,
        columns=(
            ColumnRule("rating", "numeric", "int", abs_tolerance=1.0),
            ColumnRule("comment", "text", "string", whitespace_insensitive=True),
        ),
        yellow_max_missing_rate=0.01,
        yellow_max_mismatch_rate=0.02,
        promote_after_green_days=5,
        retire_after_green_days=7,
        examples=10,
    )


def test_with_rule_changes_one_column_and_leaves_the_original_alone():
    original = load_parity_config()
    changed = original.with_rule("rating", abs_tolerance=0.5, null_equals_null=False)
    rating = ColumnRule("rating", "numeric", "int", abs_tolerance=0.5, null_equals_null=False)
    assert changed == ParityConfig(
        **{**vars(SHIPPED), "columns": (*SHIPPED.columns[:4], rating, *SHIPPED.columns[5:])}
    )
    assert original == SHIPPED


def test_a_missing_file_is_named(tmp_path):
    path = tmp_path / "absent.yml"
    with pytest.raises(AflError) as error:
        load_parity_config(path)
    assert str(error.value) == f"parity config not found: {path}"


def test_invalid_yaml_is_named_with_the_parser_message(tmp_path):
    path = _config(tmp_path, "columns: {rating: [\n")
    with pytest.raises(AflError) as error:
        load_parity_config(path)
    assert str(error.value).startswith(
        f"parity config {path} is not valid YAML: while parsing a flow node"
    )


@pytest.mark.parametrize(
    ("column", "message"),
    [
        (
            "rating: {rule: fuzzy, type: int}",
            "column rating: rule must be one of exact, numeric, text, timestamp",
        ),
        (
            "rating: {rule: numeric, type: float}",
            "column rating: type must be one of string, int, bigint, double, timestamp",
        ),
    ],
)
def test_an_unknown_rule_or_type_names_the_column_and_the_choices(tmp_path, column, message):
    path = _config(
        tmp_path, VALID.replace("rating: {rule: numeric, type: int, abs_tolerance: 1}", column)
    )
    with pytest.raises(AflError) as error:
        load_parity_config(path)
    assert str(error.value) == f"{path}: {message}"


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("thresholds:", "threshold:", "'thresholds'"),
        ("promote_after_green_days: 5", "promote_after: 5", "'promote_after_green_days'"),
        ("key: feedback_id\n", "", "'key'"),
        (
            "abs_tolerance: 1",
            "tolerance: 1",
            "ColumnRule.__init__() got an unexpected keyword argument 'tolerance'",
        ),
    ],
)
def test_a_missing_or_misnamed_setting_is_named(tmp_path, old, new, named):
    path = _config(tmp_path, VALID.replace(old, new))
    with pytest.raises(AflError) as error:
        load_parity_config(path)
    assert str(error.value) == f"parity config {path} is missing or misnames {named}"


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ("yellow_max_missing_rate: 0.01", "yellow_max_missing_rate: lots",
         "yellow_max_missing_rate must be a number, got 'lots'"),
        ("yellow_max_missing_rate: 0.01", "yellow_max_missing_rate: 1.5",
         "yellow_max_missing_rate must be 0.0..1.0, got 1.5"),
        ("promote_after_green_days: 5", "promote_after_green_days: -2",
         "promote_after_green_days must be at least 1, got -2"),
        ("promote_after_green_days: 5", "promote_after_green_days: 2.5",
         "promote_after_green_days must be a whole number, got 2.5"),
    ],
)  # fmt: skip
def test_a_threshold_out_of_its_kind_or_range_is_named(tmp_path, old, new, why):
    assert old in VALID
    path = _config(tmp_path, VALID.replace(old, new))
    with pytest.raises(AflError) as error:
        load_parity_config(path)
    assert str(error.value) == f"parity config {path}: {why}"


def test_columns_written_as_a_list_are_refused(tmp_path):
    path = _config(tmp_path, "key: id\ncolumns:\n  - rating\n")
    with pytest.raises(AflError) as error:
        load_parity_config(path)
    assert str(error.value) == f"parity config {path}: columns must map each column to its rule"
