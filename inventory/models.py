"""The inventory's tables.

Rows are never deleted: something removed from the inventory files is *retired*
(`retired_at` set), so that the tickets, events and stability figures that name it keep their
history. Natural keys (site code, device name, device + interface name, …) are unique and are
what `inventory sync` matches on. Credential *profile names* are stored, never their values.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import BigInteger, Date, Numeric, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from inventory.dbtime import UTCDateTime


class Tracked(SQLModel):
    created_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    retired_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)

    @property
    def active(self) -> bool:
        return self.retired_at is None


class Site(Tracked, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_type=String(32), unique=True, index=True)
    name: str
    name_zh: str = ""
    kind: str = Field(sa_type=String(32))
    address: str = ""
    timezone: str = "Asia/Shanghai"


class Room(Tracked, table=True):
    __table_args__ = (UniqueConstraint("site_id", "name", name="uq_room_site_name"),)
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    name: str
    floor: str = ""


class Rack(Tracked, table=True):
    # Rack names are unique within a site (the label on the door), whichever room.
    __table_args__ = (UniqueConstraint("site_id", "name", name="uq_rack_site_name"),)
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    room_id: int = Field(foreign_key="room.id", index=True)
    name: str
    units: int = 42
    description: str = ""


class Device(Tracked, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    rack_id: int = Field(foreign_key="rack.id", index=True)
    position: int | None = None
    role: str = Field(sa_type=String(32), index=True)
    vendor: str
    model: str
    platform: str | None = Field(default=None, sa_type=String(64))
    serial: str
    asset_tag: str = ""
    maintenance_vendor: str | None = None
    maintenance_contract: str | None = None
    maintenance_expires: dt.date | None = Field(default=None, sa_type=Date)
    mgmt_address: str = Field(sa_type=String(64))
    snmp_port: int = 161
    ssh_port: int = 22
    snmp_profile: str | None = Field(default=None, sa_type=String(64))
    ssh_profile: str | None = Field(default=None, sa_type=String(64))


class Interface(Tracked, table=True):
    __table_args__ = (UniqueConstraint("device_id", "name", name="uq_interface_device_name"),)
    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(foreign_key="device.id", index=True)
    name: str
    role: str = Field(sa_type=String(32))
    speed_mbps: int
    description: str = ""


class Circuit(Tracked, table=True):
    """A leased circuit (rented transmission) that a trunk runs over."""

    id: int | None = Field(default=None, primary_key=True)
    circuit_id: str = Field(unique=True, index=True)
    carrier: str
    monthly_rent_cny: Decimal = Field(default=Decimal(0), sa_type=Numeric(12, 2))
    bandwidth_mbps: int | None = None
    # The rental runs from starts_on to ends_on inclusive (None: open-ended).
    starts_on: dt.date | None = Field(default=None, sa_type=Date)
    ends_on: dt.date | None = Field(default=None, sa_type=Date)
    # The carrier's network operations centre: whom the engineer on shift calls.
    noc_name: str | None = None
    noc_phone: str | None = None
    noc_email: str | None = None


class AccessUnit(Tracked, table=True):
    """A member network connected to the exchange (接入单位)."""

    __tablename__ = "access_unit"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_type=String(64), unique=True, index=True)
    name: str
    name_zh: str = ""
    asn: int = Field(sa_type=BigInteger)


class Contact(Tracked, table=True):
    __table_args__ = (UniqueConstraint("access_unit_id", "name", name="uq_contact_unit_name"),)
    id: int | None = Field(default=None, primary_key=True)
    access_unit_id: int = Field(foreign_key="access_unit.id", index=True)
    name: str
    role: str = Field(sa_type=String(32))
    priority: int = 1
    phone: str | None = None
    email: str | None = None
    wecom: str | None = None
    dingtalk: str | None = None


class Link(Tracked, table=True):
    """A member link (IX port ↔ access unit) or a trunk (port ↔ port, maybe over a circuit).

    `key` is the natural key sync matches on: `unit@device:port` for a member link,
    `deviceA:portA<->deviceB:portB` (ends sorted) for a trunk.
    """

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True)
    kind: str = Field(sa_type=String(16), index=True)
    a_interface_id: int = Field(foreign_key="interface.id", index=True)
    b_interface_id: int | None = Field(default=None, foreign_key="interface.id", index=True)
    access_unit_id: int | None = Field(default=None, foreign_key="access_unit.id", index=True)
    circuit_id: int | None = Field(default=None, foreign_key="circuit.id")
    description: str = ""
    ipv4: str | None = None
    ipv6: str | None = None
