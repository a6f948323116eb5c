"""The `report` command: the plan table, the pilot (annual) reports and the annual assessment."""

from __future__ import annotations

from pathlib import Path

import click

from generator.loader import load
from generator.reports import KINDS, ReportResult, build_reports

# The same as generator.cli.CONTEXT; not imported, so that cli.py can import this module.
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command(context_settings=CONTEXT)
@click.option("--kind", "kinds", multiple=True, type=click.Choice(list(KINDS)), metavar="种类",
              help="只生成这些文书（可重复）：plan-table 年度实施计划表、pilot-report 试点工作报告"
                   "（试点以后年度为年度工作总结）、assessment 年度综合考评表。")
@click.option("--year", type=int, metavar="年度",
              help="只生成这个年度的报告和考评表（默认：试点年度及以后有资料的年度的报告，"
                   "每个计划年度的考评表）。")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("output"),
              show_default=True, help="输出文件夹。")
@click.option("--templates", "templates_dir", type=click.Path(path_type=Path, file_okay=False),
              help="自定义模板文件夹，其中的模板优先于内置模板。")
@click.option("--force", is_flag=True, help="覆盖生成后被手工修改过的文件。")
@click.pass_context
def report(ctx: click.Context, kinds: tuple[str, ...], year: int | None, out_dir: Path,
           templates_dir: Path | None, force: bool) -> None:
    """生成市级和县（区）级文书：年度实施计划表、试点工作报告（年度工作总结）、年度综合考评表。"""
    data = load((ctx.obj or {}).get("data_dir"))
    result = build_reports(data, out_dir, kinds, year, force=force, templates_dir=templates_dir)
    _print_summary(result)


def _print_summary(result: ReportResult) -> None:
    for path in result.paths:
        click.echo(f"  {path}")
    for name in KINDS.values():
        written, same = result.written[name], result.unchanged[name]
        if written or same:
            line = f"{name}：{written} 份"
            if same:
                line += f"（另有 {same} 份与上次相同，未改动）"
            click.echo(line)
    written, same = sum(result.written.values()), sum(result.unchanged.values())
    click.echo(f"共生成 {written} 份，{same} 份未变；"
               f"输出在 {result.out}，清单见 {result.out / 'manifest.json'}")
