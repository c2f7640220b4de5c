"""A real headless Chromium driven over the DevTools protocol (aiohttp's websocket client),
for the web console's tests: navigate, type, screenshot, and record every request the page
makes. A helper module, imported by the browser tests.

Chromium is Debian's (`apt-get install chromium fonts-noto-cjk`); it is started with the flags
a machine without a display or a GPU needs, with its own profile directory, and with every host
name but 127.0.0.1 unresolvable, as in an isolated machine room.
"""

from __future__ import annotations

import asyncio
import base64
import io
import itertools
import json
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image, ImageChops

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--mute-audio",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")
KEYS = {
    "Enter": (13, "\r"),
    "Tab": (9, "\t"),
    "Escape": (27, ""),
    "ArrowDown": (40, ""),
}


def difference(a: bytes, b: bytes) -> float:
    """The share of pixels that differ visibly between two PNG screenshots."""
    first = Image.open(io.BytesIO(a)).convert("RGB")
    second = Image.open(io.BytesIO(b)).convert("RGB")
    if first.size != second.size:
        return 1.0
    diff = ImageChops.difference(first, second).convert("L").point(lambda v: 255 if v > 48 else 0)
    return diff.histogram()[255] / (first.size[0] * first.size[1])


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("Debian's chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    return found


class Page:
    """One tab: commands by the DevTools protocol, and the URLs of every request it made."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, session_id: str) -> None:
        self.ws = ws
        self.session_id = session_id
        self.requests: list[str] = []
        self._ids = itertools.count(1000)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}

    def on_event(self, message: dict[str, Any]) -> None:
        if message.get("method") == "Network.requestWillBeSent":
            self.requests.append(message["params"]["request"]["url"])
        elif message.get("method") == "Network.webSocketCreated":
            self.requests.append(message["params"]["url"])

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = future
        await self.ws.send_str(
            json.dumps(
                {"id": call_id, "method": method, "params": params, "sessionId": self.session_id}
            )
        )
        reply = await asyncio.wait_for(future, 30)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    async def evaluate(self, expression: str) -> Any:
        reply = await self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        return reply.get("result", {}).get("value")

    async def screenshot(self) -> bytes:
        reply = await self.send("Page.captureScreenshot", format="png")
        return base64.b64decode(reply["data"])

    async def type_text(self, text: str) -> None:
        await self.send("Input.insertText", text=text)

    async def press(self, key: str) -> None:
        code, text = KEYS[key]
        common = {"key": key, "code": key, "windowsVirtualKeyCode": code}
        await self.send("Input.dispatchKeyEvent", type="keyDown", text=text, **common)
        await self.send("Input.dispatchKeyEvent", type="keyUp", **common)

    async def changed(self, before: bytes, *, share: float = 0.02, timeout_s: float = 30.0) -> None:
        """Wait until the screen differs from `before` by at least `share` of its pixels (the
        next screen is up), then until it settles."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while difference(await self.screenshot(), before) < share:
            assert loop.time() < deadline, "the screen did not change"
            await asyncio.sleep(0.2)
        await self.settled()

    async def settled(self, *, quiet_s: float = 0.7, timeout_s: float = 30.0) -> bytes:
        """Wait until two screenshots `quiet_s` apart are the same but for a blinking cursor
        (under 0.1 % of the pixels); return the last."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        last = await self.screenshot()
        while loop.time() < deadline:
            await asyncio.sleep(quiet_s)
            shot = await self.screenshot()
            if difference(shot, last) < 0.001:
                return shot
            last = shot
        return last


@asynccontextmanager
async def chromium(tmp_path: Path, *, width: int, height: int) -> AsyncIterator[Page]:
    process = await asyncio.create_subprocess_exec(
        chromium_path(),
        *CHROMIUM_FLAGS,
        f"--window-size={width},{height}",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--remote-debugging-port=0",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        url = None
        while url is None:
            line = await asyncio.wait_for(process.stderr.readline(), 30)
            if not line:
                break
            found = _LISTENING.search(line.decode(errors="replace"))
            if found:
                url = found.group(1)
        assert url is not None, "chromium did not start its DevTools endpoint"
        async with aiohttp.ClientSession() as http, http.ws_connect(url, max_msg_size=0) as ws:
            ids = itertools.count(1)
            replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
            page: Page | None = None

            async def browser(method: str, **params: Any) -> dict[str, Any]:
                call_id = next(ids)
                replies[call_id] = asyncio.get_running_loop().create_future()
                await ws.send_str(json.dumps({"id": call_id, "method": method, "params": params}))
                reply = await asyncio.wait_for(replies[call_id], 30)
                return dict(reply.get("result", {}))

            async def pump() -> None:
                async for message in ws:
                    data = json.loads(message.data)
                    waiting = page._waiting if page is not None else {}
                    if "id" in data and data["id"] in replies:
                        replies.pop(data["id"]).set_result(data)
                    elif "id" in data and data["id"] in waiting:
                        waiting.pop(data["id"]).set_result(data)
                    elif page is not None and data.get("sessionId") == page.session_id:
                        page.on_event(data)

            pumping = asyncio.create_task(pump())
            try:
                target = await browser("Target.createTarget", url="about:blank")
                attached = await browser(
                    "Target.attachToTarget", targetId=target["targetId"], flatten=True
                )
                page = Page(ws, attached["sessionId"])
                await page.send("Network.enable")
                await page.send("Page.enable")
                await page.send(
                    "Emulation.setDeviceMetricsOverride",
                    width=width,
                    height=height,
                    deviceScaleFactor=1,
                    mobile=False,
                )
                yield page
            finally:
                pumping.cancel()
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
