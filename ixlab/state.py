"""The simulated exchange's device state.

One `LabState` holds every simulated device. The SNMP agent and the SSH CLI emulator both read
from it, so a port the lab takes down is down in `ifOperStatus` and in `show interfaces` alike.
Fault injection changes it; listeners (the SNMP agent's trap sender) hear about changes.

The state is plain data driven by an injected clock (`Clock`, seconds since the epoch), so tests
can move time forward without sleeping. Everything runs on one asyncio loop: no locking.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

Clock = Callable[[], float]

COUNTER64 = 2**64
COUNTER32 = 2**32
# What a receiver reads with no light: a real IOS prints −40.0 dBm on a shut or dark port
# (napalm's test_get_optics/interface_shutdown recording).
DARK_DBM = -40.0


class PortEventKind(StrEnum):
    LINK_DOWN = "link_down"
    LINK_UP = "link_up"


class DeviceEventKind(StrEnum):
    COLD_START = "cold_start"
    WARM_START = "warm_start"


@dataclass(frozen=True)
class PortChanged:
    device: str
    port: str
    kind: PortEventKind


@dataclass(frozen=True)
class DeviceRestarted:
    device: str
    kind: DeviceEventKind


LabEvent = PortChanged | DeviceRestarted
Listener = Callable[[LabEvent], None]


def _stable_fraction(*parts: str) -> float:
    """A number in [0, 1) fixed by its inputs, so the lab looks the same on every run."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class PortState:
    name: str
    ifindex: int
    speed_mbps: int
    role: str = "member"
    description: str = ""
    mac: str = "00:00:5e:00:53:00"
    admin_up: bool = True
    # Carrier: whether the cable and the far end are fine. The port is operationally up only
    # with both admin up and carrier, so a `no shutdown` does not repair a cut fibre.
    carrier: bool = True
    oper_up: bool = True
    last_change_at: float = 0.0
    # Average load as a fraction of line rate; traffic swings around it over the day.
    load_fraction: float = 0.05
    in_octets: float = 0.0
    out_octets: float = 0.0
    in_ucast_pkts: float = 0.0
    out_ucast_pkts: float = 0.0
    in_errors: int = 0
    out_errors: int = 0
    in_discards: int = 0
    out_discards: int = 0
    has_optic: bool = True
    rx_power_dbm: float = -2.5
    tx_power_dbm: float = -2.1
    optic_temperature_c: float = 38.0
    # LLDP: what is really plugged in at the far end (the lab's truth, which may differ from
    # the inventory when a test "moves a cable").
    neighbor_device: str | None = None
    neighbor_port: str | None = None

    def __post_init__(self) -> None:
        # Hashing per call showed up in the SNMP agent's profile; the phase never changes.
        self._phase = _stable_fraction(self.name, str(self.ifindex)) * 2 * math.pi

    @property
    def rx_dbm_now(self) -> float:
        """What the receiver reads: the optic's level while the link is lit, else no light."""
        return self.rx_power_dbm if self.oper_up else DARK_DBM

    @property
    def tx_dbm_now(self) -> float | None:
        """What the transmitter sends: a shut port's laser is off (IOS prints N/A)."""
        return self.tx_power_dbm if self.admin_up else None

    def rate_bps(self, now: float) -> tuple[float, float]:
        """Current (in, out) bits per second: zero when down, else a smooth daily swing."""
        if not (self.admin_up and self.oper_up):
            return 0.0, 0.0
        phase = self._phase
        swing = 1.0 + 0.3 * math.sin(now / 3600.0 + phase)
        line_bps = self.speed_mbps * 1_000_000
        rate_in = line_bps * self.load_fraction * swing
        rate_out = line_bps * self.load_fraction * 0.9 * swing
        return rate_in, rate_out


@dataclass
class EnvironmentState:
    temperature_c: float = 27.0
    cpu_percent: float = 12.0
    memory_total_bytes: int = 8 * 1024**3
    memory_used_bytes: int = 3 * 1024**3
    fans_ok: list[bool] = field(default_factory=lambda: [True, True, True, True])
    psus_ok: list[bool] = field(default_factory=lambda: [True, True])


