"""The direct builder of small YAML files gives what PyYAML's constructor gives, line map included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import ROOT
from generator.data import yamlio

FILES = sorted(
    p for folder in ("data", "tests/bad_inputs", "tests/fixtures")
    for p in (ROOT / folder).rglob("*.yaml") if p.stat().st_size < yamlio.COMPACT_FROM
)


def _same(a: Any, b: Any, budget: list[int]) -> bool:
    """Equal values of equal types, in the same key order (at most budget[0] values compared)."""
    budget[0] -= 1
    if budget[0] < 0:
        return True  # an alias bomb: its first values are enough
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k], budget) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y, budget) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_direct_build_equals_the_constructor(path: Path) -> None:
    try:
        text = yamlio.read_text(path)
        old = yamlio._parse(text, yamlio._ExactLoader, path, True)
    except Exception:  # noqa: BLE001 - files refused before building are not this test's
        return
    try:
        values, lines = yamlio._parse_fast(text, path, True)
    except yaml.YAMLError:
        return  # left to the constructor, as load_yaml does
    assert _same(old[0], values, [100_000])
    assert dict(lines) == old[1]


def test_every_bundled_file_is_built_directly() -> None:
    bundled = [p for p in FILES if p.is_relative_to(ROOT / "data")]
    for path in bundled:
        yamlio._parse_fast(yamlio.read_text(path), path, True)  # raises YAMLError when left to the constructor
    assert len(bundled) > 30


@pytest.mark.parametrize("text, message", [
    ("a: 1\na: 2\n", "字段“a”重复出现"),
    ("base: &b {x: 1}\nother:\n  <<: *b\n", "合并键"),
    ("a: !!binary aGk=\n", None),
])
def test_unusual_files_are_read_the_usual_way(tmp_path: Path, text: str, message: str | None) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(yaml.YAMLError):
        yamlio._parse_fast(text, path, True)
    if message is None:
        assert yamlio.load_yaml(path)[0] == {"a": b"hi"}
    else:
        with pytest.raises(Exception, match=message):
            yamlio.load_yaml(path)


def test_the_line_map_is_made_when_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("a:\n  b: 1\n  c:\n    - x\n", encoding="utf-8")
    _, lines = yamlio.load_yaml(path)
    assert isinstance(lines, yamlio.LazyLines) and lines._lines is None
    assert lines[("a", "c", 0)] == 4 and lines[("a", "b")] == 2


def test_a_project_file_without_an_escape_skips_the_control_character_search(tmp_path: Path) -> None:
    from generator.data.loader import PackedProjects, ReadProject, read_project_file

    source = ROOT / "data" / "projects" / "dongqu-01.yaml"
    text = source.read_text(encoding="utf-8")
    assert "\\" not in text
    plain_file = tmp_path / "plain.yaml"
    plain_file.write_text(text, encoding="utf-8")
    escaped_file = tmp_path / "escaped.yaml"
    escaped_file.write_text(text.replace("community_committee: 苗圃社区居民委员会",
                                         'community_committee: "苗圃社区\\x0b居民委员会"', 1), encoding="utf-8")
    plain, escaped = read_project_file(plain_file), read_project_file(escaped_file)
    assert isinstance(plain, ReadProject) and plain.plain
    assert isinstance(escaped, ReadProject) and not escaped.plain
    projects = PackedProjects()
    projects.put_packed("a", plain.packed, plain.plain)
    assert projects.plain_text("a")
    projects["a"] = projects["a"]  # a record put from memory (a web save) is searched again
    assert not projects.plain_text("a")
