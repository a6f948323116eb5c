"""Commands that make data folders: `import` a plan workbook, `init` a folder for another city."""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli.common import CONTEXT, GivenPath, data_writes


@click.command("import", context_settings=CONTEXT)
@click.argument("workbook", type=GivenPath(dir_okay=False), metavar="计划表.xlsx")
@click.option("--out", "out_file", type=GivenPath(dir_okay=False), default=None,
              help="写到这个文件，而不是数据文件夹中的 communities.yaml。")
@click.option("--force", is_flag=True,
              help="覆盖内容不同的现有 communities.yaml（默认只列出差异、不覆盖）。")
@click.pass_context
def import_cmd(ctx: click.Context, workbook: Path, out_file: Path | None, force: bool) -> None:
    """从附件1式样的年度实施计划表（.xlsx）导入小区，写入数据文件夹（--data）的 communities.yaml。

    \b
    表头行可在标题行下面，列的顺序不限；“改造年度计划”可用合并单元格覆盖
    该年度各行，也可每行填写；各年度“合计”行和“总计”行与逐行相加的结果核对。
    小区行中的公式、写成文字的数字、隐藏的行都会报错，并指出工作表、行和列。
    名称和县（区）都相同的小区保留原编号，新小区编为“县区代号-序号”。
    写入前先确认数据文件夹能正常读取；现有文件内容不同时须加 --force 才覆盖。
    """
    from generator.intake.plan_import import import_workbook

    data_dir = (ctx.obj or {}).get("data_dir")
    with data_writes(ctx):
        result = import_workbook(workbook, data_dir, out=out_file, force=force)
    years = "、".join(f"{year}年 {count} 个" for year, count in result.by_year.items())
    click.echo(f"读到 {len(result.rows)} 个小区（{years}）：沿用原编号 {result.kept_ids} 个，"
               f"新编号 {result.new_ids} 个。")
    if result.carried:
        click.echo(f"另保留数据中已调出计划（withdrawn）的小区 {result.carried} 个。")
    if result.written:
        change = (f"新增 {result.added} 个、修改 {result.changed} 个、删除 {result.removed} 个小区"
                  if result.existed else "新建文件")
        click.echo(f"已写入 {result.target}（{change}），数据文件夹可以正常读取。")
    else:
        click.echo(f"{result.target} 的内容与计划表相同，未改动。")
    data = f"--data {data_dir} " if data_dir else ""
    click.echo(f"下一步：gaizao {data}validate")


@click.command("init", context_settings=CONTEXT)
@click.argument("folder", type=GivenPath(file_okay=False), metavar="文件夹")
@click.option("--city", required=True, metavar="城市",
              help="城市全称，如“绵阳市”，用于方案名称、发文机关、报送单位等。")
@click.option("--plan", "plan", type=click.Path(path_type=Path, dir_okay=False), default=None,
              metavar="计划表.xlsx",
              help="本市的年度实施计划表：县（区）和计划年度取自表中，并导入其中的小区。")
def init(folder: Path, city: str, plan: Path | None) -> None:
    """为另一个城市新建数据文件夹：方案参数、县（区）示例、项目分类表、空的计划表和说明。

    \b
    方案参数沿用随附方案的取值，城市名称等按 --city 生成，发文字号留待填写。
    文件夹须不存在或为空。之后按其中 README.txt 的步骤：导入计划表 → 校验 → 生成文书。
    加 --plan 时，县（区）和计划年度按计划表建立并导入小区，随即可以校验和生成文书，
    尚待本市填写的内容在文件和文书中标为“【待填写】”。
    """
    from generator.intake.init import init_data

    result = init_data(folder, city, plan)
    click.echo(f"已新建数据文件夹 {result.folder}：")
    for path in result.files:
        click.echo(f"  {path.name}{'/' if path.is_dir() else ''}")
    if plan is not None:
        click.echo("按计划表作了以下设定，请核对：")
        for line in result.assumed:
            click.echo(f"  · {line}")
        click.echo("本市还须填写（文件和文书中标为“【待填写】”）：")
        for line in result.todo:
            click.echo(f"  · {line}")
        click.echo(f"现在即可运行：\n  gaizao --data {folder} validate\n  gaizao --data {folder} build")
        return
    click.echo("请先修改 programme.yaml（发文字号等）和 districts.yaml（本市县区），然后：\n"
               f"  gaizao --data {folder} import 计划表.xlsx\n"
               f"  gaizao --data {folder} validate")
