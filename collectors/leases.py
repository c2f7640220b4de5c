"""Which collector polls which device: leases in the store, renewed every round.

Any number of collectors share one store. Each device has at most one lease row per collector
kind (``snmp``, ``ssh``) naming its owner and an expiry; a collector polls only the devices it
holds. Every round, in one transaction, :func:`claim_leases`:

1. locks its own rows and renews them (``expires_at = now + lease``) — even expired ones, as
   long as nobody took them: a collector back from a store outage or a quick restart keeps its
   devices;
2. hands back a device outside its own room once that room's collector has run a round since
   the device was taken from it (it is back), by deleting the row;
3. takes free devices (no row) of its own room;
4. once it has been connected to the store for a grace time (one lease time plus one
   interval), also free devices of rooms no running collector calls home, and expired leases
   of other collectors (``SELECT … FOR UPDATE SKIP LOCKED``, so two collectors never take the
   same row). The grace is what lets collectors started together each find their own room
   first, and what gives each collector back from a store outage (when everyone's leases
   have lapsed) the chance to renew its own.

:func:`renew_leases` extends the leases again at the end of a round, so a lease need only
outlast one interval (and one round), not both.

So a dead collector's devices are taken over at most one lease time plus one interval after its
last renewal, and — since a lease is longer than an interval — a device is never polled by two
collectors in the same interval. A room's devices go back to its collector when it returns.
SQLite has no row locks to skip; a single collector is its case, and there the steps are the
same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from collectors.models import CollectorLease
from inventory.timeutil import require_aware


@dataclass(frozen=True)
class LeaseRound:
    """The outcome of one claim: device ids held now, and how that came about."""

    held: frozenset[int]
    renewed: frozenset[int]
    acquired: frozenset[int]  # free devices taken
    taken_over: frozenset[int]  # expired leases of other collectors taken
    released: frozenset[int]  # handed back to their room's collector
    statements: int  # round trips to the store, the lease overhead


def claim_leases(
    session: Session,
    *,
    collector: str,
    kind: str,
    device_sites: Mapping[int, str],
    home_sites: Collection[str] | None,
    running_homes: Mapping[str, dt.datetime],
    lease_s: float,
    may_take_over: bool,
    now: dt.datetime,
) -> LeaseRound:
    """Renew, hand back and take leases for one round (see the module doc); commits.

    `device_sites` are the devices this collector can poll, with their site codes;
    `home_sites` the rooms it prefers (None: every room is its own); `running_homes` maps a
    site code to the start of the newest round of a running collector (other than this one)
    whose home it is.
    """
    now = require_aware(now, "now")
    expires = now + dt.timedelta(seconds=lease_s)
    statements = 0

    def is_home(site: str) -> bool:
        return home_sites is None or site in home_sites

    def eligible(site: str) -> bool:
        return is_home(site) or (may_take_over and site not in running_homes)

    mine = session.exec(
        select(CollectorLease)
        .where(CollectorLease.kind == kind, CollectorLease.collector == collector)
        .with_for_update()
    ).all()
    statements += 1
    released: set[int] = set()
    renewed: set[int] = set()
    for row in mine:
        site = device_sites.get(row.device_id)
        back = site is not None and not is_home(site) and site in running_homes
        if site is None or (back and running_homes[site] > row.acquired_at):
            released.add(row.device_id)  # not ours to poll (any more)
        else:
            renewed.add(row.device_id)
    if released:
        session.execute(
            delete(CollectorLease).where(
                col(CollectorLease.kind) == kind,
                col(CollectorLease.collector) == collector,
                col(CollectorLease.device_id).in_(sorted(released)),
            )
        )
        statements += 1
    if renewed:
        session.execute(
            update(CollectorLease)
            .where(
                col(CollectorLease.kind) == kind,
                col(CollectorLease.collector) == collector,
                col(CollectorLease.device_id).in_(sorted(renewed)),
            )
            .values(expires_at=expires)
        )
        statements += 1

    taken: set[int] = set()
    if may_take_over:
        expired = session.exec(
            select(CollectorLease)
            .where(
                CollectorLease.kind == kind,
                CollectorLease.collector != collector,
                CollectorLease.expires_at <= now,
            )
            .order_by(col(CollectorLease.device_id))
            .with_for_update(skip_locked=True)
        ).all()
        statements += 1
        for row in expired:
            site = device_sites.get(row.device_id)
            if site is not None and eligible(site):
                row.collector = collector
                row.acquired_at = now
                row.expires_at = expires
                session.add(row)
                taken.add(row.device_id)

    leased = set(session.exec(select(CollectorLease.device_id).where(CollectorLease.kind == kind)))
    statements += 1
    free = [
        device_id
        for device_id, site in sorted(device_sites.items())
        if device_id not in leased and eligible(site)
    ]
    acquired: set[int] = set()
    if free:
        values = [
            {
                "device_id": device_id,
                "kind": kind,
                "collector": collector,
                "acquired_at": now,
                "expires_at": expires,
            }
            for device_id in free
        ]
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(CollectorLease).values(values).on_conflict_do_nothing()
        session.execute(statement)
        statements += 1
        # Another collector may have inserted some first: only the rows naming us are ours.
        acquired = set(
            session.exec(
                select(CollectorLease.device_id).where(
                    CollectorLease.kind == kind,
                    CollectorLease.collector == collector,
                    col(CollectorLease.device_id).in_(free),
                )
            )
        )
        statements += 1
    session.commit()
    held = frozenset(renewed | taken | acquired)
    return LeaseRound(
        held=held,
        renewed=frozenset(renewed),
        acquired=frozenset(acquired),
        taken_over=frozenset(taken),
        released=frozenset(released),
        statements=statements,
    )


def renew_leases(
    session: Session, *, collector: str, kind: str, lease_s: float, now: dt.datetime
) -> int:
    """Extend every lease this collector still holds (the end of a round); commits."""
    result = session.execute(
        update(CollectorLease)
        .where(col(CollectorLease.kind) == kind, col(CollectorLease.collector) == collector)
        .values(expires_at=require_aware(now, "now") + dt.timedelta(seconds=lease_s))
    )
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def release_all(session: Session, *, collector: str, kind: str) -> int:
    """Give up every lease (a clean stop): the devices are free for others at once."""
    result = session.execute(
        delete(CollectorLease).where(
            col(CollectorLease.kind) == kind, col(CollectorLease.collector) == collector
        )
    )
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
