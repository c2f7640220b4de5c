"""SSH getters: napalm first, netmiko for the raw commands napalm lacks, in a bounded thread pool.

napalm and netmiko block, so every call (open, each getter, close) runs in a worker thread of a
bounded `ThreadPoolExecutor`, awaited with `asyncio.wait_for`. The asyncio deadline is only the
backstop: netmiko's own timeouts (`conn_timeout`, `banner_timeout`, `auth_timeout` and
`read_timeout_override`) are set just below it, so a thread whose device went silent ends by
itself shortly after the round gave up on it, and the pool does not fill with stuck threads.

One device's failure never leaves its round: authentication failures, timeouts, a device that
stops mid-output, an unexpected prompt, a rejected command, each becomes a `DeviceError` in that
device's `DeviceCollection` (frozen, typed), and the other devices carry on. Error texts are
built from our own wording plus the library's message with every credential value of the target
scrubbed out, so no password reaches a log line or a report.

Which getters run when is a pure function: `due_kinds(last_run_by_kind, now, intervals)`.

    collector = SshCollector(max_workers=8)
    results = await collector.collect(targets, {GetterKind.ENVIRONMENT, GetterKind.OPTICS})
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import re
import socket
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sqlmodel import Session, col, select

from collectors.ssh_environment import ComponentStatus, parse_raw_environment
from inventory import models as inv
from inventory.credentials import CredentialError, CredentialStore, SshCredentials
from inventory.credentials import scrub as scrub_secrets
from inventory.schema import SshProfile

log = logging.getLogger(__name__)

T = TypeVar("T")

MASK = "********"


# -- platforms ---------------------------------------------------------------------------------


class GetterKind(StrEnum):
    FACTS = "facts"
    INTERFACES = "interfaces"
    COUNTERS = "counters"
    ENVIRONMENT = "environment"
    OPTICS = "optics"
    LLDP = "lldp"
    CONFIG = "config"


ALL_KINDS = frozenset(GetterKind)
# What ixops reads from a platform it speaks to through netmiko alone.
NETMIKO_KINDS = frozenset({GetterKind.FACTS, GetterKind.CONFIG})


@dataclass(frozen=True)
class PlatformDriver:
    """How ixops speaks to one platform: napalm's driver and the raw commands napalm lacks.

    A platform without a napalm driver (Huawei VRP, H3C Comware) is spoken to through
    netmiko alone (`NetmikoSession`), for the getters in `kinds`: facts and the config.
    """

    platform: str
    napalm_driver: str | None
    optional_args: Mapping[str, Any] = field(default_factory=dict)
    netmiko_device_type: str = ""
    kinds: frozenset[GetterKind] = ALL_KINDS
    version_command: str = ""
    config_command: str = ""
    # napalm's ios get_environment reports fans and power supplies as "invalid" placeholders,
    # its eos one cannot tell an empty slot from a failed supply; the raw commands say which
    # fan or PSU has failed and which slot is empty (collectors.ssh_environment).
    environment_commands: tuple[str, ...] = ()
    # napalm's eos driver reports memory in KiB, its ios driver in bytes.
    memory_unit_bytes: int = 1


PLATFORMS: dict[str, PlatformDriver] = {
    "cisco_ios": PlatformDriver(
        platform="cisco_ios",
        napalm_driver="ios",
        environment_commands=("show environment all",),
    ),
    "arista_eos": PlatformDriver(
        platform="arista_eos",
        napalm_driver="eos",
        # eAPI over HTTPS is napalm's default; machine-room management networks often allow
        # SSH only, and the lab speaks SSH.
        optional_args={"transport": "ssh"},
        memory_unit_bytes=1024,
        environment_commands=("show environment power", "show environment cooling"),
    ),
    "huawei": PlatformDriver(
        platform="huawei",
        napalm_driver=None,
        netmiko_device_type="huawei",
        kinds=NETMIKO_KINDS,
        version_command="display version",
        config_command="display current-configuration",
    ),
    "hp_comware": PlatformDriver(
        platform="hp_comware",
        napalm_driver=None,
        netmiko_device_type="hp_comware",
        kinds=NETMIKO_KINDS,
        version_command="display version",
        config_command="display current-configuration",
    ),
}


def platform_driver(platform: str | None) -> PlatformDriver:
    try:
        return PLATFORMS[platform or ""]
    except KeyError:
        valid = ", ".join(sorted(PLATFORMS))
        raise ValueError(f"no SSH getters for platform {platform!r} (valid: {valid})") from None


# -- what to collect, and when ------------------------------------------------------------------


DEFAULT_INTERVALS: Mapping[GetterKind, dt.timedelta] = {
    GetterKind.ENVIRONMENT: dt.timedelta(minutes=5),
    GetterKind.OPTICS: dt.timedelta(minutes=5),
    GetterKind.INTERFACES: dt.timedelta(minutes=5),
    GetterKind.COUNTERS: dt.timedelta(minutes=5),
    GetterKind.LLDP: dt.timedelta(hours=1),
    GetterKind.FACTS: dt.timedelta(hours=6),
    GetterKind.CONFIG: dt.timedelta(days=1),
}


def due_kinds(
    last_run_by_kind: Mapping[GetterKind, dt.datetime | None],
    now: dt.datetime,
    intervals: Mapping[GetterKind, dt.timedelta] = DEFAULT_INTERVALS,
) -> frozenset[GetterKind]:
    """The kinds whose interval has passed since their last run (never run: due at once).

    A kind without an interval is collected on demand only. A last run in the future (the
    clock was set back) counts as due, so a clock jump cannot silence a getter for a day.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    due: set[GetterKind] = set()
    for kind, interval in intervals.items():
        last = last_run_by_kind.get(kind)
        if last is None or last > now or now - last >= interval:
            due.add(kind)
    return frozenset(due)


