"""Papers that print residents: in full for the street office that collected the roster, masked for the
district, the city and the administrator (张*明, 100****8506, 3**), on the page's downloads, in the packet
and in the print files; every download recorded, saying which."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest
from flask import Flask

from generator.data.loader import load
from generator.data.roster import household_address, mask_name, mask_phone, mask_room
from generator.web.audit import AuditLog
from tests.snapshot import docx_text
from tests.webapp import login, make_app, make_instance

COMMUNITY = "dongqu-01"
"""A community with a roster, an elevator vote and a satisfaction survey: every paper that prints residents."""
PAPERS = ("survey", "ballot", "vote-register", "satisfaction-form")
ROLES = {"bcg": False, "dongqu": True, "city": True, "admin": True}
"""Each account that sees the community, and whether it gets residents masked."""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_instance(tmp_path_factory.mktemp("privacy"))


@pytest.fixture(scope="module")
def app(site: tuple[Path, Path]) -> Flask:
    return make_app(*site)


Resident = tuple[str, str, str, str]
"""Name, phone, address in full, address with the room masked."""


@pytest.fixture(scope="module")
def residents(site: tuple[Path, Path]) -> list[Resident]:
    """The community's residents (names of three characters, so masking shows)."""
    roster = load(site[0]).rosters[COMMUNITY]
    return [(h.head or "", h.phone or "", h.address, household_address(h.building, h.unit or "", mask_room(h.room)))
            for h in roster.households if h.head and len(h.head) == 3]


def shown(text: str, residents: list[Resident]) -> tuple[int, int]:
    """How many residents a paper prints in full (name or address), and how many masked."""
    full = sum(name in text or address in text for name, _, address, _ in residents)
    return full, sum(mask_name(name) in text or masked in text for name, _, _, masked in residents)


@pytest.mark.parametrize("paper", PAPERS)
@pytest.mark.parametrize(("name", "masked"), ROLES.items())
def test_a_paper_prints_residents_in_full_only_for_the_street_office(
        app: Flask, site: tuple[Path, Path], residents: list[Resident], name: str, masked: bool,
        paper: str) -> None:
    client = app.test_client()
    login(client, name)
    before = len(AuditLog(site[1]).events(COMMUNITY))
    r = client.get(f"/projects/{COMMUNITY}/documents/{paper}")
    assert r.status_code == 200, r.get_data(as_text=True)
    full, hidden = shown(docx_text(r.get_data()), residents)
    if masked:
        assert full == 0 and hidden > 0
    else:
        assert full > 0 and hidden == 0
    if paper == "survey":  # the only paper with phones
        text = docx_text(r.get_data())
        assert any(phone in text for _, phone, _, _ in residents) is not masked
        assert any(mask_phone(phone) in text for _, phone, _, _ in residents) is masked
    event = AuditLog(site[1]).events(COMMUNITY)[before:][-1]
    assert (event.user, event.action) == (name, "personal-download")
    assert event.detail.startswith("已遮蔽住户姓名、电话：" if masked else "含住户姓名、电话：")


@pytest.mark.parametrize(("name", "masked"), ROLES.items())
def test_the_packet_prints_residents_in_full_only_for_the_street_office(
        app: Flask, site: tuple[Path, Path], residents: list[Resident], name: str, masked: bool) -> None:
    client = app.test_client()
    login(client, name)
    r = client.get(f"/projects/{COMMUNITY}/packet.zip")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.get_data())) as z:
        texts = {n: docx_text(z.read(n)) for n in z.namelist() if n.endswith(".docx")}
    full = sum(shown(t, residents)[0] for t in texts.values())
    hidden = sum(shown(t, residents)[1] for t in texts.values())
    assert (full == 0 and hidden > 0) if masked else (full > 0 and hidden > 0)  # the posted result is masked
    survey = next(t for n, t in texts.items() if "居民意见征询表" in n)
    assert (shown(survey, residents)[0] == 0) is masked
    event = AuditLog(site[1]).events(COMMUNITY)[-1]
    assert event.user == name and event.detail.startswith("已遮蔽" if masked else "含住户")
    assert "居民意见征询表" in event.detail and "业主表决票" in event.detail


def test_the_print_file_of_a_district_or_the_city_prints_residents_masked(
        site: tuple[Path, Path], residents: list[Resident], tmp_path: Path) -> None:
    from generator.output.printing import print_documents

    data = load(site[0])
    for masked in (False, True):
        out = tmp_path / str(masked)
        result = print_documents(data, out, "survey", district="东区", year=2018, masked=masked)
        text = "".join(docx_text(out / rel) for rel in result.paths.rels)
        full, hidden = shown(text, residents)
        assert (full == 0 and hidden > 0) if masked else (full > 0 and hidden == 0)


def test_a_print_job_on_the_web_prints_residents_masked(
        site: tuple[Path, Path], residents: list[Resident], tmp_path: Path) -> None:
    from tests.test_web_district import _start, _wait

    app = make_app(*site, PRINT_LAYOUT=False)
    client = app.test_client()
    login(client, "dongqu")
    job = _start(client, kind="survey", year="2018")
    state = _wait(client, job)
    assert state["state"] == "done", state
    bound = client.get(f"/batch/prints/{job}/files/0")
    full, hidden = shown(docx_text(bound.get_data()), residents)
    assert full == 0 and hidden > 0


WORKBOOKS = {
    "ballots": (f"/projects/{COMMUNITY}/votes/dongqu-01-dianti-1-2/ballots.xlsx", "表决票", "vote-download"),
    "answers": (f"/projects/{COMMUNITY}/satisfaction/dongqu-01-2018/answers.xlsx", "满意度调查", "survey-download"),
}


@pytest.mark.parametrize("workbook", WORKBOOKS)
@pytest.mark.parametrize(("name", "masked"), [*ROLES.items(), ("renhe", None)])
def test_a_workbook_carries_residents_in_full_only_for_the_street_office(
        app: Flask, site: tuple[Path, Path], residents: list[Resident], name: str, masked: bool | None,
        workbook: str) -> None:
    url, sheet, action = WORKBOOKS[workbook]
    client = app.test_client()
    login(client, name)
    before = len(AuditLog(site[1]).events(COMMUNITY))
    r = client.get(url)
    if masked is None:  # a street office of another district does not see the community at all
        assert r.status_code == 404 and len(AuditLog(site[1]).events(COMMUNITY)) == before
        return
    assert r.status_code == 200 and ("（已遮蔽）" in unquote(r.headers["Content-Disposition"])) is masked
    ws = openpyxl.load_workbook(io.BytesIO(r.data))[sheet]
    text = "\n".join(" ".join("" if c is None else str(c) for c in row) for row in ws.iter_rows(values_only=True))
    names = [resident[0] for resident in residents]
    rooms = {str(c) for c in next(ws.iter_cols(min_col=3, max_col=3, min_row=3, values_only=True)) if c}
    full, hidden = sum(n in text for n in names), sum(mask_name(n) in text for n in names)
    assert (full == 0 and hidden > 0) if masked else (full > 0 and hidden == 0)
    assert all("*" in room for room in rooms) is masked and rooms
    assert ("已遮蔽住户姓名和房号" in str(ws.cell(1, 1).value)) is masked
    events = AuditLog(site[1]).events(COMMUNITY)[before:]
    assert [(e.user, e.action) for e in events] == [(name, action)]
    assert events[0].detail.startswith("已遮蔽住户姓名：" if masked else "含住户姓名：")
