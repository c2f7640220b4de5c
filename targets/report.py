"""The performance-target table as a document: computed live, or frozen at the year's close.

:func:`targets_report` is the one read every surface uses (CLI, console, tests): it takes the
session, the acting user and ``now``, decides what the user may see (engineers, admins and
viewers the whole table; an access unit's contact only the response and satisfaction rows,
computed over their own unit's tickets; nobody else anything) and returns a plain JSON-able
document, so that a frozen year and a live one render through the same code.

**Year end.** :func:`close_year` (admins, after the project's planned end) computes the whole
year's table, stores it with the SHA-256 digest of its canonical JSON and the year's budget
and executed totals; from then on the year's report *is* that document, whatever data arrives
later, and its ledger takes no entries. The next year's 上年预算额 / 上年预算执行数 come from
it (the targets file's ``previous_year`` is used only while there is no closed year).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any, Final

from sqlmodel import Session, select

from inventory.accounts import PermissionDenied, Role, User, record_audit, require_role
from inventory.timeutil import Period, parse_period, require_aware, to_local
from targets.document import Project
from targets.indicators import INDICATORS, Context, visible_metrics
from targets.ledger import LedgerError, executed_by_line, ledger_entries
from targets.models import ClosedTable

READ_ROLES: Final = frozenset(Role)
FULL_ROLES: Final = frozenset({Role.ADMIN, Role.ENGINEER, Role.VIEWER})
CLOSE_ROLES: Final = frozenset({Role.ADMIN})


def _bi(value: Any) -> dict[str, str]:
    return {"zh": value.zh, "en": value.en}


def canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest_of(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(document).encode("utf-8")).hexdigest()


def closed_table(session: Session, year: int, project: str) -> ClosedTable | None:
    return session.exec(
        select(ClosedTable).where(ClosedTable.year == year, ClosedTable.project == project)
    ).first()


def _previous_year(session: Session, project: Project, year: int) -> dict[str, Any] | None:
    closed = closed_table(session, year - 1, project.code)
    if closed is not None:
        return {
            "budget_cny": str(Decimal(closed.budget_cny)),
            "executed_cny": str(Decimal(closed.executed_cny)),
            "source": f"closed {year - 1} table {closed.digest[:12]}",
        }
    if project.previous_year is not None:
        return {
            "budget_cny": str(project.previous_year.budget_cny),
            "executed_cny": str(project.previous_year.executed_cny),
            "source": "targets file",
        }
    return None


def _compute(
    *, session: Session, user: User, project: Project, year: int, period: Period, now: dt.datetime
) -> dict[str, Any]:
    ctx = Context(session, user, project, year, period, now)
    shown = visible_metrics(user)
    rows = []
    for number, row in enumerate(project.rows, start=1):
        entry: dict[str, Any] = {
            "n": number,
            "level1": _bi(row.level1),
            "level2": _bi(row.level2),
            "level3": _bi(row.level3),
            "target": {"zh": row.target_shown("zh"), "en": row.target_shown("en")},
            "metric": row.metric.value,
            "definition": _bi(row.definition),
        }
        if row.metric in shown:
            actual = INDICATORS[row.metric](ctx, row)
            entry |= {
                "actual": {"zh": actual.zh, "en": actual.en},
                "achieved": actual.achieved,
                "figures": dict(actual.figures),
                "evidence": [
                    {"kind": e.kind, "ref": e.ref, "text": e.text} for e in actual.evidence
                ],
            }
        else:
            entry |= {"actual": None, "achieved": None, "figures": {}, "evidence": []}
        rows.append(entry)
    header = project.header
    document: dict[str, Any] = {
        "year": year,
        "project": project.code,
        "period": {
            "label": period.label,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
        },
        "generated_at": now.isoformat(),
        "closed": None,
        "header": {
            "applicant": _bi(header.applicant),
            "project_name": _bi(header.project_name),
            "category": _bi(header.category),
            "performance_type": _bi(header.performance_type),
            "planned_start": header.planned_start.isoformat(),
            "planned_end": header.planned_end.isoformat(),
            "government_procurement": header.government_procurement,
            "overview": _bi(header.overview),
            "goal": _bi(header.goal),
        },
        "rows": rows,
    }
    if user.role_enum is not Role.CONTACT:
        executed = executed_by_line(
            ledger_entries(session, year=year, project=project.code, period=period)
        )
        document["budget"] = {
            "total_cny": str(project.budget_cny),
            "executed_cny": str(sum(executed.values(), Decimal("0.00"))),
            "previous_year": _previous_year(session, project, year),
            "lines": [
                {
                    "code": line.code,
                    "kind": line.kind.value,
                    "name": _bi(line.name),
                    "amount_cny": str(line.amount_cny),
                    "executed_cny": str(executed.get(line.code, Decimal("0.00"))),
                }
                for line in project.budget_lines
            ],
        }
    else:
        document["budget"] = None
    return document


def targets_report(
    *,
    session: Session,
    user: User,
    project: Project,
    year: int,
    now: dt.datetime,
    period: Period | None = None,
) -> dict[str, Any]:
    """The table for ``year`` (or a part of it) as the user may see it."""
    require_role(user, READ_ROLES, "read the performance-target table")
    now = require_aware(now, "now")
    whole = parse_period(str(year))
    period = period or whole
    if not (whole.start <= period.start and period.end <= whole.end):
        raise ValueError(f"period {period.label} is not within {year}")
    closed = closed_table(session, year, project.code)
    if closed is not None and period == whole:
        if user.role_enum not in FULL_ROLES:
            # A contact's figures are their own unit's: never the frozen all-units table.
            return _compute(
                session=session, user=user, project=project, year=year, period=period, now=now
            )
        document: dict[str, Any] = json.loads(closed.document_json)
        document["closed"] = {
            "digest": closed.digest,
            "closed_at": closed.closed_at.isoformat(),
            "verified": digest_of(document | {"closed": None}) == closed.digest,
        }
        return document
    return _compute(session=session, user=user, project=project, year=year, period=period, now=now)


def close_year(
    *, session: Session, user: User, project: Project, year: int, now: dt.datetime
) -> ClosedTable:
    """Freeze ``year``'s table for ``project``: stored with its digest, never recomputed."""
    require_role(user, CLOSE_ROLES, "close a year's performance-target table", str(year))
    now = require_aware(now, "now")
    if closed_table(session, year, project.code) is not None:
        raise LedgerError(f"{year} {project.code} is already closed")
    if to_local(now).date() <= project.header.planned_end:
        raise LedgerError(
            f"{year} {project.code} runs until {project.header.planned_end}: "
            "it can be closed from the day after"
        )
    if user.role_enum is Role.CONTACT:  # pragma: no cover - CLOSE_ROLES excludes it
        raise PermissionDenied(user.name, "close a year")
    document = _compute(
        session=session, user=user, project=project, year=year,
        period=parse_period(str(year)), now=now,
    )  # fmt: skip
    budget = document["budget"]
    row = ClosedTable(
        year=year,
        project=project.code,
        budget_cny=Decimal(budget["total_cny"]),
        executed_cny=Decimal(budget["executed_cny"]),
        document_json=canonical(document),
        digest=digest_of(document),
        closed_at=now,
        closed_by_id=user.id or 0,
    )
    session.add(row)
    session.flush()
    record_audit(
        session,
        actor=user,
        action="targets_close_year",
        object_type="closed_target_table",
        object_key=f"{year}/{project.code}",
        now=now,
        details={"digest": row.digest, "executed_cny": budget["executed_cny"]},
    )
    session.commit()
    return row


def explain(document: dict[str, Any], ref: str) -> dict[str, Any]:
    """One row of a report by number (1…) or metric name, with its evidence."""
    for row in document["rows"]:
        if ref == str(row["n"]) or ref == row["metric"]:
            return dict(row)
    valid = ", ".join(f"{r['n']} ({r['metric']})" for r in document["rows"])
    raise ValueError(f"no row {ref!r} in the table; rows: {valid}")
