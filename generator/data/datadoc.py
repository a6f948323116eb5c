"""Document every data field from the models; `python -m generator.data.datadoc` writes docs/data.md."""

from __future__ import annotations

import datetime as dt
import types
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any

from annotated_types import Ge, Gt, Le, Lt, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from generator import ROOT
from generator.data.models import (
    STAGE_NAMES,
    Catalogue,
    District,
    DistrictReport,
    Money,
    Number,
    Plan,
    Programme,
    Project,
    Wan,
)

DOC_PATH = ROOT / "docs" / "data.md"

FILES: list[tuple[str, tuple[str, str] | None, type[BaseModel], str]] = [
    ("programme.yaml", None, Programme,
     "改造工作方案的参数：印发文件、分担比例、改造条件、时限、目标和方案正文所述数字。"),
    ("districts.yaml", ("districts", "县（区）"), District,
     "各县（区）及其主管机关，文书据此称呼政府或管委会。"),
    ("catalogue.yaml", None, Catalogue,
     "附件2 改造提升项目分类表：类别、项目、内容、标准和资金渠道。"),
    ("communities.yaml", None, Plan, "附件1 年度实施计划表，每行一个小区。"),
    ("projects/<id>.yaml", None, Project,
     "一个小区的项目资料，文件名中的 `<id>` 即计划表中的小区编号。"),
    ("reports/<year>/<district>.yaml", None, DistrictReport,
     "县（区）年度（试点）工作报告的文字材料，`<year>` 为年度，`<district>` 为县（区）名称。"),
]
"""Each data file: path, (key, title) of its top-level list if no model wraps it, model, a note."""

# Decimal fields differ only in their validators, so they are named after the alias they use;
# the most specific alias comes first because Number's validators are a subset of the others'.
_DECIMALS: list[tuple[Any, str]] = [
    (Money, "金额（元，最多两位小数）"),
    (Wan, "金额（万元，最多六位小数）"),
    (Number, "数字（不能为负数）"),
]

_PATTERNS = {r"^[A-Za-z0-9_-]+$": "只能用英文字母、数字、短横线和下划线"}

VALUE_NAMES: dict[str, str] = {
    **STAGE_NAMES,
    "start": "项目启动",
    "implementation": "项目实施",
    "report": "报送试点工作报告",
    "general": "一般项目",
    "pipeline": "管线项目",
    "public_service": "公共服务设施",
    "water": "供水",
    "power": "供电",
    "gas": "供气",
    "telecom": "通讯",
    "city": "市级财政",
    "district": "县（区）级财政",
    "residents": "小区居民",
    "utility": "管线单位",
    "withdrawn": "已调出计划",
    "planned": "在计划中",
}
"""Chinese names of the literal values a field may take, shown next to the value itself."""


def _flat_metadata(items: typing.Iterable[Any]) -> list[Any]:
    """Metadata of an Annotated type, with Field(...) objects opened into their constraints."""
    out: list[Any] = []
    for item in items:
        out.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return out


def _ints(meta: list[Any]) -> str:
    low = next((m.ge for m in meta if isinstance(m, Ge)), None)
    above = next((m.gt for m in meta if isinstance(m, Gt)), None)
    high = next((m.le for m in meta if isinstance(m, Le)), None)
    below = next((m.lt for m in meta if isinstance(m, Lt)), None)
    if above == 0 and high is None and below is None:
        return "正整数"
    if low is not None and high is not None:
        return f"整数（{low}—{high}）"
    words = [(low, f"不小于{low}"), (above, f"大于{above}"),
             (high, f"不大于{high}"), (below, f"小于{below}")]
    rule = "，".join(text for limit, text in words if limit is not None)
    return f"整数（{rule}）" if rule else "整数"


def _literal(values: tuple[Any, ...]) -> str:
    shown = [f"`{v}`（{VALUE_NAMES[v]}）" if v in VALUE_NAMES else f"`{v}`" for v in values]
    return "以下之一：" + "、".join(shown)


