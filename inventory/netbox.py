"""NetBox as a source and a destination of the inventory.

Import: NetBox's objects (from its REST API through pynetbox, or from a directory of CSV files
in NetBox's own bulk-import format) become inventory YAML sections; whatever has no place in
the inventory, or lacks what the inventory requires, is left out and said in the report, with
the object and the reason. Export: the inventory as NetBox's bulk-import CSV files, one per
object type, in the order NetBox needs them imported.

The mapping, both ways (NetBox → inventory):

- Site (slug, name, description, physical address, time zone) → site (code, name, name_zh,
  address, timezone); kind `main` for the sites given as main, else `access_point`.
- Location → room (description: floor); racks with no location go to a room named `default`.
- Rack (name, u_height, description) → rack (spaces in names become dashes, reported).
- Device (name, role, device type and manufacturer, platform, rack, position, serial, asset
  tag, primary IP) → device; the primary IP, or the addresses file, is the management address.
- Interface (name, type or speed, mgmt_only, description) → interface: management if
  mgmt_only, trunk if cabled to another imported device, else member.
- Cable between two interfaces → trunk link; Circuit of a Provider whose two terminations are
  cabled to imported interfaces → trunk link over that circuit (commit rate: bandwidth).
- Tenant with an ASN (an ipam ASN whose tenant it is) → access unit (description: name_zh); a
  tenant's IP address assigned to an interface → that interface as the unit's port.
- Contact assigned to a tenant (role, priority) → the unit's contact; its comments hold
  `wecom:` and `dingtalk:` lines.
"""

from __future__ import annotations

import csv
import ipaddress
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from inventory.schema import DeviceRole, InterfaceRole
from inventory.validate import Inventory
from inventory.validate import _known_platforms as known_platforms

NO_SERIAL: Final = "unrecorded"
ROLE_TAG_PREFIX: Final = "ixops-"  # interface tags ixops-member, ixops-trunk, ixops-uplink …
DEFAULT_ROOM: Final = "default"
_NAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_TYPE_SPEED_RE: Final = re.compile(r"^(\d+(?:\.\d+)?)([gm]?)base", re.IGNORECASE)

# NetBox device role slugs → inventory roles; the demo data's and the exporter's own.
ROLE_MAP: Final[Mapping[str, DeviceRole]] = {
    "router": DeviceRole.ROUTER,
    "core-switch": DeviceRole.EXCHANGE_SWITCH,
    "distribution-switch": DeviceRole.EXCHANGE_SWITCH,
    "exchange-switch": DeviceRole.EXCHANGE_SWITCH,
    "access-switch": DeviceRole.ACCESS_SWITCH,
    "tor-switch": DeviceRole.ACCESS_SWITCH,
    "route-server": DeviceRole.ROUTE_SERVER,
    "server": DeviceRole.SERVER,
    "application-server": DeviceRole.SERVER,
    "database-server": DeviceRole.SERVER,
    "pdu": DeviceRole.PDU,
    "ups": DeviceRole.UPS,
    "environment-sensor": DeviceRole.ENVIRONMENT_SENSOR,
}
EXPORT_ROLE: Final = {role: role.value.replace("_", "-") for role in DeviceRole}

# NetBox platform slugs ↔ netmiko device types (the inventory's platform vocabulary).
PLATFORM_MAP: Final[Mapping[str, str]] = {
    "cisco-ios": "cisco_ios",
    "cisco-ios-xe": "cisco_xe",
    "cisco-nx-os": "cisco_nxos",
    "cisco-iosxr": "cisco_xr",
    "arista-eos": "arista_eos",
    "juniper-junos": "juniper_junos",
    "huawei-vrp": "huawei",
    "hp-comware": "hp_comware",
    "ruijie-os": "ruijie_os",
}
EXPORT_PLATFORM: Final = {v: k for k, v in PLATFORM_MAP.items()}

EXPORT_TYPES: Final = {
    100: "100base-tx",
    1000: "1000base-x-sfp",
    10000: "10gbase-x-sfpp",
    25000: "25gbase-x-sfp28",
    40000: "40gbase-x-qsfpp",
    100000: "100gbase-x-qsfp28",
    400000: "400gbase-x-qsfpdd",
}
CONTACT_PRIORITY: Final = {"primary": 1, "secondary": 2, "tertiary": 3, "inactive": 9}
EXPORT_PRIORITY: Final = {1: "primary", 2: "secondary", 3: "tertiary"}
CONTACT_ROLES: Final = ("technical", "backup", "noc", "business")


class NetboxError(Exception):
    """NetBox could not be read: the message names what and where."""


# -- NetBox's objects, as the importer needs them ------------------------------------------------


@dataclass(frozen=True)
class NbSite:
    slug: str
    name: str
    description: str = ""
    address: str = ""
    time_zone: str = ""


@dataclass(frozen=True)
class NbLocation:
    site: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class NbRack:
    site: str
    location: str | None
    name: str
    u_height: int = 42
    description: str = ""


@dataclass(frozen=True)
class NbDevice:
    ref: str  # how the report names it: the name, or "device #id"
    name: str | None
    role: str
    manufacturer: str
    model: str
    platform: str | None
    site: str
    rack: str | None
    position: float | None
    serial: str
    asset_tag: str
    primary_ip: str | None


@dataclass(frozen=True)
class NbInterface:
    device: str
    name: str
    type: str
    speed_kbps: int | None
    mgmt_only: bool
    description: str = ""
    tags: tuple[str, ...] = ()

    @property
    def tagged_role(self) -> InterfaceRole | None:
        """The role an `ixops-<role>` tag gives (the exporter tags every port)."""
        for tag in self.tags:
            if tag.startswith(ROLE_TAG_PREFIX):
                try:
                    return InterfaceRole(tag.removeprefix(ROLE_TAG_PREFIX))
                except ValueError:
                    return None
        return None


