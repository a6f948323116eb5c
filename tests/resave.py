"""Templates as office suites save them again: the papers they build, and LibreOffice's re-save."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from generator.data.loader import DataSet
from generator.documents.template_check import context_factories
from generator.render.docx import CompiledDocx
from tests.snapshot import docx_text

_PAGE = re.compile(r"(\[[^\]]*页脚\d*\] — )\d+( —)")


def paper_text(template: Path, rel: str, data: DataSet) -> str:
    """The text of the paper a template builds from the bundled example, page-number caches masked.

    A page-number field keeps the number the office suite last laid out (LibreOffice saves 7 on
    a seven-page plan); Word and WPS recompute it on opening, so it is not the template's text.
    """
    context = context_factories()[rel][1](data)
    return _PAGE.sub(r"\1#\2", docx_text(CompiledDocx(template).render(context)))


def libreoffice_resave(files: list[Path], out: Path) -> list[Path]:
    """Open each file in LibreOffice and save it again as .docx, with a profile of its own."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        subprocess.run([shutil.which("soffice") or "soffice", f"-env:UserInstallation={Path(profile).as_uri()}",
                        "--headless", "--convert-to", "docx", "--outdir", str(out), *map(str, files)],
                       check=True, capture_output=True, timeout=300)
    return [out / f.name for f in files]


def with_part(source: Path, target: Path, name: str, change: Callable[[bytes], bytes]) -> Path:
    """A copy of an Office file with one part changed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            blob = zin.read(info.filename)
            zout.writestr(info.filename, change(blob) if info.filename == name else blob)
    return target
