"""Runbook prose in the console: its inline Markdown rendered — emphasis in italics, code as
code — not shown as stars and backticks, and never read as console markup."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tests.integration.ticket_fixtures import World
from tests.tui.tui_fixtures import AppFactory, settle
from tickets.rules import FaultKind, apply_event
from tui.present import markdown_text
from tui.screens.ticket import TicketScreen


def _styles(text: Text) -> dict[str, str]:
    return {text.plain[s.start : s.end]: str(s.style) for s in text.spans}


def test_inline_markdown_becomes_styles_and_stays_text() -> None:
    text = markdown_text("a cord in *their* rack, **swap** it: `show int` [@click=app.quit] <b>")
    assert text.plain == "a cord in their rack, swap it: show int [@click=app.quit] <b>"
    styles = _styles(text)
    assert styles["their"] == "italic"
    assert styles["swap"] == "bold"
    assert styles["show int"] == "bold cyan"
    # An escaped star stays a star; control characters are shown, not obeyed.
    assert markdown_text(r"2 \* 3").plain == "2 * 3"
    assert "\x1b" not in markdown_text("x\x1b[31my").plain


async def test_the_ticket_shows_the_runbook_prose_rendered(
    world: World, console: AppFactory
) -> None:
    event = world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/1", world.now)
    with world.session() as session:
        number = apply_event(session=session, event=event, now=world.now).ticket
    assert number is not None
    app = console("eng")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(TicketScreen(app.ctx, number))
        await settle(pilot)
        content = app.screen.query_one("#runbook", Static).content
        assert isinstance(content, Text)
        # member-port-down.md step 2: "Tx low or absent: *our* optic".
        assert "*our*" not in content.plain
        at = content.plain.index("Tx low or absent: our optic") + len("Tx low or absent: ")
        assert any(
            s.start == at and s.end == at + 3 and str(s.style) == "italic" for s in content.spans
        )
