"""The `report` command: the district and city documents (plan table, pilot reports, assessment)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from generator.cli.common import (
    CONTEXT,
    KindChoice,
    KindOption,
    dataset,
    echo_skipped,
    force_option,
    out_option,
    templates_option,
)
from generator.documents.kinds import Kind, kinds_of

if TYPE_CHECKING:
    from generator.output.pipeline import Result



def report_kinds() -> list[Kind]:
    return kinds_of("district", "city")


@click.command(context_settings=CONTEXT)
@click.option("--kind", "kinds", multiple=True, type=KindChoice(report_kinds), metavar="种类",
              cls=KindOption, kinds=report_kinds, help="只生成这些文书（可重复）：{kinds}。")
@click.option("--year", type=int, metavar="年度",
              help="只生成这个年度的报告和考评表（默认：试点年度及以后有资料的年度的报告，"
                   "每个计划年度的考评表）。")
@click.option("--month", metavar="年-月",
              help="进展统计月报的月份，如 2019-06（默认：各年度的12月，当年为上月）；同时只生成该年度的文书。")
@out_option()
@templates_option
@force_option()
@click.pass_context
def report(ctx: click.Context, kinds: tuple[str, ...], year: int | None, month: str | None, out_dir: Path,
           templates_dir: Path | None, force: bool) -> None:
    """生成市级和县（区）级文书：年度实施计划表、试点工作报告（年度工作总结）、年度综合考评表、进展统计月报。"""
    from generator.documents.returns import parse_month
    from generator.output.pipeline import build_reports

    number = None
    if month is not None:
        chosen = parse_month(month)
        if year is not None and year != chosen.year:
            raise click.BadParameter(f"--month {month} 不在 --year {year} 年度内", param_hint="--month")
        year, number = chosen.year, chosen.month
    result = build_reports(dataset(ctx), out_dir, kinds, year, force=force, templates_dir=templates_dir,
                           month=number)
    _print_summary(result)


def _print_summary(result: Result) -> None:
    for rel in result.paths.rels:
        click.echo(f"  {rel}")
    for kind in report_kinds():
        written, same = result.written[kind.name], result.unchanged[kind.name]
        if written or same:
            line = f"{kind.name}：{written} 份"
            if same:
                line += f"（另有 {same} 份与上次相同，未改动）"
            click.echo(line)
    echo_skipped(result.skipped, "份")
    written, same = sum(result.written.values()), sum(result.unchanged.values())
    skipped = f"，跳过 {len(result.skipped)} 份" if result.skipped else ""
    click.echo(f"共生成 {written} 份，{same} 份未变{skipped}；"
               f"输出在 {result.out}，清单见 {result.out / 'manifest.json'}")
