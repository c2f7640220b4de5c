"""The ticket queue read on the DB-API, without the ORM: what `ixops ticket list` shows.

:func:`read_queue` answers what :func:`tickets.queue.ticket_queue` answers for the filters a
plain list uses (states, severities, categories, a site, an access unit; a page or every
ticket) with the same SQL in
the same order, through a sqlite3 or psycopg connection, so the command starts without
SQLAlchemy, SQLModel or pydantic. The permission rule is the queue's, enforced here the same
way: every role may list; a contact sees their unit's tickets and those whose fault affects
their unit, nothing else. The page's rows are evaluated afresh from their timelines through
:func:`tickets.sla_ticket.evaluate_ticket`, the function the ORM path uses.

What it cannot answer it refuses with :class:`CannotAnswer` (tickets whose SLA state was never
stored: the ORM's queue stores it first, a write; a site or unit code that names nothing: the
ORM's error lists the choices), and the caller reads through the ORM instead.
The parity tests (``tests/integration/test_queue_reader.py``) hold both paths to the same rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from inventory.permissions import EVERYONE, Account, Reach, Role, require_role, rule
from inventory.portnames import long_port_names
from inventory.rawstore import (
    Connection,
    batches,
    in_list,
    is_sqlite,
    rows,
    stamp,
    stamp_or_none,
)
from inventory.timeutil import require_aware
from tickets.kinds import (
    OPEN_STATES,
    PUBLIC_ENTRY_KINDS,
    Severity,
    TicketCategory,
    format_number,
    parse_number,
)
from tickets.sla import SlaReport, TicketState
from tickets.sla_ticket import evaluate_ticket

DEFAULT_LIMIT: Final = 50
_VIEWER_ROLES: Final = frozenset({Role.ADMIN, Role.ENGINEER, Role.VIEWER})


class CannotAnswer(Exception):
    """This reader cannot give what the ORM's queue would: read through the ORM instead."""


class QueueReader(Protocol):
    """The acting account as the queue's scoping reads it."""

    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def access_unit_id(self) -> int | None: ...
    @property
    def disabled_at(self) -> dt.datetime | None: ...


@dataclass(frozen=True)
class ListFilter:
    """The part of :class:`tickets.queue.QueueFilter` this reader answers."""

    states: Sequence[TicketState] | None = None
    severities: Sequence[Severity] | None = None
    categories: Sequence[TicketCategory] | None = None
    site: str | None = None  # a site code: its tickets, and trunks with an end there
    unit: str | None = None  # an access unit code: its tickets and those affecting it
    search: str | None = None  # words, as tickets.queue.QueueFilter.search


@dataclass(frozen=True)
class ListedTicket:
    """The ticket's columns a list shows."""

    id: int
    title: str
    category: str
    severity: str
    state: str
    source: str
    sla_policy: str
    site_id: int | None
    device_id: int | None
    interface_id: int | None
    link_id: int | None
    access_unit_id: int | None
    assignee_id: int | None
    detected_at: dt.datetime | None
    opened_at: dt.datetime
    recovered_at: dt.datetime | None

    @property
    def sla_start_at(self) -> dt.datetime:
        return self.detected_at if self.detected_at is not None else self.opened_at


@dataclass(frozen=True)
class ListRow:
    """One line of the list (:class:`tickets.service.TicketRow`'s shown part)."""

    ticket: ListedTicket
    number: str
    site: str | None
    device: str | None
    interface: str | None
    unit: str | None
    assignee: str | None
    sla: SlaReport
    planned: bool = False


@dataclass(frozen=True)
class ListPage:
    rows: list[ListRow]
    offset: int
    total: int  # every ticket the filter matches, not only this page

    @property
    def more(self) -> int:
        """How many matching tickets come after this page."""
        return max(0, self.total - self.offset - len(self.rows))


@dataclass(frozen=True)
class _Entry:
    id: int
    at: dt.datetime
    kind: str
    value: str | None
    actor: str


_COLUMNS: Final = (
    "id, title, category, severity, state, source, sla_policy, site_id, device_id,"
    " interface_id, link_id, access_unit_id, assignee_id, detected_at, opened_at, recovered_at"
)