# -- targets and results ------------------------------------------------------------------------


@dataclass(frozen=True)
class SshTarget:
    device: str
    platform: str
    host: str
    port: int
    credentials: SshCredentials
    connect_timeout_s: float = 10.0
    command_timeout_s: float = 20.0


@dataclass(frozen=True)
class Facts:
    hostname: str
    fqdn: str
    vendor: str
    model: str
    serial_number: str
    os_version: str
    uptime_s: float
    interface_names: tuple[str, ...]


@dataclass(frozen=True)
class InterfaceInfo:
    name: str
    is_up: bool
    is_enabled: bool
    speed_mbps: float
    description: str
    mac_address: str


@dataclass(frozen=True)
class InterfaceCounters:
    name: str
    rx_octets: int
    tx_octets: int
    rx_unicast_packets: int
    tx_unicast_packets: int
    rx_errors: int
    tx_errors: int
    rx_discards: int
    tx_discards: int


@dataclass(frozen=True)
class TemperatureSensor:
    name: str
    temperature_c: float
    is_alert: bool
    is_critical: bool


@dataclass(frozen=True)
class Environment:
    temperatures: tuple[TemperatureSensor, ...]
    fans: tuple[ComponentStatus, ...]
    power_supplies: tuple[ComponentStatus, ...]
    cpu_percent: float
    memory_used_bytes: int
    memory_total_bytes: int
    # Set when the device's raw environment text was read and nothing understood in it.
    unparsed_lines: int = 0

    @property
    def memory_used_pct(self) -> float | None:
        if self.memory_total_bytes <= 0:
            return None
        return 100.0 * self.memory_used_bytes / self.memory_total_bytes


@dataclass(frozen=True)
class OpticChannel:
    """One lane of a transceiver (a 10G SFP+ has lane 0 only; a 100G LR4 has four)."""

    interface: str
    channel: int
    rx_power_dbm: float
    tx_power_dbm: float


@dataclass(frozen=True)
class LldpNeighbor:
    """One LLDP neighbour. A Linux host (lldpd) sends its MAC as port ID and its interface
    name as port description, so both are kept, and the chassis ID."""

    local_port: str
    remote_device: str
    remote_port: str
    remote_port_description: str = ""
    remote_chassis_id: str = ""


@dataclass(frozen=True)
class DeviceConfig:
    running: str
    startup: str


class ErrorKind(StrEnum):
    NO_CREDENTIALS = "no_credentials"
    UNSUPPORTED_PLATFORM = "unsupported_platform"
    AUTH_FAILED = "auth_failed"
    CONNECT_TIMEOUT = "connect_timeout"
    CONNECT_FAILED = "connect_failed"
    READ_TIMEOUT = "read_timeout"  # the device stopped mid-output or never showed its prompt
    UNEXPECTED_PROMPT = "unexpected_prompt"
    COMMAND_REJECTED = "command_rejected"
    DEADLINE_EXCEEDED = "deadline_exceeded"
    FAILED = "failed"


