"""The command line: options in, one call into the core, errors out on stderr with a non-zero exit."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from generator import __version__
from generator.cli import zh as cli_zh
from generator.cli.common import (
    ALL_FORMS,
    BLANK_FORMS,
    CONTEXT,
    GivenPath,
    KindOption,
    PdfStep,
    dataset,
    echo_skipped,
    force_option,
    out_option,
    pdf_options,
    progress,
    templates_option,
)
from generator.cli.data import import_cmd, init
from generator.cli.form import form
from generator.cli.printing import print_cmd
from generator.cli.reports import report
from generator.cli.templates import templates
from generator.cli.web import backup, restore, security, serve, users
from generator.data.loader import DataSet
from generator.documents.kinds import kinds_of
from generator.errors import GaizaoError

cli_zh.install()



class App(click.Group):
    """A group that turns the tool's own errors into a clear message and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GaizaoError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                traceback.print_exc()
            click.echo(f"错误：{exc}", err=True)
            sys.exit(1)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except BrokenPipeError:  # output piped into head or less that closed early
            sys.stderr.close()
            sys.exit(0)
        except KeyboardInterrupt:
            click.echo("已中断。", err=True)
            sys.exit(130)
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"内部错误：{type(exc).__name__}: {exc}\n请加 --debug 重新运行以查看详细信息。", err=True)
            sys.exit(2)


@click.group(cls=App, context_settings=CONTEXT)
@click.version_option(__version__, "--version", "-V", message="gaizao %(version)s", help="显示版本号。")
@click.option("--data", "data_dir", type=GivenPath(), default=None,
              help="数据文件夹（默认：随程序附带的 data/）。")
@click.option("--debug", is_flag=True, help="出错时显示详细的程序调用栈。")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, debug: bool) -> None:
    """老旧小区改造文书工具：校验项目数据，生成申请、方案、公示、预算、验收等 Word/Excel 文书。"""
    ctx.obj = {"data_dir": data_dir, "debug": debug}


@main.command(context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              help="输出格式：table 表格（默认），json 供脚本读取。")
@click.option("--due", is_flag=True,
              help="不校验，列出尚未完成的期限：公示期满、竣工验收备案、进展统计月报报送、年度资金结转。")
@click.option("--on", "on_day", type=click.DateTime(["%Y-%m-%d"]), default=None, metavar="年-月-日",
              help="与 --due 同用：按这一天计算期限（默认今天）。")
@click.pass_context
def validate(ctx: click.Context, fmt: str, due: bool, on_day: dt.datetime | None) -> None:
    """按方案规则校验数据；有错误时退出码为 1，只有警告时为 0。加 --due 列出期限。"""
    from generator.rules.checks import check_all
    from generator.rules.findings import render_table, summary

    data = dataset(ctx)
    if due:
        _print_deadlines(data, on_day.date() if on_day else dt.date.today(), fmt)
        return
    findings = check_all(data)
    errors = sum(1 for f in findings if f.severity == "error")
    if fmt == "json":
        payload = {"findings": [f.as_dict() for f in findings], "errors": errors,
                   "warnings": len(findings) - errors}
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        if findings:
            click.echo(render_table(findings))
        click.echo(summary(data, findings))
    sys.exit(1 if errors else 0)


def _print_deadlines(data: DataSet, today: dt.date, fmt: str) -> None:
    from generator.documents.deadlines import deadlines
    from generator.rules.findings import render_rows

    found = deadlines(data, today)
    if fmt == "json":
        click.echo(json.dumps([{"date": d.day.isoformat(), "kind": d.kind, "what": d.what, "where": d.where,
                                "district": d.district, "status": d.status(today)} for d in found],
                              ensure_ascii=False, indent=2))
        return
    click.echo(render_rows(["期限", "事项", "对象", "状态"],
                           [[d.day.isoformat(), d.what, d.where, d.status(today)] for d in found]))
    late = sum(1 for d in found if d.day < today)
    click.echo(f"截至{today.isoformat()}：未完成的期限 {len(found)} 项，其中已逾期 {late} 项。")


@main.command(context_settings=CONTEXT)
@out_option()
@click.option("--kind", "kinds", multiple=True, metavar="种类",
              cls=KindOption, kinds=lambda: kinds_of("community"), help="只生成这些文书（可重复）：{kinds}。")
@click.option("--district", metavar="县区", help="只生成这个县（区）的文书。")
@click.option("--year", type=int, metavar="年度", help="只生成这个计划年度的文书。")
@click.option("--project", metavar="编号", help="只生成这个小区（编号，如 dongqu-01）的文书。")
@templates_option
@force_option()
@pdf_options
@click.option("--workers", "-j", type=click.IntRange(1, 64), default=None, metavar="N",
              help="同时工作的进程数（默认：本机 CPU 核数）。")
@BLANK_FORMS
@ALL_FORMS
@click.option("--quiet", "-q", is_flag=True, help="不显示进度条，只输出汇总。")
@click.pass_context
def build(ctx: click.Context, out_dir: Path, kinds: tuple[str, ...], district: str | None,
          year: int | None, project: str | None, templates_dir: Path | None, force: bool,
          pdf: bool, pdf_a: bool, workers: int | None, blank_forms: int | None, all_forms: bool, quiet: bool) -> None:
    """按数据生成各小区的文书到输出文件夹（默认全部小区、全部种类）。"""
    from generator.output.pipeline import Selection, render_pool
    from generator.output.pipeline import build as run_build

    workers = workers or os.cpu_count() or 1
    step = PdfStep.wanted(pdf, pdf_a, quiet, workers)
    with render_pool(workers) as pool:  # before the data set is loaded: see render_pool
        data = dataset(ctx)
        sel = Selection(kinds=kinds, district=district, year=year, project=project, blank_forms=blank_forms,
                        all_forms=all_forms)
        result = run_build(data, out_dir, sel, force=force, templates_dir=templates_dir,
                           workers=workers, progress=progress(quiet, "生成文书"), pool=pool, then=step)
    _print_summary(result)
    if step:
        step.report()


def _print_summary(result: Any) -> None:
    total = sum(result.written.values())
    same = sum(result.unchanged.values())
    for name in sorted(set(result.written) | set(result.unchanged)):
        line = f"  {name}：{result.written[name]} 份"
        if result.unchanged[name]:
            line += f"（另有 {result.unchanged[name]} 份与上次相同，未改动）"
        click.echo(line)
    echo_skipped(result.skipped, "个小区")
    click.echo(f"共生成 {total} 份文书，{same} 份未变，跳过 {len(result.skipped)} 份；"
               f"输出在 {result.out}，清单见 {result.out / 'manifest.json'}")


from generator.cli.roster import roster  # noqa: E402  (a command group of its own)
from generator.cli.satisfaction import satisfaction  # noqa: E402  (a command group of its own)
from generator.cli.vote import vote  # noqa: E402  (a command group of its own)

for _command in (import_cmd, init, print_cmd, report, roster, vote, satisfaction, templates, form, serve, users,
                 backup, restore, security):
    main.add_command(_command)
