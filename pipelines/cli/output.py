"""How commands print: results on stdout, progress on stderr, tables like psql's."""

from __future__ import annotations

import click


def progress(message: str) -> None:
    """A progress line: on stderr, so stdout stays the result a script reads."""
    click.echo(message, err=True)


def format_rows(columns: list[str], rows: list[tuple[object, ...]]) -> str:
    """A plain aligned text table, like psql prints."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    line = " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    rule = "-+-".join("-" * w for w in widths)
    body = [" | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([line, rule, *body])


def _cell(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes | bytearray):
        return value[:40].decode(errors="replace") + ("..." if len(value) > 40 else "")
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."
