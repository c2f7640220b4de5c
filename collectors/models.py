"""What the collectors observed: current status, raw samples and roll-ups, readings, events.

Events before consequences: a collector first stores what it saw (an `link_event` row with a
unique `event_key`, so that a retry after a crash cannot store it twice), then the ticket rules
act on it. Raw interface samples are kept for a bounded window and folded into hourly and daily
roll-ups, so the store does not grow without bound: by default (`collectors.store.RetentionPolicy`,
`ixops collect --keep-…-days`) raw samples 14 days, hourly roll-ups 90 days, daily roll-ups
5 years, each pruned hourly — at most 4 × (2 161 + 1 827) roll-up rows per port, whatever the
store's age (`RetentionPolicy.rollup_rows_bound`, checked by tests/integration/
test_rollup_history.py). Heartbeats are kept 7 days (each collector's newest for ever).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from inventory.dbtime import UTCDateTime


class DeviceStatus(SQLModel, table=True):
    """A device's reachability as the poller last saw it (one row per device)."""

    __tablename__ = "device_status"
    device_id: int = Field(foreign_key="device.id", primary_key=True)
    reachable: bool = True
    missed_rounds: int = 0
    last_polled_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_seen_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    sys_uptime_cs: int | None = Field(default=None, sa_type=BigInteger)
    last_error: str | None = None
    updated_at: dt.datetime = Field(sa_type=UTCDateTime)


class InterfaceStatus(SQLModel, table=True):
    """A port's last polled state and rates, and the flap detector's saved state."""

    __tablename__ = "interface_status"
    interface_id: int = Field(foreign_key="interface.id", primary_key=True)
    if_index: int | None = None
    admin_status: str | None = Field(default=None, sa_type=String(16))
    oper_status: str | None = Field(default=None, sa_type=String(16))
    changed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_polled_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    in_bps: float | None = None
    out_bps: float | None = None
    in_utilisation_pct: float | None = None
    out_utilisation_pct: float | None = None
    in_errors_per_s: float | None = None
    in_discards_per_s: float | None = None
    flapping: bool = False
    flap_state: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    raised_thresholds: list[str] | None = Field(default=None, sa_type=JSON)
    updated_at: dt.datetime = Field(sa_type=UTCDateTime)


class InterfaceSample(SQLModel, table=True):
    """One raw counter sample: the input of rates, kept for the retention window."""

    __tablename__ = "interface_sample"
    __table_args__ = (Index("ix_interface_sample_if_time", "interface_id", "sampled_at"),)
    id: int | None = Field(default=None, primary_key=True)
    interface_id: int = Field(foreign_key="interface.id")
    sampled_at: dt.datetime = Field(sa_type=UTCDateTime)
    sys_uptime_cs: int = Field(sa_type=BigInteger)
    in_octets: int | None = Field(default=None, sa_type=BigInteger)
    out_octets: int | None = Field(default=None, sa_type=BigInteger)
    in_ucast_pkts: int | None = Field(default=None, sa_type=BigInteger)
    out_ucast_pkts: int | None = Field(default=None, sa_type=BigInteger)
    in_errors: int | None = Field(default=None, sa_type=BigInteger)
    out_errors: int | None = Field(default=None, sa_type=BigInteger)
    in_discards: int | None = Field(default=None, sa_type=BigInteger)
    out_discards: int | None = Field(default=None, sa_type=BigInteger)
    discontinuity_cs: int | None = Field(default=None, sa_type=BigInteger)
    speed_mbps: int | None = None
    # Width of the octet and packet counters (32: ifTable's, 64 or None: ifXTable's HC ones).
    counter_bits: int | None = None


