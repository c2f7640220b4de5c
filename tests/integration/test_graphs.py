"""Traffic graphs from real samples and the collectors' own roll-ups: per port, access unit,
trunk and room, over 1 h / 24 h / 7 d / 30 d, and `ixops graph` writing PNG and SVG."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session

from collectors.counters import BucketWidth
from collectors.graphs import GraphError, Scope, Span, traffic_graph
from collectors.models import InterfaceSample, Observation
from collectors.store import roll_up_range
from inventory.accounts import PermissionDenied
from ixops.cli import main
from ixops.cliapp import App
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import EXAMPLE, World

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world
STEP = dt.timedelta(minutes=15)
IN_BPS, OUT_BPS = 2e9, 1e9  # each of excloud's two ports


def _feed(world: World, ports: list[tuple[str, str]], days: int = 8) -> None:
    """Samples every 15 minutes for `days` (the last hour every minute), rolled up hourly and
    daily by the collectors' own code; an Rx reading each hour on the first port."""
    now = world.now
    start = now - dt.timedelta(days=days)
    with Session(world.engine) as session:
        for device, port in ports:
            _, interface_id = World.port(session, device, port)
            at, uptime, octets_in, octets_out, errors = start, 100, 0, 0, 0
            while at <= now:
                session.add(
                    InterfaceSample(
                        interface_id=interface_id,
                        sampled_at=at,
                        sys_uptime_cs=uptime,
                        in_octets=int(octets_in),
                        out_octets=int(octets_out),
                        in_ucast_pkts=0,
                        out_ucast_pkts=0,
                        in_errors=errors,
                        out_errors=0,
                        in_discards=0,
                        out_discards=0,
                        speed_mbps=100_000,
                    )
                )
                step = STEP if at < now - dt.timedelta(hours=2) else dt.timedelta(minutes=1)
                at += step
                uptime += int(step.total_seconds() * 100)
                octets_in += IN_BPS / 8 * step.total_seconds()
                octets_out += OUT_BPS / 8 * step.total_seconds()
                errors += 3 * int(step.total_seconds())  # 3 errors a second
        _, first = World.port(session, *ports[0])
        device_id = World.port(session, *ports[0])[0]
        for hours in range(0, 24 * days, 6):
            session.add(
                Observation(
                    device_id=device_id,
                    interface_id=first,
                    metric="rx_power_dbm",
                    value=-3.0 - hours / 100,
                    unit="dBm",
                    source="ssh",
                    observed_at=now - dt.timedelta(hours=hours),
                )
            )
        session.commit()
        day0 = (start + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        roll_up_range(session=session, start=day0, end=now, width=BucketWidth.HOUR)
        roll_up_range(session=session, start=day0, end=now, width=BucketWidth.DAY)
        session.commit()


def test_a_ports_week_a_units_day_and_the_last_hour(world: World) -> None:
    _feed(world, [("chj-ex-core1", "Ethernet1/1"), ("chj-ex-core2", "Ethernet1/1")])
    with world.session() as session:
        eng = world.user(session, "eng")

        def graph(scope: Scope, name: str, span: Span):  # type: ignore[no-untyped-def]
            return traffic_graph(
                session=session, user=eng, scope=scope, name=name, span=span, now=world.now
            )

        week = graph(Scope.PORT, "chj-ex-core1 Ethernet1/1", Span.WEEK)
        assert week.source == "hour"
        traffic_in = week.get("in_bps")
        assert traffic_in is not None
        assert 160 <= len(traffic_in.points) <= 169  # hourly for a week
        assert all(abs(p.value - IN_BPS) < IN_BPS * 0.01 for p in traffic_in.points)
        errors = week.get("in_errors_per_s")
        assert errors is not None
        assert all(abs(p.value - 3) < 0.1 for p in errors.points)
        rx = week.get("rx_dbm")
        assert rx is not None
        assert len(rx.points) == 29  # every 6 hours for 7 days, both ends included
        assert min(p.at for p in traffic_in.points) >= world.now - dt.timedelta(days=7)

        # The unit: both of its ports added up per hour.
        day = graph(Scope.UNIT, "excloud", Span.DAY)
        assert day.title == "excloud Example Cloud Co. (AS64496)"
        unit_out = day.get("out_bps")
        assert unit_out is not None
        assert unit_out.points
        assert all(abs(p.value - 2 * OUT_BPS) < OUT_BPS * 0.02 for p in unit_out.points)

        hour = graph(Scope.PORT, "chj-ex-core1 Ethernet1/1", Span.HOUR)
        assert hour.source == "samples"
        hour_in = hour.get("in_bps")
        assert hour_in is not None
        assert 55 <= len(hour_in.points) <= 61  # a sample a minute
        month = graph(Scope.UNIT, "excloud", Span.MONTH)
        assert month.source == "day"
        month_in = month.get("in_bps")
        assert month_in is not None
        assert 6 <= len(month_in.points) <= 8  # the days there are

        room = graph(Scope.ROOM, "CHJ/Hall A", Span.DAY)
        room_in = room.get("in_bps")
        assert room_in is not None
        assert all(abs(p.value - 2 * IN_BPS) < IN_BPS * 0.02 for p in room_in.points)
        trunk = graph(Scope.TRUNK, "SH-ETS-100G-0001", Span.DAY)
        assert trunk.ports == ("chj-ex-core1 Ethernet1/18", "ndr-acc1 HundredGigE1/0/25")
        assert trunk.empty  # nothing sampled on it

        with pytest.raises(GraphError, match="no port Ethernet9/9 on device chj-ex-core1"):
            graph(Scope.PORT, "chj-ex-core1 Ethernet9/9", Span.DAY)
        with pytest.raises(GraphError, match="no room"):
            graph(Scope.ROOM, "CHJ/Nowhere", Span.DAY)
        # A contact draws their own unit, and nothing else.
        cx = world.user(session, "cx")
        mine = traffic_graph(
            session=session, user=cx, scope=Scope.UNIT, name="excloud", span=Span.DAY, now=world.now
        )
        assert mine.get("in_bps") is not None
        with pytest.raises(GraphError, match="no access unit 'sbband'"):
            traffic_graph(
                session=session,
                user=cx,
                scope=Scope.UNIT,
                name="sbband",
                span=Span.DAY,
                now=world.now,
            )
        with pytest.raises(PermissionDenied):
            traffic_graph(
                session=session,
                user=cx,
                scope=Scope.ROOM,
                name="CHJ/Hall A",
                span=Span.DAY,
                now=world.now,
            )


def test_ixops_graph_writes_png_and_svg(
    world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _feed(world, [("chj-ex-core1", "Ethernet1/1")], days=2)
    monkeypatch.setattr(App, "now", lambda self: world.now)
    env = {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_USER": "eng",
    }
    png, svg = tmp_path / "week.png", tmp_path / "day.svg"
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["graph", "port", "chj-ex-core1", "Ethernet1/1", "--span", "7d", "--out", str(png)],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output
    assert "from hour" in result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 20_000
    result = runner.invoke(
        main, ["graph", "unit", "excloud", "--span", "24h", "--out", str(svg)], env=env
    )
    assert result.exit_code == 0, result.output
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml")
    assert "excloud Example Cloud Co. (AS64496)" in text
    assert "北京时间" in text  # text stays text, in Chinese
    result = runner.invoke(main, ["graph", "unit", "nobody", "--out", str(svg)], env=env)
    assert result.exit_code == 2
    assert "no access unit 'nobody'" in result.output
