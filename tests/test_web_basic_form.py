"""街道办事处 on the 基本情况 form (chosen by the district from its street offices; shown, not changed, to the
street office; the community moves with it, audited) and the 验收单位 on the acceptance form."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from generator.web.audit import AuditLog
from tests.test_web import _form, client_of
from tests.webapp import make_app, make_instance

BASIC = "/projects/dongqu-01/edit/basic"


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Flask, Path, Path]:
    data, instance = make_instance(tmp_path)
    return make_app(data, instance), data, instance


def test_the_street_office_sees_its_name_and_cannot_change_it(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    clerk = client_of(app, "bcg")
    page = clerk.get(BASIC).get_data(as_text=True)
    assert '<output id="f-street_office" class="fixed"' in page and "由县（区）住房城乡建设部门修改" in page
    assert '<select id="f-street_office"' not in page
    before = (data / "projects" / "dongqu-01.yaml").read_text(encoding="utf-8")
    form = _form(clerk, BASIC)
    assert form["street_office"] == "炳草岗街道办事处"
    r = clerk.post(BASIC, data={**form, "street_office": "大渡口街道办事处"})
    assert r.status_code == 403 and "只能由县（区）住房城乡建设部门修改" in r.get_data(as_text=True)
    assert (data / "projects" / "dongqu-01.yaml").read_text(encoding="utf-8") == before
    form["community_committee"] = "苗圃社区居民委员会（改）"
    assert clerk.post(BASIC, data=form).status_code == 302  # the rest of the form still saves


def test_the_district_moves_a_community_to_another_of_its_street_offices(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, instance = fresh
    district = client_of(app, "dongqu")
    page = district.get(BASIC).get_data(as_text=True)
    assert '<select id="f-street_office"' in page
    assert '<option value="大渡口街道办事处">' in page and "仁和街道办事处" not in page  # 东区's offices only
    form = _form(district, BASIC)
    r = district.post(BASIC, data={**form, "street_office": "仁和街道办事处"})  # an office of 仁和区
    assert r.status_code == 422 and "不是东区已有的街道办事处" in r.get_data(as_text=True)
    assert client_of(app, "bcg").get("/projects/dongqu-01").status_code == 200
    r = district.post(BASIC, data={**form, "street_office": "大渡口街道办事处"})
    assert r.status_code == 302, r.get_data(as_text=True)[:1500]
    assert "street_office: 大渡口街道办事处" in (data / "projects" / "dongqu-01.yaml").read_text(encoding="utf-8")
    assert client_of(app, "bcg").get("/projects/dongqu-01").status_code == 404  # no longer 炳草岗's
    event = [e for e in AuditLog(instance).events("dongqu-01") if e.action == "save"][-1]
    assert event.user == "dongqu" and event.detail == "小区改由大渡口街道办事处填报（原为炳草岗街道办事处）"
    assert [(c.before, c.after) for c in event.changes if "街道办事处" in c.field] == \
        [("炳草岗街道办事处", "大渡口街道办事处")]


def test_the_acceptance_form_lists_the_signing_units_and_where_each_is_filled_in(
        fresh: tuple[Flask, Path, Path]) -> None:
    app, _, _ = fresh
    page = client_of(app, "bcg").get("/projects/dongqu-01/edit/acceptance").get_data(as_text=True)
    assert "验收单位（竣工验收表“验收组成员”所列，签字盖章）" in page
    assert "<td>监理单位</td><td>攀枝花市某信工程监理有限公司</td>" in page
    assert '<a href="/projects/dongqu-01/edit/units">参建单位</a>' in page
    assert "<td>居民代表</td><td>（未填写，验收表上留空）</td>" in page


def _form_with_office(form: bytes, office: str) -> bytes:
    import io

    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(form))
    ws = wb["基本情况"]
    row = next(r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 1).value or "").startswith("街道办事处"))
    ws.cell(row, 2).value = office
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_the_form_workbook_is_no_way_round_the_rule(fresh: tuple[Flask, Path, Path]) -> None:
    import io

    from tests.webapp import csrf

    app, data, _ = fresh
    before = (data / "projects" / "dongqu-01.yaml").read_text(encoding="utf-8")
    for who, status in (("bcg", 422), ("dongqu", 200)):
        client = client_of(app, who)
        sheet = _form_with_office(client.get("/projects/dongqu-01/form.xlsx").data, "大渡口街道办事处")
        r = client.post("/projects/dongqu-01/form", content_type="multipart/form-data",
                        data={"csrf_token": csrf(client, "/"), "form": (io.BytesIO(sheet), "填报表.xlsx")})
        assert r.status_code == status, r.get_data(as_text=True)[-1500:]
        if who == "bcg":
            assert "街道办事处只能由县（区）住房城乡建设部门修改，未导入" in r.get_data(as_text=True)
            assert (data / "projects" / "dongqu-01.yaml").read_text(encoding="utf-8") == before
    assert "street_office: 大渡口街道办事处" in (data / "projects" / "dongqu-01.yaml").read_text(encoding="utf-8")
