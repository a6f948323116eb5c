"""Residents' files of the data folder sealed at rest with SM4 (第三级): the envelope, the readers with and
without the key, a plain file beside a sealed one, `security seal-data` / `unseal-data`, and a build from
sealed files equal to one from plain files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.data import sealed
from generator.data.loader import load
from generator.errors import DataError
from generator.intake.resident_files import current, store
from generator.web.atrest import KEY_FILE, switch_data
from generator.web.audit import AuditLog
from tests.snapshot import docx_text

pytest.importorskip("cryptography")

ROSTER = "rosters/dongqu-01.csv"


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
