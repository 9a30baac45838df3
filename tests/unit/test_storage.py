"""Small files beside the lake without Spark: atomic replace, absent files, listing."""

from pipelines.storage import delete, list_names, read_text, write_text


def test_a_small_file_is_written_whole_read_back_listed_and_deleted(tmp_path):
    target = tmp_path / "checkpoints" / "ingest" / "_lease"
    assert read_text(str(target)) is None
    assert list_names(str(target.parent)) == []
    write_text(str(target), "holder-1")
    write_text(f"file://{target}", "holder-2")  # the same file by URI: replaced, not appended
    assert read_text(str(target)) == "holder-2"
    assert list_names(str(target.parent)) == ["_lease"]  # no temporary file left behind
    delete(str(target))
    delete(str(target))  # already gone: nothing to do
    assert read_text(str(target)) is None