def describe(annotation: Any, meta: list[Any] | None = None) -> str:
    """A field's type in plain words: 文本, 整数, 金额（元，最多两位小数）, 日期, 是/否, 列表…"""
    meta = meta or []
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        return describe(base, [*meta, *_flat_metadata(extra)])
    if origin in (typing.Union, types.UnionType):
        parts = [a for a in typing.get_args(annotation) if a is not type(None)]
        return "；或 ".join(describe(a, meta) for a in parts)
    if origin is typing.Literal:
        return _literal(typing.get_args(annotation))
    if origin is list:
        (item,) = typing.get_args(annotation)
        at_least = next((m.min_length for m in meta if isinstance(m, MinLen)), 0)
        tail = f"，至少{at_least}项" if at_least else ""
        return f"列表，每项为{describe(item)}{tail}"
    if origin is dict:
        key, value = typing.get_args(annotation)
        if key is int:
            return f"对照表：键为楼层（整数），值为{describe(value)}"
        if key is str:
            return f"对照表：键为名称，值为{describe(value)}"
        return f"对照表：键为出资方（parties 中的键），值为{describe(value)}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "一组字段（见下）"
    if annotation is bool:
        return "是/否（true 或 false）"
    if annotation is dt.date:
        return "日期（如 2018-06-01）"
    if annotation is int:
        return _ints(meta)
    if annotation is Decimal:
        for alias, words in _DECIMALS:
            if all(m in meta for m in _flat_metadata(typing.get_args(alias)[1:])):
                return words
        return "数字"
    if annotation is str:
        pattern = next((m.pattern for m in meta if getattr(m, "pattern", None)), None)
        if pattern:
            return f"文本（{_PATTERNS.get(pattern, f'须符合 `{pattern}`')}）"
        return "文本"
    return str(annotation)


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "必填"
    if info.default_factory is list:
        return "可选，默认为空列表"
    if info.default_factory is not None:
        return "可选，默认各项取其默认值"
    value = info.default
    if value is None or value == "":
        return "可选，默认不填"
    if isinstance(value, bool):
        return f"可选，默认{'是' if value else '否'}"
    return f"可选，默认 `{value}`"


def _rows(model: type[BaseModel], prefix: str, within: tuple[type[BaseModel], ...] = (),
          ) -> typing.Iterator[tuple[str, str, str, str]]:
    within = (*within, model)
    for name, info in model.model_fields.items():
        # pydantic lifts an alias's Annotated metadata off the field; put it back to describe it
        annotation: Any = info.annotation
        if info.metadata:
            annotation = typing.Annotated[(annotation, *info.metadata)]
        key = f"{prefix}{name}"
        yield key, info.title or "", describe(annotation), _default(info)
        for child, suffix in _children(info.annotation):
            if child in within:  # a tree (下级指标 of an indicator): its fields are the ones above
                continue
            yield from _rows(child, f"{key}{suffix}.", within)


def _children(annotation: Any) -> list[tuple[type[BaseModel], str]]:
    """The models nested in a field (directly, in a list, or optional), with the key suffix."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, "")]
    origin = typing.get_origin(annotation)
    if origin is list:
        return [(m, f"[]{s}") for m, s in _children(typing.get_args(annotation)[0])]
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return [found for arg in typing.get_args(annotation) for found in _children(arg)]
    return []


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _file_section(
    path: str, top: tuple[str, str] | None, model: type[BaseModel], about: str
) -> list[str]:
    head = ["| 字段 | 名称 | 类型 | 是否必填 |", "|---|---|---|---|"]
    lines = [f"## `{path}`", "", about, "", *head]
    rows = list(_rows(model, f"{top[0]}[]." if top else ""))
    if top:
        rows.insert(0, (top[0], top[1], "列表，每项为一组字段（见下）", "必填"))
    for key, title, kind, need in rows:
        lines.append(f"| `{key}` | {_cell(title)} | {_cell(kind)} | {need} |")
    return [*lines, ""]


def render_data_doc() -> str:
    """The whole of docs/data.md: every field of every data file, from the models."""
    lines = [
        "# 数据文件字段说明",
        "",
        "> 本文件由 `python -m generator.data.datadoc` 根据 generator/data/models.py 自动生成，请勿手工修改；"
        "修改模型后重新运行该命令。",
        "",
        "数据文件夹（默认为随程序附带的 data/）中的每个 YAML 文件都按下表填写。"
        "“字段”列是文件中要写的键，多级键用“.”连接，`[]` 表示列表中的每一项；"
        "“名称”是出错提示和文书中使用的中文名称。"
        "上一级字段可选时，其下“必填”的字段只在填写了上一级字段时才必须填写。"
        "文件须为 UTF-8 编码；未列出的字段会被视为拼写错误而报错；"
        "数字不要加引号、不要写千位分隔符，金额以元为单位时最多保留两位小数。",
        "",
    ]
    for path, top, model, about in FILES:
        lines.extend(_file_section(path, top, model, about))
    lines.extend(_roster_section())
    lines.extend(_photos_section())
    return "\n".join(lines)


ROSTER_COLUMNS: dict[str, str] = {
    "building": "必填；与项目资料 buildings 中的楼栋名称一致，如“3栋”",
    "unit": "可选；数字或名称，如“2”（印作“2单元”）",
    "room": "必填；同一楼栋、单元内不能重复，如“301”",
    "head": "可选；空白时征询表上留空待填",
    "phone": "可选；手机11位，或固定电话（可带区号、分机）",
    "area": "可选，单位㎡，最多两位小数；全部住户都填写时另按面积计算支持率",
    "tenure": "可选，如“房改房”“商品房”",
    "answer": "同意、不同意、未表态之一；尚未征询的留空（不计入征询户数）",
    "wants": "可选；项目分类表（catalogue.yaml）中的项目名称，多项用“、”分隔",
    "pays": "是或否（愿意按方案分担居民应出资部分）",
    "management": "专业化物业管理或业主自治管理",
    "fund": "是或否（同意建立专项维修资金）",
    "date": "可选，如 2018-03-05",
    "remarks": "可选",
}
"""How each roster column is filled in, in the roster's column order."""


