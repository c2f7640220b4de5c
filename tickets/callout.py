"""The callout card: whom the engineer on shift calls about a ticket, and what to quote.

One read service (:func:`callout`) builds it from the inventory for the console, ``ixops ticket
show`` (text and JSON) and the notifications; :func:`callout_lines` is its one text form (the
console's copy key puts exactly these lines on the clipboard).

What is on it: the ticket's own access unit (name, ASN) and every unit its fault cuts off, each
with its contacts in priority order (phone, WeCom, e-mail; the first priority are the ones to
call, the rest backups); the subject's port or, for a trunk, both ends with their rooms; and the
leased circuit the trunk runs over (carrier, circuit ID, the carrier's NOC).

Who sees what (decided here, nowhere else): the center and viewers see the whole card; an
access unit's contact sees only their own unit and its contacts, and neither the far end of a
trunk nor the carrier's NOC (the exchange's own business, as the other units' contacts are).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session, col, select

from inventory.accounts import Role, User, require_role
from inventory.models import AccessUnit, Circuit, Contact, Device, Interface, Link, Rack, Room, Site
from inventory.permissions import EVERYONE, Reach, rule
from inventory.textsafe import visible
from inventory.timeutil import require_aware
from tickets.models import Ticket, TicketAccessUnit
from tickets.service import READ_ROLES, get_ticket


@dataclass(frozen=True)
class CalloutContact:
    name: str
    role: str
    priority: int
    phone: str | None
    wecom: str | None
    email: str | None
    backup: bool  # not of the unit's first priority: call when the first do not answer


@dataclass(frozen=True)
class CalloutUnit:
    code: str
    name: str
    name_zh: str
    asn: int
    contacts: tuple[CalloutContact, ...]


@dataclass(frozen=True)
class CalloutEnd:
    device: str
    interface: str
    site: str
    room: str
    rack: str


@dataclass(frozen=True)
class CalloutCircuit:
    circuit_id: str
    carrier: str
    noc_name: str | None
    noc_phone: str | None
    noc_email: str | None


@dataclass(frozen=True)
class Callout:
    number: str
    title: str
    link_kind: str | None
    # The ticket's own unit (its port's, or the one a contact opened it for).
    unit: CalloutUnit | None
    # The subject: one end (a port, a device) or, for a trunk, both.
    ends: tuple[CalloutEnd, ...]
    circuit: CalloutCircuit | None
    # Units the fault cuts off, other than `unit`.
    affected: tuple[CalloutUnit, ...]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _units(session: Session, unit_ids: list[int]) -> list[CalloutUnit]:
    if not unit_ids:
        return []
    units = session.exec(
        select(AccessUnit).where(
            col(AccessUnit.id).in_(unit_ids), col(AccessUnit.retired_at).is_(None)
        )
    ).all()
    contacts = session.exec(
        select(Contact).where(
            col(Contact.access_unit_id).in_(unit_ids), col(Contact.retired_at).is_(None)
        )
    ).all()
    by_unit: dict[int, list[Contact]] = {}
    for contact in contacts:
        by_unit.setdefault(contact.access_unit_id, []).append(contact)
    found: list[CalloutUnit] = []
    for unit in units:
        mine = sorted(by_unit.get(unit.id or 0, []), key=lambda c: (c.priority, c.name))
        first = mine[0].priority if mine else 0
        found.append(
            CalloutUnit(
                code=unit.code,
                name=unit.name,
                name_zh=unit.name_zh,
                asn=unit.asn,
                contacts=tuple(
                    CalloutContact(
                        name=c.name,
                        role=c.role,
                        priority=c.priority,
                        phone=c.phone,
                        wecom=c.wecom,
                        email=c.email,
                        backup=c.priority > first,
                    )
                    for c in mine
                ),
            )
        )
    order = {unit_id: index for index, unit_id in enumerate(unit_ids)}
    ids = {u.code: u.id for u in units}
    return sorted(found, key=lambda u: (order.get(ids.get(u.code) or 0, 0), u.code))


def _end(session: Session, interface_id: int | None, device_id: int | None) -> CalloutEnd | None:
    interface = session.get(Interface, interface_id) if interface_id is not None else None
    device_key = interface.device_id if interface is not None else device_id
    device = session.get(Device, device_key) if device_key is not None else None
    if device is None:
        return None
    rack = session.get(Rack, device.rack_id)
    room = session.get(Room, rack.room_id) if rack is not None else None
    site = session.get(Site, device.site_id)
    return CalloutEnd(
        device=device.name,
        interface=interface.name if interface is not None else "",
        site=site.code if site is not None else "",
        room=room.name if room is not None else "",
        rack=rack.name if rack is not None else "",
    )


@rule("see tickets", EVERYONE, reach=Reach.OWN_UNIT, reads=True)
def callout(*, session: Session, user: User, ticket: str | int, now: dt.datetime) -> Callout:
    """The callout card of one ticket, as far as the user may read it (TicketNotFound if the
    user may not see the ticket at all)."""
    require_role(user, READ_ROLES, "see tickets", str(ticket))
    now = require_aware(now, "now")
    detail = get_ticket(session=session, user=user, ticket=ticket, now=now)
    is_contact = user.role_enum is Role.CONTACT
    return build_callout(
        session, detail.row.ticket, contact_unit_id=user.access_unit_id if is_contact else None
    )


def build_callout(
    session: Session,
    row: Ticket,
    *,
    contact_unit_id: int | None,
    affected_ids: list[int] | None = None,
    no_link: bool = False,
) -> Callout:
    """The card for the center (``contact_unit_id`` None) or as that unit's contact reads it;
    callers decide who may read the ticket (:func:`callout`, or the notifications, whose
    snapshot is narrowed per audience). ``affected_ids``: the ticket's listed access units,
    when the caller has just read them. ``no_link``: the caller has just looked for the
    ticket's port's link in this transaction (the ticket rules, for a ticket with no link) and
    found none, so it is not looked for again."""
    is_contact = contact_unit_id is not None
    link = session.get(Link, row.link_id) if row.link_id is not None else None
    if link is None and row.interface_id is not None and not (no_link and row.link_id is None):
        link = session.exec(
            select(Link).where(
                col(Link.retired_at).is_(None),
                (col(Link.a_interface_id) == row.interface_id)
                | (col(Link.b_interface_id) == row.interface_id),
            )
        ).first()
    ends: list[CalloutEnd] = []
    circuit: CalloutCircuit | None = None
    if link is not None and link.b_interface_id is not None:
        near_id = row.interface_id if row.interface_id is not None else link.a_interface_id
        far_id = link.b_interface_id if near_id == link.a_interface_id else link.a_interface_id
        wanted = [near_id] if is_contact else [near_id, far_id]
        ends = [e for e in (_end(session, i, None) for i in wanted) if e is not None]
        found = session.get(Circuit, link.circuit_id) if link.circuit_id is not None else None
        if found is not None and not is_contact:
            circuit = CalloutCircuit(
                circuit_id=found.circuit_id,
                carrier=found.carrier,
                noc_name=found.noc_name,
                noc_phone=found.noc_phone,
                noc_email=found.noc_email,
            )
    else:
        end = _end(session, row.interface_id, row.device_id)
        ends = [end] if end is not None else []
    own_id = row.access_unit_id
    if own_id is None and link is not None and link.access_unit_id is not None:
        own_id = link.access_unit_id
    if affected_ids is None:
        affected_ids = list(
            session.exec(
                select(TicketAccessUnit.access_unit_id).where(TicketAccessUnit.ticket_id == row.id)
            ).all()
        )
    if is_contact:
        own_id = own_id if own_id == contact_unit_id else None
        affected_ids = [u for u in affected_ids if u == contact_unit_id]
    affected_ids = [u for u in affected_ids if u != own_id]
    own = _units(session, [own_id]) if own_id is not None else []
    return Callout(
        number=row.number,
        title=row.title,
        link_kind=link.kind if link is not None else None,
        unit=own[0] if own else None,
        ends=tuple(ends),
        circuit=circuit,
        affected=tuple(_units(session, sorted(affected_ids))),
    )


def callout_from_json(data: dict[str, Any]) -> Callout:
    """A card back from :meth:`Callout.as_json` (a notification's snapshot)."""

    def unit(d: dict[str, Any]) -> CalloutUnit:
        return CalloutUnit(
            code=d["code"],
            name=d["name"],
            name_zh=d.get("name_zh", ""),
            asn=int(d["asn"]),
            contacts=tuple(CalloutContact(**c) for c in d.get("contacts", [])),
        )

    return Callout(
        number=data["number"],
        title=data["title"],
        link_kind=data.get("link_kind"),
        unit=unit(data["unit"]) if data.get("unit") else None,
        ends=tuple(CalloutEnd(**e) for e in data.get("ends", [])),
        circuit=CalloutCircuit(**data["circuit"]) if data.get("circuit") else None,
        affected=tuple(unit(u) for u in data.get("affected", [])),
    )


def for_unit(data: dict[str, Any], code: str) -> dict[str, Any]:
    """A card's JSON as one unit's contacts may read it: their unit only, the near end, no
    carrier (the center's business)."""
    shown = dict(data)
    if shown.get("unit") and shown["unit"].get("code") != code:
        shown["unit"] = None
    shown["affected"] = [u for u in data.get("affected", []) if u.get("code") == code]
    shown["ends"] = list(data.get("ends", []))[:1]
    shown["circuit"] = None
    return shown


# -- the one text form -------------------------------------------------------------------------

_WORDS: dict[str, tuple[str, str]] = {
    "heading": ("Callout", "联络卡"),
    "unit": ("Access unit", "接入单位"),
    "affected": ("Cut off", "受影响单位"),
    "call": ("call", "首选"),
    "backup": ("backup", "备用"),
    "port": ("Port", "端口"),
    "near": ("Near end", "本端"),
    "far": ("Far end", "对端"),
    "circuit": ("Leased circuit", "租用电路"),
    "noc": ("Carrier NOC", "运营商网管中心"),
    "none": ("no contact on file", "无联系人记录"),
    "room": ("room", "机房"),
    "rack": ("rack", "机柜"),
}


def callout_word(key: str, zh: bool) -> str:
    en, zh_text = _WORDS[key]
    return zh_text if zh else en


def _v(text: object) -> str:
    """A value someone typed into the inventory, on one line with its controls visible."""
    return visible(str(text), one_line=True)


def unit_heading(unit: CalloutUnit, zh: bool) -> str:
    name = unit.name_zh if zh and unit.name_zh else unit.name
    return f"{_v(unit.code)} {_v(name)} (AS{unit.asn})"


# A contact's role as people read it (the inventory's vocabulary, inventory.schema.ContactRole).
_ROLES: dict[str, tuple[str, str]] = {
    "technical": ("technical", "技术"),
    "backup": ("backup", "备用"),
    "noc": ("NOC", "网管"),
    "business": ("business", "商务"),
}


def contact_line(contact: CalloutContact, zh: bool) -> str:
    key = "backup" if contact.backup else "call"
    tags = [callout_word(key, zh)]
    # "[backup, backup]" says nothing twice: a backup whose role is "backup" is one word.
    if contact.role != key:
        en_zh = _ROLES.get(contact.role)
        tags.append((en_zh[1] if zh else en_zh[0]) if en_zh else _v(contact.role))
    parts = [f"{contact.priority}. {_v(contact.name)} [{', '.join(tags)}]"]
    if contact.phone:
        parts.append(("电话 " if zh else "tel ") + _v(contact.phone))
    if contact.wecom:
        parts.append(("企业微信 " if zh else "WeCom ") + _v(contact.wecom))
    if contact.email:
        parts.append(("邮箱 " if zh else "e-mail ") + _v(contact.email))
    return " · ".join(parts)


def end_line(end: CalloutEnd, zh: bool) -> str:
    where = _v(f"{end.device} {end.interface}".strip())
    place = [_v(end.site)]
    if end.room:
        place.append(f"{callout_word('room', zh)} {_v(end.room)}")
    if end.rack:
        place.append(f"{callout_word('rack', zh)} {_v(end.rack)}")
    return f"{where} ({', '.join(p for p in place if p)})"


def circuit_line(circuit: CalloutCircuit) -> str:
    return _v(f"{circuit.carrier} {circuit.circuit_id}")


def noc_line(circuit: CalloutCircuit) -> str | None:
    parts = [_v(p) for p in (circuit.noc_name, circuit.noc_phone, circuit.noc_email) if p]
    return " · ".join(parts) if parts else None


def callout_lines(card: Callout, *, zh: bool) -> list[str]:
    """The card as plain lines, in one language: what the copy key copies and what the CLI and
    the notifications print."""

    def w(key: str) -> str:
        return callout_word(key, zh)

    lines = [f"{w('heading')} {card.number}: {_v(card.title)}"]

    def unit_block(label: str, unit: CalloutUnit) -> None:
        lines.append(f"{label}: {unit_heading(unit, zh)}")
        if not unit.contacts:
            lines.append(f"  {w('none')}")
        lines.extend(f"  {contact_line(c, zh)}" for c in unit.contacts)

    if card.unit is not None:
        unit_block(w("unit"), card.unit)
    if len(card.ends) == 2:
        lines.append(f"{w('near')}: {end_line(card.ends[0], zh)}")
        lines.append(f"{w('far')}: {end_line(card.ends[1], zh)}")
    elif card.ends:
        lines.append(f"{w('port')}: {end_line(card.ends[0], zh)}")
    if card.circuit is not None:
        lines.append(f"{w('circuit')}: {circuit_line(card.circuit)}")
        noc = noc_line(card.circuit)
        if noc:
            lines.append(f"  {w('noc')}: {noc}")
    for unit in card.affected:
        unit_block(w("affected"), unit)
    return lines
