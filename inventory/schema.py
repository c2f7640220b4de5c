"""The inventory file schema: what an engineer writes, checked field by field.

Sections (any file of an inventory directory may hold any of them, lists are merged):
`sites` (with rooms and racks), `devices` (with interfaces), `links` (trunks between rooms,
optionally over a leased circuit), `access_units` (member networks with their ports and
contacts) and `credentials` (profile names only: values live in the environment or the
secrets file).

Cross-references (a device's site, a link's endpoints, a profile's existence) are checked in
`inventory.validate`, which sees every file at once.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator


class SiteKind(StrEnum):
    MAIN = "main"
    ACCESS_POINT = "access_point"


class DeviceRole(StrEnum):
    EXCHANGE_SWITCH = "exchange_switch"
    ACCESS_SWITCH = "access_switch"
    ROUTER = "router"
    ROUTE_SERVER = "route_server"
    SERVER = "server"
    PDU = "pdu"
    UPS = "ups"
    ENVIRONMENT_SENSOR = "environment_sensor"


class InterfaceRole(StrEnum):
    MEMBER = "member"
    TRUNK = "trunk"
    UPLINK = "uplink"
    MANAGEMENT = "management"


class LinkKind(StrEnum):
    MEMBER = "member"
    TRUNK = "trunk"


class ContactRole(StrEnum):
    TECHNICAL = "technical"
    BACKUP = "backup"
    NOC = "noc"
    BUSINESS = "business"


class SnmpVersion(StrEnum):
    V2C = "2c"
    V3 = "3"


class SshMethod(StrEnum):
    PASSWORD = "password"  # noqa: S105 - the name of a method, not a password
    KEY = "key"


# ASNs that can never belong to a member network (RFC 7607, RFC 6793, RFC 7300).
RESERVED_ASNS = {0, 23456, 65535, 4294967295}
_SPEED_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([MGT])(?:b(?:it)?(?:/?s)?)?\s*$", re.IGNORECASE)
_EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()-]{5,20}$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_RANGE_RE = re.compile(r"\[(\d+)-(\d+)\]")


def parse_speed_mbps(value: Any) -> int:
    """'10G' → 10000; a bare integer is already Mb/s."""
    if isinstance(value, bool):
        raise ValueError(f"must look like 1G, 10G, 100G or 100M, not {value!r}")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"must be positive, not {value}")
        return value
    if isinstance(value, str):
        match = _SPEED_RE.match(value)
        if match:
            number = float(match.group(1))
            factor = {"M": 1, "G": 1000, "T": 1_000_000}[match.group(2).upper()]
            if number > 0:
                return int(number * factor)
    raise ValueError(f"must look like 1G, 10G, 100G or 100M, not {value!r}")


def expand_range(name: str) -> list[str]:
    """'Ethernet1/[1-4]' → Ethernet1/1 … Ethernet1/4 (one range per name)."""
    matches = list(_RANGE_RE.finditer(name))
    if not matches:
        return [name]
    if len(matches) > 1:
        raise ValueError(f"interface name {name!r} has more than one [a-b] range")
    first, last = int(matches[0].group(1)), int(matches[0].group(2))
    if last < first:
        raise ValueError(f"interface range {name!r} runs backwards")
    if last - first >= 1024:
        raise ValueError(f"interface range {name!r} is larger than 1024 ports")
    head, tail = name[: matches[0].start()], name[matches[0].end() :]
    return [f"{head}{n}{tail}" for n in range(first, last + 1)]


def _check_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise ValueError(
            f"{value!r} is not a valid name (letters, digits, '.', '_' and '-'; "
            "starting with a letter or digit)"
        )
    return value


def _check_email(value: str) -> str:
    if not _EMAIL_RE.match(value):
        raise ValueError(f"{value!r} is not a valid email address")
    return value


def _check_phone(value: Any) -> str:
    text = str(value)
    if not _PHONE_RE.match(text):
        raise ValueError(f"{text!r} is not a valid phone number")
    return text


def _check_asn(value: Any) -> int:
    if isinstance(value, str) and value.upper().startswith("AS"):
        value = value[2:]
    try:
        asn = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not an AS number") from None
    if not 0 <= asn <= 4294967295:
        raise ValueError(f"AS number {asn} is outside 0–4294967295")
    if asn in RESERVED_ASNS:
        raise ValueError(f"AS number {asn} is reserved and cannot be a member's")
    return asn


def _check_ip(value: Any) -> str:
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address") from None


def _check_date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a date (write YYYY-MM-DD)") from None


def check_amount(value: Any) -> Decimal:
    """An amount of yuan: a number or a string of one, at most two decimals, never negative
    (a YAML float is read by its written digits, so 0.1 is exactly 0.1)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"{value!r} is not an amount of yuan")
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount of yuan") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{value!r} is not a non-negative amount of yuan")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{value!r} has more than two decimals (fen)")
    return amount.quantize(Decimal("0.01"))


