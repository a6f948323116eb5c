"""Hard cases for the output folder: what a build may delete, overwrite, follow or collide with.

A build removes only the temporary files it wrote itself, never writes through a link someone
planted in its folder, refuses a folder where its own file belongs, and never lets two
documents (or two districts) share one path. None of these ends in an internal error.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from generator.cli import main
from generator.errors import OutputError
from generator.output import writer
from generator.output.writer import JOURNAL, LOCK, MANIFEST
from tests.helpers import DataDir

KIND = ("--kind", "notice", "--district", "东区")
"""A small build: four documents."""


def gaizao(*args: str, data: Path | None = None) -> Result:
    prefix = ["--data", str(data)] if data is not None else []
    return CliRunner().invoke(main, [*prefix, *args], prog_name="gaizao")


def build(out: Path, *extra: str, data: Path | None = None) -> Result:
    return gaizao("build", "--out", str(out), "-q", "--workers", "1", *KIND, *extra, data=data)


def assert_message(result: Result, code: int = 1) -> str:
    """A clean refusal (or success): the expected exit code, no traceback, no internal error."""
    text = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "内部错误" not in text and "Traceback" not in text, text
    assert result.exit_code == code, text
    return text


def documents(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*.docx"))


@pytest.fixture
def built(tmp_path: Path) -> Path:
    out = tmp_path / "output"
    assert_message(build(out), 0)
    return out


# ---------------------------------------------------------------- 1. temporary files


def test_a_clerks_dot_tmp_files_survive_a_build(built: Path) -> None:
    folder = documents(built)[0].parent
    theirs = [folder / ".现场照片.2024.tmp", built / ".备份.20240101.tmp", folder / f".{documents(built)[0].name}.tmp"]
    (folder / "其他资料").mkdir()
    theirs.append(folder / "其他资料" / ".现场照片.2024.tmp")
    for path in theirs:
        path.write_bytes(b"photo")
    assert_message(build(built), 0)
    assert all(p.read_bytes() == b"photo" for p in theirs)


def test_a_tmp_named_like_ours_for_a_file_never_journalled_survives(built: Path) -> None:
    doc = documents(built)[0]
    lookalike = doc.with_name(f".{doc.name}.12345.tmp")  # our pattern, but no killed build wrote it
    lookalike.write_bytes(b"not ours")
    assert_message(build(built), 0)
    assert lookalike.read_bytes() == b"not ours"


def test_a_killed_builds_own_temporaries_are_removed(built: Path) -> None:
    doc = documents(built)[0]
    rel = doc.relative_to(built).as_posix()
    entry = next(e for e in json.loads((built / MANIFEST).read_text("utf-8"))["documents"] if e["path"] == rel)
    (built / JOURNAL).write_text(json.dumps(entry, ensure_ascii=False) + "\n", encoding="utf-8")
    ours = [doc.with_name(f".{doc.name}.4242.tmp"), built / f".{MANIFEST}.4243.tmp"]
    for path in ours:
        path.write_bytes(b"half")
    assert_message(build(built), 0)
    assert not any(p.exists() for p in ours)
    assert not (built / JOURNAL).exists()


def test_an_outer_build_leaves_a_nested_running_builds_temporaries_alone(built: Path) -> None:
    inner = built / "2018" / "样稿"
    inner.mkdir(parents=True)
    running = inner / ".01-申请书.docx.999.tmp"  # as another build writing there would have it
    running.write_bytes(b"being written")
    assert_message(build(built), 0)
    assert running.read_bytes() == b"being written"


# ---------------------------------------------------------------- 1. colliding paths


def _rename_district(dd: DataDir, old: str, new: str) -> None:
    for name in ("districts.yaml", "communities.yaml"):
        path = dd.path(name)
        path.write_text(path.read_text("utf-8").replace(f"name: {old}\n", f"name: {new}\n")
                        .replace(f"district: {old}\n", f"district: {new}\n"), encoding="utf-8")


def _add_district(dd: DataDir, name: str) -> None:
    text = dd.path("districts.yaml").read_text("utf-8")
    text += (f"  - name: '{name}'\n    body_type: 政府\n    government: {name}人民政府\n"
             f"    housing_bureau: {name}住房和城乡建设局\n")
    dd.path("districts.yaml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize("second", ["东区.", "东区 ", " 东区", "东区. ."])
def test_two_districts_with_one_folder_name_are_refused_by_validate_and_build(tmp_path: Path, second: str) -> None:
    dd = DataDir(tmp_path / "data")
    _add_district(dd, second)
    text = assert_message(gaizao("validate", data=dd.root), 1)
    assert "OUT-PATHS" in text and "互相覆盖" in text
    out = tmp_path / "out"
    assert "OUT-PATHS" in assert_message(build(out, data=dd.root), 1)
    assert not documents(out)
    assert "OUT-PATHS" in assert_message(gaizao("report", "--out", str(out), data=dd.root), 1)


def test_districts_differing_only_in_case_share_a_windows_folder(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    _add_district(dd, "Gaoxin")
    _add_district(dd, "GAOXIN")
    assert "OUT-PATHS" in assert_message(gaizao("validate", data=dd.root), 1)


def test_a_district_named_like_the_city_folder_is_refused(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    _add_district(dd, "全市")
    assert "市级文书的文件夹" in assert_message(gaizao("validate", data=dd.root), 1)


def test_colliding_planned_paths_are_refused_before_anything_is_written(tmp_path: Path, bundled) -> None:
    from generator.output.pipeline import Selection, plan_jobs, run

    jobs, _ = plan_jobs(bundled, Selection(kinds=("notice",), district="东区"))
    jobs[1].path = jobs[0].path.upper() if jobs[0].path.isascii() else jobs[0].path
    with pytest.raises(OutputError, match="写到同一个文件"):
        run(bundled, tmp_path / "out", jobs, [])
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- 3. links and empty paths


@pytest.mark.parametrize("name", [JOURNAL, LOCK, MANIFEST])
def test_a_planted_link_for_our_own_files_is_refused(tmp_path: Path, name: str) -> None:
    out = tmp_path / "output"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"keep")
    (out / name).symlink_to(victim)
    text = assert_message(build(out), 1)
    assert "符号链接" in text
    assert victim.read_bytes() == b"keep"
    assert not documents(out)


def test_a_linked_year_folder_does_not_receive_documents(built: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    year = built / "2018"
    moved = tmp_path / "moved-2018"
    year.rename(moved)
    year.symlink_to(elsewhere, target_is_directory=True)
    text = assert_message(build(built, "--force"), 1)
    assert "符号链接" in text
    assert list(elsewhere.iterdir()) == []


def test_a_linked_district_folder_does_not_receive_documents(tmp_path: Path) -> None:
    out = tmp_path / "output"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "2019").mkdir(parents=True)
    (out / "2019" / "东区").symlink_to(elsewhere, target_is_directory=True)
    assert "符号链接" in assert_message(build(out), 1)
    assert list(elsewhere.iterdir()) == []


def test_a_document_replaced_by_a_link_is_refused_then_replaced_with_force(built: Path, tmp_path: Path) -> None:
    doc = documents(built)[0]
    secret = tmp_path / "secret.docx"
    secret.write_bytes(b"not yours")
    doc.unlink()
    doc.symlink_to(secret)
    assert "符号链接" in assert_message(build(built), 1)
    assert secret.read_bytes() == b"not yours"
    assert_message(build(built, "--force"), 0)
    assert not doc.is_symlink() and doc.read_bytes().startswith(b"PK")
    assert secret.read_bytes() == b"not yours"


def test_a_journal_line_pointing_outside_is_never_trusted_or_cleaned(built: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.docx"
    outside.write_bytes(b"x")
    (tmp_path / f".{outside.name}.77.tmp").write_bytes(b"theirs")
    line = {"path": "../outside.docx", "kind": "notice", "kind_name": "公示", "community": "", "district": "",
            "year": None, "template": "", "sha256": writer.sha256(b"x"), "data_hash": ""}
    (built / JOURNAL).write_text(json.dumps(line) + "\n", encoding="utf-8")
    assert_message(build(built), 0)
    assert (tmp_path / f".{outside.name}.77.tmp").read_bytes() == b"theirs"
    assert "../outside.docx" not in (built / MANIFEST).read_text("utf-8")


@pytest.mark.parametrize("command", [["build"], ["report"], ["print", "--kind", "notice"]])
def test_an_empty_out_is_refused(command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = gaizao(*command, "--out", "")
    assert result.exit_code == 2 and "路径不能为空" in result.output, result.output
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- 5. folders where files belong, damaged state


@pytest.mark.parametrize("name", [JOURNAL, LOCK, MANIFEST])
def test_a_folder_where_our_file_belongs_is_a_message(tmp_path: Path, name: str) -> None:
    out = tmp_path / "output"
    (out / name).mkdir(parents=True)
    assert "是文件夹" in assert_message(build(out), 1)


def test_a_deeply_nested_manifest_is_reported_as_damaged(tmp_path: Path) -> None:
    out = tmp_path / "output"
    out.mkdir()
    (out / MANIFEST).write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert "已损坏" in assert_message(build(out), 1)


def test_a_manifest_entry_leading_outside_is_damage(tmp_path: Path) -> None:
    out = tmp_path / "output"
    out.mkdir()
    entry = {"path": "/etc/passwd", "kind": "notice", "kind_name": "公示", "community": "", "district": "",
             "year": None, "template": "", "sha256": "0", "data_hash": ""}
    (out / MANIFEST).write_text(json.dumps({"documents": [entry]}), encoding="utf-8")
    assert "已损坏" in assert_message(build(out), 1)


def test_a_document_path_taken_by_a_folder_is_a_message(tmp_path: Path, built: Path) -> None:
    doc = documents(built)[0]
    doc.unlink()
    doc.mkdir()
    assert "文件夹" in assert_message(build(built, "--force"), 1)


def test_disk_full_while_writing_the_manifest_keeps_the_journal_and_a_rerun_finishes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "output"
    real = writer.atomic_write

    def full(path: Path, data: object, durable: bool = True) -> None:
        if path.name == MANIFEST:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, data, durable)  # type: ignore[arg-type]

    monkeypatch.setattr(writer, "atomic_write", full)
    text = assert_message(build(out), 1)
    assert "磁盘空间已满" in text and "清单" in text
    assert (out / JOURNAL).exists() and not (out / MANIFEST).exists()
    assert not list(out.rglob("*.tmp"))
    monkeypatch.setattr(writer, "atomic_write", real)
    again = assert_message(build(out), 0)
    assert "0 份文书，4 份未变" in again  # the journal vouched for every document


def test_a_district_name_over_255_bytes_builds_reports_and_prints(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    dd.project()
    long = "长" * 100  # 300 bytes in UTF-8: more than one folder name may hold
    _rename_district(dd, "东区", long)
    out = tmp_path / "out"
    assert_message(gaizao("validate", data=dd.root), 0)
    assert_message(gaizao("build", "--out", str(out), "-q", "--kind", "notice", data=dd.root), 0)
    assert_message(gaizao("report", "--out", str(out), "--kind", "plan-table", data=dd.root), 0)
    assert_message(gaizao("print", "--kind", "notice", "--district", long, "--out", str(out), data=dd.root), 0)
    assert documents(out)
    assert all(len(part.encode()) <= 255 for p in out.rglob("*") for part in p.relative_to(out).parts)


# ---------------------------------------------------------------- 6. unclear behaviour


@pytest.mark.parametrize("name", ["CON", "nul", "COM1", "aux", "CON.txt", "Lpt9"])
def test_windows_reserved_names_are_made_safe(tmp_path: Path, name: str) -> None:
    dd = DataDir(tmp_path / "data")
    dd.project()
    _rename_district(dd, "东区", name)
    dd.edit("communities.yaml", lambda d: d["communities"][0].update(name=name))
    out = tmp_path / "out"
    assert_message(gaizao("build", "--out", str(out), "-q", "--kind", "notice", "--district", name,
                          data=dd.root), 0)
    parts = {part for p in out.rglob("*") for part in p.relative_to(out).parts}
    reserved = {"con", "nul", "com1", "aux", "lpt9"}
    assert not {p for p in parts if p.split(".")[0].casefold() in reserved}, parts
    assert any(p.casefold().startswith(name.split(".")[0].casefold() + "_") for p in parts)


@pytest.mark.parametrize("command", [["build"], ["print", "--kind", "notice"], ["report"]])
def test_a_misspelt_templates_folder_is_refused(tmp_path: Path, command: list[str]) -> None:
    out = tmp_path / "out"
    text = assert_message(gaizao(*command, "--out", str(out), "--templates", str(tmp_path / "tempaltes")), 1)
    assert "自定义模板文件夹" in text and "不存在" in text
    assert not documents(out)


@pytest.mark.parametrize("command", [["build", "-q"], ["print", "--kind", "notice"], ["report"]])
@pytest.mark.parametrize("year", ["99999999999999999999999", "1999", "-5"])
def test_a_year_outside_the_plan_is_refused(tmp_path: Path, command: list[str], year: str) -> None:
    out = tmp_path / "out"
    text = assert_message(gaizao(*command, "--out", str(out), "--year", year), 1)
    assert "不在方案计划年度" in text
    assert len(text) < 400
    assert not documents(out)


def test_init_into_an_impossible_path_is_a_message_and_leaves_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    text = assert_message(gaizao("init", str(blocker / "新市"), "--city", "新市"), 1)
    assert "无法在" in text
    assert blocker.read_text() == "x"


def test_init_failing_half_way_leaves_nothing_the_rerun_refuses(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "new" / "绵阳"
    real = Path.write_bytes

    def fail_readme(self: Path, data: bytes) -> int:
        if self.name == "README.txt":
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", fail_readme)
    text = assert_message(gaizao("init", str(folder), "--city", "绵阳市"), 1)
    assert "磁盘空间已满" in text
    assert not (tmp_path / "new").exists()
    monkeypatch.setattr(Path, "write_bytes", real)
    assert_message(gaizao("init", str(folder), "--city", "绵阳市"), 0)
    assert (folder / "README.txt").exists()
