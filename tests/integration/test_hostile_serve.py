"""The served console (`ixops serve`, textual-serve) carries the hostile corpus escaped: a
browser session logs in over the websocket and the terminal stream it receives shows the titles
as words, control characters visibly, and never the titles' own escape sequences."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.hostile import CORPUS
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import PASSWORD, World
from tickets import service

world = ticket_fixtures.world
example_inventory = ticket_fixtures.example_inventory

TITLES = {name: text for name, text in CORPUS if "\x00" not in text}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ixops.db'}"


async def test_the_served_console_streams_hostile_titles_escaped(
    world: World, database_url: str, tmp_path: Path
) -> None:
    with world.session() as s:
        cx = world.user(s, "cx")
        for minutes, name in enumerate(("click-quit", "csi-clear", "osc-title", "osc8-link")):
            service.open_ticket(session=s, user=cx, title=TITLES[name], device="chj-ex-core1",
                                interface="Ethernet1/1",
                                now=world.now - dt.timedelta(minutes=minutes + 1))  # fmt: skip
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {**os.environ, "IXOPS_HOME": str(tmp_path / "home"), "IXOPS_DATABASE_URL": database_url}
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ixops", "serve", "--port", str(port),
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    stream = bytearray()
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 20
            while True:
                try:
                    ws = await http.ws_connect(f"http://127.0.0.1:{port}/ws?width=160&height=50")
                    break
                except aiohttp.ClientError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.3)

            async def read_for(seconds: float) -> None:
                end = time.monotonic() + seconds
                while (left := end - time.monotonic()) > 0:
                    try:
                        message = await ws.receive(timeout=left)
                    except TimeoutError:
                        return
                    if message.type == aiohttp.WSMsgType.BINARY:
                        stream.extend(message.data)
                    elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                        return

            async def until(text: str, seconds: float) -> None:
                end = time.monotonic() + seconds
                while text not in stream.decode("utf-8", "replace"):
                    assert time.monotonic() < end, f"never saw {text!r}"
                    await read_for(0.5)

            await ws.send_json(["resize", {"width": 160, "height": 50}])
            await until("Password", 30)
            for keys in ("eng", "\r", PASSWORD, "\r"):
                await ws.send_json(["stdin", keys])
                await asyncio.sleep(0.2)
            await until("Click me", 30)
            await read_for(1.0)
            await ws.close()
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 10)
    shown = stream.decode("utf-8", "replace")
    # The words, markup and all, as text; the controls as visible escapes.
    assert "[@click=app.quit]Click me[/]" in shown
    assert "\\x1b[2J\\x1b[H\\x1b[7Acleared" in shown
    assert "\\x1b]0;pwned title\\x07after" in shown
    assert "\\x1b]8;;https://evil.example/" in shown
    # Never the titles' own sequences, raw.
    for raw in ("\x1b]0;pwned", "\x1b]8;;https://evil", "\x1b[7Acleared", "\x07after"):
        assert raw not in shown, repr(raw)
