"""`ixops serve` in a real headless Chromium: the console logs in, a ticket shows whom to call in
Chinese, nothing is loaded from outside the machine, the CJK font is the machine's own, and the
screen looks like the reference screenshot (tests/data/serve/)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp
from sqlmodel import Session

from inventory.accounts import Role, User, hash_password
from inventory.sync import sync_inventory
from inventory.validate import Inventory
from ixops.db import make_engine, upgrade
from tests.integration.browser import chromium, difference
from tests.integration.ticket_fixtures import EXAMPLE, PASSWORD, World, example_inventory  # noqa: F401
from tickets.rules import FaultKind, apply_event

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "serve" / "ticket-zh-1280x800.png"
WIDTH, HEIGHT = 1280, 800


def _store(path: Path, inventory: Inventory) -> tuple[str, str]:
    """A store with the example exchange, one engineer, and one trunk-down ticket."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    with Session(engine) as session:
        sync_inventory(session=session, inventory=inventory, now=now - dt.timedelta(days=1))
        session.add(
            User(
                name="eng",
                role=Role.ENGINEER.value,
                password_hash=hash_password(PASSWORD),
                created_at=now,
                updated_at=now,
            )
        )
        session.commit()
    world = World(engine=engine, now=now)
    with world.session() as session:
        event = world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/18", now)
        number = apply_event(session=session, event=event, now=now).ticket
    engine.dispose()
    assert number is not None
    return url, number


async def test_the_served_console_is_self_contained_and_shows_the_callout_in_chinese(
    tmp_path: Path,
    example_inventory: Inventory,  # noqa: F811
    free_port: Callable[[], int],
) -> None:
    url, _number = _store(tmp_path / "ixops.db", example_inventory)
    port = free_port()
    env = {
        **os.environ,
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": url,
        "IXOPS_INVENTORY": str(EXAMPLE),
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "ixops", "serve", "--port", str(port), "--lang", "zh"),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    async with http.get(base) as reply:
                        page_html = await reply.text()
                    break
                except aiohttp.ClientError:
                    assert loop.time() < deadline, "ixops serve did not answer"
                    await asyncio.sleep(0.3)
        assert "googleapis" not in page_html

        async with chromium(tmp_path, width=WIDTH, height=HEIGHT) as page:
            await page.send("Page.navigate", url=base)
            for _ in range(100):
                if await page.evaluate("document.body?.classList.contains('-first-byte')"):
                    break
                await asyncio.sleep(0.2)
            else:
                raise AssertionError("the console never drew anything")
            await page.settled()
            await page.evaluate("document.querySelector('.xterm-helper-textarea')?.focus()")
            await page.type_text("eng")
            await page.press("Enter")  # to the password field
            await page.settled(quiet_s=0.5)
            await page.type_text(PASSWORD)
            login = await page.screenshot()
            await page.press("Enter")
            await page.changed(login)
            queue = await page.settled()
            await page.press("Enter")  # the queue's first (and only) ticket
            await page.changed(queue)
            shot = await page.settled(quiet_s=1.0)
            (tmp_path / "shot.png").write_bytes(shot)

            # The CJK face of the page's font stack is the machine's own font, and loaded.
            faces = await page.evaluate(
                "document.fonts.load('16px \"Roboto Mono\"', '对端租用电路')"
                ".then(fs => fs.map(f => [f.unicodeRange, f.status]))"
            )
            assert any("U+4E00" in r.upper() and s == "loaded" for r, s in faces), faces
            requests = list(page.requests)
        # Nothing from outside the machine: every request went to the console's own server.
        outside = [
            r
            for r in requests
            if not r.startswith((base, f"ws://127.0.0.1:{port}/", "data:", "about:"))
        ]
        assert requests
        assert outside == []
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 10)

    if not REFERENCE.exists() or os.environ.get("IXOPS_UPDATE_SCREENSHOTS") == "1":
        REFERENCE.parent.mkdir(parents=True, exist_ok=True)
        REFERENCE.write_bytes(shot)
    share = difference(REFERENCE.read_bytes(), shot)
    # Countdowns and the clock move between runs; a missing font, a broken layout or tofu
    # boxes for Chinese change far more than this.
    assert share < 0.02, f"{share:.1%} of the pixels differ; see {tmp_path / 'shot.png'}"