class InterfaceRollup(SQLModel, table=True):
    """Hourly and daily figures per port and metric (bits/s in and out, errors/s …)."""

    __tablename__ = "interface_rollup"
    __table_args__ = (
        UniqueConstraint(
            "interface_id", "width", "bucket_start", "metric", name="uq_rollup_bucket"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    interface_id: int = Field(foreign_key="interface.id", index=True)
    width: str = Field(sa_type=String(8))
    bucket_start: dt.datetime = Field(sa_type=UTCDateTime)
    metric: str = Field(sa_type=String(32))
    count: int
    min_value: float
    avg_value: float
    max_value: float
    p95_value: float


class EventKind(StrEnum):
    """What a stored event (``link_event.kind``) is: the one list of them, which every writer
    and the ticket rules (``tickets.rules.FaultKind``, an alias) use. The values are stored
    data: renaming one needs a migration of the rows."""

    LINK_DOWN = "link_down"
    LINK_UP = "link_up"
    LINK_OBSERVED = "link_observed"  # a port's state as first seen, no change
    DEVICE_UNREACHABLE = "device_unreachable"
    DEVICE_REACHABLE = "device_reachable"
    DEVICE_RESTARTED = "device_restarted"
    FLAPPING_STARTED = "flapping_started"
    FLAPPING_ENDED = "flapping_ended"
    THRESHOLD_CROSSED = "threshold_crossed"
    THRESHOLD_CLEARED = "threshold_cleared"
    COLLECTOR_SILENT = "collector_silent"
    COLLECTOR_RETURNED = "collector_returned"
    CABLING_MISMATCH = "cabling_mismatch"
    CABLING_CLEARED = "cabling_cleared"
    CONFIG_CHANGED = "config_changed"
    IDENTITY_MISMATCH = "identity_mismatch"
    ENVIRONMENT_UNREAD = "environment_unread"
    ENVIRONMENT_READ = "environment_read"


class LinkEvent(SQLModel, table=True):
    """Something that happened to a port, link or device, as detected, with its source."""

    __tablename__ = "link_event"
    __table_args__ = (
        Index("ix_link_event_interface_time", "interface_id", "detected_at"),
        # The events the ticket rules have not seen yet, oldest first (every hand-over's read).
        Index(
            "ix_link_event_unhandled",
            "detected_at",
            "id",
            postgresql_where=text("handled_at IS NULL"),
            sqlite_where=text("handled_at IS NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    # Unique per fact: a retried write after a crash finds its own row instead of a twin.
    event_key: str = Field(unique=True)
    kind: str = Field(sa_type=String(32), index=True)  # an EventKind value
    device_id: int | None = Field(default=None, foreign_key="device.id", index=True)
    interface_id: int | None = Field(default=None, foreign_key="interface.id")
    link_id: int | None = Field(default=None, foreign_key="link.id", index=True)
    state: str | None = Field(default=None, sa_type=String(16))
    previous_state: str | None = Field(default=None, sa_type=String(16))
    source: str = Field(sa_type=String(16))
    detected_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)
    recorded_at: dt.datetime = Field(sa_type=UTCDateTime)
    planned: bool = False
    maintenance_ref: str | None = None
    details: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    # Set once the ticket rules have seen the event: a restart re-offers the rest.
    handled_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class Observation(SQLModel, table=True):
    """A reading: temperature, optical power, UPS battery, PDU load, CPU …"""

    __tablename__ = "observation"
    __table_args__ = (Index("ix_observation_lookup", "device_id", "metric", "observed_at"),)
    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(foreign_key="device.id")
    interface_id: int | None = Field(default=None, foreign_key="interface.id")
    metric: str = Field(sa_type=String(32))
    sensor: str = ""
    value: float
    unit: str = Field(default="", sa_type=String(16))
    source: str = Field(sa_type=String(16))
    observed_at: dt.datetime = Field(sa_type=UTCDateTime)


class MaintenanceWindow(SQLModel, table=True):
    """Planned work on a device or link: events inside it are planned, not faults."""

    __tablename__ = "maintenance_window"
    id: int | None = Field(default=None, primary_key=True)
    starts_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)
    device_id: int | None = Field(default=None, foreign_key="device.id")
    link_id: int | None = Field(default=None, foreign_key="link.id")
    reference: str = ""
    description: str = ""
    created_by: str = ""
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    # Ended before its time (tickets.planned.end_planned_work): when, by whom, why, and the end
    # it was declared with. A window cancelled before its start keeps its start and ends there
    # (no instant is inside it); one cut short ends when it was ended.
    ended_early_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_early_by: str = ""
    ended_early_reason: str = ""
    declared_ends_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def called_off(self) -> bool:
        """Ended before its start: it ends where it starts, no instant is inside it."""
        return self.ends_at <= self.starts_at


class CollectorLease(SQLModel, table=True):
    """Which collector polls which device, until when: a dead collector's lease runs out.

    One row per device and collector kind (``snmp`` or ``ssh``): the SNMP poller and the SSH
    collector of a device may be different processes. A collector takes a free or expired row
    with ``SELECT … FOR UPDATE SKIP LOCKED`` and renews it every round (collectors/leases.py).
    """

    __tablename__ = "collector_lease"
    device_id: int = Field(foreign_key="device.id", primary_key=True)
    kind: str = Field(default="snmp", primary_key=True, sa_type=String(8))
    collector: str = Field(index=True)
    acquired_at: dt.datetime = Field(sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)


class PortBinding(SQLModel, table=True):
    """Which interface of its device a declared port is, decided at discovery, and how.

    `matched_by` is `ifName`, `ifDescr` or `abbreviation` (collectors.ports); `speed_mbps`
    and `counter_bits` are what the device itself reported for the port at that discovery.
    """

    __tablename__ = "port_binding"
    interface_id: int = Field(foreign_key="interface.id", primary_key=True)
    device_id: int = Field(foreign_key="device.id", index=True)
    if_index: int
    matched_by: str = Field(sa_type=String(16))
    if_name: str = ""
    if_descr: str = ""
    speed_mbps: int | None = None
    counter_bits: int = 64
    discovered_at: dt.datetime = Field(sa_type=UTCDateTime)


class DiscoveryProblem(SQLModel, table=True):
    """Something discovery (or a round) found wrong with a device against its inventory.

    One row per device, kind and port (`problem_key`), kept when it clears (`resolved_at`) and
    reopened if it comes back, so `ixops collect` says it once and the audit lists what is open.
    """

    __tablename__ = "discovery_problem"
    __table_args__ = (UniqueConstraint("problem_key", name="uq_discovery_problem_key"),)
    id: int | None = Field(default=None, primary_key=True)
    problem_key: str = Field(sa_type=String(255))
    device_id: int = Field(foreign_key="device.id", index=True)
    interface_id: int | None = Field(default=None, foreign_key="interface.id")
    port: str = ""
    kind: str = Field(sa_type=String(32))
    detail: str = ""
    data: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    first_seen_at: dt.datetime = Field(sa_type=UTCDateTime)
    last_seen_at: dt.datetime = Field(sa_type=UTCDateTime)
    resolved_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeviceIdentity(SQLModel, table=True):
    """Who a device says it is, per source (`snmp`, `ssh`): the latest reading of each."""

    __tablename__ = "device_identity"
    __table_args__ = (UniqueConstraint("device_id", "source", name="uq_device_identity_source"),)
    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(foreign_key="device.id", index=True)
    source: str = Field(sa_type=String(16))
    vendor: str = ""
    model: str = ""
    serial: str = ""
    os_version: str = ""
    sys_name: str = ""
    sys_descr: str = ""
    sys_object_id: str = ""
    observed_at: dt.datetime = Field(sa_type=UTCDateTime)


class CollectorHeartbeat(SQLModel, table=True):
    """One row per collector per round: that it ran, and what the round did.

    The newest row of a collector says whether it is alive (collectors/health.py): one older
    than three intervals, without ``stopped``, is a collector that died or hangs.
    """

    __tablename__ = "collector_heartbeat"
    __table_args__ = (Index("ix_collector_heartbeat_name_time", "collector", "round_started_at"),)
    id: int | None = Field(default=None, primary_key=True)
    collector: str
    kind: str = Field(default="snmp", sa_type=String(8))
    site: str | None = Field(default=None, sa_type=String(16))
    host: str = ""
    pid: int = 0
    version: str = Field(default="", sa_type=String(32))
    interval_s: float
    round_started_at: dt.datetime = Field(sa_type=UTCDateTime)
    round_ended_at: dt.datetime = Field(sa_type=UTCDateTime)
    devices_leased: int = 0
    devices_polled: int = 0
    devices_answered: int = 0
    traps_received: int = 0
    traps_rejected: int = 0
    errors: int = 0
    first_error: str | None = None
    journal_pending: int = 0
    # The last row of a collector stopped on purpose (SIGTERM, Ctrl-C): not a silent one.
    stopped: bool = False


class SshScheduleState(SQLModel, table=True):
    """When each SSH getter last ran on each device: a restarted collect-ssh goes on from here."""

    __tablename__ = "ssh_schedule_state"
    device_id: int = Field(foreign_key="device.id", primary_key=True)
    getter: str = Field(primary_key=True, sa_type=String(16))
    last_run_at: dt.datetime = Field(sa_type=UTCDateTime)
    collector: str = ""
