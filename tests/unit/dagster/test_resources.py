from dagster_project.resources import LakehouseResource


def test_a_resource_over_settings_points_at_the_same_lake_with_its_own_extras(settings, tmp_path):
    resource = LakehouseResource.over(settings, reports_dir=str(tmp_path / "reports"))
    seen = resource.settings()
    assert (seen.lake_root, seen.checkpoint_root, seen.topic_prefix) == (
        settings.lake_root,
        settings.checkpoint_root,
        settings.topic_prefix,
    )
    assert seen.reports_dir == str(tmp_path / "reports")
    assert seen.legacy_db_url == settings.legacy_db_url  # not given: the environment's
