"""LibreOffice processes: their environment, a fresh profile of their own, and stopping them whole."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

from generator.output.fonts import FONTS_CONF


def environment() -> dict[str, str]:
    """The environment LibreOffice runs in: our font substitutions, no display."""
    return {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF), "SAL_USE_VCLPLUGIN": "svp"}


_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
{items}</oor:items>
"""
_ITEM = ('<item oor:path="/org.openoffice.Office.Common/Filter/PDF/Export"><prop oor:name="{name}" '
         'oor:op="fuse"><value>{value}</value></prop></item>\n')


def profile(folder: Path, archival: bool) -> Path:
    """A fresh LibreOffice profile whose PDF export keeps bookmarks as named destinations (the
    marks binding.split reads) and, for archiving, writes PDF/A-2b (which embeds every font)."""
    settings = {"ExportBookmarksToPDFDestination": "true"}
    if archival:
        settings["SelectPdfVersion"] = "2"
    user = folder / "user"
    user.mkdir(parents=True)
    items = "".join(_ITEM.format(name=k, value=v) for k, v in settings.items())
    (user / "registrymodifications.xcu").write_text(_SETTINGS.format(items=items), encoding="utf-8")
    return folder


def kill(proc: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """Stop LibreOffice and everything it started: soffice is a script that starts soffice.bin."""
    if hasattr(os, "killpg"):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    else:  # Windows: soffice.exe and the soffice.bin it started
        subprocess.run(["taskkill", "/T", "/F", "/PID", str(proc.pid)], capture_output=True, check=False)
    proc.wait()


def convert(command: str, profile_folder: Path, target: str, outdir: Path,
            files: Sequence[Path]) -> subprocess.Popen[bytes]:
    """LibreOffice started converting files to target (pdf, fodt) into outdir, with its own profile
    and in a process group of its own, so that kill() stops it whole."""
    args = [command, "--headless", "--norestore", "--nolockcheck",
            f"-env:UserInstallation={profile_folder.as_uri()}",
            "--convert-to", target, "--outdir", str(outdir), *(str(f) for f in files)]
    return subprocess.Popen(args, env=environment(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
