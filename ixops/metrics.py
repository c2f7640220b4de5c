"""Live metrics for Prometheus: what the collector sees, served at /metrics.

The collector hands every poll result, sensor reading and trap to `CollectorMetrics` (it is the
collector's observer); a scrape turns the latest of each into metric families. Counters are the
devices' own counters (ifHCInOctets and friends) exported as Prometheus counters, so `rate()`
works over any window and a device restart reads as a counter reset; the collector's own rates
over its last poll interval are exported beside them as gauges. Open tickets are counted from
the store at scrape time.

Low cardinality on purpose: one series per inventoried port (not every ifIndex a device has),
labels site, room, device, interface, access_unit, sensor, and small vocabularies (severity, SLA
state, trap kind, error kind); never a ticket id.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from prometheus_client import start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector as PrometheusCollector
from prometheus_client.registry import CollectorRegistry
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from collectors.counters import InterfaceRates, InterfaceSample, interface_rates
from collectors.snmp import (
    IfStatus,
    InterfacePollResult,
    InterfaceStatus,
    SensorKind,
    SensorPollResult,
    SensorReading,
)
from collectors.traps import TrapReceived
from inventory import models as inv
from ixops.collect import Collector
from tickets.models import Ticket, TicketEntry
from tickets.service import evaluate_ticket
from tickets.sla import TicketState

PORT_LABELS: Final = ("site", "room", "device", "interface", "access_unit")
DEVICE_LABELS: Final = ("site", "room", "device")
SENSOR_LABELS: Final = (*DEVICE_LABELS, "sensor")
OPTIC_LABELS: Final = (*PORT_LABELS, "sensor")
UNRESOLVED_STATES: Final = frozenset(TicketState) - {TicketState.RESOLVED, TicketState.CLOSED}


@dataclass(frozen=True)
class SensorMetric:
    name: str
    help: str
    scale: float = 1.0
    optic: bool = False


# Units by Prometheus's conventions: base units (seconds, volts, amperes, watts), ratios 0..1.
SENSOR_METRICS: Final[Mapping[SensorKind, SensorMetric]] = {
    SensorKind.TEMPERATURE_C: SensorMetric("ixops_temperature_celsius", "Temperature sensor."),
    SensorKind.OPTICAL_RX_DBM: SensorMetric(
        "ixops_optic_receive_power_dbm", "Optical receive power.", optic=True
    ),
    SensorKind.OPTICAL_TX_DBM: SensorMetric(
        "ixops_optic_transmit_power_dbm", "Optical transmit power.", optic=True
    ),
    SensorKind.OPTICAL_DBM: SensorMetric(
        "ixops_optic_power_dbm", "Optical power (direction not stated).", optic=True
    ),
    SensorKind.UPS_ON_BATTERY: SensorMetric("ixops_ups_on_battery", "1 while on battery."),
    SensorKind.UPS_BATTERY_STATUS: SensorMetric(
        "ixops_ups_battery_status", "UPS-MIB upsBatteryStatus (2 normal, 3 low, 4 depleted)."
    ),
    SensorKind.UPS_CHARGE_PCT: SensorMetric(
        "ixops_ups_battery_charge_ratio", "Battery charge, 0 to 1.", scale=0.01
    ),
    SensorKind.UPS_MINUTES_REMAINING: SensorMetric(
        "ixops_ups_battery_remaining_seconds", "Estimated run time left.", scale=60.0
    ),
    SensorKind.UPS_SECONDS_ON_BATTERY: SensorMetric(
        "ixops_ups_on_battery_seconds", "Time on battery so far."
    ),
    SensorKind.UPS_INPUT_VOLTAGE_V: SensorMetric("ixops_ups_input_volts", "Input voltage."),
    SensorKind.UPS_LOAD_PCT: SensorMetric(
        "ixops_ups_load_ratio", "Output load, 0 to 1.", scale=0.01
    ),
    SensorKind.UPS_ALARMS: SensorMetric("ixops_ups_alarms", "Alarms present."),
    SensorKind.PDU_PHASE_CURRENT_A: SensorMetric(
        "ixops_pdu_phase_current_amperes", "PDU phase current."
    ),
    SensorKind.PDU_PHASE_LOAD_STATE: SensorMetric(
        "ixops_pdu_phase_load_state", "PDU phase load state (1 normal, 2 low, 3 near, 4 over)."
    ),
    SensorKind.PDU_POWER_W: SensorMetric("ixops_pdu_power_watts", "PDU power draw."),
    SensorKind.FAN_STATE: SensorMetric("ixops_fan_up", "1 while the fan works, 0 failed."),
    SensorKind.PSU_STATE: SensorMetric(
        "ixops_power_supply_up", "1 while the power supply works, 0 failed."
    ),
    SensorKind.OTHER: SensorMetric("ixops_sensor_value", "Any other sensor, in its own unit."),
}

# (metric name without _total, help, the InterfaceStatus field)
INTERFACE_COUNTERS: Final = (
    (
        "ixops_interface_received_bytes",
        "Octets received (ifHCInOctets; ifInOctets where the agent has only 32-bit counters).",
        "in_octets",
    ),
    (
        "ixops_interface_transmitted_bytes",
        "Octets sent (ifHCOutOctets; ifOutOctets where the agent has only 32-bit counters).",
        "out_octets",
    ),
    (
        "ixops_interface_received_unicast_packets",
        "Unicast packets received (ifHCInUcastPkts or ifInUcastPkts).",
        "in_ucast_pkts",
    ),
    (
        "ixops_interface_transmitted_unicast_packets",
        "Unicast packets sent (ifHCOutUcastPkts or ifOutUcastPkts).",
        "out_ucast_pkts",
    ),
    ("ixops_interface_receive_errors", "Inbound errors (ifInErrors).", "in_errors"),
    ("ixops_interface_transmit_errors", "Outbound errors (ifOutErrors).", "out_errors"),
    ("ixops_interface_receive_discards", "Inbound discards (ifInDiscards).", "in_discards"),
    ("ixops_interface_transmit_discards", "Outbound discards (ifOutDiscards).", "out_discards"),
)

# (metric name, help, how to read it from InterfaceRates)
INTERFACE_RATES: Final[tuple[tuple[str, str, Callable[[InterfaceRates], float | None]], ...]] = (
    (
        "ixops_interface_receive_bytes_per_second",
        "Receive rate over the collector's last poll interval.",
        lambda r: r.in_rate_bps / 8,
    ),
    (
        "ixops_interface_transmit_bytes_per_second",
        "Transmit rate over the collector's last poll interval.",
        lambda r: r.out_rate_bps / 8,
    ),
    (
        "ixops_interface_receive_utilisation_ratio",
        "Receive utilisation of the line speed, 0 to 1, over the last poll interval.",
        lambda r: None if r.in_utilisation_pct is None else r.in_utilisation_pct / 100,
    ),
    (
        "ixops_interface_transmit_utilisation_ratio",
        "Transmit utilisation of the line speed, 0 to 1, over the last poll interval.",
        lambda r: None if r.out_utilisation_pct is None else r.out_utilisation_pct / 100,
    ),
    (
        "ixops_interface_receive_errors_per_second",
        "Inbound errors per second over the last poll interval.",
        lambda r: r.in_errors_per_s,
    ),
    (
        "ixops_interface_transmit_errors_per_second",
        "Outbound errors per second over the last poll interval.",
        lambda r: r.out_errors_per_s,
    ),
    (
        "ixops_interface_receive_discards_per_second",
        "Inbound discards per second over the last poll interval.",
        lambda r: r.in_discards_per_s,
    ),
    (
        "ixops_interface_transmit_discards_per_second",
        "Outbound discards per second over the last poll interval.",
        lambda r: r.out_discards_per_s,
    ),
)


@dataclass(frozen=True)
class Place:
    """Where a device stands, as labels."""

    site: str
    room: str


@dataclass(frozen=True)
class LabelIndex:
    """Labels for what the store knows: device → site and room, port → access unit."""

    places: Mapping[str, Place]
    ports: Mapping[tuple[str, str], str]  # (device, interface) → access unit code or ""
    speeds_bps: Mapping[tuple[str, str], int]

    def device(self, device: str) -> tuple[str, str, str]:
        place = self.places.get(device, Place("", ""))
        return (place.site, place.room, device)

    def port(self, device: str, interface: str) -> tuple[str, str, str, str, str]:
        return (*self.device(device), interface, self.ports.get((device, interface), ""))


def load_labels(session: Session) -> LabelIndex:
    """Label values of every active device and port, from the store."""
    sites = {s.id: s.code for s in session.exec(select(inv.Site))}
    rooms = {r.id: r.name for r in session.exec(select(inv.Room))}
    rack_rooms = {r.id: r.room_id for r in session.exec(select(inv.Rack))}
    units = {u.id: u.code for u in session.exec(select(inv.AccessUnit))}
    devices = list(session.exec(select(inv.Device).where(col(inv.Device.retired_at).is_(None))))
    places = {
        d.name: Place(sites.get(d.site_id, ""), rooms.get(rack_rooms.get(d.rack_id, -1), ""))
        for d in devices
    }
    names = {d.id: d.name for d in devices}
    unit_of: dict[int, str] = {}
    for link in session.exec(select(inv.Link).where(col(inv.Link.retired_at).is_(None))):
        if link.access_unit_id is None:
            continue
        for end in (link.a_interface_id, link.b_interface_id):
            if end is not None:
                unit_of[end] = units.get(link.access_unit_id, "")
    ports: dict[tuple[str, str], str] = {}
    speeds: dict[tuple[str, str], int] = {}
    for interface in session.exec(
        select(inv.Interface).where(col(inv.Interface.retired_at).is_(None))
    ):
        device = names.get(interface.device_id)
        if device is None or interface.id is None:
            continue
        ports[(device, interface.name)] = unit_of.get(interface.id, "")
        speeds[(device, interface.name)] = interface.speed_mbps * 1_000_000
    return LabelIndex(places=places, ports=ports, speeds_bps=speeds)


@dataclass
class _PortState:
    status: InterfaceStatus
    sample: InterfaceSample | None = None
    rates: InterfaceRates | None = None


@dataclass
class _DeviceState:
    up: bool = False
    polls: int = 0
    last_poll_at: float | None = None
    failures: dict[str, int] = field(default_factory=dict)
    ports: dict[str, _PortState] = field(default_factory=dict)
    readings: dict[tuple[SensorKind, str], tuple[SensorReading, str]] = field(default_factory=dict)


def _sensor_label(reading: SensorReading) -> str:
    return reading.name or f"{reading.kind.value}.{reading.index}"


class CollectorMetrics(PrometheusCollector):
    """The collector's observer and a Prometheus collector in one.

    Observer calls come from the collector's event loop, scrapes from the HTTP server's threads;
    one lock guards the state between them.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        labels: LabelIndex,
        clock: Callable[[], dt.datetime],
        targets: int = 0,
        problems: int = 0,
    ) -> None:
        self.engine = engine
        self.labels = labels
        self.clock = clock
        self.targets = targets
        self.problems = problems
        self.started_at = clock().timestamp()
        self._lock = threading.Lock()
        self._devices: dict[str, _DeviceState] = {}
        self._rounds = 0
        self._round_seconds_sum = 0.0
        self._last_round_at: float | None = None
        self._last_round_seconds: float | None = None
        self._traps: dict[tuple[str, str], int] = {}
        self._ticket_errors = 0

    # -- the collector's observer ----------------------------------------------------------

    def interfaces_polled(
        self, results: Sequence[InterfacePollResult], *, duration_s: float
    ) -> None:
        with self._lock:
            self._rounds += 1
            self._round_seconds_sum += duration_s
            self._last_round_seconds = duration_s
            self._last_round_at = self.clock().timestamp()
            for result in results:
                self._device_polled(result)

    def _device_polled(self, result: InterfacePollResult) -> None:
        state = self._devices.setdefault(result.device, _DeviceState())
        state.polls += 1
        state.up = result.ok
        if not result.ok:
            kind = result.error.kind.value if result.error is not None else "unknown"
            state.failures[kind] = state.failures.get(kind, 0) + 1
            return
        if result.polled_at is not None:
            state.last_poll_at = result.polled_at.timestamp()
        for status in result.interfaces:
            if status.port is None or (result.device, status.port) not in self.labels.ports:
                continue
            port = state.ports.get(status.port)
            sample = None
            if result.polled_at is not None and result.sys_uptime_cs is not None:
                # The instant this row's counters arrived (late rows of a long walk later).
                sampled_at, uptime_cs = status.sampled(result.polled_at, result.sys_uptime_cs)
                sample = status.to_sample(
                    sampled_at=sampled_at,
                    sys_uptime_cs=uptime_cs,
                    speed_bps=status.speed_bps
                    or self.labels.speeds_bps.get((result.device, status.port)),
                )
            rates = None
            if sample is not None and port is not None and port.sample is not None:
                computed = interface_rates(port.sample, sample)
                rates = computed if isinstance(computed, InterfaceRates) else None
            state.ports[status.port] = _PortState(status=status, sample=sample, rates=rates)

    def sensors_polled(
        self,
        results: Sequence[SensorPollResult],
        port_name: Callable[[str, int], str | None],
    ) -> None:
        with self._lock:
            for result in results:
                if not result.ok:
                    continue
                state = self._devices.setdefault(result.device, _DeviceState())
                state.readings = {}
                for reading in result.readings:
                    if reading.kind not in SENSOR_METRICS:
                        reading = replace(reading, kind=SensorKind.OTHER)
                    port = ""
                    if reading.if_index is not None:
                        port = port_name(result.device, reading.if_index) or ""
                    state.readings[(reading.kind, _sensor_label(reading))] = (reading, port)

    def trap_received(self, trap: TrapReceived) -> None:
        with self._lock:
            key = (trap.device, trap.kind.value)
            self._traps[key] = self._traps.get(key, 0) + 1

    # -- the scrape ------------------------------------------------------------------------

    def describe(self) -> Iterable[Metric]:
        # Nothing described up front: registering must not run a scrape (and a store query).
        return ()

    def collect(self) -> Iterator[Metric]:
        # Copy under the lock, build outside it: a scrape of a big exchange takes a while, and
        # the observer calls come from the collector's event loop, which must not wait for it.
        with self._lock:
            snapshot = self._snapshot()
        yield from snapshot._collector_health()
        yield from snapshot._device_families()
        yield from snapshot._interface_families()
        yield from snapshot._sensor_families()
        yield from snapshot._trap_families()
        yield from self._ticket_families()

    def _snapshot(self) -> CollectorMetrics:
        snapshot = copy.copy(self)
        snapshot._devices = {
            name: replace(
                state,
                failures=dict(state.failures),
                ports=dict(state.ports),
                readings=dict(state.readings),
            )
            for name, state in self._devices.items()
        }
        snapshot._traps = dict(self._traps)
        return snapshot

    def _collector_health(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("ixops_collector_up", "1 while this collector is running.")
        up.add_metric([], 1)
        yield up
        started = GaugeMetricFamily(
            "ixops_collector_start_time_seconds", "When this collector started (Unix time)."
        )
        started.add_metric([], self.started_at)
        yield started
        targets = GaugeMetricFamily(
            "ixops_collector_targets", "Devices this collector polls over SNMP."
        )
        targets.add_metric([], self.targets)
        yield targets
        problems = GaugeMetricFamily(
            "ixops_collector_configuration_problems",
            "Devices left out of polling (missing profile or credential).",
        )
        problems.add_metric([], self.problems)
        yield problems
        rounds = SummaryMetricFamily(
            "ixops_poll_round_duration_seconds", "Time one poll round of every device took."
        )
        rounds.add_metric([], count_value=self._rounds, sum_value=self._round_seconds_sum)
        yield rounds
        if self._last_round_at is not None:
            last = GaugeMetricFamily(
                "ixops_collector_last_round_timestamp_seconds",
                "When the last poll round finished (Unix time).",
            )
            last.add_metric([], self._last_round_at)
            yield last
            seconds = GaugeMetricFamily(
                "ixops_collector_last_round_duration_seconds", "How long the last round took."
            )
            seconds.add_metric([], self._last_round_seconds or 0.0)
            yield seconds
        unreachable = GaugeMetricFamily(
            "ixops_collector_devices_unanswered",
            "Devices that did not answer the last poll round.",
        )
        unreachable.add_metric([], sum(1 for d in self._devices.values() if not d.up))
        yield unreachable

    def _device_families(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "ixops_device_up", "1 if the device answered its last poll.", labels=DEVICE_LABELS
        )
        polls = CounterMetricFamily(
            "ixops_device_polls", "Interface polls of the device.", labels=DEVICE_LABELS
        )
        failures = CounterMetricFamily(
            "ixops_device_poll_failures",
            "Polls that got no usable answer, by error kind.",
            labels=(*DEVICE_LABELS, "error"),
        )
        last = GaugeMetricFamily(
            "ixops_device_last_poll_timestamp_seconds",
            "When the device last answered (Unix time).",
            labels=DEVICE_LABELS,
        )
        for name, state in sorted(self._devices.items()):
            labels = list(self.labels.device(name))
            up.add_metric(labels, 1 if state.up else 0)
            polls.add_metric(labels, state.polls)
            for kind, count in sorted(state.failures.items()):
                failures.add_metric([*labels, kind], count)
            if state.last_poll_at is not None:
                last.add_metric(labels, state.last_poll_at)
        yield from (up, polls, failures, last)

    def _interface_families(self) -> Iterator[Metric]:
        oper = GaugeMetricFamily(
            "ixops_interface_oper_up", "1 if ifOperStatus is up.", labels=PORT_LABELS
        )
        admin = GaugeMetricFamily(
            "ixops_interface_admin_up", "1 if ifAdminStatus is up.", labels=PORT_LABELS
        )
        speed = GaugeMetricFamily(
            "ixops_interface_speed_bytes_per_second",
            "The port's speed in the inventory.",
            labels=PORT_LABELS,
        )
        counters = [
            (CounterMetricFamily(name, text, labels=PORT_LABELS), attr)
            for name, text, attr in INTERFACE_COUNTERS
        ]
        rates = [
            (GaugeMetricFamily(name, text, labels=PORT_LABELS), read)
            for name, text, read in INTERFACE_RATES
        ]
        for device, state in sorted(self._devices.items()):
            for port_name, port in sorted(state.ports.items()):
                labels = list(self.labels.port(device, port_name))
                status = port.status
                if status.oper_status is not None:
                    oper.add_metric(labels, 1 if status.oper_status is IfStatus.UP else 0)
                if status.admin_status is not None:
                    admin.add_metric(labels, 1 if status.admin_status is IfStatus.UP else 0)
                bps = self.labels.speeds_bps.get((device, port_name))
                if bps:
                    speed.add_metric(labels, bps / 8)
                for family, attr in counters:
                    value = getattr(status, attr)
                    if value is not None:
                        family.add_metric(labels, value)
                if port.rates is not None:
                    for gauge, read in rates:
                        rate = read(port.rates)
                        if rate is not None:
                            gauge.add_metric(labels, rate)
        yield from (oper, admin, speed)
        yield from (family for family, _ in counters)
        yield from (gauge for gauge, _ in rates)

    def _sensor_families(self) -> Iterator[Metric]:
        families: dict[SensorKind, GaugeMetricFamily] = {}
        for kind, spec in SENSOR_METRICS.items():
            names: tuple[str, ...] = OPTIC_LABELS if spec.optic else SENSOR_LABELS
            if kind is SensorKind.OTHER:
                names = (*SENSOR_LABELS, "unit")
            families[kind] = GaugeMetricFamily(spec.name, spec.help, labels=names)
        for device, state in sorted(self._devices.items()):
            for (kind, sensor), (reading, port) in sorted(state.readings.items()):
                spec = SENSOR_METRICS[kind]
                labels: list[str]
                if spec.optic:
                    labels = [*self.labels.port(device, port), sensor]
                else:
                    labels = [*self.labels.device(device), sensor]
                if kind is SensorKind.OTHER:
                    labels.append(reading.unit)
                families[kind].add_metric(labels, reading.value * spec.scale)
        yield from families.values()

    def _trap_families(self) -> Iterator[Metric]:
        traps = CounterMetricFamily(
            "ixops_traps_received",
            "Traps received from known devices, by kind.",
            labels=(*DEVICE_LABELS, "kind"),
        )
        for (device, kind), count in sorted(self._traps.items()):
            traps.add_metric([*self.labels.device(device), kind], count)
        yield traps

    def _ticket_families(self) -> Iterator[Metric]:
        errors = CounterMetricFamily(
            "ixops_ticket_metrics_errors", "Scrapes whose ticket counts could not be read."
        )
        try:
            counts = open_ticket_counts(self.engine, now=self.clock())
        except Exception:  # noqa: BLE001 - a store outage must not take the whole scrape down
            with self._lock:
                self._ticket_errors += 1
                errors.add_metric([], self._ticket_errors)
            yield errors
            return
        with self._lock:
            errors.add_metric([], self._ticket_errors)
        yield errors
        tickets = GaugeMetricFamily(
            "ixops_tickets_open",
            "Unresolved tickets by site, severity and the state of their response SLA.",
            labels=("site", "severity", "sla_state"),
        )
        for (site, severity, sla_state), count in sorted(counts.items()):
            tickets.add_metric([site, severity, sla_state], count)
        yield tickets


def open_ticket_counts(engine: Engine, *, now: dt.datetime) -> dict[tuple[str, str, str], int]:
    """Unresolved tickets counted by (site code, severity, response SLA status) at ``now``.

    A read for the metrics endpoint, which acts for no person: counts, never ticket contents.
    """
    with Session(engine) as session:
        tickets = list(
            session.exec(
                select(Ticket).where(col(Ticket.state).in_([s.value for s in UNRESOLVED_STATES]))
            )
        )
        if not tickets:
            return {}
        sites = {s.id: s.code for s in session.exec(select(inv.Site))}
        entries: dict[int, list[TicketEntry]] = {t.id: [] for t in tickets if t.id is not None}
        for entry in session.exec(
            select(TicketEntry)
            .where(col(TicketEntry.ticket_id).in_(list(entries)))
            .order_by(col(TicketEntry.at), col(TicketEntry.id))
        ):
            entries[entry.ticket_id].append(entry)
        counts: dict[tuple[str, str, str], int] = {}
        for ticket in tickets:
            report = evaluate_ticket(ticket, entries.get(ticket.id or 0, []), now=now)
            site = sites.get(ticket.site_id, "") if ticket.site_id is not None else ""
            key = (site, ticket.severity, report.response.status.value)
            counts[key] = counts.get(key, 0) + 1
        return counts


@dataclass
class MetricsServer:
    """A running /metrics endpoint; `port` is the one bound (useful when asked for 0)."""

    address: str
    port: int
    close: Callable[[], None]


def serve_metrics(
    metrics: CollectorMetrics, *, address: str = "127.0.0.1", port: int
) -> MetricsServer:
    """Serve ``metrics`` on its own registry (no process metrics mixed in) in a thread."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(metrics)
    server, thread = start_http_server(port, addr=address, registry=registry)

    def close() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    bound = int(server.server_address[1])
    return MetricsServer(address=address, port=bound, close=close)


def start_collector_metrics(
    collector: Collector, *, address: str = "127.0.0.1", port: int
) -> MetricsServer:
    """Make ``collector`` feed a new metrics endpoint and start serving it."""
    with Session(collector.engine) as session:
        labels = load_labels(session)
    metrics = CollectorMetrics(
        engine=collector.engine,
        labels=labels,
        clock=collector.clock,
        targets=len(collector.targets),
        problems=len(collector.problems),
    )
    server = serve_metrics(metrics, address=address, port=port)
    collector.observer = metrics
    return server