# A unit's own tickets and those whose fault affects it (two markers: the unit's id twice).
_OF_OR_AFFECTING_UNIT: Final = (
    "(access_unit_id = ? OR id IN"
    " (SELECT ticket_id FROM ticket_access_unit WHERE access_unit_id = ?))"
)


def _id_of(connection: Connection, table: str, value: str, what: str) -> int:
    """The id of the row whose code is `value`; a code that names nothing is the ORM queue's
    to refuse (its message lists the choices)."""
    found = rows(connection, f"SELECT id FROM {table} WHERE code = ?", [value])  # noqa: S608
    if not found:
        raise CannotAnswer(f"no {what} {value!r}")
    return int(found[0][0])


def _where(
    connection: Connection, user: QueueReader, wanted: ListFilter
) -> tuple[list[str], list[Any]]:
    """The queue's conditions (:func:`tickets.queue._conditions` and
    :func:`tickets.service.visible_clause`), as SQL with ``?`` markers."""
    where: list[str] = []
    params: list[Any] = []
    role = Role(user.role)
    if role not in _VIEWER_ROLES:
        if role is Role.CONTACT and user.access_unit_id is not None:
            where.append(_OF_OR_AFFECTING_UNIT)
            params += [user.access_unit_id, user.access_unit_id]
        else:
            where.append("1 = 0")
    if wanted.states and set(wanted.states) != OPEN_STATES:
        values = [TicketState(s).value for s in wanted.states]
        where.append(f"state IN {in_list(values)}")
        params += values
    else:
        where.append("state != ?")
        params.append(TicketState.CLOSED.value)
    if wanted.severities:
        values = [Severity(s).value for s in wanted.severities]
        where.append(f"severity IN {in_list(values)}")
        params += values
    if wanted.categories:
        values = [TicketCategory(c).value for c in wanted.categories]
        where.append(f"category IN {in_list(values)}")
        params += values
    if wanted.site is not None:
        site_id = _id_of(connection, "site", wanted.site, "site")
        # A trunk's ticket is on its reporting end's site and shows under the far end's too.
        in_site = (
            "SELECT id FROM interface WHERE device_id IN (SELECT id FROM device WHERE site_id = ?)"
        )
        ends = f"a_interface_id IN ({in_site}) OR b_interface_id IN ({in_site})"
        where.append(f"(site_id = ? OR link_id IN (SELECT id FROM link WHERE {ends}))")  # noqa: S608
        params += [site_id, site_id, site_id]
    if wanted.unit is not None:
        unit_id = _id_of(connection, "access_unit", wanted.unit, "access unit")
        where.append(_OF_OR_AFFECTING_UNIT)
        params += [unit_id, unit_id]
    needle = (wanted.search or "").strip()
    if needle.split():
        sql, values = _search_sql(connection, needle, contact=role is Role.CONTACT)
        where.append(sql)
        params += values
    return where, params


_ASN_RE: Final = re.compile(r"^(?:AS)?(\d{1,10})$", re.IGNORECASE)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"


def _search_sql(connection: Connection, needle: str, *, contact: bool) -> tuple[str, list[Any]]:
    """:func:`tickets.queue._search_clause` as SQL: every word matches somewhere, or the whole
    search is the ticket's number."""
    parts: list[str] = []
    params: list[Any] = []
    for word in needle.split():
        sql, values = _word_sql(connection, word, contact=contact)
        parts.append(sql)
        params += values
    clause = "(" + " AND ".join(parts) + ")"
    number = parse_number(needle)
    if number is not None:
        return f"(id = ? OR {clause})", [number, *params]
    return clause, params


