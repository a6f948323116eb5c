"""The shape of the package: stages that import only what they may, no cycles, one registry of kinds."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from docx import Document

from generator.cli import main
from generator.data.loader import DataSet
from generator.documents.kinds import KINDS, Kind, Target, kinds_of, register
from generator.documents.template_check import check_folder, context_factories
from generator.output.pipeline import Selection, build
from generator.output.writer import MANIFEST
from tests.snapshot import docx_text

PACKAGE = Path(__file__).resolve().parent.parent / "generator"

MAY_IMPORT = {
    "generator": set(),
    "generator.errors": set(),
    "generator.data": {"generator", "generator.errors"},
    "generator.render": {"generator", "generator.errors"},
    "generator.rules": {"generator", "generator.errors", "generator.data", "generator.render"},
    "generator.documents": {"generator", "generator.errors", "generator.data", "generator.rules",
                            "generator.render"},
    "generator.output": {"generator", "generator.errors", "generator.data", "generator.rules",
                         "generator.render", "generator.documents"},
    "generator.intake": {"generator", "generator.errors", "generator.data", "generator.render",
                         "generator.rules", "generator.documents", "generator.output"},
    "generator.web": {"generator", "generator.errors", "generator.data", "generator.render", "generator.rules",
                      "generator.documents", "generator.output", "generator.intake"},
}
"""Each stage and the stages it may import; the CLI may import any. Said again in each package's
docstring and in docs/architecture.md."""


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(path: Path) -> Iterator[str]:
    """Every module a file imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # from generator.cli import zh imports the module generator.cli.zh, not the package's names
            submodules = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES]
            yield from submodules or [node.module]


def _stage(module: str) -> str:
    """generator.output.pipeline → generator.output; generator.errors stays itself."""
    parts = module.split(".")
    return ".".join(parts[:2])


def test_only_the_command_line_imports_click() -> None:
    offenders = [name for name, path in MODULES.items()
                 if not name.startswith("generator.cli")
                 and any(m == "click" or m.startswith("click.") for m in _imports(path))]
    assert offenders == []


def test_each_stage_imports_only_the_stages_below_it() -> None:
    wrong = []
    for name, path in MODULES.items():
        stage = _stage(name)
        if stage == "generator.cli" or name == "generator.__main__":
            continue
        allowed = MAY_IMPORT[stage] | {stage}
        for imported in _imports(path):
            if imported.startswith("generator") and _stage(imported) not in allowed:
                wrong.append(f"{name} imports {imported}")
    assert wrong == []


def test_every_package_says_what_it_is_for_and_what_it_may_import() -> None:
    for folder in sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").exists()):
        doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text(encoding="utf-8")))
        assert doc, folder
        assert "import" in doc, f"{folder}: say what it may import"


def test_the_package_has_no_import_cycle() -> None:
    graph = {name: {m for m in _imports(path) if m in MODULES and m != name}
             for name, path in MODULES.items()}
    # A package's __init__ is not an edge to every module in it: only what it imports.
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, trail: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle.extend([*trail[trail.index(nxt):], nxt] if nxt in trail else [node, nxt])
                return True
            if state.get(nxt) is None and visit(nxt, [*trail, nxt]):
                return True
        state[node] = 2
        return False

    for start in sorted(graph):
        if state.get(start) is None and visit(start, [start]):
            break
    assert cycle == []


def test_no_module_reaches_into_another_modules_private_names() -> None:
    crossing = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("generator"):
                crossing += [f"{name}: {node.module}.{a.name}" for a in node.names
                             if a.name.startswith("_") and a.name != "__version__"]
    assert crossing == []


# ---------------------------------------------------------------- the registry


def test_help_texts_list_the_registered_kinds() -> None:
    runner = CliRunner()

    def help_of(command: str) -> str:  # without the line wrapping
        return "".join(runner.invoke(main, [command, "--help"]).output.split())

    build_help, report_help, print_help = help_of("build"), help_of("report"), help_of("print")
    for kind in kinds_of("community"):
        assert f"{kind.key}{kind.short}" in build_help
    for kind in kinds_of("district", "city"):
        assert kind.key in report_help
    assert "budget" not in print_help and "notice公示" in print_help


def test_every_kind_is_one_entry_with_a_number_and_a_scope() -> None:
    numbers = [k.number for k in KINDS.values()]
    assert len(set(numbers)) == len(numbers)
    assert {k.scope for k in KINDS.values()} == {"community", "district", "city"}
    assert set(context_factories()) == {k.template for k in KINDS.values() if k.template}


@pytest.fixture
def seventh_kind(tmp_path: Path) -> Iterator[tuple[Kind, Path]]:
    """A made-up kind, 入户走访记录, added through the public registry: one context function, one
    template, one entry."""

    def visit_context(data: DataSet, target: Target) -> dict[str, Any]:
        assert target.community is not None
        project = data.projects[target.community.id]
        return {"name": target.community.name, "office": project.street_office,
                "households": target.community.households}

    templates = tmp_path / "templates"
    (templates / "docx").mkdir(parents=True)
    doc = Document()
    doc.add_paragraph("{{ name }}入户走访记录：{{ office }}走访{{ households }}户。")
    doc.save(str(templates / "docx" / "visit.docx"))
    kind = register(Kind("visit", "入户走访记录", "走访记录", 70, "community", visit_context,
                         "docx/visit.docx"))
    try:
        yield kind, templates
    finally:
        KINDS.pop(kind.key)


def test_a_new_kind_is_built_through_the_registry_alone(
    seventh_kind: tuple[Kind, Path], bundled: DataSet, tmp_path: Path
) -> None:
    kind, templates = seventh_kind
    result = build(bundled, tmp_path / "out", Selection(kinds=("visit",), year=2018),
                   templates_dir=templates)
    assert result.written == {"入户走访记录": 9}
    first = result.paths[0]
    assert first.name == "70-入户走访记录.docx"
    assert docx_text(first).startswith("炳草岗园林苗圃小区入户走访记录：")
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text(encoding="utf-8"))
    assert {e["kind"] for e in manifest["documents"]} == {"visit"}
    # The template check and the fields list know it too, with nothing else changed.
    findings, checked = check_folder(templates, bundled)
    assert findings == [] and len(checked) == 1
    assert "visit" in CliRunner().invoke(main, ["build", "--help"]).output
    fields = CliRunner().invoke(main, ["templates", "fields", "visit"])
    assert fields.exit_code == 0 and "households\t整数\t" in fields.output


def test_a_kind_laid_out_in_code_needs_no_template(bundled: DataSet, tmp_path: Path) -> None:
    kind = register(Kind("roll", "户数清单", "户数清单", 71, "city",
                         lambda data, t: {"households": sum(c.households for c in data.communities.values())},
                         layout=lambda data, t: b"not really a workbook", source="tests",
                         targets=lambda data, year: [Target()], path=lambda data, t: "清单/户数清单.xlsx"))
    try:
        from generator.output.pipeline import build_reports

        result = build_reports(bundled, tmp_path, ("roll",))
        assert (tmp_path / "清单" / "户数清单.xlsx").read_bytes() == b"not really a workbook"
        assert result.written == {"户数清单": 1}
    finally:
        KINDS.pop(kind.key)


def test_a_kind_must_say_how_it_is_made() -> None:
    with pytest.raises(ValueError, match="template or a layout"):
        Kind("x", "x", "x", 99, "community", lambda d, t: {})
    with pytest.raises(ValueError, match="targets and path"):
        Kind("x", "x", "x", 99, "city", lambda d, t: {}, "docx/x.docx")
