"""The lab's device state: counters, faults and the events they emit."""

from __future__ import annotations

from ixlab.state import (
    DeviceRestarted,
    DeviceState,
    LabEvent,
    LabState,
    PortChanged,
    PortEventKind,
    PortState,
    UpsState,
)


def _lab() -> tuple[LabState, list[float], list[LabEvent]]:
    clock = [1_800_000_000.0]
    device = DeviceState(
        name="sw1", role="access_switch", vendor="Cisco", platform="cisco_ios", model="C9500",
        serial="S1", os_version="17.9", mgmt_address="127.0.9.1", snmp_port=1161, ssh_port=2222,
        ports=[PortState(name="Te1/0/1", ifindex=1, speed_mbps=10_000, load_fraction=0.5)],
    )  # fmt: skip
    ups = DeviceState(
        name="ups1", role="ups", vendor="APC", platform="", model="SRT", serial="U1",
        os_version="1", mgmt_address="127.0.9.2", snmp_port=1161, ssh_port=2222, ups=UpsState(),
    )  # fmt: skip
    lab = LabState([device, ups], clock=lambda: clock[0])
    events: list[LabEvent] = []
    lab.subscribe(events.append)
    return lab, clock, events


def test_counters_grow_at_the_port_rate_and_stop_when_down() -> None:
    lab, clock, _ = _lab()
    port = lab.snapshot("sw1").port("Te1/0/1")
    before = port.in_octets
    clock[0] += 10
    grown = lab.snapshot("sw1").port("Te1/0/1").in_octets - before
    # 50 % of 10 Gb/s, ±30 % daily swing, for 10 s, in bytes.
    assert 0.7 * 0.5e10 * 10 / 8 <= grown <= 1.3 * 0.5e10 * 10 / 8
    lab.set_port("sw1", "Te1/0/1", up=False)
    frozen = lab.snapshot("sw1").port("Te1/0/1").in_octets
    clock[0] += 10
    assert lab.snapshot("sw1").port("Te1/0/1").in_octets == frozen


def test_no_shutdown_does_not_repair_a_cut_link() -> None:
    lab, _, events = _lab()
    lab.set_port("sw1", "Te1/0/1", up=False)
    lab.set_admin("sw1", "Te1/0/1", up=False)
    lab.set_admin("sw1", "Te1/0/1", up=True)
    port = lab.device("sw1").port("Te1/0/1")
    assert not port.oper_up
    assert events == [PortChanged("sw1", "Te1/0/1", PortEventKind.LINK_DOWN)]
    lab.set_port("sw1", "Te1/0/1", up=True)
    assert port.oper_up
    assert events[-1] == PortChanged("sw1", "Te1/0/1", PortEventKind.LINK_UP)


def test_flap_emits_every_transition_and_silent_devices_emit_nothing() -> None:
    lab, _, events = _lab()
    lab.flap("sw1", "Te1/0/1", 3)
    assert [e.kind for e in events if isinstance(e, PortChanged)] == [
        PortEventKind.LINK_DOWN, PortEventKind.LINK_UP
    ] * 3  # fmt: skip
    events.clear()
    lab.set_silent("sw1", silent=True)
    lab.set_port("sw1", "Te1/0/1", up=False)
    assert events == []


def test_reboot_resets_uptime_and_counters() -> None:
    lab, clock, events = _lab()
    clock[0] += 100
    assert lab.snapshot("sw1").port("Te1/0/1").in_octets > 0
    lab.reboot("sw1")
    device = lab.device("sw1")
    assert device.uptime_ticks(clock[0]) == 0
    assert device.port("Te1/0/1").in_octets == 0
    assert isinstance(events[-1], DeviceRestarted)


def test_ups_on_battery_remembers_since_when() -> None:
    lab, clock, _ = _lab()
    lab.set_ups_on_battery("ups1", on_battery=True)
    ups = lab.device("ups1").ups
    assert ups is not None
    assert ups.on_battery_since == clock[0]
    lab.set_ups_on_battery("ups1", on_battery=False)
    assert ups.on_battery_since is None