def _word_sql(connection: Connection, word: str, *, contact: bool) -> tuple[str, list[Any]]:
    """:func:`tickets.queue._word_clause` as SQL with ``?`` markers, case-insensitive as
    SQLAlchemy's ``ilike`` renders it on each store (``lower() LIKE lower()`` on SQLite,
    ``ILIKE`` on PostgreSQL)."""
    params: list[Any] = []

    def like(column: str, text: str = word) -> str:
        params.append(_like(text))
        if is_sqlite(connection):
            return f"lower({column}) LIKE lower(?) ESCAPE '\\'"
        return f"{column} ILIKE ? ESCAPE '\\'"

    def units() -> str:
        matches = [like("code"), like("name"), like("name_zh")]
        asn = _ASN_RE.match(word)
        if asn is not None:
            matches.append("asn = ?")
            params.append(int(asn.group(1)))
        return f"SELECT id FROM access_unit WHERE {' OR '.join(matches)}"  # noqa: S608

    def devices() -> str:
        return f"SELECT id FROM device WHERE {like('name')}"  # noqa: S608

    def ports() -> str:
        names = " OR ".join(like("name", n) for n in [word, *long_port_names(word)])
        return f"SELECT id FROM interface WHERE {names}"  # noqa: S608

    def on_devices() -> str:
        return f"SELECT id FROM interface WHERE device_id IN ({devices()})"  # noqa: S608

    # Built in the order of the SQL text, so the markers' values line up.
    title = like("title")
    by_unit = f"access_unit_id IN ({units()})"
    by_device = f"device_id IN ({devices()})"
    by_port = f"interface_id IN ({ports()})"
    circuits = f"SELECT id FROM circuit WHERE {like('circuit_id')}"  # noqa: S608
    link_ends = [
        f"circuit_id IN ({circuits})",
        f"a_interface_id IN ({ports()})",
        f"b_interface_id IN ({ports()})",
        f"a_interface_id IN ({on_devices()})",
        f"b_interface_id IN ({on_devices()})",
    ]
    by_link = f"link_id IN (SELECT id FROM link WHERE {' OR '.join(link_ends)})"  # noqa: S608
    text = f"SELECT ticket_id FROM ticket_entry WHERE {like('body')}"  # noqa: S608
    if contact:
        # A contact's search reads what a contact may read of a timeline, nothing more.
        kinds = sorted(k.value for k in PUBLIC_ENTRY_KINDS)
        text += f" AND public = ? AND kind IN {in_list(kinds)}"
        params += [True, *kinds]
    matches = [title, by_unit, by_device, by_port, by_link, f"id IN ({text})"]
    if not contact:
        # Which other units a fault cut off is the center's business.
        matches.append(
            f"id IN (SELECT ticket_id FROM ticket_access_unit WHERE access_unit_id IN ({units()}))"  # noqa: S608
        )
    return "(" + " OR ".join(matches) + ")", params


def _ticket(row: Sequence[Any]) -> ListedTicket:
    (tid, title, category, severity, state, source, policy, site, device, interface, link) = row[
        :11
    ]
    unit, assignee, detected, opened, recovered = row[11:]
    return ListedTicket(
        id=int(tid),
        title=str(title),
        category=str(category),
        severity=str(severity),
        state=str(state),
        source=str(source),
        sla_policy=str(policy),
        site_id=site,
        device_id=device,
        interface_id=interface,
        link_id=link,
        access_unit_id=unit,
        assignee_id=assignee,
        detected_at=stamp_or_none(detected),
        opened_at=stamp(opened),
        recovered_at=stamp_or_none(recovered),
    )


def _names(connection: Connection, table: str, column: str, ids: set[int | None]) -> dict[int, str]:
    wanted = sorted(i for i in ids if i is not None)
    found: dict[int, str] = {}
    for batch in batches(wanted):
        sql = f"SELECT id, {column} FROM {table} WHERE id IN {in_list(batch)}"  # noqa: S608 - names are ours
        found.update((int(i), str(name)) for i, name in rows(connection, sql, batch))
    return found


def _entries(connection: Connection, ids: list[int]) -> dict[int, list[_Entry]]:
    entries: dict[int, list[_Entry]] = {i: [] for i in ids}
    for batch in batches(ids):
        for entry_id, ticket_id, at, kind, value, actor in rows(
            connection,
            "SELECT id, ticket_id, at, kind, value, actor FROM ticket_entry"  # noqa: S608
            f" WHERE ticket_id IN {in_list(batch)} ORDER BY at, id",
            batch,
        ):
            entries[int(ticket_id)].append(
                _Entry(int(entry_id), stamp(at), str(kind), value, str(actor))
            )
    return entries


