"""`ixops serve`: the console's web page and its websocket, served on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def test_serve_answers_with_the_console_page(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {**os.environ, "IXOPS_HOME": str(tmp_path), "IXOPS_USER": "should-be-ignored"}
    server = subprocess.Popen(
        [sys.executable, "-m", "ixops", "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        page = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                    page = reply.read().decode()
                    assert reply.status == 200
                    break
            except OSError:
                time.sleep(0.3)
        assert "ixops" in page
        # The page opens a websocket running `ixops tui` without --as: a login for everyone.
        assert "/ws" in page
    finally:
        server.terminate()
        server.wait(10)
