"""Golden text snapshots of every document kind; `python -m tests.golden --update` regenerates them."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from generator.data.loader import load
from generator.documents.kinds import KINDS, community_target, kinds_of
from generator.output.pipeline import Renderers, render_document
from tests.snapshot import docx_text, xlsx_text

GOLDEN = Path(__file__).parent / "golden"
PROJECTS = ("dongqu-01", "dongqu-21")
"""One community with every stage done, one at an early stage."""


def snapshots() -> dict[Path, str]:
    """Render every kind the data allows for the golden communities, as text."""
    data = load()
    renderers = Renderers(data, None)
    out: dict[Path, str] = {}
    for pid in PROJECTS:
        target = community_target(data, pid)
        for kind in kinds_of("community"):
            name = GOLDEN / pid / f"{kind.key}.txt"
            reason = kind.needs(data, target)
            if reason:
                out[name] = f"（跳过：{reason}）\n"
                continue
            payload = render_document(data, kind, target, renderers)
            out[name] = _head(xlsx_text(payload) if kind.suffix == ".xlsx" else docx_text(payload))
    # dongqu-21's survey is done and it has no roster: its blank forms only when asked for (--all-forms).
    target = replace(community_target(data, "dongqu-21"), all_forms=True)
    out[GOLDEN / "dongqu-21" / "survey.txt"] = _head(docx_text(render_document(data, KINDS["survey"], target,
                                                                                renderers)))
    return out


MAX_LINES = 300
"""A snapshot keeps this many lines: a community's household forms run to tens of thousands."""


def _head(text: str) -> str:
    lines = text.splitlines(keepends=True)
    if len(lines) <= MAX_LINES:
        return text
    return "".join(lines[:MAX_LINES]) + f"（以下省略；全文共{len(lines)}行）\n"


def main() -> None:
    if "--update" not in sys.argv:
        print("用法：python -m tests.golden --update   （重新生成 tests/golden/ 下的快照，提交前请检查差异）")
        sys.exit(2)
    for path, text in snapshots().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path)


if __name__ == "__main__":
    main()
