"""PDF through LibreOffice headless: one process for a whole batch, its own profile, a timeout per file."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
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


def _command(command: str, profile: Path, files: Sequence[Path], outdir: Path) -> list[str]:
    return [command, "--headless", "--norestore", "--nolockcheck", f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to", "pdf", "--outdir", str(outdir), *map(str, files)]


def _environment() -> dict[str, str]:
    return {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF), "SAL_USE_VCLPLUGIN": "svp"}


def _run(command: str, profile: Path, files: Sequence[Path], outdir: Path, timeout: float) -> None:
    """One LibreOffice process for all the files; stopped when no new PDF appears for `timeout` seconds."""
    proc = subprocess.Popen(_command(command, profile, files, outdir), env=_environment(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen, last = 0, time.monotonic()
    while proc.poll() is None:
        time.sleep(0.2)
        count = sum(1 for _ in outdir.glob("*.pdf"))
        if count != seen:
            seen, last = count, time.monotonic()
        elif time.monotonic() - last > timeout:
            proc.kill()
            proc.wait()
            raise subprocess.TimeoutExpired(proc.args, timeout)


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
    """Convert a share of the files in one LibreOffice run, then retry any that failed one by one."""
    for f in files:
        if _fresh(f):
            done(f.with_suffix(".pdf"), f)
    stale = [f for f in files if not _fresh(f)]
    if not stale:
        return
    with tempfile.TemporaryDirectory(prefix="gaizao-lo-") as tmp:
        profile = Path(tmp) / "profile"  # never the clerk's own LibreOffice profile
        inbox, outbox = Path(tmp) / "in", Path(tmp) / "out"
        inbox.mkdir()
        outbox.mkdir()
        # Every community folder holds files of the same names: give each a unique one for the batch.
        staged = {}
        for index, f in enumerate(stale):
            copy = inbox / f"{index:06d}{f.suffix}"
            shutil.copyfile(f, copy)
            staged[f] = copy
        try:
            _run(command, profile, list(staged.values()), outbox, timeout + 30)
        except subprocess.TimeoutExpired:
            pass  # what is missing is retried one by one below, each with its own timeout
        for f, copy in staged.items():
            pdf = outbox / f"{copy.stem}.pdf"
            if not pdf.exists():
                try:
                    _run(command, profile, [copy], outbox, timeout)
                except subprocess.TimeoutExpired:
                    failed(f, f"转换超时（{timeout:.0f} 秒）")
                    continue
            if pdf.exists():
                target = f.with_suffix(".pdf")
                temporary = target.with_name(f".{target.name}.tmp")
                shutil.move(pdf, temporary)
                os.replace(temporary, target)
                done(target, f)
            else:
                failed(f, "LibreOffice 未能转换此文件")


def _fresh(source: Path) -> bool:
    """A PDF beside the file, made after the file was last written."""
    pdf = source.with_suffix(".pdf")
    return pdf.exists() and pdf.stat().st_mtime_ns >= source.stat().st_mtime_ns


def font_warnings() -> list[str]:
    """Warnings naming each font of the PDF font map that is not installed (see output/fonts.py)."""
    from generator.output.fonts import missing_fonts

    return missing_fonts()
