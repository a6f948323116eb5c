"""What the commands share: the help settings, loading the data folder, progress bars, PDF conversion."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from generator.data.loader import DataSet, load
from generator.documents.kinds import Kind, listing

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


def dataset(ctx: click.Context) -> DataSet:
    """Load the data folder named by --data (the bundled one by default)."""
    return load((ctx.find_root().obj or {}).get("data_dir"))


def progress(quiet: bool, label: str) -> Any:
    """A progress bar with counts and time left for batches of more than a few documents."""

    def wrap(jobs: list) -> Any:
        if quiet or len(jobs) <= 5:
            yield from jobs
            return
        with click.progressbar(jobs, label=label, show_pos=True, show_eta=True, file=sys.stderr) as bar:
            yield from bar

    return wrap


def convert(paths: Sequence[Path], quiet: bool, workers: int = 1) -> None:
    """PDF beside every document; a file that fails is named and the command exits 1 at the end."""
    from generator.output.pdf import font_warnings, to_pdf

    for warning in font_warnings():
        click.echo(warning, err=True)
    if quiet:
        done = to_pdf(paths, workers=workers)
    else:
        with click.progressbar(length=len(paths), label="转换 PDF", show_pos=True, show_eta=True,
                               file=sys.stderr) as bar:
            done = to_pdf(paths, on_done=lambda _: bar.update(1), workers=workers)
    click.echo(f"已生成 {len(done.done)} 份 PDF。")
    for path, reason in done.failed.items():
        click.echo(f"PDF 转换失败：{path}：{reason}", err=True)
    if done.failed:
        sys.exit(1)


