"""The exchange's places as every screen lists them: the active sites (main room first) and how
many active devices of each role each holds. Nobody's scope narrows these: the sites and their
device counts are on the overview for everyone who may log in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from inventory.models import Device, Site
from inventory.sync import store_site_codes


@dataclass(frozen=True)
class SiteInfo:
    code: str
    name: str
    name_zh: str


def sites(session: Session) -> list[SiteInfo]:
    """Active sites, main room first (the order `ixops inventory show` uses)."""
    codes = store_site_codes(session)
    rows = {s.code: s for s in session.exec(select(Site).where(col(Site.code).in_(codes))).all()}
    return [SiteInfo(code, rows[code].name, rows[code].name_zh) for code in codes]


def device_counts(session: Session) -> dict[str, dict[str, int]]:
    """Active devices per site code and role: one grouped query (the overview polls it)."""
    counts: dict[str, dict[str, int]] = {}
    for code, role, n in session.exec(
        select(Site.code, Device.role, func.count())
        .join(Site, col(Site.id) == col(Device.site_id))
        .where(col(Device.retired_at).is_(None))
        .group_by(col(Site.code), col(Device.role))
    ).all():
        counts.setdefault(code, {})[role] = int(n)
    return counts
