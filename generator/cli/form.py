"""`gaizao form export` and `gaizao form import`: the clerks' 填报表 out to Excel/WPS and back."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from generator.cli.common import CONTEXT, data_writes, dataset
from generator.cli.roster import NOT_RECORDED, SHOWN, audit_log, stated_purpose
from generator.cli.web import command_user, instance_option


@click.group("form", context_settings=CONTEXT)
def form() -> None:
    """填报表：每个小区一个 Excel 工作簿，街道办事处填写项目资料后交回导入。"""


@form.command("export", context_settings=CONTEXT)
@click.option("--project", metavar="编号", help="只导出这个小区（编号，如 dongqu-01）。")
@click.option("--district", metavar="县区", help="只导出这个县（区）的小区。")
@click.option("--year", type=int, metavar="年度", help="只导出这个计划年度的小区。")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("填报表"),
              show_default=True, help="输出文件夹。")
@click.option("--purpose", default="随填报表交街道办事处填写", show_default=True, metavar="用途",
              help="导出住户名册的用途，有实例文件夹时与导出人、时间、文件夹一起记入操作记录。")
@instance_option
@click.pass_context
def export_cmd(ctx: click.Context, project: str | None, district: str | None, year: int | None,
               out_dir: Path, purpose: str, instance: Path | None) -> None:
    """导出填报表：每个小区一个 .xlsx，已有的项目资料预先填好；旁边另有该小区的住户名册。

    \b
    文件按“年度/县区/序号-小区名称-填报表.xlsx”存放，住户名册为“序号-小区名称-住户名册.xlsx”。
    黄色单元格填写，灰色的是计划表内容或自动计算的结果；下拉列表、数字和日期的检查在 Excel 和 WPS 中都有效。
    已有同名文件且内容不同时不会覆盖。
    """
    from generator.intake.form import export_forms, select

    purpose = stated_purpose(purpose)
    log = audit_log(instance)  # opened first: a damaged database stops the export before any file is written
    data = dataset(ctx)
    result = export_forms(data, out_dir, select(data, project, district, year))
    for path, roster in zip(result.files, result.rosters, strict=True):
        click.echo(f"  {path}")
        click.echo(f"  {roster}")
    if log is not None and result.rosters:
        # one record for the whole export: a district's is thousands of rosters
        chosen = " ".join(x for x in (project, district, f"{year}年度" if year else None) if x) or "全部小区"
        log.append(command_user(), "roster-export", project or "",
                   detail=f"用途：{purpose}；随填报表导出{len(result.rosters)}个小区的住户名册（{chosen}）；"
                          f"文件夹：{result.out.resolve()}", address="")
    click.echo(f"已导出 {len(result.files)} 个小区的填报表和住户名册到 {result.out}。")
    if log is None and result.rosters:
        click.echo(NOT_RECORDED, err=True)


@form.command("import", context_settings=CONTEXT)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False),
                metavar="填报表.xlsx...")
@click.option("--force", is_flag=True, help="项目资料在导出后已被修改时，仍以填报表为准写入。")
@click.pass_context
def import_cmd(ctx: click.Context, files: tuple[Path, ...], force: bool) -> None:
    """导入交回的填报表和住户名册（可一次导入多个），写入 projects/<编号>.yaml 和 rosters/<编号>.csv。

    \b
    每个文件先整体检查：有问题的文件不写入任何内容，并逐条指出工作表、行、列和原因；
    其余文件照常导入。列出每个文件改了哪些项目（原值 → 新值）；没有改动的文件不重写。
    项目资料在导出填报表之后被改过时不覆盖（列出双方都改过的项目），除非加 --force。
    """
    from generator.intake.form_import import import_forms

    with data_writes(ctx):  # read and written with no web save in between
        summary = import_forms(dataset(ctx), list(files), force=force)
    for result in summary.files:
        if not result.ok:
            click.echo(f"✗ {result.path}：有 {len(result.problems)} 个问题，未写入", err=True)
            for problem in result.problems:
                click.echo(f"    {problem}", err=True)
        elif result.note:
            click.echo(f"✓ {result.path}：{result.note}")
        elif result.written and result.households is not None:
            click.echo(f"✓ {result.path} → {result.target}（住户名册 {result.households} 户，"
                       f"改动 {len(result.changes)} 处）")
            for change in result.changes[:SHOWN]:
                click.echo(f"    {change}")
            if len(result.changes) > SHOWN:
                click.echo(f"    ……另有 {len(result.changes) - SHOWN} 处")
        elif result.written:
            what = "新建" if result.new_file else f"修改 {len(result.changes)} 项"
            click.echo(f"✓ {result.path} → {result.target}（{what}）")
            for change in result.changes:
                click.echo(f"    {change}")
        else:
            click.echo(f"✓ {result.path}：与 {result.target} 相同，未改动")
    bad = sum(1 for r in summary.files if not r.ok)
    written = sum(1 for r in summary.files if r.written)
    click.echo(f"共 {len(summary.files)} 个文件：写入 {written} 个，未改动 "
               f"{len(summary.files) - bad - written} 个，有问题 {bad} 个。")
    if written:
        data_dir = (ctx.find_root().obj or {}).get("data_dir")
        click.echo(f"下一步：gaizao {f'--data {data_dir} ' if data_dir else ''}validate（按方案规则检查导入的资料）")
    if bad:
        sys.exit(1)