@dataclass(frozen=True)
class NbEnd:
    """One termination of a cable: an interface (device, name) or a circuit end (cid, side)."""

    kind: str  # dcim.interface | circuits.circuittermination | any other NetBox type
    parent: str  # device name, or circuit id
    name: str  # interface name, or term side A/Z


@dataclass(frozen=True)
class NbCable:
    ref: str
    a: tuple[NbEnd, ...]
    b: tuple[NbEnd, ...]
    label: str = ""


@dataclass(frozen=True)
class NbCircuit:
    cid: str
    provider: str
    commit_rate_kbps: int | None
    description: str = ""
    comments: str = ""
    install_date: str = ""  # NetBox's own fields, carried as the inventory's starts_on/ends_on
    termination_date: str = ""

    @property
    def monthly_rent_cny(self) -> float | None:
        """The rent, from a `monthly_rent_cny: N` line of the comments (NetBox has no field)."""
        for line in self.comments.splitlines():
            label, _, value = line.partition(":")
            if label.strip() == "monthly_rent_cny":
                try:
                    return float(value)
                except ValueError:
                    return None
        return None

    @property
    def noc(self) -> dict[str, str] | None:
        """The carrier's NOC, from `noc_name:`/`noc_phone:`/`noc_email:` comment lines."""
        found: dict[str, str] = {}
        for line in self.comments.splitlines():
            label, _, value = line.partition(":")
            key = label.strip()
            if key in ("noc_name", "noc_phone", "noc_email") and value.strip():
                found[key[len("noc_") :]] = value.strip()
        return found if "name" in found else None


@dataclass(frozen=True)
class NbTenant:
    slug: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class NbAddress:
    address: str
    tenant: str | None
    device: str | None
    interface: str | None


@dataclass(frozen=True)
class NbContact:
    name: str
    phone: str = ""
    email: str = ""
    comments: str = ""
    group: str = ""  # NetBox's contact names are unique per group


@dataclass(frozen=True)
class NbAssignment:
    object_type: str
    object: str  # tenant slug, site slug …
    contact: str
    role: str
    priority: str


@dataclass
class NetboxObjects:
    sites: list[NbSite] = field(default_factory=list)
    locations: list[NbLocation] = field(default_factory=list)
    racks: list[NbRack] = field(default_factory=list)
    devices: list[NbDevice] = field(default_factory=list)
    interfaces: list[NbInterface] = field(default_factory=list)
    cables: list[NbCable] = field(default_factory=list)
    circuits: list[NbCircuit] = field(default_factory=list)
    tenants: list[NbTenant] = field(default_factory=list)
    asns: dict[str, int] = field(default_factory=dict)  # tenant slug → ASN
    addresses: list[NbAddress] = field(default_factory=list)
    contacts: list[NbContact] = field(default_factory=list)
    assignments: list[NbAssignment] = field(default_factory=list)


# -- reading NetBox's REST API -------------------------------------------------------------------

# (pynetbox app, endpoint, whether NetBox filters it by ?site=<slug>)
REST_ENDPOINTS: Final = (
    ("dcim", "sites", False),
    ("dcim", "locations", True),
    ("dcim", "racks", True),
    ("dcim", "devices", True),
    ("dcim", "interfaces", True),
    ("dcim", "cables", True),
    ("circuits", "circuits", False),
    ("circuits", "circuit_terminations", True),
    ("tenancy", "tenants", False),
    ("tenancy", "contacts", False),
    ("tenancy", "contact_assignments", False),
    ("ipam", "asns", False),
    ("ipam", "ip_addresses", False),
)


def fetch_rest(
    url: str, token: str, *, sites: Sequence[str] = ()
) -> dict[str, list[dict[str, Any]]]:
    """Every object the import reads, as the REST API returns them (nested objects as dicts).

    With ``sites``, site-scoped endpoints are asked for those sites only (NetBox's `site`
    filter takes slugs)."""
    import pynetbox
    import requests

    api = pynetbox.api(url, token=token)
    api.http_session.headers["Accept"] = "application/json"
    found: dict[str, list[dict[str, Any]]] = {}
    for app, name, by_site in REST_ENDPOINTS:
        endpoint = getattr(getattr(api, app), name)
        try:
            if sites and name == "sites":
                records = endpoint.filter(slug=list(sites))
            elif sites and by_site:
                records = endpoint.filter(site=list(sites))
            else:
                records = endpoint.all()
            found[name] = [dict(record) for record in records]
        except pynetbox.RequestError as exc:
            raise NetboxError(f"{url}: /api/{app}/{name.replace('_', '-')}/: {exc}") from None
        except requests.RequestException as exc:
            raise NetboxError(f"{url}: cannot reach NetBox: {exc}") from None
    return found


def _nested(value: Any, key: str = "name") -> str | None:
    if isinstance(value, dict):
        found = value.get(key)
        return None if found is None else str(found)
    return None


def _choice(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("value") or "")
    return "" if value is None else str(value)


def _address(value: Any) -> str | None:
    text = _nested(value, "address")
    return None if text is None else text.split("/")[0]


