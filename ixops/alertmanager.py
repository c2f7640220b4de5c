"""An Alertmanager webhook receiver: alerts from an existing Prometheus become ixops tickets.

Point an Alertmanager receiver at ``http://HOST:PORT/alerts`` (``webhook_configs: [{url: …}]``).
Each alert of the payload (version 4) becomes a fault event for the ticket rules, so the same
dedupe holds as for the collectors' own events: one open ticket per problem and subject, a
repeat appends to it, ``resolved`` recovers it. What the alert is about comes from its labels —
``device`` and optionally ``interface`` (the labels ixops's own metrics carry) — and what is
wrong from ``ixops_kind`` (link_down, device_unreachable, flapping, threshold; default
threshold), with ``severity`` and ``metric`` passed on as a threshold's details. An alert that
names no known device is left out and said in the response; a malformed payload is answered
400 with the reason, so Alertmanager's log shows it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

from sqlalchemy import Engine
from sqlmodel import Session, select

from inventory import models as inv
from tickets.rules import FaultEvent, FaultKind, apply_event

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES: Final = 1024 * 1024
KINDS: Final[Mapping[str, tuple[FaultKind, FaultKind]]] = {
    "link_down": (FaultKind.LINK_DOWN, FaultKind.LINK_UP),
    "device_unreachable": (FaultKind.DEVICE_UNREACHABLE, FaultKind.DEVICE_REACHABLE),
    "flapping": (FaultKind.FLAPPING_STARTED, FaultKind.FLAPPING_ENDED),
    "threshold": (FaultKind.THRESHOLD_CROSSED, FaultKind.THRESHOLD_CLEARED),
}


class PayloadError(ValueError):
    """The body is not an Alertmanager webhook payload; the message says where."""


@dataclass
class AlertOutcome:
    alert: str
    outcome: str
    ticket: str | None = None


@dataclass
class ReceiveReport:
    outcomes: list[AlertOutcome] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "alerts": [
                {"alert": o.alert, "outcome": o.outcome, "ticket": o.ticket} for o in self.outcomes
            ]
        }


def _time(value: Any, where: str) -> dt.datetime:
    if not isinstance(value, str):
        raise PayloadError(f"{where}: expected an RFC 3339 time, got {value!r}")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadError(f"{where}: {value!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise PayloadError(f"{where}: {value!r} has no time zone")
    return parsed.astimezone(dt.UTC)


def fault_events(session: Session, payload: Any) -> list[tuple[str, FaultEvent | None, str]]:
    """(alert name, event or None, why not) for each alert of a webhook payload."""
    if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
        raise PayloadError("the body has no 'alerts' list (is this an Alertmanager webhook?)")
    found: list[tuple[str, FaultEvent | None, str]] = []
    for index, alert in enumerate(payload["alerts"]):
        where = f"alerts[{index}]"
        if not isinstance(alert, dict) or not isinstance(alert.get("labels"), dict):
            raise PayloadError(f"{where}: an alert needs a 'labels' object")
        labels = {str(k): str(v) for k, v in alert["labels"].items()}
        name = labels.get("alertname", where)
        status = alert.get("status")
        if status not in ("firing", "resolved"):
            raise PayloadError(f"{where}: status must be firing or resolved, not {status!r}")
        kind_label = labels.get("ixops_kind", "threshold")
        if kind_label not in KINDS:
            found.append((name, None, f"ixops_kind {kind_label!r} is not one of {sorted(KINDS)}"))
            continue
        raised, cleared = KINDS[kind_label]
        device_name = labels.get("device")
        device = (
            session.exec(select(inv.Device).where(inv.Device.name == device_name)).first()
            if device_name
            else None
        )
        if device is None or device.id is None:
            found.append((name, None, f"no device {device_name!r} in the inventory"))
            continue
        interface_id = None
        subject = f"device:{device.name}"
        port = labels.get("interface")
        if port:
            interface = session.exec(
                select(inv.Interface).where(
                    inv.Interface.device_id == device.id, inv.Interface.name == port
                )
            ).first()
            if interface is None:
                found.append((name, None, f"device {device.name} has no interface {port!r}"))
                continue
            interface_id = interface.id
            subject = f"interface:{device.name}:{port}"
        if kind_label in ("link_down", "flapping") and interface_id is None:
            found.append((name, None, f"a {kind_label} alert needs an interface label"))
            continue
        firing = status == "firing"
        at = _time(alert.get("startsAt") if firing else alert.get("endsAt"), where)
        details = {
            "source": "alertmanager",
            "alertname": name,
            "fingerprint": str(alert.get("fingerprint", "")),
        }
        for key in ("severity", "metric"):
            if key in labels:
                details[key] = labels[key]
        annotations = alert.get("annotations")
        if isinstance(annotations, dict) and "summary" in annotations:
            details["summary"] = str(annotations["summary"])[:500]
        event = FaultEvent(
            kind=raised if firing else cleared,
            subject_key=subject,
            detected_at=at,
            device_id=device.id,
            interface_id=interface_id,
            details=details,
        )
        found.append((name, event, ""))
    return found


def receive(*, engine: Engine, payload: Any, now: dt.datetime) -> ReceiveReport:
    """Apply every alert of one webhook payload through the ticket rules."""
    report = ReceiveReport()
    with Session(engine) as session:
        events = fault_events(session, payload)
        session.rollback()  # only reads so far; apply_event wants a clean session
        for name, event, why in events:
            if event is None:
                report.outcomes.append(AlertOutcome(name, f"skipped: {why}"))
                continue
            result = apply_event(session=session, event=event, now=now)
            report.outcomes.append(AlertOutcome(name, result.outcome.value, result.ticket))
    return report


@dataclass
class AlertReceiver:
    address: str
    port: int
    close: Callable[[], None]


def serve_alerts(
    *,
    engine: Engine,
    clock: Callable[[], dt.datetime],
    address: str = "127.0.0.1",
    port: int,
) -> AlertReceiver:
    """Listen for Alertmanager's POSTs to /alerts in a thread."""
    lock = threading.Lock()  # one payload at a time: the rules commit per event

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            log.info("alertmanager %s: " + format, self.client_address[0], *args)

        def _answer(self, status: int, body: Mapping[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/alerts":
                self._answer(404, {"error": f"no such path {self.path!r}; POST to /alerts"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_PAYLOAD_BYTES:
                self._answer(413, {"error": f"payload over {MAX_PAYLOAD_BYTES} bytes"})
                return
            try:
                payload = json.loads(self.rfile.read(length) or b"null")
                with lock:
                    report = receive(engine=engine, payload=payload, now=clock())
            except json.JSONDecodeError as exc:
                self._answer(400, {"error": f"the body is not JSON: {exc}"})
                return
            except PayloadError as exc:
                self._answer(400, {"error": str(exc)})
                return
            self._answer(200, report.as_json())

    server = ThreadingHTTPServer((address, port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="alertmanager")
    thread.start()

    def close() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return AlertReceiver(address=address, port=int(server.server_address[1]), close=close)