def _roster_section() -> list[str]:
    from generator.data.roster import COLUMNS

    lines = [
        "## `rosters/<id>.csv`（住户名册）",
        "",
        "一个小区的住户名册，每户一行，`<id>` 为小区编号。文件为 UTF-8（带 BOM）编码的 CSV，"
        "第一行（可选）以 `#` 开头的是说明行（含“示例”二字表示示例数据），其后是列名行，再往下每户一行；"
        "列的顺序不限，空行跳过。建议用 `gaizao roster export --project <id> --purpose 用途` 导出为 Excel 填写，"
        "再用 `gaizao roster import 名册.xlsx` 导入（导入时逐行检查，有问题时名册不变）。导出的名册在隐藏的"
        "“名册信息”工作表中记有城市和小区编号，导入时不必再写 `--project`，也不会误导入别的小区；"
        "自己制作的名册导入时加 `--project <id>`。`gaizao form export` 在每个填报表旁边导出同样的名册，"
        "交回后可与填报表一起用 `gaizao form import` 导入；网页版在小区页面下载和上传。",
        "",
        "有住户名册时，居民支持率（同意户数 ÷ 征询户数）由名册计算，项目资料 `survey` 中的户数可以不填，"
        "填写了就必须与名册一致；住户名册含有住户姓名和电话，张贴或报出小区的文书只印打码后的姓名、电话和房号。",
        "",
        "按等级保护第三级运行时，住户名册、表决票 `votes/<表决编号>.csv` 和满意度答卷 "
        "`satisfaction/<调查编号>.csv` 加密保存为同名加 `.sm4` 的文件（如 `rosters/<id>.csv.sm4`），"
        "内容与明文文件相同，只是用国密 SM4 加密：第一行为 `GAIZAO-SM4-GCM 1 <密钥校验值>`（格式第1版；"
        "校验值是密钥的 SM3 杂凑值，与实例数据库所记相同，用来指出“密钥不对”），其后是 12 字节随机初始向量、"
        "SM4-GCM 密文和 16 字节认证标签（第一行一并受认证，改动任何一个字节都拒绝读出）。"
        "加密和解密用 `gaizao security seal-data` / `unseal-data`，读取时的密钥从哪里来见 README 的“第三级”一节。"
        "同一文件的明文和加密两份同时存在且内容不同时是错误。",
        "",
        "| 列名 | 填写说明 |",
        "|---|---|",
    ]
    for name, title in COLUMNS:
        lines.append(f"| {title} | {_cell(ROSTER_COLUMNS[name])} |")
    return [*lines, ""]


def _photos_section() -> list[str]:
    from generator.data.loader import PHOTOS

    return [
        f"## `{PHOTOS}/<id>/`（小区照片）",
        "",
        f"一个小区的照片放在 `{PHOTOS}/<id>/` 文件夹中（`<id>` 为小区编号），并在项目资料 `projects/<id>.yaml` 的 "
        "`photos:` 中逐张登记：`file` 为该文件夹内的文件名（可含下级文件夹，不能以 / 开头、不能含 ..，"
        "也不能是指向文件夹以外的链接），`caption` 为照片说明，`kind` 为 现状、施工 或 完工，`date` 为拍摄日期，"
        "`item` 为照片所示的改造项目（分类表中的名称）。",
        "",
        "照片用 JPEG 或 PNG 等常见格式，原样保存即可，程序不会改动原文件：生成文书时按印刷尺寸（约 180 dpi）"
        "另行压缩一次并缓存，手机照片的旋转方向也会自动摆正。改造申请书和改造方案印前 4 张现状照片，"
        "竣工验收表为每个改造项目印 1 张完工照片（`item` 与预算项目相同的第一张），试点工作报告（年度工作总结）"
        "为每个项目印同一改造项目（`item` 相同）的改造前、改造后照片各 1 张，现状照片也请填写 `item`；"
        "没有成对照片时只印有的一张，旁边注明缺哪一张。`gaizao validate` 检查照片：文件不存在时给出警告，"
        "文书中该处印出“照片缺失”方框和照片说明；文件不是图片、像素过多或链接到文件夹以外时报错。",
        "",
    ]


def write_data_doc(path: Path = DOC_PATH) -> Path:
    """Rewrite docs/data.md from the models."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_data_doc(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"已写入 {write_data_doc()}")
