"""PDF through LibreOffice headless: one process for a whole batch, its own profile, a timeout per file."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
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
           timeout: float = SECONDS_PER_FILE, workers: int = 1) -> Conversion:
    """Convert each file to a PDF beside it; files that fail are named, the rest go on.

    Each worker is one LibreOffice process with its own temporary profile, converting a share
    of the files in batches (one batch per folder).
    """
    command = soffice()
    if command is None:
        raise NoLibreOffice(INSTALL_HINT)
    result = Conversion()
    lock = threading.Lock()

    def done(pdf: Path, source: Path) -> None:
        with lock:
            result.done.append(pdf)
            on_done(source)

    def failed(source: Path, reason: str) -> None:
        with lock:
            result.failed[source] = reason

    shares = [list(files[i::workers]) for i in range(max(1, workers))]
    with ThreadPoolExecutor(max_workers=len(shares)) as pool:
        for future in [pool.submit(_convert_share, command, share, timeout, done, failed)
                       for share in shares if share]:
            future.result()
    order = {f.with_suffix(".pdf"): i for i, f in enumerate(files)}
    result.done.sort(key=lambda pdf: order.get(pdf, 0))
    return result


def _convert_share(command: str, files: list[Path], timeout: float,
                   done: Callable[[Path, Path], None], failed: Callable[[Path, str], None]) -> None:
    by_folder: dict[Path, list[Path]] = {}
    for f in files:
        by_folder.setdefault(f.parent, []).append(f)
    with tempfile.TemporaryDirectory(prefix="gaizao-lo-") as tmp:
        profile = Path(tmp) / "profile"  # never the clerk's own LibreOffice profile
        for folder, batch in by_folder.items():
            stale = [f for f in batch if not _fresh(f)]
            if stale:
                try:
                    _run(command, profile, stale, folder, timeout * len(stale) + 30)
                except subprocess.TimeoutExpired:
                    pass  # the files still missing are retried one by one below
            for f in batch:
                if _fresh(f):
                    done(f.with_suffix(".pdf"), f)
                    continue
                try:
                    _run(command, profile, [f], folder, timeout)
                except subprocess.TimeoutExpired:
                    failed(f, f"转换超时（{timeout:.0f} 秒）")
                    continue
                if _fresh(f):
                    done(f.with_suffix(".pdf"), f)
                else:
                    failed(f, "LibreOffice 未能转换此文件")


def _fresh(source: Path) -> bool:
    """A PDF beside the file, made after the file was last written."""
    pdf = source.with_suffix(".pdf")
    return pdf.exists() and pdf.stat().st_mtime_ns >= source.stat().st_mtime_ns
