"""Huawei VRP and H3C Comware over netmiko (`huawei`, `hp_comware`): facts, config backup with
secrets masked, and a runbook's read-only command, against the lab's VRP/Comware CLIs (real
netmiko drivers over real SSH; `display version` layouts from recordings, see cli_vrp)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest

from collectors.configs import prepare
from collectors.ssh import ErrorKind, GetterKind, SshCollector, SshTarget
from collectors.ssh_command import run_command
from inventory.credentials import Secret, SshCredentials
from ixlab.cli_common import config_secrets
from ixlab.ssh_cli import LabSshServer
from ixlab.state import DeviceState, LabState, PortState

USERNAME, PASSWORD = "ops", "Vrp-pw-7d21c9"
START = 1_800_000_000.0
DEVICES = {
    "hw-core1": ("huawei", "Huawei", "CE6881-48S6CQ", "V800R012C00SPC300"),
    "h3c-acc1": ("hp_comware", "H3C", "E528", "1513P62"),
}


def _device(name: str, platform: str, vendor: str, model: str, version: str) -> DeviceState:
    port = "10GE1/0/1" if platform == "huawei" else "GigabitEthernet1/0/1"
    return DeviceState(
        name=name, role="access_switch", vendor=vendor, platform=platform, model=model,
        serial="S-" + name, os_version=version, mgmt_address="127.0.0.1", snmp_port=0,
        ssh_port=0, ports=[PortState(name=port, ifindex=1, speed_mbps=10_000)],
        booted_at=START - 3 * 86400 - 3600,
    )  # fmt: skip


@pytest.fixture
async def server() -> AsyncIterator[LabSshServer]:
    lab = LabState([_device(n, *v) for n, v in DEVICES.items()], clock=lambda: START)
    async with LabSshServer(lab, username=USERNAME, password=PASSWORD) as running:
        yield running


def _target(server: LabSshServer, device: str) -> SshTarget:
    host, port = server.endpoint(device)
    credentials = SshCredentials(profile="vrp", username=USERNAME, password=Secret(PASSWORD))
    # A 10 s connect (banner, auth) timeout: a loaded CI machine took 3.7 s to authenticate.
    return SshTarget(device, DEVICES[device][0], host, port, credentials, 10.0, 5.0)


async def test_facts_and_config_backup_over_netmiko(server: LabSshServer) -> None:
    collector = SshCollector(clock=lambda: dt.datetime.fromtimestamp(START, dt.UTC))
    try:
        results = await collector.collect([_target(server, d) for d in DEVICES])
    finally:
        await collector.aclose()
    by_device = {r.device: r for r in results}
    for name, (platform, vendor, model, version) in DEVICES.items():
        result = by_device[name]
        assert result.ok, result.error
        # Only what netmiko alone can read was asked for.
        assert result.requested == {GetterKind.FACTS, GetterKind.CONFIG}
        assert result.facts is not None
        assert (result.facts.hostname, result.facts.vendor, result.facts.model) == (
            name, vendor, model,
        )  # fmt: skip
        assert version in result.facts.os_version
        assert result.facts.uptime_s >= 3 * 86400
        assert result.config is not None
        planted = [v for v in config_secrets(name).values() if v in result.config.running]
        assert len(planted) >= 5, (platform, planted)
        stored = prepare(result.config.running)
        assert [v for v in planted if v in stored] == [], platform


async def test_runbook_commands_read_only_and_a_rejected_one(server: LabSshServer) -> None:
    for name in DEVICES:
        target = _target(server, name)
        result = await asyncio.to_thread(run_command, target, "display version")
        assert result.ok, result.error
        assert DEVICES[name][2] in result.output
        bad = await asyncio.to_thread(run_command, target, "display nonsense")
        assert bad.error is not None
        assert bad.error.kind is ErrorKind.COMMAND_REJECTED
        assert PASSWORD not in str(bad.error)
