"""The returns on the web at a province's size: fund use and deadlines read no project file per
request, and the reports page's month picker for the monthly return."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from generator.documents import returns
from tests.webapp import login, make_app, make_instance


@pytest.fixture()
def app(tmp_path: Path) -> Flask:
    return make_app(*make_instance(tmp_path))


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count the project files whose dated facts are read (digest's one costly step)."""
    made: list[str] = []
    real = returns.project_effects

    def counted(data: Any, project: Any, **kw: Any) -> Any:
        made.append(project.community)
        return real(data, project, **kw)

    monkeypatch.setattr(returns, "project_effects", counted)
    return made


def test_the_dashboard_reads_no_project_after_the_warm_up_nor_after_a_save(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    returns._DIGESTS.clear()  # as after a server's start
    made = _counting(monkeypatch)
    store = app.extensions["gaizao"]["store"]
    store.warm()
    assert "dongqu-01" in made and len(made) >= 20
    made.clear()
    client = app.test_client()
    login(client, "city")
    before = client.get("/dashboard").get_data(as_text=True)
    assert made == []
    # a save: the paid-in money of one record changed, read when the store applies the file
    path = store.root / "projects" / "dongqu-01.yaml"
    text = path.read_text(encoding="utf-8")
    changed = text.replace("kind: 到位, amount: 75000.00}", "kind: 到位, amount: 85000.00}", 1)
    assert changed != text
    path.write_text(changed, encoding="utf-8")
    store.sync()
    assert made == ["dongqu-01"]
    made.clear()
    after = client.get("/dashboard").get_data(as_text=True)
    assert made == []
    assert before != after  # the new amount counted: 1 万元 more paid in for 东区 and the city

    def received(page: str, where: str) -> str:
        mark = f'data-figure="funds.{where}.total.received">'
        return page.split(mark, 1)[1].split("<", 1)[0]

    for where in ("东区", "全市"):
        old, new = (float(received(p, where).replace(",", "")) for p in (before, after))
        assert round(new - old, 2) == 1.0, where


def test_the_reports_page_picks_the_month_of_the_return(app: Flask) -> None:
    import datetime as dt
    import io

    import openpyxl

    from generator.documents.returns import Month, closed_months, due_date

    data = app.extensions["gaizao"]["store"].current().data
    months = closed_months(data, dt.date(2019, 7, 20))
    assert months[0] == Month(2019, 6) and months[-1] == Month(min(data.programme.years), 1)
    assert closed_months(data, dt.date(2019, 1, 3))[0] == Month(2018, 12)
    assert closed_months(data, dt.date(2100, 1, 1))[0] == Month(max(data.programme.years), 12)
    assert closed_months(data, dt.date(min(data.programme.years), 1, 15)) == []  # nothing ended yet
    client = app.test_client()
    login(client, "city")
    page = client.get("/reports").get_data(as_text=True)
    newest = closed_months(data)[0]
    assert f'<option value="{newest.key}" selected>' in page
    assert page.count('<option value="') == len(closed_months(data))
    due = due_date(data, newest)
    assert f"{newest.year}年{newest.month}月（{due.month}月{due.day}日前报送，截止{due.isoformat()}）" in page
    r = client.get("/reports/file/statistics?district=全市&month=2019-06")
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.data))
    cells = [str(c.value) for ws in book for row in ws.iter_rows() for c in row if c.value is not None]
    assert any("2019年6月" in v for v in cells)
    assert client.get("/reports/file/statistics?district=全市&month=2019-13").status_code == 404
    assert client.get("/reports/file/statistics?district=全市&month=1999-06").status_code == 404
    # a district account has no city return to pick
    district = app.test_client()
    login(district, "dongqu")
    assert 'class="month-picker"' not in district.get("/reports").get_data(as_text=True)
