"""The targets file: a year's performance-target tables (绩效目标表) as reviewed data.

One YAML file per year (any number in a directory), validated like the inventory: parsed by
:func:`inventory.source.load_yaml` (lines remembered), each field checked by a pydantic model,
every problem reported as ``file:line: message``. A file holds one or more *projects* (the
center files several); each has the form's header block, its budget lines (amount, and for
electricity the time-of-use tariff) and its rows: three levels of target, the indicator, its
comparator, target value and unit, the *metric* ixops computes for it and the definition in
both languages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from inventory.schema import Amount, Date, Model
from inventory.source import LineDict, Location, SourceError, load_yaml, location_of

EXAMPLE_TARGETS = Path(__file__).parent / "examples" / "shanghai-ix"
"""The example exchange's tables (a directory of targets-YYYY.yaml files)."""


class Metric(StrEnum):
    """What ixops computes for a row (one function each in :mod:`targets.indicators`)."""

    BUDGET_EXECUTION = "budget_execution"
    MAINTAINED_DEVICES = "maintained_devices"
    LINK_STABILITY = "link_stability"
    FAULT_RESPONSE = "fault_response"
    SATISFACTION = "satisfaction"
    INSPECTION_REGULARITY = "inspection_regularity"


class LineKind(StrEnum):
    MAINTENANCE = "maintenance"
    ELECTRICITY = "electricity"
    RENTAL = "rental"
    OTHER = "other"


Comparator = Literal["=", ">=", "<=", ">", "<", "is"]


class Bilingual(Model):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Header(Model):
    applicant: Bilingual  # 申报单位名称
    project_name: Bilingual  # 项目名称
    category: Bilingual  # 项目类别
    performance_type: Bilingual  # 绩效类型
    planned_start: Date  # 计划开始日期
    planned_end: Date  # 计划完成日期
    government_procurement: bool = False  # 是否含有政府购买服务
    overview: Bilingual  # 项目概况
    goal: Bilingual  # 总目标

    @model_validator(mode="after")
    def _dates_in_order(self) -> Header:
        if self.planned_end < self.planned_start:
            raise ValueError(
                f"planned_end {self.planned_end} is before planned_start {self.planned_start}"
            )
        return self


TouPeriod = Literal["peak", "flat", "valley"]
TOU_LABELS: dict[str, tuple[str, str]] = {
    "peak": ("峰", "peak"),
    "flat": ("平", "flat"),
    "valley": ("谷", "valley"),
}


class TariffBand(Model):
    period: TouPeriod
    price_cny_per_kwh: Decimal
    hours: list[str] = Field(min_length=1)  # "08:00-11:00", local time, end exclusive

    @field_validator("price_cny_per_kwh", mode="before")
    @classmethod
    def _price(cls, value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"{value!r} is not a price in yuan per kWh")
        try:
            price = Decimal(str(value))
        except ArithmeticError:
            raise ValueError(f"{value!r} is not a price in yuan per kWh") from None
        if not price.is_finite() or price < 0:
            raise ValueError(f"{value!r} is not a non-negative price")
        return price

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: list[str]) -> list[str]:
        for span in value:
            parse_hours(span)
        return value


def parse_hours(span: str) -> tuple[int, int]:
    """'08:00-11:00' → (480, 660) minutes of the local day; '22:00-24:00' is allowed."""
    try:
        start, end = (part.strip() for part in str(span).split("-"))
        minutes = []
        for part in (start, end):
            hh, mm = part.split(":")
            minutes.append(int(hh) * 60 + int(mm))
    except ValueError:
        raise ValueError(f"{span!r} is not a span of hours (write 08:00-11:00)") from None
    first, last = minutes
    if not (0 <= first < last <= 24 * 60) or first % 15 or last % 15:
        raise ValueError(f"{span!r}: hours must run forward within one day, in quarter hours")
    return first, last


