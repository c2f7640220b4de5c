"""The Prometheus endpoint of a real collector polling the lab, scraped over HTTP; the shipped
Grafana dashboard's every query parsed and checked against what that scrape returns."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import promql_parser
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy import Engine

from inventory.validate import Inventory
from ixops.db import make_engine, upgrade
from ixops.metrics import MetricsServer, start_collector_metrics

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory" / "examples" / "shanghai-ix"
DASHBOARD = REPO / "deploy" / "grafana" / "ixops-exchange.json"
ALERT_RULES = REPO / "deploy" / "prometheus" / "ixops-alerts.yml"
START = 1_795_000_000.0  # 2026-11-18
SILENT = "zj-mgmt1"  # goes silent before the second round


@dataclass
class Scrapes:
    inventory: Inventory
    member: tuple[str, str, str]  # device, port, access unit
    first: str
    second: str
    content_type: str


def scrape(server: MetricsServer) -> tuple[str, str]:
    url = f"http://{server.address}:{server.port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8"), response.headers.get("Content-Type", "")


_PARSED: dict[str, list[Sample]] = {}


def samples(text: str) -> list[Sample]:
    if text not in _PARSED:  # parsing a scrape of 40 devices takes a while; do it once
        _PARSED[text] = [
            s for family in text_string_to_metric_families(text) for s in family.samples
        ]
    return _PARSED[text]


def one(text: str, name: str, **labels: str) -> float:
    found = [
        s.value
        for s in samples(text)
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(found) == 1, (name, labels, found)
    return found[0]


async def _exchange(tmp_path: Path, lab_exchange: Callable[..., Any]) -> AsyncIterator[Scrapes]:
    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    try:
        # Generous: one Python process answers for 40 devices on a shared, loaded machine.
        async with lab_exchange(engine, tmp_path, start=START, timeout_s=2.5) as exchange:
            collector, state = exchange.collector, exchange.state
            server = start_collector_metrics(collector, port=0)
            member = next(
                (p.device, p.interface, unit.value.code)
                for unit in exchange.inventory.access_units
                for p in unit.value.ports
                if p.device.startswith("ndr-acc")
            )
            try:
                first_round = await collector.run_round()
                assert first_round.answered == 40, first_round.errors
                first, content_type = await asyncio.to_thread(scrape, server)
                exchange.clock[0] += 60
                state.set_port(member[0], member[1], up=False)
                state.set_silent(SILENT, silent=True)
                trap = await asyncio.wait_for(collector._traps.get(), timeout=5)
                await collector.handle_trap(trap)
                await collector.run_round()
                second, _ = await asyncio.to_thread(scrape, server)
                yield Scrapes(exchange.inventory, member, first, second, content_type)
            finally:
                server.close()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def scrapes(
    tmp_path_factory: pytest.TempPathFactory, lab_exchange: Callable[..., Any]
) -> Iterator[Scrapes]:
    """One lab, one collector, two rounds and a port going down: scraped after each round."""
    loop = asyncio.new_event_loop()
    agen = _exchange(tmp_path_factory.mktemp("metrics"), lab_exchange)
    try:
        yield loop.run_until_complete(agen.__anext__())
    finally:
        with pytest.raises(StopAsyncIteration):
            loop.run_until_complete(agen.__anext__())
        loop.close()


def test_the_endpoint_speaks_the_prometheus_text_format(scrapes: Scrapes) -> None:
    assert scrapes.content_type.startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(scrapes.second)}
    assert "ixops_interface_received_bytes" in names  # a counter family; samples end _total
    for family in text_string_to_metric_families(scrapes.second):
        assert family.name.startswith("ixops_"), family.name
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples)
    # Only ixops's own families: no process or platform collectors mixed in.
    assert not any(n.startswith(("process_", "python_")) for n in names)


def test_counters_are_the_devices_own_and_rates_follow_the_second_round(
    scrapes: Scrapes,
) -> None:
    device, port, unit = scrapes.member
    labels = {"device": device, "interface": port, "access_unit": unit}
    first = one(scrapes.first, "ixops_interface_received_bytes_total", **labels)
    second = one(scrapes.second, "ixops_interface_received_bytes_total", **labels)
    assert second >= first > 0
    # Rates need two samples: none after the first round, a value after the second.
    rate_name = "ixops_interface_receive_bytes_per_second"
    assert not [s for s in samples(scrapes.first) if s.name == rate_name]
    uplinks = [s for s in samples(scrapes.second) if s.name == rate_name and s.value > 0]
    assert len(uplinks) > 100
    # Every inventoried port of the lab is a series, each with its site and room.
    oper = [s for s in samples(scrapes.second) if s.name == "ixops_interface_oper_up"]
    assert len(oper) > 300
    assert all(s.labels["site"] in {"CHJ", "NDR", "ZJ", "ZHR"} for s in oper)
    assert all(s.labels["room"] for s in oper)


def test_a_port_down_shows_in_oper_state_traps_and_open_tickets(scrapes: Scrapes) -> None:
    device, port, unit = scrapes.member
    labels = {"device": device, "interface": port, "access_unit": unit}
    assert one(scrapes.first, "ixops_interface_oper_up", **labels) == 1
    assert one(scrapes.second, "ixops_interface_oper_up", **labels) == 0
    assert one(scrapes.second, "ixops_interface_admin_up", **labels) == 1
    assert one(scrapes.second, "ixops_traps_received_total", device=device, kind="link_down") == 1
    assert not [s for s in samples(scrapes.first) if s.name == "ixops_tickets_open"]
    (ticket,) = [s for s in samples(scrapes.second) if s.name == "ixops_tickets_open"]
    assert ticket.value == 1
    assert ticket.labels["site"] == "NDR"
    assert ticket.labels["sla_state"] == "ok"  # 60 s into a 4-hour response budget
    assert "ticket" not in " ".join(ticket.labels)  # no ticket id or number as a label


def test_sensors_polls_and_collector_health(scrapes: Scrapes) -> None:
    text = scrapes.second
    temperatures = [s for s in samples(text) if s.name == "ixops_temperature_celsius"]
    assert temperatures
    assert all(10 < s.value < 80 for s in temperatures)
    assert [s for s in samples(text) if s.name == "ixops_optic_receive_power_dbm"]
    assert [s for s in samples(text) if s.name == "ixops_ups_battery_charge_ratio"]
    assert [s for s in samples(text) if s.name == "ixops_pdu_phase_current_amperes"]
    charge = [s for s in samples(text) if s.name == "ixops_ups_battery_charge_ratio"]
    assert all(0 <= s.value <= 1 for s in charge)
    assert one(text, "ixops_poll_round_duration_seconds_count") == 2
    assert one(text, "ixops_poll_round_duration_seconds_sum") > 0
    assert one(text, "ixops_collector_targets") == 40
    assert one(scrapes.first, "ixops_collector_devices_unanswered") == 0
    assert one(text, "ixops_collector_devices_unanswered") == 1
    assert one(text, "ixops_collector_up") == 1
    assert one(text, "ixops_collector_last_round_timestamp_seconds") == START + 60
    up = {s.labels["device"]: s.value for s in samples(text) if s.name == "ixops_device_up"}
    assert len(up) == 40
    assert up.pop(SILENT) == 0
    assert set(up.values()) == {1}
    assert one(text, "ixops_device_polls_total", device=SILENT) == 2
    assert one(text, "ixops_device_poll_failures_total", device=SILENT, error="timeout") == 1
    assert one(text, "ixops_device_last_poll_timestamp_seconds", device=SILENT) == START


# -- the Grafana dashboard --------------------------------------------------------------------

GRAFANA_VARIABLES = re.compile(r"\$(__rate_interval|__interval|__range)|\$\{(\w+)[^}]*\}|\$(\w+)")


def _expressions(dashboard: dict[str, object]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                found.append((where, node["expr"]))
            if isinstance(node.get("query"), dict) and isinstance(node["query"].get("query"), str):
                found.append((f"{where} variable", node["query"]["query"]))
            title = node.get("title") or node.get("name")
            for key, value in node.items():
                walk(value, f"{where}/{title}" if title and key == "targets" else where)
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    walk(dashboard, "dashboard")
    return found


def _concrete(expr: str) -> str:
    """Grafana's variables replaced by what Grafana would put there."""
    expr = re.sub(r"^label_values\((.+?)(?:,\s*\w+)?\)$", r"\1", expr.strip())

    def value(match: re.Match[str]) -> str:
        return "5m" if match.group(1) else ".*"

    return GRAFANA_VARIABLES.sub(value, expr)


