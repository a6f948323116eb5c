"""Build the .xlsx templates in templates/xlsx/ (run: python tools/make_xlsx_templates.py).

The files it writes are ordinary workbooks: a clerk may open one in Excel or WPS and reword
titles, labels and notes or change fonts. The tag syntax is described at the top of
generator/render/xlsx.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, Side
from openpyxl.worksheet.worksheet import Worksheet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.documents.budget_sheet import (  # noqa: E402
    BUDGET_COLUMNS,
    STYLE_CENTER,
    STYLE_HEAD,
    STYLE_MONEY,
    STYLE_NOTE,
    STYLE_PERCENT,
    STYLE_SECTION,
    STYLE_TEXT,
    STYLE_TITLE,
)
from generator.render.xlsx import save_workbook  # noqa: E402

OUT = ROOT / "templates" / "xlsx"
MM = 1 / 25.4
"""Page margins are set in inches."""

_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_BODY = "仿宋"
_HEAD = "宋体"
MONEY_FORMAT = "#,##0.00_ "
"""Two decimals with thousands separators; the trailing `_ ` keeps digits off the right border."""


def _styles() -> list[NamedStyle]:
    """The named styles render_xlsx applies to the rows it adds, so they match the template."""
    table = {  # name: (font, size, bold, horizontal alignment, bordered, number format)
        STYLE_TITLE: (_HEAD, 16, True, "center", False, "General"),
        STYLE_NOTE: (_BODY, 11, False, "left", False, "General"),
        STYLE_SECTION: (_HEAD, 12, True, "left", False, "General"),
        STYLE_HEAD: (_HEAD, 10.5, True, "center", True, "General"),
        STYLE_TEXT: (_BODY, 10.5, False, "left", True, "General"),
        STYLE_CENTER: (_BODY, 10.5, False, "center", True, "General"),
        STYLE_MONEY: (_BODY, 10.5, False, "right", True, MONEY_FORMAT),
        STYLE_PERCENT: (_BODY, 10.5, False, "right", True, "0.00%_ "),
    }
    return [
        NamedStyle(
            name=name,
            font=Font(name=font, size=size, bold=bold),
            # indent: text in a bordered cell should not touch the left line
            alignment=Alignment(horizontal=align, vertical="center", wrap_text=True,
                                indent=1 if align == "left" and boxed else 0),
            border=_BOX if boxed else Border(),
            number_format=fmt,
        )
        for name, (font, size, bold, align, boxed, fmt) in table.items()
    ]


# Column headers and widths (in characters) of the line items, in BUDGET_COLUMNS order.
HEADERS = {
    "no": ("序号", 5),
    "category": ("类别", 12),
    "item": ("改造项目", 12),
    "description": ("工程内容", 30),
    "quantity": ("数量", 9),
    "unit": ("单位", 6),
    "unit_price": ("单价（元）", 11),
    "amount": ("金额（元）", 14),
    "before_meter": ("其中：\n表（箱）前（元）", 14),
    "after_meter": ("其中：\n表（箱）后（元）", 14),
    "rule": ("资金渠道", 13),
}

# The repeating row: every field a tag, except the amount, which is a live formula.
HEADER_ROW = 5
LINE_ROW = HEADER_ROW + 1
_c = BUDGET_COLUMNS
LINE = {
    "no": "{%tr for line in items %}{{ line.no }}",
    "category": "{{ line.category }}",
    "item": "{{ line.item }}",
    "description": "{{ line.description }}",
    "quantity": "{{ line.quantity }}",
    "unit": "{{ line.unit }}",
    "unit_price": "{{ line.unit_price }}",
    "amount": f"=ROUND({_c['quantity']}{LINE_ROW}*{_c['unit_price']}{LINE_ROW},2)",
    "before_meter": "{{ line.before_meter }}",
    "after_meter": "{{ line.after_meter }}",
    "rule": "{{ line.rule_name }}",
}
LINE_STYLE = {"no": STYLE_CENTER, "category": STYLE_CENTER, "item": STYLE_CENTER,
              "quantity": STYLE_MONEY, "unit": STYLE_CENTER, "unit_price": STYLE_MONEY,
              "amount": STYLE_MONEY, "before_meter": STYLE_MONEY, "after_meter": STYLE_MONEY,
              "rule": STYLE_CENTER}

NOTES = (
    "说明：1. 金额单位为元，保留两位小数；金额＝数量×单价，四舍五入到分。"
    "2. 一般项目及公共服务设施扣除{{ programme.parties.maintenance_fund }}和"
    "{{ programme.parties.social_capital }}后，由{{ programme.parties.city }}、"
    "{{ programme.parties.district }}、{{ programme.parties.residents }}按"
    "{{ programme.general_ratio }}分担；水、电、气、通讯管线表（箱）前段由"
    "{{ programme.parties.utility }}与{{ programme.parties.district }}按"
    "{{ programme.pipeline_ratio }}分担，表（箱）后段由{{ programme.parties.residents }}承担。"
    "3. 各方金额按比例计算到分，尾差由表中注明的一方承担，各方合计等于工程预算总额。"
    "4. {{ basis.note }}"
)


def _put(ws: Worksheet, coord: str, value: str, style: str, merge_to: str = "") -> None:
    ws[coord] = value
    ws[coord].style = style
    if merge_to:
        for row in ws[f"{coord}:{merge_to}"]:
            for cell in row:
                cell.style = style  # every cell of a merge, or Excel drops part of the border
        ws.merge_cells(f"{coord}:{merge_to}")


def build_budget() -> bytes:
    """templates/xlsx/budget.xlsx: one community's 工程预算及资金筹集表."""
    wb = Workbook()
    for named in _styles():
        wb.add_named_style(named)
    ws = wb.active
    assert ws is not None
    ws.title = "工程预算及资金筹集表"
    last = list(BUDGET_COLUMNS.values())[-1]
    for key, letter in BUDGET_COLUMNS.items():
        ws.column_dimensions[letter].width = HEADERS[key][1]

    title = "{{ community.name }}老旧小区改造工程预算及资金筹集表"
    _put(ws, "A1", title, STYLE_TITLE, f"{last}1")
    ws.row_dimensions[1].height = 30
    _put(ws, "A2", "县（区）：{{ district.name }}　　街道办事处：{{ street_office }}　　"
                   "社区：{{ community_committee }}", STYLE_NOTE, "H2")
    _put(ws, "I2", "{{ mark }}", STYLE_NOTE, f"{last}2")
    ws["I2"].alignment = Alignment(horizontal="right", vertical="center")
    _put(ws, "A3", "户数：{{ community.households }}户　　建成时间：{{ community.built }}　　"
                   "计划投资：{{ community.investment_wan|wan }}万元　　"
                   "改造年度：{{ community.year }}年", STYLE_NOTE, "H3")
    _put(ws, "I3", "金额单位：元", STYLE_NOTE, f"{last}3")
    ws["I3"].alignment = Alignment(horizontal="right", vertical="center")
    _put(ws, "A4", "一、工程预算明细", STYLE_SECTION, f"{last}4")
    ws.row_dimensions[4].height = 20
    for key, letter in BUDGET_COLUMNS.items():
        _put(ws, f"{letter}{HEADER_ROW}", HEADERS[key][0], STYLE_HEAD)
        _put(ws, f"{letter}{LINE_ROW}", LINE[key], LINE_STYLE.get(key, STYLE_TEXT))
    ws.row_dimensions[HEADER_ROW].height = 32
    ws[f"{_c['quantity']}{LINE_ROW}"].number_format = "General"  # 120.5 m², 3 个

    # The program replaces this row with the total, the subtotals and the funding split.
    block = LINE_ROW + 1
    _put(ws, f"A{block}", "{%tr budget_summary %}", STYLE_NOTE)
    _put(ws, f"B{block}", "（本行由程序换成合计、分类汇总和资金筹集各表，均为公式；请勿删除）",
         STYLE_NOTE, f"{last}{block}")
    row = block  # the amount in 大写 is a formula of the block, under the total
    # Which rule each line follows is column K; here how the shares come out.
    _put(ws, f"A{row + 1}", "各方金额计算：{{ funding_derivation }}", STYLE_NOTE,
         f"{last}{row + 1}")
    ws.row_dimensions[row + 1].height = 80
    _put(ws, f"A{row + 2}", NOTES, STYLE_NOTE, f"{last}{row + 2}")
    ws.row_dimensions[row + 2].height = 40
    sign = row + 3
    _put(ws, f"A{sign}", "编制单位（盖章）：{{ street_office }}", STYLE_NOTE, f"D{sign}")
    _put(ws, f"E{sign}", "编制人：", STYLE_NOTE, f"G{sign}")
    _put(ws, f"H{sign}", "审核人：", STYLE_NOTE, f"I{sign}")
    _put(ws, f"J{sign}", "日期：{{ dates.plan|cn_date }}", STYLE_NOTE, f"{last}{sign}")
    ws.row_dimensions[sign].height = 26

    # Columns M:N hold the clerk's checks beside the totals, outside the print area.
    _put(ws, f"M{HEADER_ROW}", "校核（M、N 两列不打印）", STYLE_HEAD, f"N{HEADER_ROW}")
    ws.print_area = f"A1:{last}1048576"
    ws.column_dimensions["M"].width = 40
    ws.column_dimensions["N"].width = 14
    ws.freeze_panes = f"A{LINE_ROW}"
    ws.sheet_view.showGridLines = False
    # Every page repeats the title and the community facts: the funding page is signed alone.
    ws.print_title_rows = "1:3"
    setup = ws.page_setup
    setup.paperSize = ws.PAPERSIZE_A4
    setup.orientation = ws.ORIENTATION_LANDSCAPE
    setup.fitToWidth = 1
    setup.fitToHeight = 0  # as many pages as it takes, one page wide
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    m = ws.page_margins
    m.left, m.right, m.top, m.bottom = 28 * MM, 26 * MM, 15 * MM, 15 * MM
    m.header, m.footer = 8 * MM, 8 * MM
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.oddFooter.center.font = _HEAD
    return save_workbook(wb)


TEMPLATES = {"budget.xlsx": build_budget}
"""Every .xlsx template this tool builds, by file name."""


def main() -> None:
    """Write every template into templates/xlsx/."""
    OUT.mkdir(parents=True, exist_ok=True)
    for name, build in TEMPLATES.items():
        (OUT / name).write_bytes(build())
        print(OUT / name)


if __name__ == "__main__":
    main()
