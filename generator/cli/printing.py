"""The print command: one print-ready Word file per district and kind, for the district bureaus."""

from __future__ import annotations

import os
from pathlib import Path

import click

from generator.cli.common import (
    ALL_FORMS,
    BLANK_FORMS,
    CONTEXT,
    KindChoice,
    KindOption,
    PdfStep,
    dataset,
    force_option,
    out_option,
    pdf_options,
    progress,
    templates_option,
)
from generator.documents.kinds import KINDS, printable


@click.command("print", context_settings=CONTEXT)
@click.option("--kind", required=True, type=KindChoice(printable), metavar="种类",
              cls=KindOption, kinds=printable, help="要合并打印的文书：{kinds}。")
@click.option("--district", metavar="县区", help="只打印这个县（区）；默认每个县（区）各出一份。")
@click.option("--year", type=int, metavar="年度", help="只收录这个计划年度的文书。")
@click.option("--street-office", metavar="街道办事处", help="只收录这个街道办事处（乡镇）的小区。")
@out_option("输出文件夹，打印文件写在其中的“打印”文件夹里。")
@templates_option
@force_option("打印文件")
@pdf_options
@click.option("--workers", "-j", type=click.IntRange(1, 64), default=None, metavar="N",
              help="同时排版、转换 PDF 的 LibreOffice 进程数（默认：本机 CPU 核数）。")
@BLANK_FORMS
@ALL_FORMS
@click.option("--quiet", "-q", is_flag=True, help="不显示进度条，只输出汇总。")
@click.pass_context
def print_cmd(ctx: click.Context, kind: str, district: str | None, year: int | None, street_office: str | None,
              out_dir: Path, templates_dir: Path | None, force: bool, pdf: bool, pdf_a: bool,
              workers: int | None, blank_forms: int | None, all_forms: bool, quiet: bool) -> None:
    """把一个县（区）的同种文书合并成一个 Word 文件批量打印：首页目录，每份另起一页、页码从1起。"""
    from generator.output.printing import print_documents

    workers = workers or os.cpu_count() or 1
    step = PdfStep.wanted(pdf, pdf_a, quiet, workers)
    result = print_documents(dataset(ctx), out_dir, kind, district=district, year=year,
                             street_office=street_office, force=force,
                             templates_dir=templates_dir, progress=progress(quiet, "合并文书"), then=step,
                             layout=True, workers=workers, blank_forms=blank_forms,
                             all_forms=all_forms)
    for rel, changed in zip(result.paths.rels, result.paths.changed, strict=True):
        state = "已生成" if changed else "未改动"
        click.echo(f"  {state}：{result.out / rel}（{result.bound[rel]} 份）")
    reasons: dict[str, int] = {}
    for s in result.skipped:
        reasons[s.reason] = reasons.get(s.reason, 0) + 1
    for reason, count in sorted(reasons.items()):
        click.echo(f"  未收录 {count} 个小区：{reason}")
    if not result.paths:
        click.echo(f"没有可打印的{KINDS[kind].name}。")
        return
    click.echo(f"共 {len(result.paths)} 个打印文件；清单见 {result.out / 'manifest.json'}")
    if step:
        step.report()
