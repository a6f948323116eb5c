"""One funding policy, many outputs: random budgets through Python, the budget workbook's
formulas and the 填报表's formulas, all equal to the 分.

The formulas are evaluated by the project's own evaluator (render/formulas.py) for every
example, and recomputed by LibreOffice for a few.
"""

from __future__ import annotations

import atexit
import dataclasses
import io
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.data.loader import BUNDLED_DATA, DataSet, load
from generator.data.models import Programme, Project
from generator.documents.budget_sheet import BUDGET_BLOCKS
from generator.documents.project import project_context
from generator.intake.form import export_form
from generator.render.formulas import Workbook as Evaluator
from generator.render.formulas import _ref_xy
from generator.render.xlsx import render_workbook
from generator.rules.funding import Funding, Split, plan_funding, policy
from tests.test_budget_xlsx import COMMUNITY, TEMPLATE, _Dumper, assert_matches, sheet

D = Decimal
BUNDLED = load(BUNDLED_DATA)
ITEMS = {"general": ["道路", "楼道修缮", "房前屋后绿化美化"], "pipeline": ["供水", "供电", "弱电"],
         "gas": ["供气"], "public_service": ["公共服务设施"]}

SCRATCH = tempfile.mkdtemp(prefix="gaizao-policy-")
atexit.register(shutil.rmtree, SCRATCH, True)  # each example writes its project file here
CATEGORIES = [c.name for c in BUNDLED.catalogue.categories]
cents = st.integers(min_value=0, max_value=10**9).map(lambda n: D(n) / 100)


@st.composite
def lines(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(ITEMS)))
    amount = draw(cents)
    line: dict[str, Any] = {"item": draw(st.sampled_from(ITEMS[kind])), "description": "随机",
                            "quantity": D(1), "unit": "项", "unit_price": amount, "amount": amount}
    if kind in ("pipeline", "gas"):
        before = D(draw(st.integers(min_value=0, max_value=int(amount * 100)))) / 100
        line.update(before_meter=before, after_meter=amount - before)
    return line


@st.composite
def programmes(draw: st.DrawFn) -> dict[str, Any]:
    """Changes to the bundled programme: other shares, percentages and remainder parties."""
    general = {"city": draw(st.integers(1, 9)), "district": draw(st.integers(0, 9)),
               "residents": draw(st.integers(0, 9)),
               "remainder_to": draw(st.sampled_from(["city", "district", "residents"]))}
    utility = D(draw(st.integers(0, 1000))) / 10
    pipeline = {"utility_percent": utility, "district_percent": 100 - utility,
                "remainder_to": draw(st.sampled_from(["utility", "district"]))}
    prog = BUNDLED.programme
    assert prog.pipeline_split is not None
    update: dict[str, Any] = {
        "general_split": general,
        "pipeline_split": {**pipeline, "excluded_gas_area": prog.pipeline_split.excluded_gas_area},
    }
    if draw(st.booleans()):
        # A programme of the 2020s: more parties, and categories with splits of their own.
        parties = {"central": "中央补助资金", "province": "省级补助资金", **prog.parties.ordered()}
        update["parties"] = parties
        listed = draw(st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=4, unique=True))
        categories = []
        for name in listed:
            payers = draw(st.lists(st.sampled_from(sorted(parties)), min_size=1, max_size=4, unique=True))
            shares = {k: draw(st.integers(0, 60)) for k in payers}
            if not any(shares.values()):
                shares[payers[0]] = 1
            contributions = [
                {"party": draw(st.sampled_from(["residents", "social_capital", "province"])),
                 how: D(draw(st.integers(0, 10**6))) / 100,
                 **({"cap": D(draw(st.integers(0, 10**8))) / 100} if draw(st.booleans()) else {})}
                for how in draw(st.lists(st.sampled_from(["fixed", "per_m2", "per_household"]),
                                         max_size=2))]
            categories.append({"category": name, "shares": shares, "contributions": contributions,
                               "remainder_to": draw(st.sampled_from(payers))})
        update["funding"] = {"categories": categories, "raised_to": draw(st.sampled_from(listed))}
    return update


