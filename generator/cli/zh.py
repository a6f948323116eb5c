"""Chinese for click's own words (usage, help headings, usage errors), so no English reaches a clerk."""

from __future__ import annotations

import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.types

_ZH = {
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本号并退出。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看帮助。",
    "No such option {name!r}.": "没有这个选项：{name!r}。",
    "No such command {name!r}.": "没有这个命令：{name!r}。",
    "Missing command.": "缺少命令。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带值。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 无法读取。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 无法写入。",
    "Aborted!": "已中止。",
    "default: {default}": "默认：{default}",
    "required": "必填",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "integer": "整数",
    "integer range": "整数",
}


def _gettext(message: str) -> str:
    return _ZH.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    table = {
        "Got unexpected extra argument ({args})": "多余的参数：{args}",
        "Got unexpected extra arguments ({args})": "多余的参数：{args}",
        "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
        "{value!r} is not {choice}.": "{value!r} 不是可选值 {choice}。",
        "{value!r} is not one of {choices}.": "{value!r} 不是可选值 {choices} 之一。",
        "Missing parameter: {param_name}": "缺少参数：{param_name}",
    }
    message = singular if n == 1 else plural
    return table.get(message, message)


def install() -> None:
    """Replace click's message lookups with the Chinese table above."""
    for module in (click.core, click.decorators, click.exceptions, click.formatting,
                   click.parser, click.types):
        if hasattr(module, "_"):
            module._ = _gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _ngettext  # type: ignore[attr-defined]
