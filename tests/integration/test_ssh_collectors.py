"""SSH getters, environment/optics, cabling audit and config backup against the lab's SSH CLIs.

Real peers throughout: the lab built from the example inventory (a few of its devices answer
SSH on free ports of their own 127.0.1.x addresses), napalm's real `ios` and `eos` drivers over
netmiko, and the store on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from collectors.configs import ConfigRepository
from collectors.models import LinkEvent, Observation
from collectors.ssh import (
    ALL_KINDS,
    DeviceCollection,
    ErrorKind,
    GetterKind,
    SshCollector,
    SshTarget,
    ssh_targets,
)
from inventory import models as inv
from inventory.credentials import CredentialStore, Secret, SshCredentials
from inventory.sync import sync_inventory
from inventory.validate import Inventory, load_inventory
from ixlab.build import lab_from_inventory
from ixlab.cli_common import config_secrets
from ixlab.ssh_cli import CliFaults, LabSshServer
from ixlab.state import LabState
from ixops.cli_ssh import SshRoundReport, run_ssh_round

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory" / "examples" / "shanghai-ix"
START = 1_795_000_000.0
USERNAME = "ixops"
PASSWORD = "Ssh-pw-8c41d0e2"
ENABLE = "En-9f3a51b7"
EOS, IOS = "chj-ex-core1", "chj-acc1"
TRUNK_IOS = "HundredGigE1/0/25"  # chj-acc1's end of the trunk to chj-ex-core1 Ethernet1/17


@dataclass
class Lab:
    inventory: Inventory
    state: LabState
    server: LabSshServer
    faults: CliFaults
    clock: list[float]
    credentials: CredentialStore

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock[0], dt.UTC)

    def advance(self, seconds: float) -> None:
        self.clock[0] += seconds

    def target(
        self, device: str, platform: str, credentials: SshCredentials | None = None
    ) -> SshTarget:
        host, port = self.server.endpoint(device)
        login = SshCredentials(
            profile="lab-ssh",
            username=USERNAME,
            password=Secret(PASSWORD),
            enable_secret=Secret(ENABLE),
        )
        return SshTarget(
            device=device,
            platform=platform,
            host=host,
            port=port,
            credentials=credentials or login,
            connect_timeout_s=2.0,
            command_timeout_s=2.0,
        )


async def _lab(devices: list[str]) -> tuple[Lab, LabSshServer]:
    inventory = load_inventory(EXAMPLE)
    assert inventory.ok, inventory.errors
    clock = [START]
    state = lab_from_inventory(inventory, clock=lambda: clock[0], snmp_port=0, ssh_port=0)
    faults = CliFaults()
    server = LabSshServer(
        state,
        username=USERNAME,
        password=PASSWORD,
        enable_secret=ENABLE,
        faults=faults,
        devices=devices,
    )
    await server.start()
    environ = {
        "IXOPS_SECRET_LAB_SSH_USERNAME": USERNAME,
        "IXOPS_SECRET_LAB_SSH_PASSWORD": PASSWORD,
        "IXOPS_SECRET_LAB_SSH_ENABLE_SECRET": ENABLE,
    }
    credentials = CredentialStore(environ=environ)
    return Lab(inventory, state, server, faults, clock, credentials), server


@pytest.fixture
async def lab() -> AsyncIterator[Lab]:
    running, server = await _lab([EOS, IOS, "chj-acc2", "chj-ex-core2"])
    try:
        yield running
    finally:
        await server.stop()


@dataclass
class Exchange:
    lab: Lab
    engine: Engine
    collector: SshCollector
    repository: ConfigRepository
    targets: list[SshTarget]

    async def round(self, *kinds: GetterKind) -> SshRoundReport:
        self.lab.advance(60)
        return await run_ssh_round(
            engine=self.engine,
            collector=self.collector,
            plan=[(t, frozenset(kinds)) for t in self.targets],
            repository=self.repository,
            clock=self.lab.now,
        )

    def events(self, kind: str) -> list[LinkEvent]:
        with Session(self.engine) as session:
            query = select(LinkEvent).where(LinkEvent.kind == kind).order_by(col(LinkEvent.id))
            return list(session.exec(query).all())


@pytest.fixture
async def exchange(engine: Engine, tmp_path: Path) -> AsyncIterator[Exchange]:
    running, server = await _lab([EOS, IOS])
    with Session(engine) as session:
        sync_inventory(session=session, inventory=running.inventory, now=running.now())
        targets, problems = ssh_targets(
            session,
            profiles={p.value.name: p.value for p in running.inventory.ssh_profiles},
            credentials=running.credentials,
            devices={EOS, IOS},
            endpoints={d: server.endpoint(d) for d in (EOS, IOS)},
            connect_timeout_s=2.0,
            command_timeout_s=3.0,
        )
    assert problems == []
    assert [(t.device, t.platform) for t in targets] == [(IOS, "cisco_ios"), (EOS, "arista_eos")]
    collector = SshCollector(max_workers=4, clock=running.now, deadline_margin_s=2.0)
    try:
        yield Exchange(running, engine, collector, ConfigRepository(tmp_path / "configs"), targets)
    finally:
        await collector.aclose()
        await server.stop()


def _by_device(collections: list[DeviceCollection]) -> dict[str, DeviceCollection]:
    return {c.device: c for c in collections}


# -- getters --------------------------------------------------------------------------------


async def test_every_getter_follows_the_lab_state(lab: Lab) -> None:
    state = lab.state
    state.set_port(IOS, "TenGigabitEthernet1/0/3", up=False)
    state.set_admin(EOS, "Ethernet1/5", up=False)
    state.set_optic_power(IOS, TRUNK_IOS, rx_dbm=-16.3)
    state.set_optic_power(EOS, "Ethernet1/17", rx_dbm=-9.8)
    state.device(IOS).environment.fans_ok[1] = False
    state.device(IOS).environment.psus_ok[0] = False
    state.device(EOS).environment.psus_ok[1] = False
    state.set_temperature(IOS, 41.0)
    state.move_cable(IOS, TRUNK_IOS, to_device="chj-ex-core2", to_port="Ethernet1/17")
    collector = SshCollector(max_workers=2, clock=lab.now)
    try:
        results = _by_device(
            await collector.collect(
                [lab.target(EOS, "arista_eos"), lab.target(IOS, "cisco_ios")], ALL_KINDS
            )
        )
    finally:
        await collector.aclose()
    ios, eos = results[IOS], results[EOS]
    assert ios.ok, ios.error
    assert eos.ok, eos.error
    assert ios.collected == eos.collected == ALL_KINDS

    assert ios.facts is not None
    assert eos.facts is not None
    assert (ios.facts.hostname, ios.facts.vendor, ios.facts.model) == (
        IOS,
        "Cisco",
        "C9500-48Y4C",
    )
    assert (eos.facts.hostname, eos.facts.vendor, eos.facts.serial_number) == (
        EOS,
        "Arista",
        "JPE2400037",
    )
    assert TRUNK_IOS in ios.facts.interface_names

    assert ios.interfaces is not None
    assert eos.interfaces is not None
    ios_ports = {i.name: i for i in ios.interfaces}
    eos_ports = {i.name: i for i in eos.interfaces}
    assert ios_ports["TenGigabitEthernet1/0/3"].is_up is False
    assert ios_ports["TenGigabitEthernet1/0/3"].is_enabled is True
    assert ios_ports[TRUNK_IOS].is_up is True
    assert ios_ports[TRUNK_IOS].speed_mbps == 100_000
    assert eos_ports["Ethernet1/5"].is_enabled is False
    assert eos_ports["Ethernet1/17"].description == "CHJ core1 to CHJ acc1"

    assert ios.counters is not None
    assert eos.counters is not None
    assert {c.name: c for c in ios.counters}[TRUNK_IOS].rx_octets > 0

    assert ios.environment is not None
    assert eos.environment is not None
    # IOS: fans and PSUs from the raw `show environment all` (the lab's C9500 on 17.9 prints
    # the IOS-XE 17 layout: a fan table and each supply's fan in the sensor list).
    assert [(f.name, f.ok) for f in ios.environment.fans] == [
        ("1/PS1", True),
        ("1/PS2", True),
        ("1/1", True),
        ("1/2", False),
        ("1/3", True),
        ("1/4", True),
    ]
    assert ios.facts is not None
    assert "Version 17.9.4a" in ios.facts.os_version
    assert (ios.facts.model, ios.facts.serial_number) == ("C9500-48Y4C", "FOX2400222")
    assert [(p.name, p.ok) for p in ios.environment.power_supplies] == [
        ("1A", False),
        ("1B", True),
    ]
    assert {t.name: t.temperature_c for t in ios.environment.temperatures}["inlet"] == 41.0
    # EOS: from `show environment power|cooling` in the real layouts, through ntc-templates.
    assert [(p.name, p.state.value, p.detail) for p in eos.environment.power_supplies] == [
        ("1", "ok", "Ok"),
        ("2", "failed", "Power Loss"),
    ]
    assert [f.name for f in eos.environment.fans] == ["1/1", "2/1", "3/1", "4/1"]
    # Both in bytes, whatever unit the driver used (eos: KiB).
    assert ios.environment.memory_total_bytes == eos.environment.memory_total_bytes == 8 * 1024**3
    assert ios.environment.memory_used_pct == pytest.approx(37.5)
    assert ios.environment.cpu_percent == round(state.device(IOS).environment.cpu_percent)

    assert ios.optics is not None
    assert eos.optics is not None
    ios_rx = {(o.interface, o.channel): o.rx_power_dbm for o in ios.optics}
    # napalm's ios driver names optics in canonical long form.
    assert ios_rx[("HundredGigabitEthernet1/0/25", 0)] == -16.3
    assert {o.interface: o.rx_power_dbm for o in eos.optics}["Ethernet1/17"] == -9.8
    assert "Management1" not in {o.interface for o in eos.optics}

    assert ios.lldp is not None
    assert eos.lldp is not None
    ios_lldp = {n.local_port: (n.remote_device, n.remote_port) for n in ios.lldp}
    assert ios_lldp["HundredGigabitEthernet1/0/25"] == ("chj-ex-core2", "Ethernet1/17")
    eos_lldp = {n.local_port: (n.remote_device, n.remote_port) for n in eos.lldp}
    assert eos_lldp["Ethernet1/17"] == (IOS, TRUNK_IOS)
    assert eos_lldp["Ethernet1/1"][1] == "xe-0/0/0"  # a member's router

    assert ios.config is not None
    assert eos.config is not None
    assert f"hostname {IOS}" in ios.config.running
    assert ios.config.startup.startswith("Using ")
    assert "interface Ethernet1/5\n   shutdown" in eos.config.running


# -- failures stay per device -----------------------------------------------------------------


async def test_failures_are_typed_per_device_and_never_show_a_password(
    lab: Lab, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-pw-77e1"
    lab.faults.hang(IOS, after_bytes=200, commands=["show interfaces"])
    lab.state.set_silent("chj-acc2", silent=True)
    bad_login = SshCredentials(
        profile="lab-ssh", username=USERNAME, password=Secret(wrong), enable_secret=Secret(ENABLE)
    )
    targets = [
        lab.target(EOS, "arista_eos"),
        lab.target(IOS, "cisco_ios"),
        lab.target("chj-acc2", "cisco_ios"),
        lab.target("chj-ex-core2", "arista_eos", credentials=bad_login),
        replace(lab.target(EOS, "arista_eos"), device="chj-rs1", platform="linux"),
    ]
    collector = SshCollector(max_workers=8, clock=lab.now, deadline_margin_s=3.0)
    try:
        results = _by_device(
            await collector.collect(targets, {GetterKind.FACTS, GetterKind.INTERFACES})
        )
    finally:
        await collector.aclose()

    healthy = results[EOS]
    assert healthy.ok
    assert healthy.facts is not None
    assert healthy.interfaces is not None

    hung = results[IOS]
    assert hung.error is not None
    assert hung.error.kind is ErrorKind.READ_TIMEOUT
    assert hung.error.getter is GetterKind.INTERFACES
    assert hung.facts is not None  # what came before the hang is kept
    assert "stopped mid-output" in hung.error.message

    silent = results["chj-acc2"]
    assert silent.error is not None
    assert silent.error.kind is ErrorKind.CONNECT_TIMEOUT

    refused = results["chj-ex-core2"]
    assert refused.error is not None
    assert refused.error.kind is ErrorKind.AUTH_FAILED
    assert f"user {USERNAME!r}" in refused.error.message

    unsupported = results["chj-rs1"]
    assert unsupported.error is not None
    assert unsupported.error.kind is ErrorKind.UNSUPPORTED_PLATFORM

    texts = [caplog.text, *(str(r.error) for r in results.values()), repr(results)]
    for text in texts:
        assert PASSWORD not in text
        assert wrong not in text
        assert ENABLE not in text
    assert "ssh chj-acc1: read_timeout (interfaces)" in caplog.text


# -- environment and optics into the store ----------------------------------------------------


async def test_a_login_slower_than_the_timeout_is_a_timeout_not_a_rejected_password(
    lab: Lab, caplog: pytest.LogCaptureFixture
) -> None:
    """paramiko's "Authentication timeout" reaches us as netmiko's authentication failure; a
    slow device (or AAA server) must not read as wrong credentials. A wrong password answered
    slowly, within the timeout, is still one."""
    wrong = "Wr0ng-pw-5c2d"
    lab.faults.slow_login(EOS, delay_s=4.0)
    lab.faults.slow_login("chj-ex-core2", delay_s=0.3)
    bad_login = SshCredentials(
        profile="lab-ssh", username=USERNAME, password=Secret(wrong), enable_secret=Secret(ENABLE)
    )
    targets = [
        replace(lab.target(EOS, "arista_eos"), connect_timeout_s=1.0),
        lab.target("chj-ex-core2", "arista_eos", credentials=bad_login),
    ]
    collector = SshCollector(max_workers=4, clock=lab.now, deadline_margin_s=3.0)
    try:
        results = _by_device(await collector.collect(targets, {GetterKind.FACTS}))
    finally:
        await collector.aclose()

    slow = results[EOS]
    assert slow.error is not None
    assert slow.error.kind is ErrorKind.CONNECT_TIMEOUT, slow.error
    assert f"did not answer the login of user {USERNAME!r} within 1 s" in slow.error.message
    assert "password was not rejected" in slow.error.message

    refused = results["chj-ex-core2"]
    assert refused.error is not None
    assert refused.error.kind is ErrorKind.AUTH_FAILED, refused.error
    for text in (caplog.text, *(str(r.error) for r in results.values())):
        assert PASSWORD not in text
        assert wrong not in text


async def test_optic_drift_raises_then_clears_a_threshold_with_hysteresis(
    exchange: Exchange,
) -> None:
    state = exchange.lab.state
    report = await exchange.round(GetterKind.ENVIRONMENT, GetterKind.OPTICS)
    assert report.failed == ()
    assert report.events == ()
    with Session(exchange.engine) as session:
        metrics = {
            (o.metric, o.sensor)
            for o in session.exec(select(Observation).where(Observation.source == "ssh"))
        }
        trunk = session.exec(
            select(inv.Interface)
            .join(inv.Device, col(inv.Device.id) == col(inv.Interface.device_id))
            .where(inv.Device.name == IOS, inv.Interface.name == TRUNK_IOS)
        ).one()
    assert {("temperature_c", "inlet"), ("fan_ok", "1/1"), ("psu_ok", "1A")} <= metrics
    assert {("cpu_pct", ""), ("memory_used_pct", ""), ("rx_power_dbm", "lane0")} <= metrics
    assert ("tx_power_dbm", "lane0") in metrics

    state.set_optic_power(IOS, TRUNK_IOS, rx_dbm=-15.1)
    report = await exchange.round(GetterKind.OPTICS)
    crossed = exchange.events("threshold_crossed")
    assert [e.kind for e in report.events] == ["threshold_crossed"]
    assert len(crossed) == 1
    event = crossed[0]
    assert event.source == "ssh"
    assert event.interface_id == trunk.id
    assert event.link_id is not None
    assert event.details is not None
    assert event.details["metric"] == "rx_power"
    assert event.details["value"] == -15.1
    assert event.details["severity"] == "major"

    # Between the raise (-14) and clear (-13) limits: still raised, no new event.
    state.set_optic_power(IOS, TRUNK_IOS, rx_dbm=-13.6)
    assert (await exchange.round(GetterKind.OPTICS)).events == ()

    state.set_optic_power(IOS, TRUNK_IOS, rx_dbm=-3.0)
    report = await exchange.round(GetterKind.OPTICS)
    assert [e.kind for e in report.events] == ["threshold_cleared"]
    with Session(exchange.engine) as session:
        history = session.exec(
            select(Observation.value)
            .where(Observation.interface_id == trunk.id, Observation.metric == "rx_power_dbm")
            .order_by(col(Observation.observed_at))
        ).all()
    assert list(history)[-3:] == [-15.1, -13.6, -3.0]


async def test_a_dark_or_shut_port_reads_minus_40_and_opens_no_optics_alarm(
    exchange: Exchange,
) -> None:
    state = exchange.lab.state
    assert (await exchange.round(GetterKind.OPTICS)).events == ()
    for cut in ("port-down", "shut"):
        if cut == "port-down":
            state.set_port(IOS, TRUNK_IOS, up=False)
        else:
            state.set_port(IOS, TRUNK_IOS, up=True)
            state.set_admin(IOS, TRUNK_IOS, up=False)
        report = await exchange.round(GetterKind.OPTICS)
        ios = _by_device(list(report.collections))[IOS]
        assert ios.optics is not None
        # napalm names it in full (HundredGigabitEthernet1/0/25).
        lanes = [c for c in ios.optics if c.interface.endswith("1/0/25")]
        assert lanes
        # As a real IOS: no light in; a shut port's laser off (N/A, which napalm reads −100).
        assert {c.rx_power_dbm for c in lanes} == {-40.0}
        if cut == "shut":
            assert {c.tx_power_dbm for c in lanes} == {-100.0}
        assert report.events == (), cut
    # Lit again with low light: now it is an optics fault.
    state.set_admin(IOS, TRUNK_IOS, up=True)
    state.set_optic_power(IOS, TRUNK_IOS, rx_dbm=-16.0)
    report = await exchange.round(GetterKind.OPTICS)
    assert [(e.kind, e.details["value"]) for e in report.events] == [("threshold_crossed", -16.0)]


async def test_failed_fan_and_supply_in_the_lab_are_events_that_clear(
    exchange: Exchange,
) -> None:
    state = exchange.lab.state
    assert (await exchange.round(GetterKind.ENVIRONMENT)).events == ()
    state.set_fan(IOS, 2, ok=False)
    state.set_psu(EOS, 1, ok=False)
    report = await exchange.round(GetterKind.ENVIRONMENT)
    got = sorted((e.device, e.details["metric"], e.details["sensor"], e.details["severity"])
                 for e in report.events)  # fmt: skip
    assert got == [
        (IOS, "fan", "1/2", "major"),  # three of four still turn
        (EOS, "power_supply", "1", "critical"),  # one of two left: no redundancy
    ]
    state.set_fan(IOS, 2, ok=True)
    state.set_psu(EOS, 1, ok=True)
    report = await exchange.round(GetterKind.ENVIRONMENT)
    assert sorted((e.device, e.kind, e.details["sensor"]) for e in report.events) == [
        (IOS, "threshold_cleared", "1/2"),
        (EOS, "threshold_cleared", "1"),
    ]


async def test_ssh_facts_are_stored_and_a_wrong_serial_is_an_identity_event(
    exchange: Exchange,
) -> None:
    from collectors.models import DeviceIdentity

    report = await exchange.round(GetterKind.FACTS)
    assert report.failed == ()
    assert report.events == ()
    with Session(exchange.engine) as session:
        rows = {
            (r.source, r.model, r.serial)
            for r in session.exec(select(DeviceIdentity).where(DeviceIdentity.source == "ssh"))
        }
    assert ("ssh", "C9500-48Y4C", "FOX2400222") in rows
    assert len(rows) == 2  # the IOS and the EOS device

    # Someone swapped the chassis: the serial no longer matches the inventory.
    exchange.lab.state.device(IOS).serial = "FOX2499999"
    report = await exchange.round(GetterKind.FACTS)
    assert [(e.kind, e.device) for e in report.events] == [("identity_mismatch", IOS)]
    assert "FOX2499999" in str(report.events[0].details["conflicts"])
    # Said once while it lasts.
    assert (await exchange.round(GetterKind.FACTS)).events == ()


# -- cabling audit --------------------------------------------------------------------------


async def test_moved_cables_are_reported_and_evented_once(exchange: Exchange) -> None:
    state = exchange.lab.state
    kinds = (GetterKind.LLDP, GetterKind.INTERFACES)
    report = await exchange.round(*kinds)
    assert report.failed == ()
    assert report.findings == {EOS: (), IOS: ()}

    # chj-acc1's trunk now reaches core2 instead of core1.
    state.move_cable(IOS, TRUNK_IOS, to_device="chj-ex-core2", to_port="Ethernet1/17")
    # core1's trunk to ndr-acc1 lands on the wrong far port.
    state.move_cable(EOS, "Ethernet1/18", to_device="ndr-acc1", to_port="Hu1/0/26")
    # core1 Ethernet1/17 lost its cable, which now sits in spare port Ethernet1/21.
    state.move_cable(EOS, "Ethernet1/17", to_device=None, to_port=None)
    state.move_cable(EOS, "Ethernet1/21", to_device=IOS, to_port=TRUNK_IOS)
    # A member port that is down is not a cabling problem (the link-down event covers it).
    state.set_port(EOS, "Ethernet1/2", up=False)

    report = await exchange.round(*kinds)
    found = {(f.device, f.port): f for fs in report.findings.values() for f in fs}
    assert {k: f.kind.value for k, f in found.items()} == {
        (IOS, TRUNK_IOS): "wrong_device",
        (EOS, "Ethernet1/18"): "wrong_port",
        (EOS, "Ethernet1/17"): "missing_neighbor",
        (EOS, "Ethernet1/21"): "unexpected_neighbor",
    }
    assert found[(EOS, "Ethernet1/21")].belongs_on == f"{EOS} Ethernet1/17"
    assert found[(IOS, TRUNK_IOS)].expected == f"{EOS} Ethernet1/17"
    events = exchange.events("cabling_mismatch")
    assert len(events) == 4
    assert all(e.source == "ssh" and e.interface_id is not None for e in events)

    # Nothing new while nothing changes.
    report = await exchange.round(*kinds)
    assert len(exchange.events("cabling_mismatch")) == 4
    assert report.events == ()

    state.move_cable(IOS, TRUNK_IOS, to_device=EOS, to_port="Ethernet1/17")
    report = await exchange.round(*kinds)
    assert [e.kind for e in report.events] == ["cabling_cleared"]


# -- config backup ----------------------------------------------------------------------------


def _git_log(root: Path) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(root), "log", "--format=%s"], capture_output=True, text=True, check=True
    )
    return out.stdout.splitlines()


async def test_the_labs_generated_configs_lose_every_secret_line_in_the_backup(
    exchange: Exchange,
) -> None:
    report = await exchange.round(GetterKind.CONFIG)
    assert report.failed == ()
    for device in (IOS, EOS):
        collection = _by_device(list(report.collections))[device]
        assert collection.config is not None
        raw = collection.config.running
        # (VRRP text keys are eight characters: the first eight of each value are looked for.)
        planted = [v[:8] for v in config_secrets(device).values() if v[:8] in raw]
        assert len(planted) >= 10, (device, planted)
        stored = exchange.repository.show(device)
        assert stored is not None
        for value in planted:
            assert value not in stored, (device, value)
    ios = exchange.repository.show(IOS) or ""
    for line in (
        " standby 10 authentication md5 key-string 7 <removed>",
        " vrrp 20 authentication text <removed>",
        " area-password <removed>",
        " domain-password <removed>",
        "  key-string 7 <removed>",
        " key 7 <removed>",
        " neighbor 192.0.2.1 password 7 <removed>",
        "snmp-server community <removed> RO",
        "enable secret 9 <removed>",
    ):
        assert line in ios.splitlines(), line
    assert "   isis authentication key 7 <removed>" in (exchange.repository.show(EOS) or "")


async def test_config_backup_masks_secrets_and_events_changes(exchange: Exchange) -> None:
    device = exchange.lab.state.device(IOS)
    device.config_text = (
        "hostname chj-acc1\n!\nenable secret 9 $9$Abc123$SecretHashValue\n"
        "username netops privilege 15 secret 9 $9$Def456$AnotherHash\n"
        "snmp-server community Lab-C0mmunity RO\n!\nend\n"
    )
    report = await exchange.round(GetterKind.CONFIG)
    assert report.failed == ()
    assert report.events == ()  # the first backup is the baseline
    stored = exchange.repository.show(IOS)
    assert stored is not None
    assert "enable secret 9 <removed>" in stored
    assert "snmp-server community <removed> RO" in stored
    for secret in ("SecretHashValue", "AnotherHash", "Lab-C0mmunity"):
        assert secret not in stored
    assert exchange.repository.show(EOS) is not None

    report = await exchange.round(GetterKind.CONFIG)
    assert report.events == ()
    assert len(exchange.repository.history(IOS)) == 1

    device.config_text = device.config_text.replace(
        "!\nend\n", "ntp server 10.20.0.1\n!\nend\n"
    ).replace("Lab-C0mmunity", "New-C0mmunity")
    report = await exchange.round(GetterKind.CONFIG)
    assert [(e.kind, e.device) for e in report.events] == [("config_changed", IOS)]
    event = exchange.events("config_changed")[0]
    assert event.details is not None
    assert event.details["lines_added"] == 1
    assert event.details["lines_removed"] == 0
    assert "+ntp server 10.20.0.1" in event.details["diff"]
    assert "New-C0mmunity" not in str(event.details)
    history = exchange.repository.history(IOS)
    assert len(history) == 2
    assert history[0].committed_at == exchange.lab.now()
    assert history[0].commit == event.details["commit"]
    assert "+ntp server 10.20.0.1" in exchange.repository.diff(IOS)
    assert len(_git_log(exchange.repository.root)) == 3  # two devices' baselines, one change
