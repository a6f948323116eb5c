"""The 工程预算及资金筹集表: template tags, live formulas, text safety, LibreOffice recompute."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from generator.data.loader import BUNDLED_DATA, DataSet, load
from generator.documents.budget_sheet import BUDGET_BLOCKS
from generator.documents.project import party_names, project_context
from generator.errors import TemplateError
from generator.render.filters import daxie, q2
from generator.render.xlsx import render_workbook
from generator.rules.checks import check_all
from generator.rules.funding import PARTIES, Funding, plan_funding

D = Decimal
TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "xlsx" / "budget.xlsx"
COMMUNITY = "dongqu-01"  # 炳草岗园林苗圃小区, 300 户
FIRST = 6  # the template's repeating row: the first line item lands here

# 80/20 of 100.01 and of 98765.43 both leave a remainder; the general base 79726.83 splits
# 5:4:1 into 39863.415 (half a 分, rounds up), 31890.732 and 7972.683: the district takes
# the rest. 120.5 × 85.33 = 10282.265 rounds half up too.
LINES: list[dict[str, Any]] = [
    {"item": "供水", "description": "更换供水主管，一户一表", "quantity": 1, "unit": "项",
     "unit_price": D("150.01"), "amount": D("150.01"),
     "before_meter": D("100.01"), "after_meter": D("50.00")},
    {"item": "供电", "description": "供电增容改造", "quantity": 2, "unit": "项",
     "unit_price": D("61728.37"), "amount": D("123456.74"),
     "before_meter": D("98765.43"), "after_meter": D("24691.31")},
    {"item": "道路", "description": "小区外道路铺设", "quantity": D("120.5"), "unit": "m²",
     "unit_price": D("85.33"), "amount": D("10282.27")},
    {"item": "楼道修缮", "description": "楼道粉刷，扶手更新", "quantity": 37, "unit": "个",
     "unit_price": D("1234.57"), "amount": D("45679.09")},
    {"item": "公共服务设施", "description": "社区卫生服务站", "quantity": 1, "unit": "处",
     "unit_price": D("30000.03"), "amount": D("30000.03")},
]
# rules.FUND-METER asks every gas line for its meter parts, even where they are not split.
GAS = {"item": "供气", "description": "户外煤气设施维修", "quantity": 3, "unit": "处",
       "unit_price": D("333.39"), "amount": D("1000.17"),
       "before_meter": D("600.10"), "after_meter": D("400.07")}

CASES: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
    "default": ({}, {"other_funding": {"maintenance_fund": D("1234.56"),
                                       "social_capital": D("5000.00")}}),
    # Other remainder parties and another ratio (base 86961.56: 6/10 and 3/10 leave a remainder),
    # and a gas line in the city gas company's area, which counts as a general item.
    "switched": (
        {"  remainder_to: district\n\n# 方案六：水": "  remainder_to: city\n\n# 方案六：水",
         "  remainder_to: district\n  excluded": "  remainder_to: utility\n  excluded",
         "  city: 5\n  district: 4\n  residents: 1": "  city: 6\n  district: 3\n  residents: 1"},
        {"in_gas_company_area": True, "items": [*LINES, GAS]},
    ),
}

CHECK_LABEL = "校核：各方合计减工程预算总额（应为0.00，本列不打印）"
"""The clerk's check right of the print area, as the built-in template words it."""


class _Dumper(yaml.SafeDumper):
    """Writes Decimal as a plain YAML number, which the project's loader reads back exactly."""


_Dumper.add_representer(
    Decimal, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:float", str(value))
)