def objects_from_rest(found: Mapping[str, Sequence[Mapping[str, Any]]]) -> NetboxObjects:
    """NetBox's REST shapes (v3.6 to v4.x) as the importer's objects."""
    nb = NetboxObjects()
    for s in found.get("sites", []):
        nb.sites.append(
            NbSite(
                slug=str(s["slug"]),
                name=str(s["name"]),
                description=str(s.get("description") or ""),
                address=str(s.get("physical_address") or ""),
                time_zone=str(s.get("time_zone") or ""),
            )
        )
    locations = {}
    for loc in found.get("locations", []):
        locations[loc["id"]] = str(loc["name"])
        nb.locations.append(
            NbLocation(
                site=_nested(loc["site"], "slug") or "",
                name=str(loc["name"]),
                description=str(loc.get("description") or ""),
            )
        )
    for r in found.get("racks", []):
        nb.racks.append(
            NbRack(
                site=_nested(r["site"], "slug") or "",
                location=_nested(r.get("location")),
                name=str(r["name"]),
                u_height=int(r.get("u_height") or 42),
                description=str(r.get("description") or ""),
            )
        )
    device_names: dict[int, str] = {}
    for d in found.get("devices", []):
        name = d.get("name")
        if name:
            device_names[int(d["id"])] = str(name)
        device_type = d.get("device_type") or {}
        role = d.get("role") or d.get("device_role")
        primary = d.get("primary_ip4") or d.get("primary_ip6") or d.get("primary_ip")
        nb.devices.append(
            NbDevice(
                ref=str(name) if name else f"device #{d['id']}",
                name=str(name) if name else None,
                role=_nested(role, "slug") or "",
                manufacturer=_nested(device_type.get("manufacturer")) or "",
                model=str(device_type.get("model") or ""),
                platform=_nested(d.get("platform"), "slug"),
                site=_nested(d["site"], "slug") or "",
                rack=_nested(d.get("rack")),
                position=None if d.get("position") is None else float(d["position"]),
                serial=str(d.get("serial") or ""),
                asset_tag=str(d.get("asset_tag") or ""),
                primary_ip=_address(primary),
            )
        )
    for i in found.get("interfaces", []):
        device = _nested(i["device"])
        if device is None:
            continue
        nb.interfaces.append(
            NbInterface(
                device=device,
                name=str(i["name"]),
                type=_choice(i.get("type")),
                speed_kbps=None if i.get("speed") is None else int(i["speed"]),
                mgmt_only=bool(i.get("mgmt_only")),
                description=str(i.get("description") or ""),
                tags=tuple(str(t.get("slug")) for t in i.get("tags") or [] if isinstance(t, dict)),
            )
        )
    circuit_ends = {}
    for t in found.get("circuit_terminations", []):
        circuit_ends[t["id"]] = (_nested(t["circuit"], "cid") or "", _choice(t.get("term_side")))
    for c in found.get("cables", []):

        def ends(terminations: Iterable[Mapping[str, Any]]) -> tuple[NbEnd, ...]:
            out = []
            for t in terminations:
                kind = str(t.get("object_type") or t.get("termination_type") or "")
                obj = t.get("object") or {}
                if kind == "dcim.interface":
                    out.append(NbEnd(kind, _nested(obj.get("device")) or "", str(obj.get("name"))))
                elif kind == "circuits.circuittermination":
                    cid, side = circuit_ends.get(
                        t.get("object_id"),
                        (_nested(obj.get("circuit"), "cid") or "", _choice(obj.get("term_side"))),
                    )
                    out.append(NbEnd(kind, cid, side))
                else:
                    out.append(NbEnd(kind, _nested(obj.get("device")) or "", str(obj.get("name"))))
            return tuple(out)

        nb.cables.append(
            NbCable(
                ref=str(c.get("label") or f"cable #{c['id']}"),
                a=ends(c.get("a_terminations") or []),
                b=ends(c.get("b_terminations") or []),
                label=str(c.get("label") or ""),
            )
        )
    for c in found.get("circuits", []):
        nb.circuits.append(
            NbCircuit(
                cid=str(c["cid"]),
                provider=_nested(c["provider"]) or "",
                commit_rate_kbps=None if c.get("commit_rate") is None else int(c["commit_rate"]),
                description=str(c.get("description") or ""),
                comments=str(c.get("comments") or ""),
                install_date=str(c.get("install_date") or ""),
                termination_date=str(c.get("termination_date") or ""),
            )
        )
    for t in found.get("tenants", []):
        nb.tenants.append(
            NbTenant(
                slug=str(t["slug"]),
                name=str(t["name"]),
                description=str(t.get("description") or ""),
            )
        )
    for a in found.get("asns", []):
        tenant = _nested(a.get("tenant"), "slug")
        if tenant is not None:
            nb.asns.setdefault(tenant, int(a["asn"]))
    for ip in found.get("ip_addresses", []):
        obj = ip.get("assigned_object") or {}
        kind = str(ip.get("assigned_object_type") or "")
        nb.addresses.append(
            NbAddress(
                address=str(ip["address"]),
                tenant=_nested(ip.get("tenant"), "slug"),
                device=_nested(obj.get("device")) if kind == "dcim.interface" else None,
                interface=str(obj.get("name")) if kind == "dcim.interface" else None,
            )
        )
    contacts = {}
    for c in found.get("contacts", []):
        contacts[c["id"]] = str(c["name"])
        nb.contacts.append(
            NbContact(
                name=str(c["name"]),
                phone=str(c.get("phone") or ""),
                email=str(c.get("email") or ""),
                comments=str(c.get("comments") or ""),
                group=_nested(c.get("group"), "slug") or "",
            )
        )
    for a in found.get("contact_assignments", []):
        obj = a.get("object") or {}
        kind = str(a.get("object_type") or a.get("content_type") or "")
        nb.assignments.append(
            NbAssignment(
                object_type=kind,
                object=str(obj.get("slug") or obj.get("name") or a.get("object_id")),
                contact=_nested(a.get("contact")) or contacts.get(a.get("contact"), ""),
                role=_nested(a.get("role"), "slug") or "",
                priority=_choice(a.get("priority")),
            )
        )
    return nb


# -- the mapping into the inventory ----------------------------------------------------------------


@dataclass(frozen=True)
class Unmapped:
    """One NetBox object left out (or changed on the way in), and why."""

    object: str
    reason: str

    def __str__(self) -> str:
        return f"{self.object}: {self.reason}"


@dataclass
class ImportResult:
    sections: dict[str, list[dict[str, Any]]]
    report: list[Unmapped]

    def counts(self) -> dict[str, int]:
        return {name: len(items) for name, items in self.sections.items()}


