"""Hard cases for YAML numbers: the YAML 1.1 forms that turn into other numbers without a word.

0300 would be read as 192 (octal), 12:30 as 750 (base 60), 0x12C as 300: each is refused, in
every numeric field, with a message showing what was written and its line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.errors import DataError
from tests.helpers import DataDir

FORMS = ["0300", "012", "12:30", "1:20:30", "0x12C", "0b1010", "1_000", "0300.5", "+0300"]
"""Forms YAML 1.1 reads as numbers other than the digits seem to say."""

PLACES = [
    ("communities.yaml", "    households: 300\n", "    households: {}\n"),
    ("communities.yaml", "    investment_wan: 750\n", "    investment_wan: {}\n"),
    ("communities.yaml", "    seq: 1\n", "    seq: {}\n"),
    ("programme.yaml", "  households: 4071\n", "  households: {}\n"),
    ("projects/dongqu-01.yaml", "    amount: 120000\n", "    amount: {}\n"),
    ("projects/dongqu-01.yaml", "    quantity: 1\n", "    quantity: {}\n"),
]


@pytest.fixture
def dd(tmp_path: Path) -> DataDir:
    dd = DataDir(tmp_path / "data")
    dd.project()
    return dd


def refused_at(dd: DataDir, form: str, file: str, old: str, new: str) -> None:
    line = dd.replace(file, old, new.format(form))
    with pytest.raises(DataError) as exc:
        dd.load()
    (problem,) = exc.value.problems
    assert f"“{form}”" in problem.problem, problem
    assert problem.line == line and str(problem.file).endswith(file)


@pytest.mark.parametrize("form", FORMS)
def test_yaml_11_number_forms_are_refused_showing_what_was_written(dd: DataDir, form: str) -> None:
    refused_at(dd, form, *PLACES[0])


@pytest.mark.parametrize("form", ["0300", "12:30", "0x12C"])
@pytest.mark.parametrize(("file", "old", "new"), PLACES[1:],
                         ids=[f"{f}:{o.split(':')[0].strip()}" for f, o, _ in PLACES[1:]])
def test_every_numeric_field_refuses_them(dd: DataDir, form: str, file: str, old: str, new: str) -> None:
    refused_at(dd, form, file, old, new)


@pytest.mark.parametrize("form", ["0300", "12:30", "0x12C"])
def test_the_forms_are_refused_in_text_fields_too(dd: DataDir, form: str) -> None:
    # a house number or a time written unquoted would otherwise become another number as text
    dd.replace("communities.yaml", "    seq: 1\n", f"    seq: 1\n    remarks: {form}\n")
    with pytest.raises(DataError, match=f"“{form}”.*请加引号"):
        dd.load()


@pytest.mark.parametrize("form", ["'0300'", '"12:30"'])
def test_quoted_forms_are_text(dd: DataDir, form: str) -> None:
    dd.replace("communities.yaml", "    seq: 1\n", f"    seq: 1\n    remarks: {form}\n")
    community = dd.load().communities["dongqu-01"]
    assert community.remarks == form.strip("'\"")


@pytest.mark.parametrize(("form", "value"), [("300", 300), ("+300", 300), ("0", None), ("750.0", None), ("0.5", None)])
def test_plain_numbers_are_still_read(dd: DataDir, form: str, value: int | None) -> None:
    dd.replace("communities.yaml", "    investment_wan: 750\n", f"    investment_wan: {form}\n")
    got = dd.load().communities["dongqu-01"].investment_wan
    assert str(got) == form.lstrip("+") if value is None else got == value


def test_validate_reports_the_form_without_an_internal_error(dd: DataDir) -> None:
    dd.replace("communities.yaml", "    households: 300\n", "    households: 0300\n")
    result = CliRunner().invoke(main, ["--data", str(dd.root), "validate"])
    assert result.exit_code == 1
    assert "“0300”" in result.output and "八进制" in result.output and "内部错误" not in result.output


@pytest.mark.parametrize("text", [
    "base: &b {households: 300}\ncommunities:\n  - <<: *b\n    id: x\n",
    "communities:\n  - {<<: {seq: 1}, id: x}\n",
])
def test_a_merge_key_is_reported_as_such(dd: DataDir, text: str) -> None:
    dd.write("communities.yaml", text)
    with pytest.raises(DataError) as exc:
        dd.load()
    message = str(exc.value)
    assert "合并键“<<”" in message and "“!”" not in message, message


def test_an_investment_of_1e308_is_reported_as_over_the_limit(dd: DataDir) -> None:
    dd.replace("communities.yaml", "    investment_wan: 750\n", "    investment_wan: 1.0e+308\n")
    with pytest.raises(DataError) as exc:
        dd.load()
    message = str(exc.value)
    assert "超过上限" in message and len(message) < 400, message


# ---------------------------------------------------------------- files that are not files


def test_a_fifo_or_a_link_to_a_device_in_projects_is_refused_without_reading(dd: DataDir) -> None:
    import os

    os.mkfifo(dd.path("projects/fifo-01.yaml"))
    dd.path("projects/zero-01.yaml").symlink_to("/dev/zero")
    (dd.root / "rosters").mkdir(exist_ok=True)
    dd.path("rosters/dongqu-01.csv").symlink_to("/dev/zero")
    result = CliRunner().invoke(main, ["--data", str(dd.root), "validate"])  # would hang or fill the memory
    assert result.exit_code == 1, result.output
    for name in ("projects/fifo-01.yaml", "projects/zero-01.yaml", "rosters/dongqu-01.csv"):
        assert f"{dd.path(name)}：不是普通文件（是设备、管道或套接字），不能作为数据文件读取" in result.output


def test_a_key_longer_than_yaml_allows_is_named_as_such(dd: DataDir) -> None:
    dd.path("projects/dongqu-01.yaml").write_text(
        dd.path("projects/dongqu-01.yaml").read_text(encoding="utf-8") + "键" * 2000 + ": 值\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        dd.load()
    assert "冒号前的键名超过 1024 个字符" in str(exc.value) and "缺少冒号" not in str(exc.value)