@dataclasses.dataclass(frozen=True)
class Case:
    """A random programme change and project budget, shown as plain values when a test fails."""

    programme: dict[str, Any]
    project: dict[str, Any]

    def data(self) -> DataSet:
        """The bundled data with this programme change and this one project."""
        prog = Programme.model_validate({**BUNDLED.programme.model_dump(), **self.programme})
        path = Path(tempfile.mkdtemp(dir=SCRATCH)) / f"{COMMUNITY}.yaml"
        # The 填报表 shows what the project file says: it is written out as a clerk's file is.
        path.write_text(yaml.dump(self.project, Dumper=_Dumper, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
        return dataclasses.replace(BUNDLED, programme=prog,
                                   projects={COMMUNITY: Project.model_validate(self.project)},
                                   sources={**BUNDLED.sources, f"project:{COMMUNITY}": path})


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A random programme split and one random project budget."""
    items = draw(st.lists(lines(), min_size=1, max_size=8))
    general = sum((ln["amount"] for ln in items if "before_meter" not in ln), D(0))
    fund = D(draw(st.integers(0, int(general * 100)))) / 100
    social = D(draw(st.integers(0, int((general - fund) * 100)))) / 100
    values = {
        "community": COMMUNITY, "illustrative": True, "stage": "plan",
        "street_office": "炳草岗街道办事处", "community_committee": "苗圃社区居民委员会",
        "in_gas_company_area": draw(st.booleans()), "items": items,
        "floor_area": D(draw(st.integers(0, 10**7))) / 100,
        "other_funding": {"maintenance_fund": fund, "social_capital": social}}
    return Case(draw(programmes()), values)


def funding_of(data: DataSet) -> Funding:
    return plan_funding(data, data.projects[COMMUNITY], data.communities[COMMUNITY].households)


def budget(data: DataSet) -> bytes:
    """The budget workbook, each formula's value computed by render/formulas.py."""
    return render_workbook(TEMPLATE, project_context(data, data.projects[COMMUNITY]), BUDGET_BLOCKS)


def form_values(xlsx: bytes, sheet_name: str = "其他资金") -> dict[str, Any]:
    """Label (column A) → value of column B of one 填报表 sheet, its formulas computed by
    render/formulas.py from the other cells' stored values."""
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    stored = openpyxl.load_workbook(io.BytesIO(xlsx), data_only=True)
    values: dict[str, dict[tuple[int, int], Any]] = {}
    formulas: dict[str, dict[tuple[int, int], str]] = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for c in row:
                xy = _ref_xy(c.coordinate)
                if ws.title == sheet_name and c.data_type == "f":
                    formulas.setdefault(ws.title, {})[xy] = str(c.value)
                    continue
                v = stored[ws.title][c.coordinate].value
                values.setdefault(ws.title, {})[xy] = (D(repr(v)) if isinstance(v, (int, float))
                                                      and not isinstance(v, bool) else v)
    evaluator = Evaluator(values, formulas)
    ws = book[sheet_name]
    return {ws[f"A{r}"].value: evaluator.get(sheet_name, r, 2) for r in range(1, ws.max_row + 1)
            if ws[f"A{r}"].value}


def assert_form_matches(shown: dict[str, Any], data: DataSet) -> None:
    """The 填报表's funding rows show exactly the code's funding plan."""
    funding = funding_of(data)
    rules = policy(data.programme)
    names = rules.parties
    assert D(shown["工程预算合计（元）"]) == funding.total
    for g in funding.groups:
        label = g.group.label if rules.by_category else ""
        assert D(shown[f"{label}按比例分担的基数（元）"]) == g.base
        for key, part in g.parts.items():
            assert D(shown[f"{label}{names[key]}分担（{g.group.split.ratio}）"]) == part, key
        for n, (c, amount) in enumerate(g.contributions):
            which = f"先行出资{n + 1}：" if len(g.contributions) > 1 else ""
            assert D(shown[f"{label}{which}{names[c.party]}出资（元）"]) == amount
    pipes = [lf for lf in funding.lines if lf.rule == "pipeline"]
    for key, share in rules.pipeline.shares.items():
        label = f"{names[key]}承担表前（{format(share.normalize(), 'f')}%）"
        assert D(shown[label]) == sum((lf.parts[key] for lf in pipes), D(0)), key
    after = sum((lf.parts[rules.after_meter_party] for lf in pipes), D(0))
    assert D(shown[f"管线表（箱）后，{names[rules.after_meter_party]}承担（元）"]) == after
    assert D(shown[f"{names['residents']}合计每户分担（元）"]) == funding.per_household_residents


SETTINGS = settings(max_examples=80, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(cases())
def test_the_budget_workbooks_formulas_equal_python_to_the_fen(case: Case) -> None:
    data = case.data()
    funding = funding_of(data)
    assert sum(funding.by_party.values(), D(0)) == funding.total
    assert_matches(sheet(budget(data), values=True), data)


@SETTINGS
@given(cases())
def test_the_forms_formulas_equal_python_to_the_fen(case: Case) -> None:
    data = case.data()
    xlsx = export_form(data, data.communities[COMMUNITY])
    computed = form_values(xlsx)
    assert_form_matches(computed, data)
    # The values the form stores for readers that do not calculate are the same.
    stored = openpyxl.load_workbook(io.BytesIO(xlsx), data_only=True)["其他资金"]
    for row in stored.iter_rows(min_row=1, max_col=2, values_only=True):
        if row[0] in computed and isinstance(computed[row[0]], Decimal) and row[1] is not None:
            assert D(repr(row[1])) == computed[row[0]], row[0]


@given(st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 50), min_size=1),
       cents, st.data())
def test_a_split_adds_up_and_its_formulas_say_what_it_computes(
    shares: dict[str, int], total: Decimal, data: st.DataObject
) -> None:
    if not sum(shares.values()):
        shares = {**shares, next(iter(shares)): 1}
    rule = Split({k: D(v) for k, v in shares.items()}, data.draw(st.sampled_from(sorted(shares))))
    parts = rule.apply(total)
    assert list(parts) == list(shares) and sum(parts.values(), D(0)) == total
    cells = {k: f"A{i + 2}" for i, k in enumerate(shares)}
    formulas = {(1, i + 2): rule.formulas("A1", cells)[k] for i, k in enumerate(shares)}
    evaluator = Evaluator({"S": {(1, 1): total}}, {"S": {(r, 1): f for (_, r), f in formulas.items()}})
    assert {k: evaluator.get("S", i + 2, 1) for i, k in enumerate(shares)} == parts


def test_the_party_order_is_the_programme_files(tmp_path: Path) -> None:
    root = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, root)
    text = (root / "programme.yaml").read_text(encoding="utf-8")
    moved = "  social_capital: 社会资本\n"
    text = text.replace(moved, "").replace("parties:\n", "parties:\n" + moved)
    (root / "programme.yaml").write_text(text, encoding="utf-8")
    data = load(root)
    assert list(policy(data.programme).parties)[0] == "social_capital"
    assert list(plan_funding(data, data.projects["dongqu-01"], 300).by_party)[0] == "social_capital"


