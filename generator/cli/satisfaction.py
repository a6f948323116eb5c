"""`gaizao satisfaction export/import`: a satisfaction survey's answers through an Excel workbook."""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli.common import CONTEXT, data_writes


@click.group(context_settings=CONTEXT)
def satisfaction() -> None:
    """居民满意度调查：答卷与 Excel 互相转换。"""


@satisfaction.command("export", context_settings=CONTEXT)
@click.option("--survey", "survey_id", required=True, metavar="调查编号",
              help="调查编号，即 satisfaction/ 中问卷的文件名（不含 .yaml），如 dongqu-01-2018。")
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="写到这个 .xlsx 文件（默认：当前文件夹中的“调查编号-满意度调查.xlsx”）。")
@click.pass_context
def export_cmd(ctx: click.Context, survey_id: str, out_file: Path | None) -> None:
    """把一次满意度调查的答卷导出为 Excel：住户名册每户一行，每题一列（从下拉选项中选）。"""
    from generator.intake.satisfaction_io import export_answers

    result = export_answers((ctx.obj or {}).get("data_dir"), survey_id, out_file)
    click.echo(f"已导出 {result.rows} 行到 {result.path}")


@satisfaction.command("import", context_settings=CONTEXT)
@click.argument("workbook", type=click.Path(path_type=Path, dir_okay=False), metavar="答卷.xlsx")
@click.option("--survey", "survey_id", metavar="调查编号", help="调查编号；本工具导出的答卷记有编号，可不写。")
@click.pass_context
def import_cmd(ctx: click.Context, workbook: Path, survey_id: str | None) -> None:
    """从 Excel 导入收回的答卷，替换数据文件夹 satisfaction/ 中该调查的答卷记录。

    \b
    一题都没有答的行算作未收回；不记名的问卷写在末尾的空行里（不填楼栋、房号）。每一处问题
    （答案不是问卷的选项、一户交了两份、房号不在住户名册中）都指出工作表、行和列；有任何问题时
    原有记录保持原样。
    """
    from generator.intake.satisfaction_io import import_answers

    with data_writes(ctx):
        result = import_answers(workbook, (ctx.obj or {}).get("data_dir"), survey_id)
    state = "已写入" if result.changed else "内容相同，未改动"
    click.echo(f"读到 {result.rows} 份答卷，{state}：{result.path}")
    click.echo("下一步：gaizao build --kind satisfaction-tally 生成满意度调查结果汇总表")
