"""The performance-target table laid out as the official form, in Chinese or English.

Every surface renders the same document (:func:`targets.report.targets_report`): the header
block, then the rows with 指标目标值, 实际完成值 and 是否达成. Text from the targets file and
from records is data: Rich renderables are built from ``Text``, never from markup.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

LABELS: Final[dict[str, tuple[str, str]]] = {
    "title": ("财政项目支出绩效目标表", "Performance-target table of a fiscal project"),
    "year": ("年度", "Year"),
    "period": ("期间", "Period"),
    "applicant": ("申报单位名称", "Applicant"),
    "project_name": ("项目名称", "Project"),
    "category": ("项目类别", "Project category"),
    "performance_type": ("绩效类型", "Performance type"),
    "planned_start": ("计划开始日期", "Planned start"),
    "planned_end": ("计划完成日期", "Planned end"),
    "government_procurement": ("是否含有政府购买服务", "Includes government-purchased services"),
    "overview": ("项目概况", "Overview"),
    "goal": ("总目标", "Overall goal"),
    "total_budget": ("项目总预算（元）", "Total budget (yuan)"),
    "previous_budget": ("同名项目上年预算额（元）", "Previous year's budget (yuan)"),
    "previous_executed": ("上年预算执行数（元）", "Previous year's execution (yuan)"),
    "level1": ("一级目标", "Level 1"),
    "level2": ("二级目标", "Level 2"),
    "level3": ("三级目标", "Indicator"),
    "target": ("指标目标值", "Target"),
    "actual": ("实际完成值", "Actual"),
    "achieved": ("是否达成", "Achieved"),
    "definition": ("指标定义", "Definition"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "unknown": ("—", "—"),
    "hidden": ("（无权查看）", "(not visible to you)"),
    "closed": ("已于年末冻结，摘要", "Frozen at year end, digest"),
    "line": ("预算项目", "Budget line"),
    "amount": ("预算（元）", "Budget (yuan)"),
    "executed": ("已执行（元）", "Executed (yuan)"),
    "evidence": ("证据", "Evidence"),
}


def label(key: str, lang: str) -> str:
    zh, en = LABELS[key]
    return zh if lang == "zh" else en


def _pick(value: dict[str, str] | None, lang: str) -> str:
    if value is None:
        return ""
    return value["zh"] if lang == "zh" else value["en"]


def _yuan(text: str | None) -> str:
    return "—" if text is None else f"{Decimal(text):,.2f}"


def _achieved(row: dict[str, Any], lang: str) -> str:
    if row["actual"] is None:
        return ""
    value = row["achieved"]
    return label("unknown" if value is None else ("yes" if value else "no"), lang)


def header_pairs(document: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    header = document["header"]
    pairs = [
        (label(k, lang), _pick(header[k], lang))
        for k in ("applicant", "project_name", "category", "performance_type")
    ]
    pairs += [
        (label("planned_start", lang), header["planned_start"]),
        (label("planned_end", lang), header["planned_end"]),
        (
            label("government_procurement", lang),
            label("yes" if header["government_procurement"] else "no", lang),
        ),
        (label("overview", lang), _pick(header["overview"], lang)),
        (label("goal", lang), _pick(header["goal"], lang)),
    ]
    budget = document.get("budget")
    if budget is not None:
        previous = budget["previous_year"] or {}
        pairs += [
            (label("total_budget", lang), _yuan(budget["total_cny"])),
            (label("previous_budget", lang), _yuan(previous.get("budget_cny"))),
            (label("previous_executed", lang), _yuan(previous.get("executed_cny"))),
        ]
    return pairs


def row_cells(row: dict[str, Any], lang: str) -> list[str]:
    actual = _pick(row["actual"], lang) if row["actual"] is not None else label("hidden", lang)
    return [
        _pick(row["level1"], lang),
        _pick(row["level2"], lang),
        _pick(row["level3"], lang),
        _pick(row["target"], lang),
        actual,
        _achieved(row, lang),
    ]


COLUMNS: Final = ("level1", "level2", "level3", "target", "actual", "achieved")


def title(document: dict[str, Any], lang: str) -> str:
    period = document["period"]["label"]
    suffix = f"（{period}）" if lang == "zh" else f" ({period})"
    return label("title", lang) + suffix


def as_rich(document: dict[str, Any], lang: str, *, definitions: bool = True) -> RenderableType:
    head = Table(title=Text(title(document, lang)), show_header=False, box=None, padding=(0, 1))
    head.add_column(no_wrap=True, style="bold")
    head.add_column(overflow="fold")
    for name, value in header_pairs(document, lang):
        head.add_row(Text(name), Text(value))
    rows = Table(show_lines=True)
    for key in COLUMNS:
        rows.add_column(
            Text(label(key, lang)), no_wrap=key in ("target", "achieved"), overflow="fold"
        )
    for row in document["rows"]:
        rows.add_row(*(Text(c) for c in row_cells(row, lang)))
    parts: list[RenderableType] = [head, rows]
    if definitions:
        notes = Text()
        for row in document["rows"]:
            notes.append(f"{row['n']}. {_pick(row['level3'], lang)}: ", style="bold")
            notes.append(_pick(row["definition"], lang) + "\n")
        parts.append(notes)
    if document.get("closed"):
        closed = document["closed"]
        parts.append(Text(f"{label('closed', lang)} {closed['digest']}"))
    return Group(*parts)


def as_markdown(document: dict[str, Any], lang: str) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"# {title(document, lang)}", ""]
    lines += [f"- **{cell(k)}**: {cell(v)}" for k, v in header_pairs(document, lang)]
    lines += ["", "| " + " | ".join(label(k, lang) for k in COLUMNS) + " |"]
    lines.append("|" + "---|" * len(COLUMNS))
    for row in document["rows"]:
        lines.append("| " + " | ".join(cell(c) for c in row_cells(row, lang)) + " |")
    lines += ["", f"**{label('definition', lang)}**", ""]
    for row in document["rows"]:
        lines.append(f"{row['n']}. {cell(_pick(row['level3'], lang))}: "
                     f"{cell(_pick(row['definition'], lang))}")  # fmt: skip
    if document.get("closed"):
        lines += ["", f"{label('closed', lang)} `{document['closed']['digest']}`"]
    return "\n".join(lines) + "\n"


def as_csv(document: dict[str, Any], lang: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for name, value in header_pairs(document, lang):
        writer.writerow([name, value])
    writer.writerow([])
    writer.writerow([label(k, lang) for k in COLUMNS] + [label("definition", lang)])
    for row in document["rows"]:
        writer.writerow([*row_cells(row, lang), _pick(row["definition"], lang)])
    return buffer.getvalue()


def as_json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2)


# Column widths in Excel's character units: the form's proportions.
XLSX_WIDTHS: Final = {"A": 14, "B": 14, "C": 22, "D": 16, "E": 60, "F": 10}


def write_xlsx(document: dict[str, Any], lang: str, path: Path) -> None:
    """The form as a workbook: title and header block in merged cells, then the rows, with
    consecutive equal level-1/level-2 cells merged as the filing has them."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    book = Workbook()
    sheet = book.active
    if sheet is None:  # pragma: no cover - a new workbook always has a sheet
        raise RuntimeError("openpyxl created a workbook without a sheet")
    sheet.title = str(document["year"])
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="center")
    centre = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for letter, width in XLSX_WIDTHS.items():
        sheet.column_dimensions[letter].width = width
    sheet["A1"] = title(document, lang)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = centre
    sheet.merge_cells("A1:F1")
    line = 2
    for name, value in header_pairs(document, lang):
        sheet.cell(line, 1, name).font = Font(bold=True)
        sheet.cell(line, 2, value)
        sheet.merge_cells(start_row=line, start_column=2, end_row=line, end_column=6)
        for column in range(1, 7):
            sheet.cell(line, column).border = box
            sheet.cell(line, column).alignment = wrap
        line += 1
    for column, key in enumerate(COLUMNS, start=1):
        cell = sheet.cell(line, column, label(key, lang))
        cell.font = Font(bold=True)
        cell.alignment = centre
        cell.border = box
    line += 1
    first_row = line
    for row in document["rows"]:
        for column, value in enumerate(row_cells(row, lang), start=1):
            cell = sheet.cell(line, column, value)
            cell.alignment = wrap if column == 5 else centre
            cell.border = box
        line += 1
    for column in (1, 2):
        start = first_row
        for current in range(first_row + 1, line + 1):
            same = current < line and (
                sheet.cell(current, column).value == sheet.cell(start, column).value
                and (column == 1 or sheet.cell(current, 1).value == sheet.cell(start, 1).value)
            )
            if not same:
                if current - 1 > start:
                    sheet.merge_cells(
                        start_row=start, start_column=column, end_row=current - 1, end_column=column
                    )
                start = current
    book.save(path)
