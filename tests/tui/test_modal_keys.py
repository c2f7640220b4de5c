"""While a dialog is open the footer shows the dialog's keys, not the screen's beneath it; the
command palette's entries each say what they do and their key (issue 15, smaller things)."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from tests.tui.tui_fixtures import AppFactory, Seeded, settle
from tui.app import IxopsApp
from tui.screens.prompts import FilterPrompt


def _footer_keys(app: IxopsApp) -> list[str]:
    return [k.description for k in app.screen.query(FooterKey) if k.display]


async def test_a_dialog_shows_its_own_keys_in_the_footer(
    seeded: Seeded, console: AppFactory
) -> None:
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Search" in _footer_keys(app)  # the queue's own
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FilterPrompt)
        keys = _footer_keys(app)
        assert "Cancel" in keys
        assert "Search" not in keys
        assert "New" not in keys
        # Still fits at 80×24 with the footer: its buttons are on the screen.
        apply = app.screen.query_one("#apply")
        assert apply.region.bottom <= 23
        await pilot.press("escape")
        await settle(pilot)
        assert "Search" in _footer_keys(app)


async def test_palette_entries_say_what_they_do_in_the_users_language(
    seeded: Seeded, console: AppFactory
) -> None:
    for lang, word in (("en", "Key 1"), ("zh", "按键 1")):
        app = console("eng", lang=lang)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            commands = list(app.get_system_commands(app.screen))
            ours = [c for c in commands if c.title and c.help and c.help not in ("ixops",)]
            helps = {c.title: c.help for c in commands}
            assert all(c.help != "ixops" for c in commands)
            assert len({c.help for c in ours}) == len(ours)  # each its own text
            queue_title = "Go to the ticket queue" if lang == "en" else "打开工单队列"
            assert helps[queue_title].startswith(word)
    viewer = console("vic")
    async with viewer.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        titles = [c.title for c in viewer.get_system_commands(viewer.screen)]
        assert "Declare planned work" not in titles  # the center's only