@dataclass(frozen=True)
class DeviceError:
    """Why a device's round stopped. `message` is safe to log: it holds no credential."""

    kind: ErrorKind
    message: str
    getter: GetterKind | None = None

    def __str__(self) -> str:
        where = f" ({self.getter.value})" if self.getter is not None else ""
        return f"{self.kind.value}{where}: {self.message}"


@dataclass(frozen=True)
class DeviceCollection:
    """One device's round: what each getter returned, or the error that ended the round."""

    device: str
    platform: str
    requested: frozenset[GetterKind]
    started_at: dt.datetime
    finished_at: dt.datetime
    facts: Facts | None = None
    interfaces: tuple[InterfaceInfo, ...] | None = None
    counters: tuple[InterfaceCounters, ...] | None = None
    environment: Environment | None = None
    optics: tuple[OpticChannel, ...] | None = None
    lldp: tuple[LldpNeighbor, ...] | None = None
    config: DeviceConfig | None = None
    error: DeviceError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def collected(self) -> frozenset[GetterKind]:
        present = {
            GetterKind.FACTS: self.facts,
            GetterKind.INTERFACES: self.interfaces,
            GetterKind.COUNTERS: self.counters,
            GetterKind.ENVIRONMENT: self.environment,
            GetterKind.OPTICS: self.optics,
            GetterKind.LLDP: self.lldp,
            GetterKind.CONFIG: self.config,
        }
        return frozenset(kind for kind, value in present.items() if value is not None)


# -- parsing napalm's dicts into our types (pure) ----------------------------------------------


