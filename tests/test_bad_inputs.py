"""Broken inputs, as clerks paste and save them: each folder of tests/bad_inputs/ is one.

A folder holds the broken file or files and an ``expect.txt`` (see tests/bad_inputs/README.md).
Data files replace or add to a copy of the bundled plan data with one good project
(dongqu-01, which alone builds six documents); a workbook (.xlsx, .xls, .csv) is imported into
such a copy. Each case runs through the command line as a user runs it — ``validate`` and
``build`` for data, ``import --force`` for a workbook — and must exit 1 with a message naming
the file, the line or field and the problem in Chinese, without a traceback, and write nothing:
no document in the output folder, communities.yaml unchanged.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from generator.cli import main
from generator.intake.writelock import LOCK_FILE
from tests.helpers import DataDir

CASES_DIR = Path(__file__).resolve().parent / "bad_inputs"
WORKBOOK_SUFFIXES = {".xlsx", ".xls", ".xlsm", ".et", ".csv"}
DOCUMENT_SUFFIXES = {".docx", ".xlsx"}

# What must never reach a clerk: Python's own words.
FORBIDDEN = ["Traceback", "内部错误", "Input should", "Field required", "validation error",
             "Value error", "Extra inputs", "should have", "should be", "unacceptable character",
             "could not", "expected", "found", "errno", "Errno"]
EXCEPTION_NAME = re.compile(r"\b[A-Z]\w*(?:Error|Exception|Warning)\b")


@dataclass
class Case:
    name: str
    folder: Path
    commands: list[str]
    ok: bool
    delete: list[str]
    fragments: list[str]

    @property
    def workbook(self) -> Path | None:
        found = [p for p in self.folder.iterdir() if p.suffix.lower() in WORKBOOK_SUFFIXES]
        return found[0] if found else None

    def data_files(self) -> list[Path]:
        """The case's files that go into the data folder, by path relative to the case."""
        return sorted(p.relative_to(self.folder) for p in self.folder.rglob("*")
                      if p.is_file() and p.name != "expect.txt" and p != self.workbook)


def read_case(folder: Path) -> Case:
    """A case folder: its expect.txt read into commands, result, deletions and fragments."""
    commands: list[str] = []
    ok = False
    delete: list[str] = []
    fragments: list[str] = []
    for raw in (folder / "expect.txt").read_text(encoding="utf-8").splitlines():
        line = raw.rstrip()
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("命令："):
            commands = line.removeprefix("命令：").split()
        elif line.startswith("结果："):
            ok = line.removeprefix("结果：").strip() == "成功"
        elif line.startswith("删除："):
            delete.append(line.removeprefix("删除：").strip())
        else:
            fragments.append(line)
    case = Case(folder.name, folder, commands, ok, delete, fragments)
    if not case.commands:
        case.commands = ["import"] if case.workbook else ["validate", "build"]
    return case


CASES = [read_case(f) for f in sorted(CASES_DIR.iterdir())
         if f.is_dir() and not f.name.startswith(("_", ".")) and (f / "expect.txt").exists()]


def data_folder(root: Path, case: Case | None = None) -> DataDir:
    """The bundled plan files and the good project dongqu-01, with the case's files put in."""
    dd = DataDir(root)
    dd.project()
    if case is not None:
        for name in case.delete:
            target = dd.path(name)
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        for rel in case.data_files():
            target = dd.path(str(rel))
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(case.folder / rel, target)
    return dd


def snapshot(root: Path) -> dict[str, bytes]:
    """The data folder's files (not the empty writer-lock file every writing command takes)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != LOCK_FILE}


def documents(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.suffix in DOCUMENT_SUFFIXES] if out.exists() else []


def invoke(dd: DataDir, command: str, out: Path, workbook: Path | None) -> Result:
    args = {"validate": ["validate"],
            "build": ["build", "--out", str(out), "-q", "--workers", "1"],
            "import": ["import", str(workbook), "--force"]}[command]
    return CliRunner().invoke(main, ["--data", str(dd.root), *args], prog_name="gaizao")


def assert_clear(result: Result, case: Case, command: str) -> None:
    text = result.output
    where = f"{case.name}（{command}）:\n{text}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{where}\n未处理的异常：{result.exception!r}")
    assert result.exit_code == (0 if case.ok else 1), where
    missing = [f for f in case.fragments if f not in text]
    assert not missing, f"{where}\n缺少：{missing}"
    leaked = [w for w in FORBIDDEN if w in text] + EXCEPTION_NAME.findall(text)
    assert not leaked, f"{where}\n出现了程序内部的英文：{leaked}"


def test_there_are_enough_cases() -> None:
    workbooks = [c for c in CASES if c.workbook]
    assert len(CASES) >= 40 and len(workbooks) >= 10, [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_case_says_where(case: Case) -> None:
    """A failing case expects the file's name and a line, column or field, not just a problem."""
    if case.ok:
        return
    names = {p.name for p in (*case.data_files(), *(Path(d) for d in case.delete))}
    if case.workbook:
        names.add(case.workbook.name)
    assert any(n in f for n in names for f in case.fragments), (names, case.fragments)
    # a line, a field path, a column, a sheet, or a problem of the whole file
    place = re.compile(r"第\d+行|[a-z_]+(\[\d+\])?\.[a-z_]|[A-Z]+列|^[a-z_]+（|工作表“|"
                       r"文件|表头|工作簿|编码|DATE-ORDER")
    assert any(place.search(f) for f in case.fragments), case.fragments


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_clearly_and_writes_nothing(case: Case, tmp_path: Path) -> None:
    dd = data_folder(tmp_path / "data", case)
    before = snapshot(dd.root)
    for command in case.commands:
        out = tmp_path / f"out-{command}"
        result = invoke(dd, command, out, case.workbook)
        assert_clear(result, case, command)
        if not case.ok:
            assert documents(out) == [], f"{case.name}：出错时不应生成文书"
            assert snapshot(dd.root) == before, f"{case.name}：出错时数据文件夹不应被改动"


def test_without_the_broken_file_the_same_folder_works(tmp_path: Path) -> None:
    """The base every case starts from validates and builds: a case fails by its own file."""
    dd = data_folder(tmp_path / "data")
    result = invoke(dd, "validate", tmp_path / "out", None)
    assert result.exit_code == 0, result.output
    result = invoke(dd, "build", tmp_path / "out", None)
    assert result.exit_code == 0, result.output
    assert len(documents(tmp_path / "out")) == 6  # surveyed, no roster: no blank forms, a tally from the counts
    good = CASES_DIR / "_good" / "计划表.xlsx"
    result = invoke(dd, "import", tmp_path / "out", good)
    assert result.exit_code == 0, result.output
    assert "读到 2 个小区" in result.output
