"""Residents' files of the data folder sealed at rest with SM4 (第三级): the envelope, the readers with and
without the key, a plain file beside a sealed one, `security seal-data` / `unseal-data`, and a build from
sealed files equal to one from plain files."""

from __future__ import annotations

import io
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.data import sealed
from generator.data.loader import load
from generator.errors import DataError
from generator.intake.resident_files import current, store
from generator.web.accounts import Accounts
from generator.web.atrest import KEY_FILE, PREFIX, _keys, switch_data
from generator.web.audit import AuditLog
from generator.web.policy import save as save_policy
from generator.web.statedb import DB_FILE, StateDB
from tests.snapshot import docx_text
from tests.webapp import CHEAP, PASSWORD, csrf, login, make_app, make_instance

pytest.importorskip("cryptography")

ROSTER = "rosters/dongqu-01.csv"
HTTPS = "https://gaizao.example.internal"


@pytest.fixture
def folders(data_root: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A data folder with rosters, ballots and answers, and an instance folder beside it."""
    return data_root, tmp_path / "instance"


def plain_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sealed.plain_files(root)}


def run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--data", str(root), *args])
    return result.exit_code, result.output


def test_the_envelope_round_trips_and_refuses_a_changed_byte_or_another_key(tmp_path: Path) -> None:
    key, other = bytes(range(16)), bytes(16)
    raw = sealed.seal(key, "楼栋,房号\r\n1,101\r\n".encode())
    assert raw.startswith(f"GAIZAO-SM4-GCM 1 {sealed.key_check(key)}\n".encode())
    assert "楼栋".encode() not in raw
    path = tmp_path / "x.csv.sm4"
    assert sealed.unseal(key, raw, path) == "楼栋,房号\r\n1,101\r\n".encode()
    assert sealed.seal(key, b"same") != sealed.seal(key, b"same")  # a fresh nonce each time
    with pytest.raises(DataError, match="密钥与现有密钥不符"):
        sealed.unseal(other, raw, path)
    changed = bytearray(raw)
    changed[-20] ^= 1
    with pytest.raises(DataError, match="在本程序之外被改动或损坏"):
        sealed.unseal(key, bytes(changed), path)
    with pytest.raises(DataError, match="不是本程序加密保存的文件"):
        sealed.unseal(key, b"GAIZAO-SM4-GCM\n" + raw, path)
    with pytest.raises(DataError, match="第9版"):
        sealed.unseal(key, raw.replace(b"GCM 1 ", b"GCM 9 ", 1), path)


def test_seal_data_seals_every_resident_file_and_the_data_reads_the_same(
        folders: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root, instance = folders
    before = load(root)
    originals = plain_bytes(root)
    assert {"rosters", "votes", "satisfaction"} <= {name.split("/")[0] for name in originals}
    code, output = run(root, "security", "seal-data", "--instance", str(instance))
    assert code == 0, output
    assert f"{len(originals)}个住户文件" in output
    assert sealed.plain_files(root) == []
    assert len(sealed.sealed_files(root)) == len(originals)
    assert AuditLog(instance).count("data-seal") == 1
    monkeypatch.setenv(sealed.ENV, str(instance / KEY_FILE))
    after = load(root)
    assert after.rosters == before.rosters
    assert after.ballots == before.ballots
    assert after.responses == before.responses
    assert after.sources["roster:dongqu-01"].name == "dongqu-01.csv.sm4"

    code, output = run(root, "security", "unseal-data", "--instance", str(instance))
    assert code == 0, output
    assert plain_bytes(root) == originals  # byte for byte, the 示例 lines and the byte-order mark kept
    assert sealed.sealed_files(root) == []


def test_without_the_key_or_with_another_the_command_says_which_file_and_what_to_do(
        folders: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, instance = folders
    switch_data(root, instance, seal=True)
    desk = tmp_path / "desk"
    desk.mkdir()
    monkeypatch.chdir(desk)  # no instance/sm4.key here
    monkeypatch.delenv(sealed.ENV, raising=False)
    code, output = run(root, "validate")
    assert code != 0
    assert "rosters/dongqu-01.csv.sm4：按第三级以 SM4 加密保存，读取需要密钥" in output
    assert sealed.ENV in output
    assert "Traceback" not in output

    (tmp_path / "other.key").write_text("00" * 16)
    monkeypatch.setenv(sealed.ENV, str(tmp_path / "other.key"))
    code, output = run(root, "roster", "export", "--project", "dongqu-01", "--out", str(tmp_path / "x.xlsx"),
                       "--purpose", "入户核对")
    assert code != 0
    assert "dongqu-01.csv.sm4：加密所用的 SM4 密钥与现有密钥不符" in output
    assert not (tmp_path / "x.xlsx").exists()

    # the key in instance/ under the folder the command runs in is found with no option
    (desk / "instance").mkdir()
    shutil.copy(instance / KEY_FILE, desk / "instance" / KEY_FILE)
    monkeypatch.delenv(sealed.ENV)
    code, output = run(root, "roster", "export", "--project", "dongqu-01", "--out", str(tmp_path / "x.xlsx"),
                       "--purpose", "入户核对")
    assert code == 0, output


def test_a_plain_file_beside_a_sealed_one_is_a_clash_unless_they_hold_the_same_bytes(
        folders: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root, instance = folders
    original = (root / ROSTER).read_bytes()
    switch_data(root, instance, seal=True)
    monkeypatch.setenv(sealed.ENV, str(instance / KEY_FILE))
    (root / ROSTER).write_bytes(original)  # what an interrupted switch leaves: the same record twice
    assert load(root).rosters["dongqu-01"].households
    (root / ROSTER).write_bytes(original.replace("杨".encode(), "汪".encode(), 1))
    with pytest.raises(DataError) as caught:
        load(root)
    assert any(p.file == root / ROSTER and "与加密保存的 dongqu-01.csv.sm4 同时存在" in p.problem
               for p in caught.value.problems)
    with pytest.raises(DataError, match="同时存在"):
        current(root / ROSTER)


def test_seal_data_stopped_between_write_and_remove_leaves_every_file_readable(
        folders: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root, instance = folders
    before = load(root)
    calls = []

    def stop(path: Path) -> None:
        calls.append(path)
        if len(calls) == 3:
            raise OSError("断电")

    with pytest.raises(OSError):
        switch_data(root, instance, seal=True, before_remove=stop)
    monkeypatch.setenv(sealed.ENV, str(instance / KEY_FILE))
    assert (root / calls[-1].relative_to(root)).exists()  # the third file: both forms there
    assert sealed.sealed_name(calls[-1]).exists()
    middle = load(root)
    assert middle.rosters == before.rosters and middle.ballots == before.ballots
    assert middle.responses == before.responses
    code, output = run(root, "security", "seal-data", "--instance", str(instance))  # run again: it finishes
    assert code == 0, output
    assert sealed.plain_files(root) == []
    assert load(root).rosters == before.rosters


def test_a_file_written_into_a_sealed_folder_is_sealed_and_replaces_its_plain_form(
        folders: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root, instance = folders
    switch_data(root, instance, seal=True)
    monkeypatch.setenv(sealed.ENV, str(instance / KEY_FILE))
    written = store(root / "rosters" / "xinhe-99.csv", "楼栋,房号\r\n".encode())
    assert written.name == "xinhe-99.csv.sm4"
    assert current(root / "rosters" / "xinhe-99.csv") == "楼栋,房号\r\n".encode()
    assert not (root / "rosters" / "xinhe-99.csv").exists()


def test_a_build_from_sealed_files_gives_the_same_papers(
        folders: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, instance = folders
    kinds = ["--kind", "survey", "--kind", "ballot", "--kind", "vote-register", "--kind", "satisfaction-form"]

    def build(out: Path) -> dict[str, str]:
        code, output = run(root, "build", "--project", "dongqu-01", *kinds, "--out", str(out), "-q")
        assert code == 0, output
        return {p.relative_to(out).as_posix(): docx_text(p) for p in sorted(out.rglob("*.docx"))}

    plain = build(tmp_path / "plain")
    assert len(plain) >= 3
    switch_data(root, instance, seal=True)
    monkeypatch.setenv(sealed.ENV, str(instance / KEY_FILE))
    assert build(tmp_path / "sealed") == plain
    assert any("杨杰涛" in text for text in plain.values())  # the roster's households are on the papers


# ---------------------------------------------------------------- the web at the 第三级, accounts, self-check


def _web_at_level3(tmp_path: Path) -> tuple[Any, Path, Path]:
    """An app over a plain data folder, its street clerks logged in at the second level, then the level raised
    (as the 安全管理员 does in the settings)."""
    data, instance = make_instance(tmp_path)
    app = make_app(data, instance, BEHIND_HTTPS=True)
    return app, data, instance


def test_the_web_at_the_third_level_writes_sealed_files_and_reads_them_back(tmp_path: Path) -> None:
    app, data, instance = _web_at_level3(tmp_path)
    Accounts(instance, CHEAP).add("anquan", "", "市住房城乡建设局", PASSWORD, duty="secadmin")
    renhe, bcg, secadmin = app.test_client(), app.test_client(), app.test_client()
    for client, name in ((renhe, "renhe"), (bcg, "bcg"), (secadmin, "anquan")):
        token = csrf(client, f"{HTTPS}/login")
        r = client.post(f"{HTTPS}/login", data={"username": name, "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 302
    save_policy(StateDB.of(instance), {"level": "3"}, "sec")
    # a roster uploaded: written sealed, the plain file gone, the page reads the new roster
    token = csrf(renhe, f"{HTTPS}/projects/renhe-06/roster.xlsx")
    workbook = renhe.post(f"{HTTPS}/projects/renhe-06/roster.xlsx",
                          data={"csrf_token": token, "purpose": "入户征询意见"}).data
    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    wb["住户名册"]["H3"] = "不同意"
    out = io.BytesIO()
    wb.save(out)
    token = csrf(renhe, f"{HTTPS}/projects/renhe-06")
    r = renhe.post(f"{HTTPS}/projects/renhe-06/roster", content_type="multipart/form-data",
                   data={"csrf_token": token, "roster": (io.BytesIO(out.getvalue()), "名册.xlsx")})
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    assert not (data / "rosters" / "renhe-06.csv").exists()
    raw = (data / "rosters" / "renhe-06.csv.sm4").read_bytes()
    assert raw.startswith(b"GAIZAO-SM4-GCM 1 ") and "不同意".encode() not in raw
    assert "已征询84户" in renhe.get(f"{HTTPS}/projects/renhe-06").get_data(as_text=True)
    again = renhe.post(f"{HTTPS}/projects/renhe-06/roster.xlsx", data={"csrf_token": token, "purpose": "核对"}).data
    sheet = openpyxl.load_workbook(io.BytesIO(again))["住户名册"]
    assert sheet["H3"].value == "不同意"  # read back through the key
    # a ballot entered: the ballots file sealed too, the count follows
    vote = f"{HTTPS}/projects/dongqu-01/votes/dongqu-01-dianti-1-2"
    token = csrf(bcg, vote)
    r = bcg.post(vote + "/ballot", data={"csrf_token": token, "household": "1栋|2|202", "choice": "不同意",
                                         "signer": "业主", "date": "2018-07-07"}, follow_redirects=True)
    assert r.status_code == 200 and "已保存表决票" in r.get_data(as_text=True)
    assert not (data / "votes" / "dongqu-01-dianti-1-2.csv").exists()
    ballots = data / "votes" / "dongqu-01-dianti-1-2.csv.sm4"
    key = bytes.fromhex((instance / KEY_FILE).read_text())
    text = sealed.unseal(key, ballots.read_bytes(), ballots).decode("utf-8-sig")
    assert text.startswith("# 示例数据") and "1栋,2,202,不同意,业主,,,2018-07-07," in text
    # the 安全管理员 is told how many plain files remain and what to run
    page = secadmin.get(f"{HTTPS}/admin/security").get_data(as_text=True)
    assert len(sealed.plain_files(data)) == 9 and "数据文件夹中还有9个启用前明文保存的住户文件" in page
    assert "security seal-data --instance" in page


def test_a_sealed_folder_without_its_key_is_named_by_the_web(tmp_path: Path) -> None:
    data, instance = make_instance(tmp_path)
    switch_data(data, instance, seal=True)
    (instance / KEY_FILE).rename(tmp_path / "away.key")
    _keys.clear()
    app = make_app(data, instance)
    client = app.test_client()
    login(client, "renhe")
    r = client.get("/projects/renhe-06")
    text = r.get_data(as_text=True)
    assert r.status_code == 503 and "renhe-06.csv.sm4" in text and "找不到 SM4 密钥文件" in text


def test_the_accounts_phone_is_sealed_when_the_level_is_raised_and_shown_whole(tmp_path: Path) -> None:
    accounts = Accounts(tmp_path, CHEAP)
    accounts.add("wang", "street", "仁和街道办事处", PASSWORD, person="王五", phone="13800001234")
    stored = sqlite3.connect(tmp_path / DB_FILE)
    assert stored.execute("SELECT phone FROM users").fetchall() == [("13800001234",)]
    save_policy(StateDB.of(tmp_path), {"level": "3"}, "sec")
    accounts.add("li", "street", "仁和街道办事处", PASSWORD, phone="13900005678")
    phones = [row[0] for row in stored.execute("SELECT phone FROM users ORDER BY name")]
    assert len(phones) == 2 and all(p.startswith(PREFIX) and "1380" not in p and "1390" not in p for p in phones)
    stored.close()
    assert [u.phone for u in accounts.all()] == ["13900005678", "13800001234"]
    code, output = run(tmp_path, "users", "list", "--full", "--instance", str(tmp_path))
    assert code == 0 and "13800001234" in output


def test_the_self_check_item_flips_when_the_last_plain_file_is_sealed(folders: tuple[Path, Path]) -> None:
    root, instance = folders
    save_policy(StateDB.of(instance), {"level": "3"}, "sec")
    item = "住户个人信息存储加密（SM4）"
    code, output = run(root, "security", "check", "--instance", str(instance))
    count = len(sealed.plain_files(root))
    assert f"【不符合】{item}" in output and f"还有{count}个明文保存的住户文件" in output
    switch_data(root, instance, seal=True)
    code, output = run(root, "security", "check", "--instance", str(instance))
    assert f"【符合】{item}" in output and f"（{count}个文件）" in output
    # a file sealed with another key is named
    other = sealed.seal(bytes(16), b"x")
    (root / "rosters" / "zz-99.csv.sm4").write_bytes(other)
    code, output = run(root, "security", "check", "--instance", str(instance))
    assert f"【不符合】{item}" in output and "1个住户文件不是用本实例的密钥加密的" in output


def test_a_backup_carries_the_sealed_files_as_they_are(folders: tuple[Path, Path], tmp_path: Path) -> None:
    from generator.web.backup import restore, take

    root, instance = folders
    switch_data(root, instance, seal=True)
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in sealed.sealed_files(root)}
    taken = take(root, instance, tmp_path / "backup.zip")
    restore(taken.path, tmp_path / "again" / "data", tmp_path / "again" / "instance")
    back = tmp_path / "again" / "data"
    assert {p.relative_to(back).as_posix(): p.read_bytes() for p in sealed.sealed_files(back)} == files
    assert sealed.plain_files(back) == []
    assert (tmp_path / "again" / "instance" / KEY_FILE).read_bytes() == (instance / KEY_FILE).read_bytes()


def test_the_web_state_kept_over_a_sealed_folder_is_sealed_too(folders: tuple[Path, Path],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from generator.web.store import CACHE_FILE, Store

    root, instance = folders
    switch_data(root, instance, seal=True)
    monkeypatch.setenv(sealed.ENV, str(instance / KEY_FILE))
    cache = instance / CACHE_FILE
    first = Store(root, cache, check_seconds=3600)
    rosters = first.current().data.rosters
    deadline = time.monotonic() + 30
    while not cache.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    raw = cache.read_bytes()
    assert raw.startswith(b"GAIZAO-SM4-GCM 1 ") and "杨杰涛".encode() not in raw
    second = Store(root, cache, check_seconds=3600)
    assert second.current().data.rosters == rosters and second.reloads == 0  # restored through the key
    monkeypatch.setenv(sealed.ENV, str(root / "nowhere.key"))
    third = Store(root, cache, check_seconds=3600)
    with pytest.raises(DataError, match="sm4"):  # no key: the kept state is not used, the whole load says why
        third.current()