@dataclass
class PduState:
    phases_amps: list[float] = field(default_factory=lambda: [6.2, 5.8, 6.5])
    voltage_v: float = 230.0
    # The energy meter (rPDU2DeviceStatusEnergy): kWh since its reset, advanced at the present
    # load whenever it is read, so it grows with the load and with the lab's clock.
    energy_kwh: float = 1000.0
    energy_read_at: float | None = None

    @property
    def power_w(self) -> float:
        return sum(self.phases_amps) * self.voltage_v

    def energy_now(self, now: float) -> float:
        if self.energy_read_at is not None and now > self.energy_read_at:
            self.energy_kwh += self.power_w * (now - self.energy_read_at) / 3_600_000
        if self.energy_read_at is None or now > self.energy_read_at:
            self.energy_read_at = now
        return self.energy_kwh


@dataclass
class UpsState:
    on_battery: bool = False
    on_battery_since: float | None = None
    battery_charge_percent: int = 100
    runtime_minutes: int = 45
    input_voltage_v: float = 230.0
    output_load_percent: int = 38
    battery_temperature_c: float = 25.0


@dataclass
class DeviceState:
    name: str
    role: str
    vendor: str
    platform: str
    model: str
    serial: str
    os_version: str
    mgmt_address: str
    snmp_port: int
    ssh_port: int
    location: str = ""
    booted_at: float = 0.0
    silent: bool = False
    ports: list[PortState] = field(default_factory=list)
    environment: EnvironmentState = field(default_factory=EnvironmentState)
    pdu: PduState | None = None
    ups: UpsState | None = None
    config_text: str = ""
    updated_at: float = 0.0

    def port(self, name: str) -> PortState:
        for candidate in self.ports:
            if candidate.name == name:
                return candidate
        close = difflib.get_close_matches(name, [p.name for p in self.ports], n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise KeyError(f"device {self.name} has no port {name!r}{hint}")

    def port_by_ifindex(self, ifindex: int) -> PortState | None:
        for candidate in self.ports:
            if candidate.ifindex == ifindex:
                return candidate
        return None

    def uptime_ticks(self, now: float) -> int:
        """sysUpTime in hundredths of a second since the (simulated) boot."""
        return int(max(0.0, now - self.booted_at) * 100) % COUNTER32

    def advance(self, now: float) -> None:
        """Accumulate traffic counters up to `now` at the ports' current rates."""
        elapsed = now - self.updated_at
        if elapsed <= 0:
            return
        midpoint = self.updated_at + elapsed / 2
        for port in self.ports:
            rate_in, rate_out = port.rate_bps(midpoint)
            port.in_octets = (port.in_octets + rate_in * elapsed / 8) % COUNTER64
            port.out_octets = (port.out_octets + rate_out * elapsed / 8) % COUNTER64
            # Average frame of about 800 bytes on an exchange LAN.
            port.in_ucast_pkts = (port.in_ucast_pkts + rate_in * elapsed / 6400) % COUNTER64
            port.out_ucast_pkts = (port.out_ucast_pkts + rate_out * elapsed / 6400) % COUNTER64
        self.updated_at = now


@dataclass(frozen=True)
class _Baseline:
    cabling: dict[str, tuple[str | None, str | None]]
    rx_dbm: dict[str, float]
    temperature_c: float

    @classmethod
    def of(cls, device: DeviceState) -> _Baseline:
        return cls(
            cabling={p.name: (p.neighbor_device, p.neighbor_port) for p in device.ports},
            rx_dbm={p.name: p.rx_power_dbm for p in device.ports if p.has_optic},
            temperature_c=device.environment.temperature_c,
        )


class LabState:
    """All simulated devices, keyed by name, with fault injection and change listeners."""

    def __init__(self, devices: list[DeviceState], *, clock: Clock = time.time) -> None:
        self.clock = clock
        self.devices: dict[str, DeviceState] = {d.name: d for d in devices}
        self._listeners: list[Listener] = []
        now = clock()
        for device in devices:
            if device.booted_at == 0.0:
                # Devices have been up for a while when the lab starts; counters are mid-life.
                days_up = 3 + 40 * _stable_fraction(device.name)
                device.booted_at = now - days_up * 86400
            device.updated_at = device.booted_at
            for port in device.ports:
                if port.last_change_at == 0.0:
                    port.last_change_at = device.booted_at
            device.advance(now)
        # What the lab started as, so that `status` can list every fault injected since.
        self.baseline: dict[str, _Baseline] = {d.name: _Baseline.of(d) for d in devices}

    def injected_faults(self, device_name: str) -> list[str]:
        """What differs from how the device started, in words (`ixops lab status`)."""
        device = self.device(device_name)
        base = self.baseline.get(device_name) or _Baseline.of(device)
        faults: list[str] = []
        if device.silent:
            faults.append("SILENT")
        if device.ups is not None and device.ups.on_battery:
            faults.append("ON BATTERY")
        shut = [p.name for p in device.ports if not p.admin_up]
        down = [p.name for p in device.ports
                if p.admin_up and not p.oper_up and p.role != "management"]  # fmt: skip
        if down:
            faults.append(f"down: {', '.join(down)}")
        if shut:
            faults.append(f"shut: {', '.join(shut)}")
        for port in device.ports:
            was = base.cabling.get(port.name)
            now_cabled = (port.neighbor_device, port.neighbor_port)
            if was is not None and now_cabled != was:
                to = " ".join(x for x in now_cabled if x) or "nothing (unplugged)"
                faults.append(f"cable moved: {port.name} now to {to}")
            rx = base.rx_dbm.get(port.name)
            if rx is not None and port.rx_power_dbm != rx:
                faults.append(f"optic: {port.name} rx {port.rx_power_dbm:.1f} dBm (was {rx:.1f})")
        if device.environment.temperature_c != base.temperature_c:
            faults.append(
                f"temperature {device.environment.temperature_c:.1f} °C "
                f"(was {base.temperature_c:.1f})"
            )
        failed_fans = [str(i) for i, ok in enumerate(device.environment.fans_ok, 1) if not ok]
        failed_psus = [str(i) for i, ok in enumerate(device.environment.psus_ok, 1) if not ok]
        if failed_fans:
            faults.append(f"fan failed: {', '.join(failed_fans)}")
        if failed_psus:
            faults.append(f"power supply failed: {', '.join(failed_psus)}")
        return faults

    def device(self, name: str) -> DeviceState:
        try:
            return self.devices[name]
        except KeyError:
            raise KeyError(f"the lab has no device {name!r}") from None

    def by_address(self, address: str, port: int) -> DeviceState | None:
        for device in self.devices.values():
            if device.mgmt_address == address and port in (device.snmp_port, device.ssh_port):
                return device
        return None

    def snapshot(self, name: str) -> DeviceState:
        """The device with its counters brought up to the clock's now."""
        device = self.device(name)
        device.advance(self.clock())
        return device

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _emit(self, event: LabEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    # -- fault injection -------------------------------------------------------------------

    def set_port(self, device_name: str, port_name: str, *, up: bool) -> None:
        """Cut or restore a port's link (carrier), as if the far end or the cable failed."""
        device = self.snapshot(device_name)
        port = device.port(port_name)
        port.carrier = up
        self._update_oper(device, port)

    def set_admin(self, device_name: str, port_name: str, *, up: bool) -> None:
        """Shut or no-shut a port (admin state); a shut port is also operationally down."""
        device = self.snapshot(device_name)
        port = device.port(port_name)
        port.admin_up = up
        self._update_oper(device, port)

    def _update_oper(self, device: DeviceState, port: PortState) -> None:
        up = port.admin_up and port.carrier
        if port.oper_up == up:
            return
        port.oper_up = up
        port.last_change_at = self.clock()
        if not device.silent:
            kind = PortEventKind.LINK_UP if up else PortEventKind.LINK_DOWN
            self._emit(PortChanged(device.name, port.name, kind))

    def flap(self, device_name: str, port_name: str, times: int) -> None:
        """Down then up `times` times in a row (each transition emits its own event)."""
        for _ in range(times):
            self.set_port(device_name, port_name, up=False)
            self.set_port(device_name, port_name, up=True)

    def set_silent(self, device_name: str, *, silent: bool) -> None:
        """A silent device answers neither SNMP nor SSH (dead, or its management is cut)."""
        self.device(device_name).silent = silent

    def reboot(self, device_name: str, *, cold: bool = True) -> None:
        """Restart: sysUpTime and every counter start again from zero."""
        device = self.device(device_name)
        now = self.clock()
        device.booted_at = now
        device.updated_at = now
        for port in device.ports:
            port.in_octets = port.out_octets = 0.0
            port.in_ucast_pkts = port.out_ucast_pkts = 0.0
            port.in_errors = port.out_errors = port.in_discards = port.out_discards = 0
            port.last_change_at = now
        kind = DeviceEventKind.COLD_START if cold else DeviceEventKind.WARM_START
        if not device.silent:
            self._emit(DeviceRestarted(device_name, kind))

    def error_burst(self, device_name: str, port_name: str, errors: int) -> None:
        port = self.snapshot(device_name).port(port_name)
        port.in_errors = (port.in_errors + errors) % COUNTER32
        port.in_discards = (port.in_discards + errors // 4) % COUNTER32

    def set_optic_power(self, device_name: str, port_name: str, *, rx_dbm: float) -> None:
        """Optic drift: the received light level of a port's transceiver."""
        self.snapshot(device_name).port(port_name).rx_power_dbm = rx_dbm

    def set_fan(self, device_name: str, number: int, *, ok: bool) -> None:
        """Fail or repair a chassis fan (numbered from 1, as the devices print them)."""
        self._set_component(device_name, "fan", self.device(device_name).environment.fans_ok,
                            number, ok)  # fmt: skip

    def set_psu(self, device_name: str, number: int, *, ok: bool) -> None:
        """Fail (input power lost) or repair a power supply (numbered from 1)."""
        self._set_component(device_name, "power supply",
                            self.device(device_name).environment.psus_ok, number, ok)  # fmt: skip

    @staticmethod
    def _set_component(device: str, what: str, states: list[bool], number: int, ok: bool) -> None:
        if not 1 <= number <= len(states):
            raise KeyError(f"device {device} has no {what} {number} (it has 1-{len(states)})")
        states[number - 1] = ok

    def set_temperature(self, device_name: str, celsius: float) -> None:
        self.device(device_name).environment.temperature_c = celsius

    def set_pdu_load(self, device_name: str, phases_amps: list[float]) -> None:
        """Change a PDU's phase currents; its energy meter has counted the old load until now."""
        pdu = self.device(device_name).pdu
        if pdu is None:
            raise ValueError(f"{device_name} is not a PDU")
        pdu.energy_now(self.clock())
        pdu.phases_amps = list(phases_amps)

    def set_ups_on_battery(self, device_name: str, *, on_battery: bool) -> None:
        ups = self.device(device_name).ups
        if ups is None:
            raise KeyError(f"device {device_name} is not a UPS")
        if ups.on_battery != on_battery:
            ups.on_battery_since = self.clock() if on_battery else None
        ups.on_battery = on_battery
        ups.input_voltage_v = 0.0 if on_battery else 230.0

    def move_cable(
        self, device_name: str, port_name: str, *, to_device: str | None, to_port: str | None
    ) -> None:
        """Change what LLDP sees on a port, as when someone re-patches a cable."""
        port = self.device(device_name).port(port_name)
        port.neighbor_device = to_device
        port.neighbor_port = to_port