# ---------------------------------------------------------------- LibreOffice

needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None,
                                   reason="LibreOffice (soffice) is not installed")


def recalculated(tmp_path: Path, name: str, xlsx: bytes) -> openpyxl.Workbook:
    """The workbook as LibreOffice computes it, its stored values taken out first."""
    import re
    import zipfile

    work = tmp_path / name
    (work / "out").mkdir(parents=True)
    stripped = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as zin, zipfile.ZipFile(stripped, "w") as zout:
        for info in zin.infolist():
            blob = zin.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                blob = re.sub(rb"(</f>)<v>[^<]*</v>", rb"\1", blob)
            zout.writestr(info, blob)
    (work / "in.xlsx").write_bytes(stripped.getvalue())
    subprocess.run(["soffice", f"-env:UserInstallation=file://{work / 'profile'}", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(work / "out"), str(work / "in.xlsx")],
                   check=True, capture_output=True, timeout=180)
    return openpyxl.load_workbook(work / "out" / "in.xlsx", data_only=True)


@pytest.mark.libreoffice
@needs_soffice
@settings(max_examples=3, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(cases())
def test_libreoffice_computes_both_workbooks_as_python_does(tmp_path: Path, case: Case) -> None:
    import uuid

    data = case.data()
    run = uuid.uuid4().hex[:8]
    assert_matches(recalculated(tmp_path, f"b{run}", budget(data)).worksheets[0], data)
    form = recalculated(tmp_path, f"f{run}", export_form(data, data.communities[COMMUNITY]))
    ws = form["其他资金"]
    shown = {ws[f"A{r}"].value: D(repr(ws[f"B{r}"].value)) for r in range(1, ws.max_row + 1)
             if ws[f"A{r}"].value and isinstance(ws[f"B{r}"].value, (int, float))}
    assert_form_matches({k: v.quantize(D("0.01")) for k, v in shown.items()}, data)
