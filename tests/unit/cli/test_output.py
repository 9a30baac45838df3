from pipelines.cli.output import format_rows


def test_rows_are_aligned_like_psql_with_nulls_bytes_and_long_text_shortened():
    text = format_rows(
        ["id", "value"],
        [(1, None), (22, b"\x00raw" + b"x" * 50), (3, "y" * 100)],
    )
    width = 80  # the longest cell: text is cut to 77 characters and "..."
    assert text.splitlines() == [
        "id | " + "value".ljust(width),
        "---+-" + "-" * width,
        "1  | " + "NULL".ljust(width),
        "22 | " + ("\x00raw" + "x" * 36 + "...").ljust(width),
        "3  | " + "y" * 77 + "...",
    ]