def _speed_mbps(interface: NbInterface) -> int | None:
    if interface.speed_kbps:
        return max(1, interface.speed_kbps // 1000)
    match = _TYPE_SPEED_RE.match(interface.type)
    if match is None:
        return None
    number = float(match.group(1))
    return int(number * (1000 if match.group(2).lower() == "g" else 1))  # 1000base-t: Mb/s


def _valid_ip(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return str(ipaddress.ip_address(text.split("/")[0]))
    except ValueError:
        return None


def map_to_inventory(
    nb: NetboxObjects,
    *,
    main_sites: Iterable[str] = (),
    addresses: Mapping[str, str] | None = None,
) -> ImportResult:
    """NetBox's objects as inventory sections, and a report of everything left out."""
    report: list[Unmapped] = []
    addresses = addresses or {}
    main = set(main_sites)

    # Sites, rooms and racks.
    site_rows: dict[str, dict[str, Any]] = {}
    for s in nb.sites:
        if not _NAME_RE.match(s.slug):
            report.append(Unmapped(f"site {s.slug}", "its slug is not a valid site code"))
            continue
        row: dict[str, Any] = {
            "code": s.slug,
            "name": s.name,
            "kind": "main" if s.slug in main else "access_point",
        }
        if s.description:
            row["name_zh"] = s.description
        if s.address:
            row["address"] = s.address
        if s.time_zone and s.time_zone != "Asia/Shanghai":
            row["timezone"] = s.time_zone
        row["rooms"] = []
        site_rows[s.slug] = row
    rooms: dict[tuple[str, str], dict[str, Any]] = {}

    def room(site: str, name: str, floor: str = "") -> dict[str, Any]:
        key = (site, name)
        if key not in rooms:
            rooms[key] = {"name": name, **({"floor": floor} if floor else {}), "racks": []}
            site_rows[site]["rooms"].append(rooms[key])
        return rooms[key]

    for loc in nb.locations:
        if loc.site in site_rows:
            room(loc.site, loc.name, loc.description)
    racks: set[tuple[str, str]] = set()
    rack_names: dict[tuple[str, str], str] = {}  # NetBox's name → the inventory's
    for r in nb.racks:
        what = f"rack {r.site}/{r.name}"
        if r.site not in site_rows:
            continue
        if (r.site, r.name) in racks:
            report.append(
                Unmapped(what, "another rack of the site has the same name (racks are per site)")
            )
            continue
        name = r.name
        if not _NAME_RE.match(name):
            name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
            if not _NAME_RE.match(name) or (r.site, name) in racks:
                report.append(Unmapped(what, "its name is not a valid rack name"))
                continue
            report.append(Unmapped(what, f"renamed {name!r} (rack names have no spaces)"))
        racks.add((r.site, name))
        rack_names[(r.site, r.name)] = name
        rack: dict[str, Any] = {"name": name}
        if r.u_height != 42:
            rack["units"] = r.u_height
        if r.description:
            rack["description"] = r.description
        room(r.site, r.location or DEFAULT_ROOM)["racks"].append(rack)
    for code, row in list(site_rows.items()):
        if not row["rooms"]:
            report.append(Unmapped(f"site {code}", "it has no rack (a site needs a room)"))
            del site_rows[code]

    # Devices.
    interfaces_of: dict[str, list[NbInterface]] = defaultdict(list)
    for interface in nb.interfaces:
        interfaces_of[interface.device].append(interface)
    devices: dict[str, dict[str, Any]] = {}
    slots: set[tuple[str, str, int]] = set()
    used_addresses: set[str] = set()
    for d in nb.devices:
        what = f"device {d.ref}"
        if d.site not in site_rows:
            continue
        role = ROLE_MAP.get(d.role)
        if role is None:
            report.append(Unmapped(what, f"role {d.role!r} has no inventory role"))
            continue
        if d.name is None:
            report.append(Unmapped(what, "it has no name"))
            continue
        if not _NAME_RE.match(d.name):
            report.append(Unmapped(what, "its name is not a valid device name"))
            continue
        if d.name in devices:
            report.append(Unmapped(what, "another device has the same name"))
            continue
        rack_name = rack_names.get((d.site, d.rack or ""))
        if rack_name is None:
            report.append(Unmapped(what, "it is in no imported rack"))
            continue
        address = _valid_ip(d.primary_ip) or _valid_ip(addresses.get(d.name))
        if address is None:
            report.append(
                Unmapped(what, "no management address (no primary IP, not in the addresses file)")
            )
            continue
        if address in used_addresses:
            report.append(Unmapped(what, f"management address {address} is another device's"))
            continue
        used_addresses.add(address)
        row = {"name": d.name, "site": d.site, "rack": rack_name}
        if d.position is not None:
            slot = (d.site, rack_name, int(d.position))
            if d.position != int(d.position):
                report.append(Unmapped(what, f"half-unit position {d.position} left out"))
            elif slot in slots:
                report.append(Unmapped(what, f"position {int(d.position)} is taken; left out"))
            elif 1 <= int(d.position) <= 60:
                slots.add(slot)
                row["position"] = int(d.position)
        row["role"] = role.value
        row["vendor"] = d.manufacturer or "unknown"
        row["model"] = d.model or "unknown"
        if d.platform is not None:
            platform = PLATFORM_MAP.get(d.platform, d.platform.replace("-", "_"))
            if platform not in known_platforms():  # validate's own list: netmiko's table
                report.append(
                    Unmapped(what, f"platform {d.platform!r} is no netmiko device type; left out")
                )
            else:
                row["platform"] = platform
        if d.serial:
            row["serial"] = d.serial
        else:
            row["serial"] = NO_SERIAL
            report.append(Unmapped(what, f"no serial number; recorded as {NO_SERIAL!r}"))
        if d.asset_tag:
            row["asset_tag"] = d.asset_tag
        row["management"] = {"address": address}
        row["interfaces"] = []
        devices[d.name] = row

    # Which ends are cabled to what: trunks between imported devices, circuit ends.
    imported_ports: dict[tuple[str, str], NbInterface] = {}
    skipped_types: dict[str, list[str]] = defaultdict(list)
    for name in devices:
        for interface in interfaces_of.get(name, []):
            if _speed_mbps(interface) is None:
                skipped_types[interface.type or "(no type)"].append(f"{name} {interface.name}")
                continue
            imported_ports[(name, interface.name)] = interface
    for kind, ports in sorted(skipped_types.items()):
        report.append(
            Unmapped(
                f"{len(ports)} interfaces of type {kind}",
                f"no speed for an inventory port (e.g. {ports[0]})",
            )
        )
    trunk_ends: set[tuple[str, str]] = set()
    links: list[dict[str, Any]] = []
    circuit_peers: dict[tuple[str, str], tuple[str, str]] = {}
    for cable in nb.cables:
        if len(cable.a) != 1 or len(cable.b) != 1:
            if any(e.parent in devices for e in (*cable.a, *cable.b)):
                report.append(Unmapped(cable.ref, "a cable with several terminations per end"))
            continue
        a, b = cable.a[0], cable.b[0]
        kinds = {a.kind, b.kind}
        if kinds == {"dcim.interface"}:
            if (a.parent, a.name) in imported_ports and (b.parent, b.name) in imported_ports:
                trunk: dict[str, Any] = {
                    "a": {"device": a.parent, "interface": a.name},
                    "b": {"device": b.parent, "interface": b.name},
                }
                if cable.label:
                    trunk["description"] = cable.label
                links.append(trunk)
            elif a.parent in devices or b.parent in devices:
                report.append(
                    Unmapped(
                        f"{cable.ref} ({a.parent} {a.name} — {b.parent} {b.name})",
                        "its other end is not an imported port",
                    )
                )
        elif kinds == {"dcim.interface", "circuits.circuittermination"}:
            port, end = (a, b) if a.kind == "dcim.interface" else (b, a)
            if (port.parent, port.name) in imported_ports:
                circuit_peers[(end.parent, end.name)] = (port.parent, port.name)
        elif a.parent in devices or b.parent in devices:
            report.append(
                Unmapped(
                    f"{cable.ref} ({a.parent} {a.name} — {b.parent} {b.name})",
                    f"ends of type {a.kind} and {b.kind}: only interface and circuit cables "
                    "become links",
                )
            )
    for circuit in nb.circuits:
        a_end, z_end = circuit_peers.get((circuit.cid, "A")), circuit_peers.get((circuit.cid, "Z"))
        if a_end is None or z_end is None:
            cabled = "only one end is" if a_end or z_end else "neither end is"
            report.append(
                Unmapped(f"circuit {circuit.cid}", f"{cabled} cabled to an imported port; no link")
            )
            continue
        link: dict[str, Any] = {
            "a": {"device": a_end[0], "interface": a_end[1]},
            "b": {"device": z_end[0], "interface": z_end[1]},
            "circuit": {"carrier": circuit.provider, "id": circuit.cid},
        }
        if circuit.monthly_rent_cny:
            link["circuit"]["monthly_rent_cny"] = circuit.monthly_rent_cny
        if circuit.noc is not None:
            link["circuit"]["noc"] = circuit.noc
        if circuit.install_date:
            link["circuit"]["starts_on"] = circuit.install_date
        if circuit.termination_date:
            link["circuit"]["ends_on"] = circuit.termination_date
        if circuit.commit_rate_kbps:
            link["circuit"]["bandwidth"] = max(1, circuit.commit_rate_kbps // 1000)
        if circuit.description:
            link["description"] = circuit.description
        links.append(link)
    kept_links = []
    for link in links:
        ends = [(link[s]["device"], link[s]["interface"]) for s in ("a", "b")]
        what = f"link {ends[0][0]} {ends[0][1]} — {ends[1][0]} {ends[1][1]}"
        speeds = {_speed_mbps(imported_ports[e]) for e in ends}
        if ends[0][0] == ends[1][0]:
            report.append(Unmapped(what, "both ends are on the same device"))
        elif len(speeds) != 1:
            report.append(Unmapped(what, "the two ports' speeds differ"))
        elif any(e in trunk_ends for e in ends):
            report.append(Unmapped(what, "a port of it already serves another link"))
        else:
            trunk_ends.update(ends)
            kept_links.append(link)

    # Access units: tenants with an ASN; their ports from their IP addresses.
    units: list[dict[str, Any]] = []
    member_ports: dict[tuple[str, str], str] = {}
    contacts = {(c.group, c.name): c for c in nb.contacts}
    by_name = {c.name: c for c in nb.contacts}
    by_tenant: dict[str, list[NbAssignment]] = defaultdict(list)
    for assignment in nb.assignments:
        if assignment.object_type in ("tenancy.tenant", "tenant"):
            by_tenant[assignment.object].append(assignment)
        elif assignment.contact and (
            assignment.object_type != "dcim.site" or assignment.object in site_rows
        ):
            report.append(
                Unmapped(
                    f"contact {assignment.contact} of {assignment.object_type} {assignment.object}",
                    "only contacts of tenants (access units) are imported",
                )
            )
    for tenant in nb.tenants:
        what = f"tenant {tenant.slug}"
        asn = nb.asns.get(tenant.slug)
        if not _NAME_RE.match(tenant.slug):
            report.append(Unmapped(what, "its slug is not a valid access unit code"))
            continue
        if asn is None:
            report.append(Unmapped(what, "no ASN is assigned to it; an access unit needs one"))
            continue
        unit_contacts = []
        for assignment in sorted(
            by_tenant.get(tenant.slug, []),
            key=lambda a: (CONTACT_PRIORITY.get(a.priority, 5), a.contact),
        ):
            contact = contacts.get((tenant.slug, assignment.contact)) or by_name.get(
                assignment.contact
            )
            if contact is None:
                continue
            row = {
                "name": contact.name,
                "role": assignment.role if assignment.role in CONTACT_ROLES else "technical",
                "priority": CONTACT_PRIORITY.get(assignment.priority, 1),
            }
            if contact.phone:
                row["phone"] = contact.phone
            if contact.email:
                row["email"] = contact.email
            for line in contact.comments.splitlines():
                label, _, value = line.partition(":")
                if label.strip() in ("wecom", "dingtalk") and value.strip():
                    row[label.strip()] = value.strip()
            unit_contacts.append(row)
        if not unit_contacts:
            report.append(Unmapped(what, "no contact is assigned to it; an access unit needs one"))
            continue
        unit_ports: dict[tuple[str, str], dict[str, Any]] = {}
        for ip in nb.addresses:
            if ip.tenant != tenant.slug or ip.device is None or ip.interface is None:
                continue
            where = (ip.device, ip.interface)
            if where not in imported_ports or where in trunk_ends:
                report.append(
                    Unmapped(f"IP {ip.address} of {what}", "not on an imported member port")
                )
                continue
            if member_ports.get(where, tenant.slug) != tenant.slug:
                report.append(
                    Unmapped(f"IP {ip.address} of {what}", f"port is {member_ports[where]}'s")
                )
                continue
            member_ports[where] = tenant.slug
            unit_port = unit_ports.setdefault(where, {"device": where[0], "interface": where[1]})
            family = "ipv6" if ":" in ip.address else "ipv4"
            unit_port[family] = ip.address.split("/")[0]
        unit: dict[str, Any] = {"code": tenant.slug, "name": tenant.name}
        if tenant.description:
            unit["name_zh"] = tenant.description
        unit["asn"] = asn
        if unit_ports:
            unit["ports"] = list(unit_ports.values())
        unit["contacts"] = unit_contacts
        units.append(unit)

    for name, row in devices.items():
        for interface in interfaces_of.get(name, []):
            port_key = (name, interface.name)
            if port_key not in imported_ports:
                continue
            tagged = interface.tagged_role
            linkable = tagged in (InterfaceRole.TRUNK, InterfaceRole.UPLINK)
            if tagged is not None and (linkable or port_key not in trunk_ends):
                port_role = tagged
            elif interface.mgmt_only:
                port_role = InterfaceRole.MANAGEMENT
            elif port_key in trunk_ends:
                port_role = InterfaceRole.TRUNK
            else:
                port_role = InterfaceRole.MEMBER
            port_row: dict[str, Any] = {
                "name": interface.name,
                "role": port_role.value,
                "speed": _speed_text(_speed_mbps(interface) or 0),
            }
            if interface.description:
                port_row["description"] = interface.description
            row["interfaces"].append(port_row)
        if not row["interfaces"]:
            del row["interfaces"]
    sections = {
        "sites": list(site_rows.values()),
        "devices": list(devices.values()),
        "links": kept_links,
        "access_units": units,
    }
    return ImportResult(sections=sections, report=report)


def _speed_text(mbps: int) -> str:
    if mbps % 1000 == 0:
        return f"{mbps // 1000}G"
    return f"{mbps}M"


def write_inventory(result: ImportResult, directory: Path) -> list[Path]:
    """One YAML file per section (sites.yaml, devices.yaml, links.yaml, access-units.yaml)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for section, items in result.sections.items():
        path = directory / f"{section.replace('_', '-')}.yaml"
        header = "# Imported from NetBox by `ixops inventory import netbox`.\n"
        body = yaml.safe_dump(
            {section: items}, allow_unicode=True, sort_keys=False, default_flow_style=False
        )
        path.write_text(header + body, encoding="utf-8")
        written.append(path)
    return written


def read_addresses(path: Path) -> dict[str, str]:
    """A CSV file of `device,address` rows (a header line is allowed)."""
    found: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or row[0].strip() in ("", "device") or row[0].startswith("#"):
                continue
            if len(row) < 2 or _valid_ip(row[1].strip()) is None:
                raise NetboxError(f"{path}:{number}: expected `device,address`, got {row!r}")
            found[row[0].strip()] = row[1].strip()
    return found


# -- NetBox's bulk-import CSV files ---------------------------------------------------------------

EXPORT_FILES: Final = (
    "tags",
    "sites",
    "locations",
    "racks",
    "manufacturers",
    "device-roles",
    "device-types",
    "platforms",
    "devices",
    "interfaces",
    "cables",
    "providers",
    "circuit-types",
    "circuits",
    "circuit-terminations",
    "tenants",
    "rirs",
    "asns",
    "ip-addresses",
    "contact-groups",
    "contacts",
    "contact-roles",
    "contact-assignments",
)
ADDRESSES_FILE: Final = "ixops-management-addresses.csv"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def export_netbox(inventory: Inventory) -> tuple[dict[str, list[dict[str, str]]], list[str]]:
    """The inventory as NetBox's bulk-import rows, per file; and what NetBox cannot hold."""
    notes: list[str] = []
    files: dict[str, list[dict[str, str]]] = {name: [] for name in EXPORT_FILES}
    files[ADDRESSES_FILE] = []
    manufacturers: set[str] = set()
    types: set[tuple[str, str]] = set()
    platforms: set[str] = set()
    for site_entry in inventory.sites:
        s = site_entry.value
        files["sites"].append(
            {
                "name": s.code,
                "slug": s.code,
                "status": "active",
                "description": s.name_zh,
                "physical_address": s.address,
                "time_zone": s.timezone,
                "comments": s.name,
            }
        )
        for r in s.rooms:
            if r.name != DEFAULT_ROOM:
                files["locations"].append(
                    {
                        "site": s.code,
                        "name": r.name,
                        "slug": _slug(r.name),
                        "status": "active",
                        "description": r.floor,
                    }
                )
            for rack in r.racks:
                files["racks"].append(
                    {
                        "site": s.code,
                        "location": "" if r.name == DEFAULT_ROOM else r.name,
                        "name": rack.name,
                        "status": "active",
                        "width": "19",
                        "u_height": str(rack.units),
                        "description": rack.description,
                    }
                )
    rooms_of = {
        (s.value.code, rack.name): room.name
        for s in inventory.sites
        for room in s.value.rooms
        for rack in room.racks
    }
    for device_entry in inventory.devices:
        d = device_entry.value
        manufacturers.add(d.vendor)
        types.add((d.vendor, d.model))
        if d.maintenance is not None:
            notes.append(f"device {d.name}: maintenance contract not exported (no NetBox field)")
        platform = ""
        if d.platform is not None:
            platform = EXPORT_PLATFORM.get(d.platform, d.platform.replace("_", "-"))
            platforms.add(platform)
        room = rooms_of.get((d.site, d.rack), DEFAULT_ROOM)
        files["devices"].append(
            {
                "name": d.name,
                "role": EXPORT_ROLE[d.role],
                "manufacturer": d.vendor,
                "device_type": d.model,
                "platform": platform,
                "site": d.site,
                "location": "" if room == DEFAULT_ROOM else room,
                "rack": d.rack,
                "position": "" if d.position is None else str(d.position),
                "face": "" if d.position is None else "front",
                "status": "active",
                "serial": "" if d.serial == NO_SERIAL else d.serial,
                "asset_tag": d.asset_tag,
            }
        )
        files[ADDRESSES_FILE].append({"device": d.name, "address": d.management.address})
        for _, interface, name in d.expanded_interfaces():
            files["interfaces"].append(
                {
                    "device": d.name,
                    "name": name,
                    "type": EXPORT_TYPES.get(interface.speed, "other"),
                    "speed": str(interface.speed * 1000),
                    "enabled": "true",
                    "mgmt_only": "true" if interface.role is InterfaceRole.MANAGEMENT else "false",
                    "description": interface.description,
                    "tags": f"{ROLE_TAG_PREFIX}{interface.role.value}",
                }
            )
    providers: set[str] = set()
    for link_entry in inventory.links:
        lk = link_entry.value
        if lk.circuit is None:
            files["cables"].append(
                {
                    "side_a_device": lk.a.device,
                    "side_a_type": "dcim.interface",
                    "side_a_name": lk.a.interface,
                    "side_b_device": lk.b.device,
                    "side_b_type": "dcim.interface",
                    "side_b_name": lk.b.interface,
                    "status": "connected",
                    "label": lk.description,
                }
            )
            continue
        providers.add(lk.circuit.carrier)
        files["circuits"].append(
            {
                "cid": lk.circuit.id,
                "provider": lk.circuit.carrier,
                "type": "leased-line",
                "status": "active",
                "commit_rate": ""
                if lk.circuit.bandwidth is None
                else str(lk.circuit.bandwidth * 1000),
                "description": lk.description,
                "install_date": "" if lk.circuit.starts_on is None else str(lk.circuit.starts_on),
                "termination_date": "" if lk.circuit.ends_on is None else str(lk.circuit.ends_on),
                "comments": "\n".join(
                    [
                        *(
                            [f"monthly_rent_cny: {lk.circuit.monthly_rent_cny:g}"]
                            if lk.circuit.monthly_rent_cny
                            else []
                        ),
                        # The carrier's NOC, as the comment lines the import reads back.
                        *(
                            f"noc_{key}: {value}"
                            for key, value in (
                                lk.circuit.noc.model_dump().items() if lk.circuit.noc else ()
                            )
                            if value
                        ),
                    ]
                ),
            }
        )
        for side, end in (("A", lk.a), ("Z", lk.b)):
            site = next(d.value.site for d in inventory.devices if d.value.name == end.device)
            files["circuit-terminations"].append(
                {"circuit": lk.circuit.id, "term_side": side, "site": site}
            )
            files["cables"].append(
                {
                    "side_a_device": end.device,
                    "side_a_type": "dcim.interface",
                    "side_a_name": end.interface,
                    "side_b_device": "",
                    "side_b_type": "circuits.circuittermination",
                    "side_b_name": f"{lk.circuit.id}:{side}",
                    "status": "connected",
                    "label": "",
                }
            )
    for unit_entry in inventory.access_units:
        u = unit_entry.value
        files["tenants"].append({"name": u.name, "slug": u.code, "description": u.name_zh})
        files["asns"].append({"asn": str(u.asn), "rir": "ixops", "tenant": u.code})
        for port in u.ports:
            for address, length in ((port.ipv4, 32), (port.ipv6, 128)):
                if address is None:
                    continue
                files["ip-addresses"].append(
                    {
                        "address": f"{address}/{length}",
                        "status": "active",
                        "tenant": u.code,
                        "device": port.device,
                        "interface": port.interface,
                    }
                )
            if port.ipv4 is None and port.ipv6 is None:
                notes.append(
                    f"access unit {u.code}: port {port.device} {port.interface} has no address; "
                    "NetBox ties a member port to its unit by the unit's address on it"
                )
        for contact in u.contacts:
            comments = "\n".join(
                f"{key}: {value}"
                for key, value in (("wecom", contact.wecom), ("dingtalk", contact.dingtalk))
                if value
            )
            files["contacts"].append(
                {
                    "group": u.code,
                    "name": contact.name,
                    "phone": contact.phone or "",
                    "email": contact.email or "",
                    "comments": comments,
                }
            )
            files["contact-assignments"].append(
                {
                    "object_type": "tenancy.tenant",
                    "object": u.code,
                    "contact": contact.name,
                    "role": contact.role.value,
                    "priority": EXPORT_PRIORITY.get(contact.priority, "inactive"),
                }
            )
    files["manufacturers"] = [{"name": m, "slug": _slug(m)} for m in sorted(manufacturers)]
    files["device-types"] = [
        {"manufacturer": m, "model": model, "slug": _slug(f"{m}-{model}")}
        for m, model in sorted(types)
    ]
    files["device-roles"] = [
        {"name": slug, "slug": slug, "color": "9e9e9e"}
        for slug in sorted({row["role"] for row in files["devices"]})
    ]
    files["platforms"] = [{"name": p, "slug": p} for p in sorted(platforms)]
    files["providers"] = [{"name": p, "slug": _slug(p)} for p in sorted(providers)]
    files["tags"] = [
        {"name": f"{ROLE_TAG_PREFIX}{role.value}", "slug": f"{ROLE_TAG_PREFIX}{role.value}"}
        for role in InterfaceRole
    ]
    files["contact-groups"] = [
        {"name": u.value.code, "slug": u.value.code} for u in inventory.access_units
    ]
    files["rirs"] = (
        [{"name": "ixops", "slug": "ixops", "is_private": "true"}] if files["asns"] else []
    )
    files["contact-roles"] = [
        {"name": role, "slug": role}
        for role in sorted({row["role"] for row in files["contact-assignments"]})
    ]
    files["circuit-types"] = (
        [{"name": "Leased line", "slug": "leased-line"}] if files["circuits"] else []
    )
    return files, notes


def write_export(files: Mapping[str, Sequence[Mapping[str, str]]], directory: Path) -> list[Path]:
    """One CSV file per object type; the header is the first row's keys."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in files.items():
        if not rows:
            continue
        path = directory / (name if name.endswith(".csv") else f"{name}.csv")
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        written.append(path)
    return written


_READING: dict[str, str] = {}  # the file and line being read, for error messages


def _read_csv(directory: Path, name: str) -> Iterator[dict[str, str]]:
    path = directory / f"{name}.csv"
    if not path.exists():
        return
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            _READING.update(file=str(path), line=str(reader.line_num))
            yield {k: (v or "") for k, v in row.items() if k is not None}


def objects_from_csv(directory: Path) -> NetboxObjects:
    """A directory of NetBox bulk-import CSV files (as `export_netbox` writes) as objects."""
    if not directory.is_dir():
        raise NetboxError(f"{directory}: not a directory of NetBox CSV files")
    nb = NetboxObjects()
    try:
        for row in _read_csv(directory, "sites"):
            nb.sites.append(
                NbSite(
                    slug=row["slug"],
                    name=row.get("comments") or row["name"],
                    description=row.get("description", ""),
                    address=row.get("physical_address", ""),
                    time_zone=row.get("time_zone", ""),
                )
            )
        for row in _read_csv(directory, "locations"):
            nb.locations.append(NbLocation(row["site"], row["name"], row.get("description", "")))
        for row in _read_csv(directory, "racks"):
            nb.racks.append(
                NbRack(
                    site=row["site"],
                    location=row.get("location") or None,
                    name=row["name"],
                    u_height=int(row.get("u_height") or 42),
                    description=row.get("description", ""),
                )
            )
        for row in _read_csv(directory, "devices"):
            nb.devices.append(
                NbDevice(
                    ref=row["name"] or "unnamed device",
                    name=row["name"] or None,
                    role=row["role"],
                    manufacturer=row["manufacturer"],
                    model=row["device_type"],
                    platform=row.get("platform") or None,
                    site=row["site"],
                    rack=row.get("rack") or None,
                    position=float(row["position"]) if row.get("position") else None,
                    serial=row.get("serial", ""),
                    asset_tag=row.get("asset_tag", ""),
                    primary_ip=None,
                )
            )
        for row in _read_csv(directory, "interfaces"):
            nb.interfaces.append(
                NbInterface(
                    device=row["device"],
                    name=row["name"],
                    type=row.get("type", ""),
                    speed_kbps=int(row["speed"]) if row.get("speed") else None,
                    mgmt_only=row.get("mgmt_only", "").lower() == "true",
                    description=row.get("description", ""),
                    tags=tuple(t for t in row.get("tags", "").split(",") if t),
                )
            )
        for number, row in enumerate(_read_csv(directory, "cables"), start=2):

            def end(side: str, row: dict[str, str] = row) -> NbEnd:
                kind = row[f"side_{side}_type"]
                if kind == "circuits.circuittermination":
                    cid, _, term = row[f"side_{side}_name"].rpartition(":")
                    return NbEnd(kind, cid, term)
                return NbEnd(kind, row[f"side_{side}_device"], row[f"side_{side}_name"])

            nb.cables.append(
                NbCable(
                    ref=row.get("label") or f"cables.csv row {number}",
                    a=(end("a"),),
                    b=(end("b"),),
                    label=row.get("label", ""),
                )
            )
        for row in _read_csv(directory, "circuits"):
            nb.circuits.append(
                NbCircuit(
                    cid=row["cid"],
                    provider=row["provider"],
                    commit_rate_kbps=int(row["commit_rate"]) if row.get("commit_rate") else None,
                    description=row.get("description", ""),
                    comments=row.get("comments", ""),
                    install_date=row.get("install_date", ""),
                    termination_date=row.get("termination_date", ""),
                )
            )
        for row in _read_csv(directory, "tenants"):
            nb.tenants.append(NbTenant(row["slug"], row["name"], row.get("description", "")))
        for row in _read_csv(directory, "asns"):
            if row.get("tenant"):
                nb.asns.setdefault(row["tenant"], int(row["asn"]))
        for row in _read_csv(directory, "ip-addresses"):
            nb.addresses.append(
                NbAddress(
                    address=row["address"],
                    tenant=row.get("tenant") or None,
                    device=row.get("device") or None,
                    interface=row.get("interface") or None,
                )
            )
        for row in _read_csv(directory, "contacts"):
            nb.contacts.append(
                NbContact(
                    name=row["name"],
                    phone=row.get("phone", ""),
                    email=row.get("email", ""),
                    comments=row.get("comments", ""),
                    group=row.get("group", ""),
                )
            )
        for row in _read_csv(directory, "contact-assignments"):
            nb.assignments.append(
                NbAssignment(
                    object_type=row["object_type"],
                    object=row["object"],
                    contact=row["contact"],
                    role=row.get("role", ""),
                    priority=row.get("priority", ""),
                )
            )
    except KeyError as exc:
        where = f"{_READING.get('file', directory)}:{_READING.get('line', '?')}"
        raise NetboxError(f"{where}: no column {exc} (NetBox's import header needs it)") from None
    except ValueError as exc:
        where = f"{_READING.get('file', directory)}:{_READING.get('line', '?')}"
        raise NetboxError(f"{where}: {exc}") from None
    finally:
        _READING.clear()
    return nb
