"""`gaizao vote export/import/count`: a vote's ballots through an Excel workbook, and its count."""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli.common import CONTEXT, data_writes


@click.group(context_settings=CONTEXT)
def vote() -> None:
    """业主表决（加装电梯、改造方案等）：表决票与 Excel 互相转换，查看计票结果。"""


@vote.command("export", context_settings=CONTEXT)
@click.option("--vote", "vote_id", required=True, metavar="表决编号",
              help="表决编号，即 votes/ 中表决资料的文件名（不含 .yaml），如 dongqu-01-dianti-1-2。")
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="写到这个 .xlsx 文件（默认：当前文件夹中的“表决编号-表决票.xlsx”）。")
@click.pass_context
def export_cmd(ctx: click.Context, vote_id: str, out_file: Path | None) -> None:
    """把一项表决的表决票导出为 Excel：表决范围内每户一行，按住户名册预填地址、户主和面积。"""
    from generator.intake.ballots_io import export_ballots

    result = export_ballots((ctx.obj or {}).get("data_dir"), vote_id, out_file)
    click.echo(f"已导出 {result.rows} 户到 {result.path}")


@vote.command("import", context_settings=CONTEXT)
@click.argument("workbook", type=click.Path(path_type=Path, dir_okay=False), metavar="表决票.xlsx")
@click.option("--vote", "vote_id", metavar="表决编号", help="表决编号；本工具导出的表决票记有编号，可不写。")
@click.pass_context
def import_cmd(ctx: click.Context, workbook: Path, vote_id: str | None) -> None:
    """从 Excel 导入收回的表决票，替换数据文件夹 votes/ 中该表决的表决票记录。

    \b
    没有填表决意见的行算作未参加。每一处问题（意见不在可选范围、一户两票、代理人没有授权委托书、
    住户不在表决范围内）都指出工作表、行和列；有任何问题时原有记录保持原样。
    """
    from generator.intake.ballots_io import import_ballots

    with data_writes(ctx):
        result = import_ballots(workbook, (ctx.obj or {}).get("data_dir"), vote_id)
    state = "已写入" if result.changed else "内容相同，未改动"
    click.echo(f"读到 {result.rows} 张表决票，{state}：{result.path}")
    click.echo("下一步：gaizao vote count，或 gaizao build --kind vote-result 生成表决结果公示")


@vote.command("count", context_settings=CONTEXT)
@click.option("--vote", "vote_id", default=None, metavar="表决编号", help="只看这一项表决（默认：全部）。")
@click.pass_context
def count_cmd(ctx: click.Context, vote_id: str | None) -> None:
    """按方案参数中的表决规则计票，逐项显示参与和同意的户数、面积及是否通过。"""
    from generator.data.loader import BUNDLED_DATA, load
    from generator.errors import DataError, Problem
    from generator.rules.votes import count

    data = load((ctx.obj or {}).get("data_dir") or BUNDLED_DATA)
    ids = [vote_id] if vote_id else sorted(data.votes)
    if vote_id and vote_id not in data.votes:
        raise DataError([Problem("命令行参数", f"未知的表决编号“{vote_id}”")])
    if not ids:
        click.echo("数据文件夹中没有业主表决（votes/）。")
    for vid in ids:
        o = count(data, vid)
        state = {True: "通过", False: "未通过", None: "无法计票"}[o.passed]
        click.echo(f"{vid} {o.vote.matter}（{o.vote.rule}）：{state}" + (f"——{o.reason}" if o.reason else ""))
        for g in o.groups:
            click.echo(f"    {g.name}：{g.households}户，参与{g.voted}户（同意{g.yes}、不同意{g.no}、"
                       f"弃权{g.abstain}），建筑面积{g.area}㎡，参与{g.area_voted}㎡，同意{g.area_yes}㎡")