def make_data(tmp_path: Path, project: dict[str, Any], programme_edit: dict[str, str]) -> DataSet:
    """A data folder in tmp_path: the bundled programme files plus one project."""
    root = tmp_path / "data"
    (root / "projects").mkdir(parents=True)
    for name in ("programme.yaml", "districts.yaml", "catalogue.yaml", "communities.yaml"):
        shutil.copy(BUNDLED_DATA / name, root / name)
    programme = (root / "programme.yaml").read_text(encoding="utf-8")
    for old, new in programme_edit.items():
        assert old in programme
        programme = programme.replace(old, new, 1)
    (root / "programme.yaml").write_text(programme, encoding="utf-8")
    project = {"community": COMMUNITY, "illustrative": True, "stage": "plan",
               "street_office": "炳草岗街道办事处", "community_committee": "苗圃社区居民委员会",
               "items": LINES, **project}
    text = yaml.dump(project, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
    (root / "projects" / f"{COMMUNITY}.yaml").write_text(text, encoding="utf-8")
    return load(root)


def case_data(tmp_path: Path, case: str) -> DataSet:
    programme_edit, project = CASES[case]
    return make_data(tmp_path, project, programme_edit)


def budget_context(data: DataSet) -> dict[str, Any]:
    """project_context plus the split rules render_budget needs (not yet in contexts.py)."""
    ctx = project_context(data, data.projects[COMMUNITY])
    ctx["programme"].setdefault("general_split", data.programme.general_split.model_dump())
    ctx["programme"].setdefault("pipeline_split", data.programme.pipeline_split.model_dump())
    return ctx


def funding_of(data: DataSet) -> Funding:
    return plan_funding(data, data.projects[COMMUNITY], data.communities[COMMUNITY].households)


def sheet(data: bytes, values: bool = False) -> Worksheet:
    ws = load_workbook(io.BytesIO(data), data_only=values).worksheets[0]
    assert ws is not None
    return ws


@pytest.mark.parametrize("case", sorted(CASES))
def test_fixture_passes_the_budget_rules(tmp_path: Path, case: str) -> None:
    data = case_data(tmp_path, case)
    assert not [f for f in check_all(data)
                if f.severity == "error" and f.rule.startswith(("BUDGET", "FUND"))]


@pytest.mark.parametrize("case", sorted(CASES))
def test_workbook_opens_and_has_formulas(tmp_path: Path, case: str) -> None:
    data = case_data(tmp_path, case)
    rendered = render_workbook(TEMPLATE, budget_context(data), BUDGET_BLOCKS)
    ws = sheet(rendered)
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [t for t in texts if "{{" in t or "{%" in t]
    for i, line in enumerate(data.projects[COMMUNITY].items):
        row = FIRST + i
        assert ws[f"C{row}"].value == line.item
        assert ws[f"H{row}"].value == f"=ROUND(E{row}*G{row},2)"
        assert ws[f"H{row}"].data_type == "f"
    formulas = [t for t in texts if t.startswith("=")]
    assert any(f.startswith("=SUMIF(") for f in formulas)
    assert any(f.startswith("=ROUND(") and f.endswith("/100,2)") for f in formulas)
    assert any(f.startswith("=ROUND(") and f.endswith("/10,2)") for f in formulas)
    # The amount in 大写 is a formula, stored with the code's own spelling as its value.
    words = next(c for row in ws.iter_rows() for c in row
                 if isinstance(c.value, str) and "人民币大写" in c.value)
    assert words.data_type == "f" and "[DBNum2]" in words.value
    cached = sheet(rendered, values=True)[words.coordinate].value
    assert cached == f"工程预算总额（人民币大写）：{daxie(funding_of(data).total)}"
    assert ws.print_title_rows and str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
    assert len(ws.row_breaks.brk) == 1  # the funding plan starts its own page


def test_same_context_same_bytes(tmp_path: Path) -> None:
    data = case_data(tmp_path, "default")
    first = render_workbook(TEMPLATE, budget_context(data), BUDGET_BLOCKS)
    assert first == render_workbook(TEMPLATE, budget_context(data), BUDGET_BLOCKS)


def test_data_text_stays_text(tmp_path: Path) -> None:
    evil = ['=HYPERLINK("x")', "+1+1", "-2", "@SUM(A1)", "{{ 7*7 }}"]
    lines = [dict(LINES[2], description=text, unit=text) for text in evil]
    data = make_data(tmp_path, {"items": lines, "street_office": "=1+2"}, {})
    ctx = budget_context(data)
    ctx["community"]["name"] = '=HYPERLINK("x")'
    ctx["categories"][0]["name"] = "=0"
    ws = sheet(render_workbook(TEMPLATE, ctx, BUDGET_BLOCKS))
    for i, text in enumerate(evil):
        for col in "DF":
            cell = ws[f"{col}{FIRST + i}"]
            assert (cell.value, cell.data_type) == (text, "s")
    assert str(ws["A1"].value).startswith('=HYPERLINK("x")')
    assert ws["A1"].data_type == "s"
    subtotal = [c for c in ws["B"] if c.value == "=0"]  # the category's row under 分类汇总
    assert subtotal and subtotal[0].data_type == "s"


def test_missing_split_rules_are_named(tmp_path: Path) -> None:
    data = case_data(tmp_path, "default")
    ctx = project_context(data, data.projects[COMMUNITY])
    ctx["programme"].pop("general_split", None)
    with pytest.raises(TemplateError, match="programme.general_split"):
        render_workbook(TEMPLATE, ctx, BUDGET_BLOCKS)


@pytest.mark.parametrize("count", [0, 1, 3])
def test_repeating_row_moves_what_is_below(tmp_path: Path, count: int) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = "{{ title }}"
    ws["A2"], ws["B2"], ws["C2"] = "{%tr for x in xs %}{{ x.n }}", "{{ x.name }}", "=A2*2"
    ws["A3"] = "共{{ xs|length }}项"
    ws.merge_cells("A3:C3")
    ws.row_dimensions[3].height = 40
    template = tmp_path / "t.xlsx"
    wb.save(template)
    xs = [{"n": i + 1, "name": f"第{i + 1}项"} for i in range(count)]
    out = sheet(render_workbook(template, {"title": "标题", "xs": xs}))
    assert out["A1"].value == "标题"
    for i in range(count):
        assert (out[f"A{2 + i}"].value, out[f"B{2 + i}"].value) == (i + 1, f"第{i + 1}项")
        assert out[f"C{2 + i}"].value == f"=A{2 + i}*2"
    end = 2 + count
    assert out[f"A{end}"].value == f"共{count}项"
    assert [str(r) for r in out.merged_cells.ranges] == [f"A{end}:C{end}"]
    assert out.row_dimensions[end].height == 40


def test_what_the_template_holds_is_kept_around_the_repeating_row(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"], ws["B1"], ws["C1"], ws["D1"], ws["E1"] = "固定文字", 12.5, True, dt.date(2018, 5, 4), 0
    ws["A1"].font = Font(bold=True)
    ws["D1"].number_format = "yyyy-mm-dd"
    ws["A2"], ws["C2"] = "{%tr for x in xs %}{{ x.n }}", "{{ x.name }}"
    ws.merge_cells("A2:B2")  # a merge in the repeating row is repeated with it
    ws["A3"] = "表尾"
    ws.merge_cells("A3:A4")
    ws.row_breaks.append(Break(id=3))
    template = tmp_path / "t.xlsx"
    wb.save(template)
    out = sheet(render_workbook(template, {"xs": [{"n": 1, "name": "甲"}, {"n": 2, "name": "乙"}]}))
    assert [out[f"{c}1"].value for c in "ABCE"] == ["固定文字", 12.5, True, 0]
    assert out["D1"].value == dt.datetime(2018, 5, 4) and out["D1"].number_format == "yyyy-mm-dd"
    assert out["A1"].font.b
    assert (out["C2"].value, out["C3"].value, out["A4"].value) == ("甲", "乙", "表尾")
    assert sorted(str(r) for r in out.merged_cells.ranges) == ["A2:B2", "A3:B3", "A4:A5"]
    assert [b.id for b in out.row_breaks.brk] == [4]


@pytest.mark.parametrize("count", [0, 1, 2])
def test_a_merge_in_the_repeating_row_is_written_once_per_element(tmp_path: Path, count: int) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"], ws["C1"] = "{%tr for x in xs %}{{ x }}", "{{ x }}"
    ws.merge_cells("A1:B1")
    template = tmp_path / "t.xlsx"
    wb.save(template)
    rendered = render_workbook(template, {"xs": list(range(count))})
    # Read the XML itself: openpyxl would fold a range written twice, which Excel calls damage.
    xml = zipfile.ZipFile(io.BytesIO(rendered)).read("xl/worksheets/sheet1.xml").decode()
    assert re.findall(r'<mergeCell ref="([^"]+)"/>', xml) == [f"A{n}:B{n}" for n in range(1, count + 1)]


@pytest.mark.parametrize(("cell", "tag"), [
    ("A1", "{{ title.__class__ }}"),
    ("A1", "{{ title.__class__.__mro__ }}"),
    ("B2", "{{ x.__class__ }}"),
    ("B2", "{{ x.n.__class__.__base__ }}"),
    ("B2", "{{ x.__init__.__globals__ }}"),
])
def test_an_excel_template_cannot_reach_python_internals(tmp_path: Path, cell: str, tag: str) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"], ws["A2"], ws["B2"] = "{{ title }}", "{%tr for x in xs %}{{ x.n }}", "{{ x.n }}"
    ws[cell] = tag
    template = tmp_path / "t.xlsx"
    wb.save(template)
    with pytest.raises(TemplateError):
        render_workbook(template, {"title": "标题", "xs": [{"n": 1}]})


def test_a_missing_field_names_the_cell_and_the_line(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"], ws["B1"] = "{%tr for x in xs %}{{ x.n }}", "{{ x.nosuch }}"
    template = tmp_path / "t.xlsx"
    wb.save(template)
    with pytest.raises(TemplateError, match=r"t\.xlsx Sheet!B1（第2行数据）.*nosuch"):
        render_workbook(template, {"xs": [{"n": 1, "nosuch": 0}, {"n": 2}]})


def test_a_field_path_reads_as_jinja_reads_it(tmp_path: Path) -> None:
    """Plain field paths skip Jinja's render; what they print must not change."""
    class Record:
        name = "对象属性"

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"], ws["B1"], ws["C1"], ws["D1"] = "{{ d.k }}", "{{ r.name }}", "{{ none }}", "{{ d.gone }}"
    ws["E1"], ws["F1"], ws["G1"] = "{{ d.n }}", " {{ d.k }} ", "{{ d.empty }}"
    template = tmp_path / "t.xlsx"
    wb.save(template)
    context = {"d": {"k": "字典键", "n": D("1.50"), "gone": None, "empty": ""}, "r": Record()}
    out = sheet(render_workbook(template, context))
    assert [out[f"{c}1"].value for c in "ABCDEFG"] == [
        "字典键", "对象属性", None, None, 1.5, " 字典键 ", None]


# ---------------------------------------------------------------- LibreOffice


def recalculate(tmp_path: Path, workbook: bytes) -> Worksheet:
    """Open the workbook in headless LibreOffice, which computes every formula; read the results."""
    work = tmp_path / "lo"
    (work / "out").mkdir(parents=True)
    (work / "budget.xlsx").write_bytes(workbook)
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{work / 'profile'}", "--headless",
         "--convert-to", "xlsx", "--outdir", str(work / "out"), str(work / "budget.xlsx")],
        check=True, capture_output=True, timeout=180,
    )
    return sheet((work / "out" / "budget.xlsx").read_bytes(), values=True)


def money(value: Any) -> Decimal:
    assert isinstance(value, (int, float)), value
    return q2(Decimal(repr(value)))


def section(ws: Worksheet, title: str) -> dict[str, Any]:
    """Label (column B) → amount (column H) of the rows under the heading containing `title`."""
    rows: dict[str, Any] = {}
    inside = False
    for row in ws.iter_rows(max_col=8, values_only=True):
        a, b, h = row[0], row[1], row[7]
        if isinstance(a, str) and a[1:2] == "、":
            inside = title in a
        elif inside and isinstance(b, str) and not isinstance(h, str):
            rows[b] = h
    return rows


def assert_matches(ws: Worksheet, data: DataSet) -> None:
    """The recomputed workbook shows exactly the code's funding plan."""
    funding = funding_of(data)
    names = party_names(data, data.communities[COMMUNITY].district)
    by_party = section(ws, "资金来源汇总")
    for key in PARTIES:
        assert key in by_party or names[key] in by_party, key
    for key, amount in funding.by_party.items():
        assert money(by_party.get(names[key], 0)) == amount, key
    assert money(by_party["合计"]) == funding.total
    check = next(r for r in ws.iter_rows(values_only=True) if len(r) > 13 and r[12] == CHECK_LABEL)
    assert money(check[13]) == 0
    per_household = next(v for k, v in by_party.items() if k.endswith("户均分担（元/户）"))
    assert money(per_household) == funding.per_household_residents
    grand = next(r[7] for r in ws.iter_rows(values_only=True) if r[0] == "合计")
    assert money(grand) == funding.total
    categories = section(ws, "分类汇总")
    assert {k: money(v) for k, v in categories.items()} == funding.by_category
    for g in funding.groups:
        assert money(section(ws, f"{g.group.label}分担")["按比例分担的金额"]) == g.base, g.group.label
    # the sentence under the table is a formula too: its figures are the recomputed ones. (A budget
    # of 0.00 is left out: render/formulas.py evaluates both branches of IF, so the shares it caches
    # there are #DIV/0!; Excel, WPS and LibreOffice compute 0.0% on opening.)
    if funding.total != 0:
        told = next(r[0] for r in ws.iter_rows(max_col=1, values_only=True)
                    if isinstance(r[0], str) and r[0].startswith("各方金额计算："))
        for key, amount in funding.by_party.items():  # every paying party the table lists, as the table has it
            if amount:  # its share as the table prints it: plain rounding of amount ÷ total
                share = (amount / funding.total * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                share = share.copy_abs() if share.is_zero() else share  # a sheet has no -0.00
                assert f"{names[key]}{amount:,.2f}元，占预算总额的{share}%" in told, (key, told)
        assert f"预算总额{funding.total:,.2f}元所得" in told
    pipes = [lf for lf in funding.lines if lf.rule == "pipeline"]
    split = {r[1]: r for r in ws.iter_rows(max_col=11, values_only=True)
             if isinstance(r[1], str) and r[1].endswith("项）")}
    for lf in pipes:
        row = split[f"{lf.line.item}（第{funding.lines.index(lf) + 1}项）"]
        assert money(row[8]) == lf.parts["utility"]
        assert money(row[9]) == lf.parts["district"]


needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None,
                                   reason="LibreOffice (soffice) is not installed")


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.libreoffice
@needs_soffice
def test_libreoffice_recomputes_the_code_values(tmp_path: Path, case: str) -> None:
    data = case_data(tmp_path, case)
    assert_matches(recalculate(tmp_path, render_workbook(TEMPLATE, budget_context(data), BUDGET_BLOCKS)), data)


@pytest.mark.libreoffice
@needs_soffice
def test_a_clerks_change_flows_through(tmp_path: Path) -> None:
    """Change a quantity and the maintenance fund in the workbook: every share follows."""
    data = case_data(tmp_path / "before", "default")
    wb = load_workbook(io.BytesIO(render_workbook(TEMPLATE, budget_context(data), BUDGET_BLOCKS)))
    ws = wb.worksheets[0]
    road = FIRST + 2
    assert ws[f"C{road}"].value == "道路"
    ws[f"E{road}"] = 130
    fund = next(r for r in ws.iter_rows() if r[1].value == "减：房屋维修资金")
    fund[7].value = 2000.01
    edited = io.BytesIO()
    wb.save(edited)

    lines = [dict(ln) for ln in LINES]
    lines[2].update(quantity=130, amount=D("11092.90"))
    changed = make_data(tmp_path / "after", {"items": lines, "other_funding": {
        "maintenance_fund": D("2000.01"), "social_capital": D("5000.00")}}, {})
    assert_matches(recalculate(tmp_path, edited.getvalue()), changed)


def test_the_meter_headers_fit_their_columns() -> None:
    """Each line of 其中：表（箱）前（元） fits its column (11 pt CJK: some 2.1 units a character),
    so the two-line header row shows it whole."""
    import openpyxl

    from generator.render.templates import BUILTIN

    ws = openpyxl.load_workbook(BUILTIN / "xlsx" / "budget.xlsx").worksheets[0]
    for ref in ("I5", "J5"):
        lines = str(ws[ref].value).split("\n")
        width = ws.column_dimensions[ref[0]].width
        assert len(lines) == 2 and all(2.1 * len(line) <= width for line in lines), (ref, width)


# ------------------------------------------------ every bundled project's budget

BUNDLED = load(BUNDLED_DATA)
BUDGETED = sorted(k for k, p in BUNDLED.projects.items() if p.items)
"""The bundled projects that have a budget (a project still at its application has none)."""


def bundled_sheet(key: str) -> tuple[Worksheet, Worksheet]:
    """One bundled project's budget: its formulas and the values cached beside them."""
    ctx = project_context(BUNDLED, BUNDLED.projects[key])
    ctx["programme"].setdefault("general_split", BUNDLED.programme.general_split.model_dump())
    ctx["programme"].setdefault("pipeline_split", BUNDLED.programme.pipeline_split.model_dump())
    rendered = render_workbook(TEMPLATE, ctx, BUDGET_BLOCKS)
    return sheet(rendered), sheet(rendered, values=True)


def parties_rows(ws: Worksheet) -> tuple[list[int], int]:
    """The rows of the 资金来源汇总 table's parties, and its 合计 row."""
    head = next(r for r in range(1, ws.max_row + 1) if str(ws[f"A{r}"].value or "").endswith("资金来源汇总"))
    rows = []
    r = head + 2
    while ws[f"B{r}"].value != "合计":
        rows.append(r)
        r += 1
    return rows, r


@pytest.mark.parametrize("key", BUDGETED)
def test_budget_shares_are_plain_rounding_with_a_rounding_note(key: str) -> None:
    """Every printed 万元 and share is its own amount rounded; a 尾差 note shows where they do not add up."""
    ws, values = bundled_sheet(key)
    parties, total_row = parties_rows(ws)
    total = money(values[f"H{total_row}"].value)
    for r in parties:
        amount = money(values[f"H{r}"].value)
        assert money(values[f"I{r}"].value) == q2(amount / 10000), (key, r)
        share = Decimal(repr(values[f"J{r}"].value))
        assert share == (amount / total).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP), (key, r)
    wan = sum(money(values[f"I{r}"].value) for r in parties)
    shares = sum(Decimal(repr(values[f"J{r}"].value)) for r in parties)
    off = wan != money(values[f"I{total_row}"].value) or shares != Decimal(repr(values[f"J{total_row}"].value))
    note = values[f"A{total_row + 1}"].value or ""
    assert ("尾差" in note) == off, (key, note)
    if off:  # the note gives the sums the reader would get by adding the column
        assert f"各项相加为{wan:,.2f}万元、{shares * 100:.2f}%" in note, (key, note)


