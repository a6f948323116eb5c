"""The core's messages in a browser user's words: where (sheet, row, column), what, and what to do,
without server paths, command names or options, which mean nothing to a clerk at a browser."""

from __future__ import annotations

import re

from generator.errors import Problem

COMMAND_HINTS: tuple[tuple[str, str], ...] = (
    # (the command line's hint, what a browser user does instead)
    ("；自己制作的住户名册请用 gaizao roster import 文件 --project 小区编号 导入",
     "；住户名册请在小区页面的“住户名册”一栏上传"),
    ("请用 gaizao roster import 文件 --project 小区编号 导入", "请在小区页面的“住户名册”一栏上传"),
    ("请用 gaizao form export 导出的填报表填写", "请用小区页面“下载填报表”得到的填报表填写"),
    ("请用 gaizao form export 重新导出后填写", "请在小区页面重新下载填报表后填写"),
    ("请用 gaizao roster export 重新导出后填写", "请在小区页面重新下载住户名册后填写"),
    ("请确认数据文件夹（--data）和文件是否选对", "请确认文件是否选对"),
    ("（catalogue.yaml）", ""),
    ("（communities.yaml）", ""),
    ("用 gaizao 导出", "导出"),
)
SCORE_CHART: dict[str, str] = {
    "full": "（满分{full}分）",
    "score": "{score}分 · 满意率{rate}",
    "unanswered": "未答",
    "question": "第{number}题",
}
"""The words of the satisfaction page's score charts (title's full mark, a bar's figures, a question's
label), kept together for the page template that draws the charts."""
SHEET = re.compile(r"工作表“[^”]+”")


def clerk_text(text: str) -> str:
    """A core message with the command line's hints put in a browser user's words."""
    for cli, web in COMMAND_HINTS:
        text = text.replace(cli, web)
    return text


def upload_problem(p: Problem) -> str:
    """One problem of an uploaded workbook: sheet, row, column, what is wrong; never the server's path."""
    where = []
    sheet = SHEET.search(str(p.file))
    if sheet:
        where.append(sheet.group(0))
    if p.line is not None:
        where.append(f"第{p.line}行")
    if p.field:
        where.append(p.field)
    text = clerk_text(p.problem)
    return f"{' '.join(where)}：{text}" if where else text


def conflict(both: list[str], only: list[str]) -> str:
    """A 填报表 exported before the project was changed elsewhere: what changed, and what to do."""
    text = "这份填报表下载之后，本小区的资料已在网页上或由他人修改过，为免覆盖，未导入。"
    if both:
        text += f"填报表和现有资料都改过的项目：{'；'.join(both)}。"
    if only:
        text += f"只在现有资料中改过的项目：{'；'.join(only[:10])}{'等' if len(only) > 10 else ''}。"
    return text + "请在小区页面重新下载填报表，把您的修改填入新表后再上传。"
