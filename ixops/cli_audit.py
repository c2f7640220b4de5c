"""`ixops audit ports`: what SNMP discovery found wrong against the inventory.

The audit group itself (and `audit cabling`) lives in ixops.cli_ssh; this module adds its
`ports` command and is what `ixops audit` loads. It reads the discovery problems the collector
stored (`ixops collect` decides them at discovery and in its rounds) — it asks no device:

- absent: a declared port matches no interface (by ifName, ifDescr or abbreviation);
- ambiguous: a declared port matches several interfaces, or shares one with another port;
- speed mismatch: the declared speed is not what the port itself reports (judged when up);
- admin down: a port declared in service (member, trunk, uplink) is shut on the device;
- undeclared traffic: a port the inventory does not declare carries traffic;
- identity mismatch: vendor, model or serial contradict the inventory (a wrong device at
  this address), per source (snmp, ssh).

Exit status 0 when nothing is open, 1 when there is a problem, 2 on a bad `--site`.
"""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table
from rich.text import Text

from collectors.discovery import port_audit
from inventory.timeutil import format_local
from ixops.cli_ssh import audit_group
from ixops.cliapp import App, pass_app, store_errors

PROBLEM_LABELS = {
    "absent": "declared, absent 已声明但不存在",
    "ambiguous": "ambiguous 匹配不唯一",
    "speed_mismatch": "speed mismatch 速率不符",
    "admin_down": "in service, shut 在用但管理关闭",
    "undeclared_traffic": "undeclared, traffic 未声明但有流量",
    "identity_mismatch": "wrong device? 设备身份不符",
}


@audit_group.command("ports")
@click.option("--site", help="Only devices of this site (code).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def audit_ports(app: App, site: str | None, fmt: str) -> None:
    """List the ports (and devices) whose discovery contradicts the inventory.

    Exit status 0 when there are none, 1 when there are.
    """
    with store_errors(app), app.session() as session:
        try:
            problems = port_audit(session, site=site)
        except LookupError as exc:
            app.err.print(Text(f"ixops: {exc}"))
            sys.exit(2)
    if fmt == "json":
        click.echo(
            json.dumps(
                {"site": site, "problems": [p.as_dict() for p in problems]},
                indent=2,
                ensure_ascii=False,
            )
        )
    elif problems:
        table = Table(title=f"Ports: {len(problems)} problems 端口问题")
        for name in ("site", "device", "port", "problem", "detail", "since 北京时间"):
            table.add_column(name)
        for p in problems:
            table.add_row(
                Text(p.site),
                Text(p.device),
                Text(p.port),
                Text(PROBLEM_LABELS.get(p.kind, p.kind)),
                Text(p.detail),
                Text(format_local(p.first_seen_at)),
            )
        app.out.print(table)
    else:
        where = f" at {site}" if site else ""
        app.out.print(Text(f"Every declared port{where} matches its device. 端口与清单一致。"))
    if problems:
        sys.exit(1)


__all__ = ["audit_group", "audit_ports"]
