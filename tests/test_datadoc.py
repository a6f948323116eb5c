"""docs/data.md is generated from the models and documents every field of every model."""

from __future__ import annotations

import inspect

from pydantic import BaseModel

from generator.data import models
from generator.data.datadoc import DOC_PATH, describe, render_data_doc
from generator.data.models import Money, Text, Wan


def _models() -> list[type[BaseModel]]:
    return [
        cls for _, cls in inspect.getmembers(models, inspect.isclass)
        if issubclass(cls, BaseModel) and cls.__module__ == models.__name__ and cls.model_fields
    ]


def test_docs_data_md_is_up_to_date() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render_data_doc(), (
        "docs/data.md 与模型不一致，请运行 `python -m generator.data.datadoc` 重新生成"
    )


def test_every_field_of_every_model_is_documented() -> None:
    doc = render_data_doc()
    models_found = _models()
    assert len(models_found) > 20  # the walk above would pass vacuously if it found nothing
    missing = [
        f"{cls.__name__}.{name}"
        for cls in models_found
        for name in cls.model_fields
        if f"`{name}`" not in doc and f".{name}`" not in doc
    ]
    assert not missing, f"docs/data.md 未说明这些字段：{missing}"


def test_field_titles_and_requiredness_are_shown() -> None:
    doc = render_data_doc()
    assert "| `communities[].households` | 户数 | 正整数 | 必填 |" in doc
    assert "| `items[].amount` | 金额（元） | 金额（元，最多两位小数） | 必填 |" in doc
    assert "| `communities[].status` | 状态 |" in doc and "可选，默认 `planned`" in doc
    assert "| `survey` | 居民意见征询 | 一组字段（见下） | 可选，默认不填 |" in doc
    assert "python -m generator.data.datadoc" in doc.splitlines()[2]


def test_types_in_plain_words() -> None:
    assert describe(Money) == "金额（元，最多两位小数）"
    assert describe(Wan) == "金额（万元，最多六位小数）"
    assert describe(Text) == "文本"
    assert describe(list[Text]) == "列表，每项为文本"
    assert describe(models.Stage).startswith("以下之一：`survey`（意见征询）")
    assert describe(bool).startswith("是/否")
