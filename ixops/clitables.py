"""Tables on a terminal of any width, and piped: the CLI's shared rules.

Rich squeezes every column of a table wider than the terminal, and drops whole columns when
their minimum widths do not fit — at 80 columns ``ixops ticket list`` lost its state, severity,
site and unit that way. So a command measures first: one line per row when it fits (the
flexible column gets exactly what the others leave), else its narrow form (two lines per row,
every fact still shown); piped or redirected, as wide as the rows want, one line each, for grep.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.console import Console, RenderableType

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text


def _width(cell: str | Text) -> int:
    return cell_len(cell) if isinstance(cell, str) else cell.cell_len


def table_width(widths: list[int]) -> int:
    """A ``box.SIMPLE_HEAD`` table's width for these column widths: each column's padding
    (one each side), a separator between columns and the two edges."""
    return sum(widths) + 3 * len(widths) + 1


def print_unbounded(out: Console, table: RenderableType, width: int) -> None:
    """Print ``table`` at ``width`` (or the console's, if wider) though the console is narrower:
    for output that is piped or redirected (Rich caps a print at the console's width)."""
    wide = Console(file=out.file, highlight=False, width=max(out.width, width))
    wide.print(table, soft_wrap=False)


def wanted_width(out: Console, table: RenderableType, *, least: bool = False) -> int:
    """How wide ``table`` is drawn with no limit: every cell on one line; ``least``: the
    narrowest it can be, its ``no_wrap`` columns whole and the others wrapped at words."""
    from rich.measure import Measurement

    unbounded = out.options.update(width=10_000, max_width=10_000)
    found = Measurement.get(out, unbounded, table)
    return found.minimum if least else found.maximum


def print_records(
    out: Console, title: str, headers: Sequence[str], rows: Iterable[Sequence[str | Text]]
) -> None:
    """Rows too wide for the terminal, each as a block of ``header  value`` lines (as
    ``kubectl describe`` does), so no column is squeezed to "…" or dropped."""
    from rich.table import Table
    from rich.text import Text

    out.print(Text(title, style="italic"), soft_wrap=False)
    for row in rows:
        block = Table.grid(padding=(0, 2))
        block.add_column(style="bold", no_wrap=True)
        block.add_column(overflow="fold")
        for header, value in zip(headers, row, strict=True):
            block.add_row(header, value)
        out.print(block, soft_wrap=False)
        out.print()


def print_fitted(
    out: Console,
    table: Table,
    headers: Sequence[str],
    rows: Sequence[Sequence[str | Text]],
    *,
    wrapping: bool = False,
    headings_wrap: bool = False,
) -> None:
    """``table`` (already holding ``rows``) where it fits, or piped; on a terminal too narrow for
    it, the rows as records. It fits with every cell on one line; or with ``wrapping``, its
    ``no_wrap`` columns whole and its one wrapping column (prose: a reason) wrapped at words;
    or with ``headings_wrap``, every column as wide as its widest cell or heading word ("On
    time 按时" on two lines). (Rich narrows a wrapping column below its longest word and cuts it
    with "…" when several wrap: so the widths are set, not left to it.)"""
    if not out.is_terminal:
        print_unbounded(out, table, wanted_width(out, table))
        return
    if headings_wrap:
        widths = [
            max(
                max((cell_len(word) for word in header.split()), default=1),
                *(_width(row[index]) for row in rows),
            )
            for index, header in enumerate(headers)
        ]
        if table_width(widths) <= out.width:
            for column, width in zip(table.columns, widths, strict=True):
                column.width = width
            out.print(table, soft_wrap=False)
            return
    elif wanted_width(out, table, least=wrapping) <= out.width:
        out.print(table, soft_wrap=False)
        return
    print_records(out, str(table.title or ""), headers, rows)
