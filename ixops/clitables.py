"""Tables on a terminal of any width, and piped: the CLI's shared rules.

Rich squeezes every column of a table wider than the terminal, and drops whole columns when
their minimum widths do not fit — at 80 columns ``ixops ticket list`` lost its state, severity,
site and unit that way. So a command measures first: one line per row when it fits (the
flexible column gets exactly what the others leave), else its narrow form (two lines per row,
every fact still shown); piped or redirected, as wide as the rows want, one line each, for grep.
"""

from __future__ import annotations

from rich.console import Console, RenderableType


def table_width(widths: list[int]) -> int:
    """A ``box.SIMPLE_HEAD`` table's width for these column widths: each column's padding
    (one each side), a separator between columns and the two edges."""
    return sum(widths) + 3 * len(widths) + 1


def print_unbounded(out: Console, table: RenderableType, width: int) -> None:
    """Print ``table`` at ``width`` (or the console's, if wider) though the console is narrower:
    for output that is piped or redirected (Rich caps a print at the console's width)."""
    wide = Console(file=out.file, highlight=False, width=max(out.width, width))
    wide.print(table, soft_wrap=False)