def _float(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def parse_facts(data: Mapping[str, Any]) -> Facts:
    return Facts(
        hostname=str(data.get("hostname", "")),
        fqdn=str(data.get("fqdn", "")),
        vendor=str(data.get("vendor", "")),
        model=str(data.get("model", "")),
        serial_number=str(data.get("serial_number", "")),
        os_version=str(data.get("os_version", "")),
        uptime_s=_float(data.get("uptime")),
        interface_names=tuple(str(n) for n in data.get("interface_list", ())),
    )


def parse_interfaces(data: Mapping[str, Mapping[str, Any]]) -> tuple[InterfaceInfo, ...]:
    return tuple(
        InterfaceInfo(
            name=name,
            is_up=bool(info.get("is_up")),
            is_enabled=bool(info.get("is_enabled")),
            speed_mbps=_float(info.get("speed")),
            description=str(info.get("description", "")),
            mac_address=str(info.get("mac_address", "")),
        )
        for name, info in data.items()
    )


def parse_counters(data: Mapping[str, Mapping[str, Any]]) -> tuple[InterfaceCounters, ...]:
    return tuple(
        InterfaceCounters(
            name=name,
            rx_octets=_int(c.get("rx_octets")),
            tx_octets=_int(c.get("tx_octets")),
            rx_unicast_packets=_int(c.get("rx_unicast_packets")),
            tx_unicast_packets=_int(c.get("tx_unicast_packets")),
            rx_errors=_int(c.get("rx_errors")),
            tx_errors=_int(c.get("tx_errors")),
            rx_discards=_int(c.get("rx_discards")),
            tx_discards=_int(c.get("tx_discards")),
        )
        for name, c in data.items()
    )


def _components(data: Mapping[str, Mapping[str, Any]]) -> tuple[ComponentStatus, ...]:
    # napalm fills "invalid" when the platform has no such getter: not a component at all.
    return tuple(
        ComponentStatus(name=str(name), ok=bool(info.get("status")))
        for name, info in data.items()
        if name != "invalid"
    )


def parse_environment(
    data: Mapping[str, Any], driver: PlatformDriver, raw_outputs: Mapping[str, str] | None = None
) -> Environment:
    temperatures = tuple(
        TemperatureSensor(
            name=str(name),
            temperature_c=_float(info.get("temperature")),
            is_alert=bool(info.get("is_alert")),
            is_critical=bool(info.get("is_critical")),
        )
        for name, info in (data.get("temperature") or {}).items()
    )
    fans = _components(data.get("fans") or {})
    psus = _components(data.get("power") or {})
    unparsed = 0
    if raw_outputs:
        raw = parse_raw_environment(driver.platform, dict(raw_outputs))
        fans = raw.fans or fans
        psus = raw.power_supplies or psus
        if not raw.fans and not raw.power_supplies:
            unparsed = sum(
                1 for text in raw_outputs.values() for line in text.splitlines() if line.strip()
            )
    cpus = data.get("cpu") or {}
    usages = [_float(c.get("%usage")) for c in cpus.values()]
    memory = data.get("memory") or {}
    unit = driver.memory_unit_bytes
    return Environment(
        temperatures=temperatures,
        fans=fans,
        power_supplies=psus,
        cpu_percent=max(usages) if usages else 0.0,
        memory_used_bytes=_int(memory.get("used_ram")) * unit,
        memory_total_bytes=_int(memory.get("available_ram")) * unit,
        unparsed_lines=unparsed,
    )


def parse_optics(data: Mapping[str, Mapping[str, Any]]) -> tuple[OpticChannel, ...]:
    channels: list[OpticChannel] = []
    for interface, info in data.items():
        for channel in (info.get("physical_channels") or {}).get("channel", ()):
            state = channel.get("state") or {}
            channels.append(
                OpticChannel(
                    interface=interface,
                    channel=_int(channel.get("index")),
                    rx_power_dbm=_float((state.get("input_power") or {}).get("instant")),
                    tx_power_dbm=_float((state.get("output_power") or {}).get("instant")),
                )
            )
    return tuple(channels)


def parse_lldp_detail(
    data: Mapping[str, Iterable[Mapping[str, Any]]],
) -> tuple[LldpNeighbor, ...]:
    """napalm's `get_lldp_neighbors_detail`: port ID, port description and chassis ID."""
    return tuple(
        LldpNeighbor(
            local_port=local,
            remote_device=str(entry.get("remote_system_name", "")),
            remote_port=str(entry.get("remote_port", "")),
            remote_port_description=str(entry.get("remote_port_description", "")),
            remote_chassis_id=str(entry.get("remote_chassis_id", "")),
        )
        for local, entries in data.items()
        for entry in entries
    )


def parse_config(data: Mapping[str, Any]) -> DeviceConfig:
    return DeviceConfig(
        running=str(data.get("running") or ""), startup=str(data.get("startup") or "")
    )


# -- errors -------------------------------------------------------------------------------------


def scrub(text: str, secrets: Iterable[str]) -> str:
    """The text with every non-empty secret value masked (the one scrubber,
    :func:`inventory.credentials.scrub`)."""
    return scrub_secrets(text, *secrets)


def _secret_values(credentials: SshCredentials) -> list[str]:
    return [s.reveal() for s in (credentials.password, credentials.enable_secret) if s is not None]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def classify_error(
    exc: BaseException, *, getter: GetterKind | None, target: SshTarget
) -> DeviceError:
    """A typed, credential-free error for an exception raised by napalm or netmiko."""
    from napalm.base import exceptions as napalm_errors
    from netmiko import exceptions as netmiko_errors

    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    detail = scrub(_first_line(exc), _secret_values(target.credentials))
    where = f"{target.host}:{target.port}"

    def has(*types: type[BaseException]) -> bool:
        return any(isinstance(e, types) for e in chain)

    if any("Authentication timeout" in str(e) for e in chain):
        # paramiko gave up waiting for the device's answer to the password (netmiko reports it
        # as an authentication failure): a slow or loaded device, not a rejected password.
        return DeviceError(
            ErrorKind.CONNECT_TIMEOUT,
            f"{where} did not answer the login of user {target.credentials.username!r} within "
            f"{target.connect_timeout_s:g} s: the device (or its AAA server) is slow; the "
            "password was not rejected",
            getter,
        )
    if has(netmiko_errors.NetmikoAuthenticationException, napalm_errors.ConnectAuthError):
        return DeviceError(
            ErrorKind.AUTH_FAILED,
            f"authentication failed at {where} for user {target.credentials.username!r}",
            getter,
        )
    if has(netmiko_errors.ReadTimeout):
        return DeviceError(
            ErrorKind.READ_TIMEOUT,
            f"no prompt from {where} within {target.command_timeout_s:g} s: the device stopped "
            f"mid-output or is too slow ({detail})",
            getter,
        )
    if has(netmiko_errors.NetmikoTimeoutException, napalm_errors.ConnectTimeoutError):
        return DeviceError(
            ErrorKind.CONNECT_TIMEOUT,
            f"no SSH session with {where} within {target.connect_timeout_s:g} s ({detail})",
            getter,
        )
    if getter is None and has(napalm_errors.ConnectionException):
        # napalm turns netmiko's connect timeout into "Cannot connect to <host>".
        return DeviceError(
            ErrorKind.CONNECT_TIMEOUT,
            f"no SSH session with {where} within {target.connect_timeout_s:g} s ({detail})",
            getter,
        )
    if has(napalm_errors.CommandErrorException) or "Invalid input" in detail:
        return DeviceError(
            ErrorKind.COMMAND_REJECTED, f"{where} rejected a command ({detail})", getter
        )
    if has(netmiko_errors.ReadException) or re.search(
        r"prompt|pattern not detected|enable mode", detail, re.IGNORECASE
    ):
        return DeviceError(
            ErrorKind.UNEXPECTED_PROMPT, f"unexpected prompt from {where} ({detail})", getter
        )
    if has(ConnectionRefusedError, socket.gaierror, OSError, EOFError):
        return DeviceError(ErrorKind.CONNECT_FAILED, f"cannot reach {where} ({detail})", getter)
    return DeviceError(ErrorKind.FAILED, f"{type(exc).__name__} at {where}: {detail}", getter)


# -- one device's session (runs in a worker thread) ------------------------------------------


class DeviceSession(Protocol):
    """A connection to one device; every method blocks and is run in a worker thread."""

    def open(self) -> None: ...

    def fetch(self, kind: GetterKind) -> Any: ...

    def close(self) -> None: ...

    def abandon(self) -> None:
        """Close after a failure, without waiting for a prompt the device may never send."""
        ...


class NapalmSession:
    """napalm's driver for the platform; raw netmiko commands on the same connection."""

    def __init__(self, target: SshTarget) -> None:
        self.target = target
        self.driver_info = platform_driver(target.platform)
        self._driver: Any = None

    def open(self) -> None:
        from napalm import get_network_driver

        target = self.target
        credentials = target.credentials
        optional: dict[str, Any] = {
            "port": target.port,
            "fast_cli": True,
            "global_delay_factor": 0.1,
            "conn_timeout": target.connect_timeout_s,
            "banner_timeout": target.connect_timeout_s,
            "auth_timeout": target.connect_timeout_s,
            # Bounds every read netmiko makes, including napalm's own send_command calls:
            # what lets a thread whose device hung mid-output end by itself.
            "read_timeout_override": target.command_timeout_s,
            **self.driver_info.optional_args,
        }
        if credentials.enable_secret is not None:
            optional["secret"] = credentials.enable_secret.reveal()
        elif credentials.password is not None:
            optional["secret"] = credentials.password.reveal()
        if credentials.key_file is not None:
            optional["key_file"] = str(credentials.key_file)
            optional["use_keys"] = True
        password = credentials.password.reveal() if credentials.password is not None else ""
        driver_class = get_network_driver(self.driver_info.napalm_driver or "")
        self._driver = driver_class(
            target.host,
            credentials.username,
            password,
            timeout=target.command_timeout_s,
            optional_args=optional,
        )
        self._driver.open()

    def _raw(self, command: str) -> str:
        output = str(self._driver.device.send_command(command))
        if "% Invalid input" in output:
            from napalm.base.exceptions import CommandErrorException

            raise CommandErrorException(f"{command!r}: % Invalid input")
        return output

    def fetch(self, kind: GetterKind) -> Any:
        driver = self._driver
        if kind is GetterKind.FACTS:
            return parse_facts(driver.get_facts())
        if kind is GetterKind.INTERFACES:
            return parse_interfaces(driver.get_interfaces())
        if kind is GetterKind.COUNTERS:
            return parse_counters(driver.get_interfaces_counters())
        if kind is GetterKind.ENVIRONMENT:
            raw = {c: self._raw(c) for c in self.driver_info.environment_commands}
            return parse_environment(driver.get_environment(), self.driver_info, raw)
        if kind is GetterKind.OPTICS:
            return parse_optics(driver.get_optics())
        if kind is GetterKind.LLDP:
            return parse_lldp_detail(driver.get_lldp_neighbors_detail())
        if kind is GetterKind.CONFIG:
            return parse_config(driver.get_config())
        raise ValueError(f"unknown getter {kind!r}")

    def close(self) -> None:
        if self._driver is not None and self._driver.device is not None:
            self._driver.close()
        self._driver = None

    def abandon(self) -> None:
        driver, self._driver = self._driver, None
        connection = getattr(driver, "device", None) if driver is not None else None
        if connection is None:
            return
        # disconnect() reads for a prompt that a hung device never sends; keep that short.
        connection.read_timeout_override = 0.2
        with contextlib.suppress(Exception):
            connection.disconnect()


_VRP_VERSION = re.compile(r"VRP \(R\) software, Version (?P<version>\S+) \((?P<product>[^)]*)\)")
_COMWARE_VERSION = re.compile(r"Comware Software, Version (?P<version>[^\n]+)")
_MODEL_UPTIME = re.compile(
    r"^(?:HUAWEI|H3C)\s+(?P<model>\S+)\s+uptime is\s+(?P<uptime>.+)$", re.MULTILINE
)
_UPTIME_UNITS = {"week": 604800, "day": 86400, "hour": 3600, "minute": 60, "second": 1}


def parse_display_version(text: str, *, vendor: str, hostname: str) -> Facts:
    """Facts from Huawei VRP's or H3C Comware's `display version` (ntc-templates' layouts)."""
    version = ""
    found = _VRP_VERSION.search(text) or _COMWARE_VERSION.search(text)
    if found is not None:
        version = found.group(0).split("Version ", 1)[1].strip()
    model, uptime_s = "", 0.0
    line = _MODEL_UPTIME.search(text)
    if line is not None:
        model = line["model"]
        for count, unit in re.findall(r"(\d+)\s+(week|day|hour|minute|second)", line["uptime"]):
            uptime_s += int(count) * _UPTIME_UNITS[unit]
    return Facts(
        hostname=hostname,
        fqdn=hostname,
        vendor=vendor,
        model=model,
        serial_number="",
        os_version=version,
        uptime_s=uptime_s,
        interface_names=(),
    )


class NetmikoSession:
    """netmiko alone, for platforms napalm has no driver for (Huawei VRP, H3C Comware)."""

    VENDORS: Mapping[str, str] = {"huawei": "Huawei", "hp_comware": "H3C"}

    def __init__(self, target: SshTarget) -> None:
        self.target = target
        self.driver_info = platform_driver(target.platform)
        self._connection: Any = None

    def open(self) -> None:
        from netmiko import ConnectHandler

        target = self.target
        credentials = target.credentials
        self._connection = ConnectHandler(
            device_type=self.driver_info.netmiko_device_type,
            host=target.host,
            port=target.port,
            username=credentials.username,
            password=credentials.password.reveal() if credentials.password is not None else "",
            key_file=str(credentials.key_file) if credentials.key_file is not None else None,
            use_keys=credentials.key_file is not None,
            conn_timeout=target.connect_timeout_s,
            banner_timeout=target.connect_timeout_s,
            auth_timeout=target.connect_timeout_s,
            read_timeout_override=target.command_timeout_s,
            fast_cli=True,
            global_delay_factor=0.1,
        )

    def _raw(self, command: str) -> str:
        output = str(self._connection.send_command(command))
        if "Unrecognized command" in output or "Error: " in output[:200]:
            from napalm.base.exceptions import CommandErrorException

            raise CommandErrorException(f"{command!r}: {output.strip().splitlines()[-1]}")
        return output

    def fetch(self, kind: GetterKind) -> Any:
        info = self.driver_info
        if kind is GetterKind.FACTS:
            hostname = str(self._connection.base_prompt)
            return parse_display_version(
                self._raw(info.version_command),
                vendor=self.VENDORS.get(info.platform, ""),
                hostname=hostname,
            )
        if kind is GetterKind.CONFIG:
            running = self._raw(info.config_command)
            return DeviceConfig(running=running, startup="")
        raise ValueError(f"no {kind.value} getter for platform {info.platform!r}")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.disconnect()
        self._connection = None

    def abandon(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        connection.read_timeout_override = 0.2
        with contextlib.suppress(Exception):
            connection.disconnect()


def open_session(target: SshTarget) -> DeviceSession:
    """napalm where the platform has a driver, else netmiko alone."""
    if platform_driver(target.platform).napalm_driver is None:
        return NetmikoSession(target)
    return NapalmSession(target)


SessionFactory = Callable[[SshTarget], DeviceSession]

# Order within a device's round: cheap, most telling first, the config (long) last.
_ORDER = (
    GetterKind.FACTS,
    GetterKind.INTERFACES,
    GetterKind.COUNTERS,
    GetterKind.ENVIRONMENT,
    GetterKind.OPTICS,
    GetterKind.LLDP,
    GetterKind.CONFIG,
)
_FIELDS = {
    GetterKind.FACTS: "facts",
    GetterKind.INTERFACES: "interfaces",
    GetterKind.COUNTERS: "counters",
    GetterKind.ENVIRONMENT: "environment",
    GetterKind.OPTICS: "optics",
    GetterKind.LLDP: "lldp",
    GetterKind.CONFIG: "config",
}


class SshCollector:
    """Runs device rounds concurrently, at most `max_workers` devices at a time.

    `deadline_margin_s` is how much longer than netmiko's own timeout the asyncio side waits
    before it gives up on a call; netmiko normally reports first, with the better message.
    """

    name = "ssh"  # the collector seam (collectors.seam)

    def __init__(
        self,
        *,
        max_workers: int = 8,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        session_factory: SessionFactory = open_session,
        deadline_margin_s: float = 5.0,
    ) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be ≥ 1, got {max_workers}")
        self.max_workers = max_workers
        self.clock = clock
        self.session_factory = session_factory
        self.deadline_margin_s = deadline_margin_s
        # Spare threads for closing abandoned sessions, so cleanup never waits behind a round.
        self._executor = ThreadPoolExecutor(
            max_workers=max_workers + 2, thread_name_prefix="ixops-ssh"
        )
        self._cleanup: set[asyncio.Future[None]] = set()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def aclose(self) -> None:
        """Wait (briefly) for abandoned sessions to close, then stop the threads."""
        if self._cleanup:
            await asyncio.wait(list(self._cleanup), timeout=self.deadline_margin_s)
        self.close()

    async def collect(
        self, targets: Iterable[SshTarget], kinds: Collection[GetterKind] = ALL_KINDS
    ) -> list[DeviceCollection]:
        """One round over `targets`; one result per target, in the same order."""
        wanted = frozenset(kinds)
        return await self.collect_plan([(t, wanted) for t in targets])

    async def collect_plan(
        self, plan: Iterable[tuple[SshTarget, Collection[GetterKind]]]
    ) -> list[DeviceCollection]:
        """One round where each target has its own kinds (those `due_kinds` found due)."""
        slots = asyncio.Semaphore(self.max_workers)

        async def bounded(target: SshTarget, kinds: Collection[GetterKind]) -> DeviceCollection:
            # The semaphore, not the pool's queue, bounds concurrency: time waiting for a
            # worker must not count against a device's per-call deadline.
            async with slots:
                return await self.collect_device(target, kinds)

        return list(await asyncio.gather(*(bounded(t, k) for t, k in plan)))

    async def _call(self, fn: Callable[[], T], timeout_s: float) -> T:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, fn)
        try:
            return await asyncio.wait_for(future, timeout_s + self.deadline_margin_s)
        except TimeoutError:
            # A socket timeout raised inside the call is a TimeoutError too; only a cancelled
            # future means that our own deadline ran out.
            if future.cancelled():
                raise _DeadlineExceededError from None
            raise

    async def collect_device(
        self, target: SshTarget, kinds: Collection[GetterKind] = ALL_KINDS
    ) -> DeviceCollection:
        """One device's round; never raises (apart from cancellation)."""
        started = self.clock()
        wanted = frozenset(kinds)
        if GetterKind.OPTICS in wanted:
            # Optics are judged only on ports that are up: the port states come along.
            wanted |= {GetterKind.INTERFACES}
        if target.platform in PLATFORMS:
            # A netmiko-only platform has facts and the config, nothing else to ask for.
            wanted &= PLATFORMS[target.platform].kinds
        values: dict[str, Any] = {}
        error: DeviceError | None = None
        session: DeviceSession | None = None
        opened = False
        step: GetterKind | None = None
        began = time.monotonic()
        try:
            if target.credentials.password is None and target.credentials.key_file is None:
                raise _Early(
                    DeviceError(ErrorKind.NO_CREDENTIALS, "the SSH profile has no password or key")
                )
            try:
                session = self.session_factory(target)
            except ValueError as exc:
                raise _Early(DeviceError(ErrorKind.UNSUPPORTED_PLATFORM, str(exc))) from None
            # Connecting takes up to three netmiko timeouts (TCP, banner, auth) back to back.
            opened_session = session
            await self._call(session.open, 3 * target.connect_timeout_s)
            opened = True
            for kind in _ORDER:
                if kind not in wanted:
                    continue
                step = kind
                values[_FIELDS[kind]] = await self._call(
                    functools.partial(opened_session.fetch, kind), target.command_timeout_s
                )
            step = None
        except _Early as early:
            error = early.error
        except _DeadlineExceededError:
            limit = target.command_timeout_s if opened else 3 * target.connect_timeout_s
            error = DeviceError(
                ErrorKind.DEADLINE_EXCEEDED,
                f"{target.host}:{target.port} did not finish within {limit:g} s",
                step,
            )
        except Exception as exc:  # noqa: BLE001 - every device failure becomes a typed result
            error = classify_error(exc, getter=step if opened else None, target=target)
        if session is not None:
            await self._finish(session, target, failed=error is not None)
        if error is not None:
            log.warning("ssh %s: %s after %.1f s", target.device, error, time.monotonic() - began)
        return DeviceCollection(
            device=target.device,
            platform=target.platform,
            requested=wanted,
            started_at=started,
            finished_at=self.clock(),
            error=error,
            **values,
        )

    async def _finish(self, session: DeviceSession, target: SshTarget, *, failed: bool) -> None:
        if failed:
            # A hung session may still hold its worker; close it on a spare thread and do not
            # make the round wait for it.
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(self._executor, session.abandon)
            self._cleanup.add(future)
            future.add_done_callback(self._cleanup.discard)
            return
        try:
            await self._call(session.close, target.command_timeout_s)
        except Exception as exc:  # noqa: BLE001 - data is in hand; a failed goodbye is noise
            log.info(
                "ssh %s: close failed: %s",
                target.device,
                classify_error(exc, getter=None, target=target),
            )


class _DeadlineExceededError(Exception):
    """The asyncio deadline of one call ran out before netmiko gave up by itself."""


class _Early(Exception):  # control flow inside collect_device only
    def __init__(self, error: DeviceError) -> None:
        super().__init__(error.message)
        self.error = error


# -- targets from the store -------------------------------------------------------------------


@dataclass(frozen=True)
class TargetProblem:
    """A device with an SSH profile that will not be asked: `skipped` when ixops has no getters
    for its platform (juniper_junos, linux), else it failed (a profile or secret missing)."""

    device: str
    message: str
    skipped: bool = False

    def __str__(self) -> str:
        return f"{self.device}: {self.message}"


def ssh_targets(
    session: Session,
    *,
    profiles: Mapping[str, SshProfile],
    credentials: CredentialStore,
    devices: Collection[str] | None = None,
    site: str | None = None,
    endpoints: Mapping[str, tuple[str, int]] | None = None,
    connect_timeout_s: float = 10.0,
    command_timeout_s: float = 20.0,
) -> tuple[list[SshTarget], list[TargetProblem]]:
    """A target per active device with a supported platform and an SSH profile that resolves.

    `profiles` maps profile names to the inventory's `SshProfile`s; `credentials` is a
    `CredentialStore`. `endpoints` overrides where a device listens (the lab's free ports).
    """
    query = select(inv.Device).where(col(inv.Device.retired_at).is_(None))
    if site is not None:
        query = query.join(inv.Site, col(inv.Site.id) == col(inv.Device.site_id)).where(
            inv.Site.code == site
        )
    targets: list[SshTarget] = []
    problems: list[TargetProblem] = []
    for device in session.exec(query.order_by(col(inv.Device.name))):
        if devices is not None and device.name not in devices:
            continue
        if device.ssh_profile is None:
            if devices is not None:
                problems.append(TargetProblem(device.name, "no SSH profile in the inventory"))
            continue
        if device.platform not in PLATFORMS:
            valid = ", ".join(sorted(PLATFORMS))
            problems.append(
                TargetProblem(
                    device.name,
                    f"no SSH getters for platform {device.platform!r} (supported: {valid})",
                    skipped=True,
                )
            )
            continue
        profile = profiles.get(device.ssh_profile)
        if profile is None:
            problems.append(
                TargetProblem(device.name, f"SSH profile {device.ssh_profile!r} is not defined")
            )
            continue
        try:
            login = credentials.ssh(profile)
        except CredentialError as exc:
            problems.append(TargetProblem(device.name, str(exc)))
            continue
        host, port = (endpoints or {}).get(device.name, (device.mgmt_address, device.ssh_port))
        targets.append(
            SshTarget(
                device=device.name,
                platform=device.platform or "",
                host=host,
                port=port,
                credentials=login,
                connect_timeout_s=connect_timeout_s,
                command_timeout_s=command_timeout_s,
            )
        )
    return targets, problems
