"""`gaizao roster export/import`: a community's household roster through an Excel workbook."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from generator.cli.common import CONTEXT, data_writes
from generator.cli.web import command_user, instance_option
from generator.errors import GaizaoError

if TYPE_CHECKING:
    from generator.web.audit import AuditLog

SHOWN = 30
"""Changes of a roster import listed one by one; the rest are counted."""


@click.group(context_settings=CONTEXT)
def roster() -> None:
    """住户名册（楼栋、单元、房号、户主、电话、面积及每户的征询意见）与 Excel 互相转换。"""


@roster.command("export", context_settings=CONTEXT)
@click.option("--project", "community", required=True, metavar="小区编号", help="小区编号，如 dongqu-02。")
@click.option("--purpose", required=True, metavar="用途",
              help="导出用途（如“入户征询意见”），与导出人、时间、文件一起记入操作记录（名册含住户姓名、电话）。")
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="写到这个 .xlsx 文件（默认：当前文件夹中的“小区编号-住户名册.xlsx”）。")
@instance_option
@click.pass_context
def export_cmd(ctx: click.Context, community: str, purpose: str, out_file: Path | None,
               instance: Path | None) -> None:
    """把一个小区的住户名册导出为 Excel；还没有名册时导出按楼栋预留行的空白名册。

    \b
    有网页版的实例文件夹时（--instance，或当前文件夹下已有 instance/），导出人（本机登录用户名）、
    用途和文件记入网页版的操作记录，与网页上的名册下载一起备查。
    """
    from generator.intake.roster_io import export_roster

    purpose = stated_purpose(purpose)
    log = audit_log(instance)  # opened first: a damaged database stops the export before any file is written
    result = export_roster((ctx.obj or {}).get("data_dir"), community, out_file)
    if log is not None:
        try:
            log.append(command_user(), "roster-export", community,
                       detail=f"用途：{purpose}；文件：{result.path.resolve()}", address="")
        except GaizaoError:
            result.path.unlink(missing_ok=True)  # a roster out without its record is what the record prevents
            raise
    click.echo(f"已导出 {result.households} 户到 {result.path}")
    if log is None:
        click.echo(NOT_RECORDED, err=True)


NOT_RECORDED = "提示：没有网页版的实例文件夹，本次导出的住户名册未记入操作记录（可用 --instance 指定）。"


def stated_purpose(purpose: str) -> str:
    """A roster export's purpose, spaces folded; refused when empty or longer than the web allows."""
    from generator.web.audit import PURPOSE

    purpose = " ".join(purpose.split())
    if not purpose or len(purpose) > PURPOSE:
        raise click.BadParameter(f"请写明导出用途（不超过{PURPOSE}个字）", param_hint="--purpose")
    return purpose


def audit_log(instance: Path | None) -> AuditLog | None:
    """The audit log of the named instance folder, or of ./instance when it holds a database; else None."""
    from generator.web.audit import AuditLog
    from generator.web.statedb import DB_FILE

    if instance is None:
        if not (Path("instance") / DB_FILE).is_file():
            return None
        instance = Path("instance")
    return AuditLog(instance.resolve())


@roster.command("import", context_settings=CONTEXT)
@click.argument("workbook", type=click.Path(path_type=Path, dir_okay=False), metavar="名册.xlsx")
@click.option("--project", "community", metavar="小区编号",
              help="小区编号，如 dongqu-02；本工具导出的名册记有小区编号，可不写。")
@click.pass_context
def import_cmd(ctx: click.Context, workbook: Path, community: str | None) -> None:
    """从 Excel 导入住户名册，替换数据文件夹 rosters/ 中该小区的名册。

    \b
    列的顺序不限，楼栋可用合并单元格，空行跳过。每一处问题都指出工作表、行和列；
    有任何问题时名册保持原样。自己制作的名册（不是导出的）要用 --project 指明小区。
    """
    from generator.intake.roster_io import import_roster

    with data_writes(ctx):
        result = import_roster(workbook, (ctx.obj or {}).get("data_dir"), community)
    state = f"已写入（改动 {len(result.changes)} 处）" if result.changed else "内容相同，未改动"
    click.echo(f"读到 {result.households} 户，{state}：{result.path}")
    for what, before, after in result.changes[:SHOWN]:
        click.echo(f"    {what}：{before} → {after}")
    if len(result.changes) > SHOWN:
        click.echo(f"    ……另有 {len(result.changes) - SHOWN} 处")
    click.echo("下一步：gaizao validate")
