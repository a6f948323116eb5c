"""What the commands share: the help settings, loading the data folder, progress bars, the PDF step."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from generator.data.loader import BUNDLED_DATA, DataSet, load
from generator.documents.kinds import Kind, listing
from generator.intake.writelock import WriteLock

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class KindChoice(click.Choice):
    """The keys of the kinds registered when the command runs, not when it was defined."""

    def __init__(self, kinds: Callable[[], list[Kind]]) -> None:
        super().__init__([])
        self.kinds = kinds

    @property  # type: ignore[override]
    def choices(self) -> list[str]:
        return [k.key for k in self.kinds()]

    @choices.setter
    def choices(self, value: Any) -> None:
        pass


class KindOption(click.Option):
    """--kind, whose help lists the kinds registered when the help is shown: help holds {kinds}."""

    def __init__(self, *args: Any, kinds: Callable[[], list[Kind]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kinds = kinds
        self.help_pattern = kwargs.get("help") or ""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        self.help = self.help_pattern.format(kinds=listing(self.kinds()))
        return super().get_help_record(ctx)


class GivenPath(click.Path):
    """A folder option that refuses an empty path: '' would mean the current folder, unseen."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(path_type=Path, **kwargs)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("路径不能为空；要用当前文件夹请写“.”", param, ctx)
        return super().convert(value, param, ctx)


def dataset(ctx: click.Context) -> DataSet:
    """Load the data folder named by --data (the bundled one by default)."""
    return load((ctx.find_root().obj or {}).get("data_dir"))


def data_writes(ctx: click.Context) -> WriteLock:
    """The data folder's writer lock, held by a command while it reads and writes project data: a web
    save and `gaizao backup` wait for it, and it for them."""
    return WriteLock(Path((ctx.find_root().obj or {}).get("data_dir") or BUNDLED_DATA))


def progress(quiet: bool, label: str) -> Any:
    """A progress bar with counts and time left for batches of more than a few documents."""

    def wrap(jobs: list) -> Any:
        if quiet or len(jobs) <= 5:
            yield from jobs
            return
        with click.progressbar(jobs, label=label, show_pos=True, show_eta=True, file=sys.stderr) as bar:
            yield from bar

    return wrap


PDF_OPTIONS = (
    click.option("--pdf", is_flag=True, help="同时用 LibreOffice 在每份文书旁生成 PDF。"),
    click.option("--pdf-a", "pdf_a", is_flag=True, help="生成供归档的 PDF/A-2b（字体全部嵌入；含 --pdf）。"),
)


def out_option(help: str = "输出文件夹。") -> Callable[..., Any]:
    """--out: the output folder of a command that writes documents (default ./output)."""
    return click.option("--out", "out_dir", type=GivenPath(), default=Path("output"), show_default=True, help=help)


templates_option = click.option("--templates", "templates_dir", type=GivenPath(file_okay=False),
                                help="自定义模板文件夹，其中的模板优先于内置模板。")


def force_option(what: str = "文件") -> Callable[..., Any]:
    """--force: overwrite documents edited by hand since they were made."""
    return click.option("--force", is_flag=True, help=f"覆盖生成后被手工修改过的{what}。")


BLANK_FORMS = click.option(
    "--blank-forms", "blank_forms", type=click.IntRange(1, 100_000), default=None, metavar="份数",
    help="居民意见征询表印成空白表，每个小区这么多份（不按住户名册预填；默认：有名册按名册每户一份，"
         "没有名册、征询尚未完成的按小区户数印空白表）。")
ALL_FORMS = click.option(
    "--all-forms", "all_forms", is_flag=True,
    help="征询已完成、没有住户名册的小区也按户数印空白征询表（默认不印）。")


def pdf_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The --pdf and --pdf-a options of a command that writes documents."""
    for option in reversed(PDF_OPTIONS):
        command = option(command)
    return command


class PdfStep:
    """The PDF of every document written, made while the output folder is still locked."""

    def __init__(self, quiet: bool, workers: int = 1, archival: bool = False) -> None:
        self.quiet, self.workers, self.archival = quiet, workers, archival
        self.conversion: Any = None
        self.missing: Exception | None = None

    @classmethod
    def wanted(cls, pdf: bool, pdf_a: bool, quiet: bool, workers: int = 1) -> PdfStep | None:
        """The step when --pdf or --pdf-a was given."""
        return cls(quiet, workers, pdf_a) if pdf or pdf_a else None

    def __call__(self, output: Any, result: Any) -> None:
        from generator.output.pdf import NoLibreOffice

        try:
            self._convert(output, result)
        except NoLibreOffice as exc:  # the documents stand; the manifest is still written
            self.missing = exc

    def _convert(self, output: Any, result: Any) -> None:
        from generator.output.fonts import missing_fonts, unprintable_in
        from generator.output.pdf import convert_outputs

        rels = result.paths.rels
        for warning in missing_fonts() + unprintable_in([result.out / rel for rel in rels]):
            click.echo(warning, err=True)
        if self.quiet or len(rels) <= 5:
            self.conversion = convert_outputs(output, rels, workers=self.workers, archival=self.archival)
            return
        with click.progressbar(length=len(rels), label="转换 PDF", show_pos=True, show_eta=True,
                               file=sys.stderr) as bar:
            self.conversion = convert_outputs(output, rels, on_done=lambda _: bar.update(1),
                                              workers=self.workers, archival=self.archival)

    def report(self) -> None:
        """How many PDFs were made; each one that failed, named; exit 1 if any did."""
        if self.missing is not None:
            raise self.missing
        done = self.conversion
        if done is None:
            return
        flavour = "PDF/A-2b" if self.archival else "PDF"
        line = f"已生成 {len(done.done)} 份 {flavour}"
        if done.unchanged:
            line += f"，{len(done.unchanged)} 份与文书一致，未改动"
        click.echo(line + "。")
        for path, reason in done.failed.items():
            click.echo(f"PDF 转换失败：{path}：{reason}", err=True)
        if done.stopped:
            click.echo(f"错误：PDF 转换已停止：{done.stopped}", err=True)
        if done.failed or done.stopped:
            sys.exit(1)


def echo_skipped(skipped: Sequence[Any], unit: str) -> None:
    """The documents a run left out, counted by kind and reason."""
    if not skipped:
        return
    click.echo(f"跳过 {len(skipped)} 份：")
    reasons: Counter[tuple[str, str]] = Counter((s.kind.name, s.reason) for s in skipped)
    for (name, reason), count in sorted(reasons.items()):
        click.echo(f"  跳过 {name}：{reason}（{count} {unit}）")