@pytest.mark.parametrize("key", BUDGETED)
def test_budget_paragraph_says_only_what_holds(key: str) -> None:
    """即… only after a deduction; 不等于 the ratio only with its real reasons; no party of no row."""
    ws, values = bundled_sheet(key)
    community = BUNDLED.communities[BUNDLED.projects[key].community]
    funding = plan_funding(BUNDLED, BUNDLED.projects[key], community.households)
    told = next(c.value for row in values.iter_rows(max_col=1) for c in row
                if isinstance(c.value, str) and c.value.startswith("各方金额计算："))
    deducted = any(g.contributions or any(g.raised.values()) for g in funding.groups)
    pipeline = any(lf.rule == "pipeline" for lf in funding.lines)
    categories = len({g.group.split.ratio for g in funding.groups}) > 1
    assert ("，即" in told) == deducted, (key, told)
    assert ("不等于" in told) == (deducted or pipeline or categories), (key, told)
    assert ("管线项目另有承担方式" in told) == pipeline, (key, told)
    assert ("部分资金先行扣除" in told) == deducted, (key, told)
    names = party_names(BUNDLED, community.district)
    assert not [name for name in names.values() if f"{name}0.00元" in told], (key, told)
    note = next(c.value for row in values.iter_rows(max_col=1) for c in row
                if isinstance(c.value, str) and c.value.startswith("说明："))
    assert ("表（箱）前段" in note) == pipeline, (key, note)


@pytest.mark.parametrize(("built", "line"), [
    (None, "户数：300户　　计划投资：750万元　　改造年度：2018年"),
    ("1970", "户数：300户　　建成时间：1970年　　计划投资：750万元　　改造年度：2018年"),
    ("1980年代", "户数：300户　　建成时间：1980年代　　计划投资：750万元　　改造年度：2018年"),
])
def test_the_budget_states_the_building_year_or_leaves_it_out(bundled: DataSet, built: str | None,
                                                              line: str) -> None:
    """A signed budget prints no blank to fill: 建成时间 where the plan row has one (a bare year
    with 年, as the application writes it), nothing where it has none."""
    ctx = budget_context(bundled)
    ctx["community"] = {**ctx["community"], "built": built}
    assert sheet(render_workbook(TEMPLATE, ctx, BUDGET_BLOCKS))["A3"].value == line
