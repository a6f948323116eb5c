"""The command line: Chinese help for every command, `validate` exit codes, output and errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from generator import __version__
from generator.cli import main
from tests.helpers import DataDir, good_project

SUMMARY = re.compile(
    r"已按 \d+ 条规则检查 30 个小区、(\d+) 份项目资料：错误 (\d+) 条，警告 (\d+) 条。"
)
DONGQU = "方案正文写东区预计投资8347万元，附件1逐行合计为8347.5万元"

# click's own English, which generator.cli.zh must have replaced
CLICK_ENGLISH = ["Show this message", "Show the version", "Usage:", "Options:", "Commands:",
                 "default:", "[required]", "Error:"]
ENGLISH_WORDS = {"the", "and", "or", "to", "of", "for", "this", "with", "show", "exit", "usage",
                 "options", "commands", "default", "message", "version", "required", "file"}


@pytest.fixture
def dd(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="gaizao")


def commands(group: click.Group = main, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path of the CLI, the group itself first, whatever commands exist now."""
    found = [path]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found.extend(commands(command, (*path, name)))
        else:
            found.append((*path, name))
    return found


def command_at(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def english_in(help_text: str) -> list[str]:
    """English prose left in help once names, option names, metavars and [a|b] are taken out."""
    names = {"gaizao", *(name for path in commands() for name in path)}
    text = " ".join(w for w in help_text.split(" ") if w not in names)
    text = re.sub(r"\[[^\]]*\|[^\]]*\]", "", text)  # [table|json]
    text = re.sub(r"(?<![\w-])--?[\w-]+", "", text)  # --format, -h
    text = re.sub(r"\b[A-Z][A-Z_.]+\b", "", text)  # OPTIONS, COMMAND, ARGS...
    prose = re.findall(r"[A-Za-z]+(?: [A-Za-z]+)+", text)  # two Latin words in a row
    words = [w for w in re.findall(r"[A-Za-z]+", text) if w.lower() in ENGLISH_WORDS]
    return prose + words + [s for s in CLICK_ENGLISH if s in help_text]


def has_chinese(text: str | None) -> bool:
    return bool(text and re.search(r"[\u4e00-\u9fff]", text))


# ---------------------------------------------------------------- help


def test_there_are_commands_to_check() -> None:
    assert ("validate",) in commands()


@pytest.mark.parametrize("path", commands(), ids=lambda p: " ".join(p) or "gaizao")
def test_help_is_chinese(path: tuple[str, ...]) -> None:
    result = run(*path, "--help")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("用法：")
    assert english_in(result.output) == [], result.output
    command = command_at(path)
    assert has_chinese(command.help), f"{' '.join(path) or 'gaizao'} 缺少中文帮助"
    for param in command.params:
        if isinstance(param, click.Option):
            assert has_chinese(param.help), f"选项 {param.opts} 缺少中文帮助"
    for name in (command.commands if isinstance(command, click.Group) else {}):
        assert name in result.output


def test_help_check_would_catch_clicks_english() -> None:
    assert english_in("  --help  Show this message and exit.") != []
    assert english_in("  --format [table|json]  输出格式") == []


def test_version() -> None:
    result = run("--version")
    assert (result.exit_code, result.output.strip()) == (0, f"gaizao {__version__}")


def test_unknown_command_is_refused_in_chinese() -> None:
    result = run("valdate")
    assert result.exit_code == 2
    assert "没有这个命令" in result.stderr and "No such command" not in result.stderr


# ---------------------------------------------------------------- validate


def test_validate_bundled_programme_warns_and_exits_0(dd: DataDir) -> None:
    result = run("--data", str(dd.root), "validate")
    assert result.exit_code == 0, result.output
    summary = SUMMARY.search(result.stdout)
    assert summary and summary.groups()[:2] == ("0", "0"), result.stdout
    assert int(summary.group(3)) >= 4  # 东区 and the three built-year warnings at least
    assert DONGQU in result.stdout
    assert "PLAN-TOTALS" in result.stdout and "警告" in result.stdout


def test_validate_exits_1_on_an_error(dd: DataDir) -> None:
    project = good_project()
    project["survey"]["no_answer"] = 7
    dd.project(project)
    result = run("--data", str(dd.root), "validate")
    assert result.exit_code == 1, result.output
    summary = SUMMARY.search(result.stdout)
    assert summary and summary.groups()[:2] == ("1", "1"), result.stdout
    assert "SURVEY-COUNTS" in result.stdout
    assert "同意285+反对9+未表态7=301户，与征询户数300户不符" in result.stdout


def test_validate_json(dd: DataDir) -> None:
    result = run("--data", str(dd.root), "validate", "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"findings", "errors", "warnings"}
    assert payload["errors"] == 0
    assert payload["warnings"] == len(payload["findings"]) >= 4
    first = payload["findings"][0]
    assert set(first) == {"rule", "severity", "file", "where", "field", "message"}
    assert DONGQU in [f["message"] for f in payload["findings"]]


def test_validate_json_counts_errors(dd: DataDir) -> None:
    project = good_project()
    project["completion"]["households_done"] = 301
    dd.project(project)
    result = run("--data", str(dd.root), "validate", "--format", "json")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["errors"] == 1
    assert payload["findings"][0]["rule"] == "COMPLETION-HOUSEHOLDS"  # errors come first


def _break_households(dd: DataDir) -> int:
    return dd.replace("communities.yaml", "    households: 300\n", "    households: -300\n")


def test_bad_data_folder_exits_1_with_a_message_and_no_traceback(dd: DataDir) -> None:
    line = _break_households(dd)
    result = run("--data", str(dd.root), "validate")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("错误：")
    assert f"communities.yaml 第{line}行 communities[0].households" in result.stderr
    assert "必须大于0" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(dd: DataDir) -> None:
    _break_households(dd)
    result = run("--data", str(dd.root), "--debug", "validate")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr and "DataError" in result.stderr
    assert "必须大于0" in result.stderr


def test_missing_data_folder(tmp_path: Path) -> None:
    result = run("--data", str(tmp_path / "nowhere"), "validate")
    assert result.exit_code == 1
    assert "数据文件夹不存在" in result.stderr and "Traceback" not in result.stderr
