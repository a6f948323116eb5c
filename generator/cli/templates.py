"""`gaizao templates check` and `gaizao templates fields`: look at templates before using them."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from generator.cli.common import CONTEXT, dataset


@click.group("templates", context_settings=CONTEXT)
def templates() -> None:
    """检查模板、列出模板可用的字段。"""


@templates.command("check", context_settings=CONTEXT)
@click.argument("folder", required=False, type=click.Path(path_type=Path, file_okay=False, exists=True),
                metavar="[模板文件夹]")
@click.pass_context
def check(ctx: click.Context, folder: Path | None) -> None:
    """检查模板：数据中没有的字段、被 Word 拆断的标签、语法错误、未知过滤器；有问题时退出码为 1。

    不指定文件夹时，检查数据文件夹里的 templates/（如有）和内置模板。
    """
    from generator.documents.template_check import check_folder
    from generator.render.templates import search_dirs

    data = dataset(ctx)
    folders = [folder] if folder else search_dirs(None, data.root)
    problems = 0
    for root in folders:
        findings, checked = check_folder(root, data)
        click.echo(f"{root}：检查了 {len(checked)} 个模板，发现 {len(findings)} 个问题")
        for finding in findings:
            click.echo(f"  {finding}")
        problems += len(findings)
    sys.exit(1 if problems else 0)


@templates.command("fields", context_settings=CONTEXT)
@click.argument("kind", required=False, metavar="[种类]")
@click.pass_context
def fields(ctx: click.Context, kind: str | None) -> None:
    """列出某种文书的模板可以使用的字段、类型和示例值（不指定种类时列出全部）。"""
    from generator.documents.template_check import context_factories, field_rows
    from generator.errors import TemplateError

    data = dataset(ctx)
    factories = {key: (template, factory) for template, (key, factory) in context_factories().items()}
    if kind is not None and kind not in factories:
        raise TemplateError(f"未知的文书种类“{kind}”，可选：{'、'.join(factories)}")
    for key, (template, factory) in factories.items():
        if kind not in (None, key):
            continue
        click.echo(f"# {key}（{template}）")
        for path, type_name, example in field_rows(factory(data)):
            click.echo(f"{path}\t{type_name}\t{example}")
