"""Apply the reference layout to a folder of Word templates: all computed first, then written atomically."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.errors import OutputError, TemplateError
from generator.output.writer import atomic_write, os_reason
from generator.render.layout import REFERENCE_NAME, layout_problems, read_layout, reference_parts, restyled_bytes
from generator.render.ziputil import read_template


@dataclass(frozen=True)
class Restyled:
    """One template restyled: where it was written and what its layout had wrong before."""

    source: Path
    target: Path
    fixed: list[str]


def word_templates(folder: Path) -> list[Path]:
    """The Word templates under a folder, without Word's lock files and the reference document."""
    return [p for p in sorted(folder.rglob("*.docx"))
            if not p.name.startswith(("~$", ".")) and not (p.parent == folder and p.name == REFERENCE_NAME)]


def restyle_folder(folder: Path, reference: Path, out: Path | None) -> list[Restyled]:
    """Restyle every Word template of folder into out, or in place when out is None.

    Nothing is written until every template has been read and restyled; with out, a file that
    already exists there is refused, never overwritten, and a failed write takes back the copies
    made before it. In place, every template is first opened for writing (Windows refuses one
    open in Word), and one whose layout already matches is left untouched.
    """
    if out is not None and out.resolve() == folder.resolve():
        raise OutputError(f"另存的文件夹 {out} 就是模板文件夹；要直接修改原文件，请改用 --in-place")
    if out is not None and out.resolve().is_relative_to(folder.resolve()):
        # Copies inside the folder would be taken for a district's templates the next time.
        raise OutputError(f"另存的文件夹 {out} 在模板文件夹 {folder} 里面；请另存到模板文件夹以外")
    ref = reference_parts(reference)
    ref_layout = read_layout(ref, str(reference))
    templates = word_templates(folder)
    if not templates:
        raise TemplateError(f"{folder} 中没有 Word 模板（.docx）")
    plans: list[tuple[Restyled, bytes]] = []
    for path in templates:
        label = str(path)
        before = layout_problems(read_layout(dict(read_template(path, label)), label), ref_layout)
        target = path if out is None else out / path.relative_to(folder)
        if out is None and not before:
            continue
        plans.append((Restyled(path, target, before), restyled_bytes(path, label, ref)))
    if out is not None:
        taken = [r.target for r, _ in plans if r.target.exists()]
        if taken:
            listing = "\n".join(f"  {p}" for p in taken)
            raise OutputError(f"以下文件已存在，不会覆盖；请换一个空文件夹，或先移走它们：\n{listing}")
    else:
        _writable([r.target for r, _ in plans])
    written: list[Path] = []
    for restyled, data in plans:
        try:
            atomic_write(restyled.target, data)
        except OSError as exc:
            if out is not None:  # the copies made so far are new files of ours: no half-done folder
                for path in written:
                    path.unlink(missing_ok=True)
            raise OutputError(f"无法写入 {restyled.target}：{os_reason(exc, restyled.target)}"
                              "（文件在 Word 或 WPS 中打开着吗？）") from None
        written.append(restyled.target)
    return [r for r, _ in plans]


def _writable(paths: list[Path]) -> None:
    """Refuse before writing anything when a template cannot be replaced (open in Word on Windows)."""
    for path in paths:
        try:
            with open(path, "r+b"):
                pass
        except OSError as exc:
            raise OutputError(f"无法修改 {path}：{os_reason(exc, path)}（文件在 Word 或 WPS 中打开着吗？）"
                              "；没有修改任何模板") from None
