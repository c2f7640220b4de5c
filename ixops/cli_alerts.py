"""`ixops alerts receive`: Alertmanager's webhook into ixops tickets."""

from __future__ import annotations

import sys
import time

import click

from ixops.cliapp import App, pass_app, store_errors


@click.group("alerts")
def alerts_group() -> None:
    """Alerts from an existing Prometheus/Alertmanager, as ixops tickets."""


@alerts_group.command("receive")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9095, show_default=True, help="0: any free port.")
@pass_app
def alerts_receive(app: App, host: str, port: int) -> None:
    """Listen for Alertmanager webhooks at http://HOST:PORT/alerts until stopped.

    Alerts need a `device` label (and `interface` for a port) naming the inventory, and an
    `ixops_kind` label: link_down, device_unreachable, flapping or threshold (the default)."""
    from ixops.alertmanager import serve_alerts

    with store_errors(app):
        engine = app.engine()
    try:
        receiver = serve_alerts(engine=engine, clock=app.now, address=host, port=port)
    except OSError as exc:
        app.err.print(f"ixops: cannot listen on {host}:{port}: {exc}", markup=False)
        sys.exit(1)
    app.out.print(
        f"Alertmanager webhook at http://{receiver.address}:{receiver.port}/alerts", markup=False
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        app.out.print("Receiver stopped.")
    finally:
        receiver.close()
