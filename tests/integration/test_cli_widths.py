"""`ixops ticket list` and `ixops down` on an 80-column terminal, a wide one and piped: every
column is there in each (before, at 80 columns Rich dropped the tickets' state, severity, site
and unit, and down's state and duration, and cut the ticket number), nothing is wider than
the terminal, and piped output keeps one whole line per row for grep."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from ixops.cli import main
from ixops.cliapp import App
from tests.integration import test_down_now, ticket_fixtures
from tests.integration.ticket_fixtures import EXAMPLE, World

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def run(world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    test_down_now.polled(world)  # a member port down with its ticket, a device down, …
    monkeypatch.setattr(App, "now", lambda self: world.now)

    def invoke(args: list[str], columns: int, terminal: bool) -> list[str]:
        env = {
            "IXOPS_HOME": str(tmp_path / "home"),
            "IXOPS_DATABASE_URL": database_url,
            "IXOPS_INVENTORY": str(EXAMPLE),
            "IXOPS_USER": "eng",
            "COLUMNS": str(columns),
            "TTY_COMPATIBLE": "1" if terminal else "0",
        }
        result = CliRunner().invoke(main, args, env=env)
        assert result.exception is None or isinstance(result.exception, SystemExit), result
        return [_ANSI.sub("", line) for line in result.output.splitlines()]

    return invoke


def _number(lines: list[str]) -> str:
    found = {m for line in lines for m in re.findall(r"IX-\d{4}-\d{6}", line)}
    assert len(found) == 1, lines
    return found.pop()


@pytest.mark.parametrize(("columns", "terminal"), [(80, True), (160, True), (80, False)])
def test_ticket_list_shows_every_column_at_any_width(run, columns: int, terminal: bool) -> None:  # type: ignore[no-untyped-def]
    lines = run(["ticket", "list"], columns, terminal)
    text = "\n".join(lines)
    number = _number(lines)
    assert "Tickets (times Asia/Shanghai)" in text
    for fact in ("major", "CHJ", "excloud", "+08:00", "left)"):
        assert fact in text, (fact, text)
    assert re.search(r"\bnew\b", text)
    if terminal:
        assert max(len(line) for line in lines) <= columns
    else:  # piped: the whole title on the ticket's one line, whatever the width
        row = next(line for line in lines if number in line)
        assert "Member port down" in row or "Link down" in row
        assert "…" not in row
        for fact in ("excloud", "+08:00"):
            assert fact in row
    if columns == 80 and terminal:
        assert "number / state" in text  # two lines per ticket


@pytest.mark.parametrize(("columns", "terminal"), [(80, True), (160, True), (80, False)])
def test_down_shows_every_column_at_any_width(run, columns: int, terminal: bool) -> None:  # type: ignore[no-untyped-def]
    lines = run(["down"], columns, terminal)
    text = "\n".join(lines)
    _number(lines)  # whole, never cut
    for heading in ("what", "state", "since", "for", "ticket", "room", "detail"):
        assert re.search(rf"\b{heading}\b", lines[2] + lines[3]), (heading, lines[:4])
    assert "DOWN" in text
    assert "UNKNOWN" in text
    assert "+08:00" in text
    assert "ndr-acc2" in text
    if terminal:
        assert max(len(line) for line in lines) <= columns
    else:
        assert any("excloud @ chj-ex-core1 Ethernet1/1" in line for line in lines)


@pytest.mark.parametrize(("columns", "terminal"), [(80, True), (250, True), (80, False)])
def test_collectors_are_blocks_of_lines_where_their_14_columns_do_not_fit(
    run, world: World, columns: int, terminal: bool
) -> None:  # type: ignore[no-untyped-def]
    test_down_now.watched(world)  # collectors "chj" (running) and "ndr" (silent)
    lines = run(["collectors"], columns, terminal)
    text = "\n".join(lines)
    assert "…" not in text
    if columns == 80 and terminal:  # before: 14 cells of "…" each
        assert max(len(line) for line in lines) <= columns
        assert [line.split()[1] for line in lines if line.startswith("name ")] == ["chj", "ndr"]
        assert sum(1 for line in lines if re.match(r"state +silent", line)) == 1
        assert sum(1 for line in lines if re.match(r"last round +\S+ \S+ \+08:00", line)) == 2
    else:  # a table row per collector, every cell whole
        row = next(line for line in lines if " ndr " in line)
        for fact in ("silent", "+08:00", "h pid 1"):
            assert fact in row


@pytest.mark.parametrize(("columns", "terminal"), [(80, True), (250, True), (80, False)])
def test_link_stability_shows_its_figures_at_any_width(run, columns: int, terminal: bool) -> None:  # type: ignore[no-untyped-def]
    lines = run(["links", "stability", "--period", "2026-11"], columns, terminal)
    headers = ("link", "avail %", "coverage %", "down", "outages", "flaps", "MTTR", "planned")
    link = "excloud@chj-ex-core1:Ethernet1/1"
    if columns == 80 and terminal:  # before: the figures' columns squeezed to nothing
        assert max(len(line) for line in lines) <= columns
        start = lines.index(next(line for line in lines if line.split()[-1:] == [link]))
        block = lines[start : start + len(headers) + 1]
        assert [line[: len(h)] for line, h in zip(block, headers, strict=False)] == list(headers)
        assert block[-1].startswith("stable ")
        assert block[1].split()[-1] in ("unknown", "100.000")
    else:
        row = next(line for line in lines if link in line)
        assert re.search(r"(unknown|100\.000) +│? *\d+\.\d", row), row


@pytest.mark.parametrize(("columns", "terminal"), [(80, True), (130, True), (80, False)])
def test_inspection_report_is_never_cut(run, columns: int, terminal: bool) -> None:  # type: ignore[no-untyped-def]
    """Before, at 80 and at 130 columns its checklist and headings were cut to "…"."""
    lines = run(["inspect", "report", "--period", "2026-11"], columns, terminal)
    text = "\n".join(lines)
    assert "…" not in text
    assert "main-room-weekly" in text
    if terminal:
        assert max(len(line) for line in lines) <= columns
    if columns == 80 and terminal:
        assert any(re.match(r"Compliance 合规率 +", line) for line in lines)
    else:
        assert "Compliance" in text
        assert re.search(r"CHJ/Hall A +main-room-weekly +\d+", text)
