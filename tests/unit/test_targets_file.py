"""The targets file: the example's table as the 2020 filing reads, several projects a year, and
every mistake named by file and line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from targets.document import EXAMPLE_TARGETS, Metric, load_targets

SOURCE = (EXAMPLE_TARGETS / "targets-2026.yaml").read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str, name: str = "targets-2026.yaml") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path / name


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_example_is_the_2020_form_for_this_year() -> None:
    found = load_targets(EXAMPLE_TARGETS)
    assert found.ok, found.errors
    project = found.project(2026)
    header = project.header
    assert header.applicant.zh == "上海市网络与信息安全应急管理事务中心"
    assert (header.project_name.zh, header.category.zh, header.performance_type.zh) == (
        "网络交换平台机房运营费", "经常性专项业务费", "其他类",
    )  # fmt: skip
    assert (str(header.planned_start), str(header.planned_end)) == ("2026-01-01", "2026-12-31")
    assert header.government_procurement is False
    amounts = [line.amount_cny for line in project.budget_lines]
    assert amounts == [Decimal("131230.00"), Decimal("281220.00"), Decimal("141420.00")]
    assert project.budget_cny == Decimal("553870.00")
    # Each line rounds to the filed 万元 figure.
    assert [round(a / 10000, 2) for a in amounts] == [
        Decimal("13.12"), Decimal("28.12"), Decimal("14.14"),
    ]  # fmt: skip
    assert project.previous_year is not None
    assert project.previous_year.budget_cny == Decimal("681928.00")
    assert [r.metric for r in project.rows] == list(Metric)
    assert [
        (r.level1.zh, r.level2.zh, r.level3.zh, r.target_shown("zh")) for r in project.rows
    ] == [
        ("投入与管理", "投入管理", "预算执行率", "=100%"),
        ("产出目标", "数量", "硬件维护台数", "40台"),
        ("产出目标", "质量", "平台交换线路", "稳定"),
        ("产出目标", "时效", "系统故障响应时间", "<=4小时"),
        ("效果目标", "满意度", "接入对象满意度", ">=90%"),
        ("影响力目标", "长效管理", "设备巡检规范性", "完善"),
    ]
    tariff = project.line("electricity").tariff
    assert tariff is not None
    assert [tariff.band_at(m).period for m in (0, 6 * 60, 8 * 60, 12 * 60, 13 * 60, 22 * 60)] == [
        "valley", "flat", "peak", "flat", "peak", "valley",
    ]  # fmt: skip


def test_several_projects_in_one_year(tmp_path: Path) -> None:
    body = SOURCE.split("projects:\n", 1)[1]
    second = body.replace("code: ix-room-ops", "code: dr-site", 1)
    _write(tmp_path, SOURCE + second)
    found = load_targets(tmp_path)
    assert found.ok, found.errors
    assert found.project(2026).code == "ix-room-ops"
    assert found.project(2026, "dr-site").code == "dr-site"
    with pytest.raises(ValueError, match="no project 'nope' in the 2026 targets; projects: "
                                         "ix-room-ops, dr-site"):  # fmt: skip
        found.project(2026, "nope")
    with pytest.raises(ValueError, match=r"no targets table for 2031 .* \(years: 2026\)"):
        found.project(2031)


@pytest.mark.parametrize(
    ("change", "needle", "message"),
    [
        (("amount_cny: 281220", "amount_cny: -5"), "amount_cny: -5",
         "amount_cny: -5 is not a non-negative amount of yuan"),
        (('hours: ["00:00-06:00", "22:00-24:00"]', 'hours: ["00:00-06:00"]'), "tariff:",
         "22:00 is covered 0 times"),
        (("comparator: \">=\"\n        target: 40", "comparator: is\n        target: 40"),
         "- level1: {zh: 产出目标", "projects[0].rows[1]: comparator 'is' takes a word"),
        (("metric: link_stability", "metric: link_stabilty"), "link_stabilty", "metric:"),
        (("planned_start: 2026-01-01", "planned_start: 2025-01-01"), "planned_start",
         "planned_start is not in 2026"),
        (("      category:\n", "      categroy:\n"), "categroy", "unknown field 'categroy'"),
    ],
)  # fmt: skip
def test_a_mistake_is_named_by_file_and_line(
    tmp_path: Path, change: tuple[str, str], needle: str, message: str
) -> None:
    text = SOURCE.replace(*change, 1)
    assert text != SOURCE
    path = _write(tmp_path, text)
    found = load_targets(tmp_path)
    assert not found.ok
    where = f"{path}:{_line(text, needle)}: "
    assert any(str(e).startswith(where) and message in str(e) for e in found.errors), found.errors


def test_the_settings_name_the_same_example_tables() -> None:
    from ixops.settings import EXAMPLE_TARGETS as SETTINGS_TARGETS

    assert SETTINGS_TARGETS == EXAMPLE_TARGETS