def _under_maintenance(
    connection: Connection, tickets: Sequence[ListedTicket], now: dt.datetime
) -> tuple[set[int], set[int]]:
    """As :func:`tickets.queue._under_maintenance`: the devices and links of these tickets
    inside a maintenance window at ``now`` (the windows compared here, not in SQL)."""
    devices: set[int] = set()
    links: set[int] = set()
    for column, ids, into in (
        ("device_id", sorted({t.device_id for t in tickets if t.device_id is not None}), devices),
        ("link_id", sorted({t.link_id for t in tickets if t.link_id is not None}), links),
    ):
        for batch in batches(ids):
            for subject, starts_at, ends_at in rows(
                connection,
                f"SELECT {column}, starts_at, ends_at FROM maintenance_window"  # noqa: S608
                f" WHERE {column} IN {in_list(batch)}",
                batch,
            ):
                if stamp(starts_at) <= now < stamp(ends_at):
                    into.add(int(subject))
    return devices, links


@rule("list tickets", EVERYONE, reach=Reach.OWN_UNIT, reads=True)
def read_queue(
    *,
    connection: Connection,
    user: QueueReader,
    wanted: ListFilter | None = None,
    limit: int | None = DEFAULT_LIMIT,
    offset: int = 0,
    now: dt.datetime,
) -> ListPage:
    """One page of the tickets the user may see, in the queue's order, with the number of all
    that match (see :func:`tickets.queue.ticket_queue`). ``limit=None``: every one."""
    account: Account = user
    require_role(account, EVERYONE, "list tickets")
    now = require_aware(now, "now")
    if limit is not None and limit < 0:
        raise ValueError("limit must be zero or more")
    if offset < 0:
        raise ValueError("offset must be zero or more")
    if rows(connection, "SELECT id FROM ticket WHERE sla_evaluated_at IS NULL LIMIT 1"):
        raise CannotAnswer("tickets without a stored SLA state (the ORM's queue stores it)")
    where, params = _where(connection, user, wanted or ListFilter())
    clause = " AND ".join(where)
    # The ORM's total counts the tickets whose stored status it can place (all, once stored).
    (total,) = rows(
        connection,
        f"SELECT count(*) FROM ticket WHERE {clause} AND response_status IS NOT NULL",  # noqa: S608
        params,
    )[0]
    page_sql = (
        f"SELECT {_COLUMNS} FROM ticket WHERE {clause}"  # noqa: S608 - markers for every value
        " ORDER BY response_rank, response_sort, id"
    )
    page_params = list(params)
    if limit is not None:
        page_sql += " LIMIT ? OFFSET ?"
        page_params += [limit, offset]
    elif is_sqlite(connection):
        page_sql += " LIMIT -1 OFFSET ?"
        page_params.append(offset)
    else:
        page_sql += " OFFSET ?"
        page_params.append(offset)
    tickets = [_ticket(r) for r in rows(connection, page_sql, page_params)]
    return ListPage(rows=_rows_of(connection, tickets, now=now), offset=offset, total=int(total))


def _rows_of(
    connection: Connection, tickets: list[ListedTicket], *, now: dt.datetime
) -> list[ListRow]:
    """As :func:`tickets.queue.rows_of`: names, maintenance and each clock afresh."""
    entries = _entries(connection, [t.id for t in tickets])
    sites = _names(connection, "site", "code", {t.site_id for t in tickets})
    devices = _names(connection, "device", "name", {t.device_id for t in tickets})
    interfaces = _names(connection, "interface", "name", {t.interface_id for t in tickets})
    units = _names(connection, "access_unit", "code", {t.access_unit_id for t in tickets})
    users = _names(connection, "user_account", "name", {t.assignee_id for t in tickets})
    planned_devices, planned_links = _under_maintenance(connection, tickets, now)

    def get(table: dict[int, str], key: int | None) -> str | None:
        return table.get(key) if key is not None else None

    return [
        ListRow(
            ticket=t,
            number=format_number(t.id, t.opened_at),
            site=get(sites, t.site_id),
            device=get(devices, t.device_id),
            interface=get(interfaces, t.interface_id),
            unit=get(units, t.access_unit_id),
            assignee=get(users, t.assignee_id),
            sla=evaluate_ticket(t, entries[t.id], now=now),
            planned=t.device_id in planned_devices or t.link_id in planned_links,
        )
        for t in tickets
    ]
