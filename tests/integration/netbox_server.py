"""A local HTTP server answering as NetBox's REST API does, from recorded list responses.

It serves what tests/data/netbox/demo-v3.6.json holds (NetBox's demo data in the v3.6 REST
shapes) with NetBox's own behaviour around it: token authentication (403 with
`{"detail": "Invalid token."}`), the `API-Version` header, limit/offset pagination with
count/next/previous/results (50 per page by default, `limit=0` for the maximum of 1000), and
the `site` (slug) and `slug` filters the importer uses. Every request is kept for the tests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

RECORDING = Path(__file__).resolve().parents[1] / "data" / "netbox" / "demo-v3.6.json"
PAGE = 50
MAX_PAGE = 1000


def _site_of(path: str, obj: dict[str, Any], device_sites: dict[int, str]) -> set[str]:
    if path == "dcim/sites":
        return {obj["slug"]}
    if path == "dcim/interfaces":
        return {device_sites.get(obj["device"]["id"], "")}
    if path == "dcim/cables":
        found = set()
        for t in obj["a_terminations"] + obj["b_terminations"]:
            device = (t["object"] or {}).get("device")
            if device:
                found.add(device_sites.get(device["id"], ""))
        return found
    site = obj.get("site")
    return {site["slug"]} if site else set()


@dataclass
class NetboxServer:
    url: str
    token: str
    requests: list[str] = field(default_factory=list)


@contextmanager
def netbox_server(token: str, recording: Path = RECORDING) -> Iterator[NetboxServer]:
    data: dict[str, list[dict[str, Any]]] = json.loads(recording.read_text(encoding="utf-8"))
    device_sites = {d["id"]: d["site"]["slug"] for d in data.get("dcim/devices", [])}
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any) -> None:
            payload = json.dumps(body).replace("{base}", base).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("API-Version", "3.6")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            seen.append(self.path)
            parts = urlsplit(self.path)
            if self.headers.get("Authorization") != f"Token {token}":
                self._send(403, {"detail": "Invalid token."})
                return
            path = parts.path.strip("/").removeprefix("api").strip("/")
            if path in ("", "status"):
                self._send(200, {"netbox-version": "3.6.9", "dcim": f"{base}/api/dcim/"})
                return
            if path not in data:
                self._send(404, {"detail": "Not found."})
                return
            query = parse_qs(parts.query)
            objects = data[path]
            if "site" in query:
                wanted = set(query["site"])
                objects = [o for o in objects if _site_of(path, o, device_sites) & wanted]
            if "slug" in query:
                objects = [o for o in objects if o.get("slug") in set(query["slug"])]
            limit = int(query.get("limit", [PAGE])[0]) or MAX_PAGE
            limit = min(limit, MAX_PAGE)
            offset = int(query.get("offset", ["0"])[0])
            rest = {k: v for k, v in query.items() if k not in ("limit", "offset")}

            def page_url(at: int) -> str:
                params = [*((k, x) for k, v in rest.items() for x in v)]
                params += [("limit", str(limit)), ("offset", str(at))]
                return f"{base}/api/{path}/?{urlencode(params)}"

            after = offset + limit
            self._send(
                200,
                {
                    "count": len(objects),
                    "next": page_url(after) if after < len(objects) else None,
                    "previous": page_url(max(0, offset - limit)) if offset > 0 else None,
                    "results": objects[offset:after],
                },
            )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield NetboxServer(url=base, token=token, requests=seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
