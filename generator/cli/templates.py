"""`gaizao templates check`, `restyle`, `diff` and `fields`: look at templates before using them, give
them the layout, see what an upgrade changed."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from generator.cli.common import CONTEXT, dataset

REFERENCE_OPTION = click.option(
    "--reference", type=click.Path(path_type=Path, dir_okay=False, exists=True), metavar="文件",
    help="版式参考文件（.docx）。默认用模板文件夹或数据文件夹 templates/ 里的 reference.docx，没有时用内置的。")


@click.group("templates", context_settings=CONTEXT)
def templates() -> None:
    """检查模板、套用版式、与内置模板比较、列出模板可用的字段。"""


@templates.command("check", context_settings=CONTEXT)
@click.argument("folder", required=False, type=click.Path(path_type=Path, file_okay=False, exists=True),
                metavar="[模板文件夹]")
@REFERENCE_OPTION
@click.pass_context
def check(ctx: click.Context, folder: Path | None, reference: Path | None) -> None:
    """检查模板：数据中没有的字段、语法错误、未知过滤器、拆到两个段落里的标签、未接受的修订，以及 Word 模板的版式
    （纸张、页边距、每页行数、每行字数、字体字号、页码）是否与版式参考文件一致；有问题时退出码为 1。

    不指定文件夹时，检查数据文件夹里的 templates/（如有）和内置模板。
    """
    from generator.documents.template_check import check_folder
    from generator.render.layout import find_reference
    from generator.render.templates import search_dirs

    data = dataset(ctx)
    searched = search_dirs(None, data.root)
    folders = [folder] if folder else searched
    problems = 0
    for root in folders:
        findings, checked = check_folder(root, data, reference or find_reference([root, *searched]))
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


@templates.command("restyle", context_settings=CONTEXT)
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True), metavar="模板文件夹")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), metavar="文件夹",
              help="把调整好版式的模板另存到这个文件夹（其中已有的文件不会被覆盖）。")
@click.option("--in-place", "in_place", is_flag=True, help="确认直接修改模板文件夹里的原文件。")
@REFERENCE_OPTION
def restyle(folder: Path, out: Path | None, in_place: bool, reference: Path | None) -> None:
    """把版式参考文件的页面设置、样式、字体和页码套用到文件夹里的每个 Word 模板，不改模板的文字。

    必须用 --out 另存到别的文件夹，或用 --in-place 确认直接修改原文件。没有页脚的模板（如一页纸的表单）不加页码。
    """
    from generator.output.restyle import restyle_folder
    from generator.render.layout import find_reference
    from generator.render.templates import BUILTIN

    if (out is None) == (not in_place):
        raise click.UsageError("请用 --out 指定另存的文件夹，或加 --in-place 确认直接修改原文件（二者选一）")
    if in_place and folder.resolve() == BUILTIN.resolve():
        raise click.UsageError("内置模板随程序升级，不在原处修改；请先复制到数据文件夹的 templates/ 再调整")
    ref = reference or find_reference([folder])
    done = restyle_folder(folder, ref, out)
    click.echo(f"版式参考文件：{ref}")
    for item in done:
        what = "、".join(p.split("：")[0] for p in item.fixed) or "版式已一致，另存一份"
        click.echo(f"  {item.target}：{what}")
    if not done:
        click.echo("  所有模板的版式都已与参考文件一致，没有修改任何文件")


@templates.command("diff", context_settings=CONTEXT)
@click.option("--templates", "templates_dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
              metavar="文件夹", help="自己的模板文件夹。默认用数据文件夹里的 templates/。")
@click.pass_context
def diff(ctx: click.Context, templates_dir: Path | None) -> None:
    """逐个比较自己的模板与内置模板：文字（段落、单元格）的增删改、字段的增删、版式的不同。

    升级后运行，看内置模板改了什么，再决定哪些改动要抄到自己的模板里。只比较不修改。
    """
    from generator.render.template_diff import diff_folder

    folder = templates_dir
    if folder is None:
        data = dataset(ctx)
        folder = data.root / "templates" if data.root is not None else None
    if folder is None or not folder.is_dir():
        click.echo("没有自己的模板（数据文件夹中没有 templates/，也没有用 --templates 指定）：全部使用内置模板，"
                   "升级后自动用上新版。")
        return
    found = diff_folder(folder)
    if not found:
        click.echo(f"{folder} 中没有模板文件：全部使用内置模板。")
        return
    for item in found:
        for line in item.lines():
            click.echo(line)
    same = sum(item.same for item in found)
    own = sum(item.builtin is None for item in found)
    click.echo(f"共 {len(found)} 个模板：{same} 个与内置模板相同，{len(found) - same - own} 个不同，"
               f"{own} 个是自己加的。")