class Tariff(Model):
    """Time-of-use electricity prices (分时电价); every minute of the day in exactly one band."""

    name: str = Field(min_length=1)
    source: str = ""
    bands: list[TariffBand] = Field(min_length=1)

    @model_validator(mode="after")
    def _covers_the_day_once(self) -> Tariff:
        covered = [0] * (24 * 4)
        for band in self.bands:
            for span in band.hours:
                first, last = parse_hours(span)
                for quarter in range(first // 15, last // 15):
                    covered[quarter] += 1
        gaps = [q for q, n in enumerate(covered) if n != 1]
        if gaps:
            q = gaps[0]
            raise ValueError(
                f"the bands must cover each quarter hour of the day exactly once; "
                f"{q // 4:02d}:{q % 4 * 15:02d} is covered {covered[q]} times"
            )
        return self

    def band_at(self, minute_of_day: int) -> TariffBand:
        for band in self.bands:
            for span in band.hours:
                first, last = parse_hours(span)
                if first <= minute_of_day < last:
                    return band
        raise AssertionError("validated tariffs cover the whole day")  # pragma: no cover


class BudgetLine(Model):
    code: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    kind: LineKind = LineKind.OTHER
    name: Bilingual
    amount_cny: Amount
    tariff: Tariff | None = None

    @model_validator(mode="after")
    def _tariff_for_electricity(self) -> BudgetLine:
        if self.tariff is not None and self.kind is not LineKind.ELECTRICITY:
            raise ValueError("only an electricity line has a tariff")
        return self


class PreviousYear(Model):
    budget_cny: Amount  # 同名项目上年预算额
    executed_cny: Amount  # 上年预算执行数


class Row(Model):
    level1: Bilingual
    level2: Bilingual
    level3: Bilingual  # the indicator's name
    comparator: Comparator
    target: Decimal | str
    unit: Bilingual | None = None
    target_text: Bilingual | None = None  # as the form prints it, when not comparator+value+unit
    metric: Metric
    definition: Bilingual
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("target", mode="before")
    @classmethod
    def _target(cls, value: Any) -> Decimal | str:
        if isinstance(value, bool):
            raise ValueError("target must be a number or a word, not true/false")
        if isinstance(value, int | float):
            return Decimal(str(value))
        return str(value)

    @model_validator(mode="after")
    def _comparator_fits(self) -> Row:
        if self.comparator == "is" and not isinstance(self.target, str):
            raise ValueError("comparator 'is' takes a word as its target (e.g. 稳定)")
        if self.comparator != "is" and not isinstance(self.target, Decimal):
            raise ValueError(f"comparator {self.comparator!r} needs a numeric target")
        return self

    def target_shown(self, lang: str) -> str:
        if self.target_text is not None:
            return self.target_text.zh if lang == "zh" else self.target_text.en
        unit = "" if self.unit is None else (self.unit.zh if lang == "zh" else self.unit.en)
        if self.comparator == "is":
            return str(self.target)
        value = format(self.target, "f")
        sep = "" if lang == "zh" or unit == "%" else " "
        return f"{self.comparator}{value}{sep}{unit}"


class Project(Model):
    code: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    header: Header
    budget_lines: list[BudgetLine] = Field(min_length=1)
    previous_year: PreviousYear | None = None  # filled from the closed year when absent
    rows: list[Row] = Field(min_length=1)

    @property
    def budget_cny(self) -> Decimal:
        return sum((line.amount_cny for line in self.budget_lines), Decimal("0.00"))

    def line(self, code: str) -> BudgetLine:
        for line in self.budget_lines:
            if line.code == code:
                return line
        valid = ", ".join(line.code for line in self.budget_lines)
        raise ValueError(f"project {self.code} has no budget line {code!r}; lines: {valid}")


class TargetsYear(Model):
    year: int = Field(ge=2000, le=2100)
    projects: list[Project] = Field(min_length=1)


@dataclass(frozen=True, order=True)
class TargetsError:
    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass
class TargetsSet:
    """Every year's tables found at a path; `errors` is empty when all are usable."""

    root: str
    years: dict[int, TargetsYear] = field(default_factory=dict)
    errors: list[TargetsError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def project(self, year: int, code: str | None = None) -> Project:
        found = self.years.get(year)
        if found is None:
            have = ", ".join(str(y) for y in sorted(self.years)) or "none"
            raise ValueError(f"no targets table for {year} in {self.root} (years: {have})")
        if code is None:
            return found.projects[0]
        for project in found.projects:
            if project.code == code:
                return project
        valid = ", ".join(p.code for p in found.projects)
        raise ValueError(f"no project {code!r} in the {year} targets; projects: {valid}")


def _message(error: Any) -> str:
    # The inventory's wording for pydantic errors, so both files read alike; a whole entry's
    # rule (a model validator) is named by its path rather than by a bare list index.
    from inventory.validate import _pydantic_message

    loc = list(error["loc"])
    if loc and isinstance(loc[-1], int) and error["type"] == "value_error":
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        return f"{path}: {str(error['msg']).removeprefix('Value error, ')}"
    return _pydantic_message(error)


def _files(path: Path) -> Iterable[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_targets(path: Path) -> TargetsSet:
    """Read and check a targets file or directory; problems land in `.errors`."""
    found = TargetsSet(root=str(path))
    if not path.exists():
        found.errors.append(TargetsError(Location(str(path), 0), "no such file or directory"))
        return found
    for file in _files(path):
        shown = str(file)
        try:
            raw = load_yaml(file, shown)
        except SourceError as exc:
            found.errors.append(TargetsError(exc.location, exc.message))
            continue
        top = Location(shown, 1)
        if not isinstance(raw, LineDict):
            found.errors.append(TargetsError(top, "expected a mapping with year and projects"))
            continue
        try:
            year = TargetsYear.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                where_path = tuple(err["loc"])
                if err["type"] == "missing":
                    where_path = where_path[:-1]
                where = location_of(raw, where_path, top)
                found.errors.append(TargetsError(where, _message(err)))
            continue
        codes: set[str] = set()
        for index, project in enumerate(year.projects):
            where = location_of(raw, ("projects", index, "code"), top)
            if project.code in codes:
                found.errors.append(TargetsError(where, f"duplicate project {project.code!r}"))
            codes.add(project.code)
            lines = [line.code for line in project.budget_lines]
            for dup in {c for c in lines if lines.count(c) > 1}:
                found.errors.append(
                    TargetsError(where, f"project {project.code}: duplicate line {dup!r}")
                )
            if project.header.planned_start.year != year.year:
                found.errors.append(
                    TargetsError(
                        location_of(raw, ("projects", index, "header", "planned_start"), top),
                        f"project {project.code}: planned_start is not in {year.year}",
                    )
                )
        if year.year in found.years:
            found.errors.append(
                TargetsError(location_of(raw, ("year",), top), f"a second table for {year.year}")
            )
            continue
        found.years[year.year] = year
    found.errors.sort()
    return found


def planned_dates(project: Project) -> tuple[dt.date, dt.date]:
    return project.header.planned_start, project.header.planned_end
