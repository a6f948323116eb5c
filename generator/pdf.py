"""PDF through LibreOffice headless: one process for a whole batch, its own profile, a timeout per file."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import GaizaoError

FONTS_CONF = Path(__file__).resolve().parent / "resources" / "fonts.conf"
SECONDS_PER_FILE = 60
INSTALL_HINT = (
    "未找到 LibreOffice，无法转换 PDF（Word/Excel 文件已照常生成）。"
    "请安装：sudo apt-get install libreoffice-writer-nogui libreoffice-calc-nogui fonts-noto-cjk"
)


class NoLibreOffice(GaizaoError):
    """LibreOffice is not installed."""


@dataclass
class Conversion:
    done: list[Path] = field(default_factory=list)
    failed: dict[Path, str] = field(default_factory=dict)


def soffice() -> str | None:
    """The LibreOffice command, if installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def _run(command: str, profile: Path, files: Sequence[Path], outdir: Path, timeout: float) -> None:
    env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF), "SAL_USE_VCLPLUGIN": "svp"}
    subprocess.run(
        [command, "--headless", "--norestore", "--nolockcheck",
         f"-env:UserInstallation={profile.as_uri()}",
         "--convert-to", "pdf", "--outdir", str(outdir), *map(str, files)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout, check=False,
    )


def to_pdf(files: Sequence[Path], on_done: Callable[[Path], None] = lambda p: None,
           timeout: float = SECONDS_PER_FILE) -> Conversion:
    """Convert each file to a PDF beside it; files that fail are named, the rest go on."""
    command = soffice()
    if command is None:
        raise NoLibreOffice(INSTALL_HINT)
    result = Conversion()
    by_folder: dict[Path, list[Path]] = {}
    for f in files:
        by_folder.setdefault(f.parent, []).append(f)
    with tempfile.TemporaryDirectory(prefix="gaizao-lo-") as tmp:
        profile = Path(tmp) / "profile"  # never the clerk's own LibreOffice profile
        for folder, batch in by_folder.items():
            try:
                _run(command, profile, batch, folder, timeout * len(batch) + 30)
            except subprocess.TimeoutExpired:
                pass  # the files still missing are retried one by one below
            for f in batch:
                pdf = f.with_suffix(".pdf")
                if pdf.exists() and pdf.stat().st_mtime >= f.stat().st_mtime:
                    result.done.append(pdf)
                    on_done(f)
                    continue
                try:
                    _run(command, profile, [f], folder, timeout)
                except subprocess.TimeoutExpired:
                    result.failed[f] = f"转换超时（{timeout:.0f} 秒）"
                    continue
                if pdf.exists():
                    result.done.append(pdf)
                    on_done(f)
                else:
                    result.failed[f] = "LibreOffice 未能转换此文件"
    return result
