"""The key line at the bottom: at 80 columns the screens' keys are drawn once, as "2 3 4 5 6
Screens", and the palette's key left out, so no key of the queue is cut off (before, "3
Exchange" and every key after it were); on a wide terminal each has its own name again."""

from __future__ import annotations

from textual.widgets._footer import FooterKey, FooterLabel

from tests.tui.tui_fixtures import AppFactory, Seeded, settle
from tui.app import IxopsApp


def _keys(app: IxopsApp) -> list[tuple[str, str]]:
    return [(k.key, k.description) for k in app.screen.query(FooterKey) if k.display]


def _labels(app: IxopsApp) -> list[str]:
    return [str(label.render()) for label in app.screen.query(FooterLabel)]


def _palette(app: IxopsApp) -> list[FooterKey]:
    return list(app.screen.query("FooterKey.-command-palette").results(FooterKey))


def _all_on_screen(app: IxopsApp, width: int) -> bool:
    """Every key and label inside the width and left of the palette's key (docked right, it is
    drawn over whatever reaches under it)."""
    end = min([width, *(k.region.x for k in _palette(app))])
    return all(
        w.region.width > 0 and w.region.right <= end
        for w in [*app.screen.query(FooterKey), *app.screen.query(FooterLabel)]
        if "-command-palette" not in w.classes and w.display
    )


async def test_at_80_columns_every_key_is_on_the_line(seeded: Seeded, console: AppFactory) -> None:
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        keys = _keys(app)
        assert ("slash", "Search") in keys
        assert ("3", "") in keys  # a screen's key, named by its group
        assert "1" not in [key for key, _ in keys]  # the queue's own: you are there
        assert _labels(app) == ["Screens"]
        assert _palette(app) == []  # no room left for it; ctrl+p still opens it
        assert _all_on_screen(app, 80)
        await pilot.resize_terminal(200, 30)
        await settle(pilot)
        keys = _keys(app)
        assert ("3", "Exchange") in keys
        assert ("6", "Down now") in keys
        assert _labels(app) == []
        assert len(_palette(app)) == 1
        assert _all_on_screen(app, 200)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert ("3", "") in _keys(app)
        assert _all_on_screen(app, 80)


async def test_the_group_is_named_in_the_users_language(
    seeded: Seeded, console: AppFactory
) -> None:
    app = console("eng", lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert _labels(app) == ["界面"]
        assert ("slash", "搜索") in _keys(app)
        assert _all_on_screen(app, 80)


async def test_at_any_width_no_key_is_drawn_over(seeded: Seeded, console: AppFactory) -> None:
    """Between 80 and 130 columns the footer goes from combined without the palette's key, to
    combined with it, to every key named: at each width nothing reaches under the palette's
    key or past the edge, and the widest form that fits is the one drawn."""
    app = console("eng")
    forms = []
    async with app.run_test(size=(80, 24)) as pilot:
        for width in (80, 85, 88, 89, 90, 100, 110, 120, 121, 122, 123, 124, 125, 130):
            await pilot.resize_terminal(width, 24)
            await settle(pilot)
            assert _all_on_screen(app, width), width
            forms.append((bool(_labels(app)), bool(_palette(app))))
    assert forms[0] == (True, False)
    assert forms[-1] == (False, True)
    assert (True, True) in forms
    assert forms == sorted(forms, key=lambda f: (not f[0], f[1]))  # only ever wider forms


async def test_where_even_that_is_too_wide_help_comes_first(
    seeded: Seeded, console: AppFactory
) -> None:
    """A ticket's own keys are wider than 80 columns: the line is cut, so "? Help" (which lists
    every key) moves to the front instead of being the one cut off; wide, it keeps its place."""
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        keys = _keys(app)
        assert keys[0] == ("question_mark", "Help")
        assert ("a", "Ack") in keys
        await pilot.resize_terminal(220, 30)
        await settle(pilot)
        keys = _keys(app)
        assert keys[0] != ("question_mark", "Help")
        assert ("question_mark", "Help") in keys
        assert ("3", "Exchange") in keys