Name = Annotated[str, BeforeValidator(lambda v: _check_name(str(v)))]
Amount = Annotated[Decimal, BeforeValidator(check_amount)]
Email = Annotated[str, BeforeValidator(lambda v: _check_email(str(v)))]
Phone = Annotated[str, BeforeValidator(_check_phone)]
Asn = Annotated[int, BeforeValidator(_check_asn)]
IpAddress = Annotated[str, BeforeValidator(_check_ip)]
Date = Annotated[dt.date, BeforeValidator(_check_date)]
SpeedMbps = Annotated[int, BeforeValidator(parse_speed_mbps)]
Port = Annotated[int, Field(ge=1, le=65535)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Rack(Model):
    name: Name
    units: int = Field(default=42, ge=1, le=60)
    description: str = ""


class Room(Model):
    name: str = Field(min_length=1)
    floor: str = ""
    racks: list[Rack] = Field(default_factory=list)


class Site(Model):
    code: Name
    name: str = Field(min_length=1)
    name_zh: str = ""
    kind: SiteKind
    address: str = ""
    timezone: str = "Asia/Shanghai"
    rooms: list[Room] = Field(min_length=1)


class Maintenance(Model):
    vendor: str = Field(min_length=1)
    contract: str = ""
    expires: Date


class Management(Model):
    address: IpAddress
    snmp_port: Port = 161
    ssh_port: Port = 22
    snmp_engine_id: str | None = None
    """The device's SNMPv3 engine ID (hex, as `show snmp engineID` prints it): its v3 traps
    are authenticated with the profile's keys localised to it, so without it they are refused."""

    @field_validator("snmp_engine_id")
    @classmethod
    def _engine_id_is_hex(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.removeprefix("0x").replace(":", "").replace(" ", "").lower()
        try:
            octets = bytes.fromhex(text)
        except ValueError:
            raise ValueError(f"snmp_engine_id {value!r} is not hexadecimal") from None
        if not 5 <= len(octets) <= 32:
            raise ValueError(f"snmp_engine_id must be 5 to 32 octets, not {len(octets)}")
        return text


class DeviceCredentials(Model):
    snmp: str | None = None
    ssh: str | None = None


class Interface(Model):
    name: str = Field(min_length=1)
    role: InterfaceRole
    speed: SpeedMbps
    description: str = ""

    @field_validator("name")
    @classmethod
    def _range_is_well_formed(cls, value: str) -> str:
        expand_range(value)
        return value


class Device(Model):
    name: Name
    site: str
    rack: str
    position: int | None = Field(default=None, ge=1, le=60)
    role: DeviceRole
    vendor: str = Field(min_length=1)
    model: str = Field(min_length=1)
    platform: str | None = None
    serial: str = Field(min_length=1)
    asset_tag: str = ""
    maintenance: Maintenance | None = None
    management: Management
    credentials: DeviceCredentials = DeviceCredentials()
    interfaces: list[Interface] = Field(default_factory=list)

    def expanded_interfaces(self) -> list[tuple[int, Interface, str]]:
        """(index in the file, interface, concrete name) for every port, ranges expanded."""
        return [
            (index, interface, name)
            for index, interface in enumerate(self.interfaces)
            for name in expand_range(interface.name)
        ]


class Endpoint(Model):
    device: str
    interface: str


class CarrierNoc(Model):
    """Whom to call at the carrier when a leased circuit fails (its network operations centre)."""

    name: str = Field(min_length=1)
    phone: Phone | None = None
    email: Email | None = None


class Circuit(Model):
    carrier: str = Field(min_length=1)
    id: str = Field(min_length=1)
    monthly_rent_cny: Amount = Decimal(0)
    bandwidth: SpeedMbps | None = None
    starts_on: Date | None = None
    ends_on: Date | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> Circuit:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValueError(f"ends_on {self.ends_on} is before starts_on {self.starts_on}")
        return self

    noc: CarrierNoc | None = None


class Link(Model):
    kind: LinkKind = LinkKind.TRUNK
    a: Endpoint
    b: Endpoint
    description: str = ""
    circuit: Circuit | None = None


class Contact(Model):
    name: str = Field(min_length=1)
    role: ContactRole = ContactRole.TECHNICAL
    priority: int = Field(default=1, ge=1, le=9)
    phone: Phone | None = None
    email: Email | None = None
    wecom: str | None = None
    dingtalk: str | None = None


class AccessUnitPort(Model):
    device: str
    interface: str
    ipv4: IpAddress | None = None
    ipv6: IpAddress | None = None


class AccessUnit(Model):
    code: Name
    name: str = Field(min_length=1)
    name_zh: str = ""
    asn: Asn
    ports: list[AccessUnitPort] = Field(default_factory=list)
    contacts: list[Contact] = Field(min_length=1)


class SnmpProfile(Model):
    name: Name
    version: SnmpVersion
    auth_protocol: str | None = None
    priv_protocol: str | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        # `version: 3` in YAML is an integer; `version: 2c` is a string.
        return str(value) if isinstance(value, int) else value

    @field_validator("auth_protocol")
    @classmethod
    def _known_auth(cls, value: str | None) -> str | None:
        allowed = {"MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"}
        if value is not None and value.upper() not in allowed:
            raise ValueError(f"auth_protocol must be one of {', '.join(sorted(allowed))}")
        return None if value is None else value.upper()

    @field_validator("priv_protocol")
    @classmethod
    def _known_priv(cls, value: str | None) -> str | None:
        allowed = {"DES", "AES", "AES128", "AES192", "AES256"}
        if value is not None and value.upper() not in allowed:
            raise ValueError(f"priv_protocol must be one of {', '.join(sorted(allowed))}")
        return None if value is None else value.upper()


class SshProfile(Model):
    name: Name
    method: SshMethod = SshMethod.PASSWORD


class Credentials(Model):
    snmp: list[SnmpProfile] = Field(default_factory=list)
    ssh: list[SshProfile] = Field(default_factory=list)


SECTIONS: dict[str, type[Model]] = {
    "sites": Site,
    "devices": Device,
    "links": Link,
    "access_units": AccessUnit,
}


def field_vocabulary() -> set[str]:
    """Every field name the schema knows, for "did you mean" suggestions."""
    names: set[str] = set()
    pending: list[type[BaseModel]] = [*SECTIONS.values(), Credentials]
    seen: set[type[BaseModel]] = set()
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            names.add(name)
            for arg in (info.annotation, *getattr(info.annotation, "__args__", ())):
                inner = getattr(arg, "__args__", (arg,))
                pending.extend(
                    t for t in (arg, *inner) if isinstance(t, type) and issubclass(t, BaseModel)
                )
    return names
