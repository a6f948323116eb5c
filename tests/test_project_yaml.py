"""Round-trip editing of project files: comments and layout survive, unchanged files stay untouched."""

from __future__ import annotations

import copy
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from generator.data.loader import BUNDLED_DATA
from generator.data.yamlio import load_yaml
from generator.intake.project_yaml import apply, diff, dump, load_for_edit, save


@pytest.fixture
def project_file(tmp_path: Path) -> Path:
    target = tmp_path / "dongqu-01.yaml"
    shutil.copyfile(BUNDLED_DATA / "projects" / "dongqu-01.yaml", target)
    return target


def test_every_bundled_file_dumps_back_byte_for_byte(tmp_path: Path) -> None:
    for path in sorted((BUNDLED_DATA / "projects").glob("*.yaml")):
        doc = load_for_edit(path)
        apply(doc, copy.deepcopy(doc.data))
        assert dump(doc) == path.read_text(encoding="utf-8"), path.name


def test_unchanged_values_do_not_rewrite_the_file(project_file: Path) -> None:
    before = project_file.stat().st_mtime_ns
    doc = load_for_edit(project_file)
    assert apply(doc, copy.deepcopy(doc.data)) == []
    assert save(doc) is False
    assert project_file.stat().st_mtime_ns == before


def test_one_changed_value_changes_one_line_and_keeps_comments(project_file: Path) -> None:
    original = project_file.read_text(encoding="utf-8").splitlines()
    doc = load_for_edit(project_file)
    new = copy.deepcopy(doc.data)
    new["items"][2]["quantity"] = Decimal("17900.5")
    new["survey"]["support"] = 285
    changes = apply(doc, new)
    assert [str(c) for c in changes] == [
        "居民意见征询·同意户数（有住户名册时可不填）：284 → 285",
        "预算项目第3项·数量：17804.2 → 17900.5",
    ]
    assert save(doc) is True
    after = project_file.read_text(encoding="utf-8").splitlines()
    differing = [(a, b) for a, b in zip(original, after, strict=True) if a != b]
    assert differing == [("  support: 284", "  support: 285"),
                         ("    quantity: 17804.2", "    quantity: 17900.5")]
    data, _ = load_yaml(project_file)
    assert data["items"][2]["quantity"] == Decimal("17900.5")


def test_rows_added_and_removed_keep_the_lists_style(project_file: Path) -> None:
    doc = load_for_edit(project_file)
    new = copy.deepcopy(doc.data)
    new["buildings"].append({"name": "6栋", "households": 12})
    new["acceptance"]["results"].pop()
    new["dates"]["acceptance"] = dt.date(2018, 11, 20)
    new["contact"]["phone"] = "0812-0000009"
    del new["other_funding"]
    labels = [c.label for c in apply(doc, new)]
    assert "楼栋第6项·楼栋" in labels
    assert "竣工验收·分项验收结果第8项·改造项目" in labels
    save(doc)
    text = project_file.read_text(encoding="utf-8")
    assert "  - {name: 6栋, households: 12}\n" in text
    assert "区间道路, result: 合格" not in text
    assert "  phone: 0812-0000009\n" in text or '  phone: "0812-0000009"\n' in text
    assert "other_funding" not in text
    assert "# 示例数据：本文件内容为演示用途编写的虚构资料" in text  # the header comment stays
    data, _ = load_yaml(project_file)
    assert data == new


def test_a_new_file_gets_its_header(tmp_path: Path) -> None:
    doc = load_for_edit(tmp_path / "new.yaml", header="由填报表导入\n第二行")
    apply(doc, {"community": "x-01", "stage": "survey", "amount": Decimal("1.50")})
    assert save(doc)
    text = (tmp_path / "new.yaml").read_text(encoding="utf-8")
    assert text.startswith("# 由填报表导入\n# 第二行\n")
    assert load_yaml(tmp_path / "new.yaml")[0] == {"community": "x-01", "stage": "survey",
                                                  "amount": Decimal("1.50")}


def test_diff_compares_by_kind() -> None:
    assert diff({"a": True}, {"a": 1}) != []
    assert diff({"a": Decimal("1.50")}, {"a": Decimal("1.5")}) == []
    assert diff({"a": 2}, {"a": Decimal(2)}) == []


def test_a_changed_list_of_texts_shows_its_lines() -> None:
    (change,) = diff({"problems": ["漏水"]}, {"problems": ["漏水", "路面破损"]})
    assert str(change) == "现状问题：漏水 → 漏水；路面破损"


def _counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts ruamel parses from now on, in this thread or another."""
    from generator.intake import project_yaml

    # background parses of earlier tests' saves: called off, or waited for
    for future in list(project_yaml._parsed.values()):
        if not future.cancel():
            future.exception(timeout=30)
    project_yaml._parsed.clear()
    parsed: list[str] = []
    real = project_yaml._yaml

    def counted() -> object:
        yaml = real()
        load = yaml.load
        yaml.load = lambda text: (parsed.append(text), load(text))[1]  # type: ignore[method-assign]
        return yaml

    monkeypatch.setattr(project_yaml, "_yaml", counted)
    return parsed


def _saved_once(project_file: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The file edited and saved once (同意户数 285); the texts parsed from then on, that edit's own first."""
    parsed = _counting_parses(monkeypatch)
    doc = load_for_edit(project_file)
    new = copy.deepcopy(doc.data)
    new["survey"]["support"] = 285
    apply(doc, new)
    assert save(doc) and len(parsed) == 1
    return parsed


def test_the_next_edit_of_a_saved_file_takes_the_tree_parsed_after_the_save(
    project_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = _saved_once(project_file, monkeypatch)
    saved = project_file.read_text(encoding="utf-8")
    import time

    from generator.intake import project_yaml

    deadline = time.monotonic() + 30
    while not all(f.done() for f in project_yaml._parsed.values()):  # parsed a moment after the save
        assert time.monotonic() < deadline
        time.sleep(0.05)
    again = load_for_edit(project_file)
    assert parsed == [parsed[0], saved]  # parsed once after the save, not again for the edit
    newer = copy.deepcopy(again.data)
    newer["items"][2]["quantity"] = Decimal("17900.5")
    apply(again, newer)
    # the same text as an edit of the file parsed afresh gives
    fresh_copy = tmp_path / "fresh" / project_file.name
    fresh_copy.parent.mkdir()
    fresh_copy.write_text(saved, encoding="utf-8")
    fresh = load_for_edit(fresh_copy)
    apply(fresh, copy.deepcopy(newer))
    assert dump(again) == dump(fresh)
    # a tree is taken once: a third edit of the same text parses it again
    load_for_edit(project_file)
    assert parsed.count(saved) == 3


def test_an_edit_right_after_a_save_parses_the_file_itself(project_file: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    parsed = _saved_once(project_file, monkeypatch)
    again = load_for_edit(project_file)  # before the background parse begins: not waited for
    assert again.data["survey"]["support"] == 285 and len(parsed) == 2
    time.sleep(0.6)
    assert len(parsed) == 2  # the background parse was called off


def test_a_file_changed_by_hand_after_a_save_is_parsed_anew(
    project_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = _saved_once(project_file, monkeypatch)
    by_hand = project_file.read_text(encoding="utf-8").replace("support: 285", "support: 286  # 手改")
    project_file.write_text(by_hand, encoding="utf-8")
    again = load_for_edit(project_file)
    assert again.data["survey"]["support"] == 286 and parsed[-1] == by_hand
    assert "# 手改" in dump(again)
