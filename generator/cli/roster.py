"""`gaizao roster export/import`: a community's household roster through an Excel workbook."""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli.common import CONTEXT, data_writes

SHOWN = 30
"""Changes of a roster import listed one by one; the rest are counted."""


@click.group(context_settings=CONTEXT)
def roster() -> None:
    """住户名册（楼栋、单元、房号、户主、电话、面积及每户的征询意见）与 Excel 互相转换。"""


@roster.command("export", context_settings=CONTEXT)
@click.option("--project", "community", required=True, metavar="小区编号", help="小区编号，如 dongqu-02。")
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="写到这个 .xlsx 文件（默认：当前文件夹中的“小区编号-住户名册.xlsx”）。")
@click.pass_context
def export_cmd(ctx: click.Context, community: str, out_file: Path | None) -> None:
    """把一个小区的住户名册导出为 Excel；还没有名册时导出按楼栋预留行的空白名册。"""
    from generator.intake.roster_io import export_roster

    result = export_roster((ctx.obj or {}).get("data_dir"), community, out_file)
    click.echo(f"已导出 {result.households} 户到 {result.path}")


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
