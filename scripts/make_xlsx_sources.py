"""Remake the XLSX source tables in sources/ (tables that arrive as Excel workbooks with merged headers).

Run from the project root:  python scripts/make_xlsx_sources.py

sources/fig14_compute_services.xlsx: the seed's figure 14 (2022 compute services in China by provider type and
provider; source 财经十一人, via the KPMG 2023 seed, section 04). One sheet per measure, each with a merged
two-row header as the table arrives:

    年份 | 算力提供方式 | 算力提供方 | 服务器数量（万台）   | 备注
         |             |           | 数值      | 状态     |

`年份`, `算力提供方式`, `算力提供方` and `备注` are merged over both header rows; `服务器数量（万台）` spans the
value and status sub-headers. The pipeline flattens this to `服务器数量（万台）|数值` etc.; the manifest entries
(fig14_compute_servers / fig14_compute_racks, `header_rows: 2`) map those headers to roles. Ranges such as
"200-300" and approximations such as "约100" stay as the original text; an empty cell means the seed gives no
number (the row is skipped, never invented). 算力提供方 resolves to the segment codes `new_it.*`, `cloud.*`,
`network.*` through the aliases in labels.csv.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "sources" / "fig14_compute_services.xlsx"
YEAR = 2022
FIXED_TIME = dt.datetime(2023, 7, 1)

# (provider type, provider as printed, servers 万台, racks 万个, note on the servers sheet)
ROWS: list[tuple[str, str, str | None, str | None, str | None]] = [
    ("新IT服务", "算力设备等IT服务商", None, None, "原表仅给出三类新IT服务商合计（见“新IT服务合计”行）"),
    ("新IT服务", "数据中心服务商", None, None, "原表仅给出三类新IT服务商合计（见“新IT服务合计”行）"),
    ("新IT服务", "地方大数据产业园", None, None, "原表仅给出三类新IT服务商合计（见“新IT服务合计”行）"),
    ("新IT服务", "新IT服务合计", "约200", None, "原文“合计约200”：上述三类服务商合计"),
    ("云计算服务", "阿里云", "200-300", None, None),
    ("云计算服务", "腾讯云", "100-200", None, None),
    ("云计算服务", "字节跳动", "约100", None, None),
    ("云计算服务", "百度", "60-80", None, None),
    ("云计算服务", "华为云", "约100", None, None),
    ("算力网络服务", "中国移动", "71", "46.7", None),
    ("算力网络服务", "中国电信", "100-200", "51.3", None),
    ("算力网络服务", "中国联通", "约50", "36.3", None),
]

SHEETS = (("服务器", "服务器数量（万台）", 2), ("机架", "机架数量（万个）", 3))
STATUS = "solid"
HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")


def number_or_text(value: str | None) -> float | int | str | None:
    """Plain numbers go in as numbers (as an analyst's workbook would hold them); ranges and 约 stay text."""
    if value is None:
        return None
    try:
        f = float(value)
    except ValueError:
        return value
    return int(f) if f.is_integer() else f


def build() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, measure, idx in SHEETS:
        ws = wb.create_sheet(title)
        ws.append(["年份", "算力提供方式", "算力提供方", measure, None, "备注"])
        ws.append([None, None, None, "数值", "状态", None])
        for col in ("A", "B", "C", "F"):
            ws.merge_cells(f"{col}1:{col}2")
        ws.merge_cells("D1:E1")
        for row in ws.iter_rows(min_row=1, max_row=2):
            for cell in row:
                cell.font = Font(bold=True)
                cell.fill = HEADER_FILL
                cell.alignment = Alignment(horizontal="center", vertical="center")
        for kind, provider, *values, note in ROWS:
            value = number_or_text(values[idx - 2])
            if idx == 3:  # racks: the seed gives rack counts for the three telecom operators only
                note = None if value is not None else "原表未给出机架数量"
            ws.append([YEAR, kind, provider, value, STATUS if value is not None else None, note])
        for col, width in zip("ABCDEF", (8, 14, 20, 12, 10, 48), strict=True):
            ws.column_dimensions[col].width = width
        ws.freeze_panes = "A3"
    wb.properties.creator = "compute-report analysts"
    wb.properties.title = "图14 | 2022年中国三类算力服务规模现状（资料来源：财经十一人，毕马威分析）"
    wb.properties.created = FIXED_TIME
    return wb


def main() -> None:
    wb = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    wb.save(OUT)
    print(f"wrote {OUT.relative_to(ROOT)} (sheets: {', '.join(wb.sheetnames)})")


if __name__ == "__main__":
    main()
