"""The command line: options in, one call into the core, errors out on stderr with a non-zero exit."""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from generator import __version__, cli_zh
from generator.errors import GaizaoError
from generator.loader import DataSet, load

cli_zh.install()

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


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
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="数据文件夹（默认：随程序附带的 data/）。")
@click.option("--debug", is_flag=True, help="出错时显示详细的程序调用栈。")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, debug: bool) -> None:
    """老旧小区改造文书工具：校验项目数据，生成申请、方案、公示、预算、验收等 Word/Excel 文书。"""
    ctx.obj = {"data_dir": data_dir, "debug": debug}


def dataset(ctx: click.Context) -> DataSet:
    """Load the data folder named by --data (the bundled one by default)."""
    return load(ctx.obj["data_dir"])


@main.command(context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              help="输出格式：table 表格（默认），json 供脚本读取。")
@click.pass_context
def validate(ctx: click.Context, fmt: str) -> None:
    """按方案规则校验数据；有错误时退出码为 1，只有警告时为 0。"""
    from generator.report_findings import render_table, summary
    from generator.rules import check_all

    data = dataset(ctx)
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
