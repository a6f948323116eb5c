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
    already exists there is refused, never overwritten. In place, a template whose layout already
    matches is left untouched.
    """
    if out is not None and out.resolve() == folder.resolve():
        raise OutputError(f"另存的文件夹 {out} 就是模板文件夹；要直接修改原文件，请改用 --in-place")
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
    for restyled, data in plans:
        try:
            atomic_write(restyled.target, data)
        except OSError as exc:
            raise OutputError(f"无法写入 {restyled.target}：{os_reason(exc, restyled.target)}"
                              "（文件在 Word 或 WPS 中打开着吗？）") from None
    return [r for r, _ in plans]