def _metric_names(node: object) -> set[str]:
    names: set[str] = set()
    if isinstance(node, promql_parser.VectorSelector):
        if node.name:
            names.add(node.name)
        return names
    for attr in ("expr", "lhs", "rhs", "vector_selector", "param"):
        child = getattr(node, attr, None)
        if child is not None and type(child).__module__.startswith("promql"):
            names |= _metric_names(child)
    for child in getattr(node, "args", None) or []:
        names |= _metric_names(child)
    return names


def test_every_dashboard_query_parses_and_names_a_metric_the_collector_exports(
    scrapes: Scrapes,
) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    expressions = _expressions(dashboard)
    assert len(expressions) >= 12
    exported = {s.name for s in samples(scrapes.second)}
    missing: list[str] = []
    for where, expr in expressions:
        try:
            tree = promql_parser.parse(_concrete(expr))
        except ValueError as exc:
            raise AssertionError(f"{where}: {expr!r} is not PromQL: {exc}") from None
        names = _metric_names(tree)
        assert names, f"{where}: {expr!r} names no metric"
        missing += [f"{where}: {name}" for name in sorted(names - exported)]
    assert not missing, missing


def test_the_dashboard_has_the_four_views(scrapes: Scrapes) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    rows = [p["title"] for p in dashboard["panels"] if p.get("type") == "row"]
    assert len(rows) == 4
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"site", "room", "access_unit"} <= variables


def test_the_alert_rules_parse_and_name_exported_metrics(scrapes: Scrapes) -> None:
    import yaml

    rules = [
        rule
        for group in yaml.safe_load(ALERT_RULES.read_text(encoding="utf-8"))["groups"]
        for rule in group["rules"]
    ]
    assert len(rules) >= 5
    exported = {s.name for s in samples(scrapes.second)}
    for rule in rules:
        names = _metric_names(promql_parser.parse(rule["expr"]))
        assert names, rule["alert"]
        assert names <= exported, (rule["alert"], names - exported)
        kind = rule.get("labels", {}).get("ixops_kind")
        assert kind in (None, "link_down", "device_unreachable", "flapping", "threshold")


def test_collect_says_clearly_when_the_metrics_port_is_taken(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ixops.cli import main

    env = {"IXOPS_HOME": str(tmp_path / "home"), "IXOPS_INVENTORY": str(EXAMPLE)}
    runner = CliRunner()
    assert runner.invoke(main, ["inventory", "sync"], env=env).exit_code == 0
    assert runner.invoke(main, ["lab", "init-secrets"], env=env).exit_code == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(
            main, ["collect", "--once", "--trap-port", "0", "--metrics-port", str(port)], env=env
        )
    assert result.exit_code == 1
    assert f"the metrics endpoint could not listen on 127.0.0.1:{port}" in result.output
